/* latbench eval --model FILE --data DIR... [--json]: loss per dataset (and accuracy for the
 * one-output sigmoid nets of detection).  A net that does not run on a dataset's lattice (an FL
 * net on another size) is reported as skipped, with the reason. */
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli/cli.h"
#include "tools/cli/nncli.h"
#include "lib/io/safetensors.h"
#include "lib/lattice/params.h"
#include "lib/nn/nnio.h"
#include "lib/nn/eval.h"

static int fail(const char *msg) { return nncli_fail("eval", msg); }

static int eval_args(int argc, char **argv, const char **dirs);
static int eval_run(const char *model, const char *const *dirs, int nd, bool json, long threads);

int cmd_eval(int argc, char **argv) {
    /* at most argc - 1 directories: one array of that size takes any number of --data */
    const char **dirs = calloc((size_t)argc, sizeof *dirs);
    if (!dirs) return fail("out of memory");
    int rc = eval_args(argc, argv, dirs);
    free(dirs);
    return rc;
}

static int eval_args(int argc, char **argv, const char **dirs) {
    const char *model = NULL;
    int nd = 0;
    bool json = false;
    long threads = 0;
    char err[700];
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: latbench eval --model FILE.safetensors --data DIR [DIR...] [--json] [--threads T]\n");
            return 0;
        }
        if (!strcmp(argv[i], "--json")) {
            json = true;
            continue;
        }
        if ((r = lat_opt_value(argc, argv, &i, "--model", &v)) != 0) {
            if (r < 0) return fail("--model needs a value");
            model = v;
            continue;
        }
        if ((r = lat_opt_value(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || !lat_parse_long(v, 1, 4096, &threads)) return fail("--threads needs an integer in 1..4096");
            continue;
        }
        if ((r = lat_opt_value(argc, argv, &i, "--data", &v)) != 0) {
            if (r < 0) return fail("--data needs a value");
            dirs[nd++] = v;
            while (i + 1 < argc && argv[i + 1][0] != '-') dirs[nd++] = argv[++i];
            continue;
        }
        return snprintf(err, sizeof err, "unknown argument '%s' (try --help)", argv[i]), fail(err);
    }
    if (!model || nd == 0) return fail("--model FILE and --data DIR... are required");
    if (threads == 0) threads = omp_get_num_procs();
    return eval_run(model, dirs, nd, json, threads);
}

/* Prints (or records) the result of one dataset: 1 evaluated, 0 skipped (the net does not run on
 * it), -1 a non-finite loss (its line printed). */
static int eval_report(const netspec_loaded *s, const char *dir, const char *lat, long n, const nn_eval_result *r, bool json,
                       json_t *o) {
    char err[700];
    if (r->status != NN_EVAL_RAN) {
        if (r->status == NN_EVAL_SKIPPED_LATTICE)
            snprintf(err, sizeof err, "the net (trained on %s) does not run on %s: %s", s->lattice, lat, r->why);
        else
            snprintf(err, sizeof err, "the net has %d outputs but the dataset has %d labels", r->outputs, r->outs_data);
        if (!json) printf("%s: skipped: %s\n", dir, err);
        json_object_set_new(o, "skipped", json_string(err));
        return 0;
    }
    if (!isfinite(r->loss)) {
        /* finite weights and labels are checked at load: a non-finite loss is an overflow in the net */
        fprintf(stderr, "latbench eval: %s: the loss is %g (not finite)\n", dir, r->loss);
        return -1;
    }
    json_object_set_new(o, "samples_per_s", json_real(r->samples_per_s));
    json_object_set_new(o, "loss", json_real(r->loss));
    json_object_set_new(o, "loss_kind", json_string(r->bce ? "bce" : "mse"));
    if (r->accuracy >= 0) json_object_set_new(o, "accuracy", json_real(r->accuracy));
    if (!json) {
        printf("%s: %s, %ld samples, %s loss %.6g", dir, lat, n, r->bce ? "BCE" : "MSE", r->loss);
        if (r->accuracy >= 0) printf(", accuracy %.4f", r->accuracy);
        printf(" (%.0f samples/s)\n", r->samples_per_s);
    }
    return 1;
}

/* Evaluates the model on one dataset (its entry appended to res): 1 evaluated, 0 skipped (the net
 * does not run on it; the reason in the entry), 2 bad input, -1 a runtime failure (its line printed). */
static int eval_one(const netspec_loaded *s, const io_st_file *f, const char *dir, bool json, long threads, json_t *res) {
    char err[700], lat[32];
    nn_dataset d;
    if (!nn_dataset_load(dir, &d, err, sizeof err)) return fail(err);
    snprintf(lat, sizeof lat, "%dx%d", d.nt, d.nx);
    json_t *o = json_pack("{s:s, s:s, s:I}", "data", dir, "lattice", lat, "count", (json_int_t)d.n);
    json_array_append_new(res, o);
    const nn_eval_job j = {.spec = &s->spec, .file = f, .threads = (int)threads};
    nn_eval_result r;
    int rc = nn_eval(&j, &d, &r, err, sizeof err) ? eval_report(s, dir, lat, d.n, &r, json, o) : fail(err);
    nn_eval_result_free(&r);
    nn_dataset_free(&d);
    return rc;
}

static int eval_run(const char *model, const char *const *dirs, int nd, bool json, long threads);

static int eval_run(const char *model, const char *const *dirs, int nd, bool json, long threads) {
    char err[700];
    io_st_file f;
    if (!io_safetensors_read(model, &f, err, sizeof err)) return fail(err);
    netspec_loaded s;
    if (!netspec_load(model, &s, err, sizeof err)) {
        io_safetensors_free(&f);
        return fail(err);
    }
    json_t *res = json_array();
    int rc = 0, evaluated = 0;
    if (!json) printf("model %s (trained on %s)\n", model, s.lattice[0] ? s.lattice : "?");
    for (int k = 0; k < nd && rc == 0; k++) {
        int r = eval_one(&s, &f, dirs[k], json, threads, res);
        if (r == 1) evaluated++;
        else if (r != 0) rc = r < 0 ? 1 : r;
    }
    if (rc == 0 && json) {
        json_t *top = json_pack("{s:s, s:s, s:o}", "model", model, "trained_lattice", s.lattice, "results", res);
        char *t = json_dumps(top, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        printf("%s\n", t);
        free(t);
        json_decref(top);
    } else {
        json_decref(res);
    }
    io_safetensors_free(&f);
    if (rc == 0 && evaluated == 0) rc = fail("nothing was evaluated: the net runs on none of the datasets (all skipped)");
    return rc;
}

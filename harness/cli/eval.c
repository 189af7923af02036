/* latbench eval --model FILE --data DIR... [--json]: loss per dataset (and accuracy for the
 * one-output sigmoid nets of detection).  A net that does not run on a dataset's lattice (an FL
 * net on another size) is reported as skipped, with the reason. */
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness/cli/cli.h"
#include "harness/cli/nncli.h"
#include "harness/io/safetensors.h"
#include "harness/lattice/params.h"
#include "harness/nn/nnio.h"
#include "harness/nn/train.h"

static int fail(const char *msg) { return nncli_fail("eval", msg); }

/* Batch size keeping the activations near 64 MB. */
static int eval_batch(const net_spec *spec, int h, int w) {
    act_shape sh[NETSPEC_MAX_LAYERS + 1];
    char e[256];
    if (!netspec_shapes(spec, h, w, sh, e, sizeof e)) return 1;
    size_t per = 0;
    for (int i = 0; i <= spec->n_layers; i++) per += (size_t)sh[i].h * sh[i].w * sh[i].c * 4;
    long b = (long)((64u << 20) / (per ? per : 1));
    return b < 1 ? 1 : b > 256 ? 256 : (int)b;
}

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
        if ((r = lb_opt_value(argc, argv, &i, "--model", &v)) != 0) {
            if (r < 0) return fail("--model needs a value");
            model = v;
            continue;
        }
        if ((r = lb_opt_value(argc, argv, &i, "--threads", &v)) != 0) {
            if (r < 0 || !lb_parse_long(v, 1, 4096, &threads)) return fail("--threads needs an integer in 1..4096");
            continue;
        }
        if ((r = lb_opt_value(argc, argv, &i, "--data", &v)) != 0) {
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

/* Evaluates the model on one dataset (its entry appended to res): 1 evaluated, 0 skipped (the net
 * does not run on it; the reason in the entry), 2 bad input, -1 a runtime failure (its line printed). */
static int eval_one(const nncli_spec *s, const lb_st_file *f, const char *dir, bool json, long threads, json_t *res) {
    char err[700], merr[512], lat[32];
    nn_dataset d;
    if (!nn_dataset_load(dir, &d, err, sizeof err)) return fail(err);
    snprintf(lat, sizeof lat, "%dx%d", d.nt, d.nx);
    json_t *o = json_pack("{s:s, s:s, s:I}", "data", dir, "lattice", lat, "count", (json_int_t)d.n);
    json_array_append_new(res, o);
    nn_model *m = nn_model_create(&s->spec, d.nt, d.nx, eval_batch(&s->spec, d.nt, d.nx), (int)threads, false, merr,
                                  sizeof merr);
    int rc = 1;
    if (!m || nn_model_outputs(m) != d.outs) {
        if (!m) snprintf(err, sizeof err, "the net (trained on %s) does not run on %s: %s", s->lattice, lat, merr);
        else snprintf(err, sizeof err, "the net has %d outputs but the dataset has %d labels", nn_model_outputs(m), d.outs);
        if (!json) printf("%s: skipped: %s\n", dir, err);
        json_object_set_new(o, "skipped", json_string(err));
        rc = 0;
    } else if (!nn_model_load_params(m, f, err, sizeof err)) {
        rc = fail(err);
    } else {
        double acc;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        double loss = nn_eval_loss(m, &d, NULL, d.n, &acc);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double rate = d.n / ((t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec) + 1e-12);
        if (!isfinite(loss)) {
            /* finite weights and labels are checked at load: a non-finite loss is an overflow in the net */
            fprintf(stderr, "latbench eval: %s: the loss is %g (not finite)\n", dir, loss);
            rc = -1;
        } else {
            json_object_set_new(o, "samples_per_s", json_real(rate));
            json_object_set_new(o, "loss", json_real(loss));
            json_object_set_new(o, "loss_kind", json_string(nn_model_bce(m) ? "bce" : "mse"));
            if (acc >= 0) json_object_set_new(o, "accuracy", json_real(acc));
            if (!json) {
                printf("%s: %s, %ld samples, %s loss %.6g", dir, lat, d.n, nn_model_bce(m) ? "BCE" : "MSE", loss);
                if (acc >= 0) printf(", accuracy %.4f", acc);
                printf(" (%.0f samples/s)\n", rate);
            }
        }
    }
    nn_model_free(m);
    nn_dataset_free(&d);
    return rc;
}

static int eval_run(const char *model, const char *const *dirs, int nd, bool json, long threads) {
    char err[700];
    lb_st_file f;
    if (!lb_safetensors_read(model, &f, err, sizeof err)) return fail(err);
    nncli_spec s;
    if (!nncli_load_spec(model, &s, err, sizeof err)) {
        lb_safetensors_free(&f);
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
    lb_safetensors_free(&f);
    if (rc == 0 && evaluated == 0) rc = fail("nothing was evaluated: the net runs on none of the datasets (all skipped)");
    return rc;
}

/* latbench eval --model FILE --data DIR... [--json] [--spec NET] [--predictions FILE.npy]: loss per
 * dataset (and accuracy for the one-output sigmoid nets of detection).  A net that does not run on a
 * dataset's lattice (an FL net on another size) is reported as skipped, with the reason.  --spec
 * names the net of a model file without latbench's metadata (a PyTorch state_dict); --predictions
 * writes every sample's outputs (float32 [N][outputs]) of the one dataset. */
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli/cli.h"
#include "tools/opts/opts.h"
#include "tools/cli/nncli.h"
#include "lib/io/atomic.h"
#include "lib/io/npy.h"
#include "lib/io/safetensors.h"
#include "lib/lattice/params.h"
#include "lib/nn/nnio.h"
#include "lib/nn/eval.h"

static int fail(const char *msg) { return nncli_fail("eval", msg); }

typedef struct {
    const char *model, *spec, *pred; /* --model, --spec, --predictions (NULL: not given) */
    const char *const *dirs;
    int nd;
    bool json;
    long threads;
} eval_opts;

static int eval_args(int argc, char **argv, const char **dirs);
static int eval_run(const eval_opts *o);

int cmd_eval(int argc, char **argv) {
    /* at most argc - 1 directories: one array of that size takes any number of --data */
    const char **dirs = calloc((size_t)argc, sizeof *dirs);
    if (!dirs) return fail("out of memory");
    int rc = eval_args(argc, argv, dirs);
    free(dirs);
    return rc;
}

static int eval_args(int argc, char **argv, const char **dirs) {
    const char *model = NULL, *spec = NULL, *pred = NULL;
    int nd = 0;
    bool json = false;
    long threads = 0;
    char err[700];
    enum { MODEL = 256, SPEC, PRED, THREADS, DATA, JSON };
    static const struct option longopts[] = {{"model", required_argument, NULL, MODEL},   {"spec", required_argument, NULL, SPEC},
                                             {"predictions", required_argument, NULL, PRED}, {"threads", required_argument, NULL, THREADS},
                                             {"data", required_argument, NULL, DATA},     {"json", no_argument, NULL, JSON},
                                             {0}};
    opts_parser p;
    opts_init(&p, "eval", argc, argv, longopts, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) {
            printf("usage: latbench eval --model FILE.safetensors --data DIR [DIR...] [--json] [--threads T]\n"
                   "                     [--spec PRESET|FILE] [--predictions FILE.npy]\n"
                   "  --spec         the net of a model file without latbench's spec metadata (a PyTorch\n"
                   "                 state_dict saved as safetensors); its tensors are checked against it\n"
                   "  --predictions  every sample's outputs, float32 [N][outputs] (after a final sigmoid),\n"
                   "                 of the one --data\n");
            return 0;
        }
        if (c == OPTS_ERR) return 2;
        if (c == MODEL) model = p.arg;
        if (c == SPEC) spec = p.arg;
        if (c == PRED) pred = p.arg;
        if (c == THREADS && !lat_parse_long(p.arg, 1, 4096, &threads)) return fail("--threads needs an integer in 1..4096");
        if (c == DATA) dirs[nd++] = p.arg;
        if (c == JSON) json = true;
    }
    /* --data DIR DIR...: the operands are further datasets */
    for (int i = opts_first_operand(&p); i < argc; i++) {
        if (!nd) return opts_fail(&p, "unexpected argument '%s' (try --help)", argv[i]);
        dirs[nd++] = argv[i];
    }
    if (!model || nd == 0) return fail("--model FILE and --data DIR... are required");
    if (pred && nd != 1) return fail("--predictions takes the outputs of one --data (several given)");
    /* a path that cannot be written is refused before the evaluation, not after it */
    if (pred && (!io_atomic_check_target(pred, err, sizeof err) ||
                 !nncli_out_not_input("--predictions", pred, model, dirs[0], err, sizeof err)))
        return fail(err);
    if (threads == 0) threads = omp_get_num_procs();
    const eval_opts o = {.model = model, .spec = spec, .pred = pred, .dirs = dirs, .nd = nd, .json = json, .threads = threads};
    return eval_run(&o);
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

/* The outputs of every sample, float32 [n][outputs], written atomically to path. */
static bool write_predictions(const char *path, const nn_eval_result *r, long n, char *err, size_t errlen) {
    const long shape[2] = {n, r->outputs};
    io_atomic_file af;
    if (!io_atomic_open(&af, path, 0, err, errlen)) return false;
    if (!io_npy_write_fd(af.fd, io_npy_descr_f32(), shape, 2, r->pred, (size_t)n * r->outputs * sizeof(float), err,
                         errlen)) {
        io_atomic_abort(&af);
        return false;
    }
    return io_atomic_commit(&af, err, errlen);
}

/* Evaluates the model on one dataset (its entry appended to res): 1 evaluated, 0 skipped (the net
 * does not run on it; the reason in the entry), 2 bad input, -1 a runtime failure (its line printed). */
static int eval_one(const eval_opts *op, const netspec_loaded *s, const io_st_file *f, const char *dir, json_t *res) {
    char err[700], lat[32];
    nn_dataset d;
    if (!nn_dataset_load(dir, &d, err, sizeof err)) return fail(err);
    snprintf(lat, sizeof lat, "%dx%d", d.nt, d.nx);
    json_t *o = json_pack("{s:s, s:s, s:I}", "data", dir, "lattice", lat, "count", (json_int_t)d.n);
    json_array_append_new(res, o);
    const nn_eval_job j = {.spec = &s->spec, .file = f, .threads = (int)op->threads, .predictions = op->pred != NULL};
    nn_eval_result r;
    int rc = nn_eval(&j, &d, &r, err, sizeof err) ? eval_report(s, dir, lat, d.n, &r, op->json, o) : fail(err);
    if (rc == 1 && r.pred && !write_predictions(op->pred, &r, d.n, err, sizeof err)) {
        fprintf(stderr, "latbench eval: --predictions %s\n", err);
        rc = -1;
    }
    nn_eval_result_free(&r);
    nn_dataset_free(&d);
    return rc;
}

static int eval_run(const eval_opts *op) {
    char err[700];
    io_st_file f;
    netspec_loaded s;
    if (!nn_model_open(op->model, op->spec, &s, &f, err, sizeof err)) return fail(err);
    json_t *res = json_array();
    int rc = 0, evaluated = 0;
    if (!op->json) printf("model %s (trained on %s)\n", op->model, s.lattice[0] ? s.lattice : "?");
    for (int k = 0; k < op->nd && rc == 0; k++) {
        int r = eval_one(op, &s, &f, op->dirs[k], res);
        if (r == 1) evaluated++;
        else if (r != 0) rc = r < 0 ? 1 : r;
    }
    if (rc == 0 && op->json) {
        json_t *top = json_pack("{s:s, s:s, s:o}", "model", op->model, "trained_lattice", s.lattice, "results", res);
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

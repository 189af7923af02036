/* latbench train: trains a preset or spec on a dataset (several trials), writes the best trial's
 * weights as safetensors.  --dump-step DIR (for the PyTorch cross-check) instead runs one AdamW
 * step on the first --batch samples from the seed's initial weights and writes init.safetensors,
 * out.npy (forward outputs), grads.safetensors and updated.safetensors into DIR. */
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "arch/registry.h"
#include "tools/cli/cli.h"
#include "lib/io/atomic.h"
#include "tools/cli/nncli.h"
#include "lib/io/npy.h"
#include "lib/lattice/params.h"
#include "lib/nn/nnio.h"
#include "lib/nn/fit.h"

static void usage(FILE *f) {
    fprintf(f, "usage: latbench train --model NAME|SPECFILE --data DIR --out FILE.safetensors [options]\n"
               "  --epochs N (200)  --batch N (100)  --lr X (1e-2)  --wd X (0)  --patience N (25)\n"
               "  --val-frac X (0.1)  --trials N (1)  --seed S (1)  --threads T (all cores)  --quiet\n"
               "AdamW with amsgrad; early stopping on the validation loss keeps the best weights; the best\n"
               "trial (lowest validation loss) is written.\n");
}

static int fail(const char *msg) { return nncli_fail("train", msg); }

/* Writes the model with its gradient array in place of the parameters. */
static bool save_grads(nn_model *m, const char *text, const char *lat, const char *path, char *err, size_t errlen) {
    size_t np = nn_model_param_count(m);
    float *keep = malloc((np + 1) * sizeof(float));
    if (!keep) return snprintf(err, errlen, "out of memory"), false;
    memcpy(keep, nn_model_params(m), np * sizeof(float));
    memcpy(nn_model_params(m), nn_model_grads(m), np * sizeof(float));
    bool ok = nn_model_save(m, text, lat, NULL, NULL, 0, path, err, errlen);
    memcpy(nn_model_params(m), keep, np * sizeof(float));
    free(keep);
    return ok;
}

/* One AdamW step from the seed's initial weights, each stage written into dir; false after printing why. */
static bool dump_model_step(nn_model *m, const netspec_loaded *s, const nn_dataset *d, int B, const nn_train_opts *o,
                            const char *dir, const char *lat, char *err, size_t errlen) {
    char path[4200];
    nn_model_init(m, o->seed);
    int n = (int)(d->n < B ? d->n : B);
    snprintf(path, sizeof path, "%s/init.safetensors", dir);
    if (!nn_model_save(m, s->text, lat, NULL, NULL, 0, path, err, errlen)) return fail(err), false;
    nn_model_set_input(m, d->x, NULL, n);
    const float *out = nn_model_forward(m, n);
    long shape[2] = {n, nn_model_outputs(m)};
    snprintf(path, sizeof path, "%s/out.npy", dir);
    io_atomic_file af; /* whole or absent, like every output (lib/io/atomic.h) */
    if (!io_atomic_open(&af, path, 0, err, errlen)) return fail(err), false;
    if (!io_npy_write_fd(af.fd, io_npy_descr_f32(), shape, 2, out, (size_t)n * shape[1] * 4, err, errlen)) {
        io_atomic_abort(&af);
        return fail("cannot write out.npy"), false;
    }
    if (!io_atomic_commit(&af, err, errlen)) return fail(err), false;
    float loss = nn_model_backward(m, n, d->y);
    snprintf(path, sizeof path, "%s/grads.safetensors", dir);
    if (!save_grads(m, s->text, lat, path, err, errlen)) return fail(err), false;
    size_t np = nn_model_param_count(m);
    float *st = calloc(3 * np + 1, sizeof(float));
    if (!st) return fail("out of memory"), false;
    optim_adamw_params hp = optim_adamw_defaults();
    hp.lr = o->lr, hp.weight_decay = o->weight_decay, hp.amsgrad = 1, hp.step = 1;
    lb_dispatch_get()->optim->adamw_step(&hp, np, nn_model_params(m), nn_model_grads(m), st, st + np, st + 2 * np);
    free(st);
    snprintf(path, sizeof path, "%s/updated.safetensors", dir);
    if (!nn_model_save(m, s->text, lat, NULL, NULL, 0, path, err, errlen)) return fail(err), false;
    printf("loss %.9g\n", loss);
    return true;
}

static int dump_step(const nn_fit_job *j, const netspec_loaded *s, const char *dir) {
    char err[600], lat[32];
    nn_model *m = nn_fit_model(j, err, sizeof err);
    if (!m) return fail(err);
    snprintf(lat, sizeof lat, "%dx%d", j->d->nt, j->d->nx);
    int rc = dump_model_step(m, s, j->d, j->batch, &j->o, dir, lat, err, sizeof err) ? 0 : 2;
    nn_model_free(m);
    return rc;
}

typedef struct {
    const char *model, *data;
    long batch, threads;
} train_cli;

static void print_start(void *ctx, const nn_fit_info *in) {
    const train_cli *c = ctx;
    printf("train %s (%ld parameters) on %s: %s, %ld samples (%ld train, %ld validation), batch %ld, %ld threads\n",
           c->model, (long)in->params, c->data, in->lattice, in->n_train + in->n_val, in->n_train, in->n_val, c->batch,
           c->threads);
}

static bool print_trial(void *ctx, int t, nn_model *m, const nn_train_result *r, char *err, size_t errlen) {
    printf("trial %d: best validation loss %.6g at epoch %d (train loss %.6g), %d epochs, %.1f s, %.0f samples/s\n", t,
           r->best_val, r->best_epoch, r->train_loss, r->epochs_run, r->seconds, r->samples_per_s);
    fflush(stdout);
    return true;
}

/* The trials and the best one's model file, its settings in the metadata. */
static int train_run(const nn_fit_job *j, const char *model, const char *task, double lr, double wd, uint64_t seed) {
    char sb[32], se[32], sl[32], sw[32], sp[32], st[32], ss[32], sth[32], svf[32], err[600];
    snprintf(sb, sizeof sb, "%d", j->batch), snprintf(se, sizeof se, "%d", j->o.epochs), snprintf(sl, sizeof sl, "%g", lr);
    snprintf(sw, sizeof sw, "%g", wd), snprintf(sp, sizeof sp, "%d", j->o.patience), snprintf(st, sizeof st, "%d", j->trials);
    snprintf(ss, sizeof ss, "%llu", (unsigned long long)seed), snprintf(sth, sizeof sth, "%d", j->threads);
    snprintf(svf, sizeof svf, "%g", j->o.val_frac);
    const char *keys[] = {"model", "task", "data", "optimizer", "lr", "weight_decay", "batch",
                          "epochs", "patience", "val_frac", "trials", "seed", "threads"};
    const char *valv[] = {model, task, j->data_name, "AdamW(amsgrad)", sl, sw, sb, se, sp, svf, st, ss, sth};
    nn_fit_job job = *j;
    job.meta_key = keys, job.meta_val = valv, job.n_meta = (int)(sizeof keys / sizeof keys[0]);
    nn_fit_result r;
    if (nn_fit(&job, &r, err, sizeof err)) {
        printf("wrote %s (trial %d, validation loss %.6g)\n", j->out, r.best_trial, r.best_val);
        return 0;
    }
    if (r.failed_trial < 0) return fail(err);
    /* a runtime failure (divergence, memory), not bad input: exit 1, and no model is written */
    fprintf(stderr, "latbench train: %s; nothing written\n", err);
    return 1;
}

int cmd_train(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *out = NULL, *dump = NULL;
    long epochs = 200, batch = 100, patience = 25, trials = 1, threads = 0;
    double lr = 1e-2, wd = 0, vfrac = 0.1;
    uint64_t seed = 1;
    bool quiet = false;
    char err[600];
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout), 0;
        if (!strcmp(argv[i], "--quiet")) {
            quiet = true;
            continue;
        }
#define OPT(NAME) ((r = lat_opt_value(argc, argv, &i, NAME, &v)) != 0)
#define NEEDV(NAME) \
    if (r < 0) return snprintf(err, sizeof err, "%s needs a value", NAME), fail(err);
#define STR(NAME, VAR) \
    if (OPT(NAME)) {   \
        NEEDV(NAME)    \
        VAR = v;       \
        continue;      \
    }
#define LONG_IN(NAME, VAR, LO, HI)                                                                                    \
    if (OPT(NAME)) {                                                                                                  \
        NEEDV(NAME)                                                                                                   \
        if (!lat_parse_long(v, LO, HI, &VAR))                                                                          \
            return snprintf(err, sizeof err, "%s %s: expected an integer in %ld..%ld", NAME, v, (long)(LO), (long)(HI)), \
                   fail(err);                                                                                         \
        continue;                                                                                                     \
    }
#define DBL_IN(NAME, VAR, LO, HI)                                                                                \
    if (OPT(NAME)) {                                                                                             \
        NEEDV(NAME)                                                                                              \
        if (!lat_parse_double(v, &VAR) || VAR < (LO) || VAR > (HI))                                               \
            return snprintf(err, sizeof err, "%s %s: expected a number in [%g, %g]", NAME, v, (double)(LO), (double)(HI)), \
                   fail(err);                                                                                    \
        continue;                                                                                                \
    }
        STR("--model", model)
        STR("--data", data)
        STR("--out", out)
        STR("--dump-step", dump)
        LONG_IN("--epochs", epochs, 1, 1000000)
        LONG_IN("--batch", batch, 1, 1 << 16)
        LONG_IN("--patience", patience, 1, 1000000)
        LONG_IN("--trials", trials, 1, 1000)
        LONG_IN("--threads", threads, 1, 4096)
        DBL_IN("--lr", lr, 0, 10)
        DBL_IN("--wd", wd, 0, 10)
        DBL_IN("--val-frac", vfrac, 0, 0.9)
        if (OPT("--seed")) {
            NEEDV("--seed")
            if (!lat_parse_u64(v, &seed)) return snprintf(err, sizeof err, "--seed %s: expected an unsigned integer", v), fail(err);
            continue;
        }
        return snprintf(err, sizeof err, "unknown argument '%s' (try --help)", argv[i]), fail(err);
    }
    if (!model || !data || (!out && !dump)) return fail("--model, --data and --out are required (try --help)");
    /* a path that cannot be written is refused before training, not after it */
    if (out && (!io_atomic_check_target(out, err, sizeof err) || !nncli_out_not_input("--out", out, model, data, err, sizeof err)))
        return fail(err);
    if (threads == 0) threads = omp_get_num_procs();
    netspec_loaded sp;
    if (!netspec_load(model, &sp, err, sizeof err)) return fail(err);
    nn_dataset d;
    if (!nn_dataset_load(data, &d, err, sizeof err)) return fail(err);
    train_cli c = {.model = model, .data = data, .batch = batch, .threads = threads};
    nn_fit_job j = {.name = model, .data_name = data, .spec = &sp.spec, .spec_text = sp.text, .d = &d,
                    .batch = (int)batch, .threads = (int)threads, .trials = (int)trials, .o = nn_train_defaults(),
                    .out = out, .on_start = print_start, .on_trial = print_trial, .ctx = &c};
    j.o.epochs = (int)epochs, j.o.patience = (int)patience, j.o.lr = (float)lr, j.o.weight_decay = (float)wd;
    j.o.val_frac = vfrac, j.o.seed = seed;
    j.o.progress = quiet ? NULL : stderr;   /* a line per epoch: reads the same in a log */
    int rc = dump ? dump_step(&j, &sp, dump) : train_run(&j, model, d.task, lr, wd, seed);
    nn_dataset_free(&d);
    return rc;
}

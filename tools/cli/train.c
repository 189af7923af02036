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
#include "tools/opts/opts.h"
#include "lib/io/atomic.h"
#include "tools/cli/nncli.h"
#include "lib/io/npy.h"
#include "lib/lattice/params.h"
#include "lib/nn/nnio.h"
#include "lib/nn/fit.h"

static void usage(FILE *f) {
    fprintf(f, "usage: latbench train --model NAME|SPECFILE|MODEL.safetensors --data DIR --out FILE.safetensors [options]\n"
               "  --epochs N (200)  --batch N (100)  --lr X (1e-2)  --wd X (0)  --patience N (25)\n"
               "  --val-frac X (0.1)  --trials N (1)  --seed S (1)  --threads T (all cores)\n"
               "  --progress=auto|bar|lines|none  a line per epoch on stderr with the rate and the time left\n"
               "                      (none: nothing); --quiet = --progress=none\n"
               "  --spec PRESET|FILE  the net of a --model file without latbench's spec metadata (a PyTorch\n"
               "                      state_dict saved as safetensors); a model file gives its net, not its weights\n"
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

/* The command line of a training run. */
typedef struct {
    const char *model, *spec, *data, *out, *dump;
    long epochs, batch, patience, trials, threads;
    double lr, wd, vfrac;
    uint64_t seed;
    opts_progress progress;   /* a line per epoch on stderr unless none */
} train_args;

/* An integer or a number option in [lo, hi]; false after the one line. */
static bool long_in(opts_parser *p, long lo, long hi, long *out) {
    if (lat_parse_long(p->arg, lo, hi, out)) return true;
    return opts_fail(p, "%s %s: expected an integer in %ld..%ld", p->name, p->arg, lo, hi), false;
}
static bool dbl_in(opts_parser *p, double lo, double hi, double *out) {
    if (lat_parse_double(p->arg, out) && *out >= lo && *out <= hi) return true;
    return opts_fail(p, "%s %s: expected a number in [%g, %g]", p->name, p->arg, lo, hi), false;
}

/* The options into x: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, train_args *x) {
    enum { MODEL = 256, DATA, OUT, DUMP, EPOCHS, BATCH, PATIENCE, TRIALS, THREADS, LR, WD, VFRAC, SEED, PROGRESS, QUIET, SPEC };
    static const struct option longopts[] = {
        {"model", required_argument, NULL, MODEL},       {"data", required_argument, NULL, DATA},
        {"out", required_argument, NULL, OUT},           {"dump-step", required_argument, NULL, DUMP},
        {"epochs", required_argument, NULL, EPOCHS},     {"batch", required_argument, NULL, BATCH},
        {"patience", required_argument, NULL, PATIENCE}, {"trials", required_argument, NULL, TRIALS},
        {"threads", required_argument, NULL, THREADS},   {"lr", required_argument, NULL, LR},
        {"wd", required_argument, NULL, WD},             {"val-frac", required_argument, NULL, VFRAC},
        {"seed", required_argument, NULL, SEED},         OPTS_PROGRESS_LONGOPTS(PROGRESS, QUIET),
        {"spec", required_argument, NULL, SPEC},
        {0}};
    *x = (train_args){.epochs = 200, .batch = 100, .patience = 25, .trials = 1, .lr = 1e-2, .vfrac = 0.1, .seed = 1,
                      .progress = OPTS_PROGRESS_AUTO};
    opts_parser p;
    opts_init(&p, "train", argc, argv, longopts, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        bool ok = c != OPTS_ERR;
        if (c == OPTS_HELP) return usage(stdout), 0;
        if (c == MODEL) x->model = p.arg;
        if (c == SPEC) x->spec = p.arg;
        if (c == DATA) x->data = p.arg;
        if (c == OUT) x->out = p.arg;
        if (c == DUMP) x->dump = p.arg;
        if (c == EPOCHS) ok = long_in(&p, 1, 1000000, &x->epochs);
        if (c == BATCH) ok = long_in(&p, 1, 1 << 16, &x->batch);
        if (c == PATIENCE) ok = long_in(&p, 1, 1000000, &x->patience);
        if (c == TRIALS) ok = long_in(&p, 1, 1000, &x->trials);
        if (c == THREADS) ok = long_in(&p, 1, 4096, &x->threads);
        if (c == LR) ok = dbl_in(&p, 0, 10, &x->lr);
        if (c == WD) ok = dbl_in(&p, 0, 10, &x->wd);
        if (c == VFRAC) ok = dbl_in(&p, 0, 0.9, &x->vfrac);
        if (c == SEED && !lat_parse_u64(p.arg, &x->seed)) ok = false, opts_fail(&p, "--seed %s: expected an unsigned integer", p.arg);
        if (c == PROGRESS) ok = opts_progress_parse(&p, &x->progress);
        if (c == QUIET) x->progress = OPTS_PROGRESS_NONE;
        if (!ok) return 2;
    }
    if (opts_first_operand(&p) < argc) return opts_fail(&p, "unexpected argument '%s' (try --help)", argv[opts_first_operand(&p)]);
    return -1;
}

int cmd_train(int argc, char **argv) {
    train_args x;
    int prc = parse_args(argc, argv, &x);
    if (prc >= 0) return prc;
    const char *model = x.model, *data = x.data, *out = x.out, *dump = x.dump;
    long threads = x.threads;
    char err[600];
    if (!model || !data || (!out && !dump)) return fail("--model, --data and --out are required (try --help)");
    /* a path that cannot be written is refused before training, not after it */
    if (out && (!io_atomic_check_target(out, err, sizeof err) || !nncli_out_not_input("--out", out, model, data, err, sizeof err)))
        return fail(err);
    if (threads == 0) threads = omp_get_num_procs();
    netspec_loaded sp;
    if (!nncli_net(model, x.spec, &sp, err, sizeof err)) return fail(err);
    nn_dataset d;
    if (!nn_dataset_load(data, &d, err, sizeof err)) return fail(err);
    train_cli c = {.model = model, .data = data, .batch = x.batch, .threads = threads};
    nn_fit_job j = {.name = model, .data_name = data, .spec = &sp.spec, .spec_text = sp.text, .d = &d,
                    .batch = (int)x.batch, .threads = (int)threads, .trials = (int)x.trials, .o = nn_train_defaults(),
                    .out = out, .on_start = print_start, .on_trial = print_trial, .ctx = &c};
    j.o.epochs = (int)x.epochs, j.o.patience = (int)x.patience, j.o.lr = (float)x.lr, j.o.weight_decay = (float)x.wd;
    j.o.val_frac = x.vfrac, j.o.seed = x.seed;
    /* a line per epoch (a bar, lines, auto alike: it reads the same on a terminal and in a log) */
    j.o.progress = x.progress == OPTS_PROGRESS_NONE ? NULL : stderr;
    int rc = dump ? dump_step(&j, &sp, dump) : train_run(&j, model, d.task, x.lr, x.wd, x.seed);
    nn_dataset_free(&d);
    return rc;
}

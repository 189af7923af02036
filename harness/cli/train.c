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
#include "harness/cli/cli.h"
#include "harness/io/atomic.h"
#include "harness/cli/nncli.h"
#include "harness/io/npy.h"
#include "harness/lattice/params.h"
#include "harness/nn/nnio.h"
#include "harness/nn/train.h"

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

/* Whether path names the same file as one of the inputs (compared by device and inode). */
static bool same_file(const char *path, const struct stat *st) {
    struct stat a;
    return stat(path, &a) == 0 && a.st_dev == st->st_dev && a.st_ino == st->st_ino;
}

/* --out must not be one of the files train reads: the model spec file or the dataset's files. */
static bool out_not_input(const char *out, const char *model, const char *data, char *err, size_t errlen) {
    struct stat so;
    if (stat(out, &so)) return true; /* a new file cannot be an input */
    char path[4200];
    static const char *const files[] = {"x.npy", "y.npy", "meta.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", data, files[i]);
        if (same_file(path, &so)) return snprintf(err, errlen, "--out %.250s is the dataset's %.250s (refusing to overwrite an input)", out, path), false;
    }
    if (same_file(model, &so)) return snprintf(err, errlen, "--out %s is the --model file (refusing to overwrite an input)", out), false;
    if (S_ISDIR(so.st_mode)) return snprintf(err, errlen, "--out %s is a directory", out), false;
    return true;
}

static int dump_step(nn_model *m, const nncli_spec *s, const nn_dataset *d, int B, const nn_train_opts *o,
                     const char *dir, const char *lat) {
    char err[512], path[4200];
    nn_model_init(m, o->seed);
    int n = (int)(d->n < B ? d->n : B);
    snprintf(path, sizeof path, "%s/init.safetensors", dir);
    if (!nn_model_save(m, s->text, lat, NULL, NULL, 0, path, err, sizeof err)) return fail(err);
    nn_model_set_input(m, d->x, NULL, n);
    const float *out = nn_model_forward(m, n);
    long shape[2] = {n, nn_model_outputs(m)};
    snprintf(path, sizeof path, "%s/out.npy", dir);
    lb_atomic_file af; /* whole or absent, like every output (harness/io/atomic.h) */
    if (!lb_atomic_open(&af, path, 0, err, sizeof err)) return fail(err);
    if (!lb_npy_write_fd(af.fd, lb_npy_descr_f32(), shape, 2, out, (size_t)n * shape[1] * 4, err, sizeof err)) {
        lb_atomic_abort(&af);
        return fail("cannot write out.npy");
    }
    if (!lb_atomic_commit(&af, err, sizeof err)) return fail(err);
    float loss = nn_model_backward(m, n, d->y);
    snprintf(path, sizeof path, "%s/grads.safetensors", dir);
    if (!save_grads(m, s->text, lat, path, err, sizeof err)) return fail(err);
    size_t np = nn_model_param_count(m);
    float *st = calloc(3 * np + 1, sizeof(float));
    if (!st) return fail("out of memory");
    adamw_params hp = adamw_defaults();
    hp.lr = o->lr, hp.weight_decay = o->weight_decay, hp.amsgrad = 1, hp.step = 1;
    lb_dispatch_get()->optim->adamw_step(&hp, np, nn_model_params(m), nn_model_grads(m), st, st + np, st + 2 * np);
    free(st);
    snprintf(path, sizeof path, "%s/updated.safetensors", dir);
    if (!nn_model_save(m, s->text, lat, NULL, NULL, 0, path, err, sizeof err)) return fail(err);
    printf("loss %.9g\n", loss);
    return 0;
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
#define OPT(NAME) ((r = lb_opt_value(argc, argv, &i, NAME, &v)) != 0)
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
        if (!lb_parse_long(v, LO, HI, &VAR))                                                                          \
            return snprintf(err, sizeof err, "%s %s: expected an integer in %ld..%ld", NAME, v, (long)(LO), (long)(HI)), \
                   fail(err);                                                                                         \
        continue;                                                                                                     \
    }
#define DBL_IN(NAME, VAR, LO, HI)                                                                                \
    if (OPT(NAME)) {                                                                                             \
        NEEDV(NAME)                                                                                              \
        if (!lb_parse_double(v, &VAR) || VAR < (LO) || VAR > (HI))                                               \
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
            if (!lb_parse_u64(v, &seed)) return snprintf(err, sizeof err, "--seed %s: expected an unsigned integer", v), fail(err);
            continue;
        }
        return snprintf(err, sizeof err, "unknown argument '%s' (try --help)", argv[i]), fail(err);
    }
    if (!model || !data || (!out && !dump)) return fail("--model, --data and --out are required (try --help)");
    /* a path that cannot be written is refused before training, not after it */
    if (out && (!lb_atomic_check_target(out, err, sizeof err) || !out_not_input(out, model, data, err, sizeof err)))
        return fail(err);
    if (threads == 0) threads = omp_get_num_procs();
    nncli_spec s;
    if (!nncli_load_spec(model, &s, err, sizeof err)) return fail(err);
    nn_dataset d;
    if (!nn_dataset_load(data, &d, err, sizeof err)) return fail(err);
    char lat[32];
    snprintf(lat, sizeof lat, "%dx%d", d.nt, d.nx);
    nn_model *m = nn_model_create(&s.spec, d.nt, d.nx, (int)batch, (int)threads, true, err, sizeof err);
    if (!m) {
        char e2[700];
        snprintf(e2, sizeof e2, "%s does not run on the dataset's %s lattice: %s", model, lat, err);
        nn_dataset_free(&d);
        return fail(e2);
    }
    if (nn_model_outputs(m) != d.outs) {
        snprintf(err, sizeof err, "%s has %d outputs but %s has %d labels per sample", model, nn_model_outputs(m), data, d.outs);
        nn_model_free(m), nn_dataset_free(&d);
        return fail(err);
    }
    nn_train_opts o = nn_train_defaults();
    o.epochs = (int)epochs, o.patience = (int)patience, o.lr = (float)lr, o.weight_decay = (float)wd, o.val_frac = vfrac;
    o.seed = seed;
    o.progress = !quiet && isatty(fileno(stderr)) ? stderr : NULL;
    int rc = 0;
    if (dump) {
        rc = dump_step(m, &s, &d, (int)batch, &o, dump, lat);
        nn_model_free(m), nn_dataset_free(&d);
        return rc;
    }
    long *idx = malloc((size_t)d.n * sizeof(long));
    size_t np = nn_model_param_count(m);
    float *best = malloc((np + 1) * sizeof(float));
    if (!idx || !best) {
        free(idx), free(best), nn_model_free(m), nn_dataset_free(&d);
        return fail("out of memory");
    }
    long nv = nn_train_split(d.n, vfrac, seed, idx);
    long ntr = d.n - nv;
    /* --val-frac 0 asks for no validation (early stopping on the training loss) */
    if (ntr < 1 || (vfrac > 0 && nv < 1)) {
        snprintf(err, sizeof err, "%s has %ld sample(s): training needs at least 1 training and 1 validation sample "
                 "(at least 2 samples, or --val-frac 0 for none held out)", data, d.n);
        free(idx), free(best), nn_model_free(m), nn_dataset_free(&d);
        return fail(err);
    }
    float best_val = INFINITY;
    int best_trial = -1;
    char vals[4096] = "";
    size_t vl = 0;
    printf("train %s (%ld parameters) on %s: %s, %ld samples (%ld train, %ld validation), batch %ld, %ld threads\n", model,
           (long)np, data, lat, d.n, ntr, nv, batch, threads);
    for (int t = 0; t < trials; t++) {
        nn_model_init(m, seed + (uint64_t)t);
        nn_train_result r;
        if (!nn_train_run(m, &d, idx, ntr, idx + ntr, nv, &o, seed + (uint64_t)t, &r, err, sizeof err)) {
            /* a runtime failure (divergence, memory), not bad input: exit 1, and no model is written */
            fprintf(stderr, "latbench train: trial %d: %s; nothing written\n", t, err);
            rc = 1;
            break;
        }
        printf("trial %d: best validation loss %.6g at epoch %d (train loss %.6g), %d epochs, %.1f s, %.0f samples/s\n", t,
               r.best_val, r.best_epoch, r.train_loss, r.epochs_run, r.seconds, r.samples_per_s);
        fflush(stdout);
        if (vl < sizeof vals - 32) vl += (size_t)snprintf(vals + vl, sizeof vals - vl, "%s%.9g", t ? "," : "", r.best_val);
        if (r.best_val < best_val || best_trial < 0) {
            best_val = r.best_val, best_trial = t;
            memcpy(best, nn_model_params(m), np * sizeof(float));
        }
    }
    if (rc == 0) {
        memcpy(nn_model_params(m), best, np * sizeof(float));
        char sb[32], se[32], sl[32], sw[32], sp[32], st[32], ss[32], sbt[32], sbv[32], sth[32], svf[32];
        snprintf(sb, sizeof sb, "%ld", batch), snprintf(se, sizeof se, "%ld", epochs), snprintf(sl, sizeof sl, "%g", lr);
        snprintf(sw, sizeof sw, "%g", wd), snprintf(sp, sizeof sp, "%ld", patience), snprintf(st, sizeof st, "%ld", trials);
        snprintf(ss, sizeof ss, "%llu", (unsigned long long)seed), snprintf(sbt, sizeof sbt, "%d", best_trial);
        snprintf(sbv, sizeof sbv, "%.9g", best_val), snprintf(sth, sizeof sth, "%ld", threads);
        snprintf(svf, sizeof svf, "%g", vfrac);
        const char *keys[] = {"model",    "task",  "data",     "optimizer", "lr",     "weight_decay", "batch",
                              "epochs",   "patience", "val_frac", "trials", "seed",  "threads", "best_trial",
                              "best_val_loss", "val_losses"};
        const char *valv[] = {model, d.task, data, "AdamW(amsgrad)", sl, sw, sb, se, sp, svf, st, ss, sth, sbt, sbv, vals};
        if (!nn_model_save(m, s.text, lat, keys, valv, (int)(sizeof keys / sizeof keys[0]), out, err, sizeof err))
            rc = fail(err);
        else
            printf("wrote %s (trial %d, validation loss %.6g)\n", out, best_trial, best_val);
    }
    free(best);
    free(idx);
    nn_model_free(m);
    nn_dataset_free(&d);
    return rc;
}

/* latbench experiment regression|detect|count [--quick]: the seed's generalization study end to
 * end: generate (or reuse) the datasets, train every architecture of the task over several
 * trials, evaluate each trained net on the test grid (docs/design.md §3), and write results.json and
 * a table of the shape of the seed's "test loss vs validation loss" table.
 * Layout of --out DIR: data/<name>/ (datasets, reused when present), models/<arch>-t<trial>.safetensors,
 * results.json (atomic), data/<name>.log (the generator's output), and the plots and tables of
 * `latbench report` (report_*.png, report_table.md).  Every test loss is also split by
 * the dataset's (eta, mu) points and, for counting, by the label K (eval_test). */
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "harness/cli/cli.h"
#include "harness/cli/nncli.h"
#include "arch/registry.h"
#include "harness/bench/machine.h"
#include "harness/io/outdir.h"
#include "harness/lattice/params.h"
#include "harness/nn/nnio.h"
#include "harness/nn/train.h"

#define MAX_TESTS 8
#define MAX_ARCHS 9
#define MAX_TRIALS 32

typedef struct {
    const char *task;
    const char *archs[MAX_ARCHS];
    int n_archs;
    const char *quick_archs[3]; /* the first winner of each column */
    const char *train_args;              /* generate arguments without --lattice/--count/--out */
    const char *train_lattice;
    long train_count, train_count_quick;
    const char *test_args;
    const char *test_lattices[MAX_TESTS];
    int n_tests, n_tests_quick;
    long test_count, test_count_quick;
    int quick_epochs, quick_trials;
} exp_def;

static const exp_def EXPS[] = {
    {"regression",
     {"task1-eq", "task1-st", "task1-fl"}, 3, {"task1-eq", "task1-st", "task1-fl"},
     "--task regression --eta 4.01 --lambda 1 --mu 0.90:1.05:0.01", "60x4", 20000, 1600,
     "--task regression --eta 4.01 --lambda 1 --mu 0.90:1.50:0.05",
     {"60x4", "50x2", "100x5", "125x8", "200x10"}, 5, 3, 1300, 260, 40, 2},
    {"detect",
     {"task2-eq", "task2-st", "task2-fl"}, 3, {"task2-eq", "task2-st", "task2-fl"},
     "--task detect --points 4.25:1,4.01:1.5 --lambda 1", "8x8", 4000, 1000,
     "--task detect --eta 4.01,4.04,4.25 --mu 1,1.25,1.5 --lambda 1",
     {"8x8", "16x16", "32x32", "64x64"}, 4, 2, 1800, 360, 60, 2},
    {"count",
     {"task3-eq1", "task3-eq2", "task3-eq3", "task3-st1", "task3-st2", "task3-st3", "task3-fl1", "task3-fl2", "task3-fl3"},
     9, {"task3-eq1", "task3-st1", "task3-fl1"},
     "--task count --points 4.25:1,4.01:1.5 --lambda 1 --worms 0,5", "8x8", 20000, 20000,
     "--task count --eta 4.01,4.04,4.25 --mu 1,1.25,1.5 --lambda 1 --worms 0:10",
     {"8x8", "16x16", "32x32", "64x64"}, 4, 3, 4950, 495, 40, 3},
};

static int fail(const char *msg) { return nncli_fail("experiment", msg); }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Runs `latbench generate ARGS` in process, its stdout going to LOG. */
static bool generate(const char *args, const char *log, char *err, size_t errlen) {
    char buf[8300];
    snprintf(buf, sizeof buf, "generate %.8190s", args);
    char *argv[64];
    int argc = 0;
    for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " ")) argv[argc++] = t;
    argv[argc] = NULL;
    fflush(stdout);
    int saved = dup(1), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved < 0 || fd < 0) {
        if (saved >= 0) close(saved);
        if (fd >= 0) close(fd);
        return snprintf(err, errlen, "cannot write %.900s", log), false;
    }
    dup2(fd, 1);
    close(fd);
    int rc = cmd_generate(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    if (rc != 0) return snprintf(err, errlen, "generate failed (exit %d; see %.900s and the message above)", rc, log), false;
    return true;
}

/* FNV-1a: names a dataset by the settings it is generated with. */
static uint32_t settings_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (uint32_t)(h ^ (h >> 32));
}

/* Whether the dataset in dir was generated with these settings (its meta.json records them); why
 * not into why. */
static bool dataset_matches(const char *dir, const char *task, int nt, int nx, long count, uint64_t seed, long chains,
                            long therm, char *why, size_t whylen) {
    char path[4400];
    snprintf(path, sizeof path, "%.4380s/meta.json", dir);
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    if (!m) return snprintf(why, whylen, "no readable meta.json"), false;
    const char *t = json_string_value(json_object_get(m, "task"));
    json_t *lat = json_object_get(m, "lattice");
    const json_int_t vals[] = {json_integer_value(json_array_get(lat, 0)), json_integer_value(json_array_get(lat, 1)),
                               json_integer_value(json_object_get(m, "count")),
                               json_integer_value(json_object_get(m, "seed")),
                               json_integer_value(json_object_get(m, "chains_per_point")),
                               json_integer_value(json_object_get(m, "therm"))};
    const json_int_t want[] = {nt, nx, count, (json_int_t)seed, chains, therm};
    static const char *names[] = {"NT", "NX", "count", "seed", "chains_per_point", "therm"};
    bool ok = t && !strcmp(t, task);
    if (!ok) snprintf(why, whylen, "its task is %s, not %s", t ? t : "missing", task);
    for (size_t i = 0; ok && i < sizeof vals / sizeof vals[0]; i++)
        if (vals[i] != want[i]) {
            snprintf(why, whylen, "its %s is %lld, not %lld", names[i], (long long)vals[i], (long long)want[i]);
            ok = false;
        }
    json_decref(m);
    return ok;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n) {
    double t[MAX_TRIALS];
    memcpy(t, v, (size_t)n * sizeof(double));
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    return n == 0 ? NAN : n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static double mean(const double *v, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return n ? s / n : NAN;
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

#define MAX_LABEL 64

/* The test loss of me on d, into jl: "loss" (and "accuracy" for detection) over the whole set,
 * "per_point" (one entry per (eta, mu) point of the dataset) and, with per_label (counting: the
 * label is the number of open worms), "per_label".  Every sample is evaluated once: the groups
 * (point x label) are evaluated one after another.  Returns the overall loss. */
static double eval_test(nn_model *me, const nn_dataset *d, bool per_label, json_t *jl) {
    const int npt = d->npoints ? d->npoints : 1;
    int maxlab = 0;
    for (long i = 0; per_label && i < d->n; i++) {
        const float y = d->y[i * d->outs];
        if (!(y >= 0 && y <= MAX_LABEL && y == (float)(int)y)) per_label = false; /* not a count: no per-label split */
        else if ((int)y > maxlab) maxlab = (int)y;
    }
    const int nlab = per_label ? maxlab + 1 : 1;
    long *idx = malloc((size_t)(d->n ? d->n : 1) * sizeof(long));
    double *sum = calloc((size_t)npt * nlab, sizeof(double)), *corr = calloc((size_t)npt * nlab, sizeof(double));
    long *cnt = calloc((size_t)npt * nlab, sizeof(long));
    if (!idx || !sum || !corr || !cnt) {
        free(idx), free(sum), free(corr), free(cnt);
        return NAN;
    }
    bool has_acc = false;
    for (int p = 0; p < npt; p++) {
        const long off = d->npoints ? d->points[p].offset : 0, n = d->npoints ? d->points[p].count : d->n;
        for (int lab = 0; lab < nlab; lab++) {
            long c = 0;
            for (long i = off; i < off + n; i++)
                if (!per_label || (int)d->y[i * d->outs] == lab) idx[c++] = i;
            if (!c) continue;
            double acc;
            const double loss = nn_eval_loss(me, d, idx, c, &acc);
            sum[p * nlab + lab] = loss * c, cnt[p * nlab + lab] = c;
            if (acc >= 0) corr[p * nlab + lab] = acc * c, has_acc = true;
        }
    }
    double tot = 0, tcorr = 0;
    json_t *jp = json_array(), *jlab = per_label ? json_array() : NULL;
    for (int p = 0; p < npt; p++) {
        double s = 0, a = 0;
        long c = 0;
        for (int lab = 0; lab < nlab; lab++) s += sum[p * nlab + lab], a += corr[p * nlab + lab], c += cnt[p * nlab + lab];
        tot += s, tcorr += a;
        if (!d->npoints) continue;
        json_t *e = json_pack("{s:f, s:f, s:f, s:I, s:o}", "eta", d->points[p].eta, "lambda", d->points[p].lambda, "mu",
                              d->points[p].mu, "n", (json_int_t)c, "loss", num_or_null(c ? s / c : NAN));
        if (has_acc) json_object_set_new(e, "accuracy", num_or_null(c ? a / c : NAN));
        json_array_append_new(jp, e);
    }
    for (int lab = 0; jlab && lab < nlab; lab++) {
        double s = 0;
        long c = 0;
        for (int p = 0; p < npt; p++) s += sum[p * nlab + lab], c += cnt[p * nlab + lab];
        if (c) json_array_append_new(jlab, json_pack("{s:i, s:I, s:o}", "label", lab, "n", (json_int_t)c, "loss", num_or_null(s / c)));
    }
    const double loss = d->n ? tot / d->n : NAN;
    json_object_set_new(jl, "loss", num_or_null(loss));
    if (has_acc) json_object_set_new(jl, "accuracy", num_or_null(d->n ? tcorr / d->n : NAN));
    if (d->npoints) json_object_set_new(jl, "per_point", jp);
    else json_decref(jp);
    if (jlab) json_object_set_new(jl, "per_label", jlab);
    free(idx), free(sum), free(corr), free(cnt);
    return loss;
}

int cmd_experiment(int argc, char **argv) {
    const char *task = NULL, *out = NULL;
    bool quick = false;
    long trials = 0, epochs = 0, threads = 0, patience = 25, batch = 100, train_count = 0, test_count = 0, therm = 0;
    uint64_t seed = 1;
    char err[1024];
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: latbench experiment regression|detect|count [--quick] [--out DIR] [--trials N] [--epochs N]\n"
                   "                          [--patience N] [--batch N] [--seed S] [--threads T]\n"
                   "                          [--train-count N] [--test-count N] [--therm N]\n"
                   "  --quick: smaller test sets (and training sets, but for counting: its full 20000 take 2 s),\n"
                   "           fewer test sizes, 3 architectures (the first winner of each column), 2-3 trials\n"
                   "           of at most 40-60 epochs\n"
                   "  --train-count N, --test-count N, --therm N: other dataset sizes and thermalization (smoke tests)\n"
                   "  DIR (default experiment-TASK[-quick]) keeps the datasets and trained models; a dataset is named by\n"
                   "  a hash of its generator settings and reused only when its meta.json records the same settings\n");
            return 0;
        }
        if (!strcmp(argv[i], "--quick")) {
            quick = true;
            continue;
        }
#define LOPT(NAME, VAR, LO, HI)                                                                              \
    if ((r = lb_opt_value(argc, argv, &i, NAME, &v)) != 0) {                                                \
        if (r < 0 || !lb_parse_long(v, LO, HI, &VAR))                                                       \
            return snprintf(err, sizeof err, "%s needs an integer in %ld..%ld", NAME, (long)(LO), (long)(HI)), \
                   fail(err);                                                                               \
        continue;                                                                                           \
    }
        LOPT("--trials", trials, 1, MAX_TRIALS)
        LOPT("--epochs", epochs, 1, 1000000)
        LOPT("--threads", threads, 1, 4096)
        LOPT("--patience", patience, 1, 1000000)
        LOPT("--batch", batch, 1, 1 << 16)
        LOPT("--train-count", train_count, 100, 1L << 30)
        LOPT("--test-count", test_count, 9, 1L << 30)
        LOPT("--therm", therm, 8, 1L << 20)
        if ((r = lb_opt_value(argc, argv, &i, "--out", &v)) != 0) {
            /* an empty name made the datasets' path "/data", at the filesystem root */
            if (r < 0 || !*v) return fail("--out needs a directory name");
            out = v;
            continue;
        }
        if ((r = lb_opt_value(argc, argv, &i, "--seed", &v)) != 0) {
            if (r < 0 || !lb_parse_u64(v, &seed)) return fail("--seed needs an unsigned integer");
            continue;
        }
        if (argv[i][0] != '-' && !task) {
            task = argv[i];
            continue;
        }
        return snprintf(err, sizeof err, "unknown argument '%s' (try --help)", argv[i]), fail(err);
    }
    const exp_def *E = NULL;
    for (size_t k = 0; task && k < sizeof EXPS / sizeof EXPS[0]; k++)
        if (!strcmp(task, EXPS[k].task)) E = &EXPS[k];
    if (!E) return fail("usage: latbench experiment regression|detect|count [--quick] (try --help)");
    if (!trials) trials = quick ? E->quick_trials : 5;
    if (!epochs) epochs = quick ? E->quick_epochs : 1000;
    if (!threads) threads = omp_get_num_procs();
    char outdef[256], path[4400], sub[4400];
    if (!out) {
        snprintf(outdef, sizeof outdef, "experiment-%s%s", E->task, quick ? "-quick" : "");
        out = outdef;
    }
    const char *const *archs = quick ? E->quick_archs : E->archs;
    const int n_archs = quick ? 3 : E->n_archs, n_tests = quick ? E->n_tests_quick : E->n_tests;
    /* Quick runs thermalize less and use fewer chains per point; full runs take the generator's
     * defaults (written out: they are part of the settings a dataset is reused by). */
    const long chains = quick ? 4 : 16;
    if (!therm) therm = quick ? 400 : 2000;
    snprintf(sub, sizeof sub, "%s/data", out);
    if ((mkdir(out, 0755) && !is_dir(out)) || (mkdir(sub, 0755) && !is_dir(sub)))
        return snprintf(err, sizeof err, "cannot create %.900s", sub), fail(err);
    snprintf(sub, sizeof sub, "%s/models", out);
    if (mkdir(sub, 0755) && !is_dir(sub)) return snprintf(err, sizeof err, "cannot create %.900s", sub), fail(err);

    /* 1. datasets, named by lattice, count and a hash of every setting they are generated with, and
     * reused only when their meta.json records those settings */
    double t0 = now_s();
    char names[MAX_TESTS + 1][64];
    for (int k = 0; k <= n_tests; k++) {
        const char *lat = k == 0 ? E->train_lattice : E->test_lattices[k - 1];
        const long count = k == 0 ? (train_count ? train_count : quick ? E->train_count_quick : E->train_count)
                                  : (test_count ? test_count : quick ? E->test_count_quick : E->test_count);
        const uint64_t dseed = seed + 1000 + (uint64_t)k;
        int nt, nx;
        if (!lb_parse_lattice(lat, &nt, &nx, err, sizeof err)) return fail(err);
        char settings[1024], args[8192], log[8192], why[256];
        snprintf(settings, sizeof settings, "%s --lattice %s --count %ld --seed %llu --therm %ld --chains %ld",
                 k == 0 ? E->train_args : E->test_args, lat, count, (unsigned long long)dseed, therm, chains);
        snprintf(names[k], sizeof names[k], "%s-%s-%ld-%08x", k ? "test" : "train", lat, count, settings_hash(settings));
        snprintf(path, sizeof path, "%s/data/%s", out, names[k]);
        if (is_dir(path)) {
            if (!dataset_matches(path, E->task, nt, nx, count, dseed, chains, therm, why, sizeof why))
                return snprintf(err, sizeof err, "%.600s exists but was not generated with this run's settings (%s): "
                                "remove it", path, why), fail(err);
            printf("data %s: reused (its meta.json records this run's settings)\n", names[k]);
            continue;
        }
        snprintf(args, sizeof args, "%s --threads %ld --out %s", settings, threads, path);
        snprintf(log, sizeof log, "%s.log", path);
        double g0 = now_s();
        if (!generate(args, log, err, sizeof err)) return fail(err);
        printf("data %s: generated in %.1f s (%s)\n", names[k], now_s() - g0, settings);
        fflush(stdout);
    }
    const double t_gen = now_s() - t0;
    nn_dataset ds[MAX_TESTS + 1];
    memset(ds, 0, sizeof ds);
    for (int k = 0; k <= n_tests; k++) {
        snprintf(path, sizeof path, "%s/data/%s", out, names[k]);
        if (!nn_dataset_load(path, &ds[k], err, sizeof err)) {
            for (int j = 0; j < k; j++) nn_dataset_free(&ds[j]);
            return fail(err);
        }
    }

    /* 2. training and 3. evaluation */
    long *idx = malloc((size_t)ds[0].n * sizeof(long));
    long nv = nn_train_split(ds[0].n, 0.1, seed, idx), ntr = ds[0].n - nv;
    double t_train = 0, t_eval = 0;
    json_t *jarchs = json_array();
    int rc = 0;
    printf("\n%-10s %-6s %-12s %-12s %-12s %-12s %-12s %-12s\n", "arch", "trials", "val mean", "val median",
           "test(train) mean", "median", "test(all) mean", "median");
    for (int a = 0; a < n_archs && rc == 0; a++) {
        nncli_spec s;
        if (!nncli_load_spec(archs[a], &s, err, sizeof err)) {
            rc = fail(err);
            break;
        }
        nn_model *m = nn_model_create(&s.spec, ds[0].nt, ds[0].nx, (int)batch, (int)threads, true, err, sizeof err);
        if (!m) {
            rc = fail(err);
            break;
        }
        double val[MAX_TRIALS], ttrain[MAX_TRIALS], tall[MAX_TRIALS];
        json_t *jtr = json_array();
        for (int t = 0; t < trials; t++) {
            nn_train_opts o = nn_train_defaults();
            o.epochs = (int)epochs, o.patience = (int)patience, o.seed = seed;
            o.progress = isatty(fileno(stderr)) ? stderr : NULL;
            nn_model_init(m, seed + (uint64_t)t);
            nn_train_result r;
            double a0 = now_s();
            if (!nn_train_run(m, &ds[0], idx, ntr, idx + ntr, nv, &o, seed + (uint64_t)t, &r, err, sizeof err)) {
                rc = fail(err);
                break;
            }
            t_train += now_s() - a0;
            snprintf(path, sizeof path, "%s/models/%s-t%d.safetensors", out, archs[a], t);
            char sv[32], st[32];
            snprintf(sv, sizeof sv, "%.9g", r.best_val), snprintf(st, sizeof st, "%d", t);
            const char *keys[] = {"model", "task", "best_val_loss", "trial"}, *vals[] = {archs[a], E->task, sv, st};
            if (!nn_model_save(m, s.text, E->train_lattice, keys, vals, 4, path, err, sizeof err)) {
                rc = fail(err);
                break;
            }
            json_t *jt = json_pack("{s:i, s:f, s:f, s:i, s:i, s:f, s:f}", "trial", t, "val_loss", (double)r.best_val,
                                   "train_loss", (double)r.train_loss, "best_epoch", r.best_epoch, "epochs", r.epochs_run,
                                   "train_seconds", r.seconds, "samples_per_s", r.samples_per_s);
            json_t *jtest = json_object();
            double e0 = now_s(), sum_all = 0;
            int n_all = 0;
            ttrain[t] = NAN;
            for (int k = 1; k <= n_tests; k++) {
                char lat[32], merr[512];
                snprintf(lat, sizeof lat, "%dx%d", ds[k].nt, ds[k].nx);
                long per = (long)ds[k].nt * ds[k].nx;
                int eb = (int)(per > 4096 ? 16 : per > 1024 ? 64 : 256);
                nn_model *me = nn_model_create(&s.spec, ds[k].nt, ds[k].nx, eb, (int)threads, false, merr, sizeof merr);
                json_t *jl = json_object();
                if (!me) {
                    json_object_set_new(jl, "skipped", json_string(merr));
                } else {
                    memcpy(nn_model_params(me), nn_model_params(m), nn_model_param_count(m) * sizeof(float));
                    double loss = eval_test(me, &ds[k], !strcmp(E->task, "count"), jl);
                    if (!strcmp(lat, E->train_lattice)) ttrain[t] = loss;
                    sum_all += loss, n_all++;
                    nn_model_free(me);
                }
                json_object_set_new(jtest, lat, jl);
            }
            t_eval += now_s() - e0;
            /* "all sizes" only for nets that run on every size (FL nets: not defined). */
            tall[t] = n_all == n_tests ? sum_all / n_all : NAN;
            val[t] = r.best_val;
            json_object_set_new(jt, "test", jtest);
            json_array_append_new(jtr, jt);
            fprintf(stderr, "%s trial %d: val %.4g, test on %s %.4g, %d epochs, %.0f samples/s\n", archs[a], t,
                    r.best_val, E->train_lattice, ttrain[t], r.epochs_run, r.samples_per_s);
        }
        nn_model_free(m);
        if (rc) {
            json_decref(jtr);
            break;
        }
        int nt = (int)trials;
        printf("%-10s %-6d %-12.4g %-12.4g %-12.4g %-12.4g %-12.4g %-12.4g\n", archs[a], nt, mean(val, nt),
               median(val, nt), mean(ttrain, nt), median(ttrain, nt), mean(tall, nt), median(tall, nt));
        fflush(stdout);
        json_array_append_new(
            jarchs, json_pack("{s:s, s:I, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o}}", "arch", archs[a], "params",
                              (json_int_t)netspec_param_count(&s.spec), "trials", jtr, "summary", "val_mean",
                              num_or_null(mean(val, nt)), "val_median", num_or_null(median(val, nt)), "test_train_size_mean",
                              num_or_null(mean(ttrain, nt)), "test_train_size_median", num_or_null(median(ttrain, nt)),
                              "test_all_sizes_mean", num_or_null(mean(tall, nt)), "test_all_sizes_median",
                              num_or_null(median(tall, nt))));
    }
    if (rc == 0) {
        json_t *jl = json_array();
        for (int k = 1; k <= n_tests; k++) json_array_append_new(jl, json_string(E->test_lattices[k - 1]));
        json_t *top = json_pack("{s:s, s:b, s:s, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I}, s:{s:f, s:f, s:f}, s:o}",
                                "task", E->task, "quick", quick, "train_lattice", E->train_lattice, "train_count",
                                (json_int_t)ds[0].n, "val_count", (json_int_t)nv, "test_lattices", jl, "settings",
                                "trials", (json_int_t)trials, "epochs", (json_int_t)epochs, "patience",
                                (json_int_t)patience, "batch", (json_int_t)batch, "threads", (json_int_t)threads,
                                "seconds", "generation", t_gen, "training", t_train, "evaluation", t_eval, "archs", jarchs);
        jarchs = NULL;
        bench_machine bm;
        bench_machine_detect(&bm, &lb_dispatch_get()->cpu);
        json_object_set_new(top, "machine", json_pack("{s:s, s:s, s:i, s:s}", "cpu", bm.model, "slug", bm.slug, "cores",
                                                      bm.cores, "isa", lb_isa_name(lb_dispatch_get()->cap)));
        char *text = json_dumps(top, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        json_decref(top);
        snprintf(path, sizeof path, "%s/results.json", out);
        if (!text || !lb_write_file_atomic(path, text, strlen(text), err, sizeof err)) rc = fail(text ? err : "out of memory");
        free(text);
        if (rc == 0) {
            printf("\ntime: generation %.1f s, training %.1f s, evaluation %.1f s; wrote %s\n", t_gen, t_train, t_eval, path);
            /* the plots and the seed-style table beside results.json (latbench report); without
             * python3/matplotlib the results stand and the report can be drawn later */
            fflush(stdout);
            char *rargv[] = {"report", path, NULL};
            if (cmd_report(2, rargv) != 0)
                printf("note: no plots drawn (latbench report failed, see above); results.json is complete: "
                       "latbench report %s\n", path);
        }
    }
    json_decref(jarchs);
    free(idx);
    for (int k = 0; k <= n_tests; k++) nn_dataset_free(&ds[k]);
    return rc;
}

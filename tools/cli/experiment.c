/* latbench experiment regression|detect|count [--quick]: the seed's generalization study end to
 * end: generate (or reuse) the datasets, train every architecture of the task over several
 * trials, evaluate each trained net on the test grid (docs/design.md §3), and write results.json and
 * a table of the shape of the seed's "test loss vs validation loss" table.
 * Layout of --out DIR: data/<name>/ (datasets, reused when present), models/<arch>-t<trial>.safetensors,
 * results.json (atomic), data/<name>.log (the generator's summary), and the plots and tables of
 * `latbench report` (report_*.png, report_table.md).  Every test loss is also split by
 * the dataset's (eta, mu) points and, for counting, by the label K (eval_test). */
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tools/cli/cli.h"
#include "tools/opts/opts.h"
#include "tools/cli/nncli.h"
#include "arch/registry.h"
#include "tools/machine/machine.h"
#include "lib/io/outdir.h"
#include "lib/lattice/gendata.h"
#include "lib/lattice/params.h"
#include "lib/nn/nnio.h"
#include "lib/nn/eval.h"
#include "lib/nn/fit.h"
#include "tools/stats/stats.h"

#define MAX_TESTS 8
#define MAX_ARCHS 9
#define MAX_TRIALS 32

typedef struct {
    const char *task;
    const char *archs[MAX_ARCHS];
    int n_archs;
    const char *quick_archs[3]; /* the first winner of each column */
    /* the point set (and worms) of the training and the test datasets: the generator's settings
     * (lib/lattice/gendata.h) but for task, lattice, count, seed, therm and chains */
    lat_gen_settings train;
    const char *train_lattice;
    long train_count, train_count_quick;
    lat_gen_settings test;
    const char *test_lattices[MAX_TESTS];
    int n_tests, n_tests_quick;
    long test_count, test_count_quick;
    int quick_epochs, quick_trials;
    /* the order of the point set's options in the text its dataset names hash (NULL: the
     * canonical order of lat_gen_settings_text); regression's names were made with --lambda
     * before --mu and keep it, so that its datasets on disk are still found */
    const char *const *name_order;
} exp_def;

static const char *const LAMBDA_BEFORE_MU[] = {"--points", "--eta", "--lambda", "--mu", "--worms", NULL};

static const exp_def EXPS[] = {
    {"regression",
     {"task1-eq", "task1-st", "task1-fl"}, 3, {"task1-eq", "task1-st", "task1-fl"},
     {.eta = "4.01", .lambda = "1", .mu = "0.90:1.05:0.01"}, "60x4", 20000, 1600,
     {.eta = "4.01", .lambda = "1", .mu = "0.90:1.50:0.05"},
     {"60x4", "50x2", "100x5", "125x8", "200x10"}, 5, 3, 1300, 260, 40, 2, LAMBDA_BEFORE_MU},
    {"detect",
     {"task2-eq", "task2-st", "task2-fl"}, 3, {"task2-eq", "task2-st", "task2-fl"},
     {.points = "4.25:1,4.01:1.5", .lambda = "1"}, "8x8", 4000, 1000,
     {.eta = "4.01,4.04,4.25", .mu = "1,1.25,1.5", .lambda = "1"},
     {"8x8", "16x16", "32x32", "64x64"}, 4, 2, 1800, 360, 60, 2, NULL},
    {"count",
     {"task3-eq1", "task3-eq2", "task3-eq3", "task3-st1", "task3-st2", "task3-st3", "task3-fl1", "task3-fl2", "task3-fl3"},
     9, {"task3-eq1", "task3-st1", "task3-fl1"},
     {.points = "4.25:1,4.01:1.5", .lambda = "1", .worms = "0,5"}, "8x8", 20000, 20000,
     {.eta = "4.01,4.04,4.25", .mu = "1,1.25,1.5", .lambda = "1", .worms = "0:10"},
     {"8x8", "16x16", "32x32", "64x64"}, 4, 3, 4950, 495, 40, 3, NULL},
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

/* The options of a run and what they select. */
typedef struct {
    const exp_def *E;
    bool quick;
    opts_progress progress;   /* the datasets' generation and a line per epoch of training */
    long trials, epochs, threads, patience, batch, train_count, test_count, therm, chains;
    uint64_t seed;
    const char *out;
    char outdef[256];
    const char *const *archs;
    int n_archs, n_tests;
} exp_run;

static void usage(void) {
    printf("usage: latbench experiment regression|detect|count [--quick] [--out DIR] [--trials N] [--epochs N]\n"
           "                          [--patience N] [--batch N] [--seed S] [--threads T]\n"
           "                          [--train-count N] [--test-count N] [--therm N] [--progress=auto|bar|lines|none] [--quiet]\n"
           "  --quick: smaller test sets (and training sets, but for counting: its full 20000 take 2 s),\n"
           "           fewer test sizes, 3 architectures (the first winner of each column), 2-3 trials\n"
           "           of at most 40-60 epochs\n"
           "  --train-count N, --test-count N, --therm N: other dataset sizes and thermalization (smoke tests)\n"
           "  DIR (default experiment-TASK[-quick]) keeps the datasets and trained models; a dataset is named by\n"
           "  a hash of its generator settings and reused only when its meta.json records the same settings\n"
           "  --progress: on stderr, the datasets' generation (auto: a bar on a terminal, else a line per 10 %%)\n"
           "  and a line per training epoch; none (= --quiet): neither\n");
}

/* The defaults the task and --quick select, once the options are read. */
static int select_run(exp_run *x, const char *task) {
    for (size_t k = 0; task && k < sizeof EXPS / sizeof EXPS[0]; k++)
        if (!strcmp(task, EXPS[k].task)) x->E = &EXPS[k];
    const exp_def *E = x->E;
    if (!E) return fail("usage: latbench experiment regression|detect|count [--quick] (try --help)");
    if (!x->trials) x->trials = x->quick ? E->quick_trials : 5;
    if (!x->epochs) x->epochs = x->quick ? E->quick_epochs : 1000;
    if (!x->threads) x->threads = omp_get_num_procs();
    if (!x->out) {
        snprintf(x->outdef, sizeof x->outdef, "experiment-%s%s", E->task, x->quick ? "-quick" : "");
        x->out = x->outdef;
    }
    x->archs = x->quick ? E->quick_archs : E->archs;
    x->n_archs = x->quick ? 3 : E->n_archs, x->n_tests = x->quick ? E->n_tests_quick : E->n_tests;
    /* Quick runs thermalize less and use fewer chains per point; full runs take the generator's
     * defaults (written out: they are part of the settings a dataset is reused by). */
    x->chains = x->quick ? 4 : 16;
    if (!x->therm) x->therm = x->quick ? 400 : 2000;
    return -1;
}

/* An integer option in [lo, hi]; false after the one line. */
static bool long_in(opts_parser *p, long lo, long hi, long *out) {
    if (lat_parse_long(p->arg, lo, hi, out)) return true;
    return opts_fail(p, "%s needs an integer in %ld..%ld", p->name, lo, hi), false;
}

/* The options into x: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, exp_run *x) {
    enum { QUICK = 256, TRIALS, EPOCHS, THREADS, PATIENCE, BATCH, TRAIN_COUNT, TEST_COUNT, THERM, OUT, SEED, PROGRESS, QUIET };
    static const struct option longopts[] = {
        {"quick", no_argument, NULL, QUICK},              {"trials", required_argument, NULL, TRIALS},
        {"epochs", required_argument, NULL, EPOCHS},      {"threads", required_argument, NULL, THREADS},
        {"patience", required_argument, NULL, PATIENCE},  {"batch", required_argument, NULL, BATCH},
        {"train-count", required_argument, NULL, TRAIN_COUNT}, {"test-count", required_argument, NULL, TEST_COUNT},
        {"therm", required_argument, NULL, THERM},        {"out", required_argument, NULL, OUT},
        {"seed", required_argument, NULL, SEED},          OPTS_PROGRESS_LONGOPTS(PROGRESS, QUIET),
        {0}};
    *x = (exp_run){.patience = 25, .batch = 100, .seed = 1, .progress = OPTS_PROGRESS_AUTO};
    opts_parser p;
    opts_init(&p, "experiment", argc, argv, longopts, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        bool ok = c != OPTS_ERR;
        if (c == OPTS_HELP) return usage(), 0;
        if (c == QUICK) x->quick = true;
        if (c == TRIALS) ok = long_in(&p, 1, MAX_TRIALS, &x->trials);
        if (c == EPOCHS) ok = long_in(&p, 1, 1000000, &x->epochs);
        if (c == THREADS) ok = long_in(&p, 1, 4096, &x->threads);
        if (c == PATIENCE) ok = long_in(&p, 1, 1000000, &x->patience);
        if (c == BATCH) ok = long_in(&p, 1, 1 << 16, &x->batch);
        if (c == TRAIN_COUNT) ok = long_in(&p, 100, 1L << 30, &x->train_count);
        if (c == TEST_COUNT) ok = long_in(&p, 9, 1L << 30, &x->test_count);
        if (c == THERM) ok = long_in(&p, 8, 1L << 20, &x->therm);
        /* an empty name made the datasets' path "/data", at the filesystem root */
        if (c == OUT && !*p.arg) return fail("--out needs a directory name");
        if (c == OUT) x->out = p.arg;
        if (c == SEED && !lat_parse_u64(p.arg, &x->seed)) return fail("--seed needs an unsigned integer");
        if (c == PROGRESS) ok = opts_progress_parse(&p, &x->progress);
        if (c == QUIET) x->progress = OPTS_PROGRESS_NONE;
        if (!ok) return 2;
    }
    int first = opts_first_operand(&p);
    if (argc - first > 1) return opts_fail(&p, "unexpected argument '%s' (try --help)", argv[first + 1]);
    return select_run(x, first < argc ? argv[first] : NULL);
}

/* Generates a dataset in process (lib/lattice/gendata.h); the summary `latbench generate` prints
 * goes to PATH.log. */
static bool generate(const lat_gen_settings *s, const char *path, char *err, size_t errlen) {
    char log[4400], e[900];
    snprintf(log, sizeof log, "%.4380s.log", path);
    FILE *f = fopen(log, "w");
    if (!f) return snprintf(err, errlen, "cannot write %.900s", log), false;
    lat_gendata g = {0};
    bool ok = lat_gendata_write(s, &g, e, sizeof e);
    if (ok) lat_gendata_print(f, path, &g);
    if (fclose(f) != 0 && ok) ok = false, snprintf(e, sizeof e, "cannot write %.800s", log);
    if (!ok) snprintf(err, errlen, "generate: %s", e);
    lat_gendata_free(&g);
    return ok;
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

/* Dataset k (0: training, k >= 1: test lattice k-1), named by lattice, count and a hash of every
 * setting it is generated with, and reused only when its meta.json records those settings. */
static bool make_dataset(const exp_run *x, int k, char *name, size_t namelen, char *err, size_t errlen) {
    const exp_def *E = x->E;
    const char *lat = k == 0 ? E->train_lattice : E->test_lattices[k - 1];
    const long count = k == 0 ? (x->train_count ? x->train_count : x->quick ? E->train_count_quick : E->train_count)
                              : (x->test_count ? x->test_count : x->quick ? E->test_count_quick : E->test_count);
    const uint64_t dseed = x->seed + 1000 + (uint64_t)k;
    int nt, nx;
    if (!lat_parse_lattice(lat, &nt, &nx, err, errlen)) return false;
    const lat_gen_settings *def = k == 0 ? &E->train : &E->test;
    lat_gen_settings s = lat_gen_settings_defaults();
    s.task = E->task, s.points = def->points, s.eta = def->eta, s.mu = def->mu, s.lambda = def->lambda;
    s.worms = def->worms, s.lattice = lat, s.count = count, s.seed = dseed, s.therm = x->therm, s.chains = x->chains;
    s.progress = (int)x->progress;
    char settings[1024], path[4400], why[256];
    if (!lat_gen_settings_text(&s, E->name_order, settings, sizeof settings))
        return snprintf(err, errlen, "dataset settings too long"), false;
    snprintf(name, namelen, "%s-%s-%ld-%08x", k ? "test" : "train", lat, count, settings_hash(settings));
    snprintf(path, sizeof path, "%s/data/%s", x->out, name);
    if (is_dir(path)) {
        if (!dataset_matches(path, E->task, nt, nx, count, dseed, x->chains, x->therm, why, sizeof why))
            return snprintf(err, errlen, "%.600s exists but was not generated with this run's settings (%s): remove it",
                            path, why),
                   false;
        printf("data %s: reused (its meta.json records this run's settings)\n", name);
        return true;
    }
    double g0 = now_s();
    s.threads = x->threads, s.out = path;
    if (!generate(&s, path, err, errlen)) return false;
    printf("data %s: generated in %.1f s (%s)\n", name, now_s() - g0, settings);
    fflush(stdout);
    return true;
}

/* The output directories and every dataset, generated (or reused) and loaded into ds. */
static bool prepare_data(const exp_run *x, nn_dataset *ds, char *err, size_t errlen) {
    char sub[4400], names[MAX_TESTS + 1][64];
    snprintf(sub, sizeof sub, "%s/data", x->out);
    if ((mkdir(x->out, 0755) && !is_dir(x->out)) || (mkdir(sub, 0755) && !is_dir(sub)))
        return snprintf(err, errlen, "cannot create %.900s", sub), false;
    snprintf(sub, sizeof sub, "%s/models", x->out);
    if (mkdir(sub, 0755) && !is_dir(sub)) return snprintf(err, errlen, "cannot create %.900s", sub), false;
    for (int k = 0; k <= x->n_tests; k++)
        if (!make_dataset(x, k, names[k], sizeof names[k], err, errlen)) return false;
    for (int k = 0; k <= x->n_tests; k++) {
        snprintf(sub, sizeof sub, "%s/data/%s", x->out, names[k]);
        if (!nn_dataset_load(sub, &ds[k], err, errlen)) return false;
    }
    return true;
}

static double median(const double *v, int n) {
    double t[MAX_TRIALS];
    return stats_median(v, n, t);
}

static double mean(const double *v, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return n ? s / n : NAN;
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* The test loss of an evaluation (lib/nn/eval.h, split by group) into jl: "loss" (and
 * "accuracy" for detection) over the whole set, "per_point" (one entry per (eta, mu) point of the
 * dataset) and, with the label split (counting: the label is the number of open worms), "per_label". */
static void test_json(const nn_dataset *d, const nn_eval_result *r, json_t *jl) {
    const int npt = r->npoints, nlab = r->nlabels;
    json_t *jp = json_array(), *jlab = r->per_label ? json_array() : NULL;
    for (int p = 0; p < npt && d->npoints; p++) {
        double s = 0, a = 0;
        long c = 0;
        for (int lab = 0; lab < nlab; lab++)
            s += r->sum[p * nlab + lab], a += r->corr[p * nlab + lab], c += r->cnt[p * nlab + lab];
        json_t *e = json_pack("{s:f, s:f, s:f, s:I, s:o}", "eta", d->points[p].eta, "lambda", d->points[p].lambda, "mu",
                              d->points[p].mu, "n", (json_int_t)c, "loss", num_or_null(c ? s / c : NAN));
        if (r->has_acc) json_object_set_new(e, "accuracy", num_or_null(c ? a / c : NAN));
        json_array_append_new(jp, e);
    }
    for (int lab = 0; jlab && lab < nlab; lab++) {
        double s = 0;
        long c = 0;
        for (int p = 0; p < npt; p++) s += r->sum[p * nlab + lab], c += r->cnt[p * nlab + lab];
        if (c) json_array_append_new(jlab, json_pack("{s:i, s:I, s:o}", "label", lab, "n", (json_int_t)c, "loss", num_or_null(s / c)));
    }
    json_object_set_new(jl, "loss", num_or_null(r->loss));
    if (r->has_acc) json_object_set_new(jl, "accuracy", num_or_null(r->accuracy));
    if (d->npoints) json_object_set_new(jl, "per_point", jp);
    else json_decref(jp);
    if (jlab) json_object_set_new(jl, "per_label", jlab);
}

/* One architecture's trials (nn_fit's callback saves and evaluates each). */
typedef struct {
    const exp_run *x;
    const nn_dataset *ds;
    const netspec_loaded *s;
    const char *arch;
    double val[MAX_TRIALS], ttrain[MAX_TRIALS], tall[MAX_TRIALS];
    json_t *jtr;
    double mark, t_train, t_eval;
    long n_val;
} arch_run;

static void arch_start(void *ctx, const nn_fit_info *in) { ((arch_run *)ctx)->n_val = in->n_val; }

/* The trained weights of m on every test lattice, into jtest; ttrain[t] and tall[t]. */
static bool eval_tests(arch_run *a, int t, nn_model *m, json_t *jtest, char *err, size_t errlen) {
    const exp_run *x = a->x;
    double sum_all = 0;
    int n_all = 0;
    a->ttrain[t] = NAN;
    for (int k = 1; k <= x->n_tests; k++) {
        const nn_dataset *d = &a->ds[k];
        char lat[32];
        snprintf(lat, sizeof lat, "%dx%d", d->nt, d->nx);
        const long per = (long)d->nt * d->nx;
        const nn_eval_job j = {.spec = &a->s->spec, .params = nn_model_params(m), .batch = per > 4096 ? 16 : per > 1024 ? 64 : 256,
                               .threads = (int)x->threads, .groups = true, .per_label = !strcmp(x->E->task, "count")};
        nn_eval_result r;
        if (!nn_eval(&j, d, &r, err, errlen)) return nn_eval_result_free(&r), false;
        json_t *jl = json_object();
        if (r.status == NN_EVAL_RAN) {
            test_json(d, &r, jl);
            if (!strcmp(lat, x->E->train_lattice)) a->ttrain[t] = r.loss;
            sum_all += r.loss, n_all++;
        } else {
            json_object_set_new(jl, "skipped", json_string(r.status == NN_EVAL_SKIPPED_LATTICE ? r.why : "another number of outputs"));
        }
        nn_eval_result_free(&r);
        json_object_set_new(jtest, lat, jl);
    }
    /* "all sizes" only for nets that run on every size (FL nets: not defined). */
    a->tall[t] = n_all == x->n_tests ? sum_all / n_all : NAN;
    return true;
}

static bool arch_trial(void *ctx, int t, nn_model *m, const nn_train_result *r, char *err, size_t errlen) {
    arch_run *a = ctx;
    const exp_run *x = a->x;
    a->t_train += now_s() - a->mark;
    char path[4400], sv[32], st[32];
    snprintf(path, sizeof path, "%s/models/%s-t%d.safetensors", x->out, a->arch, t);
    snprintf(sv, sizeof sv, "%.9g", r->best_val), snprintf(st, sizeof st, "%d", t);
    const char *keys[] = {"model", "task", "best_val_loss", "trial"}, *vals[] = {a->arch, x->E->task, sv, st};
    if (!nn_model_save(m, a->s->text, x->E->train_lattice, keys, vals, 4, path, err, errlen)) return false;
    json_t *jt = json_pack("{s:i, s:f, s:f, s:i, s:i, s:f, s:f}", "trial", t, "val_loss", (double)r->best_val,
                           "train_loss", (double)r->train_loss, "best_epoch", r->best_epoch, "epochs", r->epochs_run,
                           "train_seconds", r->seconds, "samples_per_s", r->samples_per_s);
    json_t *jtest = json_object();
    json_object_set_new(jt, "test", jtest);
    json_array_append_new(a->jtr, jt);
    double e0 = now_s();
    if (!eval_tests(a, t, m, jtest, err, errlen)) return false;
    a->t_eval += now_s() - e0;
    a->val[t] = r->best_val;
    fprintf(stderr, "%s trial %d: val %.4g, test on %s %.4g, %d epochs, %.0f samples/s\n", a->arch, t, r->best_val,
            x->E->train_lattice, a->ttrain[t], r->epochs_run, r->samples_per_s);
    a->mark = now_s();
    return true;
}

/* Trains and evaluates architecture k over the trials: its summary line and its entry in jarchs. */
static bool run_arch(const exp_run *x, const nn_dataset *ds, int k, json_t *jarchs, double *t_train, double *t_eval,
                     long *n_val, char *err, size_t errlen) {
    netspec_loaded s;
    if (!netspec_load(x->archs[k], &s, err, errlen)) return false;
    arch_run a = {.x = x, .ds = ds, .s = &s, .arch = x->archs[k], .jtr = json_array(), .mark = now_s()};
    nn_fit_job j = {.name = x->archs[k], .data_name = "the training set", .spec = &s.spec, .spec_text = s.text,
                    .d = &ds[0], .batch = (int)x->batch, .threads = (int)x->threads, .trials = (int)x->trials,
                    .o = nn_train_defaults(), .on_start = arch_start, .on_trial = arch_trial, .ctx = &a};
    j.o.epochs = (int)x->epochs, j.o.patience = (int)x->patience, j.o.seed = x->seed;
    /* a line per epoch on stderr, in a log too: a batch job is never silent long (unless --progress=none) */
    j.o.progress = x->progress == OPTS_PROGRESS_NONE ? NULL : stderr;
    nn_fit_result r;
    if (!nn_fit(&j, &r, err, errlen)) return json_decref(a.jtr), false;
    *t_train += a.t_train, *t_eval += a.t_eval, *n_val = a.n_val;
    const int nt = (int)x->trials;
    const double cols[6] = {mean(a.val, nt), median(a.val, nt), mean(a.ttrain, nt), median(a.ttrain, nt),
                            mean(a.tall, nt), median(a.tall, nt)};
    printf("%-10s %-6d", x->archs[k], nt);
    /* no value (a net that does not run on the test sizes) prints as the report's table does */
    for (int c = 0; c < 6; c++) isfinite(cols[c]) ? printf(" %-12.4g", cols[c]) : printf(" %-14s", "—"); /* 3 bytes, 1 column */
    printf("\n");
    fflush(stdout);
    json_array_append_new(
        jarchs, json_pack("{s:s, s:I, s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o}}", "arch", x->archs[k], "params",
                          (json_int_t)netspec_param_count(&s.spec), "trials", a.jtr, "summary", "val_mean",
                          num_or_null(mean(a.val, nt)), "val_median", num_or_null(median(a.val, nt)), "test_train_size_mean",
                          num_or_null(mean(a.ttrain, nt)), "test_train_size_median", num_or_null(median(a.ttrain, nt)),
                          "test_all_sizes_mean", num_or_null(mean(a.tall, nt)), "test_all_sizes_median",
                          num_or_null(median(a.tall, nt))));
    return true;
}

/* results.json (atomic), then `latbench report`'s plots and table beside it. */
static int write_results(const exp_run *x, long train_count, long nv, json_t *jarchs, const double sec[3]) {
    const exp_def *E = x->E;
    char err[1024], path[4400];
    json_t *jl = json_array();
    for (int k = 1; k <= x->n_tests; k++) json_array_append_new(jl, json_string(E->test_lattices[k - 1]));
    json_t *top = json_pack("{s:s, s:b, s:s, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I}, s:{s:f, s:f, s:f}, s:o}",
                            "task", E->task, "quick", x->quick, "train_lattice", E->train_lattice, "train_count",
                            (json_int_t)train_count, "val_count", (json_int_t)nv, "test_lattices", jl, "settings",
                            "trials", (json_int_t)x->trials, "epochs", (json_int_t)x->epochs, "patience",
                            (json_int_t)x->patience, "batch", (json_int_t)x->batch, "threads", (json_int_t)x->threads,
                            "seconds", "generation", sec[0], "training", sec[1], "evaluation", sec[2], "archs", jarchs);
    machine_info bm;
    machine_detect(&bm, &lb_dispatch_get()->cpu);
    json_object_set_new(top, "machine", json_pack("{s:s, s:s, s:i, s:s}", "cpu", bm.model, "slug", bm.slug, "cores",
                                                  bm.cores, "isa", lb_isa_name(lb_dispatch_get()->cap)));
    char *text = json_dumps(top, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    json_decref(top);
    snprintf(path, sizeof path, "%s/results.json", x->out);
    int rc = 0;
    if (!text || !io_write_file_atomic(path, text, strlen(text), err, sizeof err)) rc = fail(text ? err : "out of memory");
    free(text);
    if (rc) return rc;
    printf("\ntime: generation %.1f s, training %.1f s, evaluation %.1f s; wrote %s\n", sec[0], sec[1], sec[2], path);
    /* the plots and the seed-style table beside results.json (latbench report); without
     * python3/matplotlib the results stand and the report can be drawn later */
    fflush(stdout);
    char *rargv[] = {"report", path, NULL};
    if (cmd_report(2, rargv) != 0)
        printf("note: no plots drawn (latbench report failed, see above); results.json is complete: "
               "latbench report %s\n", path);
    return 0;
}

int cmd_experiment(int argc, char **argv) {
    exp_run x;
    int rc = parse_args(argc, argv, &x);
    if (rc >= 0) return rc;
    char err[1024];
    nn_dataset ds[MAX_TESTS + 1];
    memset(ds, 0, sizeof ds);
    /* 1. datasets, 2. training and 3. evaluation */
    double t0 = now_s(), sec[3] = {0};
    bool ok = prepare_data(&x, ds, err, sizeof err);
    sec[0] = now_s() - t0;
    json_t *jarchs = json_array();
    long nv = 0;
    if (ok)
        printf("\n%-10s %-6s %-12s %-12s %-12s %-12s %-12s %-12s\n", "arch", "trials", "val mean", "val median",
               "test(train) mean", "median", "test(all) mean", "median");
    for (int a = 0; ok && a < x.n_archs; a++) ok = run_arch(&x, ds, a, jarchs, &sec[1], &sec[2], &nv, err, sizeof err);
    rc = ok ? write_results(&x, ds[0].n, nv, jarchs, sec) : (json_decref(jarchs), fail(err));
    for (int k = 0; k <= x.n_tests; k++) nn_dataset_free(&ds[k]);
    return rc;
}

/* latbench experiment regression|detect|count [--quick]: the seed's generalization study end to
 * end: generate (or reuse) the datasets, train every architecture of the task over several
 * trials, evaluate each trained net on the test grid (docs/design.md §3), and write results.json and
 * a table of the shape of the seed's "test loss vs validation loss" table.
 * Layout of --out DIR: data/<name>/ (datasets, reused when present), models/<arch>-t<trial>.safetensors,
 * results.json (atomic), data/<name>.log (the generator's summary), and the plots and tables of
 * `latbench report` (report_*.png, report_table.md).  Every test loss is also split by
 * the dataset's (eta, mu) points and, for counting, by the label K (eval_test). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli/cli.h"
#include "tools/cli/nncli.h"
#include "tools/experiment/experiment.h"
#include "tools/timing/timing.h"
#include "tools/mpi/ranks.h"
#include "lib/lattice/params.h"

static int fail(const char *msg) { return nncli_fail("experiment", msg); }

static void usage(void) {
    printf("usage: latbench experiment regression|detect|count [--quick] [--out DIR] [--trials N] [--epochs N]\n"
           "                          [--patience N] [--batch N] [--seed S] [--threads T]\n"
           "                          [--train-count N] [--test-count N] [--therm N] [--progress=auto|bar|lines|none] [--quiet]\n"
           "                          [--train-sizes N,N,... | --augment translations | --train-mu LO:HI]\n"
           "       latbench experiment convergence --task regression|count [--target LOSS] [the options above]\n"
           "  studies (one per run; results.json has \"study\", is the same bytes for the same --seed and --threads,\n"
           "  and the clock's figures go to timing.json):\n"
           "  --train-sizes LIST: test loss against training-set size, --trials per size (default 10; quick: 2-3),\n"
           "           each size a seeded subset of the training set (default 1000,2000,5000,10000,20000 up to\n"
           "           its count; quick: 1/8, 1/4, 1/2 and all of it)\n"
           "  --augment translations: ST and FL nets trained with and without a random cyclic shift of every\n"
           "           sample in every epoch, EQ nets without\n"
           "  --train-mu LO:HI: train on the training set's points with mu in [LO, HI] only (below or above the\n"
           "           onset), test over the whole range (per point: report_loss_vs_mu.png)\n"
           "  convergence: the EQ, ST, FL winners and a dense net (an MLP on the flattened input, about the EQ's\n"
           "           parameter count) trained every epoch on the same data and seeds: each epoch's training and\n"
           "           validation loss, the epochs and wall time to reach --target (default: 1e-4 regression,\n"
           "           0.05 count, which the EQ reaches in --quick), report_study_convergence.png\n"
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
    const exp_def *E = x->E = exp_find(task);
    if (!E) return fail("usage: latbench experiment regression|detect|count [--quick] (try --help)");
    /* the paper's 10 trials per training-set size */
    if (!x->trials) x->trials = x->quick ? E->quick_trials : x->study && !strcmp(x->study, "train_sizes") ? 10 : 5;
    if (!x->epochs) x->epochs = x->quick ? E->quick_epochs : 1000;
    if (!x->threads) x->threads = omp_get_num_procs();
    if (x->study && !strcmp(x->study, "convergence") && !(x->target > 0)) x->target = exp_convergence_default_target(task);
    if (!x->out) {
        snprintf(x->outdef, sizeof x->outdef, "experiment-%s%s", E->task, x->quick ? "-quick" : "");
        x->out = x->outdef;
    }
    x->archs = x->quick ? E->quick_archs : E->archs;
    x->n_archs = x->quick ? 3 : E->n_archs, x->n_tests = x->quick ? E->n_tests_quick : E->n_tests;
    /* convergence: the test set of the training lattice only (the first) */
    if (x->study && !strcmp(x->study, "convergence")) x->n_tests = 1, x->patience = x->epochs + 1;
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

/* --train-sizes N,N,...: at most EXP_MAX_SIZES sizes of at least 10 samples. */
static bool sizes_list(opts_parser *p, exp_run *x) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", p->arg);
    x->n_sizes = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (x->n_sizes == EXP_MAX_SIZES) return opts_fail(p, "--train-sizes takes at most %d sizes", EXP_MAX_SIZES), false;
        if (!lat_parse_long(tok, 10, 1L << 30, &x->train_sizes[x->n_sizes++]))
            return opts_fail(p, "--train-sizes needs a list of sample counts (10 or more), not '%s'", tok), false;
    }
    if (!x->n_sizes) return opts_fail(p, "--train-sizes needs a list of sample counts"), false;
    return true;
}

/* One study per run. */
static bool set_study(opts_parser *p, exp_run *x, const char *study) {
    if (x->study && strcmp(x->study, study))
        return opts_fail(p, "%s: one study per run (this run is already --%s)", p->name, x->study), false;
    x->study = study;
    return true;
}

/* The options into x: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, exp_run *x) {
    enum { QUICK = 256, TRIALS, EPOCHS, THREADS, PATIENCE, BATCH, TRAIN_COUNT, TEST_COUNT, THERM, OUT, SEED, PROGRESS, QUIET,
           TRAIN_SIZES, AUGMENT, TRAIN_MU, TASK, TARGET };
    static const struct option longopts[] = {
        {"quick", no_argument, NULL, QUICK},              {"trials", required_argument, NULL, TRIALS},
        {"epochs", required_argument, NULL, EPOCHS},      {"threads", required_argument, NULL, THREADS},
        {"patience", required_argument, NULL, PATIENCE},  {"batch", required_argument, NULL, BATCH},
        {"train-count", required_argument, NULL, TRAIN_COUNT}, {"test-count", required_argument, NULL, TEST_COUNT},
        {"therm", required_argument, NULL, THERM},        {"out", required_argument, NULL, OUT},
        {"seed", required_argument, NULL, SEED},          OPTS_PROGRESS_LONGOPTS(PROGRESS, QUIET),
        {"train-sizes", required_argument, NULL, TRAIN_SIZES}, {"augment", required_argument, NULL, AUGMENT},
        {"train-mu", required_argument, NULL, TRAIN_MU},  {"task", required_argument, NULL, TASK},
        {"target", required_argument, NULL, TARGET},
        {0}};
    *x = (exp_run){.patience = 25, .batch = 100, .seed = 1, .progress = OPTS_PROGRESS_AUTO};
    opts_parser p;
    opts_init(&p, "experiment", argc, argv, longopts, NULL, false);
    const char *task = NULL;
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        bool ok = c != OPTS_ERR;
        if (c == OPTS_HELP) return usage(), 0;
        if (c == QUICK) x->quick = true;
        if (c == TRIALS) ok = long_in(&p, 1, EXP_MAX_TRIALS, &x->trials);
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
        if (c == TRAIN_SIZES) ok = sizes_list(&p, x) && set_study(&p, x, "train_sizes");
        if (c == AUGMENT && strcmp(p.arg, "translations"))
            return opts_fail(&p, "--augment takes 'translations' (a random cyclic shift per sample and epoch)");
        if (c == AUGMENT) ok = set_study(&p, x, "augment");
        double lo, hi;
        if (c == TRAIN_MU && !exp_parse_mu_range(p.arg, &lo, &hi))
            return opts_fail(&p, "--train-mu needs LO:HI with LO <= HI (e.g. 0.90:0.97), not '%s'", p.arg);
        if (c == TRAIN_MU) x->train_mu = p.arg, ok = set_study(&p, x, "train_mu");
        if (c == TASK) task = p.arg;
        char *end;
        if (c == TARGET && (x->target = strtod(p.arg, &end), end == p.arg || *end || !(x->target > 0)))
            return opts_fail(&p, "--target needs a validation loss above 0, not '%s'", p.arg);
        if (!ok) return 2;
    }
    int first = opts_first_operand(&p);
    if (argc - first > 1) return opts_fail(&p, "unexpected argument '%s' (try --help)", argv[first + 1]);
    const char *op = first < argc ? argv[first] : NULL;
    /* experiment convergence --task TASK: a study of its own, the task an option */
    if (op && !strcmp(op, "convergence")) {
        if (x->study) return opts_fail(&p, "convergence: one study per run (this run is already --%s)", x->study);
        if (!exp_convergence_task_ok(task)) return opts_fail(&p, "experiment convergence needs --task regression|count");
        x->study = "convergence", op = task;
    } else if (task || x->target > 0) {
        return opts_fail(&p, "%s goes with `experiment convergence`", task ? "--task" : "--target");
    }
    return select_run(x, op);
}

/* results.json (atomic), then `latbench report`'s plots and table beside it. */
static int finish(const exp_run *x, json_t *top, const exp_times *t) {
    char err[1024], path[4400];
    if (!exp_write_results(x, top, path, sizeof path, err, sizeof err)) return fail(err);
    printf("\ntime: generation %.1f s, training %.1f s, evaluation %.1f s; wrote %s\n", t->gen, t->train, t->eval, path);
    /* the plots and the seed-style table beside results.json (latbench report); without
     * python3/matplotlib the results stand and the report can be drawn later */
    fflush(stdout);
    /* an MPI run's other ranks on this node are done: their cores draw part of the figures */
    char jobs[24];
    snprintf(jobs, sizeof jobs, "%d", ranks_world()->local_size);
    char *rargv[] = {"report", path, "--jobs", jobs, NULL};
    if (cmd_report(4, rargv) != 0)
        printf("note: no plots drawn (latbench report failed, see above); results.json is complete: "
               "latbench report %s\n", path);
    return 0;
}

/* The datasets, generated (or reused) and loaded; in an MPI run every rank samples a share of each
 * one to make and rank 0 writes it (exp_prepare_data).  A failure there ends the whole run: rank 0
 * names its own (the other ranks wait for it to end them), any other rank its own. */
static bool prepare(const exp_run *x, nn_dataset *ds, char *err, size_t errlen) {
    const ranks_ctx *rk = ranks_world();
    err[0] = 0;
    if (exp_prepare_data(x, ds, err, errlen)) return true;
    if (rk->size == 1) return false;
    if (*err || rk->rank == 0) ranks_abort("experiment", *err ? err : "preparing the datasets");
    ranks_barrier();
    return false;
}

/* The study's architectures into jarchs (an MPI run of several ranks: planned, then spread over the
 * ranks; only rank 0's jarchs gets the entries). */
static bool run_study(exp_run *x, const nn_dataset *ds, json_t *jarchs, exp_times *t, long *nv, char *err, size_t errlen) {
    const ranks_ctx *rk = ranks_world();
    x->plan = rk->size > 1 ? exp_plan_new() : NULL;
    bool ok = rk->size == 1 || x->plan;
    if (!ok) snprintf(err, errlen, "out of memory");
    const bool convergence = x->study && !strcmp(x->study, "convergence");
    if (ok && rk->rank == 0 && !convergence) exp_print_header();
    /* the convergence study trains its nets side by side (their wall times are compared): rank 0 runs it whole */
    if (ok && convergence && rk->rank == 0) ok = exp_study_convergence(x, ds, jarchs, t, nv, err, errlen);
    else if (ok && x->study && !strcmp(x->study, "augment")) ok = exp_study_augment(x, ds, jarchs, t, nv, err, errlen);
    else if (ok && x->study && !strcmp(x->study, "train_sizes")) ok = exp_study_sizes(x, ds, jarchs, t, nv, err, errlen);
    else if (ok && x->study && !strcmp(x->study, "train_mu")) ok = exp_study_train_mu(x, ds, jarchs, t, nv, err, errlen);
    for (int a = 0; ok && !x->study && a < x->n_archs; a++) {
        const exp_arch_job job = {.arch = x->archs[a]};
        ok = exp_run_arch(x, ds, &job, jarchs, t, nv, err, errlen);
    }
    exp_plan *plan = x->plan;
    x->plan = NULL;
    if (ok && plan) ok = exp_spread_run(x, ds, plan, jarchs, t, nv, err, errlen);
    exp_plan_free(plan);
    /* a failed rank ends the whole run, naming itself: no rank waits for it, nothing is written */
    if (!ok && rk->size > 1) ranks_abort("experiment", err);
    return ok;
}

int cmd_experiment(int argc, char **argv) {
    exp_run x;
    int rc = parse_args(argc, argv, &x);
    if (rc >= 0) return rc;
    char err[1024];
    nn_dataset ds[EXP_MAX_TESTS + 1];
    memset(ds, 0, sizeof ds);
    /* 1. datasets, 2. training and 3. evaluation */
    exp_times t = {0};
    double t0 = timing_now();
    bool ok = prepare(&x, ds, err, sizeof err);
    t.gen = timing_now() - t0;
    json_t *jarchs = json_array();
    long nv = 0;
    ok = ok && run_study(&x, ds, jarchs, &t, &nv, err, sizeof err);
    /* rank 0 alone writes results.json */
    if (ok && ranks_world()->rank != 0) rc = 0, json_decref(jarchs);
    else {
        json_t *top = ok ? exp_results_json(&x, ds[0].n, nv, jarchs, &t, err, sizeof err) : (json_decref(jarchs), NULL);
        if (top && x.target > 0) json_object_set_new(top, "target", json_real(x.target));
        rc = top ? finish(&x, top, &t) : fail(err);
    }
    for (int k = 0; k <= x.n_tests; k++) nn_dataset_free(&ds[k]);
    return rc;
}

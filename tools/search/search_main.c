/* latbench search --task T --family F: options, the training set, and the trial loop (search.h). */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tools/search/search.h"
#include "tools/experiment/experiment.h"
#include "tools/mpi/ranks.h"
#include "tools/timing/timing.h"
#include "lib/lattice/params.h"
#include "lib/nn/fit.h"
#include "lib/nn/netspec.h"

static int fail(const char *msg) { return fprintf(stderr, "latbench search: %s\n", msg), 2; }

static bool mkdir_ok(const char *p) { return mkdir(p, 0755) == 0 || errno == EEXIST; }

static void usage(void) {
    printf("usage: latbench search --task regression|detect|count --family eq|st|fl [--trials N] [--budget DURATION]\n"
           "                       [--study FILE] [--top K] [--out DIR] [--seed S] [--quick] [--epochs N]\n"
           "                       [--train-count N] [--therm N] [--warmup N] [--max-params N] [--threads T]\n"
           "                       [--validate train|counts]\n"
           "                       [--progress=...] [--quiet]\n"
           "  TPE (optuna's defaults: 10 random trials first) over the family's space of nets (README, \"Search\"),\n"
           "  each trial trained on the task's training set (as `latbench experiment`) and pruned when its best\n"
           "  validation loss after --warmup epochs (5) is above the median of the complete trials at that epoch\n"
           "  --trials N: trials this run adds to the study (default 100, --quick 10); --budget: no new trial after it\n"
           "  --study FILE (default DIR/study.sqlite): resumable, shared by concurrent searches\n"
           "  DIR (default search-TASK-FAMILY[-quick]): data/, study.sqlite, results.json, top-<k>.spec (--top K, 3)\n"
           "  --max-params N: nets of at most N parameters (default 100000), others drawn again\n"
           "  --validate: what a trial's validation loss (its pruning and ranking value) is measured on:\n"
           "    train: a 10 %% split of the training set (default of regression and detect)\n"
           "    counts: (count only, its default) a held-out set of every count 0..10 on the training lattice and\n"
           "    points (DIR/data/val-*, about 10 %% of the training set's size, its own seed); all of the training\n"
           "    set trains.  The training set has only the counts 0 and 5: a net that learns two labels scores\n"
           "    well on its split but not here.  A study keeps the kind it began with\n"
           "  --quick: the experiment's quick training sets and 15 epochs; --train-count, --therm: smaller data\n"
           "  mpirun -n R latbench search ...: the R ranks train trials of one study that rank 0 alone holds\n"
           "  (--threads per rank); with R > 1 the order in which TPE sees results depends on timing, so the\n"
           "  study is not reproducible (each trial's training is: seeded by its number, never by rank)\n");
}

/* The defaults once the options are read; -1 to go on, else the exit status. */
const char *search_validate_name(search_validate v) { return v == SEARCH_VAL_COUNTS ? "counts" : "train"; }

static int finish_args(search_run *r, const char *task, const char *fam, const char *validate) {
    search_task t;
    search_family f;
    if (!task || !search_task_parse(task, &t)) return fail("--task needs regression, detect or count (try --help)");
    if (!fam || !search_family_parse(fam, &f)) return fail("--family needs eq, st or fl (try --help)");
    search_space_init(&r->space, t, f);
    r->validate = t == SEARCH_COUNT ? SEARCH_VAL_COUNTS : SEARCH_VAL_TRAIN;
    if (validate && !strcmp(validate, "train")) r->validate = SEARCH_VAL_TRAIN;
    else if (validate && !strcmp(validate, "counts")) r->validate = SEARCH_VAL_COUNTS;
    else if (validate) return fail("--validate needs train or counts (try --help)");
    if (r->validate == SEARCH_VAL_COUNTS && t != SEARCH_COUNT) return fail("--validate counts is for --task count only");
    if (!r->trials) r->trials = r->quick ? 10 : 100;
    if (!r->epochs) r->epochs = r->quick ? 15 : 200;
    if (!r->patience) r->patience = r->quick ? 10 : 25;
    if (!r->threads) r->threads = omp_get_num_procs();
    if (!r->therm) r->therm = r->quick ? 400 : 2000;
    if (!r->out) {
        snprintf(r->outdef, sizeof r->outdef, "search-%s-%s%s", task, fam, r->quick ? "-quick" : "");
        r->out = r->outdef;
    }
    if (!r->study) {
        snprintf(r->studydef, sizeof r->studydef, "%.1000s/study.sqlite", r->out);
        r->study = r->studydef;
    }
    return -1;
}

static int parse_args(int argc, char **argv, search_run *r) {
    enum { TASK = 256, FAMILY, TRIALS, BUDGET, STUDY, TOP, OUT, SEED, QUICK, EPOCHS, TRAIN_COUNT, THERM, WARMUP, MAX_PARAMS, THREADS, VALIDATE, PROGRESS, QUIET };
    static const struct option longopts[] = {
        {"task", required_argument, NULL, TASK},     {"family", required_argument, NULL, FAMILY},
        {"trials", required_argument, NULL, TRIALS}, {"budget", required_argument, NULL, BUDGET},
        {"study", required_argument, NULL, STUDY},   {"top", required_argument, NULL, TOP},
        {"out", required_argument, NULL, OUT},       {"seed", required_argument, NULL, SEED},
        {"quick", no_argument, NULL, QUICK},         {"epochs", required_argument, NULL, EPOCHS},
        {"train-count", required_argument, NULL, TRAIN_COUNT}, {"therm", required_argument, NULL, THERM},
        {"warmup", required_argument, NULL, WARMUP}, {"max-params", required_argument, NULL, MAX_PARAMS},
        {"threads", required_argument, NULL, THREADS}, {"validate", required_argument, NULL, VALIDATE},
        OPTS_PROGRESS_LONGOPTS(PROGRESS, QUIET),     {0}};
    *r = (search_run){.top = 3, .warmup = 5, .startup_prune = 5, .seed = 1, .max_params = 100000,
                      .progress = OPTS_PROGRESS_AUTO};
    const char *task = NULL, *fam = NULL, *validate = NULL;
    opts_parser p;
    opts_init(&p, "search", argc, argv, longopts, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        bool ok = c != OPTS_ERR;
        if (c == OPTS_HELP) return usage(), 0;
        if (c == TASK) task = p.arg;
        if (c == FAMILY) fam = p.arg;
        if (c == VALIDATE) validate = p.arg;
        if (c == TRIALS) ok = opts_long(&p, 1, 100000, NULL, &r->trials);
        if (c == BUDGET) ok = opts_duration(&p, &r->budget_s);
        if (c == STUDY && !*p.arg) return fail("--study needs a file name");
        if (c == STUDY) r->study = p.arg;
        if (c == TOP) ok = opts_long(&p, 1, 1000, NULL, &r->top);
        if (c == OUT && !*p.arg) return fail("--out needs a directory name");
        if (c == OUT) r->out = p.arg;
        if (c == SEED && !lat_parse_u64(p.arg, &r->seed)) return fail("--seed needs an unsigned integer");
        if (c == QUICK) r->quick = true;
        if (c == EPOCHS) ok = opts_long(&p, 1, 1000000, NULL, &r->epochs);
        if (c == TRAIN_COUNT) ok = opts_long(&p, 100, 1L << 30, NULL, &r->train_count);
        if (c == THERM) ok = opts_long(&p, 8, 1L << 20, NULL, &r->therm);
        if (c == WARMUP) ok = opts_long(&p, 0, 1000000, NULL, &r->warmup);
        if (c == MAX_PARAMS) ok = opts_long(&p, 1, 100000000, NULL, &r->max_params);
        if (c == THREADS) ok = opts_long(&p, 1, 4096, NULL, &r->threads);
        if (c == PROGRESS) ok = opts_progress_parse(&p, &r->progress);
        if (c == QUIET) r->progress = OPTS_PROGRESS_NONE;
        if (!ok) return 2;
    }
    int first = opts_first_operand(&p);
    if (first < argc) return opts_fail(&p, "unexpected argument '%s' (try --help)", argv[first]);
    return finish_args(r, task, fam, validate);
}

/* Dataset k of `latbench experiment` for the task (its settings, seed 1: dataset seed 1000 + k; 0: the
 * training set, EXP_VAL_SET: the count validation set), made or reused the way experiment does
 * (tools/experiment/data.c). */
static bool make_data(const search_run *r, int k, char *path, size_t len, char *err, size_t errlen) {
    const exp_run x = {.E = exp_find(search_task_name(r->space.task)), .quick = r->quick, .progress = r->progress,
                       .train_count = r->train_count, .therm = r->therm, .chains = r->quick ? 4 : 16, .seed = 1,
                       .threads = r->threads, .out = r->out};
    char name[256];
    snprintf(path, len, "%.900s/data", r->out);
    if (!mkdir_ok(path)) return snprintf(err, errlen, "cannot create %.900s", path), false;
    if (!exp_make_dataset(&x, k, name, sizeof name, err, errlen)) return false;
    snprintf(path, len, "%.800s/data/%.200s", r->out, name);
    return true;
}

/* The trials of this run on one rank; false with err when the study fails. */
static bool run_trials(const search_run *r, search_study *st, const search_data *d, char *err, size_t errlen) {
    double t0 = timing_now(), best = INFINITY;
    for (long i = 1; i <= r->trials; i++) {
        if (r->budget_s > 0 && timing_now() - t0 >= r->budget_s) {
            if (r->progress != OPTS_PROGRESS_NONE) fprintf(stderr, "search: --budget spent after %ld trials\n", i - 1);
            break;
        }
        search_trial c = {.r = r, .st = st};
        if (!search_study_begin(st, search_trial_propose, &c, &c.number, err, errlen)) return false;
        double value, seconds;
        long n_params;
        const char *state;
        search_trial_train(&c, d, &state, &value, &seconds, &n_params);
        if (!search_study_finish(st, c.number, state, value, seconds, n_params, err, errlen)) return false;
        if (c.store_failed) return snprintf(err, errlen, "study %s: cannot record a value", r->study), false;
        if (!strcmp(state, "complete") && value < best) best = value;
        search_progress_line(r, i, c.number, state, value, best, timing_now() - t0);
    }
    return true;
}

/* The training set and (--validate counts) the validation set, made or reused and loaded. */
static bool load_data(const search_run *r, search_data *d, char *err, size_t errlen) {
    char data[1100];
    if (!make_data(r, 0, data, sizeof data, err, errlen) || !nn_dataset_load(data, &d->train, err, errlen)) return false;
    return r->validate != SEARCH_VAL_COUNTS ||
           (make_data(r, EXP_VAL_SET, data, sizeof data, err, errlen) && nn_dataset_load(data, &d->val, err, errlen));
}

/* The study (rank 0 alone) and the data: rank 0 makes (or reuses) it, then, in an MPI run, the other
 * ranks reuse it (or make the same on a host of their own).  The study is refused (exit 2) when it
 * was begun with another --validate. */
static bool prepare(const search_run *r, search_study **st, search_data *d, char *err, size_t errlen) {
    const ranks_ctx *rk = ranks_world();
    bool ok = true;
    *st = NULL;
    if (rk->rank == 0) {
        ok = mkdir_ok(r->out) || (snprintf(err, errlen, "cannot create %.900s", r->out), false);
        ok = ok && (*st = search_study_open(r->study, &r->space, err, errlen)) != NULL &&
             search_study_validation(*st, search_validate_name(r->validate), err, errlen);
        ok = ok && load_data(r, d, err, errlen);
    }
    if (rk->size == 1) return ok;
    if (!ok) ranks_abort("search", err);
    ranks_barrier();
    if (rk->rank == 0) return true;
    ok = (mkdir_ok(r->out) || (snprintf(err, errlen, "cannot create %.900s", r->out), false)) && load_data(r, d, err, errlen);
    if (!ok) ranks_abort("search", err);
    return true;
}

int cmd_search(int argc, char **argv) {
    search_run r;
    int rc = parse_args(argc, argv, &r);
    if (rc >= 0) return rc;
    char err[1400];
    search_study *st;
    search_data d = {0};
    if (!prepare(&r, &st, &d, err, sizeof err)) {
        search_study_close(st), nn_dataset_free(&d.train), nn_dataset_free(&d.val);
        return fail(err);
    }
    const bool ranks = ranks_world()->size > 1;
    bool ok = ranks ? search_run_ranks(&r, st, &d, err, sizeof err) : run_trials(&r, st, &d, err, sizeof err);
    /* rank 0 alone reports (and writes the spec files); a failed rank 0 ends every rank */
    ok = ok && (!st || search_report(&r, st, err, sizeof err));
    if (!ok && ranks) ranks_abort("search", err);
    nn_dataset_free(&d.train), nn_dataset_free(&d.val);
    search_study_close(st);
    if (!ok) fprintf(stderr, "latbench search: %s\n", err);
    return ok ? 0 : 1;
}

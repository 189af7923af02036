/* The parts of `latbench experiment` a study reuses (the command, tools/cli/experiment.c, is the
 * CLI; each study is a file of this room): the tasks' settings, the datasets of a run generated (or
 * reused) and loaded, the trials of one architecture trained and evaluated on every test lattice,
 * and results.json written atomically.
 * Layout of the output directory: data/<name>/ (datasets, reused when their meta.json records the
 * run's settings; results.json's "datasets" names them), models/<arch>[-<tag>]-t<trial>.safetensors,
 * results.json. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/lattice/gendata.h"
#include "lib/nn/nnio.h"
#include "tools/opts/opts.h"

#define EXP_MAX_TESTS 8
#define EXP_MAX_ARCHS 9
#define EXP_MAX_TRIALS 32
#define EXP_MAX_SIZES 16

/* A task of the seed's generalization study. */
typedef struct {
    const char *task;
    const char *archs[EXP_MAX_ARCHS];
    int n_archs;
    const char *quick_archs[3]; /* the first winner of each column (EQ, ST, FL) */
    /* the point set (and worms) of the training and the test datasets: the generator's settings
     * (lib/lattice/gendata.h) but for task, lattice, count, seed, therm and chains */
    lat_gen_settings train;
    const char *train_lattice;
    long train_count, train_count_quick;
    lat_gen_settings test;
    const char *test_lattices[EXP_MAX_TESTS];
    int n_tests, n_tests_quick;
    long test_count, test_count_quick;
    int quick_epochs, quick_trials;
    /* the order of the point set's options in the text its dataset names hash (NULL: the
     * canonical order of lat_gen_settings_text) */
    const char *const *name_order;
} exp_def;

/* The task named task (regression, detect, count), else NULL. */
const exp_def *exp_find(const char *task);

typedef struct exp_plan exp_plan;

/* The options of a run and what they select. */
typedef struct {
    const exp_def *E;
    const char *study;        /* "generalization" (the default), "train_sizes", "augment", "convergence", "train_mu" */
    bool quick;
    opts_progress progress;   /* the datasets' generation and a line per epoch of training */
    long trials, epochs, threads, patience, batch, train_count, test_count, therm, chains;
    uint64_t seed;
    const char *out;
    char outdef[256];
    const char *const *archs;
    int n_archs, n_tests;
    const char *train_mu;     /* --train-mu LO:HI (NULL: the task's whole scan) */
    long train_sizes[EXP_MAX_SIZES];
    int n_sizes;
    double target;            /* convergence: the validation loss to reach (--target) */
    exp_plan *plan;           /* non-NULL (an MPI run of several ranks): exp_run_arch records its job there */
} exp_run;

/* Seconds spent per phase (generation, training, evaluation). */
typedef struct {
    double gen, train, eval;
} exp_times;

/* The dataset index of the count task's validation set (latbench search --validate counts): the
 * training lattice and points, every count of the test sets, about a tenth of the training set's size. */
#define EXP_VAL_SET (EXP_MAX_TESTS + 1)

/* Dataset k (0: training, k >= 1: test lattice k-1, EXP_VAL_SET: the validation set) in x->out/data/NAME (that folder must exist), named
 * by lattice, count and a hash of every setting it is generated with, and reused only when its
 * meta.json records those settings (also when another process made it meanwhile). */
bool exp_make_dataset(const exp_run *x, int k, char *name, size_t namelen, char *err, size_t errlen);
/* Dataset k's directory name (as exp_make_dataset names it) and its `latbench generate` arguments
 * (settings; not --out, --threads or progress: the files do not depend on them). */
bool exp_dataset_name(const exp_run *x, int k, char *name, size_t namelen, char *settings, size_t settingslen, char *err,
                      size_t errlen);
/* The output directories and every dataset (0: training, k >= 1: test lattice k-1), generated or
 * reused, loaded into ds[0..x->n_tests].  In an MPI run of several ranks it is collective: rank 0
 * decides each dataset's reuse, every rank samples a share of one to make (tools/mpi/gendata_ranks.h)
 * and rank 0 writes it; a failure is rank 0's to report when err is empty on another rank.
 * exp_make_dataset is one process's (search: rank 0 first, then the others reuse). */
bool exp_prepare_data(const exp_run *x, nn_dataset *ds, char *err, size_t errlen);

/* How one architecture is trained: on train (NULL: ds[0]), with the translation augmentation,
 * its models saved as <arch>[-<tag>]-t<trial>; extra (owned, may be NULL) merged into its entry. */
typedef struct {
    const char *arch;
    const nn_dataset *train;
    long subset;      /* train is exp_subset(&ds[0], subset, EXP_SUBSET_SEED(x)) (0: not a size subset) */
    bool augment;
    const char *tag;
    json_t *extra;
} exp_arch_job;

/* Trains and evaluates one architecture over x->trials: its summary line on stdout and its entry
 * (arch, params, trials with their test losses per lattice, summary) appended to jarchs. */
bool exp_run_arch(const exp_run *x, const nn_dataset *ds, const exp_arch_job *job, json_t *jarchs, exp_times *t,
                  long *n_val, char *err, size_t errlen);
/* One trial of one architecture: its entry in "trials", its losses (test: NAN where none) and
 * seconds, and the validation set's size. */
typedef struct {
    json_t *entry;
    double val, ttrain, tall, t_train, t_eval;
    long n_val;
} exp_trial;
/* Trains and evaluates trial `trial` of job on train (seeded by the trial's index alone, as in
 * exp_run_arch: the same figures whichever process runs it). */
bool exp_run_trial(const exp_run *x, const nn_dataset *ds, const exp_arch_job *job, const nn_dataset *train, int trial,
                   exp_trial *out, char *err, size_t errlen);
/* An architecture's entry (its summary line on stdout) from its x->trials trials' figures and entries
 * (jtr, taken over, as job->extra) appended to jarchs. */
void exp_arch_entry(const exp_run *x, const exp_arch_job *job, long params, const double *val, const double *ttrain,
                    const double *tall, json_t *jtr, json_t *jarchs);

/* The trials over the ranks of an MPI run (tools/experiment/spread.c): a plan of the jobs the study
 * asks for (x->plan set: exp_run_arch records instead of training), then every rank draws the
 * (architecture, trial) jobs longest first (parameters x epochs x training samples) from a counter
 * on rank 0, and rank 0 gathers the figures and builds the entries in the study's order: results.json
 * is the bytes of the 1-rank run's. */
exp_plan *exp_plan_new(void);
void exp_plan_free(exp_plan *p);
/* Records job (its extra taken over). */
bool exp_plan_add(exp_plan *p, const exp_run *x, const nn_dataset *ds, const exp_arch_job *job, char *err, size_t errlen);
/* Runs the plan's jobs on this rank's share; on rank 0 the entries into jarchs. Collective. */
bool exp_spread_run(const exp_run *x, const nn_dataset *ds, exp_plan *p, json_t *jarchs, exp_times *t, long *n_val,
                    char *err, size_t errlen);

/* The summary table's header line (stdout). */
void exp_print_header(void);

/* The top of results.json (task, settings, the datasets, machine, seconds, archs: jarchs is taken
 * over); NULL with err filled when a dataset cannot be named. */
json_t *exp_results_json(const exp_run *x, long train_count, long n_val, json_t *jarchs, const exp_times *t, char *err,
                         size_t errlen);
/* Writes top (taken over) as DIR/results.json atomically; its path into path. */
bool exp_write_results(const exp_run *x, json_t *top, char *path, size_t pathlen, char *err, size_t errlen);

/* The seed of the training-set size study's subsets. */
#define EXP_SUBSET_SEED(x) ((x)->seed ^ 0x5EEDu)
/* A seeded subset of n samples of d (n <= d->n) as a dataset of its own (points dropped: their
 * offsets no longer hold); free with nn_dataset_free. */
bool exp_subset(const nn_dataset *d, long n, uint64_t seed, nn_dataset *out, char *err, size_t errlen);

/* The studies (tools/experiment/studies.c): each appends its architectures' entries to jarchs. */
bool exp_study_augment(const exp_run *x, const nn_dataset *ds, json_t *jarchs, exp_times *t, long *n_val, char *err,
                       size_t errlen);
bool exp_study_sizes(const exp_run *x, const nn_dataset *ds, json_t *jarchs, exp_times *t, long *n_val, char *err,
                     size_t errlen);
/* --train-mu LO:HI: the architectures trained on the training set's samples whose point has mu in
 * [LO, HI] (below or above the onset only), tested over the whole range (per point). */
bool exp_study_train_mu(const exp_run *x, const nn_dataset *ds, json_t *jarchs, exp_times *t, long *n_val, char *err,
                        size_t errlen);
/* `experiment convergence --task regression|count` (tools/experiment/convergence.c): the EQ, ST, FL
 * winners and a dense net of about the same parameter count, every epoch's training and validation
 * loss (wall times: timing.json), the epochs to reach x->target, the test loss on ds[1]. */
bool exp_study_convergence(const exp_run *x, const nn_dataset *ds, json_t *jarchs, exp_times *t, long *n_val,
                           char *err, size_t errlen);
/* Whether the study has a dense net for task; the default --target of the task. */
bool exp_convergence_task_ok(const char *task);
double exp_convergence_default_target(const char *task);
/* LO:HI into lo <= hi; false when s is not that. */
bool exp_parse_mu_range(const char *s, double *lo, double *hi);
/* The samples of d whose point has mu in [lo, hi] (d needs its points); at least 10 of them. */
bool exp_subset_mu(const nn_dataset *d, double lo, double hi, nn_dataset *out, char *err, size_t errlen);

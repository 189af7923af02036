/* latbench search: the seeds' architecture search (README, "Search"): TPE over a family's space
 * (space.h, tpe.h), median pruning on the validation loss per epoch, the study in SQLite
 * (study.h), the best K as spec files and a report. */
#pragma once
#include <stdint.h>
#include "lib/nn/nnio.h"
#include "tools/opts/opts.h"
#include "tools/search/study.h"

int cmd_search(int argc, char **argv);

/* What a trial's pruning/selection value is the validation loss on (--validate): SEARCH_VAL_TRAIN
 * a split of the training set (10 %), SEARCH_VAL_COUNTS the count task's validation set (every
 * count 0..10 on the training lattice and points; tools/experiment/experiment.h EXP_VAL_SET), the
 * whole training set training. */
typedef enum { SEARCH_VAL_TRAIN, SEARCH_VAL_COUNTS } search_validate;
const char *search_validate_name(search_validate v);

/* The data of the trials: the training set and, with --validate counts, the validation set (else
 * val.n 0). */
typedef struct {
    nn_dataset train, val;
} search_data;

/* The options of a search. */
typedef struct {
    search_space space;
    bool quick;
    search_validate validate;
    opts_progress progress;
    long trials, top, epochs, patience, warmup, startup_prune, train_count, therm, threads, max_params;
    double budget_s;
    uint64_t seed;
    const char *out, *study;
    char outdef[256], studydef[1200];
} search_run;

/* One trial of a run: what the trial loops share with the sampler's and the pruner's callbacks
 * (tools/search/trial.c).  verdict (NULL: search_trial_median_rule) hears each epoch's validation
 * loss and says whether the trial goes on: another rank's trial asks rank 0 (search_ranks.c). */
typedef struct search_trial search_trial;
struct search_trial {
    const search_run *r;
    search_study *st; /* NULL on a rank other than 0 */
    long number;
    search_point x; /* the point propose chose */
    float best;
    int pruned_at;
    bool store_failed;
    bool (*verdict)(search_trial *c, int epoch, float val);
    void *link; /* verdict's own context */
};

/* The sampler's point for trial `number` (a search_propose_fn; vctx: a search_trial). */
bool search_trial_propose(void *vctx, long number, const search_observed *obs, int n, search_point *x, char *spec,
                          size_t len, uint64_t *seed);
/* The median rule on rank 0's study: the value recorded, then whether the trial goes on. */
bool search_trial_median_rule(search_trial *c, int epoch, float val);
/* The trial c->number at c->x trained on d (validated on d->val when it has samples; seed --seed + number, on any rank): its state
 * "complete", "pruned" or "failed", its value, seconds and parameter count; nothing recorded. */
void search_trial_train(search_trial *c, const search_data *d, const char **state, double *value, double *seconds,
                        long *n_params);
/* A line per finished trial on stderr: i of N, its result, the best so far and the time left. */
void search_progress_line(const search_run *r, long i, long number, const char *state, double value, double best,
                          double elapsed);
/* The trials of an MPI run of several ranks (search_ranks.c): rank 0 (st, the study) hands them out
 * and trains its own, the others (st NULL) train what it hands them.  false with err on rank 0;
 * any other rank's failure ends the run (ranks_abort). */
bool search_run_ranks(const search_run *r, search_study *st, const search_data *d, char *err, size_t errlen);

/* The report of a study: a table of the best value against trials on stdout, DIR/results.json and
 * DIR/top-<k>.spec for the best K complete trials.  false with err. */
bool search_report(const search_run *r, search_study *st, char *err, size_t errlen);

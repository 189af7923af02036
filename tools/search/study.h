/* The study of `latbench search`: one SQLite file (README, "Search").  Schema version 1:
 *   search_schema(version, applied), study(key, value): task, family, validate (train|counts; absent
 *   in a study begun before --validate: train);
 *   trials(number, state running|complete|pruned|failed, params JSON, spec, seed, value, n_params,
 *          started, finished, seconds, host, pid);
 *   intermediate(trial, epoch, value).
 * WAL journaling and a busy timeout, so two `latbench search` processes share a file: a trial is
 * numbered and inserted in one write transaction (distinct numbers).  A trial left 'running' by a
 * process of this host that no longer exists (a killed search) is marked failed when a study is
 * opened or a trial begins: it is not re-run; the sampler ignores failed trials.  A file that is
 * not such a study (random bytes, another database, a newer schema) is refused and never written. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tools/search/tpe.h"

#define SEARCH_SCHEMA_VERSION 1

typedef struct search_study search_study;

typedef struct {
    long number;
    char state[12];
    double value, seconds;
    long n_params;
    uint64_t seed;
    double lr; /* the point's learning rate and batch (NAN, 0: its params do not decode) */
    int batch;
    char spec[2048];
} search_trial_row;

/* Opens (creates) the study at path for task/family; NULL with one line in err (every failure is
 * the input's: a damaged file, a study of another task or family, a path that cannot be made). */
search_study *search_study_open(const char *path, const search_space *s, char *err, size_t errlen);
void search_study_close(search_study *st);
/* The study's validation set kind (search --validate: "train" or "counts"): recorded in a study that
 * has none, else it must be kind; false with one line in err (another kind: the input's fault). */
bool search_study_validation(search_study *st, const char *kind, char *err, size_t errlen);
/* Marks the running trials of dead processes of this host failed; how many (-1 on error). */
int search_study_reap(search_study *st);
/* The next trial: in one write transaction the finished trials (complete and pruned, in number
 * order) go to propose, which fills the point, its spec and its seed; the trial is inserted as
 * running with the next free number.  false with err. */
typedef bool (*search_propose_fn)(void *ctx, long number, const search_observed *obs, int n, search_point *x,
                                  char *spec, size_t speclen, uint64_t *seed);
bool search_study_begin(search_study *st, search_propose_fn propose, void *ctx, long *number, char *err, size_t errlen);
/* An intermediate value (a validation loss after an epoch). */
bool search_study_report(search_study *st, long number, int epoch, double value);
/* The median of the complete trials' values at epoch; false when there are fewer than min_trials. */
bool search_study_median_at(search_study *st, int epoch, int min_trials, double *median);
/* A trial's end: state "complete", "pruned" or "failed", its value (NaN: none). */
bool search_study_finish(search_study *st, long number, const char *state, double value, double seconds,
                         long n_params, char *err, size_t errlen);
/* Every trial in number order (malloc'd; *n rows). */
bool search_study_rows(search_study *st, search_trial_row **rows, int *n, char *err, size_t errlen);
/* A trial's params JSON into a point of s: every parameter of s, a number in its range; false
 * with the reason (tests/fuzz/fuzz_search_params.c). */
bool search_point_from_json(const search_space *s, const char *text, search_point *x, char *err, size_t errlen);

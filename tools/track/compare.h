/* `latbench compare OLD.json NEW.json`: per benchmark, the change of the median time between two
 * result files, its spread and its significance over the repetitions (two-sided Mann-Whitney U
 * test on the per-repetition times), and a verdict.  Reads latbench bench JSON (records with a
 * "samples" array) and google-benchmark JSON (records with run_type "iteration", one per
 * repetition, as written with --benchmark_repetitions).
 *
 * A benchmark counts as a regression when its lower quartile grew by more than the threshold AND
 * the fastest halves of the two sets of repetitions differ significantly (p < alpha) AND even its
 * fastest repetition grew by more than half the threshold: load on a shared machine comes in
 * bursts that only ever add time, so it is the fastest repetitions that noise touches least.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Two-sided p-value of the Mann-Whitney U test for samples a[0..na) and b[0..nb): exact
 * distribution when there are no ties and na*nb is small, else the normal approximation with tie
 * and continuity corrections.  1 when either sample is empty. */
double mann_whitney_p(const double *a, int na, const double *b, int nb);


/* ---- result files (exported for the fuzz target tests/fuzz/fuzz_compare.c) ---- */

typedef struct {
    double threshold;      /* relative, e.g. 0.2 for 20 % */
    double alpha;          /* significance level */
    bool ratio;            /* compare ours / oneDNN per repetition instead of times */
    const char *filter;    /* substring of benchmark names, or NULL */
    bool all;              /* print every row, not only changed ones */
} compare_opts;

#define COMPARE_MAX_SAMPLES 256

typedef struct {
    char *name;        /* benchmark name, aggregates' suffix removed */
    int n;
    double s[COMPARE_MAX_SAMPLES];   /* seconds (or ratios) per repetition */
    bool from_iterations;
} compare_series;

typedef struct {
    compare_series *v;
    int n, cap;
    int not_timed;     /* records without a time (rates, e.g. the worm's) */
} compare_series_set;

/* Reads a result file into per-benchmark series (appended to *set, which starts zeroed).  False
 * with a one-line message naming the file (and the benchmark) in err: not JSON, no "benchmarks"
 * array, a time that is not a positive finite number, an unknown time_unit.  Free the set with
 * compare_series_free (also after a failure). */
bool compare_load_results(const char *path, const compare_opts *o, compare_series_set *set, char *err, size_t errlen);
void compare_series_free(compare_series_set *set);

/* `latbench compare`: the process exit status (1 on a regression). */
int cmd_compare(int argc, char **argv);

/* `latbench compare OLD.json NEW.json`: per benchmark, the ratio NEW/OLD of the per-repetition
 * times (or of ours / oneDNN with --ratio) with its confidence interval, by the method of
 * tools/stats/stats.h (Hodges-Lehmann over all repetitions, exact Mann-Whitney bounds), and a
 * verdict: COMPARE_RULE below, the one sentence --help, the output header and README give.
 * Reads latbench bench JSON (records with a "samples" array) and google-benchmark JSON (records
 * with run_type "iteration", one per repetition, as written with --benchmark_repetitions).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "tools/stats/stats.h"

/* The rule, with printf arguments: the confidence of the intervals in %, the threshold in %, the
 * fewest benchmarks of a kernel for its own interval (stats_sign_min_n), the threshold twice, and
 * the fewest repetitions per side that can decide (stats_min_reps) twice. */
#define COMPARE_RULE                                                                                          \
    "A kernel is the benchmarks whose names differ only in their second /-part (the problem).  REGRESSION = " \
    "the %.0f%% confidence interval of a kernel's median ratio NEW/OLD (sign test over its benchmarks, each "  \
    "benchmark's ratio the Hodges-Lehmann estimate over all its repetitions) lies entirely above 1 + %.0f%%, " \
    "or, for a kernel of fewer than %d benchmarks, every benchmark's own interval (exact Mann-Whitney "        \
    "bounds over its repetitions) lies above 1 + %.0f%%; faster = likewise below 1 - %.0f%%; a benchmark "     \
    "whose repetitions cannot reach that confidence (below %d vs %d): too few repetitions to decide, never a " \
    "regression; a kernel of the oneDNN baseline (impl onednn_*) beyond the threshold is reported as "       \
    "'baseline moved', never a regression"

/* The second sentence (time mode only), with printf argument: the machine-drift bound in %. */
#define COMPARE_RULE_MACHINE                                                                                  \
    "Times (not --ratio): a kernel of ours whose problems oneDNN also ran in both files is a REGRESSION (or "  \
    "faster) only when its ratio to oneDNN in the same run (--ratio's) says so too, or when oneDNN itself "    \
    "moved by more than %.0f%% on those problems (--machine-drift): a move that oneDNN shares within that "    \
    "bound is the machine's (load, clock), reported as 'with oneDNN', never a regression"

/* ---- result files (exported for the fuzz target tests/fuzz/fuzz_compare.c) ---- */

typedef struct {
    double threshold;      /* relative, e.g. 0.1 for 10 % */
    double alpha;          /* the error of each bound of the interval (0.025: a 95 % interval) */
    bool ratio;            /* compare ours / oneDNN per repetition instead of times */
    const char *filter;    /* substring of benchmark names, or NULL */
    bool all;              /* print every row, not only changed ones */
    double machine_drift;  /* relative: a common move of ours and oneDNN up to this is the machine's */
} compare_opts;

#define COMPARE_MAX_SAMPLES 256
#define COMPARE_DEFAULT_THRESHOLD 0.10
#define COMPARE_DEFAULT_ALPHA 0.025
/* Moves of the oneDNN baseline between two runs of one build on quiet machines here: up to 1.15x
 * (Intel VM) and 1.22x (Zen 5 VM); 30 % is above them, and a common move beyond it is not put down
 * to the machine: every row x1.5 measures 1.33-1.52x against a neighbouring run, flagged in every
 * kernel of 40 such pairs (40 % missed 7 of 239). */
#define COMPARE_DEFAULT_MACHINE_DRIFT 0.30

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

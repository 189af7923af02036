/* Timing of "sequences" (one or more steps run back to back, e.g. halo copy, reorders and a
 * oneDNN primitive), several sequences interleaved repetition by repetition so that all of them
 * see the same machine noise (the machine is shared).
 *
 * Per sequence: a warm-up call, calibration (doubles the call count until one batch of calls
 * lasts rep_s/2), then `reps` repetitions of `calls` calls each.  (When the warm-up call lasts
 * 0.1 s or more, a second call follows and the faster of the two is kept as the first repetition
 * instead: the first may hold a library's lazy set-up, like oneDNN's JIT.)
 * A repetition's sample is its wall time / calls.  Sequences of more than one step also time each
 * step (two clock reads per step and call), so a step's cost is measured in place, with the cache
 * state the real sequence gives it.  Repetitions are reduced for slow problems so that one
 * sequence spends about budget_s at most, but never below min_reps.
 */
#pragma once
#include <stddef.h>

#define TIMING_MAX_STEPS 96

typedef void timing_step_fn(void *ctx);

typedef enum { STEP_COMPUTE = 0, STEP_HALO, STEP_REORDER, STEP_OTHER, STEP_N_KINDS } timing_step_kind;

typedef struct {
    const char *name;        /* static or owned by the caller; shown in the JSON */
    timing_step_kind kind;
    timing_step_fn *fn;
    void *ctx;
} timing_step;

typedef struct {
    const char *name;
    int n_steps;
    timing_step steps[TIMING_MAX_STEPS];
} timing_seq;

typedef struct {
    int reps;          /* wanted repetitions */
    int min_reps;      /* at least this many, however slow */
    double rep_s;      /* one repetition lasts at least this long (unless one call is longer) */
    double budget_s;   /* about this much per sequence for the repetitions */
    double drop_factor;/* > 0: a sequence this many times slower than the fastest, whose warm-up
                          call took 0.1 s or more, keeps that call as its one sample */
} timing_cfg;

typedef struct {
    double median, min, max, q1, q3;   /* seconds per call */
} timing_stats;

#define TIMING_MAX_SAMPLES 64

typedef struct {
    int reps;                                    /* 1 for a sequence dropped as far too slow */
    long calls;                                  /* calls per repetition */
    timing_stats total;                           /* wall time of the whole sequence */
    timing_stats step[TIMING_MAX_STEPS];           /* per step (== total for a one-step sequence) */
    timing_stats kind[STEP_N_KINDS];              /* per-repetition sums over the steps of each kind */
    int has_kind[STEP_N_KINDS];
    /* per-repetition totals in repetition order (the first TIMING_MAX_SAMPLES): what
     * `latbench compare` tests for significance */
    int n_samples;
    double samples[TIMING_MAX_SAMPLES];
    /* the process's CPU time per call of the same repetitions (every thread of the process, so
     * a team of T busy threads gives about T x the wall time), and its statistics */
    double cpu_samples[TIMING_MAX_SAMPLES];
    timing_stats cpu;
} timing_seq_result;

/* Monotonic clock in seconds. */
double timing_now(void);
/* CPU time of the whole process (all its threads) in seconds. */
double timing_cpu_now(void);

/* Statistics of n samples (sorts them in place), quartiles interpolated (numpy's default). */
timing_stats timing_stats_of(double *samples, int n);
/* The same without interpolation (sorts in place): q1 = the sample at (n-1)/4, q3 at (3(n-1)+3)/4,
 * the median the middle one (the mean of the middle two for even n).  What `latbench compare` and
 * the gate use: a real repetition's time, never a value between a clean one and a burst. */
timing_stats timing_order_stats(double *samples, int n);
/* timing_order_stats of the per-repetition ratios a[k] / b[k] (k < n, b[k] > 0): repetition k of two
 * interleaved sequences ran back to back, so their ratio cancels the machine's common noise. */
timing_stats timing_ratio_stats(const double *a, const double *b, int n);

/* Appends a step; returns 0, or -1 when the sequence is full. */
int timing_seq_add(timing_seq *s, const char *name, timing_step_kind kind, timing_step_fn *fn, void *ctx);

/* Times n sequences interleaved; results in res[0..n).  Returns 0, or -1 on allocation failure. */
int timing_interleaved(const timing_seq *seqs, int n, const timing_cfg *cfg, timing_seq_result *res);

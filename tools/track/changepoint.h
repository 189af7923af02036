/* Change points in a benchmark series: E-Divisive means (Matteson & James 2014, as used by MongoDB's CI,
 * Daly et al. 2020, and Apache Otava) with a permutation test per candidate, so that the threshold
 * adapts to each series' own noise.  README, "History", states the method and its parameters once.
 *
 * x[0..n): one value per run, oldest first (a time or a ratio).  Finds change points recursively (the
 * split that maximises the energy statistic; kept when fewer than alpha of `perms` permutations of
 * that segment reach it), at most cap of them, ordered by index.  Deterministic for a seed. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int index;         /* first value after the change: x[index] belongs to the new level */
    double before;     /* median of the segment before (back to the previous change point) */
    double after;      /* median of the segment after (up to the next change point) */
    double step;       /* after / before - 1 */
    double p;          /* permutation p-value of the split */
} hist_cp;

typedef struct {
    double alpha;      /* significance per split (default 0.01) */
    int perms;         /* permutations per test (default 199) */
    int min_size;      /* smallest segment (default 3) */
    uint64_t seed;
    int tail;          /* the newest-runs test: up to this many runs (default 5; -1: off) */
} hist_cp_opts;

/* After E-Divisive, the newest-runs test: for t = min_size .. tail, the newest t runs are compared
 * with the runs back to the newest change point (at least t of them, and never the run just after
 * it) by compare's method, stats_ratio_ci (Hodges-Lehmann ratio, exact Mann-Whitney bounds, error
 * alpha each); the first t whose interval excludes 1 adds a change point at the first of those runs
 * (its p: alpha).  E-Divisive's permutation test of the best split cannot reach alpha on a step only
 * 3-5 runs old (the maximum over every split of a noisy segment reaches the same energy too often);
 * a test of one fixed split, the newest runs against the level before them, can.
 * Fills out[0..return) (at most cap); -1 when n < 0 or memory runs out. */
int hist_changepoints(const double *x, int n, const hist_cp_opts *o, hist_cp *out, int cap);

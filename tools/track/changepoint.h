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
    int tail;          /* the newest-runs test: up to this many runs (default HIST_CP_TAIL; -1: off) */
    double tail_alpha; /* the newest-runs test's significance (default HIST_CP_TAIL_ALPHA) */
} hist_cp_opts;

#define HIST_CP_TAIL 5
#define HIST_CP_TAIL_ALPHA 0.001

/* After E-Divisive, the newest-runs test: the newest t runs (t = min_size .. tail, at least 2 runs
 * left back to the newest change point) against the median of the runs back to that change point,
 * on the series' own noise: sigma, a robust deviation of log x from its run-to-run differences
 * (1.4826 MAD / sqrt 2 over the whole series, so a segment of 2 runs is judged by the noise of all
 * of them; a level change moves one difference, not the MAD).  Its p: the chance that t runs of
 * that noise all lie, on one side, at least as far from that median as the least of them does
 * (the median's own error, sigma sqrt(pi / 2m), shared by all t).  The t with the smallest p adds
 * a change point at the first of its runs when p <= tail_alpha.  E-Divisive's permutation test
 * cannot reach alpha on a step only 3-5 runs old, nor can a rank test of 3 runs against the 3 left
 * after an earlier change; "every newest run beyond the noise" can, and one outlier cannot fake it.
 * Series with a value <= 0 get no newest-runs test.
 * Fills out[0..return) (at most cap); -1 when n < 0 or memory runs out. */
int hist_changepoints(const double *x, int n, const hist_cp_opts *o, hist_cp *out, int cap);

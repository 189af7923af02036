/* The one statistical method of latbench's regression tracking (compare now; the gate, the tuner and
 * the history are meant to call the same functions): how much slower is NEW than OLD, given the
 * per-repetition times of each, and how sure is that.
 *
 * Method: the ratio NEW/OLD is estimated on the log scale under the model "every time multiplied by
 * one factor" (a slowdown scales a kernel's times).  The estimate is the Hodges-Lehmann one: the
 * median of the na x nb pairwise ratios b_j / a_i over ALL repetitions.  Its confidence bounds are
 * the distribution-free ones that invert the Mann-Whitney test (Moses; Hollander & Wolfe,
 * "Nonparametric Statistical Methods", 3rd ed., §4.3): with the pairwise ratios sorted, the lower
 * bound is the k-th smallest and the upper the k-th largest, k the largest count with
 * P(U <= k - 1) <= alpha under the exact null distribution of U (normal approximation with a
 * continuity correction once na x nb > 2500).  Each bound holds with probability >= 1 - alpha
 * whatever the distribution of the noise, for any number of repetitions; nothing is random, so the
 * same input always gives the same interval (no seed, no resampling).  A bootstrap was not chosen:
 * at 5 to 7 repetitions a percentile bootstrap of a median under-covers (it can only return one of
 * a handful of order statistics) and needs a seed.
 *
 * The median of pairwise ratios ignores up to ~29 % of bursty repetitions on either side, which is
 * what load on a shared machine does (it only ever adds time).  The least repetitions that can give
 * a bound at all: 1 / C(na + nb, na) <= alpha; stats_min_reps says it for equal counts. */
#pragma once
#include <stdbool.h>

/* The estimate and confidence interval of the ratio NEW/OLD. */
typedef struct {
    int na, nb;        /* repetitions of OLD and NEW */
    bool decidable;    /* false: too few repetitions for a bound at this alpha (lo = 0, hi = inf) */
    double ratio;      /* Hodges-Lehmann estimate: median of the pairwise ratios b_j / a_i */
    double lo, hi;     /* P(true ratio < lo) <= alpha, P(true ratio > hi) <= alpha */
    double level;      /* the coverage each bound achieves (>= 1 - alpha; exact counts are discrete) */
} stats_shift;

/* The ratio of b (NEW) over a (OLD), both positive finite values (times or ratios), alpha in
 * (0, 0.5).  False only when a side is empty, a value is not positive and finite, or memory ran out
 * (*out then holds decidable = false). */
bool stats_ratio_ci(const double *a, int na, const double *b, int nb, double alpha, stats_shift *out);

/* The fewest repetitions n (equal on both sides) for which n vs n can give a bound at alpha:
 * 3 at 0.05, 4 at 0.025 and 0.0143, 5 at 0.01, 6 at 0.002. */
int stats_min_reps(double alpha);

/* Two-sided p-value of the Mann-Whitney U test for samples a[0..na) and b[0..nb): exact
 * distribution when there are no ties and na*nb is small, else the normal approximation with tie
 * and continuity corrections.  1 when either sample is empty. */
double mann_whitney_p(const double *a, int na, const double *b, int nb);

/* The median of x[0..n) (any positive values: the ratios of several benchmarks, say) and its
 * distribution-free confidence bounds from the sign test: with x sorted, the k-th smallest and the
 * k-th largest, k the largest count with P(Bin(n, 1/2) <= k - 1) <= alpha.  The values must be
 * independent (benchmarks measured at different moments are, as far as the load of the machine
 * goes).  False when no bound is possible (n < stats_sign_min_n(alpha)); *med is set whenever n > 0. */
/* qsort's ascending order of doubles (the one comparison every tool sorts samples with). */
int stats_cmp_double(const void *a, const void *b);
/* The median of x[0..n) (NAN when n <= 0): sorted into scratch, n doubles (scratch may be x itself,
 * which is then sorted in place). */
double stats_median(const double *x, int n, double *scratch);

bool stats_median_ci(const double *x, int n, double alpha, double *med, double *lo, double *hi);

/* The fewest values for which stats_median_ci gives bounds: 1 / 2^n <= alpha (6 at 0.025). */
int stats_sign_min_n(double alpha);

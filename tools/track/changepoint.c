/* E-Divisive means (changepoint.h).  For a segment y[0..L) and a split tau (m = tau values before,
 * k = L - tau after) the energy statistic with alpha = 1 is
 *     Q(tau) = m k / L * ( 2/(m k) sum|a - b|  -  sum_{i<j}|a_i - a_j| / C(m,2)  -  sum_{i<j}|b_i - b_j| / C(k,2) )
 * (a before, b after).  One O(L^2) scan gives every tau: moving value t from the right side to the left
 * changes the three sums by t's distances to the values left of it and right of it.
 *
 * The search is Matteson & James's: among the current segments, the split with the largest Q is tested
 * by permuting its segment `perms` times (p = (1 + #{Q_perm >= Q}) / (1 + perms)); it is kept when
 * p <= alpha and the search goes on, else it stops.  A permutation test stops early once its p can no
 * longer reach alpha (a noise series costs a few permutations, not all of them). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/track/changepoint.h"
#include "tools/stats/stats.h"

typedef struct {
    int lo, hi;        /* the segment x[lo..hi) */
    int tau;           /* its best split (absolute index), -1 when it has none */
    double q;          /* the energy statistic there */
} cp_seg;

static uint64_t cp_next(uint64_t *s) {   /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The best split of y[0..L) with at least ms values on each side: its Q in *best, its index returned
 * (-1 when L < 2 ms or every Q is 0: a constant segment has no change). */
static int cp_best_split(const double *y, int L, int ms, double *best) {
    double within_l = 0, within_r = 0, cross = 0;
    for (int i = 0; i < L; i++)
        for (int j = i + 1; j < L; j++) within_r += fabs(y[i] - y[j]);
    int arg = -1;
    *best = 0;
    for (int t = 0; t < L - ms; t++) {      /* move y[t] to the left side: tau becomes t + 1 */
        double to_left = 0, to_right = 0;
        for (int i = 0; i < t; i++) to_left += fabs(y[i] - y[t]);
        for (int j = t + 1; j < L; j++) to_right += fabs(y[t] - y[j]);
        within_l += to_left;
        within_r -= to_right;
        cross += to_right - to_left;
        int m = t + 1, k = L - m;
        if (m < ms) continue;
        double e = 2 * cross / ((double)m * k) - (m > 1 ? 2 * within_l / ((double)m * (m - 1)) : 0) -
                   (k > 1 ? 2 * within_r / ((double)k * (k - 1)) : 0);
        double q = (double)m * k / L * e;
        if (q > *best * (1 + 1e-12) && q > 0) *best = q, arg = m;
    }
    return arg;
}

static void cp_shuffle(double *y, int L, uint64_t *rng) {
    for (int i = L - 1; i > 0; i--) {
        int j = (int)(cp_next(rng) % (uint64_t)(i + 1));
        double t = y[i];
        y[i] = y[j], y[j] = t;
    }
}

/* The permutation p-value of q for y[0..L) (scratch: L doubles); stops early past alpha. */
static double cp_pvalue(const double *y, int L, int ms, double q, const hist_cp_opts *o, double *scratch, uint64_t *rng) {
    memcpy(scratch, y, sizeof *y * (size_t)L);
    int reach = 0;
    for (int p = 0; p < o->perms; p++) {
        cp_shuffle(scratch, L, rng);
        double qp;
        cp_best_split(scratch, L, ms, &qp);
        if (qp >= q * (1 - 1e-12)) reach++;
        if ((1.0 + reach) / (1.0 + o->perms) > o->alpha) return (1.0 + reach) / (1.0 + p + 1);
    }
    return (1.0 + reach) / (1.0 + o->perms);
}

static void cp_seg_eval(cp_seg *s, const double *x, int ms) {
    int at = cp_best_split(x + s->lo, s->hi - s->lo, ms, &s->q);
    s->tau = at < 0 ? -1 : s->lo + at;
}

static int cmp_cp(const void *a, const void *b) {
    return ((const hist_cp *)a)->index - ((const hist_cp *)b)->index;
}

/* Medians and steps of the kept points (sorted by index) from their neighbours. */
static void cp_describe(const double *x, int n, hist_cp *out, int k, double *scratch) {
    qsort(out, (size_t)k, sizeof *out, cmp_cp);
    for (int i = 0; i < k; i++) {
        int lo = i ? out[i - 1].index : 0, mid = out[i].index, hi = i + 1 < k ? out[i + 1].index : n;
        out[i].before = stats_median(x + lo, mid - lo, scratch);
        out[i].after = stats_median(x + mid, hi - mid, scratch);
        out[i].step = out[i].before != 0 ? out[i].after / out[i].before - 1 : NAN;
    }
}

/* The series' noise: a robust standard deviation of log x from its run-to-run differences
 * (1.4826 MAD / sqrt 2; a level change moves one difference, not the MAD), floored at 1e-4
 * (0.01 %).  lx: log x[0..n), scratch: n doubles.  NAN when fewer than 4 differences. */
static double cp_noise(const double *lx, int n, double *scratch) {
    if (n < 5) return NAN;
    for (int i = 1; i < n; i++) scratch[i - 1] = lx[i] - lx[i - 1];
    double *d = scratch, *tmp = scratch + (n - 1), med = stats_median(d, n - 1, tmp);
    for (int i = 0; i < n - 1; i++) d[i] = fabs(d[i] - med);
    const double s = 1.4826 * stats_median(d, n - 1, tmp) / sqrt(2.0);
    return s > 1e-4 ? s : 1e-4;
}

/* P(each of t values of noise sigma lies at least `least` beyond an estimate of their level whose
 * own error has deviation sb), on one side, doubled for either side: E_e[Q((least + e) / sigma)^t]
 * over e ~ N(0, sb^2), summed on a grid of sb / 10 out to 6 sb.  The shared error of the level is
 * what makes t values beyond it together likelier than t independent ones. */
static double cp_all_beyond_p(double least, double sigma, double sb, int t) {
    double sum = 0;
    for (int i = -60; i <= 60; i++) {
        const double u = i / 10.0, q = 0.5 * erfc((least + sb * u) / sigma / sqrt(2.0));
        sum += exp(-u * u / 2) * pow(q, t);
    }
    return fmin(1, 2 * sum * 0.1 / sqrt(2 * M_PI));
}

/* The newest-runs test's p for the newest t runs against lx[from..n - t) (changepoint.h): every one
 * of them beyond that segment's median, on one side, by the least excess seen. */
static double cp_tail_p(const double *lx, int n, int from, int t, double sigma, double *tmp) {
    const int m = n - t - from;
    const double before = stats_median(lx + from, m, tmp), after = stats_median(lx + n - t, t, tmp);
    const double dir = after >= before ? 1 : -1;
    double least = INFINITY;
    for (int i = n - t; i < n; i++) least = fmin(least, dir * (lx[i] - before));
    return least > 0 ? cp_all_beyond_p(least, sigma, sigma * sqrt(M_PI / 2 / m), t) : 1;
}

/* The newest-runs test (changepoint.h): adds out[k] and returns k + 1 when the smallest p over t in
 * min_size..tail reaches tail_alpha, else k.  lx: log x (NULL when some x <= 0: no test). */
static int cp_tail(const double *lx, int n, const hist_cp_opts *o, hist_cp *out, int k, int cap, double *scratch) {
    if (!lx || k >= cap) return k;
    int from = 0;
    for (int i = 0; i < k; i++) from = out[i].index > from ? out[i].index : from;
    const double sigma = cp_noise(lx, n, scratch);
    if (!isfinite(sigma)) return k;
    int best = -1;
    double best_p = 1;
    for (int t = o->min_size; t <= o->tail; t++) {
        if (n - t - from < 2) continue;
        const double p = cp_tail_p(lx, n, from, t, sigma, scratch + n);
        if (p < best_p) best_p = p, best = t;
    }
    if (best < 0 || best_p > o->tail_alpha) return k;
    out[k] = (hist_cp){.index = n - best, .p = best_p};
    return k + 1;
}

int hist_changepoints(const double *x, int n, const hist_cp_opts *opts, hist_cp *out, int cap) {
    if (n < 0) return -1;
    hist_cp_opts o = {0.01, 199, 3, 0, HIST_CP_TAIL, HIST_CP_TAIL_ALPHA};
    if (opts) {
        o.seed = opts->seed;
        if (opts->tail) o.tail = opts->tail;
        if (opts->alpha > 0) o.alpha = opts->alpha;
        if (opts->perms > 0) o.perms = opts->perms;
        if (opts->min_size > 0) o.min_size = opts->min_size;
        if (opts->tail_alpha > 0) o.tail_alpha = opts->tail_alpha;
    }
    if (o.min_size < 2) o.min_size = 2;     /* a one-value side has no within-distance */
    if (n < 2 * o.min_size || cap <= 0) return 0;
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i])) return -1;
    int nseg_cap = cap + 1, k = 0, nseg = 1;
    cp_seg *seg = malloc(sizeof *seg * (size_t)nseg_cap);
    double *scratch = malloc(sizeof *scratch * 3 * (size_t)n), *lx = scratch + 2 * (size_t)n;
    if (!seg || !scratch) {
        free(seg), free(scratch);
        return -1;
    }
    uint64_t rng = o.seed;
    seg[0] = (cp_seg){0, n, -1, 0};
    cp_seg_eval(&seg[0], x, o.min_size);
    while (k < cap) {
        int b = -1;
        for (int s = 0; s < nseg; s++)
            if (seg[s].tau >= 0 && (b < 0 || seg[s].q > seg[b].q)) b = s;
        if (b < 0) break;
        cp_seg *s = &seg[b];
        double p = cp_pvalue(x + s->lo, s->hi - s->lo, o.min_size, s->q, &o, scratch, &rng);
        if (p > o.alpha) break;
        out[k++] = (hist_cp){.index = s->tau, .p = p};
        seg[nseg] = (cp_seg){s->tau, s->hi, -1, 0};
        s->hi = s->tau;
        cp_seg_eval(s, x, o.min_size);
        cp_seg_eval(&seg[nseg++], x, o.min_size);
    }
    for (int i = 0; i < n && lx; i++) lx = x[i] > 0 ? (lx[i] = log(x[i]), lx) : NULL;
    k = cp_tail(lx, n, &o, out, k, cap, scratch);
    cp_describe(x, n, out, k, scratch);
    free(seg), free(scratch);
    return k;
}

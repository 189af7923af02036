/* The statistics of regression tracking: see stats.h. */
#include "tools/stats/stats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Exact null distributions are counted up to this many pairs (na x nb); above, the normal
 * approximation (its error on a tail probability is then far below any alpha one would use). */
#define EXACT_MAX_PAIRS 2500

/* The number of rank arrangements of na vs nb values without ties by U = 0 .. na*nb (the
 * coefficients of the Gaussian binomial [na+nb, na]_q), or NULL when out of memory.  Only
 * additions of positive counts: exact up to 2^53, relatively exact beyond. */
static double *u_null_counts(int na, int nb) {
    int umax = na * nb;
    double *prev = calloc((size_t)(nb + 1) * (umax + 1), sizeof *prev);
    double *cur = calloc((size_t)(nb + 1) * (umax + 1), sizeof *cur);
    double *out = malloc(sizeof *out * (size_t)(umax + 1));
    if (!prev || !cur || !out) {
        free(prev);
        free(cur);
        free(out);
        return NULL;
    }
#define F(t, j, k) (t)[(size_t)(j) * (umax + 1) + (k)]
    /* f_0(j, k) = [k == 0]; f_i(j, k) = f_{i-1}(j, k - j) + f_i(j - 1, k) */
    for (int j = 0; j <= nb; j++) F(prev, j, 0) = 1;
    for (int i = 1; i <= na; i++) {
        memset(cur, 0, sizeof(double) * (size_t)(nb + 1) * (umax + 1));
        F(cur, 0, 0) = 1;
        for (int j = 1; j <= nb; j++)
            for (int k = 0; k <= i * j; k++) F(cur, j, k) = (k >= j ? F(prev, j, k - j) : 0) + F(cur, j - 1, k);
        double *t = prev;
        prev = cur;
        cur = t;
    }
    for (int k = 0; k <= umax; k++) out[k] = F(prev, nb, k);
#undef F
    free(prev);
    free(cur);
    return out;
}

/* P(U <= u) under the exact null distribution, NAN when out of memory. */
static double exact_cdf(int na, int nb, int u) {
    double *c = u_null_counts(na, nb);
    if (!c) return NAN;
    double below = 0, total = 0;
    for (int k = 0; k <= na * nb; k++) {
        total += c[k];
        if (k <= u) below += c[k];
    }
    free(c);
    return below / total;
}

typedef struct {
    double v;
    int from_a;
} ranked;

static int cmp_ranked(const void *x, const void *y) {
    double a = ((const ranked *)x)->v, b = ((const ranked *)y)->v;
    return (a > b) - (a < b);
}

int stats_cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double stats_median(const double *x, int n, double *scratch) {
    if (n <= 0) return NAN;
    if (scratch != x) memcpy(scratch, x, sizeof *x * (size_t)n);
    qsort(scratch, (size_t)n, sizeof *scratch, stats_cmp_double);
    return n % 2 ? scratch[n / 2] : 0.5 * (scratch[n / 2 - 1] + scratch[n / 2]);
}

double mann_whitney_p(const double *a, int na, const double *b, int nb) {
    if (na <= 0 || nb <= 0) return 1;
    int n = na + nb;
    ranked *r = malloc(sizeof *r * (size_t)n);
    if (!r) return 1;
    for (int i = 0; i < na; i++) r[i] = (ranked){a[i], 1};
    for (int i = 0; i < nb; i++) r[na + i] = (ranked){b[i], 0};
    qsort(r, (size_t)n, sizeof *r, cmp_ranked);
    double rank_a = 0, ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && r[j].v == r[i].v) j++;
        double t = j - i, mid = 0.5 * (i + 1 + j);   /* average of ranks i+1 .. j */
        for (int k = i; k < j; k++)
            if (r[k].from_a) rank_a += mid;
        ties += t * t * t - t;
        i = j;
    }
    free(r);
    double u = rank_a - 0.5 * na * (na + 1);
    if (ties == 0 && na * nb <= 900) {
        int ui = (int)llround(u);
        double lo = exact_cdf(na, nb, ui), hi = 1 - exact_cdf(na, nb, ui - 1);
        if (isfinite(lo)) {
            double p = 2 * (lo < hi ? lo : hi);
            return p > 1 ? 1 : p;
        }
    }
    double mu = 0.5 * na * nb;
    double var = na * (double)nb / 12.0 * ((n + 1) - ties / ((double)n * (n - 1)));
    if (var <= 0) return 1;   /* every value equal */
    double z = (fabs(u - mu) - 0.5) / sqrt(var);
    if (z < 0) z = 0;
    return erfc(z / sqrt(2.0));
}

/* z with P(Z <= z) = p for a standard normal Z, p in (0, 1): bisection on erfc (exact to 1e-12). */
static double normal_quantile(double p) {
    double lo = -40, hi = 40;
    for (int i = 0; i < 200 && hi - lo > 1e-12; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(-mid / sqrt(2.0)) < p) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* The largest k in 0 .. na*nb with P(U <= k - 1) <= alpha (0: no bound at this alpha), and in
 * *level the achieved 1 - P(U <= k - 1); -1 when out of memory. */
static int bound_rank(int na, int nb, double alpha, double *level) {
    int npairs = na * nb;
    if (npairs > EXACT_MAX_PAIRS) {
        double sd = sqrt(na * (double)nb * (na + nb + 1) / 12.0);
        /* P(U <= k - 1) ~ Phi((k - 1 + 0.5 - npairs / 2) / sd) */
        int k = (int)floor(0.5 * npairs + 0.5 + normal_quantile(alpha) * sd);
        if (k < 0) k = 0;
        *level = 1 - 0.5 * erfc(-((k - 0.5 - 0.5 * npairs) / sd) / sqrt(2.0));
        return k;
    }
    double *c = u_null_counts(na, nb);
    if (!c) return -1;
    double total = 0, below = 0;
    for (int u = 0; u <= npairs; u++) total += c[u];
    int k = 0;
    *level = 1;
    /* below = P(U <= k - 1) before the step that takes k to k + 1 */
    while (k < npairs / 2) {
        double next = below + c[k] / total;
        if (next > alpha) break;
        below = next;
        k++;
        *level = 1 - below;
    }
    free(c);
    return k;
}

int stats_min_reps(double alpha) {
    for (int n = 1; n < 64; n++) {
        double c = 1;   /* C(2n, n) */
        for (int i = 1; i <= n; i++) c = c * (n + i) / i;
        if (1 / c <= alpha) return n;
    }
    return 64;
}

/* See stats.h. */
bool stats_ratio_ci(const double *a, int na, const double *b, int nb, double alpha, stats_shift *out) {
    *out = (stats_shift){na, nb, false, NAN, 0, INFINITY, 0};
    if (na <= 0 || nb <= 0) return false;
    for (int i = 0; i < na; i++)
        if (!(a[i] > 0 && isfinite(a[i]))) return false;
    for (int j = 0; j < nb; j++)
        if (!(b[j] > 0 && isfinite(b[j]))) return false;
    size_t npairs = (size_t)na * nb;
    double *d = malloc(sizeof *d * npairs);
    if (!d) return false;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++) d[(size_t)i * nb + j] = log(b[j]) - log(a[i]);
    qsort(d, npairs, sizeof *d, stats_cmp_double);
    out->ratio = exp(npairs % 2 ? d[npairs / 2] : 0.5 * (d[npairs / 2 - 1] + d[npairs / 2]));
    int k = bound_rank(na, nb, alpha, &out->level);
    if (k < 0) {
        free(d);
        return false;
    }
    if (k >= 1) {
        out->decidable = true;
        out->lo = exp(d[k - 1]);
        out->hi = exp(d[npairs - (size_t)k]);
    }
    free(d);
    return true;
}

int stats_sign_min_n(double alpha) {
    int n = 1;
    while (n < 60 && ldexp(1, -n) > alpha) n++;
    return n;
}

/* See stats.h. */
bool stats_median_ci(const double *x, int n, double alpha, double *med, double *lo, double *hi) {
    *med = NAN;
    *lo = 0;
    *hi = INFINITY;
    if (n <= 0) return false;
    double *s = malloc(sizeof *s * (size_t)n);
    if (!s) return false;
    memcpy(s, x, sizeof *s * (size_t)n);
    qsort(s, (size_t)n, sizeof *s, stats_cmp_double);
    *med = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    /* P(Bin(n, 1/2) <= j) accumulated in logs of binomial coefficients (no overflow) */
    int k = 0;
    double below = 0;
    while (k < n / 2) {
        double next = below + exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) - n * log(2.0));
        if (next > alpha) break;
        below = next;
        k++;
    }
    if (k >= 1) {
        *lo = s[k - 1];
        *hi = s[n - k];
    }
    free(s);
    return k >= 1;
}

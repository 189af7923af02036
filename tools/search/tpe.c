/* The TPE sampler (tpe.h). */
#define _GNU_SOURCE /* qsort_r */
#include "tools/search/tpe.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

search_tpe_opts search_tpe_defaults(void) { return (search_tpe_opts){.n_startup = 10, .n_candidates = 24}; }

/* splitmix64: the sampler's own stream, seeded per trial. */
static uint64_t next_u64(uint64_t *st) {
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *st) { return (double)(next_u64(st) >> 11) * 0x1.0p-53; }

static double normal(uint64_t *st) {
    double u = uniform(st), v = uniform(st);
    return sqrt(-2.0 * log(u > 0 ? u : 0x1.0p-53)) * cos(2.0 * M_PI * v);
}

static double phi(double z) { return 0.5 * erfc(-z / M_SQRT2); }

/* One parameter's estimator: the kernels in the parameter's sampling scale (log for a log
 * parameter, integers widened by half a bin on either side). */
typedef struct {
    int n;
    double lo, hi, mu[512], sigma[512], w[512];
    int discrete;
} parzen;

static int cmp_idx_mu(const void *a, const void *b, void *ctx) {
    const double *mu = ctx;
    double x = mu[*(const int *)a], y = mu[*(const int *)b];
    return (x > y) - (x < y);
}

/* The estimator over vals[0..n) (in trial order, oldest first). */
static void parzen_fit(parzen *p, const search_param *sp, const double *vals, int n) {
    p->discrete = sp->kind == SP_INT;
    p->lo = sp->kind == SP_LOG ? log(sp->lo) : sp->lo - 0.5 * p->discrete;
    p->hi = sp->kind == SP_LOG ? log(sp->hi) : sp->hi + 0.5 * p->discrete;
    if (n > 510) vals += n - 510, n = 510;
    p->n = n + 1;
    for (int i = 0; i < n; i++) {
        p->mu[i] = sp->kind == SP_LOG ? log(vals[i]) : vals[i];
        /* optuna's default weights: flat up to 25, else a ramp 1/n..1 for the older ones */
        p->w[i] = n < 25 ? 1.0 : (i >= n - 25 ? 1.0 : 1.0 / n + (1.0 - 1.0 / n) * i / (n - 25));
    }
    double range = p->hi - p->lo;
    p->mu[n] = 0.5 * (p->lo + p->hi), p->w[n] = 1.0; /* the prior */
    int idx[512];
    for (int i = 0; i <= n; i++) idx[i] = i;
    qsort_r(idx, (size_t)n + 1, sizeof idx[0], cmp_idx_mu, p->mu);
    for (int r = 0; r <= n; r++) {
        double left = r > 0 ? p->mu[idx[r]] - p->mu[idx[r - 1]] : p->mu[idx[r]] - p->lo;
        double right = r < n ? p->mu[idx[r + 1]] - p->mu[idx[r]] : p->hi - p->mu[idx[r]];
        double sg = left > right ? left : right, mn = range / (n + 1 < 100 ? n + 1 : 100);
        p->sigma[idx[r]] = sg < mn ? mn : sg > range ? range : sg;
    }
    p->sigma[n] = range;
    double sum = 0;
    for (int i = 0; i <= n; i++) sum += p->w[i];
    for (int i = 0; i <= n; i++) p->w[i] /= sum;
}

/* A draw from the mixture, truncated to [lo, hi]. */
static double parzen_sample(const parzen *p, uint64_t *st) {
    double u = uniform(st), acc = 0;
    int k = p->n - 1;
    for (int i = 0; i < p->n; i++)
        if ((acc += p->w[i]) > u) { k = i; break; }
    for (int t = 0; t < 100; t++) {
        double x = p->mu[k] + p->sigma[k] * normal(st);
        if (x >= p->lo && x <= p->hi) return x;
    }
    return p->mu[k] < p->lo ? p->lo : p->mu[k] > p->hi ? p->hi : p->mu[k];
}

/* log density (a discrete parameter: log mass of x's bin). */
static double parzen_logpdf(const parzen *p, double x) {
    double s = 0;
    for (int i = 0; i < p->n; i++) {
        double m = p->mu[i], sg = p->sigma[i];
        double z = phi((p->hi - m) / sg) - phi((p->lo - m) / sg);
        if (z < 1e-300) z = 1e-300;
        double d = p->discrete ? phi((x + 0.5 - m) / sg) - phi((x - 0.5 - m) / sg)
                               : exp(-0.5 * (x - m) * (x - m) / (sg * sg)) / (sg * sqrt(2 * M_PI));
        s += p->w[i] * d / z;
    }
    return log(s > 1e-300 ? s : 1e-300);
}

/* A sampled value in the parameter's own scale. */
static double to_value(const search_param *sp, double x) {
    if (sp->kind == SP_LOG) return exp(x);
    double r = round(x);
    return r < sp->lo ? sp->lo : r > sp->hi ? sp->hi : r;
}

static int cmp_obs(const void *a, const void *b) {
    const search_observed *x = *(const search_observed *const *)a, *y = *(const search_observed *const *)b;
    if (x->pruned != y->pruned) return x->pruned - y->pruned;
    if (x->value != y->value) return (x->value > y->value) - (x->value < y->value);
    return (x > y) - (x < y); /* ties by trial order */
}

/* One parameter from the good and bad values. */
static double suggest_param(const search_param *sp, const double *good, int ng, const double *bad, int nb,
                            int n_cand, uint64_t *st) {
    static _Thread_local parzen l, g;
    parzen_fit(&l, sp, good, ng), parzen_fit(&g, sp, bad, nb);
    double best = 0, best_score = -INFINITY;
    for (int c = 0; c < n_cand; c++) {
        double x = parzen_sample(&l, st);
        if (l.discrete) x = round(x);
        double score = parzen_logpdf(&l, x) - parzen_logpdf(&g, x);
        if (score > best_score) best_score = score, best = x;
    }
    return to_value(sp, best);
}

void search_tpe_suggest(const search_space *s, const search_tpe_opts *o, uint64_t seed, long number,
                        const search_observed *obs, int n, search_point *out) {
    uint64_t st = seed * 0x2545F4914F6CDD1Dull ^ (uint64_t)number * 0x9E3779B97F4A7C15ull;
    next_u64(&st);
    for (int i = s->n; i < SEARCH_MAX_PARAMS; i++) out->v[i] = 0; /* a point compares whole */
    if (n < o->n_startup) {
        for (int i = 0; i < s->n; i++) {
            const search_param *sp = &s->p[i];
            double u = uniform(&st);
            out->v[i] = sp->kind == SP_LOG ? exp(log(sp->lo) + u * (log(sp->hi) - log(sp->lo)))
                                           : to_value(sp, sp->lo - 0.5 + u * (sp->hi - sp->lo + 1));
        }
        return;
    }
    /* the split: sorted by value (pruned last, stable by trial order for ties), the first gamma good */
    const search_observed **sorted = malloc((size_t)n * sizeof *sorted);
    double *good = malloc((size_t)n * sizeof *good), *bad = malloc((size_t)n * sizeof *bad);
    char *is_good = calloc((size_t)n, 1);
    if (!sorted || !good || !bad || !is_good) abort();
    for (int i = 0; i < n; i++) sorted[i] = &obs[i];
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_obs);
    int gamma = (int)ceil(0.1 * n);
    if (gamma > 25) gamma = 25;
    for (int i = 0; i < gamma; i++) is_good[sorted[i] - obs] = 1;
    for (int i = 0; i < s->n; i++) {
        int ng = 0, nb = 0;
        for (int t = 0; t < n; t++) /* trial order: the weights favour the newer */
            if (is_good[t]) good[ng++] = obs[t].x.v[i];
            else bad[nb++] = obs[t].x.v[i];
        out->v[i] = suggest_param(&s->p[i], good, ng, bad, nb, o->n_candidates, &st);
    }
    free(sorted), free(good), free(bad), free(is_good);
}

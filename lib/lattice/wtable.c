/* The W(f) table: quadrature in r (not u = r²): r^{f+1} e^{-ηr²-λr⁴} is smooth at r = 0 for every f,
 * while u^{f/2} has a square-root endpoint singularity for odd f that Gauss rules converge on slowly. */
#include "lib/lattice/wtable.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 16 nodes x 20 panels: 12 x 16 already reaches ~1e-19 relative on W(0), W(2) for the η, λ of
 * tests/test_wtable.c (the integrand in r is entire, so the rule converges exponentially). */
#ifndef GL_N
#define GL_N 16
#endif
#ifndef GL_PANELS
#define GL_PANELS 20
#endif
#define WINDOW_DROP 90.0L /* the window ends where the integrand has fallen by e^-90 from its peak */

/* Gauss–Legendre nodes/weights on [-1,1] by Newton on P_n in long double (deterministic, no state). */
static void gauss_legendre(int n, long double *x, long double *w) {
    for (int i = 0; i < (n + 1) / 2; i++) {
        long double z = cosl(3.14159265358979323846264338327950288L * (i + 0.75L) / (n + 0.5L)), dp = 0;
        for (int it = 0; it < 100; it++) {
            long double p0 = 1, p1 = z;
            for (int j = 2; j <= n; j++) {
                long double p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j;
                p0 = p1, p1 = p2;
            }
            dp = n * (z * p1 - p0) / (z * z - 1);
            long double dz = p1 / dp;
            z -= dz;
            if (fabsl(dz) < 1e-19L) break;
        }
        long double p0 = 1, p1 = z;
        for (int j = 2; j <= n; j++) {
            long double p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j;
            p0 = p1, p1 = p2;
        }
        dp = n * (z * p1 - p0) / (z * z - 1);
        x[i] = -z, x[n - 1 - i] = z;
        w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
    }
}

/* g(r) = h(r) - h(r*), h = (f+1) ln r - η r² - λ r⁴, written as differences to avoid cancellation. */
static long double gdiff(long double r, long double rs, long double a, long double eta, long double lam) {
    long double r2 = r * r, s2 = rs * rs;
    return a * logl(r / rs) - (r - rs) * (r + rs) * (eta + lam * (r2 + s2));
}

/* The root of g(r) = -drop between lo and hi (g monotone there: h is concave on r > 0). */
static long double window_end(long double lo, long double hi, long double rs, long double a, long double eta,
                              long double lam) {
    for (int it = 0; it < 200; it++) {
        long double mid = 0.5L * (lo + hi);
        long double g = gdiff(mid, rs, a, eta, lam) + WINDOW_DROP;
        /* on the left of the peak g increases with r; on the right it decreases */
        if ((g > 0) == (mid < rs)) hi = mid; else lo = mid;
        if (hi - lo <= 1e-19L * hi) break;
    }
    return 0.5L * (lo + hi);
}

long double lat_logw_quad(int f, long double eta, long double lam) {
    long double x[GL_N], w[GL_N];
    gauss_legendre(GL_N, x, w);
    const long double a = f + 1;
    /* peak: 4λu² + 2ηu - (f+1) = 0 in u = r², solved without cancellation */
    long double s = sqrtl(eta * eta + 4 * lam * a);
    long double us = eta >= 0 ? a / (eta + s) : (s - eta) / (4 * lam);
    long double rs = sqrtl(us);
    long double hs = a * logl(rs) - eta * us - lam * us * us;
    /* left end: the integrand at r -> 0 vanishes like r^{f+1}; right end: grows until it drops */
    long double lo = window_end(0, rs, rs, a, eta, lam);
    long double hi = rs;
    while (gdiff(hi, rs, a, eta, lam) > -WINDOW_DROP) hi *= 2;
    hi = window_end(rs, hi, rs, a, eta, lam);
    if (lo < 1e-300L) lo = 0;
    long double sum = 0, hpan = (hi - lo) / GL_PANELS;
    for (int p = 0; p < GL_PANELS; p++) {
        long double c = lo + (p + 0.5L) * hpan, part = 0;
        for (int i = 0; i < GL_N; i++) {
            long double r = c + 0.5L * hpan * x[i];
            part += w[i] * expl(gdiff(r, rs, a, eta, lam));
        }
        sum += part * 0.5L * hpan;
    }
    return hs + logl(sum);
}

long double lat_logw_gauss(int f, long double eta) {
    long double h = 0.5L * f + 1;
    return -logl(2) + lgammal(h) - h * logl(eta);
}

bool lat_wtable_build(lat_wtable *t, double eta, double lambda, int fmax, char *err, size_t errlen) {
    return lat_wtable_build_threads(t, eta, lambda, fmax, 1, err, errlen);
}

bool lat_wtable_build_threads(lat_wtable *t, double eta, double lambda, int fmax, int threads, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    if (!isfinite(eta) || !isfinite(lambda) || lambda < 0) {
        snprintf(err, errlen, "lambda must be a finite number >= 0 (got %g) and eta finite (got %g)", lambda, eta);
        return false;
    }
    if (lambda == 0 && !(eta > 0)) {
        snprintf(err, errlen, "eta must be > 0 when lambda = 0 (got eta = %g): the Gaussian weight W(f) diverges", eta);
        return false;
    }
    if (fmax < 8 || fmax > LAT_FMAX_MAX) {
        snprintf(err, errlen, "fmax must be in 8..%d (got %d)", LAT_FMAX_MAX, fmax);
        return false;
    }
    t->eta = eta, t->lambda = lambda, t->fmax = fmax;
    const int n = fmax + 5;
    t->logw = malloc(sizeof(double) * n);
    t->r2 = malloc(sizeof(double) * (fmax + 1));
    t->r4 = malloc(sizeof(double) * (fmax + 1));
    t->w1 = malloc(sizeof(float) * 2 * (fmax + 1));
    t->w2 = malloc(sizeof(float) * 2 * (fmax + 1));
    t->inv = malloc(sizeof(float) * (fmax + 2));
    long double *lw = malloc(sizeof(long double) * n);
    if (!t->logw || !t->r2 || !t->r4 || !t->w1 || !t->w2 || !t->inv || !lw) {
        free(lw);
        lat_wtable_free(t);
        snprintf(err, errlen, "out of memory for the W table (fmax %d)", fmax);
        return false;
    }
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads > 1 ? threads : 1) if (threads > 1)
    for (int f = 0; f < n; f++) {
        lw[f] = lambda == 0 ? lat_logw_gauss(f, eta) : lat_logw_quad(f, eta, lambda);
        t->logw[f] = (double)lw[f];
    }
    for (int f = 0; f < n; f++) {
        if (!isfinite(t->logw[f])) {
            free(lw);
            lat_wtable_free(t);
            snprintf(err, errlen, "log W(%d) is not a finite number for eta = %g, lambda = %g: outside the range the "
                     "W table can represent", f, eta, lambda);
            return false;
        }
    }
    for (int f = 0; f <= fmax; f++) {
        t->r2[f] = (double)expl(lw[f + 2] - lw[f]);
        t->r4[f] = (double)expl(lw[f + 4] - lw[f]);
        t->w1[f] = f >= 1 ? (float)expl(lw[f - 1] - lw[f]) : 0.0f;
        t->w1[fmax + 1 + f] = f + 1 <= fmax ? (float)expl(lw[f + 1] - lw[f]) : 0.0f;
        t->w2[f] = f >= 2 ? (float)expl(lw[f - 2] - lw[f]) : 0.0f;
        t->w2[fmax + 1 + f] = f + 2 <= fmax ? (float)expl(lw[f + 2] - lw[f]) : 0.0f;
    }
    t->inv[0] = 0.0f;
    for (int i = 1; i <= fmax + 1; i++) t->inv[i] = (float)(1.0 / i);
    free(lw);
    for (int i = 0; i < 2 * (fmax + 1); i++)
        if (!isfinite(t->w1[i]) || !isfinite(t->w2[i])) {
            lat_wtable_free(t);
            snprintf(err, errlen, "W(f) ratios overflow float32 for eta = %g, lambda = %g (fmax %d)", eta, lambda, fmax);
            return false;
        }
    t->kt = (worm_tables){fmax, t->w1, t->w2, t->inv};
    return true;
}

void lat_wtable_free(lat_wtable *t) {
    free(t->logw), free(t->r2), free(t->r4), free(t->w1), free(t->w2), free(t->inv);
    memset(t, 0, sizeof *t);
}

/* W(f) = ∫_0^∞ dr r^{f+1} e^{-η r² - λ r⁴}, the dual representation's site weight (docs/design.md §2.3).
 *
 * log W(f) is tabulated for f = 0 .. fmax+4 (odd f too: they occur at worm ends; +4 for the |φ|⁴
 * estimator) by composite Gauss–Legendre quadrature in r of the peaked integrand, evaluated in long
 * double relative to its maximum (relative accuracy ~1e-15 over the table); for λ = 0 by the closed
 * form W(f) = ½ Γ(f/2+1) η^{-(f/2+1)}.  Valid inputs: λ > 0 with any real η, or λ = 0 with η > 0.
 * Everything else derived from W is a ratio exp(logW[a] - logW[b]).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "kernels/worm/worm.h"

#define LAT_FMAX_DEFAULT 1024
/* The largest table: its quadrature costs ~80 us per f, so 2^16 builds in ~5 s per (eta, lambda);
 * 2^20 took ~85 s without a line of output. */
#define LAT_FMAX_MAX 65536

typedef struct {
    double eta, lambda;
    int fmax;
    double *logw;    /* [fmax+5]: log W(f) */
    double *r2, *r4; /* [fmax+1]: W(f+2)/W(f), W(f+4)/W(f) (observables, double) */
    /* the kernel's float32 tables (kernels/worm/worm.h) */
    float *w1, *w2, *inv;
    worm_tables kt;
} lat_wtable;

/* Builds the tables; false with a one-line reason in err for invalid (eta, lambda, fmax). */
bool lat_wtable_build(lat_wtable *t, double eta, double lambda, int fmax, char *err, size_t errlen);
/* The same with the quadratures of the log W(f) shared among `threads` OpenMP threads (<= 1: one).
 * Each entry is computed alone, so the table is the same bits for every thread count; the default
 * table (fmax 1024) costs ~50-80 ms of one core, a serial part of a short run otherwise. */
bool lat_wtable_build_threads(lat_wtable *t, double eta, double lambda, int fmax, int threads, char *err, size_t errlen);
void lat_wtable_free(lat_wtable *t);

/* log W(f) by quadrature (valid for λ >= 0, and η > 0 when λ = 0); exposed for the tests. */
long double lat_logw_quad(int f, long double eta, long double lambda);
/* log W(f) for λ = 0 from the closed form (η > 0). */
long double lat_logw_gauss(int f, long double eta);

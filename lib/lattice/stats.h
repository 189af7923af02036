/* Error analysis of Monte Carlo time series from several independent chains (replicas).
 *
 * Γ method (Madras–Sokal automatic windowing, as in Wolff's UWerr with replicas): the
 * autocorrelation Γ(t) is averaged over chains about the global mean,
 *   τ_int(W) = ½ + Σ_{t=1..W} Γ(t)/Γ(0),
 * W is the smallest window with W >= c·τ_int(W) (c = 6), and
 *   err(mean)² = 2 τ_int Γ(0) / N,   err(τ_int) ≈ τ_int sqrt(2(2W+1)/N),   N = all measurements.
 * A series with zero variance (e.g. n = 0 in every configuration below the onset) gets
 * τ_int = ½, err = 0.
 */
#pragma once

typedef struct {
    double mean, err;     /* mean and its Γ-method error */
    double var;           /* Γ(0) */
    double tau, tau_err;  /* integrated autocorrelation time in units of the series step */
    int window;           /* the automatic window W (0 for zero variance) */
    double err_jk;        /* binned jackknife error (bins of lb_jk_binlen(tau) steps, per chain) */
    int binlen;
} lat_series_stats;

/* x[c*len + i]: nchains series of equal length len (>= 2). */
void lat_series_analyze(const double *x, int nchains, int len, lat_series_stats *s);

/* Binned jackknife error of the mean: each chain cut into bins of binlen consecutive entries (a
 * leftover tail is dropped), jackknife over all bins. */
double lat_jackknife_binned(const double *x, int nchains, int len, int binlen);

#include "lib/lattice/stats.h"
#include <math.h>
#include <stdlib.h>

#define MS_C 6.0

static double gamma_t(const double *x, int nchains, int len, double mean, int t) {
    double s = 0;
    long cnt = 0;
    for (int c = 0; c < nchains; c++) {
        const double *y = x + (long)c * len;
        for (int i = 0; i + t < len; i++) s += (y[i] - mean) * (y[i + t] - mean);
        cnt += len - t;
    }
    return cnt ? s / cnt : 0;
}

double lat_jackknife_binned(const double *x, int nchains, int len, int binlen) {
    if (binlen < 1) binlen = 1;
    int per = len / binlen, nb = per * nchains;
    if (nb < 2) return NAN;
    double *b = malloc(sizeof(double) * nb), tot = 0;
    if (!b) return NAN;
    for (int c = 0; c < nchains; c++)
        for (int j = 0; j < per; j++) {
            double s = 0;
            for (int i = 0; i < binlen; i++) s += x[(long)c * len + (long)j * binlen + i];
            b[c * per + j] = s / binlen;
            tot += s / binlen;
        }
    /* leave-one-out means; for a plain mean this equals the standard error of the bin means */
    double jm = 0, v = 0;
    for (int j = 0; j < nb; j++) jm += (tot - b[j]) / (nb - 1);
    jm /= nb;
    for (int j = 0; j < nb; j++) {
        double d = (tot - b[j]) / (nb - 1) - jm;
        v += d * d;
    }
    free(b);
    return sqrt(v * (nb - 1) / nb);
}

void lat_series_analyze(const double *x, int nchains, int len, lat_series_stats *s) {
    const long N = (long)nchains * len;
    double mean = 0;
    for (long i = 0; i < N; i++) mean += x[i];
    mean /= N;
    s->mean = mean;
    double g0 = gamma_t(x, nchains, len, mean, 0);
    s->var = g0;
    if (!(g0 > 1e-300 * (mean * mean + 1e-300))) {
        s->err = 0, s->tau = 0.5, s->tau_err = 0, s->window = 0, s->err_jk = 0, s->binlen = 1;
        return;
    }
    double tau = 0.5;
    int W = 0;
    for (int t = 1; t < len; t++) {
        tau += gamma_t(x, nchains, len, mean, t) / g0;
        W = t;
        if (t >= MS_C * tau) break;
    }
    if (tau < 0.5) tau = 0.5; /* anticorrelated noise at small N; the estimate cannot go below ½ */
    s->tau = tau;
    s->window = W;
    s->tau_err = tau * sqrt(2.0 * (2 * W + 1) / (double)N);
    s->err = sqrt(2 * tau * g0 / N);
    /* bins of ~ 4·2τ steps keep the bin means nearly independent; at least 2 bins per chain */
    int bl = (int)ceil(8 * tau);
    if (bl > len / 2) bl = len / 2 > 0 ? len / 2 : 1;
    s->binlen = bl;
    s->err_jk = lat_jackknife_binned(x, nchains, len, bl);
}

/* Global pooling, portable reference (site-order float accumulation; avg = sum / hw). */
#include <string.h>
#include "kernels/gpool/gpool.h"

void gpool_fwd__scalar(const gpool_desc *d, const float *in, float *out) {
    const int C = d->c, hw = d->hw;
    for (int n = 0; n < d->n; n++) {
        const float *x = in + (size_t)n * hw * C;
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++) o[c] = x[c];
        for (int p = 1; p < hw; p++) {
            const float *xp = x + (size_t)p * C;
            for (int c = 0; c < C; c++) {
                if (d->kind == GPOOL_MAX) { if (xp[c] > o[c]) o[c] = xp[c]; }
                else o[c] += xp[c];
            }
        }
        if (d->kind == GPOOL_AVG)
            for (int c = 0; c < C; c++) o[c] /= (float)hw;
    }
}

void gpool_bwd__scalar(const gpool_desc *d, const float *in, const float *gout, float *gin) {
    const int C = d->c, hw = d->hw;
    for (int n = 0; n < d->n; n++) {
        const float *g = gout + (size_t)n * C;
        float *gi = gin + (size_t)n * hw * C;
        if (d->kind == GPOOL_MAX) {
            const float *x = in + (size_t)n * hw * C;
            memset(gi, 0, (size_t)hw * C * sizeof *gi);
            for (int c = 0; c < C; c++) {
                int best = 0;
                for (int p = 1; p < hw; p++)
                    if (x[(size_t)p * C + c] > x[(size_t)best * C + c]) best = p;   /* ties keep the first */
                gi[(size_t)best * C + c] = g[c];
            }
        } else {
            for (int p = 0; p < hw; p++)
                for (int c = 0; c < C; c++)
                    gi[(size_t)p * C + c] = d->kind == GPOOL_AVG ? g[c] / (float)hw : g[c];
        }
    }
}

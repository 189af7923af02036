/* Pooling, portable reference.  Every vector variant reproduces its exact operation order
 * (avg: window sum in row-major order starting from the first element, times 1/k^2; backward
 * contributions accumulated in window order), so results agree bit for bit on integer data. */
#include <string.h>
#include "kernels/pool/pool.h"

void pool_fwd__scalar(const pool_desc *d, const float *in, float *out) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, k = d->k, s = d->s, W = d->w;
    const float inv = 1.0f / (float)(k * k);
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const float *b = in + (((size_t)n * d->h + (size_t)y * s) * W + (size_t)x * s) * C;
                float *o = out + (((size_t)n * oh + y) * ow + x) * C;
                for (int c = 0; c < C; c++) {
                    float acc = b[c];
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = (ky == 0); kx < k; kx++) {
                            float v = b[((size_t)ky * W + kx) * C + c];
                            if (d->kind == POOL_AVG) acc += v;
                            else if (v > acc) acc = v;
                        }
                    o[c] = d->kind == POOL_AVG ? acc * inv : acc;
                }
            }
}

void pool_bwd__scalar(const pool_desc *d, const float *in, const float *gout, float *gin) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, k = d->k, s = d->s, W = d->w;
    const float inv = 1.0f / (float)(k * k);
    memset(gin, 0, pool_in_size(d) * sizeof *gin);
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                size_t base = (((size_t)n * d->h + (size_t)y * s) * W + (size_t)x * s) * C;
                const float *g = gout + (((size_t)n * oh + y) * ow + x) * C;
                float *gb = gin + base;
                for (int c = 0; c < C; c++) {
                    if (d->kind == POOL_AVG) {
                        float gv = g[c] * inv;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) gb[((size_t)ky * W + kx) * C + c] += gv;
                    } else {
                        const float *b = in + base;
                        size_t best = (size_t)c;
                        float m = b[c];
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                size_t off = ((size_t)ky * W + kx) * C + c;
                                if (b[off] > m) { m = b[off]; best = off; }   /* strict: ties keep the first */
                            }
                        gb[best] += g[c];
                    }
                }
            }
}

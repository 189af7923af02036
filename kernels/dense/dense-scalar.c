/* Dense (linear) layer and flatten: the portable reference.
 * Sums run over the reduction index in ascending order; with integer-valued inputs every
 * variant (and oneDNN) must then agree exactly, whatever order it sums in. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off") /* the reference rounds every product (no FMA) */
#endif
#include "kernels/dense/dense.h"

void dense_fwd__scalar(const dense_desc *d, const float *x, const float *w, const float *b, float *y) {
    const int N = d->n, I = d->in, O = d->out;
    for (int n = 0; n < N; n++) {
        float *yr = y + (size_t)n * O;
        const float *xr = x + (size_t)n * I;
        for (int o = 0; o < O; o++) yr[o] = (d->bias && b) ? b[o] : 0.0f;
        for (int i = 0; i < I; i++) {
            const float xi = xr[i];
            const float *wr = w + (size_t)i * O;
            for (int o = 0; o < O; o++) yr[o] += xi * wr[o];
        }
    }
}

void dense_bwd_data__scalar(const dense_desc *d, const float *gy, const float *w, float *gx) {
    const int N = d->n, I = d->in, O = d->out;
    for (int n = 0; n < N; n++) {
        const float *g = gy + (size_t)n * O;
        for (int i = 0; i < I; i++) {
            const float *wr = w + (size_t)i * O;
            float s = 0.0f;
            for (int o = 0; o < O; o++) s += g[o] * wr[o];
            gx[(size_t)n * I + i] = s;
        }
    }
}

void dense_bwd_weights__scalar(const dense_desc *d, const float *x, const float *gy, float *gw, float *gb) {
    const int N = d->n, I = d->in, O = d->out;
    for (size_t k = 0; k < (size_t)I * O; k++) gw[k] = 0.0f;
    for (int n = 0; n < N; n++) {
        const float *g = gy + (size_t)n * O;
        for (int i = 0; i < I; i++) {
            const float xi = x[(size_t)n * I + i];
            float *gr = gw + (size_t)i * O;
            for (int o = 0; o < O; o++) gr[o] += xi * g[o];
        }
    }
    if (d->bias && gb) {
        for (int o = 0; o < O; o++) gb[o] = 0.0f;
        for (int n = 0; n < N; n++)
            for (int o = 0; o < O; o++) gb[o] += gy[(size_t)n * O + o];
    }
}

/* Per sample: [P][C] -> [C][P] with P = h*w. */
void dense_flatten_fwd__scalar(const dense_flatten_desc *d, const float *in, float *out) {
    const size_t P = (size_t)d->h * d->w, C = (size_t)d->c;
    for (int n = 0; n < d->n; n++) {
        const float *s = in + (size_t)n * P * C;
        float *t = out + (size_t)n * P * C;
        for (size_t c = 0; c < C; c++)
            for (size_t p = 0; p < P; p++) t[c * P + p] = s[p * C + c];
    }
}

void dense_flatten_bwd__scalar(const dense_flatten_desc *d, const float *gout, float *gin) {
    const size_t P = (size_t)d->h * d->w, C = (size_t)d->c;
    for (int n = 0; n < d->n; n++) {
        const float *s = gout + (size_t)n * P * C;
        float *t = gin + (size_t)n * P * C;
        for (size_t p = 0; p < P; p++)
            for (size_t c = 0; c < C; c++) t[p * C + c] = s[c * P + p];
    }
}

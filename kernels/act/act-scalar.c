/* Activations, portable reference.  In-place safe: each element is read before it is written. */
#include <math.h>
#include "kernels/act/act.h"

void act_lrelu_fwd__scalar(size_t n, float slope, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void act_lrelu_bwd__scalar(size_t n, float slope, const float *x, const float *gy, float *gx) {
    for (size_t i = 0; i < n; i++) gx[i] = gy[i] * (x[i] > 0.0f ? 1.0f : slope);
}

/* exp(-|x|) never overflows, and for x < 0 the form e/(1+e) keeps full relative accuracy down to
 * the denormals, where 1/(1+exp(-x)) would already have returned 0. */
void act_sigmoid_fwd__scalar(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float e = expf(-fabsf(v));
        y[i] = (v >= 0.0f ? 1.0f : e) / (1.0f + e);
    }
}

void act_sigmoid_bwd__scalar(size_t n, const float *y, const float *gy, float *gx) {
    for (size_t i = 0; i < n; i++) gx[i] = gy[i] * y[i] * (1.0f - y[i]);
}

/* Losses, the portable reference.
 * Elementwise terms are float; the sum is double (a float sum over 33k elements would be off by
 * ~1e-5 relative, far more than the per-element rounding).  Mean over zero elements is 0/0 = NaN,
 * as in PyTorch; no gradient is written then.
 *
 * BCE on logits, per element with e = exp(-|z|) and r = 1/(1+e):
 *   loss = (z >= 0 ? z (1 - t) : -z t) + log1p(e)      both terms >= 0 for t in [0,1]: no cancellation
 *   sigmoid(z) - t = z >= 0 ? (1 - t) - e r : e r - t  so that 1 - sigmoid(z) is never formed by
 *                                                       subtraction (it keeps its relative accuracy)
 * The vector variants use these exact formulas with their own exp/log1p.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include "kernels/loss/loss.h"

float loss_mse__scalar(size_t count, const float *pred, const float *target, float *grad) {
    const float norm = (float)(2.0 / (double)count);
    double acc = 0.0;
    for (size_t i = 0; i < count; i++) {
        const float dlt = pred[i] - target[i];
        if (grad) grad[i] = dlt * norm;
        acc += (double)dlt * (double)dlt; /* exact in double */
    }
    return (float)(acc / (double)count);
}

float loss_bce_logits__scalar(size_t count, const float *pred, const float *target, float *grad) {
    const float inv = (float)(1.0 / (double)count);
    double acc = 0.0;
    for (size_t i = 0; i < count; i++) {
        const float z = pred[i], t = target[i];
        const float e = expf(-fabsf(z));
        const float lin = z >= 0.0f ? z * (1.0f - t) : -z * t;
        acc += (double)(lin + log1pf(e));
        if (grad) {
            const float er = e / (1.0f + e);
            grad[i] = (z >= 0.0f ? (1.0f - t) - er : er - t) * inv;
        }
    }
    return (float)(acc / (double)count);
}

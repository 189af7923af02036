/* AdamW (+amsgrad), the portable reference.
 * As PyTorch does with Python floats, the step-dependent scalars are computed in double and used
 * as float; every elementwise operation is one IEEE float operation in the order of optim.h (and of
 * torch's mul_/lerp_/addcmul_/maximum/sqrt/div/add_/addcdiv_), with no FMA contraction.  The
 * vector variants do the same operations in the same order, so they agree bit for bit. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <math.h>
#include "kernels/optim/optim.h"

void optim_adamw_step__scalar(const optim_adamw_params *hp, size_t n, float *param, const float *grad, float *m, float *v,
                        float *vmax) {
    const double bc1 = 1.0 - pow((double)hp->beta1, (double)hp->step);
    const double bc2 = 1.0 - pow((double)hp->beta2, (double)hp->step);
    const float decay = (float)(1.0 - (double)hp->lr * (double)hp->weight_decay);
    const float w1 = (float)(1.0 - (double)hp->beta1), b2 = hp->beta2, w2 = (float)(1.0 - (double)hp->beta2);
    const float step_size = (float)((double)hp->lr / bc1), bc2_sqrt = (float)sqrt(bc2), eps = hp->eps;
    const int ams = hp->amsgrad && vmax;
    for (size_t i = 0; i < n; i++) {
        const float g = grad[i];
        const float p = param[i] * decay;
        const float mi = m[i] + (g - m[i]) * w1;
        const float vi = v[i] * b2 + (w2 * g) * g;
        float s = vi;
        if (ams) {
            s = vmax[i] > vi ? vmax[i] : vi; /* = maxps(vmax, v), NaN in v included */
            vmax[i] = s;
        }
        const float denom = sqrtf(s) / bc2_sqrt + eps;
        param[i] = p - (step_size * mi) / denom;
        m[i] = mi;
        v[i] = vi;
    }
}

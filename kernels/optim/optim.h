/* AdamW step with optional amsgrad, PyTorch's torch.optim.AdamW semantics (single-tensor path):
 *   p  *= 1 - lr*wd
 *   m   = m + (g - m)(1 - b1)           v = b2 v + (1 - b2) g^2
 *   vmax = max(vmax, v)   (amsgrad; vmax may be NULL otherwise)
 *   denom = sqrt(amsgrad ? vmax : v) / sqrt(1 - b2^step) + eps
 *   p  -= (lr / (1 - b1^step)) * m / denom
 * step counts from 1.  All arrays have n elements and are updated in place.
 */
#pragma once
#include "kernels/common.h"

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    int amsgrad;
    long step;
} optim_adamw_params;

static inline optim_adamw_params optim_adamw_defaults(void) {
    optim_adamw_params p = {1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f, 1, 1};
    return p;
}

typedef void optim_adamw_step_fn(const optim_adamw_params *hp, size_t n, float *param, const float *grad,
                           float *m, float *v, float *vmax);

typedef struct {
    const char *name;
    lb_isa isa;
    optim_adamw_step_fn *adamw_step;
} optim_ops;

#define KERNEL(isa, sfx) optim_adamw_step_fn optim_adamw_step__##sfx;
#include "kernels/optim/optim.inc"
#undef KERNEL
#define OPTIM_ROW(isa, sfx) { #sfx, isa, optim_adamw_step__##sfx },

/* AdamW (+amsgrad), AArch64 NEON: the operations of optim-scalar.c, in its order and without FMA
 * contraction (the pragma: gcc implements vmulq/vaddq as plain vector arithmetic and would fuse
 * them), so the result is bit-identical to the reference; vsqrtq/vdivq are correctly rounded.
 * The 1..3-float tail goes through a stack buffer and takes the same vector arithmetic. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <arm_neon.h>
#include <math.h>
#include "kernels/optim/optim.h"

typedef struct {
    float32x4_t decay, w1, b2, w2, step_size, bc2_sqrt, eps;
} adamw_vec;

LB_INLINE void step4(const adamw_vec *c, int ams, float *param, const float *grad, float *m, float *v, float *vmax) {
    const float32x4_t g = vld1q_f32(grad), m0 = vld1q_f32(m);
    const float32x4_t p = vmulq_f32(vld1q_f32(param), c->decay);
    const float32x4_t mi = vaddq_f32(m0, vmulq_f32(vsubq_f32(g, m0), c->w1));
    const float32x4_t vi = vaddq_f32(vmulq_f32(vld1q_f32(v), c->b2), vmulq_f32(vmulq_f32(c->w2, g), g));
    float32x4_t s = vi;
    if (ams) {
        const float32x4_t vm = vld1q_f32(vmax);
        s = vbslq_f32(vcgtq_f32(vm, vi), vm, vi); /* the reference's vmax > v ? vmax : v (NaN in v wins) */
        vst1q_f32(vmax, s);
    }
    const float32x4_t denom = vaddq_f32(vdivq_f32(vsqrtq_f32(s), c->bc2_sqrt), c->eps);
    vst1q_f32(param, vsubq_f32(p, vdivq_f32(vmulq_f32(c->step_size, mi), denom)));
    vst1q_f32(m, mi);
    vst1q_f32(v, vi);
}

void optim_adamw_step__neon(const optim_adamw_params *hp, size_t n, float *param, const float *grad, float *m, float *v,
                      float *vmax) {
    const double bc1 = 1.0 - pow((double)hp->beta1, (double)hp->step);
    const double bc2 = 1.0 - pow((double)hp->beta2, (double)hp->step);
    adamw_vec c;
    c.decay = vdupq_n_f32((float)(1.0 - (double)hp->lr * (double)hp->weight_decay));
    c.w1 = vdupq_n_f32((float)(1.0 - (double)hp->beta1));
    c.b2 = vdupq_n_f32(hp->beta2);
    c.w2 = vdupq_n_f32((float)(1.0 - (double)hp->beta2));
    c.step_size = vdupq_n_f32((float)((double)hp->lr / bc1));
    c.bc2_sqrt = vdupq_n_f32((float)sqrt(bc2));
    c.eps = vdupq_n_f32(hp->eps);
    const int ams = hp->amsgrad && vmax;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) step4(&c, ams, param + i, grad + i, m + i, v + i, ams ? vmax + i : NULL);
    if (i < n) {
        const size_t r = n - i;
        float tp[4] = {0}, tg[4] = {0}, tm[4] = {0}, tv[4] = {0}, tx[4] = {0};
        for (size_t k = 0; k < r; k++) {
            tp[k] = param[i + k], tg[k] = grad[i + k], tm[k] = m[i + k], tv[k] = v[i + k];
            if (ams) tx[k] = vmax[i + k];
        }
        step4(&c, ams, tp, tg, tm, tv, tx);
        for (size_t k = 0; k < r; k++) {
            param[i + k] = tp[k], m[i + k] = tm[k], v[i + k] = tv[k];
            if (ams) vmax[i + k] = tx[k];
        }
    }
}

/* Losses, AArch64 NEON (ASIMD, FMA).  Same formulas as loss-scalar.c (read its header comment):
 * float elementwise terms, double sum; exp and log1p are the Cephes single-precision polynomials
 * of loss-avx2.c (about 1 ulp) after range reduction, evaluated with explicit FMA.  Contraction
 * is off (the pragma) so that only the written FMAs fuse: gcc implements vmulq/vaddq as plain
 * vector arithmetic.  The 1..3-element tail goes through stack buffers; its unused lanes add 0.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <arm_neon.h>
#include "kernels/loss/loss.h"

LB_INLINE float32x4_t pow2i(int32x4_t k) { return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k, vdupq_n_s32(127)), 23)); }

/* exp(x) for x <= 0 (x = -|z|): x = k ln2 + r, |r| <= ln2/2.  2^k (k >= -150) is applied as
 * 2^(k - k/2) 2^(k/2): both factors are normal and only the last product rounds, so results in
 * the subnormal range are right too.  Below -104 the result is 0. */
LB_INLINE float32x4_t exp_nonpos(float32x4_t x) {
    x = vmaxq_f32(x, vdupq_n_f32(-104.0f));
    const float32x4_t k = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(x, k, vdupq_n_f32(0.693359375f)); /* ln2 = C1 - C2, C1 exact in 9 bits */
    r = vfmsq_f32(r, k, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t y = vdupq_n_f32(1.9875691500e-4f);
    y = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), y, r);
    y = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), y, r);
    y = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), y, r);
    y = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), y, r);
    y = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), y, r);
    y = vaddq_f32(vfmaq_f32(r, y, vmulq_f32(r, r)), vdupq_n_f32(1.0f));
    const int32x4_t ki = vcvtq_s32_f32(k);
    const int32x4_t k1 = vshrq_n_s32(ki, 1), k2 = vsubq_s32(ki, k1);
    return vmulq_f32(vmulq_f32(y, pow2i(k1)), pow2i(k2));
}

/* log1p(e) for e in [0, 1].  With f = e (e <= sqrt2-1) or f = (e-1)/2 (then log1p(e) = ln2 +
 * log(1+f)), f is exact and in [sqrt(1/2)-1, sqrt2-1], the domain of the Cephes log polynomial. */
LB_INLINE float32x4_t log1p_unit(float32x4_t e) {
    const uint32x4_t big = vcgtq_f32(e, vdupq_n_f32(0.414213562f));
    const float32x4_t f = vbslq_f32(big, vmulq_f32(vsubq_f32(e, vdupq_n_f32(1.0f)), vdupq_n_f32(0.5f)), e);
    const float32x4_t z = vmulq_f32(f, f);
    float32x4_t y = vdupq_n_f32(7.0376836292e-2f);
    y = vfmaq_f32(vdupq_n_f32(-1.1514610310e-1f), y, f);
    y = vfmaq_f32(vdupq_n_f32(1.1676998740e-1f), y, f);
    y = vfmaq_f32(vdupq_n_f32(-1.2420140846e-1f), y, f);
    y = vfmaq_f32(vdupq_n_f32(1.4249322787e-1f), y, f);
    y = vfmaq_f32(vdupq_n_f32(-1.6668057665e-1f), y, f);
    y = vfmaq_f32(vdupq_n_f32(2.0000714765e-1f), y, f);
    y = vfmaq_f32(vdupq_n_f32(-2.4999993993e-1f), y, f);
    y = vfmaq_f32(vdupq_n_f32(3.3333331174e-1f), y, f);
    y = vmulq_f32(vmulq_f32(y, f), z);
    y = vaddq_f32(y, vbslq_f32(big, vdupq_n_f32(-2.12194440e-4f), vdupq_n_f32(0.0f)));
    y = vfmaq_f32(y, vdupq_n_f32(-0.5f), z);
    return vaddq_f32(vaddq_f32(f, y), vbslq_f32(big, vdupq_n_f32(0.693359375f), vdupq_n_f32(0.0f)));
}

/* Lanes [0, r) on. */
LB_INLINE uint32x4_t lanes(size_t r) {
    const uint32x4_t idx = {0, 1, 2, 3};
    return vcltq_u32(idx, vdupq_n_u32((uint32_t)(r >= 4 ? 4 : r)));
}

/* acc[0] += lanes 0,1 of v, acc[1] += lanes 2,3, in double. */
LB_INLINE void acc_pd(float64x2_t *a0, float64x2_t *a1, float32x4_t v) {
    *a0 = vaddq_f64(*a0, vcvt_f64_f32(vget_low_f32(v)));
    *a1 = vaddq_f64(*a1, vcvt_high_f64_f32(v));
}

LB_INLINE void mse4(const float *pred, const float *target, float *grad, float32x4_t norm, float64x2_t *a0, float64x2_t *a1) {
    const float32x4_t dlt = vsubq_f32(vld1q_f32(pred), vld1q_f32(target));
    if (grad) vst1q_f32(grad, vmulq_f32(dlt, norm));
    const float64x2_t lo = vcvt_f64_f32(vget_low_f32(dlt)), hi = vcvt_high_f64_f32(dlt);
    *a0 = vfmaq_f64(*a0, lo, lo); /* the square of a float is exact in double */
    *a1 = vfmaq_f64(*a1, hi, hi);
}

float loss_mse__neon(size_t count, const float *pred, const float *target, float *grad) {
    const float32x4_t norm = vdupq_n_f32((float)(2.0 / (double)count));
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = vdupq_n_f64(0.0);
    size_t i = 0;
    for (; i + 4 <= count; i += 4) mse4(pred + i, target + i, grad ? grad + i : NULL, norm, &a0, &a1);
    if (i < count) { /* zero-padded lanes add 0 */
        float tp[4] = {0}, tt[4] = {0}, tg[4];
        for (size_t k = 0; k < count - i; k++) tp[k] = pred[i + k], tt[k] = target[i + k];
        mse4(tp, tt, tg, norm, &a0, &a1);
        if (grad)
            for (size_t k = 0; k < count - i; k++) grad[i + k] = tg[k];
    }
    return (float)(vaddvq_f64(vaddq_f64(a0, a1)) / (double)count);
}

LB_INLINE void bce4(uint32x4_t valid, const float *pred, const float *target, float *grad, float32x4_t inv, float64x2_t *a0,
             float64x2_t *a1) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    const float32x4_t z = vld1q_f32(pred), t = vld1q_f32(target);
    const uint32x4_t pos = vcgeq_f32(z, vdupq_n_f32(0.0f));
    const float32x4_t az = vabsq_f32(z), omt = vsubq_f32(one, t);
    const float32x4_t e = exp_nonpos(vnegq_f32(az));
    const float32x4_t lin = vbslq_f32(pos, vmulq_f32(z, omt), vmulq_f32(az, t));
    float32x4_t l = vaddq_f32(lin, log1p_unit(e));
    l = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(l), valid)); /* unused tail lanes add 0 */
    acc_pd(a0, a1, l);
    if (grad) {
        const float32x4_t er = vdivq_f32(e, vaddq_f32(one, e));
        const float32x4_t g = vbslq_f32(pos, vsubq_f32(omt, er), vsubq_f32(er, t));
        vst1q_f32(grad, vmulq_f32(g, inv));
    }
}

float loss_bce_logits__neon(size_t count, const float *pred, const float *target, float *grad) {
    const float32x4_t inv = vdupq_n_f32((float)(1.0 / (double)count));
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = vdupq_n_f64(0.0);
    const uint32x4_t all = vdupq_n_u32(~0u);
    size_t i = 0;
    for (; i + 4 <= count; i += 4) bce4(all, pred + i, target + i, grad ? grad + i : NULL, inv, &a0, &a1);
    if (i < count) {
        float tp[4] = {0}, tt[4] = {0}, tg[4];
        for (size_t k = 0; k < count - i; k++) tp[k] = pred[i + k], tt[k] = target[i + k];
        bce4(lanes(count - i), tp, tt, tg, inv, &a0, &a1);
        if (grad)
            for (size_t k = 0; k < count - i; k++) grad[i + k] = tg[k];
    }
    return (float)(vaddvq_f64(vaddq_f64(a0, a1)) / (double)count);
}

/* Activations, AArch64 NEON (ASIMD, FMA).  4 floats per vector; the 1..3-float tail goes through
 * a small stack buffer so that it takes exactly the vector path's arithmetic.  In-place safe. */
#include <arm_neon.h>
#include "kernels/act/act.h"

LB_INLINE float32x4_t ld_tail(const float *p, size_t r) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (size_t k = 0; k < r; k++) t[k] = p[k];
    return vld1q_f32(t);
}
LB_INLINE void st_tail(float *p, float32x4_t v, size_t r) {
    float t[4];
    vst1q_f32(t, v);
    for (size_t k = 0; k < r; k++) p[k] = t[k];
}

/* x > 0 ? x : slope*x (NaN takes the slope branch, as in the reference). */
LB_INLINE float32x4_t lrelu_v(float32x4_t x, float32x4_t slope) {
    return vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), x, vmulq_f32(x, slope));
}

void act_lrelu_fwd__neon(size_t n, float slope, const float *x, float *y) {
    const float32x4_t vs = vdupq_n_f32(slope);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
        float32x4_t c = vld1q_f32(x + i + 8), d = vld1q_f32(x + i + 12);
        vst1q_f32(y + i, lrelu_v(a, vs));
        vst1q_f32(y + i + 4, lrelu_v(b, vs));
        vst1q_f32(y + i + 8, lrelu_v(c, vs));
        vst1q_f32(y + i + 12, lrelu_v(d, vs));
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, lrelu_v(vld1q_f32(x + i), vs));
    if (i < n) st_tail(y + i, lrelu_v(ld_tail(x + i, n - i), vs), n - i);
}

LB_INLINE float32x4_t lrelu_bwd_v(float32x4_t x, float32x4_t gy, float32x4_t slope) {
    return vmulq_f32(gy, vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), vdupq_n_f32(1.0f), slope));
}

void act_lrelu_bwd__neon(size_t n, float slope, const float *x, const float *gy, float *gx) {
    const float32x4_t vs = vdupq_n_f32(slope);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t a = lrelu_bwd_v(vld1q_f32(x + i), vld1q_f32(gy + i), vs);
        float32x4_t b = lrelu_bwd_v(vld1q_f32(x + i + 4), vld1q_f32(gy + i + 4), vs);
        vst1q_f32(gx + i, a);
        vst1q_f32(gx + i + 4, b);
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(gx + i, lrelu_bwd_v(vld1q_f32(x + i), vld1q_f32(gy + i), vs));
    if (i < n) st_tail(gx + i, lrelu_bwd_v(ld_tail(x + i, n - i), ld_tail(gy + i, n - i), vs), n - i);
}

/* exp(a) for a <= 0 (NaN propagates): the Cephes polynomial of act-avx2.c after a = n ln2 + r;
 * 2^n for n down to -150 is applied as two normal factors 2^(n/2) 2^(n-n/2), so the only
 * rounding into the denormals is the final multiply. */
LB_INLINE float32x4_t exp_nonpos(float32x4_t a) {
    a = vmaxq_f32(vdupq_n_f32(-104.0f), a); /* FMAX returns NaN when either operand is NaN */
    const float32x4_t nf = vrndnq_f32(vmulq_f32(a, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(a, nf, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, nf, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(r, p, vmulq_f32(r, r));
    p = vaddq_f32(p, vdupq_n_f32(1.0f));
    const int32x4_t n = vcvtq_s32_f32(nf); /* NaN gives 0: harmless, p is NaN */
    const int32x4_t n1 = vshrq_n_s32(n, 1), n2 = vsubq_s32(n, n1);
    const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, vdupq_n_s32(127)), 23));
    const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, vdupq_n_s32(127)), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

/* (x >= 0 ? 1 : e) / (1 + e), e = exp(-|x|): the reference's formula. */
LB_INLINE float32x4_t sigmoid_v(float32x4_t x) {
    const float32x4_t e = exp_nonpos(vnegq_f32(vabsq_f32(x)));
    const float32x4_t num = vbslq_f32(vcgeq_f32(x, vdupq_n_f32(0.0f)), vdupq_n_f32(1.0f), e);
    return vdivq_f32(num, vaddq_f32(vdupq_n_f32(1.0f), e));
}

void act_sigmoid_fwd__neon(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t a = sigmoid_v(vld1q_f32(x + i)), b = sigmoid_v(vld1q_f32(x + i + 4));
        vst1q_f32(y + i, a);
        vst1q_f32(y + i + 4, b);
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, sigmoid_v(vld1q_f32(x + i)));
    if (i < n) st_tail(y + i, sigmoid_v(ld_tail(x + i, n - i)), n - i);
}

LB_INLINE float32x4_t sigmoid_bwd_v(float32x4_t y, float32x4_t gy) {
    return vmulq_f32(vmulq_f32(gy, y), vsubq_f32(vdupq_n_f32(1.0f), y));
}

void act_sigmoid_bwd__neon(size_t n, const float *y, const float *gy, float *gx) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t a = sigmoid_bwd_v(vld1q_f32(y + i), vld1q_f32(gy + i));
        float32x4_t b = sigmoid_bwd_v(vld1q_f32(y + i + 4), vld1q_f32(gy + i + 4));
        vst1q_f32(gx + i, a);
        vst1q_f32(gx + i + 4, b);
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(gx + i, sigmoid_bwd_v(vld1q_f32(y + i), vld1q_f32(gy + i)));
    if (i < n) st_tail(gx + i, sigmoid_bwd_v(ld_tail(y + i, n - i), ld_tail(gy + i, n - i)), n - i);
}

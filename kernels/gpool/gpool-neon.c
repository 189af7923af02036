/* Global pooling, AArch64 NEON.  The scheme of gpool-avx2.c with 4 lanes: the channel blocks of
 * gpool-driver.h (read its header), up to 8 vectors (32 channels, so c <= 32 streams each sample
 * once; bit-identical to the reference, which accumulates in site order) for any c, and a flat
 * stream folded to c lanes for the forward and the avg/sum backward when c is 1 or 2.  Max uses
 * the reference's strict `>` (compare + select), so ties and signed zeros resolve as it does.
 * Channel tails (c % 4) use lane and 64-bit loads/stores that never touch memory past the
 * tensor. */
#include <arm_neon.h>
#include "kernels/neon_part.h"
#include "kernels/gpool/gpool.h"

#define VF float32x4_t
#define VL 4
#define VI uint32x4_t
#define VMASK int
#define V_TAIL(r) (r)
#define NB_MAX 8
#define SPLIT_FULL 1
#define ldv(p, full, r) ((full) ? vld1q_f32(p) : ld_part(p, r))
#define stv(p, v, full, r) ((full) ? vst1q_f32(p, v) : st_part(p, v, r))
#define v_zero() vdupq_n_f32(0.0f)
#define v_set1(x) vdupq_n_f32(x)
#define v_div(a, b) vdivq_f32(a, b)
#define v_idx_zero() vdupq_n_u32(0)
#define v_idx_next(pv, p) vdupq_n_u32((uint32_t)(p))
#define v_idx_store(at, idx) vst1q_s32(at, vreinterpretq_s32_u32(idx))

LB_INLINE void v_argmax_step(float32x4_t *m, uint32x4_t *idx, float32x4_t v, uint32x4_t pv) {
    const uint32x4_t gt = vcgtq_f32(v, *m);
    *m = vbslq_f32(gt, v, *m);
    *idx = vbslq_u32(gt, pv, *idx);
}

/* a op b as the reference does it: max keeps a unless b > a. */
LB_INLINE float32x4_t op(float32x4_t a, float32x4_t b, int MAX) {
    return MAX ? vbslq_f32(vcgtq_f32(b, a), b, a) : vaddq_f32(a, b);
}
static inline int small_c(int C) { return C <= 2; }

/* ---- c in {1, 2}: the sample is one flat stream; lane l accumulates channel l % c ---- */
LB_INLINE void small_fwd(const float *x, float *o, int hw, int C, int kind) {
    const int MAX = kind == GPOOL_MAX;
    const size_t len = (size_t)hw * C;
    const float id = MAX ? -__builtin_inff() : 0.0f;
    float32x4_t a0 = vdupq_n_f32(id), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= len; i += 16) {
        a0 = op(a0, vld1q_f32(x + i), MAX);
        a1 = op(a1, vld1q_f32(x + i + 4), MAX);
        a2 = op(a2, vld1q_f32(x + i + 8), MAX);
        a3 = op(a3, vld1q_f32(x + i + 12), MAX);
    }
    for (; i + 4 <= len; i += 4) a0 = op(a0, vld1q_f32(x + i), MAX);
    float t[4];
    vst1q_f32(t, op(op(a0, a1, MAX), op(a2, a3, MAX), MAX));
    for (; i < len; i++) { /* 0..3 leftovers: i % C is their channel; len % 4 is a multiple of C */
        const size_t l = i % 4;
        t[l] = MAX ? (x[i] > t[l] ? x[i] : t[l]) : t[l] + x[i];
    }
    for (int c = 0; c < C; c++) {
        float s = t[c];
        for (int l = c + C; l < 4; l += C) s = MAX ? (t[l] > s ? t[l] : s) : s + t[l];
        if (kind == GPOOL_AVG) s /= (float)hw;
        o[c] = s;
    }
}

LB_INLINE void small_bcast(const float *g, float *gi, int hw, int C, int avg) {
    float gc[2];
    for (int c = 0; c < C; c++) gc[c] = avg ? g[c] / (float)hw : g[c];
    const float32x4_t gp = C == 1 ? vdupq_n_f32(gc[0]) : vcombine_f32(vld1_f32(gc), vld1_f32(gc));
    const size_t len = (size_t)hw * C;
    size_t i = 0;
    for (; i + 4 <= len; i += 4) vst1q_f32(gi + i, gp);
    for (; i < len; i++) gi[i] = gc[i % C];
}

/* Max goes through the blocks for every c (a small c is one partial vector). */
LB_INLINE int small_bwd_done(const float *x, const float *g, float *gi, int hw, int C, int kind) {
    if (kind == GPOOL_MAX || !small_c(C)) return 0;
    small_bcast(g, gi, hw, C, kind == GPOOL_AVG);
    return 1;
}

#include "kernels/gpool/gpool-driver.h"

void gpool_fwd__neon(const gpool_desc *d, const float *in, float *out) { gpool_fwd_any(d, in, out); }

void gpool_bwd__neon(const gpool_desc *d, const float *in, const float *gout, float *gin) { gpool_bwd_any(d, in, gout, gin); }

/* Global pooling, AArch64 NEON.  The scheme of gpool-avx2.c with 4 lanes: channel blocks of up to
 * 8 vectors (32 channels, so c <= 32 streams each sample once; bit-identical to the reference,
 * which accumulates in site order) for any c, and a flat stream folded to c lanes for the forward
 * and the avg/sum backward when c is 1 or 2.  Max uses the reference's strict `>` (compare +
 * select), so ties and signed zeros resolve as it does.  Channel tails (c % 4) use lane and
 * 64-bit loads/stores that never touch memory past the tensor. */
#include <arm_neon.h>
#include "kernels/neon_part.h"
#include "kernels/gpool/gpool.h"

/* Vector j of a block of NB: full unless it is the last one and the block is not FULL. */
LB_INLINE float32x4_t ldj(const float *p, int j, int NB, int FULL, int r) {
    return (FULL || j < NB - 1) ? vld1q_f32(p) : ld_part(p, r);
}
LB_INLINE void stj(float *p, float32x4_t v, int j, int NB, int FULL, int r) {
    if (FULL || j < NB - 1) vst1q_f32(p, v);
    else st_part(p, v, r);
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

/* ---- channel blocks ---- */
#define NB_MAX 8
#define DISPATCH_NB(nb, BODY)                                                                       \
    switch (nb) {                                                                                   \
    case 1: BODY(1); break; case 2: BODY(2); break; case 3: BODY(3); break; case 4: BODY(4); break; \
    case 5: BODY(5); break; case 6: BODY(6); break; case 7: BODY(7); break; default: BODY(8); break; \
    }
/* Channel blocks [c0, c0 + 4*nb); the last vector is full (FULL) or holds rem_ lanes. */
#define FOR_BLOCKS(C, BODY_BLOCK)                                                              \
    for (int c0 = 0; c0 < (C); c0 += 4 * NB_MAX) {                                             \
        int nv_ = ((C) - c0 + 3) / 4;                                                          \
        int nb = nv_ < NB_MAX ? nv_ : NB_MAX;                                                  \
        int rem_ = (C) - c0 - 4 * (nb - 1) < 4 ? (C) - c0 - 4 * (nb - 1) : 4;                  \
        if (rem_ == 4) { const int FULL = 1; BODY_BLOCK; }                                    \
        else { const int FULL = 0; BODY_BLOCK; }                                              \
    }

LB_INLINE void block_fwd(const float *x, float *o, int hw, int C, int NB, int FULL, int r, int kind) {
    const int MAX = kind == GPOOL_MAX;
    float32x4_t a[NB_MAX];
    for (int j = 0; j < NB; j++) a[j] = ldj(x + 4 * j, j, NB, FULL, r);
    for (int p = 1; p < hw; p++) {
        const float *xp = x + (size_t)p * C;
        for (int j = 0; j < NB; j++) a[j] = op(a[j], ldj(xp + 4 * j, j, NB, FULL, r), MAX);
    }
    for (int j = 0; j < NB; j++) {
        if (kind == GPOOL_AVG) a[j] = vdivq_f32(a[j], vdupq_n_f32((float)hw));
        stj(o + 4 * j, a[j], j, NB, FULL, r);
    }
}

LB_INLINE void fwd_kind(const gpool_desc *d, const float *in, float *out, int kind) {
    const int C = d->c, hw = d->hw;
    for (int n = 0; n < d->n; n++) {
        const float *x = in + (size_t)n * hw * C;
        float *o = out + (size_t)n * C;
        if (small_c(C)) { small_fwd(x, o, hw, C, kind); continue; }
#define FWD(NB) block_fwd(x + c0, o + c0, hw, C, NB, FULL, rem_, kind)
        FOR_BLOCKS(C, DISPATCH_NB(nb, FWD))
#undef FWD
    }
}

void gpool_fwd__neon(const gpool_desc *d, const float *in, float *out) {
    if (d->kind == GPOOL_MAX) fwd_kind(d, in, out, GPOOL_MAX);
    else if (d->kind == GPOOL_SUM) fwd_kind(d, in, out, GPOOL_SUM);
    else fwd_kind(d, in, out, GPOOL_AVG);
}

LB_INLINE void block_bcast(const float *g, float *gi, int hw, int C, int NB, int FULL, int r, int avg) {
    float32x4_t gv[NB_MAX];
    for (int j = 0; j < NB; j++) {
        gv[j] = ldj(g + 4 * j, j, NB, FULL, r);
        if (avg) gv[j] = vdivq_f32(gv[j], vdupq_n_f32((float)hw));
    }
    for (int p = 0; p < hw; p++)
        for (int j = 0; j < NB; j++) stj(gi + (size_t)p * C + 4 * j, gv[j], j, NB, FULL, r);
}

/* First site of the maximum per channel (strict >, as the reference), found in the pass that
 * zeroes gi; then only those C elements are written. */
LB_INLINE void block_argmax(const float *x, const float *g, float *gi, int hw, int C, int NB, int FULL, int r) {
    float32x4_t m[NB_MAX];
    uint32x4_t idx[NB_MAX];
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (int j = 0; j < NB_MAX; j++) idx[j] = vdupq_n_u32(0); /* all of them: quiets -Wmaybe-uninitialized */
    for (int j = 0; j < NB; j++) {
        m[j] = ldj(x + 4 * j, j, NB, FULL, r);
        stj(gi + 4 * j, zero, j, NB, FULL, r);
    }
    for (int p = 1; p < hw; p++) {
        const uint32x4_t pv = vdupq_n_u32((uint32_t)p);
        for (int j = 0; j < NB; j++) {
            stj(gi + (size_t)p * C + 4 * j, zero, j, NB, FULL, r);
            const float32x4_t v = ldj(x + (size_t)p * C + 4 * j, j, NB, FULL, r);
            const uint32x4_t gt = vcgtq_f32(v, m[j]);
            m[j] = vbslq_f32(gt, v, m[j]);
            idx[j] = vbslq_u32(gt, pv, idx[j]);
        }
    }
    uint32_t at[NB_MAX * 4];
    for (int j = 0; j < NB; j++) vst1q_u32(at + 4 * j, idx[j]);
    const int nl = 4 * (NB - 1) + r;
    for (int l = 0; l < nl; l++) gi[(size_t)at[l] * C + l] = g[l];
}

LB_INLINE void bwd_kind(const gpool_desc *d, const float *in, const float *gout, float *gin, int kind) {
    const int C = d->c, hw = d->hw;
    for (int n = 0; n < d->n; n++) {
        const float *x = kind == GPOOL_MAX ? in + (size_t)n * hw * C : NULL;
        const float *g = gout + (size_t)n * C;
        float *gi = gin + (size_t)n * hw * C;
        if (kind == GPOOL_MAX) { /* small c too: a block of one partial vector */
#define ARGMAX(NB) block_argmax(x + c0, g + c0, gi + c0, hw, C, NB, FULL, rem_)
            FOR_BLOCKS(C, DISPATCH_NB(nb, ARGMAX))
#undef ARGMAX
        } else if (small_c(C)) {
            small_bcast(g, gi, hw, C, kind == GPOOL_AVG);
        } else {
#define BCAST(NB) block_bcast(g + c0, gi + c0, hw, C, NB, FULL, rem_, kind == GPOOL_AVG)
            FOR_BLOCKS(C, DISPATCH_NB(nb, BCAST))
#undef BCAST
        }
    }
}

void gpool_bwd__neon(const gpool_desc *d, const float *in, const float *gout, float *gin) {
    if (d->kind == GPOOL_MAX) bwd_kind(d, in, gout, gin, GPOOL_MAX);
    else if (d->kind == GPOOL_SUM) bwd_kind(d, in, gout, gin, GPOOL_SUM);
    else bwd_kind(d, in, gout, gin, GPOOL_AVG);
}

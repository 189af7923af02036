/* The channel-block loops of gpool-avx2.c, gpool-avx512.c and gpool-neon.c, written once
 * (BLIS-style: loops here, the vector primitives and the small-c paths per ISA).  A block holds up
 * to NB_MAX channel vectors in registers, so each sample is streamed once, site after site, in
 * the reference's site order (bit-identical results).  The including file defines, then includes
 * this header:
 *   VF, VL, VI          the float vector type, its lane count, and a vector of 32-bit site indices;
 *   VMASK, V_TAIL(r)    what describes a block's last, partial vector of r (1..VL) lanes;
 *   NB_MAX              vectors per block (8 or 10);
 *   SPLIT_FULL          1: blocks whose last vector is full get their own unmasked instantiation;
 *                       0: one instantiation, the full last vector as an all-lanes mask;
 *   ldv(p, full, m) stv(p, v, full, m)  a vector, or only the lanes m when !full (zeros above);
 *   v_zero() v_set1(x) v_div(a, b) op(a, b, MAX)  (op: add, or the ISA's form of the reference's
 *                       max step);
 *   v_idx_zero() v_idx_next(pv, p) v_idx_store(at, idx)  site indices: all 0, the vector of site p
 *                       (pv: that of site p - 1), stored to int32_t at[VL];
 *   v_argmax_step(&m, &idx, v, pv)  where v > m (strict, as the reference): m = v, idx = pv;
 *   small_c(C), small_fwd(x, o, hw, C, kind)  the ISA's flat-stream forward for small c;
 *   small_bwd_done(x, g, gi, hw, C, kind)  does the backward of one sample when the ISA has a
 *                       small-c path for it, and says whether it did.
 * It defines gpool_fwd_any and gpool_bwd_any, which the ISA's entry points call.  NB, FULL and
 * kind are compile-time constants in every instantiation. */
#pragma once
#include "kernels/gpool/gpool.h"

/* Calls BODY(NB) with NB a compile-time constant 1..NB_MAX. */
#if NB_MAX == 10
#define NB_TOP(BODY) case 8: BODY(8); break; case 9: BODY(9); break; default: BODY(10); break;
#elif NB_MAX == 8
#define NB_TOP(BODY) default: BODY(8); break;
#else
#error "NB_MAX: 8 or 10"
#endif
#define DISPATCH_NB(nb, BODY)                                                                       \
    switch (nb) {                                                                                   \
    case 1: BODY(1); break; case 2: BODY(2); break; case 3: BODY(3); break; case 4: BODY(4); break; \
    case 5: BODY(5); break; case 6: BODY(6); break; case 7: BODY(7); break; NB_TOP(BODY)            \
    }

/* Channel blocks [c0, c0 + VL*nb); the last vector is full (FULL) or holds rem_ lanes (tm). */
#define FOR_BLOCKS(C, BODY_BLOCK)                                                              \
    for (int c0 = 0; c0 < (C); c0 += VL * NB_MAX) {                                            \
        int nv_ = ((C) - c0 + VL - 1) / VL;                                                    \
        int nb = nv_ < NB_MAX ? nv_ : NB_MAX;                                                  \
        int rem_ = (C) - c0 - VL * (nb - 1) < VL ? (C) - c0 - VL * (nb - 1) : VL;              \
        VMASK tm = V_TAIL(rem_);                                                               \
        if (SPLIT_FULL && rem_ == VL) { const int FULL = 1; BODY_BLOCK; }                      \
        else { const int FULL = 0; BODY_BLOCK; }                                               \
    }

/* Vector j of a block of NB: full unless it is the last one and the block is not FULL. */
#define LDJ(p, j) ldv(p, FULL || (j) < NB - 1, tm)
#define STJ(p, v, j) stv(p, v, FULL || (j) < NB - 1, tm)

LB_INLINE void block_fwd(const float *x, float *o, int hw, int C, int NB, int FULL, VMASK tm, int kind) {
    const int MAX = kind == GPOOL_MAX;
    VF a[NB_MAX];
    for (int j = 0; j < NB; j++) a[j] = LDJ(x + VL * j, j);
    for (int p = 1; p < hw; p++) {
        const float *xp = x + (size_t)p * C;
        for (int j = 0; j < NB; j++) a[j] = op(a[j], LDJ(xp + VL * j, j), MAX);
    }
    for (int j = 0; j < NB; j++) {
        if (kind == GPOOL_AVG) a[j] = v_div(a[j], v_set1((float)hw));
        STJ(o + VL * j, a[j], j);
    }
}

LB_INLINE void fwd_kind(const gpool_desc *d, const float *in, float *out, int kind) {
    const int C = d->c, hw = d->hw;
    for (int n = 0; n < d->n; n++) {
        const float *x = in + (size_t)n * hw * C;
        float *o = out + (size_t)n * C;
        if (small_c(C)) { small_fwd(x, o, hw, C, kind); continue; }
#define FWD(NB) block_fwd(x + c0, o + c0, hw, C, NB, FULL, tm, kind)
        FOR_BLOCKS(C, DISPATCH_NB(nb, FWD))
#undef FWD
    }
}

/* avg/sum: g (over hw for avg) broadcast to every site. */
LB_INLINE void block_bcast(const float *g, float *gi, int hw, int C, int NB, int FULL, VMASK tm, int avg) {
    VF gv[NB_MAX];
    for (int j = 0; j < NB; j++) {
        gv[j] = LDJ(g + VL * j, j);
        if (avg) gv[j] = v_div(gv[j], v_set1((float)hw));
    }
    for (int p = 0; p < hw; p++)
        for (int j = 0; j < NB; j++) STJ(gi + (size_t)p * C + VL * j, gv[j], j);
}

/* max: one pass finds, per channel, the first site holding the maximum (strict >, as the
 * reference) while it zeroes gi; then only those C elements are written.  last_lanes: the
 * channels of the block's last vector. */
LB_INLINE void block_argmax(const float *x, const float *g, float *gi, int hw, int C, int NB, int FULL, VMASK tm,
                            int last_lanes) {
    VF m[NB_MAX];
    VI idx[NB_MAX];
    for (int j = 0; j < NB; j++) {
        m[j] = LDJ(x + VL * j, j);
        idx[j] = v_idx_zero();
        STJ(gi + VL * j, v_zero(), j);
    }
    VI pv = v_idx_zero();
    for (int p = 1; p < hw; p++) {
        pv = v_idx_next(pv, p);
        for (int j = 0; j < NB; j++) {
            STJ(gi + (size_t)p * C + VL * j, v_zero(), j);
            v_argmax_step(&m[j], &idx[j], LDJ(x + (size_t)p * C + VL * j, j), pv);
        }
    }
    /* one array for all blocks: with one per block, gcc kept idx[] in memory inside the loop */
    int32_t at[NB_MAX * VL];
    for (int j = 0; j < NB; j++) v_idx_store(at + VL * j, idx[j]);
    const int nl = VL * (NB - 1) + last_lanes;
    for (int l = 0; l < nl; l++) gi[(size_t)at[l] * C + l] = g[l];
}

LB_INLINE void bwd_kind(const gpool_desc *d, const float *in, const float *gout, float *gin, int kind) {
    const int C = d->c, hw = d->hw;
    for (int n = 0; n < d->n; n++) {
        const float *x = kind == GPOOL_MAX ? in + (size_t)n * hw * C : NULL;
        const float *g = gout + (size_t)n * C;
        float *gi = gin + (size_t)n * hw * C;
        if (small_bwd_done(x, g, gi, hw, C, kind)) continue;
        if (kind == GPOOL_MAX) {
#define ARGMAX(NB) block_argmax(x + c0, g + c0, gi + c0, hw, C, NB, FULL, tm, rem_)
            FOR_BLOCKS(C, DISPATCH_NB(nb, ARGMAX))
#undef ARGMAX
        } else {
#define BCAST(NB) block_bcast(g + c0, gi + c0, hw, C, NB, FULL, tm, kind == GPOOL_AVG)
            FOR_BLOCKS(C, DISPATCH_NB(nb, BCAST))
#undef BCAST
        }
    }
}

/* Each kind as its own instantiation. */
LB_INLINE void gpool_fwd_any(const gpool_desc *d, const float *in, float *out) {
    if (d->kind == GPOOL_MAX) fwd_kind(d, in, out, GPOOL_MAX);
    else if (d->kind == GPOOL_SUM) fwd_kind(d, in, out, GPOOL_SUM);
    else fwd_kind(d, in, out, GPOOL_AVG);
}

LB_INLINE void gpool_bwd_any(const gpool_desc *d, const float *in, const float *gout, float *gin) {
    if (d->kind == GPOOL_MAX) bwd_kind(d, in, gout, gin, GPOOL_MAX);
    else if (d->kind == GPOOL_SUM) bwd_kind(d, in, gout, gin, GPOOL_SUM);
    else bwd_kind(d, in, gout, gin, GPOOL_AVG);
}

/* Pooling, AArch64 NEON: the loops of pool-driver.h (read its header) over 4-lane vectors.  For
 * k = s = 2 with c in {1, 2} the driver's rows start with de-interleaving loads (vld2q/vld4q), so
 * that a vector holds 4 output sites instead of one partial site.  The reference's operation order
 * throughout (avg: window sum in row-major order from the first element, times 1/k^2; max: the
 * reference's strict `>` as compare + select; backward: the first maximum in row-major order), so
 * integer data give its results bit for bit.  Channel tails (c % 4) use lane and 64-bit accesses
 * that never touch memory past the tensor. */
#include <string.h>
#include <arm_neon.h>
#include "kernels/neon_part.h"
#include "kernels/pool/pool.h"

#define VF float32x4_t
#define VL 4
#define VMASK int
#define V_TAIL(r) (r)
#define VSEL uint32x4_t
#define v_set1(x) vdupq_n_f32(x)
#define v_add(a, b) vaddq_f32(a, b)
#define v_mul(a, b) vmulq_f32(a, b)
#define v_max(acc, v) vmax_ref(acc, v)
#define ldv(p, FULL, r) ld(p, FULL, r)
#define stv(p, v, FULL, r) st(p, v, FULL, r)
#define v_sel_none() vdupq_n_u32(0)

/* FULL is a compile-time constant after inlining: plain loads/stores except in the tail. */
LB_INLINE float32x4_t ld(const float *p, int FULL, int r) { return FULL ? vld1q_f32(p) : ld_part(p, r); }
LB_INLINE void st(float *p, float32x4_t v, int FULL, int r) {
    if (FULL) vst1q_f32(p, v);
    else st_part(p, v, r);
}
/* The reference's max step: acc stays unless v > acc. */
LB_INLINE float32x4_t vmax_ref(float32x4_t acc, float32x4_t v) { return vbslq_f32(vcgtq_f32(v, acc), v, acc); }
LB_INLINE float32x4_t and_mask(uint32x4_t m, float32x4_t v) {
    return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(v)));
}
LB_INLINE uint32x4_t v_first_eq(float32x4_t x, float32x4_t mx, uint32x4_t *taken, int FULL, int r) {
    const uint32x4_t sel = vbicq_u32(vceqq_f32(x, mx), *taken);
    *taken = vorrq_u32(*taken, sel);
    return sel;
}

LB_INLINE void v_grad_st(float *p, float32x4_t g, uint32x4_t sel, int avg, int ACC, int FULL, int r) {
    const float32x4_t v = avg ? g : and_mask(sel, g);
    /* adding +0 where not selected leaves the (never -0) accumulated value unchanged */
    st(p, ACC ? vaddq_f32(ld(p, FULL, r), v) : v, FULL, r);
}

/* ---- k = s = 2 microkernels (the loops: pool-driver.h) ---- */


/* The window a0 a1 (row y) a2 a3 (row y+1), reference order. */
LB_INLINE float32x4_t k2_reduce(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3, int avg) {
    return avg ? vmulq_f32(vaddq_f32(vaddq_f32(vaddq_f32(a0, a1), a2), a3), vdupq_n_f32(0.25f))
               : vmax_ref(vmax_ref(vmax_ref(a0, a1), a2), a3);
}

/* Gradients of the window: avg: g/4 everywhere; max: g at the first maximum in window order. */
LB_INLINE void k2_grads(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3, float32x4_t gv, int avg,
                     float32x4_t e[4]) {
    if (avg) {
        gv = vmulq_f32(gv, vdupq_n_f32(0.25f));
        e[0] = e[1] = e[2] = e[3] = gv;
        return;
    }
    const float32x4_t mx = vmax_ref(vmax_ref(vmax_ref(a0, a1), a2), a3);
    const uint32x4_t e0 = vceqq_f32(a0, mx);
    const uint32x4_t e1 = vbicq_u32(vceqq_f32(a1, mx), e0);
    uint32x4_t f = vorrq_u32(e0, e1);
    const uint32x4_t e2 = vbicq_u32(vceqq_f32(a2, mx), f);
    f = vorrq_u32(f, e2);
    const uint32x4_t e3 = vbicq_u32(vceqq_f32(a3, mx), f);
    e[0] = and_mask(e0, gv);
    e[1] = and_mask(e1, gv);
    e[2] = and_mask(e2, gv);
    e[3] = and_mask(e3, gv);
}

LB_INLINE void k2_fwd_vec(const float *a, const float *b, float *o, size_t C, int FULL, int r, int avg) {
    st(o, k2_reduce(ld(a, FULL, r), ld(a + C, FULL, r), ld(b, FULL, r), ld(b + C, FULL, r), avg), FULL, r);
}

LB_INLINE void k2_bwd_vec(const float *a, const float *b, const float *g, float *ga, float *gb, size_t C, int FULL, int r,
                       int avg) {
    float32x4_t e[4];
    const float32x4_t z = vdupq_n_f32(0.0f);
    if (avg) k2_grads(z, z, z, z, ld(g, FULL, r), 1, e);
    else k2_grads(ld(a, FULL, r), ld(a + C, FULL, r), ld(b, FULL, r), ld(b + C, FULL, r), ld(g, FULL, r), 0, e);
    st(ga, e[0], FULL, r);
    st(ga + C, e[1], FULL, r);
    st(gb, e[2], FULL, r);
    st(gb + C, e[3], FULL, r);
}

/* c = 1: vld2q splits 8 consecutive sites of a row into even (window column 0) and odd (column 1)
 * sites, so one vector covers 4 output sites.  c = 2: vld4q splits 16 floats (8 sites) into
 * channel 0 / channel 1 of the even and of the odd sites, 4 output sites per vector pair.
 * Returns the number of output columns done; the caller finishes the row per site. */
LB_INLINE int k2s_fwd_row(const float *r0, const float *r1, float *o, int ow, int C, int avg) {
    int x = 0;
    if (C == 1)
        for (; x + 4 <= ow; x += 4) {
            const float32x4x2_t p = vld2q_f32(r0 + 2 * x), q = vld2q_f32(r1 + 2 * x);
            vst1q_f32(o + x, k2_reduce(p.val[0], p.val[1], q.val[0], q.val[1], avg));
        }
    else
        for (; x + 4 <= ow; x += 4) {
            const float32x4x4_t p = vld4q_f32(r0 + 4 * x), q = vld4q_f32(r1 + 4 * x);
            const float32x4x2_t res = {{k2_reduce(p.val[0], p.val[2], q.val[0], q.val[2], avg),
                                        k2_reduce(p.val[1], p.val[3], q.val[1], q.val[3], avg)}};
            vst2q_f32(o + 2 * x, res);
        }
    return x;
}

LB_INLINE int k2s_bwd_row(const float *r0, const float *r1, const float *g, float *g0, float *g1, int ow, int C, int avg) {
    int x = 0;
    float32x4_t e[4];
    const float32x4_t z = vdupq_n_f32(0.0f);
    if (C == 1)
        for (; x + 4 <= ow; x += 4) {
            if (avg) k2_grads(z, z, z, z, vld1q_f32(g + x), 1, e);
            else {
                const float32x4x2_t p = vld2q_f32(r0 + 2 * x), q = vld2q_f32(r1 + 2 * x);
                k2_grads(p.val[0], p.val[1], q.val[0], q.val[1], vld1q_f32(g + x), 0, e);
            }
            const float32x4x2_t s0 = {{e[0], e[1]}}, s1 = {{e[2], e[3]}};
            vst2q_f32(g0 + 2 * x, s0);
            vst2q_f32(g1 + 2 * x, s1);
        }
    else
        for (; x + 4 <= ow; x += 4) {
            const float32x4x2_t gg = vld2q_f32(g + 2 * x); /* channel 0, channel 1 of 4 output sites */
            float32x4_t f[4];
            if (avg) {
                k2_grads(z, z, z, z, gg.val[0], 1, e);
                k2_grads(z, z, z, z, gg.val[1], 1, f);
            } else {
                const float32x4x4_t p = vld4q_f32(r0 + 4 * x), q = vld4q_f32(r1 + 4 * x);
                k2_grads(p.val[0], p.val[2], q.val[0], q.val[2], gg.val[0], 0, e);
                k2_grads(p.val[1], p.val[3], q.val[1], q.val[3], gg.val[1], 0, f);
            }
            const float32x4x4_t s0 = {{e[0], f[0], e[1], f[1]}}, s1 = {{e[2], f[2], e[3], f[3]}};
            vst4q_f32(g0 + 4 * x, s0);
            vst4q_f32(g1 + 4 * x, s1);
        }
    return x;
}

LB_INLINE int k2_fwd_row(const float *r0, const float *r1, float *o, int ow, int C, int avg) {
    return C <= 2 ? k2s_fwd_row(r0, r1, o, ow, C, avg) : 0;
}
LB_INLINE int k2_bwd_row(const float *i0, const float *i1, const float *g, float *g0, float *g1, int ow, int C, int avg) {
    return C <= 2 ? k2s_bwd_row(i0, i1, g, g0, g1, ow, C, avg) : 0;
}

#include "kernels/pool/pool-driver.h"

void pool_fwd__neon(const pool_desc *d, const float *in, float *out) { pool_fwd_any(d, in, out); }

void pool_bwd__neon(const pool_desc *d, const float *in, const float *gout, float *gin) { pool_bwd_any(d, in, gout, gin); }

/* Pooling, AArch64 NEON.  The paths of pool-avx2.c with 4 lanes: k = s = 2 (the seed networks'
 * pools) goes one channel vector at a time with the window's four loads; c in {1, 2} there uses
 * de-interleaving loads (vld2q/vld4q) so that a vector holds 4 output sites instead of one partial
 * site; any other k, s goes per output site over the window.  The reference's operation order
 * throughout (avg: window sum in row-major order from the first element, times 1/k^2; max: the
 * reference's strict `>` as compare + select; backward: the first maximum in row-major order), so
 * integer data give its results bit for bit.  Channel tails (c % 4) use lane and 64-bit accesses
 * that never touch memory past the tensor. */
#include <string.h>
#include <arm_neon.h>
#include "kernels/neon_part.h"
#include "kernels/pool/pool.h"

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

LB_INLINE void fwd_site(const float *b, float *o, int k, size_t rs, int C, int NB, int FULL, int r, int avg,
                     float32x4_t inv) {
    float32x4_t a[4];
    for (int j = 0; j < NB; j++) a[j] = ld(b + 4 * j, FULL, r);
    for (int ky = 0; ky < k; ky++)
        for (int kx = (ky == 0); kx < k; kx++) {
            const float *p = b + ky * rs + (size_t)kx * C;
            for (int j = 0; j < NB; j++) {
                const float32x4_t v = ld(p + 4 * j, FULL, r);
                a[j] = avg ? vaddq_f32(a[j], v) : vmax_ref(a[j], v);
            }
        }
    for (int j = 0; j < NB; j++) st(o + 4 * j, avg ? vmulq_f32(a[j], inv) : a[j], FULL, r);
}

LB_INLINE void fwd_all(const pool_desc *d, const float *in, float *out, int avg, int KK) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, s = d->s, W = d->w;
    const int k = KK ? KK : d->k;
    const size_t rs = (size_t)W * C;
    const float32x4_t inv = vdupq_n_f32(1.0f / (float)(d->k * d->k));
    const int r = C % 4;
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const float *b = in + (((size_t)n * d->h + (size_t)y * s) * W + (size_t)x * s) * C;
                float *o = out + (((size_t)n * oh + y) * ow + x) * C;
                int c0 = 0;
                for (; c0 + 16 <= C; c0 += 16) fwd_site(b + c0, o + c0, k, rs, C, 4, 1, r, avg, inv);
                for (; c0 + 4 <= C; c0 += 4) fwd_site(b + c0, o + c0, k, rs, C, 1, 1, r, avg, inv);
                if (c0 < C) fwd_site(b + c0, o + c0, k, rs, C, 1, 0, r, avg, inv);
            }
}

/* ACC: accumulate (gin zeroed first; overlapping or gapped windows), else overwrite (s == k). */
LB_INLINE void bwd_site(const float *b, const float *g, float *gb, int k, size_t rs, int C, int NB, int FULL, int r,
                     int avg, float32x4_t inv, int ACC) {
    float32x4_t gv[4], m[4];
    uint32x4_t taken[4];
    for (int j = 0; j < NB; j++) {
        gv[j] = ld(g + 4 * j, FULL, r);
        if (avg) gv[j] = vmulq_f32(gv[j], inv);
        else m[j] = ld(b + 4 * j, FULL, r);
        taken[j] = vdupq_n_u32(0);
    }
    if (!avg)
        for (int ky = 0; ky < k; ky++)
            for (int kx = (ky == 0); kx < k; kx++)
                for (int j = 0; j < NB; j++) m[j] = vmax_ref(m[j], ld(b + ky * rs + (size_t)kx * C + 4 * j, FULL, r));
    for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++) {
            const size_t off = ky * rs + (size_t)kx * C;
            for (int j = 0; j < NB; j++) {
                float *p = gb + off + 4 * j;
                float32x4_t v = gv[j];
                if (!avg) { /* first lane-wise maximum in row-major window order */
                    const uint32x4_t sel = vbicq_u32(vceqq_f32(ld(b + off + 4 * j, FULL, r), m[j]), taken[j]);
                    taken[j] = vorrq_u32(taken[j], sel);
                    v = and_mask(sel, v);
                }
                /* adding +0 where not selected leaves the (never -0) accumulated value unchanged */
                st(p, ACC ? vaddq_f32(ld(p, FULL, r), v) : v, FULL, r);
            }
        }
}

LB_INLINE void bwd_all(const pool_desc *d, const float *in, const float *gout, float *gin, int avg, int KK, int ACC) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, s = d->s, W = d->w, H = d->h;
    const int k = KK ? KK : d->k;
    const size_t rs = (size_t)W * C;
    const float32x4_t inv = vdupq_n_f32(1.0f / (float)(d->k * d->k));
    const int r = C % 4;
    for (int n = 0; n < d->n; n++) {
        float *gn = gin + (size_t)n * H * rs;
        if (ACC) memset(gn, 0, (size_t)H * rs * sizeof *gn);
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                const size_t base = ((size_t)y * s * W + (size_t)x * s) * C;
                const float *b = avg ? NULL : in + (size_t)n * H * rs + base;
                const float *g = gout + (((size_t)n * oh + y) * ow + x) * C;
                float *gb = gn + base;
                int c0 = 0;
                for (; c0 + 16 <= C; c0 += 16)
                    bwd_site(avg ? b : b + c0, g + c0, gb + c0, k, rs, C, 4, 1, r, avg, inv, ACC);
                for (; c0 + 4 <= C; c0 += 4)
                    bwd_site(avg ? b : b + c0, g + c0, gb + c0, k, rs, C, 1, 1, r, avg, inv, ACC);
                if (c0 < C) bwd_site(avg ? b : b + c0, g + c0, gb + c0, k, rs, C, 1, 0, r, avg, inv, ACC);
            }
            if (!ACC && ow * k < W)
                for (int ky = 0; ky < k; ky++)
                    memset(gn + ((size_t)(y * k + ky) * W + (size_t)ow * k) * C, 0,
                           (size_t)(W - ow * k) * C * sizeof *gn);
        }
        if (!ACC && oh * k < H) memset(gn + (size_t)oh * k * rs, 0, (size_t)(H - oh * k) * rs * sizeof *gn);
    }
}

/* ---- k = s = 2, the seed networks' pools ---- */

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

LB_INLINE void k2_fwd(const pool_desc *d, const float *in, float *out, int avg) {
    const int oh = pool_oh(d), ow = pool_ow(d), W = d->w;
    const size_t C = (size_t)d->c, rs = (size_t)W * C;
    const int r = (int)(C % 4);
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++) {
            const float *r0 = in + ((size_t)n * d->h + 2 * (size_t)y) * rs, *r1 = r0 + rs;
            float *o = out + ((size_t)n * oh + y) * ow * C;
            const int x0 = C <= 2 ? k2s_fwd_row(r0, r1, o, ow, (int)C, avg) : 0;
            for (int x = x0; x < ow; x++) {
                const float *a = r0 + 2 * (size_t)x * C, *b = r1 + 2 * (size_t)x * C;
                float *ox = o + (size_t)x * C;
                size_t c = 0;
                for (; c + 4 <= C; c += 4) k2_fwd_vec(a + c, b + c, ox + c, C, 1, r, avg);
                if (c < C) k2_fwd_vec(a + c, b + c, ox + c, C, 0, r, avg);
            }
        }
}

LB_INLINE void k2_bwd(const pool_desc *d, const float *in, const float *gout, float *gin, int avg) {
    const int oh = pool_oh(d), ow = pool_ow(d), W = d->w, H = d->h;
    const size_t C = (size_t)d->c, rs = (size_t)W * C;
    const int r = (int)(C % 4);
    for (int n = 0; n < d->n; n++) {
        float *gn = gin + (size_t)n * H * rs;
        for (int y = 0; y < oh; y++) {
            const size_t r0 = 2 * (size_t)y * rs;
            const float *i0 = avg ? NULL : in + (size_t)n * H * rs + r0;
            const float *g = gout + ((size_t)n * oh + y) * ow * C;
            const int x0 = C <= 2 ? k2s_bwd_row(i0, avg ? NULL : i0 + rs, g, gn + r0, gn + r0 + rs, ow, (int)C, avg) : 0;
            for (int x = x0; x < ow; x++) {
                const size_t off = 2 * (size_t)x * C;
                const float *a = avg ? NULL : i0 + off, *b = avg ? NULL : i0 + off + rs;
                float *ga = gn + r0 + off, *gb = ga + rs;
                const float *gx = g + (size_t)x * C;
                size_t c = 0;
                for (; c + 4 <= C; c += 4)
                    k2_bwd_vec(avg ? a : a + c, avg ? b : b + c, gx + c, ga + c, gb + c, C, 1, r, avg);
                if (c < C) k2_bwd_vec(avg ? a : a + c, avg ? b : b + c, gx + c, ga + c, gb + c, C, 0, r, avg);
            }
            if (2 * ow < W) /* floor mode: the last column gets no gradient */
                for (int ky = 0; ky < 2; ky++)
                    memset(gn + r0 + ky * rs + 2 * (size_t)ow * C, 0, (size_t)(W - 2 * ow) * C * sizeof *gn);
        }
        if (2 * oh < H) memset(gn + 2 * (size_t)oh * rs, 0, (size_t)(H - 2 * oh) * rs * sizeof *gn);
    }
}

void pool2d_fwd__neon(const pool_desc *d, const float *in, float *out) {
    if (d->k == 2 && d->s == 2) {
        if (d->kind == POOL_AVG) k2_fwd(d, in, out, 1);
        else k2_fwd(d, in, out, 0);
        return;
    }
    if (d->kind == POOL_AVG) {
        if (d->k == 2) fwd_all(d, in, out, 1, 2);
        else fwd_all(d, in, out, 1, 0);
    } else {
        if (d->k == 2) fwd_all(d, in, out, 0, 2);
        else fwd_all(d, in, out, 0, 0);
    }
}

void pool2d_bwd__neon(const pool_desc *d, const float *in, const float *gout, float *gin) {
    if (d->k == 2 && d->s == 2) {
        if (d->kind == POOL_AVG) k2_bwd(d, in, gout, gin, 1);
        else k2_bwd(d, in, gout, gin, 0);
        return;
    }
    const int tiled = d->s == d->k;
    if (d->kind == POOL_AVG) {
        if (tiled && d->k == 2) bwd_all(d, in, gout, gin, 1, 2, 0);
        else if (tiled) bwd_all(d, in, gout, gin, 1, 0, 0);
        else bwd_all(d, in, gout, gin, 1, 0, 1);
    } else {
        if (tiled && d->k == 2) bwd_all(d, in, gout, gin, 0, 2, 0);
        else if (tiled) bwd_all(d, in, gout, gin, 0, 0, 0);
        else bwd_all(d, in, gout, gin, 0, 0, 1);
    }
}

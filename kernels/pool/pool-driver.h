/* The loops of pool-avx2.c, pool-avx512.c and pool-neon.c, written once (BLIS-style: loops here,
 * the vector primitives per ISA).  The including file defines, then includes this header:
 *   VF, VL              the float vector type and its lane count;
 *   VMASK               what describes a channel block's last, partial vector (AVX2: a lane mask,
 *                       AVX-512: a k-mask, NEON: its lane count), V_TAIL(r) makes one for r lanes;
 *   VSEL                a lane selection (AVX2, NEON: an all-ones/zeros vector; AVX-512: a k-mask);
 *   v_set1(x) v_add(a, b) v_mul(a, b) v_max(acc, v)  (v_max: the ISA's form of the reference's
 *                       max step);
 *   ldv(p, FULL, m) stv(p, v, FULL, m)  a vector, or only the lanes m when !FULL (zeros above);
 *   v_sel_none()        no lane selected;
 *   v_first_eq(x, mx, taken, FULL, m)  lanes where x == mx that `taken` does not hold yet; adds
 *                       them to *taken (the first maximum of a window in row-major order);
 *   v_grad_st(p, g, sel, avg, ACC, FULL, m)  writes g (avg: every lane; max: lanes sel, +0 or
 *                       nothing elsewhere) to p, added to p's value when ACC;
 *   k2_fwd_vec(a, b, o, C, FULL, m, avg), k2_bwd_vec(a, b, g, ga, gb, C, FULL, m, avg)  one channel
 *                       vector of a k = s = 2 window (rows a, b; columns +0, +C): the microkernels;
 *   k2_fwd_row(r0, r1, o, ow, C, avg), k2_bwd_row(i0, i1, g, g0, g1, ow, C, avg)  the output
 *                       columns of a k = s = 2 row an ISA does in a packed layout first (returns
 *                       how many; 0 for none).
 * It defines pool_fwd_any and pool_bwd_any, which the ISA's entry points call for every problem
 * they do not route to a packed path of their own.
 * FULL, NB, KK, avg, ACC are compile-time constants after inlining: full vectors carry no mask,
 * the window size 2 unrolls, and each (kind, tiling) is its own loop nest. */
#pragma once
#include <string.h>
#include "kernels/pool/pool.h"

/* One output site, NB channel vectors from b (the window origin) to o. */
LB_INLINE void fwd_site(const float *b, float *o, int k, size_t rs, int C, int NB, int FULL, VMASK tm, int avg, VF inv) {
    VF a[4];
    for (int j = 0; j < NB; j++) a[j] = ldv(b + VL * j, FULL, tm);
    for (int ky = 0; ky < k; ky++)
        for (int kx = (ky == 0); kx < k; kx++) {
            const float *p = b + ky * rs + (size_t)kx * C;
            for (int j = 0; j < NB; j++) {
                VF v = ldv(p + VL * j, FULL, tm);
                a[j] = avg ? v_add(a[j], v) : v_max(a[j], v);
            }
        }
    for (int j = 0; j < NB; j++) stv(o + VL * j, avg ? v_mul(a[j], inv) : a[j], FULL, tm);
}

/* KK: a compile-time window size (2), or 0 for d->k. */
LB_INLINE void fwd_all(const pool_desc *d, const float *in, float *out, int avg, int KK) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, s = d->s, W = d->w;
    const int k = KK ? KK : d->k;
    const size_t rs = (size_t)W * C;
    const VF inv = v_set1(1.0f / (float)(d->k * d->k));
    const VMASK tm = V_TAIL(C % VL);
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const float *b = in + (((size_t)n * d->h + (size_t)y * s) * W + (size_t)x * s) * C;
                float *o = out + (((size_t)n * oh + y) * ow + x) * C;
                int c0 = 0;
                for (; c0 + 4 * VL <= C; c0 += 4 * VL) fwd_site(b + c0, o + c0, k, rs, C, 4, 1, tm, avg, inv);
                for (; c0 + VL <= C; c0 += VL) fwd_site(b + c0, o + c0, k, rs, C, 1, 1, tm, avg, inv);
                if (c0 < C) fwd_site(b + c0, o + c0, k, rs, C, 1, 0, tm, avg, inv);
            }
}

/* Backward for one window, NB channel vectors.  ACC: accumulate into gin (overlapping or gapped
 * windows, gin zeroed first) instead of overwriting (s == k tiling). */
LB_INLINE void bwd_site(const float *b, const float *g, float *gb, int k, size_t rs, int C, int NB, int FULL, VMASK tm,
                     int avg, VF inv, int ACC) {
    VF gv[4], m[4];
    VSEL taken[4];
    for (int j = 0; j < NB; j++) {
        gv[j] = ldv(g + VL * j, FULL, tm);
        if (avg) gv[j] = v_mul(gv[j], inv);
        else m[j] = ldv(b + VL * j, FULL, tm);
        taken[j] = v_sel_none();
    }
    if (!avg)
        for (int ky = 0; ky < k; ky++)
            for (int kx = (ky == 0); kx < k; kx++)
                for (int j = 0; j < NB; j++) m[j] = v_max(m[j], ldv(b + ky * rs + (size_t)kx * C + VL * j, FULL, tm));
    for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++) {
            size_t off = ky * rs + (size_t)kx * C;
            for (int j = 0; j < NB; j++) {
                VSEL sel = v_sel_none();
                if (!avg) sel = v_first_eq(ldv(b + off + VL * j, FULL, tm), m[j], &taken[j], FULL, tm);
                v_grad_st(gb + off + VL * j, gv[j], sel, avg, ACC, FULL, tm);
            }
        }
}

LB_INLINE void bwd_all(const pool_desc *d, const float *in, const float *gout, float *gin, int avg, int KK, int ACC) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, s = d->s, W = d->w, H = d->h;
    const int k = KK ? KK : d->k;
    const size_t rs = (size_t)W * C;
    const VF inv = v_set1(1.0f / (float)(d->k * d->k));
    const VMASK tm = V_TAIL(C % VL);
    for (int n = 0; n < d->n; n++) {
        float *gn = gin + (size_t)n * H * rs;
        if (ACC) memset(gn, 0, (size_t)H * rs * sizeof *gn);
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                size_t base = ((size_t)y * s * W + (size_t)x * s) * C;
                const float *b = avg ? NULL : in + (size_t)n * H * rs + base;
                const float *g = gout + (((size_t)n * oh + y) * ow + x) * C;
                float *gb = gn + base;
                int c0 = 0;
                for (; c0 + 4 * VL <= C; c0 += 4 * VL)
                    bwd_site(avg ? b : b + c0, g + c0, gb + c0, k, rs, C, 4, 1, tm, avg, inv, ACC);
                for (; c0 + VL <= C; c0 += VL) bwd_site(avg ? b : b + c0, g + c0, gb + c0, k, rs, C, 1, 1, tm, avg, inv, ACC);
                if (c0 < C) bwd_site(avg ? b : b + c0, g + c0, gb + c0, k, rs, C, 1, 0, tm, avg, inv, ACC);
            }
            /* s == k tiling: the floor-mode leftover columns of these k rows get no gradient */
            if (!ACC && ow * k < W)
                for (int ky = 0; ky < k; ky++)
                    memset(gn + ((size_t)(y * k + ky) * W + (size_t)ow * k) * C, 0, (size_t)(W - ow * k) * C * sizeof *gn);
        }
        if (!ACC && oh * k < H) memset(gn + (size_t)oh * k * rs, 0, (size_t)(H - oh * k) * rs * sizeof *gn);
    }
}

/* ---- k = s = 2, the seed networks' pools: one channel vector at a time with the four window
 * vectors in registers; successive vectors are independent, so out-of-order execution overlaps
 * them.  (The generic path keeps per-window state in arrays that end up on the stack.) ---- */

LB_INLINE void k2_fwd(const pool_desc *d, const float *in, float *out, int avg) {
    const int oh = pool_oh(d), ow = pool_ow(d), W = d->w;
    const size_t C = (size_t)d->c, rs = (size_t)W * C;
    const VMASK tm = V_TAIL((int)(C % VL));
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++) {
            const float *r0 = in + ((size_t)n * d->h + 2 * (size_t)y) * rs, *r1 = r0 + rs;
            float *o = out + ((size_t)n * oh + y) * ow * C;
            for (int x = k2_fwd_row(r0, r1, o, ow, (int)C, avg); x < ow; x++) {
                const float *a = r0 + 2 * (size_t)x * C, *b = r1 + 2 * (size_t)x * C;
                float *ox = o + (size_t)x * C;
                size_t c = 0;
                for (; c + VL <= C; c += VL) k2_fwd_vec(a + c, b + c, ox + c, C, 1, tm, avg);
                if (c < C) k2_fwd_vec(a + c, b + c, ox + c, C, 0, tm, avg);
            }
        }
}

LB_INLINE void k2_bwd(const pool_desc *d, const float *in, const float *gout, float *gin, int avg) {
    const int oh = pool_oh(d), ow = pool_ow(d), W = d->w, H = d->h;
    const size_t C = (size_t)d->c, rs = (size_t)W * C;
    const VMASK tm = V_TAIL((int)(C % VL));
    for (int n = 0; n < d->n; n++) {
        float *gn = gin + (size_t)n * H * rs;
        for (int y = 0; y < oh; y++) {
            size_t r0 = 2 * (size_t)y * rs;
            const float *i0 = avg ? NULL : in + (size_t)n * H * rs + r0;
            const float *g = gout + ((size_t)n * oh + y) * ow * C;
            for (int x = k2_bwd_row(i0, avg ? NULL : i0 + rs, g, gn + r0, gn + r0 + rs, ow, (int)C, avg); x < ow; x++) {
                size_t off = 2 * (size_t)x * C;
                const float *a = avg ? NULL : i0 + off, *b = avg ? NULL : i0 + off + rs;
                float *ga = gn + r0 + off, *gb = ga + rs;
                const float *gx = g + (size_t)x * C;
                size_t c = 0;
                for (; c + VL <= C; c += VL) k2_bwd_vec(avg ? a : a + c, avg ? b : b + c, gx + c, ga + c, gb + c, C, 1, tm, avg);
                if (c < C) k2_bwd_vec(avg ? a : a + c, avg ? b : b + c, gx + c, ga + c, gb + c, C, 0, tm, avg);
            }
            if (2 * ow < W)   /* floor mode: the last column gets no gradient */
                for (int ky = 0; ky < 2; ky++) memset(gn + r0 + ky * rs + 2 * (size_t)ow * C, 0, (size_t)(W - 2 * ow) * C * sizeof *gn);
        }
        if (2 * oh < H) memset(gn + 2 * (size_t)oh * rs, 0, (size_t)(H - 2 * oh) * rs * sizeof *gn);
    }
}

/* Each (kind, window, tiling) as its own instantiation. */
LB_INLINE void pool_fwd_any(const pool_desc *d, const float *in, float *out) {
    const int avg = d->kind == POOL_AVG;
    if (d->k == 2 && d->s == 2) {
        if (avg) k2_fwd(d, in, out, 1); else k2_fwd(d, in, out, 0);
        return;
    }
    if (avg) {
        if (d->k == 2) fwd_all(d, in, out, 1, 2); else fwd_all(d, in, out, 1, 0);
    } else {
        if (d->k == 2) fwd_all(d, in, out, 0, 2); else fwd_all(d, in, out, 0, 0);
    }
}

LB_INLINE void pool_bwd_any(const pool_desc *d, const float *in, const float *gout, float *gin) {
    if (d->k == 2 && d->s == 2) {
        if (d->kind == POOL_AVG) k2_bwd(d, in, gout, gin, 1); else k2_bwd(d, in, gout, gin, 0);
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

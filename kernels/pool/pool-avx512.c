/* Pooling, AVX-512.  Three paths:
 *   k = s = 2, c in {1, 2, 4, 8}: several sites per vector, even/odd sites split by permutes;
 *   k = s = 2, other c:           one channel vector at a time, masked tail for c % 16;
 *   any k, s:                     per output site, up to 4 channel vectors per block; s < k (or
 *                                 s > k) zeroes gin and accumulates, s == k overwrites.
 * Operation order per element is the reference's, so results match it bit for bit (avg: first
 * element + the rest in row-major order, times 1/k^2; bwd: contributions in window order; max
 * bwd: the first maximum in row-major window order). */
#include <string.h>
#include <immintrin.h>
#include "kernels/avx512_part.h"
#include "kernels/pool/pool.h"


/* One output site, NB vectors of channels from b (window origin) to o; the last vector masked by tm. */
LB_INLINE void fwd_site(const float *b, float *o, int k, size_t rs, int C, int NB, __mmask16 tm, int avg, __m512 inv) {
    __m512 a[4];
    for (int j = 0; j < NB; j++) a[j] = _mm512_maskz_loadu_ps(j == NB - 1 ? tm : 0xFFFF, b + 16 * j);
    for (int ky = 0; ky < k; ky++)
        for (int kx = (ky == 0); kx < k; kx++) {
            const float *p = b + ky * rs + (size_t)kx * C;
            for (int j = 0; j < NB; j++) {
                __m512 v = _mm512_maskz_loadu_ps(j == NB - 1 ? tm : 0xFFFF, p + 16 * j);
                a[j] = avg ? _mm512_add_ps(a[j], v) : _mm512_max_ps(a[j], v);
            }
        }
    for (int j = 0; j < NB; j++)
        _mm512_mask_storeu_ps(o + 16 * j, j == NB - 1 ? tm : 0xFFFF, avg ? _mm512_mul_ps(a[j], inv) : a[j]);
}

/* KK: a compile-time window size (2), or 0 for d->k. */
LB_INLINE void fwd_all(const pool_desc *d, const float *in, float *out, int avg, int KK) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, s = d->s, W = d->w;
    const int k = KK ? KK : d->k;
    const size_t rs = (size_t)W * C;
    const __m512 inv = _mm512_set1_ps(1.0f / (float)(d->k * d->k));
    const __mmask16 tm = avx512_mask(C % 16);
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const float *b = in + (((size_t)n * d->h + (size_t)y * s) * W + (size_t)x * s) * C;
                float *o = out + (((size_t)n * oh + y) * ow + x) * C;
                int c0 = 0;
                for (; c0 + 64 <= C; c0 += 64) fwd_site(b + c0, o + c0, k, rs, C, 4, 0xFFFF, avg, inv);
                for (; c0 + 16 <= C; c0 += 16) fwd_site(b + c0, o + c0, k, rs, C, 1, 0xFFFF, avg, inv);
                if (c0 < C) fwd_site(b + c0, o + c0, k, rs, C, 1, tm, avg, inv);
            }
}

/* Backward for one window, NB channel vectors.  ACC: accumulate into gin (overlapping or gapped
 * windows, gin zeroed first) instead of overwriting (s == k tiling). */
LB_INLINE void bwd_site(const float *b, const float *g, float *gb, int k, size_t rs, int C, int NB, __mmask16 tm,
                     int avg, __m512 inv, int ACC) {
    __m512 gv[4], m[4];
    __mmask16 taken[4];
    for (int j = 0; j < NB; j++) {
        __mmask16 mj = j == NB - 1 ? tm : 0xFFFF;
        gv[j] = _mm512_maskz_loadu_ps(mj, g + 16 * j);
        if (avg) gv[j] = _mm512_mul_ps(gv[j], inv);
        else m[j] = _mm512_maskz_loadu_ps(mj, b + 16 * j);
        taken[j] = 0;
    }
    if (!avg)
        for (int ky = 0; ky < k; ky++)
            for (int kx = (ky == 0); kx < k; kx++)
                for (int j = 0; j < NB; j++)
                    m[j] = _mm512_max_ps(m[j], _mm512_maskz_loadu_ps(j == NB - 1 ? tm : 0xFFFF, b + ky * rs + (size_t)kx * C + 16 * j));
    for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++) {
            size_t off = ky * rs + (size_t)kx * C;
            for (int j = 0; j < NB; j++) {
                __mmask16 mj = j == NB - 1 ? tm : 0xFFFF;
                float *p = gb + off + 16 * j;
                __mmask16 sel = mj;
                if (!avg) {   /* first lane-wise maximum in row-major window order */
                    sel = _mm512_mask_cmp_ps_mask(mj & ~taken[j], _mm512_maskz_loadu_ps(mj, b + off + 16 * j), m[j], _CMP_EQ_OQ);
                    taken[j] |= sel;
                }
                if (ACC) _mm512_mask_storeu_ps(p, sel, _mm512_add_ps(_mm512_maskz_loadu_ps(sel, p), gv[j]));
                else _mm512_mask_storeu_ps(p, mj, _mm512_maskz_mov_ps(sel, gv[j]));
            }
        }
}

LB_INLINE void bwd_all(const pool_desc *d, const float *in, const float *gout, float *gin, int avg, int KK, int ACC) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, s = d->s, W = d->w, H = d->h;
    const int k = KK ? KK : d->k;
    const size_t rs = (size_t)W * C;
    const __m512 inv = _mm512_set1_ps(1.0f / (float)(d->k * d->k));
    const __mmask16 tm = avx512_mask(C % 16);
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
                for (; c0 + 64 <= C; c0 += 64) bwd_site(avg ? b : b + c0, g + c0, gb + c0, k, rs, C, 4, 0xFFFF, avg, inv, ACC);
                for (; c0 + 16 <= C; c0 += 16) bwd_site(avg ? b : b + c0, g + c0, gb + c0, k, rs, C, 1, 0xFFFF, avg, inv, ACC);
                if (c0 < C) bwd_site(avg ? b : b + c0, g + c0, gb + c0, k, rs, C, 1, tm, avg, inv, ACC);
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

LB_INLINE void k2_fwd_vec(const float *a, const float *b, float *o, size_t C, __mmask16 m, int avg) {
    __m512 a0 = _mm512_maskz_loadu_ps(m, a), a1 = _mm512_maskz_loadu_ps(m, a + C);
    __m512 a2 = _mm512_maskz_loadu_ps(m, b), a3 = _mm512_maskz_loadu_ps(m, b + C);
    __m512 r = avg ? _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), a2), a3), _mm512_set1_ps(0.25f))
                   : _mm512_max_ps(_mm512_max_ps(a0, a1), _mm512_max_ps(a2, a3));
    _mm512_mask_storeu_ps(o, m, r);
}

LB_INLINE void k2_bwd_vec(const float *a, const float *b, const float *g, float *ga, float *gb, size_t C, __mmask16 m, int avg) {
    __m512 gv = _mm512_maskz_loadu_ps(m, g);
    if (avg) {
        gv = _mm512_mul_ps(gv, _mm512_set1_ps(0.25f));
        _mm512_mask_storeu_ps(ga, m, gv);
        _mm512_mask_storeu_ps(ga + C, m, gv);
        _mm512_mask_storeu_ps(gb, m, gv);
        _mm512_mask_storeu_ps(gb + C, m, gv);
        return;
    }
    __m512 a0 = _mm512_maskz_loadu_ps(m, a), a1 = _mm512_maskz_loadu_ps(m, a + C);
    __m512 a2 = _mm512_maskz_loadu_ps(m, b), a3 = _mm512_maskz_loadu_ps(m, b + C);
    __m512 mx = _mm512_max_ps(_mm512_max_ps(a0, a1), _mm512_max_ps(a2, a3));
    /* first maximum in window order a0 a1 a2 a3.  Independent compares, then mask logic: chaining
     * the compares through their write masks was 25-35% slower on Zen 4. */
    __mmask16 q0 = _mm512_cmp_ps_mask(a0, mx, _CMP_EQ_OQ), q1 = _mm512_cmp_ps_mask(a1, mx, _CMP_EQ_OQ);
    __mmask16 q2 = _mm512_cmp_ps_mask(a2, mx, _CMP_EQ_OQ), q3 = _mm512_cmp_ps_mask(a3, mx, _CMP_EQ_OQ);
    __mmask16 e0 = q0, e1 = q1 & ~q0, e2 = q2 & ~(q0 | q1), e3 = q3 & ~(q0 | q1 | q2);
    _mm512_mask_storeu_ps(ga, m, _mm512_maskz_mov_ps(e0, gv));
    _mm512_mask_storeu_ps(ga + C, m, _mm512_maskz_mov_ps(e1, gv));
    _mm512_mask_storeu_ps(gb, m, _mm512_maskz_mov_ps(e2, gv));
    _mm512_mask_storeu_ps(gb + C, m, _mm512_maskz_mov_ps(e3, gv));
}

LB_INLINE void k2_fwd(const pool_desc *d, const float *in, float *out, int avg) {
    const int oh = pool_oh(d), ow = pool_ow(d), W = d->w;
    const size_t C = (size_t)d->c, rs = (size_t)W * C;
    const __mmask16 tm = avx512_mask((int)(C % 16));
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++) {
            const float *r0 = in + ((size_t)n * d->h + 2 * (size_t)y) * rs, *r1 = r0 + rs;
            float *o = out + ((size_t)n * oh + y) * ow * C;
            for (int x = 0; x < ow; x++) {
                const float *a = r0 + 2 * (size_t)x * C, *b = r1 + 2 * (size_t)x * C;
                float *ox = o + (size_t)x * C;
                size_t c = 0;
                for (; c + 16 <= C; c += 16) k2_fwd_vec(a + c, b + c, ox + c, C, 0xFFFF, avg);
                if (c < C) k2_fwd_vec(a + c, b + c, ox + c, C, tm, avg);
            }
        }
}

LB_INLINE void k2_bwd(const pool_desc *d, const float *in, const float *gout, float *gin, int avg) {
    const int oh = pool_oh(d), ow = pool_ow(d), W = d->w, H = d->h;
    const size_t C = (size_t)d->c, rs = (size_t)W * C;
    const __mmask16 tm = avx512_mask((int)(C % 16));
    for (int n = 0; n < d->n; n++) {
        float *gn = gin + (size_t)n * H * rs;
        for (int y = 0; y < oh; y++) {
            size_t r0 = 2 * (size_t)y * rs;
            const float *i0 = avg ? NULL : in + (size_t)n * H * rs + r0;
            const float *g = gout + ((size_t)n * oh + y) * ow * C;
            for (int x = 0; x < ow; x++) {
                size_t off = 2 * (size_t)x * C;
                const float *a = avg ? NULL : i0 + off, *b = avg ? NULL : i0 + off + rs;
                float *ga = gn + r0 + off, *gb = ga + rs;
                const float *gx = g + (size_t)x * C;
                size_t c = 0;
                for (; c + 16 <= C; c += 16) k2_bwd_vec(avg ? a : a + c, avg ? b : b + c, gx + c, ga + c, gb + c, C, 0xFFFF, avg);
                if (c < C) k2_bwd_vec(avg ? a : a + c, avg ? b : b + c, gx + c, ga + c, gb + c, C, tm, avg);
            }
            if (2 * ow < W)   /* floor mode: the last column gets no gradient */
                for (int ky = 0; ky < 2; ky++) memset(gn + r0 + ky * rs + 2 * (size_t)ow * C, 0, (size_t)(W - 2 * ow) * C * sizeof *gn);
        }
        if (2 * oh < H) memset(gn + 2 * (size_t)oh * rs, 0, (size_t)(H - 2 * oh) * rs * sizeof *gn);
    }
}

/* ---- k = s = 2 with c in {1, 2, 4, 8}: a vector holds S = 16/c sites.  Two vectors of an input
 * row (2S sites) are split into even and odd sites with two-source permutes, which lines the four
 * window elements of S outputs up in four vectors; backward interleaves them back. ---- */

typedef struct { __m512i even, odd, ia, ib; } k2_perm;

static inline k2_perm k2_perm_make(int C) {
    const __m512i j = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i sh = _mm512_set1_epi32(__builtin_ctz((unsigned)C));
    const __m512i r = _mm512_and_si512(j, _mm512_set1_epi32(C - 1));
    k2_perm p;
    p.even = _mm512_sub_epi32(_mm512_slli_epi32(j, 1), r);   /* lane j <- site 2(j/C), channel j%C */
    p.odd = _mm512_add_epi32(p.even, _mm512_set1_epi32(C));
    /* interleave: lane i of the input row (site s = i/C) <- output s/2 of even (s even) or odd */
    __m512i site = _mm512_srlv_epi32(j, sh);
    __m512i base = _mm512_add_epi32(_mm512_sllv_epi32(_mm512_srli_epi32(site, 1), sh), r);
    p.ia = _mm512_add_epi32(base, _mm512_slli_epi32(_mm512_and_si512(site, _mm512_set1_epi32(1)), 4));
    p.ib = _mm512_add_epi32(p.ia, _mm512_set1_epi32(8));   /* second vector: outputs S/2.. */
    return p;
}

/* Even and odd sites of 2S input sites at p (masks for a partial group). */
LB_INLINE void k2s_split(const float *p, __mmask16 ma, __mmask16 mb, const k2_perm *pm, __m512 *e, __m512 *o) {
    __m512 A = _mm512_maskz_loadu_ps(ma, p), B = _mm512_maskz_loadu_ps(mb, p + 16);
    *e = _mm512_permutex2var_ps(A, pm->even, B);
    *o = _mm512_permutex2var_ps(A, pm->odd, B);
}

LB_INLINE void k2s_merge(float *p, __m512 e, __m512 o, __mmask16 ma, __mmask16 mb, const k2_perm *pm) {
    _mm512_mask_storeu_ps(p, ma, _mm512_permutex2var_ps(e, pm->ia, o));
    _mm512_mask_storeu_ps(p + 16, mb, _mm512_permutex2var_ps(e, pm->ib, o));
}

/* Masks of a group of `outs` output sites: outputs, first and second input vector. */
static inline void k2s_masks(int outs, int C, __mmask16 *mo, __mmask16 *ma, __mmask16 *mb) {
    int no = outs * C, ni = 2 * no;
    *mo = avx512_mask(no);
    *ma = avx512_mask(ni);
    *mb = avx512_mask(ni > 16 ? ni - 16 : 0);
}

LB_INLINE void k2s_fwd(const pool_desc *d, const float *in, float *out, int avg) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, S = 16 / C;
    const size_t rs = (size_t)d->w * C;
    const k2_perm pm = k2_perm_make(C);
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++) {
            const float *r0 = in + ((size_t)n * d->h + 2 * (size_t)y) * rs, *r1 = r0 + rs;
            float *o = out + ((size_t)n * oh + y) * ow * C;
            for (int x = 0; x < ow; x += S) {
                __mmask16 mo = 0xFFFF, ma = 0xFFFF, mb = 0xFFFF;
                if (x + S > ow) k2s_masks(ow - x, C, &mo, &ma, &mb);
                __m512 e0, o0, e1, o1;
                k2s_split(r0 + 2 * (size_t)x * C, ma, mb, &pm, &e0, &o0);
                k2s_split(r1 + 2 * (size_t)x * C, ma, mb, &pm, &e1, &o1);
                __m512 r = avg ? _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(e0, o0), e1), o1), _mm512_set1_ps(0.25f))
                               : _mm512_max_ps(_mm512_max_ps(e0, o0), _mm512_max_ps(e1, o1));
                _mm512_mask_storeu_ps(o + (size_t)x * C, mo, r);
            }
        }
}

LB_INLINE void k2s_bwd(const pool_desc *d, const float *in, const float *gout, float *gin, int avg) {
    const int oh = pool_oh(d), ow = pool_ow(d), C = d->c, S = 16 / C, W = d->w, H = d->h;
    const size_t rs = (size_t)W * C;
    const k2_perm pm = k2_perm_make(C);
    for (int n = 0; n < d->n; n++) {
        float *gn = gin + (size_t)n * H * rs;
        for (int y = 0; y < oh; y++) {
            size_t r0 = 2 * (size_t)y * rs;
            const float *g = gout + ((size_t)n * oh + y) * ow * C;
            for (int x = 0; x < ow; x += S) {
                __mmask16 mo = 0xFFFF, ma = 0xFFFF, mb = 0xFFFF;
                if (x + S > ow) k2s_masks(ow - x, C, &mo, &ma, &mb);
                size_t off = 2 * (size_t)x * C;
                __m512 gv = _mm512_maskz_loadu_ps(mo, g + (size_t)x * C);
                if (avg) {
                    gv = _mm512_mul_ps(gv, _mm512_set1_ps(0.25f));
                    k2s_merge(gn + r0 + off, gv, gv, ma, mb, &pm);
                    k2s_merge(gn + r0 + rs + off, gv, gv, ma, mb, &pm);
                    continue;
                }
                const float *i0 = in + (size_t)n * H * rs + r0 + off;
                __m512 e0, o0, e1, o1;
                k2s_split(i0, ma, mb, &pm, &e0, &o0);
                k2s_split(i0 + rs, ma, mb, &pm, &e1, &o1);
                __m512 mx = _mm512_max_ps(_mm512_max_ps(e0, o0), _mm512_max_ps(e1, o1));
                /* first maximum in window order; independent compares (see k2_bwd_vec) */
                __mmask16 q0 = _mm512_cmp_ps_mask(e0, mx, _CMP_EQ_OQ), q1 = _mm512_cmp_ps_mask(o0, mx, _CMP_EQ_OQ);
                __mmask16 q2 = _mm512_cmp_ps_mask(e1, mx, _CMP_EQ_OQ), q3 = _mm512_cmp_ps_mask(o1, mx, _CMP_EQ_OQ);
                __mmask16 k0 = q0, k1 = q1 & ~q0, k2 = q2 & ~(q0 | q1), k3 = q3 & ~(q0 | q1 | q2);
                k2s_merge(gn + r0 + off, _mm512_maskz_mov_ps(k0, gv), _mm512_maskz_mov_ps(k1, gv), ma, mb, &pm);
                k2s_merge(gn + r0 + rs + off, _mm512_maskz_mov_ps(k2, gv), _mm512_maskz_mov_ps(k3, gv), ma, mb, &pm);
            }
            if (2 * ow < W)
                for (int ky = 0; ky < 2; ky++) memset(gn + r0 + ky * rs + 2 * (size_t)ow * C, 0, (size_t)(W - 2 * ow) * C * sizeof *gn);
        }
        if (2 * oh < H) memset(gn + 2 * (size_t)oh * rs, 0, (size_t)(H - 2 * oh) * rs * sizeof *gn);
    }
}

static inline int k2_small_c(const pool_desc *d) { return d->k == 2 && d->s == 2 && d->c < 16 && 16 % d->c == 0; }

void pool2d_fwd__avx512(const pool_desc *d, const float *in, float *out) {
    if (k2_small_c(d)) {
        if (d->kind == POOL_AVG) k2s_fwd(d, in, out, 1); else k2s_fwd(d, in, out, 0);
        return;
    }
    if (d->k == 2 && d->s == 2) {
        if (d->kind == POOL_AVG) k2_fwd(d, in, out, 1); else k2_fwd(d, in, out, 0);
        return;
    }
    if (d->kind == POOL_AVG) {
        if (d->k == 2) fwd_all(d, in, out, 1, 2); else fwd_all(d, in, out, 1, 0);
    } else {
        if (d->k == 2) fwd_all(d, in, out, 0, 2); else fwd_all(d, in, out, 0, 0);
    }
}

void pool2d_bwd__avx512(const pool_desc *d, const float *in, const float *gout, float *gin) {
    if (k2_small_c(d)) {
        if (d->kind == POOL_AVG) k2s_bwd(d, in, gout, gin, 1); else k2s_bwd(d, in, gout, gin, 0);
        return;
    }
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

/* Pooling, AVX-512: the loops of pool-driver.h (read its header) over 16-lane vectors with k-mask
 * tails, plus the packed path for small c.  Three paths:
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

#define VF __m512
#define VL 16
#define VMASK __mmask16
#define V_TAIL(r) avx512_mask(r)
#define VSEL __mmask16
#define v_set1(x) _mm512_set1_ps(x)
#define v_add(a, b) _mm512_add_ps(a, b)
#define v_mul(a, b) _mm512_mul_ps(a, b)
#define v_max(acc, v) _mm512_max_ps(acc, v)
/* a full vector is the all-lanes mask, which the compiler turns into a plain load or store */
#define VM(FULL, m) ((FULL) ? (__mmask16)0xFFFF : (m))
#define ldv(p, FULL, m) _mm512_maskz_loadu_ps(VM(FULL, m), p)
#define stv(p, v, FULL, m) _mm512_mask_storeu_ps(p, VM(FULL, m), v)
#define v_sel_none() ((__mmask16)0)

LB_INLINE __mmask16 v_first_eq(__m512 x, __m512 mx, __mmask16 *taken, int FULL, __mmask16 tm) {
    __mmask16 sel = _mm512_mask_cmp_ps_mask(VM(FULL, tm) & ~*taken, x, mx, _CMP_EQ_OQ);
    *taken |= sel;
    return sel;
}

/* Only the selected lanes are read and added (ACC), or written with the others zeroed. */
LB_INLINE void v_grad_st(float *p, __m512 g, __mmask16 sel, int avg, int ACC, int FULL, __mmask16 tm) {
    const __mmask16 mj = VM(FULL, tm), s = avg ? mj : sel;
    if (ACC) _mm512_mask_storeu_ps(p, s, _mm512_add_ps(_mm512_maskz_loadu_ps(s, p), g));
    else _mm512_mask_storeu_ps(p, mj, _mm512_maskz_mov_ps(s, g));
}

/* ---- k = s = 2 microkernels (the loops: pool-driver.h) ---- */

LB_INLINE void k2_fwd_vec(const float *a, const float *b, float *o, size_t C, int FULL, __mmask16 tm, int avg) {
    const __mmask16 m = VM(FULL, tm);
    __m512 a0 = _mm512_maskz_loadu_ps(m, a), a1 = _mm512_maskz_loadu_ps(m, a + C);
    __m512 a2 = _mm512_maskz_loadu_ps(m, b), a3 = _mm512_maskz_loadu_ps(m, b + C);
    __m512 r = avg ? _mm512_mul_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), a2), a3), _mm512_set1_ps(0.25f))
                   : _mm512_max_ps(_mm512_max_ps(a0, a1), _mm512_max_ps(a2, a3));
    _mm512_mask_storeu_ps(o, m, r);
}

LB_INLINE void k2_bwd_vec(const float *a, const float *b, const float *g, float *ga, float *gb, size_t C, int FULL, __mmask16 tm, int avg) {
    const __mmask16 m = VM(FULL, tm);
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

/* c < 16 with 16 % c == 0 goes to the packed path below before the driver's k = s = 2 loops. */
LB_INLINE int k2_fwd_row(const float *r0, const float *r1, float *o, int ow, int C, int avg) { return 0; }
LB_INLINE int k2_bwd_row(const float *i0, const float *i1, const float *g, float *g0, float *g1, int ow, int C, int avg) {
    return 0;
}

#include "kernels/pool/pool-driver.h"

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

void pool_fwd__avx512(const pool_desc *d, const float *in, float *out) {
    if (k2_small_c(d)) {
        if (d->kind == POOL_AVG) k2s_fwd(d, in, out, 1); else k2s_fwd(d, in, out, 0);
        return;
    }
    pool_fwd_any(d, in, out);
}

void pool_bwd__avx512(const pool_desc *d, const float *in, const float *gout, float *gin) {
    if (k2_small_c(d)) {
        if (d->kind == POOL_AVG) k2s_bwd(d, in, gout, gin, 1); else k2s_bwd(d, in, gout, gin, 0);
        return;
    }
    pool_bwd_any(d, in, gout, gin);
}

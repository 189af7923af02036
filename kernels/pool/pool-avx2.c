/* Pooling, AVX2: the loops of pool-driver.h (read its header) over 8-lane vectors, plus the
 * packed path for k = s = 2 with c in {1, 2, 4} (shuffles); maskload/maskstore only for c % 8
 * tails; the reference's operation order. */
#include <string.h>
#include <immintrin.h>
#include "kernels/avx2_part.h"
#include "kernels/pool/pool.h"

#define VF __m256
#define VL 8
#define VMASK __m256i
#define V_TAIL(r) avx2_mask(r)
#define VSEL __m256
#define v_set1(x) _mm256_set1_ps(x)
#define v_add(a, b) _mm256_add_ps(a, b)
#define v_mul(a, b) _mm256_mul_ps(a, b)
#define v_max(acc, v) _mm256_max_ps(acc, v)
#define ldv(p, FULL, m) avx2_ld(p, FULL, m)
#define stv(p, v, FULL, m) avx2_st(p, v, FULL, m)
#define v_sel_none() _mm256_setzero_ps()

LB_INLINE __m256 v_first_eq(__m256 x, __m256 mx, __m256 *taken, int FULL, __m256i tm) {
    __m256 sel = _mm256_andnot_ps(*taken, _mm256_cmp_ps(x, mx, _CMP_EQ_OQ));
    *taken = _mm256_or_ps(*taken, sel);
    return sel;
}

LB_INLINE void v_grad_st(float *p, __m256 g, __m256 sel, int avg, int ACC, int FULL, __m256i tm) {
    __m256 v = avg ? g : _mm256_and_ps(sel, g);
    /* adding +0 where not selected leaves the (never -0) accumulated value unchanged */
    avx2_st(p, ACC ? _mm256_add_ps(avx2_ld(p, FULL, tm), v) : v, FULL, tm);
}

/* ---- k = s = 2 microkernels (the loops: pool-driver.h) ---- */

LB_INLINE void k2_fwd_vec(const float *a, const float *b, float *o, size_t C, int FULL, __m256i tm, int avg) {
    __m256 a0 = avx2_ld(a, FULL, tm), a1 = avx2_ld(a + C, FULL, tm), a2 = avx2_ld(b, FULL, tm), a3 = avx2_ld(b + C, FULL, tm);
    __m256 r = avg ? _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), a2), a3), _mm256_set1_ps(0.25f))
                   : _mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3));
    avx2_st(o, r, FULL, tm);
}

LB_INLINE void k2_bwd_vec(const float *a, const float *b, const float *g, float *ga, float *gb, size_t C, int FULL, __m256i tm,
                       int avg) {
    __m256 gv = avx2_ld(g, FULL, tm);
    if (avg) {
        gv = _mm256_mul_ps(gv, _mm256_set1_ps(0.25f));
        avx2_st(ga, gv, FULL, tm);
        avx2_st(ga + C, gv, FULL, tm);
        avx2_st(gb, gv, FULL, tm);
        avx2_st(gb + C, gv, FULL, tm);
        return;
    }
    __m256 a0 = avx2_ld(a, FULL, tm), a1 = avx2_ld(a + C, FULL, tm), a2 = avx2_ld(b, FULL, tm), a3 = avx2_ld(b + C, FULL, tm);
    __m256 mx = _mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3));
    /* first maximum in window order a0 a1 a2 a3 */
    __m256 e0 = _mm256_cmp_ps(a0, mx, _CMP_EQ_OQ);
    __m256 e1 = _mm256_andnot_ps(e0, _mm256_cmp_ps(a1, mx, _CMP_EQ_OQ));
    __m256 f = _mm256_or_ps(e0, e1);
    __m256 e2 = _mm256_andnot_ps(f, _mm256_cmp_ps(a2, mx, _CMP_EQ_OQ));
    f = _mm256_or_ps(f, e2);
    __m256 e3 = _mm256_andnot_ps(f, _mm256_cmp_ps(a3, mx, _CMP_EQ_OQ));
    avx2_st(ga, _mm256_and_ps(e0, gv), FULL, tm);
    avx2_st(ga + C, _mm256_and_ps(e1, gv), FULL, tm);
    avx2_st(gb, _mm256_and_ps(e2, gv), FULL, tm);
    avx2_st(gb + C, _mm256_and_ps(e3, gv), FULL, tm);
}

/* c < 8 with 8 % c == 0 goes to the packed path below before the driver's k = s = 2 loops. */
LB_INLINE int k2_fwd_row(const float *r0, const float *r1, float *o, int ow, int C, int avg) { return 0; }
LB_INLINE int k2_bwd_row(const float *i0, const float *i1, const float *g, float *g0, float *g1, int ow, int C, int avg) {
    return 0;
}

#include "kernels/pool/pool-driver.h"

/* ---- k = s = 2 with c in {1, 2, 4}: a vector holds S = 8/c sites; two vectors of an input row
 * are split into even and odd sites (in-lane shuffles + one cross-lane permute), so the four
 * window elements of S outputs sit in four vectors.  Per-site vectors would be all tail here,
 * and maskstore is slow on AMD. ---- */

/* A, B: sites 0..2S-1 -> E: even sites, O: odd sites, in order. */
LB_INLINE void k2s_deint(__m256 A, __m256 B, int C, __m256 *E, __m256 *O) {
    if (C == 4) {
        *E = _mm256_permute2f128_ps(A, B, 0x20);
        *O = _mm256_permute2f128_ps(A, B, 0x31);
    } else if (C == 2) {   /* 64-bit sites: shuffle gives (s0 s4 | s2 s6), 0xD8 swaps the middle */
        *E = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(A, B, 0x44)), 0xD8));
        *O = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(A, B, 0xEE)), 0xD8));
    } else {
        *E = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(A, B, 0x88)), 0xD8));
        *O = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(A, B, 0xDD)), 0xD8));
    }
}

/* The inverse of k2s_deint. */
LB_INLINE void k2s_inter(__m256 E, __m256 O, int C, __m256 *A, __m256 *B) {
    if (C == 4) {
        *A = _mm256_permute2f128_ps(E, O, 0x20);
        *B = _mm256_permute2f128_ps(E, O, 0x31);
        return;
    }
    __m256 e = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(E), 0xD8));
    __m256 o = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(O), 0xD8));
    if (C == 2) {
        *A = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(e), _mm256_castps_pd(o)));
        *B = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(e), _mm256_castps_pd(o)));
    } else {
        *A = _mm256_unpacklo_ps(e, o);
        *B = _mm256_unpackhi_ps(e, o);
    }
}

/* A group of S outputs, or of `outs` < S at the end of a row (masked). */
typedef struct { int full; __m256i mo, ma, mb; } k2s_grp;

static inline k2s_grp k2s_group(int outs, int C, int S) {
    k2s_grp g;
    int no = outs * C, ni = 2 * no;
    g.full = outs == S;
    g.mo = avx2_mask(no);
    g.ma = avx2_mask(ni > 8 ? 8 : ni);
    g.mb = avx2_mask(ni > 8 ? ni - 8 : 0);
    return g;
}

LB_INLINE void k2s_split(const float *p, const k2s_grp *g, int C, __m256 *e, __m256 *o) {
    __m256 A = avx2_ld(p, g->full, g->ma), B = avx2_ld(p + 8, g->full, g->mb);
    k2s_deint(A, B, C, e, o);
}

LB_INLINE void k2s_merge(float *p, __m256 e, __m256 o, const k2s_grp *g, int C) {
    __m256 A, B;
    k2s_inter(e, o, C, &A, &B);
    avx2_st(p, A, g->full, g->ma);
    avx2_st(p + 8, B, g->full, g->mb);
}

LB_INLINE void k2s_fwd(const pool_desc *d, const float *in, float *out, int avg, int C) {
    const int oh = pool_oh(d), ow = pool_ow(d), S = 8 / C;
    const size_t rs = (size_t)d->w * C;
    const k2s_grp full = k2s_group(S, C, S);
    for (int n = 0; n < d->n; n++)
        for (int y = 0; y < oh; y++) {
            const float *r0 = in + ((size_t)n * d->h + 2 * (size_t)y) * rs, *r1 = r0 + rs;
            float *o = out + ((size_t)n * oh + y) * ow * C;
            for (int x = 0; x < ow; x += S) {
                k2s_grp g = x + S <= ow ? full : k2s_group(ow - x, C, S);
                __m256 e0, o0, e1, o1;
                k2s_split(r0 + 2 * (size_t)x * C, &g, C, &e0, &o0);
                k2s_split(r1 + 2 * (size_t)x * C, &g, C, &e1, &o1);
                __m256 r = avg ? _mm256_mul_ps(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(e0, o0), e1), o1), _mm256_set1_ps(0.25f))
                               : _mm256_max_ps(_mm256_max_ps(e0, o0), _mm256_max_ps(e1, o1));
                avx2_st(o + (size_t)x * C, r, g.full, g.mo);
            }
        }
}

LB_INLINE void k2s_bwd(const pool_desc *d, const float *in, const float *gout, float *gin, int avg, int C) {
    const int oh = pool_oh(d), ow = pool_ow(d), S = 8 / C, W = d->w, H = d->h;
    const size_t rs = (size_t)W * C;
    const k2s_grp full = k2s_group(S, C, S);
    for (int n = 0; n < d->n; n++) {
        float *gn = gin + (size_t)n * H * rs;
        for (int y = 0; y < oh; y++) {
            size_t r0 = 2 * (size_t)y * rs;
            const float *g = gout + ((size_t)n * oh + y) * ow * C;
            for (int x = 0; x < ow; x += S) {
                k2s_grp gr = x + S <= ow ? full : k2s_group(ow - x, C, S);
                size_t off = 2 * (size_t)x * C;
                __m256 gv = avx2_ld(g + (size_t)x * C, gr.full, gr.mo);
                if (avg) {
                    gv = _mm256_mul_ps(gv, _mm256_set1_ps(0.25f));
                    k2s_merge(gn + r0 + off, gv, gv, &gr, C);
                    k2s_merge(gn + r0 + rs + off, gv, gv, &gr, C);
                    continue;
                }
                const float *i0 = in + (size_t)n * H * rs + r0 + off;
                __m256 e0, o0, e1, o1;
                k2s_split(i0, &gr, C, &e0, &o0);
                k2s_split(i0 + rs, &gr, C, &e1, &o1);
                __m256 mx = _mm256_max_ps(_mm256_max_ps(e0, o0), _mm256_max_ps(e1, o1));
                __m256 s0 = _mm256_cmp_ps(e0, mx, _CMP_EQ_OQ);
                __m256 s1 = _mm256_andnot_ps(s0, _mm256_cmp_ps(o0, mx, _CMP_EQ_OQ));
                __m256 f = _mm256_or_ps(s0, s1);
                __m256 s2 = _mm256_andnot_ps(f, _mm256_cmp_ps(e1, mx, _CMP_EQ_OQ));
                f = _mm256_or_ps(f, s2);
                __m256 s3 = _mm256_andnot_ps(f, _mm256_cmp_ps(o1, mx, _CMP_EQ_OQ));
                k2s_merge(gn + r0 + off, _mm256_and_ps(s0, gv), _mm256_and_ps(s1, gv), &gr, C);
                k2s_merge(gn + r0 + rs + off, _mm256_and_ps(s2, gv), _mm256_and_ps(s3, gv), &gr, C);
            }
            if (2 * ow < W)
                for (int ky = 0; ky < 2; ky++) memset(gn + r0 + ky * rs + 2 * (size_t)ow * C, 0, (size_t)(W - 2 * ow) * C * sizeof *gn);
        }
        if (2 * oh < H) memset(gn + 2 * (size_t)oh * rs, 0, (size_t)(H - 2 * oh) * rs * sizeof *gn);
    }
}

/* c as a compile-time constant for the shuffles. */
LB_INLINE void k2s_fwd_any(const pool_desc *d, const float *in, float *out, int avg) {
    if (d->c == 4) k2s_fwd(d, in, out, avg, 4);
    else if (d->c == 2) k2s_fwd(d, in, out, avg, 2);
    else k2s_fwd(d, in, out, avg, 1);
}
LB_INLINE void k2s_bwd_any(const pool_desc *d, const float *in, const float *gout, float *gin, int avg) {
    if (d->c == 4) k2s_bwd(d, in, gout, gin, avg, 4);
    else if (d->c == 2) k2s_bwd(d, in, gout, gin, avg, 2);
    else k2s_bwd(d, in, gout, gin, avg, 1);
}

static inline int k2_small_c(const pool_desc *d) { return d->k == 2 && d->s == 2 && d->c < 8 && 8 % d->c == 0; }

void pool_fwd__avx2(const pool_desc *d, const float *in, float *out) {
    if (k2_small_c(d)) {
        if (d->kind == POOL_AVG) k2s_fwd_any(d, in, out, 1); else k2s_fwd_any(d, in, out, 0);
        return;
    }
    pool_fwd_any(d, in, out);
}

void pool_bwd__avx2(const pool_desc *d, const float *in, const float *gout, float *gin) {
    if (k2_small_c(d)) {
        if (d->kind == POOL_AVG) k2s_bwd_any(d, in, gout, gin, 1); else k2s_bwd_any(d, in, gout, gin, 0);
        return;
    }
    pool_bwd_any(d, in, gout, gin);
}

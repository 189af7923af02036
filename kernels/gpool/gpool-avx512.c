/* Global pooling, AVX-512.
 * c >= 16 or c not dividing 16: the channel blocks of gpool-driver.h (read its header), sites in
 * order from site 0, so the result equals the reference bit for bit.  One block holds up to 8
 * vectors (128 channels) in registers so that, for every channel count of the networks, each sample is streamed once, site
 * after site: splitting the channels into passes re-reads the data (the prefetcher fetches the
 * skipped lines too), which cost 2-3x on 64x64 lattices.
 * c in {1, 2, 4, 8}: a vector spans 16/c sites; the sample's hw*c floats are streamed as one flat
 * array (lane l always holds channel l % c) and folded at the end.  Sums then associate
 * differently from the reference (exact on integer data). */
#include <immintrin.h>
#include "kernels/avx512_part.h"
#include "kernels/gpool/gpool.h"

static inline int small_c(int C) { return C < 16 && 16 % C == 0; }

LB_INLINE __m512 op(__m512 a, __m512 b, int MAX) { return MAX ? _mm512_max_ps(a, b) : _mm512_add_ps(a, b); }
LB_INLINE __m256 op8(__m256 a, __m256 b, int MAX) { return MAX ? _mm256_max_ps(a, b) : _mm256_add_ps(a, b); }
LB_INLINE __m128 op4(__m128 a, __m128 b, int MAX) { return MAX ? _mm_max_ps(a, b) : _mm_add_ps(a, b); }

/* Per-lane reduction of the flat array x[0..len) (len >= 1), lane l covering channel l % C. */
LB_INLINE __m512 flat_reduce(const float *x, size_t len, int MAX) {
    const __m512 id = MAX ? _mm512_set1_ps(-__builtin_inff()) : _mm512_setzero_ps();
    __m512 a0 = id, a1 = id, a2 = id, a3 = id;
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        a0 = op(a0, _mm512_loadu_ps(x + i), MAX);
        a1 = op(a1, _mm512_loadu_ps(x + i + 16), MAX);
        a2 = op(a2, _mm512_loadu_ps(x + i + 32), MAX);
        a3 = op(a3, _mm512_loadu_ps(x + i + 48), MAX);
    }
    for (; i < len; i += 16) {   /* masked lanes get the identity, so they never win or add */
        __mmask16 m = avx512_mask_n(len - i);
        a0 = op(a0, _mm512_mask_loadu_ps(id, m, x + i), MAX);
    }
    return op(op(a0, a1, MAX), op(a2, a3, MAX), MAX);
}

/* Folds 16 lanes to C (C | 16, C < 16): lane c of the result reduces lanes c, c+C, ... */
LB_INLINE __m128 fold_to_c(__m512 a, int C, int MAX, __m256 *out8) {
    __m256 h = op8(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1), MAX);
    *out8 = h;
    __m128 q = op4(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1), MAX);
    if (C <= 2) q = op4(q, _mm_movehl_ps(q, q), MAX);
    if (C == 1) q = op4(q, _mm_shuffle_ps(q, q, 1), MAX);
    return q;
}

/* Per-channel result of one sample in the small-c layout: stores C values to o. */
LB_INLINE void small_fwd(const float *x, float *o, int hw, int C, int kind) {
    const int MAX = kind == GPOOL_MAX;
    __m256 h;
    __m128 q = fold_to_c(flat_reduce(x, (size_t)hw * C, MAX), C, MAX, &h);
    if (kind == GPOOL_AVG) {
        h = _mm256_div_ps(h, _mm256_set1_ps((float)hw));
        q = _mm_div_ps(q, _mm_set1_ps((float)hw));
    }
    if (C == 8) _mm256_storeu_ps(o, h);
    else _mm_mask_storeu_ps(o, (__mmask8)((1u << C) - 1u), q);
}

/* Channel values v[0..C) repeated across 16 lanes. */
static inline __m512 pattern(const float *v, int C) {
    __m512i idx = _mm512_and_si512(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                   _mm512_set1_epi32(C - 1));
    return _mm512_permutexvar_ps(idx, _mm512_maskz_loadu_ps(avx512_mask_n((size_t)C), v));
}

#define VF __m512
#define VL 16
#define VI __m512i
#define VMASK __mmask16
#define V_TAIL(r) avx512_mask(r)
#define NB_MAX 8
#define SPLIT_FULL 0 /* a full last vector is an all-lanes mask: one instantiation per NB */
#define VM(full, m) ((full) ? (__mmask16)0xFFFF : (m))
#define ldv(p, full, m) _mm512_maskz_loadu_ps(VM(full, m), p)
#define stv(p, v, full, m) _mm512_mask_storeu_ps(p, VM(full, m), v)
#define v_zero() _mm512_setzero_ps()
#define v_set1(x) _mm512_set1_ps(x)
#define v_div(a, b) _mm512_div_ps(a, b)
#define v_idx_zero() _mm512_setzero_si512()
/* the site index stepped once per site: set1(p) became a masked broadcast from a general register
 * per vector, which costs more than the rest of the argmax loop on Zen 4 */
#define v_idx_next(pv, p) _mm512_add_epi32(pv, _mm512_set1_epi32(1))
#define v_idx_store(at, idx) _mm512_storeu_si512(at, idx)

LB_INLINE void v_argmax_step(__m512 *m, __m512i *idx, __m512 v, __m512i pv) {
    const __mmask16 gt = _mm512_cmp_ps_mask(v, *m, _CMP_GT_OQ);
    *m = _mm512_mask_mov_ps(*m, gt, v);
    *idx = _mm512_mask_mov_epi32(*idx, gt, pv);
}

/* Small c: max backward in one pass over the flat array, which it also zeroes: per lane the first
 * maximum (strict >) and its chunk offset; then per channel the lanes of that channel are folded
 * (larger value, or equal value at an earlier site) and g is written at the winner.  Masked-off
 * lanes read -inf, so they never replace a value; they only exist when hw*c < 16, and then every
 * one of them lies at a later site than the valid lane of its channel. */
LB_INLINE void small_bwd(const float *x, const float *g, float *gi, int hw, int C, int kind) {
    const size_t len = (size_t)hw * C;
    if (kind != GPOOL_MAX) {
        __m512 gp = pattern(g, C);
        if (kind == GPOOL_AVG) gp = _mm512_div_ps(gp, _mm512_set1_ps((float)hw));
        size_t i = 0;
        for (; i + 16 <= len; i += 16) _mm512_storeu_ps(gi + i, gp);
        if (i < len) _mm512_mask_storeu_ps(gi + i, avx512_mask_n(len - i), gp);
        return;
    }
    const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
    __mmask16 m0 = avx512_mask_n(len);
    __m512 m = _mm512_mask_loadu_ps(ninf, m0, x);
    __m512i at = _mm512_setzero_si512();
    _mm512_mask_storeu_ps(gi, m0, _mm512_setzero_ps());
    for (size_t i = 16; i < len; i += 16) {
        __mmask16 tm = avx512_mask_n(len - i);
        __m512 v = _mm512_mask_loadu_ps(ninf, tm, x + i);
        __mmask16 gt = _mm512_cmp_ps_mask(v, m, _CMP_GT_OQ);
        m = _mm512_mask_mov_ps(m, gt, v);
        at = _mm512_mask_mov_epi32(at, gt, _mm512_set1_epi32((int)i));
        _mm512_mask_storeu_ps(gi + i, tm, _mm512_setzero_ps());
    }
    float mv[16];
    int32_t off[16];
    _mm512_storeu_ps(mv, m);
    _mm512_storeu_si512(off, at);
    for (int c = 0; c < C; c++) {
        size_t best = (size_t)off[c] + c;   /* flat index; same channel, so site order = index order */
        float bv = mv[c];
        for (int l = c + C; l < 16; l += C) {
            size_t f = (size_t)off[l] + l;
            if (mv[l] > bv || (mv[l] == bv && f < best)) { bv = mv[l]; best = f; }
        }
        gi[best] = g[c];
    }
}

LB_INLINE int small_bwd_done(const float *x, const float *g, float *gi, int hw, int C, int kind) {
    if (!small_c(C)) return 0;
    small_bwd(x, g, gi, hw, C, kind);
    return 1;
}

#include "kernels/gpool/gpool-driver.h"

void gpool_fwd__avx512(const gpool_desc *d, const float *in, float *out) { gpool_fwd_any(d, in, out); }

void gpool_bwd__avx512(const gpool_desc *d, const float *in, const float *gout, float *gin) { gpool_bwd_any(d, in, gout, gin); }

/* Global pooling, AVX2.  Same scheme as gpool-avx512.c with 8 lanes: the channel blocks of
 * gpool-driver.h (read its header; up to 10 vectors, so c <= 80 streams each sample once) for
 * c >= 8 or c not dividing 8, a flat stream folded to c lanes for c in {1, 2, 4}. */
#include <immintrin.h>
#include "kernels/avx2_part.h"
#include "kernels/gpool/gpool.h"

static inline int small_c(int C) { return C < 8 && 8 % C == 0; }
LB_INLINE __m256 op(__m256 a, __m256 b, int MAX) { return MAX ? _mm256_max_ps(a, b) : _mm256_add_ps(a, b); }
LB_INLINE __m128 op4(__m128 a, __m128 b, int MAX) { return MAX ? _mm_max_ps(a, b) : _mm_add_ps(a, b); }

LB_INLINE __m256 flat_reduce(const float *x, size_t len, int MAX) {
    const __m256 id = MAX ? _mm256_set1_ps(-__builtin_inff()) : _mm256_setzero_ps();
    __m256 a0 = id, a1 = id, a2 = id, a3 = id;
    size_t i = 0;
    for (; i + 32 <= len; i += 32) {
        a0 = op(a0, _mm256_loadu_ps(x + i), MAX);
        a1 = op(a1, _mm256_loadu_ps(x + i + 8), MAX);
        a2 = op(a2, _mm256_loadu_ps(x + i + 16), MAX);
        a3 = op(a3, _mm256_loadu_ps(x + i + 24), MAX);
    }
    for (; i < len; i += 8) {   /* masked lanes get the identity */
        __m256i m = avx2_mask_n(len - i);
        a0 = op(a0, _mm256_blendv_ps(id, _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m)), MAX);
    }
    return op(op(a0, a1, MAX), op(a2, a3, MAX), MAX);
}

/* 8 lanes to C (C in {1, 2, 4}): lane c reduces lanes c, c+C, ... */
LB_INLINE __m128 fold_to_c(__m256 a, int C, int MAX) {
    __m128 q = op4(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1), MAX);
    if (C <= 2) q = op4(q, _mm_movehl_ps(q, q), MAX);
    if (C == 1) q = op4(q, _mm_shuffle_ps(q, q, 1), MAX);
    return q;
}

static inline __m128i first_lanes4(int C) { return _mm_cmpgt_epi32(_mm_set1_epi32(C), _mm_setr_epi32(0, 1, 2, 3)); }

LB_INLINE void small_fwd(const float *x, float *o, int hw, int C, int kind) {
    const int MAX = kind == GPOOL_MAX;
    __m128 q = fold_to_c(flat_reduce(x, (size_t)hw * C, MAX), C, MAX);
    if (kind == GPOOL_AVG) q = _mm_div_ps(q, _mm_set1_ps((float)hw));
    _mm_maskstore_ps(o, first_lanes4(C), q);
}

static inline __m256 pattern(const float *v, int C) {
    __m256i idx = _mm256_and_si256(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(C - 1));
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_maskload_ps(v, first_lanes4(C))), idx);
}

#define VF __m256
#define VL 8
#define VI __m256i
#define VMASK __m256i
#define V_TAIL(r) avx2_mask(r)
#define NB_MAX 10
#define SPLIT_FULL 1
#define ldv(p, full, m) avx2_ld(p, full, m)
#define stv(p, v, full, m) avx2_st(p, v, full, m)
#define v_zero() _mm256_setzero_ps()
#define v_set1(x) _mm256_set1_ps(x)
#define v_div(a, b) _mm256_div_ps(a, b)
#define v_idx_zero() _mm256_setzero_si256()
#define v_idx_next(pv, p) _mm256_set1_epi32(p)
#define v_idx_store(at, idx) _mm256_storeu_si256((__m256i *)(at), idx)

LB_INLINE void v_argmax_step(__m256 *m, __m256i *idx, __m256 v, __m256i pv) {
    const __m256 gt = _mm256_cmp_ps(v, *m, _CMP_GT_OQ);
    *m = _mm256_blendv_ps(*m, v, gt);
    *idx = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*idx), _mm256_castsi256_ps(pv), gt));
}

/* Small c: max backward in one pass that also zeroes gi; see gpool-avx512.c. */
LB_INLINE void small_bwd(const float *x, const float *g, float *gi, int hw, int C, int kind) {
    const size_t len = (size_t)hw * C;
    if (kind != GPOOL_MAX) {
        __m256 gp = pattern(g, C);
        if (kind == GPOOL_AVG) gp = _mm256_div_ps(gp, _mm256_set1_ps((float)hw));
        size_t i = 0;
        for (; i + 8 <= len; i += 8) _mm256_storeu_ps(gi + i, gp);
        if (i < len) _mm256_maskstore_ps(gi + i, avx2_mask_n(len - i), gp);
        return;
    }
    const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
    __m256 m = ninf;
    __m256i at = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 gt = _mm256_cmp_ps(v, m, _CMP_GT_OQ);   /* from -inf: chunk 0 always enters (bar -inf/NaN) */
        m = _mm256_blendv_ps(m, v, gt);
        at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(at), _mm256_castsi256_ps(_mm256_set1_epi32((int)i)), gt));
        _mm256_storeu_ps(gi + i, _mm256_setzero_ps());
    }
    if (i < len) {
        __m256i tm = avx2_mask_n(len - i);
        __m256 v = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + i, tm), _mm256_castsi256_ps(tm));
        __m256 gt = _mm256_cmp_ps(v, m, _CMP_GT_OQ);
        m = _mm256_blendv_ps(m, v, gt);
        at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(at), _mm256_castsi256_ps(_mm256_set1_epi32((int)i)), gt));
        _mm256_maskstore_ps(gi + i, tm, _mm256_setzero_ps());
    }
    float mv[8];
    int32_t off[8];
    _mm256_storeu_ps(mv, m);
    _mm256_storeu_si256((__m256i *)off, at);
    for (int c = 0; c < C; c++) {
        /* lanes never entered (values all -inf, or a lane past hw*c) keep offset 0 and -inf: the
         * fold then prefers a valid lane, and among -inf ties the earliest flat index */
        size_t best = (size_t)off[c] + c;
        float bv = mv[c];
        for (int l = c + C; l < 8; l += C) {
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

void gpool_fwd__avx2(const gpool_desc *d, const float *in, float *out) { gpool_fwd_any(d, in, out); }

void gpool_bwd__avx2(const gpool_desc *d, const float *in, const float *gout, float *gin) { gpool_bwd_any(d, in, gout, gin); }

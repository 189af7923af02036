/* Global pooling, AVX2.  Same scheme as gpool-avx512.c with 8 lanes: channel blocks (bit-identical
 * to the reference; up to 10 vectors, so c <= 80 streams each sample once) for c >= 8 or c not
 * dividing 8, a flat stream folded to c lanes for c in {1, 2, 4}. */
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

#define NB_MAX 10
#define DISPATCH_NB(nb, BODY)                                                                  \
    switch (nb) {                                                                              \
    case 1: BODY(1); break; case 2: BODY(2); break; case 3: BODY(3); break; case 4: BODY(4); break; \
    case 5: BODY(5); break; case 6: BODY(6); break; case 7: BODY(7); break; case 8: BODY(8); break; \
    case 9: BODY(9); break; default: BODY(10); break;                                          \
    }
/* Channel blocks [c0, c0 + 8*nb); the last vector is full (FULL) or masked by tm. */
#define FOR_BLOCKS(C, BODY_BLOCK)                                                              \
    for (int c0 = 0; c0 < (C); c0 += 8 * NB_MAX) {                                             \
        int nv_ = ((C) - c0 + 7) / 8;                                                          \
        int nb = nv_ < NB_MAX ? nv_ : NB_MAX;                                                  \
        int rem_ = (C) - c0 - 8 * (nb - 1) < 8 ? (C) - c0 - 8 * (nb - 1) : 8;                   \
        __m256i tm = avx2_mask(rem_);                                                      \
        if (rem_ == 8) { const int FULL = 1; BODY_BLOCK; }                                    \
        else { const int FULL = 0; BODY_BLOCK; }                                              \
    }

/* FULL: all vectors full; else the last one uses tm. */
LB_INLINE __m256 ldj(const float *p, int j, int NB, int FULL, __m256i tm) { return avx2_ld(p, FULL || j < NB - 1, tm); }
LB_INLINE void stj(float *p, __m256 v, int j, int NB, int FULL, __m256i tm) { avx2_st(p, v, FULL || j < NB - 1, tm); }

LB_INLINE void block_fwd(const float *x, float *o, int hw, int C, int NB, int FULL, __m256i tm, int kind) {
    const int MAX = kind == GPOOL_MAX;
    __m256 a[NB_MAX];
    for (int j = 0; j < NB; j++) a[j] = ldj(x + 8 * j, j, NB, FULL, tm);
    for (int p = 1; p < hw; p++) {
        const float *xp = x + (size_t)p * C;
        for (int j = 0; j < NB; j++) a[j] = op(a[j], ldj(xp + 8 * j, j, NB, FULL, tm), MAX);
    }
    for (int j = 0; j < NB; j++) {
        if (kind == GPOOL_AVG) a[j] = _mm256_div_ps(a[j], _mm256_set1_ps((float)hw));
        stj(o + 8 * j, a[j], j, NB, FULL, tm);
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

void gpool_fwd__avx2(const gpool_desc *d, const float *in, float *out) {
    if (d->kind == GPOOL_MAX) fwd_kind(d, in, out, GPOOL_MAX);
    else if (d->kind == GPOOL_SUM) fwd_kind(d, in, out, GPOOL_SUM);
    else fwd_kind(d, in, out, GPOOL_AVG);
}

LB_INLINE void block_bcast(const float *g, float *gi, int hw, int C, int NB, int FULL, __m256i tm, int avg) {
    __m256 gv[NB_MAX];
    for (int j = 0; j < NB; j++) {
        gv[j] = ldj(g + 8 * j, j, NB, FULL, tm);
        if (avg) gv[j] = _mm256_div_ps(gv[j], _mm256_set1_ps((float)hw));
    }
    for (int p = 0; p < hw; p++)
        for (int j = 0; j < NB; j++) stj(gi + (size_t)p * C + 8 * j, gv[j], j, NB, FULL, tm);
}

/* First site of the maximum per channel (strict >, as the reference), found in the pass that
 * zeroes gi; then only those C elements are written. */
LB_INLINE void block_argmax(const float *x, const float *g, float *gi, int hw, int C, int NB, int FULL, __m256i tm,
                         int last_lanes) {
    __m256 m[NB_MAX];
    __m256i idx[NB_MAX];
    for (int j = 0; j < NB; j++) {
        m[j] = ldj(x + 8 * j, j, NB, FULL, tm);
        idx[j] = _mm256_setzero_si256();
        stj(gi + 8 * j, _mm256_setzero_ps(), j, NB, FULL, tm);
    }
    for (int p = 1; p < hw; p++) {
        const __m256i pv = _mm256_set1_epi32(p);
        for (int j = 0; j < NB; j++) {
            stj(gi + (size_t)p * C + 8 * j, _mm256_setzero_ps(), j, NB, FULL, tm);
            __m256 v = ldj(x + (size_t)p * C + 8 * j, j, NB, FULL, tm);
            __m256 gt = _mm256_cmp_ps(v, m[j], _CMP_GT_OQ);
            m[j] = _mm256_blendv_ps(m[j], v, gt);
            idx[j] = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(idx[j]), _mm256_castsi256_ps(pv), gt));
        }
    }
    int32_t at[NB_MAX * 8];   /* one array for all blocks; see gpool-avx512.c */
    for (int j = 0; j < NB; j++) _mm256_storeu_si256((__m256i *)(at + 8 * j), idx[j]);
    const int nl = 8 * (NB - 1) + last_lanes;
    for (int l = 0; l < nl; l++) gi[(size_t)at[l] * C + l] = g[l];
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

LB_INLINE void bwd_kind(const gpool_desc *d, const float *in, const float *gout, float *gin, int kind) {
    const int C = d->c, hw = d->hw;
    for (int n = 0; n < d->n; n++) {
        const float *x = kind == GPOOL_MAX ? in + (size_t)n * hw * C : NULL;
        const float *g = gout + (size_t)n * C;
        float *gi = gin + (size_t)n * hw * C;
        if (small_c(C)) { small_bwd(x, g, gi, hw, C, kind); continue; }
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

void gpool_bwd__avx2(const gpool_desc *d, const float *in, const float *gout, float *gin) {
    if (d->kind == GPOOL_MAX) bwd_kind(d, in, gout, gin, GPOOL_MAX);
    else if (d->kind == GPOOL_SUM) bwd_kind(d, in, gout, gin, GPOOL_SUM);
    else bwd_kind(d, in, gout, gin, GPOOL_AVG);
}

/* Global pooling, AVX-512.
 * c >= 16 or c not dividing 16: vectorized over channels, sites in order from site 0, so the
 * result equals the reference bit for bit.  One block holds up to 8 vectors (128 channels) in
 * registers so that, for every channel count of the networks, each sample is streamed once, site
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

#define NB_MAX 8
/* Calls BODY(NB) with NB a compile-time constant 1..NB_MAX. */
#define DISPATCH_NB(nb, BODY)                                                                  \
    switch (nb) {                                                                              \
    case 1: BODY(1); break; case 2: BODY(2); break; case 3: BODY(3); break; case 4: BODY(4); break; \
    case 5: BODY(5); break; case 6: BODY(6); break; case 7: BODY(7); break; default: BODY(8); break; \
    }
/* Channel blocks: [c0, c0 + 16*NB), the last vector masked by tm. */
#define FOR_BLOCKS(C, BODY_BLOCK)                                                              \
    for (int c0 = 0; c0 < (C); c0 += 16 * NB_MAX) {                                            \
        int nv_ = ((C) - c0 + 15) / 16;                                                        \
        int nb = nv_ < NB_MAX ? nv_ : NB_MAX;                                                  \
        __mmask16 tm = avx512_mask_n((size_t)((C) - c0 - 16 * (nb - 1)));                             \
        BODY_BLOCK;                                                                            \
    }

static inline __mmask16 vmask(int j, int NB, __mmask16 tm) { return j == NB - 1 ? tm : (__mmask16)0xFFFF; }

LB_INLINE void block_fwd(const float *x, float *o, int hw, int C, int NB, __mmask16 tm, int kind) {
    const int MAX = kind == GPOOL_MAX;
    __m512 a[NB_MAX];
    for (int j = 0; j < NB; j++) a[j] = _mm512_maskz_loadu_ps(vmask(j, NB, tm), x + 16 * j);
    for (int p = 1; p < hw; p++) {
        const float *xp = x + (size_t)p * C;
        for (int j = 0; j < NB; j++) a[j] = op(a[j], _mm512_maskz_loadu_ps(vmask(j, NB, tm), xp + 16 * j), MAX);
    }
    for (int j = 0; j < NB; j++) {
        if (kind == GPOOL_AVG) a[j] = _mm512_div_ps(a[j], _mm512_set1_ps((float)hw));
        _mm512_mask_storeu_ps(o + 16 * j, vmask(j, NB, tm), a[j]);
    }
}

LB_INLINE void fwd_kind(const gpool_desc *d, const float *in, float *out, int kind) {
    const int C = d->c, hw = d->hw;
    for (int n = 0; n < d->n; n++) {
        const float *x = in + (size_t)n * hw * C;
        float *o = out + (size_t)n * C;
        if (small_c(C)) { small_fwd(x, o, hw, C, kind); continue; }
#define FWD(NB) block_fwd(x + c0, o + c0, hw, C, NB, tm, kind)
        FOR_BLOCKS(C, DISPATCH_NB(nb, FWD))
#undef FWD
    }
}

void gpool_fwd__avx512(const gpool_desc *d, const float *in, float *out) {
    if (d->kind == GPOOL_MAX) fwd_kind(d, in, out, GPOOL_MAX);
    else if (d->kind == GPOOL_SUM) fwd_kind(d, in, out, GPOOL_SUM);
    else fwd_kind(d, in, out, GPOOL_AVG);
}

/* avg/sum: g (over hw for avg) broadcast to every site. */
LB_INLINE void block_bcast(const float *g, float *gi, int hw, int C, int NB, __mmask16 tm, int avg) {
    __m512 gv[NB_MAX];
    for (int j = 0; j < NB; j++) {
        gv[j] = _mm512_maskz_loadu_ps(vmask(j, NB, tm), g + 16 * j);
        if (avg) gv[j] = _mm512_div_ps(gv[j], _mm512_set1_ps((float)hw));
    }
    for (int p = 0; p < hw; p++)
        for (int j = 0; j < NB; j++) _mm512_mask_storeu_ps(gi + (size_t)p * C + 16 * j, vmask(j, NB, tm), gv[j]);
}

/* max: one pass finds, per channel, the first site holding the maximum (strict >, as the
 * reference) while it zeroes gi; then only those C elements are written. */
LB_INLINE void block_argmax(const float *x, const float *g, float *gi, int hw, int C, int NB, __mmask16 tm) {
    __m512 m[NB_MAX];
    __m512i idx[NB_MAX];
    for (int j = 0; j < NB; j++) {
        m[j] = _mm512_maskz_loadu_ps(vmask(j, NB, tm), x + 16 * j);
        idx[j] = _mm512_setzero_si512();
        _mm512_mask_storeu_ps(gi + 16 * j, vmask(j, NB, tm), _mm512_setzero_ps());
    }
    /* the site index as a vector stepped once per site: set1(p) became a masked broadcast from a
     * general register per vector, which costs more than the rest of the loop on Zen 4 */
    __m512i pv = _mm512_setzero_si512();
    const __m512i one = _mm512_set1_epi32(1);
    for (int p = 1; p < hw; p++) {
        pv = _mm512_add_epi32(pv, one);
        for (int j = 0; j < NB; j++) {
            _mm512_mask_storeu_ps(gi + (size_t)p * C + 16 * j, vmask(j, NB, tm), _mm512_setzero_ps());
            __m512 v = _mm512_maskz_loadu_ps(vmask(j, NB, tm), x + (size_t)p * C + 16 * j);
            __mmask16 gt = _mm512_cmp_ps_mask(v, m[j], _CMP_GT_OQ);
            m[j] = _mm512_mask_mov_ps(m[j], gt, v);
            idx[j] = _mm512_mask_mov_epi32(idx[j], gt, pv);
        }
    }
    /* one array for all blocks: with one per block, gcc kept idx[] in memory inside the loop */
    int32_t at[NB_MAX * 16];
    for (int j = 0; j < NB; j++) _mm512_storeu_si512(at + 16 * j, idx[j]);
    const int nl = 16 * (NB - 1) + __builtin_popcount(tm);
    for (int l = 0; l < nl; l++) gi[(size_t)at[l] * C + l] = g[l];
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

LB_INLINE void bwd_kind(const gpool_desc *d, const float *in, const float *gout, float *gin, int kind) {
    const int C = d->c, hw = d->hw;
    for (int n = 0; n < d->n; n++) {
        const float *x = kind == GPOOL_MAX ? in + (size_t)n * hw * C : NULL;
        const float *g = gout + (size_t)n * C;
        float *gi = gin + (size_t)n * hw * C;
        if (small_c(C)) { small_bwd(x, g, gi, hw, C, kind); continue; }
        if (kind == GPOOL_MAX) {
#define ARGMAX(NB) block_argmax(x + c0, g + c0, gi + c0, hw, C, NB, tm)
            FOR_BLOCKS(C, DISPATCH_NB(nb, ARGMAX))
#undef ARGMAX
        } else {
#define BCAST(NB) block_bcast(g + c0, gi + c0, hw, C, NB, tm, kind == GPOOL_AVG)
            FOR_BLOCKS(C, DISPATCH_NB(nb, BCAST))
#undef BCAST
        }
    }
}

void gpool_bwd__avx512(const gpool_desc *d, const float *in, const float *gout, float *gin) {
    if (d->kind == GPOOL_MAX) bwd_kind(d, in, gout, gin, GPOOL_MAX);
    else if (d->kind == GPOOL_SUM) bwd_kind(d, in, gout, gin, GPOOL_SUM);
    else bwd_kind(d, in, gout, gin, GPOOL_AVG);
}

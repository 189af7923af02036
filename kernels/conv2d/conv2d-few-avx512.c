/* conv2d, periodic padding, AVX-512: the passes of the avx512 variant (conv2d-avx512.c) that
 * write at most 8 channels, in full zmm instead of a ymm.  Internal to that variant
 * (conv2d-few-avx512.h); see conv2d.h for the contract.
 *
 * The avx512 variant vectorizes over the channels it writes.  With <= 8 of them it used a ymm,
 * which on a core with two 512-bit FMA pipes (Zen 5) runs at half the FMA peak at best:
 * task3-eq1's 32 -> 8 2x2 layer ran at 33-36 % of it in fwd and bwd_weights.  Here:
 *   - bwd_weights with cout <= 8, 16 < cin <= 48 and cout * ceil(cin/16) >= 12 vectorizes over the input channels instead:
 *     per site and tap, ceil(cin/16) loads of the input row and cout broadcasts of gout feed
 *     cout x ceil(cin/16) full FMAs, into a [tap][cout][cin] block that is transposed into gw at
 *     the end.  Every gw element is still the sum over the sites in site order, one FMA each,
 *     from 0: the same bits as the ymm tiles (and gb is summed by the same code).
 *   - fwd, and stride-1 bwd_data (the same product), with <= 8 written channels and an even
 *     reduction count per tap: two consecutive reduction channels k, k+1 share one zmm.  Lane
 *     2o + q holds output o's sum over the reduction channels of parity q; per site and pair of k
 *     one 64-bit broadcast (a load, no shuffle) times the packed weights [tap][k/2][o][q].  The
 *     two parities are added at the end, then the bias: this changes the summation order (even
 *     and odd k summed apart), so the results differ from the ymm tiles' in the last bits.
 *     9..16 written channels take two such zmm per site (outputs 0..7, 8..15): one broadcast
 *     feeds two FMAs where the 16-lane zmm tile needs one per FMA; on task3-eq1's 8 -> 16 2x2 fwd
 *     (8x8, batch 128, Zen 5) 1.18x the 12x1 zmm tile, 16 -> 8 1x1 bwd_data 1.04-1.10x (the
 *     numbers of the commit that added it).
 */
#include <immintrin.h>
#include <string.h>
#include "kernels/avx512_part.h"
#include "kernels/conv2d/conv2d-few-avx512.h"

#define NOINL static __attribute__((noinline))

/* ---------------------------------------------------------------------------------------------
 * bwd_weights over input-channel vectors.  Sites per chunk: the chunk's input rows and gout
 * rows stay in L2 while every tap sweeps them. */
#define BWC_CH 256
#define BWC_NMAX 3

/* acc block [CO][N*16] (+)= sum over cnt sites of gout_s[co] * src_s[16v..]; src_s = tab[s],
 * gout_s = g + s*ldg. */
LB_INLINE void tile_bwc(const int CO, const int N, int cnt, const float *const *tab, const float *g, int ldg,
                        float *blk, __mmask16 tail) {
    __m512 acc[8][BWC_NMAX];
#pragma GCC unroll 8
    for (int c = 0; c < CO; c++)
#pragma GCC unroll 3
        for (int v = 0; v < N; v++) acc[c][v] = _mm512_load_ps(blk + (c * N + v) * 16);
#pragma GCC unroll 2
    for (int s = 0; s < cnt; s++) {
        const float *p = tab[s];
        __m512 x[BWC_NMAX];
#pragma GCC unroll 3
        for (int v = 0; v < N; v++) x[v] = v == N - 1 ? _mm512_maskz_loadu_ps(tail, p + 16 * v) : _mm512_loadu_ps(p + 16 * v);
#pragma GCC unroll 8
        for (int c = 0; c < CO; c++) {
            const __m512 b = _mm512_set1_ps(g[c]);
#pragma GCC unroll 3
            for (int v = 0; v < N; v++) acc[c][v] = _mm512_fmadd_ps(b, x[v], acc[c][v]);
        }
        g += ldg;
    }
#pragma GCC unroll 8
    for (int c = 0; c < CO; c++)
#pragma GCC unroll 3
        for (int v = 0; v < N; v++) _mm512_store_ps(blk + (c * N + v) * 16, acc[c][v]);
}

typedef void tile_bwc_fn(int cnt, const float *const *tab, const float *g, int ldg, float *blk, __mmask16 tail);
#define BWC_INST(CO, N)                                                                                      \
    NOINL void tile_bwc_##CO##x##N(int cnt, const float *const *tab, const float *g, int ldg, float *blk,      \
                                   __mmask16 tail) {                                                         \
        tile_bwc(CO, N, cnt, tab, g, ldg, blk, tail);                                                        \
    }
#define BWC_COL(CO) BWC_INST(CO, 1) BWC_INST(CO, 2) BWC_INST(CO, 3)
BWC_COL(1) BWC_COL(2) BWC_COL(3) BWC_COL(4) BWC_COL(5) BWC_COL(6) BWC_COL(7) BWC_COL(8)
#define BWC_PTRS(CO) {tile_bwc_##CO##x1, tile_bwc_##CO##x2, tile_bwc_##CO##x3}
static tile_bwc_fn *const bwc_tiles[8][BWC_NMAX] = {BWC_PTRS(1), BWC_PTRS(2), BWC_PTRS(3), BWC_PTRS(4),
                                                    BWC_PTRS(5), BWC_PTRS(6), BWC_PTRS(7), BWC_PTRS(8)};

/* tab[t*ch + j]: the input row tap t of output site s0 + j reads (taps (i, j) at displacement
 * (i + off(kh), j + off(kw)), the forward's). */
static void bwc_tab(const conv2d_desc *d, const float *in, int s0, int cnt, const float **tab, int ch) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), offh = conv2d_off(d->kh), offw = conv2d_off(d->kw);
    int n = s0 / (oh * ow), r = s0 / ow % oh, c = s0 % ow;
    for (int j = 0; j < cnt; j++) {
        for (int a = 0; a < d->kh; a++) {
            const float *rb = in + ((size_t)n * d->h + lb_wrap(r * d->sh + a + offh, d->h)) * d->w * d->cin;
            for (int b = 0; b < d->kw; b++)
                tab[(a * d->kw + b) * ch + j] = rb + (size_t)lb_wrap(c * d->sw + b + offw, d->w) * d->cin;
        }
        if (++c == ow) {
            c = 0;
            if (++r == oh) r = 0, n++;
        }
    }
}

/* gb[co] = sum of gout over the sites: per chunk, even and odd sites apart, then added (the
 * avx512 variant's order, so the same bits). */
static void bwc_bias(const float *g, int cnt, int cout, float *gb) {
    const __mmask16 mk = avx512_mask(cout);
    __m512 a0 = _mm512_maskz_loadu_ps(mk, gb), a1 = _mm512_setzero_ps();
    int s = 0;
    for (; s + 1 < cnt; s += 2, g += 2 * (size_t)cout) {
        a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(mk, g));
        a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(mk, g + cout));
    }
    if (s < cnt) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(mk, g));
    _mm512_mask_storeu_ps(gb, mk, _mm512_add_ps(a0, a1));
}

bool conv2d_few_bwd_weights_avx512(const conv2d_desc *d, const float *in, const float *gout, float *gw, float *gb) {
    const int cin = d->cin, cout = d->cout, T = d->kh * d->kw, N = (cin + 15) / 16;
    /* fewer than 12 accumulators (e.g. 16 -> 8: 8) leave the FMA latency exposed: 16 -> 8 1x1 ran
     * 1.47x slower than the ymm tiles (16 rows of accumulators) */
    if (cout > 8 || cin < 16 || N > BWC_NMAX || T > 9 || cout * N < 12) return false;
    const int L = N * 16; /* floats per row of the block */
    float blk[9 * 8 * BWC_NMAX * 16] __attribute__((aligned(64)));
    const float *tab[9 * BWC_CH];
    memset(blk, 0, sizeof(float) * T * cout * L);
    const int do_bias = d->bias && gb;
    for (int i = 0; i < cout && do_bias; i++) gb[i] = 0.0f;
    const __mmask16 tail = avx512_mask(cin - 16 * (N - 1));
    tile_bwc_fn *fn = bwc_tiles[cout - 1][N - 1];
    const int total = d->n * conv2d_oh(d) * conv2d_ow(d);
    /* chunks of whole images: the next full chunk's table is this one's shifted (same chunks) */
    const ptrdiff_t shift = conv2d_chunk_shift(BWC_CH, conv2d_oh(d) * conv2d_ow(d), (size_t)d->h * d->w * cin);
    for (int s0 = 0; s0 < total; s0 += BWC_CH) {
        const int cnt = total - s0 < BWC_CH ? total - s0 : BWC_CH;
        if (!conv2d_tab_next(tab, T, BWC_CH, BWC_CH, shift, s0, cnt, BWC_CH)) bwc_tab(d, in, s0, cnt, tab, BWC_CH);
        const float *g = gout + (size_t)s0 * cout;
        for (int t = 0; t < T; t++) fn(cnt, tab + t * BWC_CH, g, cout, blk + (size_t)t * cout * L, tail);
        if (do_bias) bwc_bias(g, cnt, cout, gb);
    }
    for (int t = 0; t < T; t++)
        for (int ci = 0; ci < cin; ci++)
            for (int co = 0; co < cout; co++)
                gw[((size_t)t * cin + ci) * cout + co] = blk[((size_t)t * cout + co) * L + ci];
    return true;
}

/* ---------------------------------------------------------------------------------------------
 * The pair path: dst[m][o] = bias[o] + sum_t sum_k src[t][m][k] * w_t[k][o], k in pairs; NP zmm
 * of 8 outputs each (NP = 2: 9..16 written channels, one broadcast feeds two FMAs). */
LB_INLINE void tile_pair(const int M, const int NP, int T, int K, const float *const *tab, int ch,
                         const float *const *wtab, const float *bias, __mmask16 tail, float *dst, size_t ldd,
                         int mrows) {
    __m512 acc[12][2];
#pragma GCC unroll 12
    for (int m = 0; m < M; m++)
#pragma GCC unroll 2
        for (int n = 0; n < NP; n++) acc[m][n] = _mm512_setzero_ps();
    for (int t = 0; t < T; t++) {
        const float *p[12];
#pragma GCC unroll 12
        for (int m = 0; m < M; m++) p[m] = tab[t * ch + m];
        const float *wp = wtab[t];
#pragma GCC unroll 2
        for (int k = 0; k < K; k += 2, wp += 16 * NP) {
            __m512 wv[2];
#pragma GCC unroll 2
            for (int n = 0; n < NP; n++) wv[n] = _mm512_load_ps(wp + 16 * n);
#pragma GCC unroll 12
            for (int m = 0; m < M; m++) {
                double v;
                memcpy(&v, p[m] + k, sizeof v);
                const __m512 b = _mm512_castpd_ps(_mm512_set1_pd(v));
#pragma GCC unroll 2
                for (int n = 0; n < NP; n++) acc[m][n] = _mm512_fmadd_ps(b, wv[n], acc[m][n]);
            }
        }
    }
    if (NP == 1) {
        const __mmask8 mk = (__mmask8)tail;
        const __m256 bv = bias ? _mm256_maskz_loadu_ps(mk, bias) : _mm256_setzero_ps();
        const __m512i even = _mm512_set_epi32(15, 13, 11, 9, 7, 5, 3, 1, 14, 12, 10, 8, 6, 4, 2, 0);
#pragma GCC unroll 12
        for (int m = 0; m < M; m++) {
            if (m >= mrows) break;
            const __m512 s = _mm512_add_ps(acc[m][0], _mm512_permute_ps(acc[m][0], 0xB1)); /* lane 2o: output o */
            const __m256 y = _mm256_add_ps(_mm512_castps512_ps256(_mm512_permutexvar_ps(even, s)), bv);
            _mm256_mask_storeu_ps(dst + m * ldd, mk, y);
        }
    } else {
        const __m512 bv = bias ? _mm512_maskz_loadu_ps(tail, bias) : _mm512_setzero_ps();
        /* the even lanes of the first vector (outputs 0..7), then of the second (8..15) */
        const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
#pragma GCC unroll 12
        for (int m = 0; m < M; m++) {
            if (m >= mrows) break;
            const __m512 s0 = _mm512_add_ps(acc[m][0], _mm512_permute_ps(acc[m][0], 0xB1));
            const __m512 s1 = _mm512_add_ps(acc[m][1], _mm512_permute_ps(acc[m][1], 0xB1));
            _mm512_mask_storeu_ps(dst + m * ldd, tail, _mm512_add_ps(_mm512_permutex2var_ps(s0, even, s1), bv));
        }
    }
}

#define PAIR_INST(M)                                                                                         \
    NOINL void tile_pair_##M(int T, int K, const float *const *tab, int ch, const float *const *wtab,        \
                             size_t ldw, const float *bias, __mmask16 tail, float *dst, size_t ldd,          \
                             int mrows) {                                                                    \
        (void)ldw;                                                                                           \
        tile_pair(M, 1, T, K, tab, ch, wtab, bias, tail, dst, ldd, mrows);                                   \
    }                                                                                                        \
    NOINL void tile_pair2_##M(int T, int K, const float *const *tab, int ch, const float *const *wtab,       \
                              size_t ldw, const float *bias, __mmask16 tail, float *dst, size_t ldd,         \
                              int mrows) {                                                                   \
        (void)ldw;                                                                                           \
        tile_pair(M, 2, T, K, tab, ch, wtab, bias, tail, dst, ldd, mrows);                                   \
    }
PAIR_INST(12) PAIR_INST(8) PAIR_INST(6) PAIR_INST(4)

conv2d_few_tile_fn *conv2d_few_pair_tile_avx512(int nc, int mmax, int *m) {
    const int w = nc > 8;
    if (!mmax || mmax >= 12) return *m = 12, w ? tile_pair2_12 : tile_pair_12;
    if (mmax >= 8) return *m = 8, w ? tile_pair2_8 : tile_pair_8;
    if (mmax >= 6) return *m = 6, w ? tile_pair2_6 : tile_pair_6;
    return *m = 4, w ? tile_pair2_4 : tile_pair_4;
}

void conv2d_few_pack_avx512(int T, int kc, int nc, const float *w, float *wp) {
    const int no = CONV2D_FEW_NO(nc);
    for (int t = 0; t < T; t++)
        for (int k = 0; k < kc; k++)
            for (int o = 0; o < no; o++)
                wp[((size_t)t * kc + (k & ~1)) * no + 16 * (o / 8) + 2 * (o % 8) + (k & 1)] =
                    o < nc ? w[((size_t)t * kc + k) * nc + o] : 0.0f;
}

/* conv2d, periodic padding, AVX-512 for narrow channel counts (see conv2d.h for the contract):
 * the variant "avx512n".
 *
 * The avx512 variant vectorizes over the channels it writes (output channels in fwd, input
 * channels in bwd_data).  With 4 such channels most of each vector is empty: bwd_data of the
 * 4 -> 32/64/80 1x1 layers ran at 15-18 % of the FMA peak on a Zen 5.  Here a 1x1 product
 * (kernel 1x1, stride 1: the sites' rows are contiguous) that writes NO' <= 8 channels from
 * K >= 16 is computed as dot products over the K reduction channels instead, for G = 16 / NO
 * sites at once (NO = NO' rounded up to 4 or 8):
 *   - per chunk of 4 k, each site's 4 values are broadcast to the four 128-bit blocks of a zmm
 *     (one vbroadcastf32x4 load) and multiplied by the weights of 4 outputs (block b: output
 *     4*og + b), so every FMA lane is useful;
 *   - accumulator a = s*NO/4 + og then holds output L = 4a + b of the group in block b, over 4
 *     lanes of k; 4 partial sets (16 zmm) cover the FMA latency;
 *   - after the reduction, 21 shuffles and adds turn the 16 accumulators into the group's 16
 *     contiguous outputs dst[site][o] (one permute puts them in order, a compress drops the
 *     padding lanes when NO' < NO), stored with one store.
 * The weights are rearranged once per call into a zero-padded [K/4][NO][4] block on the stack
 * (at most DOT_WMAX floats, i.e. K <= 512).  The group loop runs inside one call, so there is no
 * per-site set-up; the last, partial group reads its rows from a zero-padded copy.
 * Used for: bwd_data with cin <= 8 and fwd with cout <= 8 (1x1, stride 1, cout resp. cin
 * 16..512 and the written count 3..8).  Below K = 16 part of every block is zeros, and with taps
 * the per-site row pointers cost more than the lanes gained (a version with a pointer per site
 * and tap measured 0.85x on 8 -> 16 2x2 bwd_data, 1.0-1.1x on 32 -> 8 2x2 fwd); every other
 * shape, and bwd_weights, calls the avx512 variant, so the row is complete for every problem.
 * Packing instead (im2col: a chunk of sites' tap rows copied to one 16 KB [sites][T*K] block, then this
 * dot kernel over K' = T*K) measured 0.52-0.60x on 32 -> 8 2x2 fwd and 0.46-0.62x on 8 -> 16 2x2
 * bwd_data (8x8, batch 128, Zen 5): the copy alone took 66-68 resp. 49 us against the avx512
 * variant's 115-120 resp. 73 us, and the dot kernel at K = 128 runs at ~50 % of the FMA peak
 * (two 128-bit broadcasts and two weight loads per four FMAs).
 * Measured on the Zen 5 (1 thread, thread CPU time, interleaved with avx512, medians of 21
 * repetitions, 8 helpers loading the machine): 8x8 at batch 32 and 256, bwd_data 4 -> 32/64/80
 * 2.6-3.2x (to 27-37 % of the FMA peak), fwd 16 -> 8 1.6x; 64x64 at batch 32 (streaming from
 * memory) bwd_data 4 -> 32/64/80 2.4/1.45/1.3x, fwd 16 -> 8 1.7x.  Without the prefetch, 64x64
 * 4 -> 80 measured 0.86-0.97x; 64x64 at batch 256 was measured only without it.
 * Dispatch: not the AVX-512 default (not measured faster on every shape it takes, e.g. 64x64
 * at batch 256 with the prefetch); `latbench tune` times it against the default per
 * conv problem and the tuning profile selects it where it wins.
 */
#include <immintrin.h>
#include "kernels/avx512_part.h"
#include "kernels/conv2d/conv2d.h"

/* Weight block on the stack: NO x K rounded up to 16 (16 KB). */
#define DOT_WMAX 4096
#define DOT_KMAX (DOT_WMAX / 8)
/* Streaming from memory (operands above DOT_PF_BYTES): the rows DOT_PFD groups ahead are
 * prefetched.  At 2 MB (L3-resident 8x8 batch 256 layers) it cost ~15 %; at 19 MB and more
 * (64x64) it gained 1.2-1.6x. */
#define DOT_PF_BYTES (8 << 20)
#define DOT_PFD 8

/* 16 k: for each chunk of 4 k (partial set p), every site's 4 values broadcast to the 4 blocks
 * times the NO/4 weight vectors.  Site s reads src + s*ld.  FULL: all 16 k exist, else the
 * rows are zero-padded to a multiple of 16 (the caller's tail copy) or the mask limits them. */
LB_INLINE void dot_block(const int NO, const int FULL, const float *src, size_t ld, const float *wd, int k, int K,
                         __m512 acc[4][4]) {
    const int G = 16 / NO;
#pragma GCC unroll 4
    for (int p = 0; p < 4; p++) {
        const int kk = k + 4 * p;
        __m512 x[4];
#pragma GCC unroll 4
        for (int s = 0; s < G; s++)
            x[s] = FULL ? _mm512_broadcast_f32x4(_mm_loadu_ps(src + s * ld + kk))
                        : _mm512_broadcast_f32x4(_mm_maskz_loadu_ps((__mmask8)avx512_mask(K - kk), src + s * ld + kk));
#pragma GCC unroll 2
        for (int og = 0; og < NO / 4; og++) {
            const __m512 w = _mm512_load_ps(wd + (size_t)kk * NO + 16 * og);
#pragma GCC unroll 4
            for (int s = 0; s < G; s++) acc[p][s * (NO / 4) + og] = _mm512_fmadd_ps(x[s], w, acc[p][s * (NO / 4) + og]);
        }
    }
}

/* One group: the G sites whose rows are src + s*ld (K floats each); 16 outputs, of which the
 * compressed first nout are stored at dst. */
LB_INLINE void dot_group(const int NO, const float *src, size_t ld, int K, const float *wd, __m512 biasv,
                         __mmask16 keep, int ncompact, float *dst, int nout) {
    const int K16 = K & ~15;
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int p = 0; p < 4; p++)
#pragma GCC unroll 4
        for (int a = 0; a < 4; a++) acc[p][a] = _mm512_setzero_ps();
    for (int k = 0; k < K16; k += 16) dot_block(NO, 1, src, ld, wd, k, K, acc);
    if (K16 < K) dot_block(NO, 0, src, ld, wd, K16, K, acc);
    __m512 y[4];
#pragma GCC unroll 4
    for (int a = 0; a < 4; a++)
        y[a] = _mm512_add_ps(_mm512_add_ps(acc[0][a], acc[1][a]), _mm512_add_ps(acc[2][a], acc[3][a]));
    /* Sum the 4 lanes of every block: lane 4b + a of r holds block b of y[a], i.e. output 4a + b. */
    const __m512 z0 = _mm512_add_ps(_mm512_shuffle_ps(y[0], y[1], 0x44), _mm512_shuffle_ps(y[0], y[1], 0xEE));
    const __m512 z1 = _mm512_add_ps(_mm512_shuffle_ps(y[2], y[3], 0x44), _mm512_shuffle_ps(y[2], y[3], 0xEE));
    __m512 r = _mm512_add_ps(_mm512_shuffle_ps(z0, z1, 0x88), _mm512_shuffle_ps(z0, z1, 0xDD));
    const __m512i tr = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    r = _mm512_add_ps(_mm512_permutexvar_ps(tr, r), biasv);
    if (ncompact) r = _mm512_maskz_compress_ps(keep, r);
    _mm512_mask_storeu_ps(dst, avx512_mask(nout), r);
}

/* Every site: src [sites][K], dst [sites][no].  The full groups in one loop, then the rest. */
LB_INLINE void dot_sites(const int NO, size_t sites, int K, int no, const float *src, const float *wd,
                         __m512 biasv, __mmask16 keep, float *dst) {
    const int G = 16 / NO, ncompact = no != NO;
    const size_t full = sites / G;
    const int pf = (double)sites * (K + no) * sizeof(float) > DOT_PF_BYTES;
    const size_t gfl = (size_t)G * K;
    for (size_t g = 0; g < full; g++) {
        if (pf && g + DOT_PFD < full)
            for (size_t l = 0; l < gfl; l += 16)
                _mm_prefetch((const char *)(src + (g + DOT_PFD) * gfl + l), _MM_HINT_T0);
        dot_group(NO, src + g * gfl, (size_t)K, K, wd, biasv, keep, ncompact, dst + g * G * (size_t)no, G * no);
    }
    const int rest = (int)(sites - full * G);
    if (rest) {
        /* The last rows, zero-padded to G: no read past the tensor's end. */
        float tail[4 * DOT_KMAX];
        const float *s0 = src + full * G * (size_t)K;
        for (int i = 0; i < G * K; i++) tail[i] = i < rest * K ? s0[i] : 0.0f;
        dot_group(NO, tail, (size_t)K, K, wd, biasv, keep, ncompact, dst + full * G * (size_t)no, rest * no);
    }
}

typedef void dot_sites_fn(size_t sites, int K, int no, const float *src, const float *wd, __m512 biasv,
                          __mmask16 keep, float *dst);
#define DOT_INST(NO)                                                                                         \
    static __attribute__((noinline)) void dot_sites_##NO(size_t sites, int K, int no, const float *src,      \
                                                         const float *wd, __m512 biasv, __mmask16 keep,      \
                                                         float *dst) {                                       \
        dot_sites(NO, sites, K, no, src, wd, biasv, keep, dst);                                              \
    }
DOT_INST(4)
DOT_INST(8)

/* Whether the dot kernel takes a 1x1 stride-1 product of K reduction and no written channels. */
static int dot_fits(const conv2d_desc *d, int K, int no) {
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && no >= 3 && no <= 8 && K >= 16 && K <= DOT_KMAX;
}

/* dst[site][o] = bias[o] + sum_k src[site][k] * W[k][o] over every site (W [K][no]: fwd's w, or
 * bwd_data's wt, 1x1). */
static void dot_run(size_t sites, int K, int no, const float *src, const float *W, const float *bias, float *dst) {
    const int NO = no <= 4 ? 4 : 8, KP = (K + 15) / 16 * 16;
    /* wd: per chunk of 4 k, output o's 4 weights at 4*o (zero-padded to NO outputs, KP k). */
    float wd[DOT_WMAX] __attribute__((aligned(64)));
    for (int k = 0; k < KP; k++)
        for (int o = 0; o < NO; o++)
            wd[(size_t)(k & ~3) * NO + 4 * o + (k & 3)] = o < no && k < K ? W[(size_t)k * no + o] : 0.0f;
    /* Lane s*NO + o holds output o of site s: kept when o < no, bias added to those lanes. */
    float bl[16];
    __mmask16 keep = 0;
    for (int l = 0; l < 16; l++) {
        const int o = l % NO;
        bl[l] = o < no && bias ? bias[o] : 0.0f;
        if (o < no) keep |= (__mmask16)(1u << l);
    }
    (NO == 4 ? dot_sites_4 : dot_sites_8)(sites, K, no, src, wd, _mm512_loadu_ps(bl), keep, dst);
}

void conv2d_periodic_fwd__avx512n(const conv2d_desc *d, const float *in, const float *w, const float *bias,
                                  float *out) {
    if (dot_fits(d, d->cin, d->cout))
        dot_run((size_t)d->n * d->h * d->w, d->cin, d->cout, in, w, d->bias ? bias : NULL, out);
    else
        conv2d_periodic_fwd__avx512(d, in, w, bias, out);
}

void conv2d_periodic_bwd_data__avx512n(const conv2d_desc *d, const float *gout, const float *wt, float *gin) {
    /* 1x1, stride 1: gin[site] = gout[site] . wt, wt [cout][cin]. */
    if (dot_fits(d, d->cout, d->cin))
        dot_run((size_t)d->n * d->h * d->w, d->cout, d->cin, gout, wt, NULL, gin);
    else
        conv2d_periodic_bwd_data__avx512(d, gout, wt, gin);
}

void conv2d_periodic_bwd_weights__avx512n(const conv2d_desc *d, const float *in, const float *gout, float *gw,
                                          float *gb) {
    conv2d_periodic_bwd_weights__avx512(d, in, gout, gw, gb);
}

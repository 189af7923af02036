/* conv2d, periodic padding, AVX-512 (see conv2d.h for the contract).
 *
 * All three passes are register-blocked outer products over vectors of 16 channels:
 *   fwd / bwd_data (stride 1): a tile of M output sites x N zmm of output channels; per reduction
 *     step one weight row (N loads) and M scalar broadcasts feed M*N FMAs.  The reduction runs
 *     over taps x input channels; each site's source row per tap comes from a pointer table built
 *     once per chunk of sites, so the periodic wrap costs nothing in the inner loop.  bwd_data is
 *     the same product with gout as source, wt as weights and the tap displacements mirrored:
 *     gin(t) = sum_i gout(t - i - off) . wt[i].
 *   bwd_data with stride 2: a gather per input site over the taps that hit it.
 *   bwd_weights: a tile of M rows of gw (input channels of one tap) x N zmm of output channels,
 *     held in registers while it sweeps a chunk of sites; per site N gout loads and M broadcasts
 *     feed M*N FMAs.
 * Tile shapes (M x N): 12x1, 12x2, 8x3, 6x4, 5x5 (cout 80 = 5 vectors exactly), at most 25
 * accumulators + N weight vectors + 1 broadcast of the 32 zmm; more than 5 vectors split into
 * balanced column blocks.  At most 8 channels use a ymm instead (Zen 4 issues two ymm FMAs per
 * cycle against one zmm FMA, so a ymm of 8 live lanes runs twice as fast as a masked zmm); where
 * the shape fits, full zmm do it instead (conv2d-few-avx512.c: twice the ymm rate on Zen 5).
 * M and N are compile-time constants in each instantiation, so the accumulators stay in
 * registers.  Channel tails use masks (masked loads never fault).  Per call: ~40 KB of stack,
 * no allocation.
 * These choices were tuned by hand on Zen 4; the tuning parameters (conv2d.h: lower tile heights,
 * prefetch on/off, masked zmm for <= 8 channels, the bwd_weights chunk and tile height) let
 * `latbench tune` revisit them per layer on other cores (Zen 5: two 512-bit FMA pipes).
 * Zen 4 peak is one zmm FMA per cycle (32 flop/cycle): 8x8 layers with >= 48 channels reach
 * 93-100% of it from L2; layers streaming from DRAM (64x64, batch 32) are memory-latency bound.
 * Why not conv2d-driver.h (the AVX2/NEON loops): the loops differ, not just the primitives.  Here
 * a tile spans up to 5 vectors per column block (the driver: 16 channels, <= 2 AVX2 vectors) with
 * a tile height per width, site rows come from a pointer table (the driver: offset tables), the
 * forward tiles prefetch software-side above PF_BYTES, <= 8 channels run on ymm, and bwd_data at
 * stride 2 gathers per input site where the driver scatters per tap.  Folding would mean
 * parameterising every one of these choices.
 */
#include <immintrin.h>
#include "kernels/avx512_part.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/conv2d/conv2d-few-avx512.h"

#define NOINL static __attribute__((noinline))

/* Sites per chunk: a multiple of every fwd tile height, small enough that the pointer table
 * (9 taps) on the stack stays ~20 KB (rounded down to whole images where one fits: fwd_like). */
#define FWD_CH 240
#define FWD_MMAX 12
/* Software prefetch distance in tiles, and the operand size above which it is used (below,
 * operands come from L2 and the prefetches only cost issue slots: measured ~10% slower). */
#define FWD_PFD 1
#define PF_BYTES (2 << 20)
#define FWD_TABW (FWD_CH + (FWD_PFD + 1) * FWD_MMAX)
#define PAIR16_WORK 4096
/* Sites per chunk in bwd_weights: the chunk's gout and input rows are swept once per gw tile
 * and should stay in L2; the gw tile is reloaded once per chunk (128 measured ~4% slower on Zen 4).
 * The bww_chunk parameter sets it, up to BWW_CH_MAX. */
#define BWW_CH 256
#define BWW_CH_MAX 512
#define TAPS_MAX 9
#define MAXM 12
#define MAXN 5

/* Geometry of a product: destination grid (n, oh, ow); source `src` [n][hs][ws][kc]; tap (i, j) of
 * destination site (r, c) reads source site (r*sh + dr[i], c*sw + dc[j]), wrapped. */
typedef struct {
    const float *src;
    int hs, ws, kc, sh, sw, kh, kw, oh, ow;
    const int *dr, *dc; /* each in {-1, 0, 1} */
} geom;

/* Pointer table: tab[tap*ch + j] = source row read by site s0+j at tap, for j < cnt.  Entries
 * cnt..pad_to-1 repeat the last site: tiles compute such rows and drop them, and prefetches of
 * "the next tile" stay harmless.  Walks the sites as segments of one output row, so the row
 * wrap is done once per segment and the column wrap is a compare per site (no division:
 * |dr|, |dc| <= 1 and r*sh <= hs-1, c*sw <= ws-1). */
static void build_tab(const float **tab, int ch, int s0, int cnt, int pad_to, const geom *g) {
    const int T = g->kh * g->kw, kc = g->kc, ws = g->ws, sw = g->sw, per = g->oh * g->ow;
    int n = s0 / per, r = (s0 - n * per) / g->ow, c = s0 - n * per - r * g->ow;
    for (int j = 0; j < cnt;) {
        const int len = g->ow - c < cnt - j ? g->ow - c : cnt - j;
        for (int i = 0; i < g->kh; i++) {
            const float *rb = g->src + ((size_t)n * g->hs + lb_wrap(r * g->sh + g->dr[i], g->hs)) * ws * kc;
            for (int jj = 0; jj < g->kw; jj++) {
                const float **tp = tab + (i * g->kw + jj) * ch + j;
                const int d = g->dc[jj];
                for (int q = 0; q < len; q++) tp[q] = rb + (size_t)lb_wrap((c + q) * sw + d, ws) * kc;
            }
        }
        j += len;
        c += len;
        if (c == g->ow) {
            c = 0;
            if (++r == g->oh) { r = 0; n++; }
        }
    }
    for (int j = cnt; j < pad_to; j++)
        for (int t = 0; t < T; t++) tab[t * ch + j] = tab[t * ch + cnt - 1];
}

/* ---------------------------------------------------------------------------------------------
 * fwd-style tile: dst[m][16v..] (+)= sum_t sum_k src[t][m][k] * w_t[k][16v..]
 * src rows: tab[t*ch + m]; weights of tap t: wtab[t] + k*ldw; dst row m: dst + m*ldd.
 */
LB_INLINE void tile_fwd(const int M, const int N, const int PF, int T, int K, const float *const *tab, int ch,
                 const float *const *wtab, size_t ldw, const float *bias, __mmask16 tail, float *dst, size_t ldd,
                 int mrows) {
    __m512 acc[MAXM][MAXN]; /* fixed sizes: with M, N constant the arrays become registers */
#pragma GCC unroll 16
    for (int m = 0; m < M; m++)
#pragma GCC unroll 8
        for (int v = 0; v < N; v++)
            acc[m][v] = bias ? _mm512_maskz_loadu_ps(v == N - 1 ? tail : 0xFFFF, bias + 16 * v) : _mm512_setzero_ps();
    /* Streaming (PF): the next tile's output lines are fetched for writing meanwhile. */
#pragma GCC unroll 16
    for (int m = 0; m < M && PF; m++)
#pragma GCC unroll 8
        for (int v = 0; v < N; v++) __builtin_prefetch(dst + (FWD_PFD * M + m) * ldd + 16 * v, 1, 3);
    for (int t = 0; t < T; t++) {
        const float *p[MAXM];
#pragma GCC unroll 16
        for (int m = 0; m < M; m++) p[m] = tab[t * ch + m];
        const float *wp = wtab[t];
        /* The next tile's rows of this tap, one line per 16 channels, issued while this tile
         * computes: the row streams are too many and too short for the hardware prefetcher. */
        const float *const *pn = tab + t * ch + FWD_PFD * M;
        for (int k0 = 0; k0 < K; k0 += 16) {
#pragma GCC unroll 16
            for (int m = 0; m < M && PF; m++) _mm_prefetch((const char *)(pn[m] + k0), _MM_HINT_T0);

            const int k1 = k0 + 16 < K ? k0 + 16 : K;
#pragma GCC unroll 2
            for (int k = k0; k < k1; k++) {
                __m512 wv[MAXN];
#pragma GCC unroll 8
                for (int v = 0; v < N; v++)
                    wv[v] = v == N - 1 ? _mm512_maskz_loadu_ps(tail, wp + 16 * v) : _mm512_loadu_ps(wp + 16 * v);
                wp += ldw;
#pragma GCC unroll 16
                for (int m = 0; m < M; m++) {
                    __m512 b = _mm512_set1_ps(p[m][k]);
#pragma GCC unroll 8
                    for (int v = 0; v < N; v++) acc[m][v] = _mm512_fmadd_ps(b, wv[v], acc[m][v]);
                }
            }
        }
    }
#pragma GCC unroll 16
    for (int m = 0; m < M; m++) {
        if (m >= mrows) break;
#pragma GCC unroll 8
        for (int v = 0; v < N; v++) {
            if (v == N - 1)
                _mm512_mask_storeu_ps(dst + m * ldd + 16 * v, tail, acc[m][v]);
            else
                _mm512_storeu_ps(dst + m * ldd + 16 * v, acc[m][v]);
        }
    }
}

typedef void tile_fwd_fn(int T, int K, const float *const *tab, int ch, const float *const *wtab, size_t ldw,
                         const float *bias, __mmask16 tail, float *dst, size_t ldd, int mrows);

#define FWD_INST(M, N)                                                                                       \
    NOINL void tile_fwd_##M##x##N(int T, int K, const float *const *tab, int ch, const float *const *wtab,   \
                                  size_t ldw, const float *bias, __mmask16 tail, float *dst, size_t ldd,     \
                                  int mrows) {                                                               \
        tile_fwd(M, N, 0, T, K, tab, ch, wtab, ldw, bias, tail, dst, ldd, mrows);                           \
    }                                                                                                        \
    NOINL void tile_fwd_##M##x##N##_pf(int T, int K, const float *const *tab, int ch, const float *const *wtab, \
                                       size_t ldw, const float *bias, __mmask16 tail, float *dst, size_t ldd, \
                                       int mrows) {                                                          \
        tile_fwd(M, N, 1, T, K, tab, ch, wtab, ldw, bias, tail, dst, ldd, mrows);                           \
    }
/* Tile heights per width: M*N accumulators + N weight vectors + a broadcast fit in 32 zmm,
 * and the M row pointers in general registers (M = 24 for one vector spills them: slower).  The
 * tallest per width is the default; the lower ones are the fwd_m parameter's choices. */
FWD_INST(12, 1) FWD_INST(8, 1) FWD_INST(6, 1) FWD_INST(4, 1)
FWD_INST(12, 2) FWD_INST(8, 2) FWD_INST(6, 2) FWD_INST(4, 2)
FWD_INST(8, 3) FWD_INST(6, 3) FWD_INST(4, 3)
FWD_INST(6, 4) FWD_INST(4, 4)
FWD_INST(5, 5) FWD_INST(4, 5)
/* [prefetching][N][k]: the heights fwd_heights[k] available at width N (NULL: none). */
#define FWD_NH 5
static const int fwd_heights[FWD_NH] = {12, 8, 6, 5, 4};
#define FWD_ROW(N, pf) tile_fwd_12x##N##pf, tile_fwd_8x##N##pf, tile_fwd_6x##N##pf, NULL, tile_fwd_4x##N##pf
static tile_fwd_fn *const fwd_tiles[2][6][FWD_NH] = {
    {{NULL}, {FWD_ROW(1, )}, {FWD_ROW(2, )}, {NULL, tile_fwd_8x3, tile_fwd_6x3, NULL, tile_fwd_4x3},
     {NULL, NULL, tile_fwd_6x4, NULL, tile_fwd_4x4}, {NULL, NULL, NULL, tile_fwd_5x5, tile_fwd_4x5}},
    {{NULL}, {FWD_ROW(1, _pf)}, {FWD_ROW(2, _pf)}, {NULL, tile_fwd_8x3_pf, tile_fwd_6x3_pf, NULL, tile_fwd_4x3_pf},
     {NULL, NULL, tile_fwd_6x4_pf, NULL, tile_fwd_4x4_pf}, {NULL, NULL, NULL, tile_fwd_5x5_pf, tile_fwd_4x5_pf}}};

/* The same product for at most 8 channels in one ymm: Zen 4 (like Intel cores) issues two ymm
 * FMAs per cycle against one zmm FMA, so 8 channels in a ymm run at twice the rate of 8 live
 * lanes in a masked zmm. */
LB_INLINE void tile_fwd_y(const int M, const int PF, int T, int K, const float *const *tab, int ch, const float *const *wtab, size_t ldw,
                   const float *bias, __mmask8 tail, float *dst, size_t ldd, int mrows) {
    __m256 acc[MAXM];
#pragma GCC unroll 16
    for (int m = 0; m < M; m++) acc[m] = bias ? _mm256_maskz_loadu_ps(tail, bias) : _mm256_setzero_ps();
    for (int t = 0; t < T; t++) {
        const float *p[MAXM];
#pragma GCC unroll 16
        for (int m = 0; m < M; m++) p[m] = tab[t * ch + m];
        const float *wp = wtab[t];
        const float *const *pn = tab + t * ch + FWD_PFD * M;
        for (int k0 = 0; k0 < K; k0 += 16) {
#pragma GCC unroll 16
            for (int m = 0; m < M && PF; m++) _mm_prefetch((const char *)(pn[m] + k0), _MM_HINT_T0);
            const int k1 = k0 + 16 < K ? k0 + 16 : K;
#pragma GCC unroll 2
            for (int k = k0; k < k1; k++) {
                const __m256 wv = _mm256_maskz_loadu_ps(tail, wp);
                wp += ldw;
#pragma GCC unroll 16
                for (int m = 0; m < M; m++) acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(p[m][k]), wv, acc[m]);
            }
        }
    }
#pragma GCC unroll 16
    for (int m = 0; m < M; m++) {
        if (m >= mrows) break;
        _mm256_mask_storeu_ps(dst + m * ldd, tail, acc[m]);
    }
}
#define FWDY_INST(M)                                                                                         \
    NOINL void tile_fwd_y##M(int T, int K, const float *const *tab, int ch, const float *const *wtab,          \
                             size_t ldw, const float *bias, __mmask16 tail, float *dst, size_t ldd, int mrows) { \
        tile_fwd_y(M, 0, T, K, tab, ch, wtab, ldw, bias, (__mmask8)tail, dst, ldd, mrows);                   \
    }                                                                                                        \
    NOINL void tile_fwd_y##M##_pf(int T, int K, const float *const *tab, int ch, const float *const *wtab,     \
                                  size_t ldw, const float *bias, __mmask16 tail, float *dst, size_t ldd,     \
                                  int mrows) {                                                               \
        tile_fwd_y(M, 1, T, K, tab, ch, wtab, ldw, bias, (__mmask8)tail, dst, ldd, mrows);                   \
    }
FWDY_INST(12) FWDY_INST(8) FWDY_INST(6) FWDY_INST(4)
static tile_fwd_fn *const fwdy_tiles[2][FWD_NH] = {{tile_fwd_y12, tile_fwd_y8, tile_fwd_y6, NULL, tile_fwd_y4},
                                                   {tile_fwd_y12_pf, tile_fwd_y8_pf, tile_fwd_y6_pf, NULL, tile_fwd_y4_pf}};

/* The tile of width N (ymm: the ymm one) at the tallest height <= mmax (0: no limit); its height in *m. */
static tile_fwd_fn *fwd_tile(int N, int ymm, int pf, int mmax, int *m) {
    for (int k = 0; k < FWD_NH; k++) {
        tile_fwd_fn *fn = ymm ? fwdy_tiles[pf][k] : fwd_tiles[pf][N][k];
        if (fn && (!mmax || fwd_heights[k] <= mmax || k == FWD_NH - 1)) return *m = fwd_heights[k], fn;
    }
    return *m = 0, NULL;
}

/* Splits n items into nb = ceil(n / most) blocks of balanced sizes (e.g. 13 rows, at most 8 per
 * block -> 7 + 6; 6 vectors, at most 5 -> 3 + 3); block b starts at *start and has *size items. */
static inline void split_block(int n, int most, int b, int *start, int *size) {
    int nb = (n + most - 1) / most, base = n / nb, extra = n % nb;
    *size = base + (b < extra);
    *start = b * base + (b < extra ? b : extra);
}

/* out[site][nc] = bias + sum over taps of src rows (kc channels) x weights wtab[tap][kc][nc].
 * Destination grid (n, oh, ow); source grid (n, hs, ws); source row of tap (i, j) for destination
 * (r, c) is (r*sh + dr[i], c*sw + dc[j]). */
static void fwd_like(const lb_params *prm, int nimg, int oh, int ow, int nc, const float *src, int hs, int ws, int kc,
                     int sh, int sw, int kh, int kw, const int *dr, const int *dc, const float *w, const float *bias,
                     float *dst) {
    const geom g = {src, hs, ws, kc, sh, sw, kh, kw, oh, ow, dr, dc};
    const int T = kh * kw;
    const int nv = (nc + 15) / 16;
    const int nb = (nv + 4) / 5;
    const float *tab[TAPS_MAX * FWD_TABW];
    const float *wtab[TAPS_MAX];
    /* (Copying short patches into one contiguous row per site, im2col style, to save the per-tap
     * loop on few-channel layers measured slower than these pointers on every layer tried.) */
    const int total = nimg * oh * ow;
    const int pfp = prm->v[CONV2D_AVX512_FWD_PREFETCH];
    const int pf = pfp ? pfp == 2 : (double)total * (kc + nc) * sizeof(float) > PF_BYTES;
    const int ymm = nc <= 8 && prm->v[CONV2D_AVX512_SMALL_ZMM] != 1;
    /* <= 16 channels, from L2: pairs of k in full zmm (conv2d-few-avx512.c) unless small_zmm asks
     * otherwise; 9..16 only from PAIR16_WORK reduction steps (total sites x taps x kc): below, the
     * weight packing per call cost more than it saved (8x8 batch 1: 0.90-0.96x, Zen 5) */
    const int pair = !pf && !prm->v[CONV2D_AVX512_SMALL_ZMM] && conv2d_few_pair_fits(T, kc, nc) &&
                     (nc <= 8 || (double)total * T * kc >= PAIR16_WORK);
    float wpk[CONV2D_FEW_WMAX] __attribute__((aligned(64)));
    if (pair) conv2d_few_pack_avx512(T, kc, nc, w, wpk);
    /* Whole images per chunk where one fits (8x8: 192 sites): the next full chunk's table is then
     * this one's shifted by that many source images (conv2d_tab_next). */
    const int per = oh * ow, chunk = per <= FWD_CH ? FWD_CH / per * per : FWD_CH;
    const int padw = chunk + (FWD_PFD + 1) * FWD_MMAX;
    const ptrdiff_t shift = conv2d_chunk_shift(chunk, per, (size_t)hs * ws * kc);
    for (int s0 = 0; s0 < total; s0 += chunk) {
        const int cnt = total - s0 < chunk ? total - s0 : chunk;
        if (!conv2d_tab_next(tab, T, FWD_TABW, (size_t)padw, shift, s0, cnt, chunk))
            build_tab(tab, FWD_TABW, s0, cnt, cnt + (FWD_PFD + 1) * FWD_MMAX, &g);
        for (int b = 0; b < nb; b++) {
            int vb, N;
            split_block(nv, 5, b, &vb, &N);
            const int co0 = vb * 16;
            const int last = b == nb - 1;
            const __mmask16 tail = last && (nc & 15) ? avx512_mask(nc & 15) : 0xFFFF;
            for (int t = 0; t < T; t++) wtab[t] = pair ? wpk + CONV2D_FEW_PACK(t, kc, nc) : w + (size_t)t * kc * nc + co0;
            int M;
            tile_fwd_fn *fn = pair ? conv2d_few_pair_tile_avx512(nc, prm->v[CONV2D_AVX512_FWD_M], &M)
                                   : fwd_tile(N, ymm, pf, prm->v[CONV2D_AVX512_FWD_M], &M);
            for (int j = 0; j < cnt; j += M)
                fn(T, kc, tab + j, FWD_TABW, wtab, nc, bias ? bias + co0 : NULL, tail,
                   dst + (size_t)(s0 + j) * nc + co0, nc, cnt - j < M ? cnt - j : M);
        }
    }
}

void conv2d_periodic_fwd__avx512(const conv2d_desc *d, const float *in, const float *w, const float *bias,
                                 float *out) {
    int dr[3], dc[3];
    for (int i = 0; i < d->kh; i++) dr[i] = i + conv2d_off(d->kh);
    for (int j = 0; j < d->kw; j++) dc[j] = j + conv2d_off(d->kw);
    fwd_like(&d->params, d->n, conv2d_oh(d), conv2d_ow(d), d->cout, in, d->h, d->w, d->cin, d->sh, d->sw, d->kh, d->kw, dr, dc,
             w, d->bias ? bias : NULL, out);
}

/* ---------------------------------------------------------------------------------------------
 * bwd_data, stride 2 in some direction: gin(r, c) gathers gout(q_r / sh, q_c / sw) over the taps
 * with q = (r - i - off) mod h divisible by the stride.  One site at a time, up to 4 vectors. */
LB_INLINE void gather_site(const int N, int ntap, const float *const *gp, const float *const *wp, int K, size_t ldw,
                    __mmask16 tail, float *dst) {
    __m512 acc[MAXN];
#pragma GCC unroll 8
    for (int v = 0; v < N; v++) acc[v] = _mm512_setzero_ps();
    for (int t = 0; t < ntap; t++) {
        const float *g = gp[t], *wr = wp[t];
#pragma GCC unroll 2
        for (int k = 0; k < K; k++) {
            __m512 b = _mm512_set1_ps(g[k]);
#pragma GCC unroll 8
            for (int v = 0; v < N; v++) {
                __m512 wv = v == N - 1 ? _mm512_maskz_loadu_ps(tail, wr + 16 * v) : _mm512_loadu_ps(wr + 16 * v);
                acc[v] = _mm512_fmadd_ps(b, wv, acc[v]);
            }
            wr += ldw;
        }
    }
#pragma GCC unroll 8
    for (int v = 0; v < N; v++) {
        if (v == N - 1)
            _mm512_mask_storeu_ps(dst + 16 * v, tail, acc[v]);
        else
            _mm512_storeu_ps(dst + 16 * v, acc[v]);
    }
}

static void bwd_data_strided(const conv2d_desc *d, const float *gout, const float *wt, float *gin) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), h = d->h, w = d->w, cin = d->cin, cout = d->cout;
    const int offh = conv2d_off(d->kh), offw = conv2d_off(d->kw);
    const int nv = (cin + 15) / 16;
    for (int n = 0; n < d->n; n++)
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) {
                const float *gp[TAPS_MAX], *tap_w[TAPS_MAX];
                int ntap = 0;
                for (int i = 0; i < d->kh; i++) {
                    int qr = lb_wrap(r - i - offh, h);
                    if (qr % d->sh) continue;
                    for (int j = 0; j < d->kw; j++) {
                        int qc = lb_wrap(c - j - offw, w);
                        if (qc % d->sw) continue;
                        gp[ntap] = gout + (((size_t)n * oh + qr / d->sh) * ow + qc / d->sw) * cout;
                        tap_w[ntap] = wt + (size_t)(i * d->kw + j) * cout * cin;
                        ntap++;
                    }
                }
                float *dst = gin + (((size_t)n * h + r) * w + c) * cin;
                for (int v0 = 0; v0 < nv; v0 += 4) {
                    const int N = nv - v0 < 4 ? nv - v0 : 4;
                    const __mmask16 tail =
                        v0 + N == nv && (cin & 15) ? avx512_mask(cin & 15) : 0xFFFF;
                    const float *wv[TAPS_MAX];
                    for (int t = 0; t < ntap; t++) wv[t] = tap_w[t] + v0 * 16;
                    switch (N) {
                    case 1: gather_site(1, ntap, gp, wv, cout, cin, tail, dst + v0 * 16); break;
                    case 2: gather_site(2, ntap, gp, wv, cout, cin, tail, dst + v0 * 16); break;
                    case 3: gather_site(3, ntap, gp, wv, cout, cin, tail, dst + v0 * 16); break;
                    default: gather_site(4, ntap, gp, wv, cout, cin, tail, dst + v0 * 16); break;
                    }
                }
            }
}

void conv2d_periodic_bwd_data__avx512(const conv2d_desc *d, const float *gout, const float *wt, float *gin) {
    if (d->sh != 1 || d->sw != 1) {
        bwd_data_strided(d, gout, wt, gin);
        return;
    }
    /* Stride 1: gin(r, c) = sum_{i,j} gout(r - i - offh, c - j - offw) . wt[i][j], i.e. the
     * forward product over gout with mirrored tap displacements. */
    int dr[3], dc[3];
    for (int i = 0; i < d->kh; i++) dr[i] = -(i + conv2d_off(d->kh));
    for (int j = 0; j < d->kw; j++) dc[j] = -(j + conv2d_off(d->kw));
    fwd_like(&d->params, d->n, d->h, d->w, d->cin, gout, d->h, d->w, d->cout, 1, 1, d->kh, d->kw, dr, dc, wt, NULL, gin);
}

/* ---------------------------------------------------------------------------------------------
 * bwd_weights tile: gw[m][16v..] += sum_s src_s[m] * gout_s[16v..] over `cnt` sites, where
 * src_s = tab[s] + ci0 and gout_s = g + s*ldg. */
LB_INLINE void tile_bww(const int M, const int N, int cnt, const float *const *tab, int ci0, const float *g, size_t ldg,
                 float *gw, size_t ldw, __mmask16 tail) {
    __m512 acc[MAXM][MAXN]; /* fixed sizes: with M, N constant the arrays become registers */
#pragma GCC unroll 16
    for (int m = 0; m < M; m++)
#pragma GCC unroll 8
        for (int v = 0; v < N; v++)
            acc[m][v] = v == N - 1 ? _mm512_maskz_loadu_ps(tail, gw + m * ldw + 16 * v)
                                   : _mm512_loadu_ps(gw + m * ldw + 16 * v);
#pragma GCC unroll 2
    for (int s = 0; s < cnt; s++) {
        const float *p = tab[s] + ci0;
        __m512 gv[MAXN];
#pragma GCC unroll 8
        for (int v = 0; v < N; v++)
            gv[v] = v == N - 1 ? _mm512_maskz_loadu_ps(tail, g + 16 * v) : _mm512_loadu_ps(g + 16 * v);
        g += ldg;
#pragma GCC unroll 16
        for (int m = 0; m < M; m++) {
            __m512 b = _mm512_set1_ps(p[m]);
#pragma GCC unroll 8
            for (int v = 0; v < N; v++) acc[m][v] = _mm512_fmadd_ps(b, gv[v], acc[m][v]);
        }
    }
#pragma GCC unroll 16
    for (int m = 0; m < M; m++)
#pragma GCC unroll 8
        for (int v = 0; v < N; v++) {
            if (v == N - 1)
                _mm512_mask_storeu_ps(gw + m * ldw + 16 * v, tail, acc[m][v]);
            else
                _mm512_storeu_ps(gw + m * ldw + 16 * v, acc[m][v]);
        }
}

typedef void tile_bww_fn(int cnt, const float *const *tab, int ci0, const float *g, size_t ldg, float *gw,
                         size_t ldw, __mmask16 tail);
#define BWW_INST(M, N)                                                                                       \
    NOINL void tile_bww_##M##x##N(int cnt, const float *const *tab, int ci0, const float *g, size_t ldg,     \
                                  float *gw, size_t ldw, __mmask16 tail) {                                   \
        tile_bww(M, N, cnt, tab, ci0, g, ldg, gw, ldw, tail);                                                \
    }
/* Every height up to the maximum per width, so that cin tails need no padding rows. */
#define BWW_ROW(N) BWW_INST(1, N) BWW_INST(2, N) BWW_INST(3, N) BWW_INST(4, N) BWW_INST(5, N)
BWW_ROW(1) BWW_ROW(2) BWW_ROW(3) BWW_ROW(4) BWW_ROW(5)
BWW_INST(6, 1) BWW_INST(7, 1) BWW_INST(8, 1) BWW_INST(9, 1) BWW_INST(10, 1) BWW_INST(11, 1) BWW_INST(12, 1)
BWW_INST(6, 2) BWW_INST(7, 2) BWW_INST(8, 2) BWW_INST(9, 2) BWW_INST(10, 2) BWW_INST(11, 2) BWW_INST(12, 2)
BWW_INST(6, 3) BWW_INST(7, 3) BWW_INST(8, 3)
BWW_INST(6, 4)
#define BWW_PTRS(N) tile_bww_1x##N, tile_bww_2x##N, tile_bww_3x##N, tile_bww_4x##N, tile_bww_5x##N
static tile_bww_fn *const bww_tiles[6][13] = {
    {NULL},
    {NULL, BWW_PTRS(1), tile_bww_6x1, tile_bww_7x1, tile_bww_8x1, tile_bww_9x1, tile_bww_10x1, tile_bww_11x1,
     tile_bww_12x1},
    {NULL, BWW_PTRS(2), tile_bww_6x2, tile_bww_7x2, tile_bww_8x2, tile_bww_9x2, tile_bww_10x2, tile_bww_11x2,
     tile_bww_12x2},
    {NULL, BWW_PTRS(3), tile_bww_6x3, tile_bww_7x3, tile_bww_8x3},
    {NULL, BWW_PTRS(4), tile_bww_6x4},
    {NULL, BWW_PTRS(5)},
};
static const int bww_mmax[6] = {0, 12, 12, 8, 6, 5};

/* At most 8 output channels: one ymm (see tile_fwd_y).  All rows come from one pointer per site,
 * so the height is limited by ymm registers only. */
LB_INLINE void tile_bww_y(const int M, int cnt, const float *const *tab, int ci0, const float *g, size_t ldg, float *gw,
                   size_t ldw, __mmask8 tail) {
    __m256 acc[16];
#pragma GCC unroll 16
    for (int m = 0; m < M; m++) acc[m] = _mm256_maskz_loadu_ps(tail, gw + m * ldw);
#pragma GCC unroll 2
    for (int s = 0; s < cnt; s++) {
        const float *p = tab[s] + ci0;
        const __m256 gv = _mm256_maskz_loadu_ps(tail, g);
        g += ldg;
#pragma GCC unroll 16
        for (int m = 0; m < M; m++) acc[m] = _mm256_fmadd_ps(_mm256_set1_ps(p[m]), gv, acc[m]);
    }
#pragma GCC unroll 16
    for (int m = 0; m < M; m++) _mm256_mask_storeu_ps(gw + m * ldw, tail, acc[m]);
}
#define BWWY_INST(M)                                                                                         \
    NOINL void tile_bwwy_##M(int cnt, const float *const *tab, int ci0, const float *g, size_t ldg, float *gw,   \
                             size_t ldw, __mmask16 tail) {                                                   \
        tile_bww_y(M, cnt, tab, ci0, g, ldg, gw, ldw, (__mmask8)tail);                                       \
    }
BWWY_INST(1) BWWY_INST(2) BWWY_INST(3) BWWY_INST(4) BWWY_INST(5) BWWY_INST(6) BWWY_INST(7) BWWY_INST(8)
BWWY_INST(9) BWWY_INST(10) BWWY_INST(11) BWWY_INST(12) BWWY_INST(13) BWWY_INST(14) BWWY_INST(15) BWWY_INST(16)
static tile_bww_fn *const bwwy_tiles[17] = {NULL, tile_bwwy_1, tile_bwwy_2, tile_bwwy_3, tile_bwwy_4, tile_bwwy_5,
                                            tile_bwwy_6, tile_bwwy_7, tile_bwwy_8, tile_bwwy_9, tile_bwwy_10,
                                            tile_bwwy_11, tile_bwwy_12, tile_bwwy_13, tile_bwwy_14, tile_bwwy_15,
                                            tile_bwwy_16};

void conv2d_periodic_bwd_weights__avx512(const conv2d_desc *d, const float *in, const float *gout, float *gw,
                                         float *gb) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), cin = d->cin, cout = d->cout, T = d->kh * d->kw;
    const int nv = (cout + 15) / 16;
    int dr[3], dc[3];
    for (int i = 0; i < d->kh; i++) dr[i] = i + conv2d_off(d->kh);
    for (int j = 0; j < d->kw; j++) dc[j] = j + conv2d_off(d->kw);
    const int nb = (nv + 4) / 5;
    const int CH = d->params.v[CONV2D_AVX512_BWW_CHUNK] ? d->params.v[CONV2D_AVX512_BWW_CHUNK] : BWW_CH;
    const int mlim = d->params.v[CONV2D_AVX512_BWW_M], ymm = cout <= 8 && d->params.v[CONV2D_AVX512_SMALL_ZMM] != 1;
    /* <= 8 channels: over input-channel vectors in full zmm where it fits (the same bits) */
    if (ymm && !d->params.v[CONV2D_AVX512_SMALL_ZMM] && conv2d_few_bwd_weights_avx512(d, in, gout, gw, gb)) return;
    const float *tab[TAPS_MAX * BWW_CH_MAX];
    const geom geo = {in, d->h, d->w, cin, d->sh, d->sw, d->kh, d->kw, oh, ow, dr, dc};
    const __mmask16 full = 0xFFFF, tailm = (cout & 15) ? avx512_mask(cout & 15) : full;

    for (size_t i = 0; i < conv2d_w_size(d); i++) gw[i] = 0.0f;
    const int do_bias = d->bias && gb;
    for (int i = 0; i < cout && do_bias; i++) gb[i] = 0.0f;

    const int total = d->n * oh * ow;
    /* chunks of whole images: the next full chunk's table is this one's shifted (the chunking,
     * hence the summation order, is the same either way) */
    const ptrdiff_t shift = conv2d_chunk_shift(CH, oh * ow, (size_t)d->h * d->w * cin);
    for (int s0 = 0; s0 < total; s0 += CH) {
        const int cnt = total - s0 < CH ? total - s0 : CH;
        if (!conv2d_tab_next(tab, T, (size_t)CH, (size_t)CH, shift, s0, cnt, CH)) build_tab(tab, CH, s0, cnt, cnt, &geo);
        const float *g = gout + (size_t)s0 * cout;
        for (int b = 0; b < nb; b++) {
            int vb, N;
            split_block(nv, 5, b, &vb, &N);
            int mmax = ymm ? 16 : bww_mmax[N];
            if (mlim && mlim < mmax) mmax = mlim;
            const int co0 = vb * 16, nr = (cin + mmax - 1) / mmax;
            const __mmask16 tail = b == nb - 1 ? tailm : full;
            for (int t = 0; t < T; t++)
                for (int rb = 0; rb < nr; rb++) {
                    int r0, M;
                    split_block(cin, mmax, rb, &r0, &M);
                    (ymm ? bwwy_tiles[M] : bww_tiles[N][M])(cnt, tab + t * CH, r0, g + co0, cout,
                                                            gw + ((size_t)t * cin + r0) * cout + co0, cout, tail);
                }
        }
        if (do_bias)
            for (int v = 0; v < nv; v++) {
                const __mmask16 mk = v == nv - 1 ? tailm : full;
                __m512 a0 = _mm512_maskz_loadu_ps(mk, gb + 16 * v), a1 = _mm512_setzero_ps();
                const float *gs = g + 16 * v;
                int s = 0;
                for (; s + 1 < cnt; s += 2, gs += 2 * (size_t)cout) {
                    a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(mk, gs));
                    a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(mk, gs + cout));
                }
                if (s < cnt) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(mk, gs));
                _mm512_mask_storeu_ps(gb + 16 * v, mk, _mm512_add_ps(a0, a1));
            }
    }
}

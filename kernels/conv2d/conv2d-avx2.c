/* conv2d with periodic padding, AVX2 + FMA.
 *
 * All three passes are register-blocked GEMM microkernels over channel vectors of 8 floats:
 *  - forward, and backward-data at stride 1 (a correlation with the flipped taps on gout):
 *    "gather" tile of M output sites x N vectors, M = 6 x N = 2 (12 accumulators) or M = 8 x N = 1
 *    for a lone 8-wide tail; per reduction step M broadcasts + N vector loads feed M*N FMAs.
 *    The reduction runs over taps (each site has its own wrapped source pointer) and channels.
 *    A 1x1 layer with <= 4 reduction channels (the first layer) instead keeps the block's weights
 *    in registers and streams sites past them.
 *  - backward-data at stride 2: the same tile with one tap at a time, scattered with += into the
 *    input sites that tap read (for a fixed tap the site map is injective, so no conflicts).
 *  - backward-weights: tile of M input channels (broadcast) x N output-channel vectors of one tap,
 *    reduced over the sites of a chunk in registers, then added into gw.
 * Sites are processed in chunks whose per-tap source offsets are precomputed once (wrapping costs
 * a division only at lattice edges), which also keeps a chunk's activations in L1/L2 while every
 * channel block sweeps it. Channel tails use maskload/maskstore; site tails reuse the last site's
 * offsets and skip the stores.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/conv2d/conv2d.h"

#define AI static inline __attribute__((always_inline))

enum {
    MAX_TAPS = 9,
    CHUNK = 96,   /* sites per chunk for the gather tiles: a multiple of both tile heights (6, 8) */
    CHUNK_W = 128 /* sites per chunk for backward-weights */
};

AI int wrap_idx(int v, int n) {
    if ((unsigned)v < (unsigned)n) return v;
    v %= n;
    return v < 0 ? v + n : v;
}

/* Lanes [0, r) on, r in 1..8. */
AI __m256i tail_mask(int r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
AI __m256 ldv(const float *p, int masked, __m256i mask) {
    return masked ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}
AI void stv(float *p, __m256 v, int masked, __m256i mask) {
    if (masked) _mm256_maskstore_ps(p, mask, v);
    else _mm256_storeu_ps(p, v);
}

/* Per-tap source offsets (in floats) for `count` consecutive sites of a (nb, oh, ow) grid starting
 * at flat site `first`: site (b, t, x) with tap delta (dt, dx) reads source site
 * (b, (t*st + dt) mod h, (x*sx + dx) mod w) of a [nb][h][w][ch] tensor.  Rows up to `padded` repeat
 * the last site so that a full tile can read them. */
static void tap_offsets(int first, int count, int padded, int oh, int ow, int h, int w, int ch, int st, int sx,
                        int ntaps, const int *dt, const int *dx, ptrdiff_t *offs, int ld) {
    int b = first / (oh * ow), r = first % (oh * ow), t = r / ow, x = r % ow;
    for (int k = 0; k < count; k++) {
        const ptrdiff_t base = (ptrdiff_t)b * h;
        for (int tap = 0; tap < ntaps; tap++) {
            const int row = wrap_idx(t * st + dt[tap], h), col = wrap_idx(x * sx + dx[tap], w);
            offs[tap * ld + k] = ((base + row) * w + col) * ch;
        }
        if (++x == ow) {
            x = 0;
            if (++t == oh) t = 0, b++;
        }
    }
    for (int tap = 0; tap < ntaps; tap++)
        for (int k = count; k < padded; k++) offs[tap * ld + k] = offs[tap * ld + count - 1];
}

/* The gather tile: for m < M, n < N
 *   acc[m][n] = init + sum_tap sum_k src[soff[tap*ld + m] + k] * wgt[tap*wtap + k*ldw + 8n .. +8]
 * and dst[o + 8n ..] = acc, o = doff[m] (accum = 1: +=) or o = m*dstride (accum = 0: =), m < mvalid.
 * init = bias vector or 0.  The last vector is masked when `masked`. */
AI void tile_gather(const int M, const int N, const int masked, __m256i mask, int ntaps, int K, const float *src,
                    const ptrdiff_t *soff, int ld, const float *wgt, size_t wtap, size_t ldw, const float *bias,
                    float *dst, const ptrdiff_t *doff, int dstride, int mvalid, const int accum) {
    __m256 acc[8][2];
    for (int n = 0; n < N; n++) {
        const __m256 init = bias ? ldv(bias + 8 * n, masked && n == N - 1, mask) : _mm256_setzero_ps();
        for (int m = 0; m < M; m++) acc[m][n] = init;
    }
    for (int tap = 0; tap < ntaps; tap++) {
        const float *p[8];
        for (int m = 0; m < M; m++) p[m] = src + soff[tap * ld + m];
        const float *wp = wgt + tap * wtap;
        for (int k = 0; k < K; k++, wp += ldw) {
            __m256 wv[2];
            for (int n = 0; n < N; n++) wv[n] = ldv(wp + 8 * n, masked && n == N - 1, mask);
            for (int m = 0; m < M; m++) {
                const __m256 a = _mm256_broadcast_ss(p[m] + k);
                for (int n = 0; n < N; n++) acc[m][n] = _mm256_fmadd_ps(a, wv[n], acc[m][n]);
            }
        }
    }
    for (int m = 0; m < M; m++) {
        if (m >= mvalid) break;
        float *q = dst + (accum ? doff[m] : (ptrdiff_t)m * dstride);
        for (int n = 0; n < N; n++) {
            const int mk = masked && n == N - 1;
            __m256 v = acc[m][n];
            if (accum) v = _mm256_add_ps(v, ldv(q + 8 * n, mk, mask));
            stv(q + 8 * n, v, mk, mask);
        }
    }
}

/* One channel block of the gather tile over `nsites` sites of a chunk (offsets padded). */
AI void gather_sweep(const int N, const int masked, __m256i mask, int nsites, int ntaps, int K, const float *src,
                     const ptrdiff_t *soff, const float *wgt, size_t wtap, size_t ldw, const float *bias, float *dst,
                     const ptrdiff_t *doff, int dstride, const int accum) {
    const int M = N == 2 ? 6 : 8;
    for (int m0 = 0; m0 < nsites; m0 += M) {
        const int mv = nsites - m0 < M ? nsites - m0 : M;
        if (accum) /* scattered destinations */
            tile_gather(M, N, masked, mask, ntaps, K, src, soff + m0, CHUNK, wgt, wtap, ldw, bias, dst, doff + m0, 0,
                        mv, 1);
        else
            tile_gather(M, N, masked, mask, ntaps, K, src, soff + m0, CHUNK, wgt, wtap, ldw, bias,
                        dst + (ptrdiff_t)m0 * dstride, NULL, dstride, mv, 0);
    }
}

/* Tiny reductions (a 1x1 layer with cin <= 4, e.g. the first layer): the channel block's weights
 * stay in registers and the sites stream past them; the 6-site tile would spend more time on
 * setup and stores than on its few FMAs. */
AI void ws_sweep(const int KT, const int N, const int masked, __m256i mask, int nsites, const float *src,
                 const ptrdiff_t *soff, const float *wgt, size_t ldw, const float *bias, float *dst, int dstride) {
    __m256 wv[4][2], init[2];
    for (int n = 0; n < N; n++) {
        const int mk = masked && n == N - 1;
        for (int k = 0; k < KT; k++) wv[k][n] = ldv(wgt + k * ldw + 8 * n, mk, mask);
        init[n] = bias ? ldv(bias + 8 * n, mk, mask) : _mm256_setzero_ps();
    }
    for (int m = 0; m < nsites; m++) {
        const float *p = src + soff[m];
        float *q = dst + (ptrdiff_t)m * dstride;
        __m256 acc[2];
        for (int n = 0; n < N; n++) acc[n] = init[n];
        for (int k = 0; k < KT; k++) {
            const __m256 a = _mm256_broadcast_ss(p + k);
            for (int n = 0; n < N; n++) acc[n] = _mm256_fmadd_ps(a, wv[k][n], acc[n]);
        }
        for (int n = 0; n < N; n++) stv(q + 8 * n, acc[n], masked && n == N - 1, mask);
    }
}

AI void ws_sweep_k(int K, const int N, const int masked, __m256i mask, int nsites, const float *src,
                   const ptrdiff_t *soff, const float *wgt, size_t ldw, const float *bias, float *dst, int dstride) {
    switch (K) {
    case 1: ws_sweep(1, N, masked, mask, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    case 2: ws_sweep(2, N, masked, mask, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    case 3: ws_sweep(3, N, masked, mask, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    default: ws_sweep(4, N, masked, mask, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    }
}

/* Every channel block of width `nvec` for one chunk; channel blocks outside, sites inside, so a
 * block's weights stay in L1 while the chunk's activations (L1/L2) stream past them. */
AI void gather_chunk(int nvec, int nsites, int ntaps, int K, const float *src, const ptrdiff_t *soff,
                     const float *wgt, size_t wtap, size_t ldw, const float *bias, float *dst,
                     const ptrdiff_t *doff, int dstride, const int accum) {
    const __m256i none = _mm256_setzero_si256();
    int c0 = 0;
    if (!accum && ntaps == 1 && K <= 4) {
        for (; c0 + 16 <= nvec; c0 += 16)
            ws_sweep_k(K, 2, 0, none, nsites, src, soff, wgt + c0, ldw, bias ? bias + c0 : NULL, dst + c0, dstride);
        const int rem = nvec - c0;
        const float *b = bias ? bias + c0 : NULL;
        if (rem > 8)
            ws_sweep_k(K, 2, 1, tail_mask(rem - 8), nsites, src, soff, wgt + c0, ldw, b, dst + c0, dstride);
        else if (rem == 8)
            ws_sweep_k(K, 1, 0, none, nsites, src, soff, wgt + c0, ldw, b, dst + c0, dstride);
        else if (rem > 0)
            ws_sweep_k(K, 1, 1, tail_mask(rem), nsites, src, soff, wgt + c0, ldw, b, dst + c0, dstride);
        return;
    }
    for (; c0 + 16 <= nvec; c0 += 16)
        gather_sweep(2, 0, none, nsites, ntaps, K, src, soff, wgt + c0, wtap, ldw, bias ? bias + c0 : NULL, dst + c0,
                     doff, dstride, accum);
    const int rem = nvec - c0;
    const float *b = bias ? bias + c0 : NULL;
    if (rem > 8)
        gather_sweep(2, 1, tail_mask(rem - 8), nsites, ntaps, K, src, soff, wgt + c0, wtap, ldw, b, dst + c0, doff,
                     dstride, accum);
    else if (rem == 8)
        gather_sweep(1, 0, none, nsites, ntaps, K, src, soff, wgt + c0, wtap, ldw, b, dst + c0, doff, dstride, accum);
    else if (rem > 0)
        gather_sweep(1, 1, tail_mask(rem), nsites, ntaps, K, src, soff, wgt + c0, wtap, ldw, b, dst + c0, doff,
                     dstride, accum);
}

static void tap_deltas(const conv2d_desc *d, int sign, int *dt, int *dx) {
    const int offh = conv2d_off(d->kh), offw = conv2d_off(d->kw);
    for (int i = 0; i < d->kh; i++)
        for (int j = 0; j < d->kw; j++) {
            dt[i * d->kw + j] = sign * (i + offh);
            dx[i * d->kw + j] = sign * (j + offw);
        }
}

void conv2d_periodic_fwd__avx2(const conv2d_desc *d, const float *in, const float *w, const float *bias,
                               float *out) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), ntaps = d->kh * d->kw;
    const int sites = d->n * oh * ow;
    int dt[MAX_TAPS], dx[MAX_TAPS];
    ptrdiff_t soff[MAX_TAPS * CHUNK];
    tap_deltas(d, 1, dt, dx);
    const float *b = d->bias ? bias : NULL;
    for (int s0 = 0; s0 < sites; s0 += CHUNK) {
        const int ns = sites - s0 < CHUNK ? sites - s0 : CHUNK;
        tap_offsets(s0, ns, CHUNK, oh, ow, d->h, d->w, d->cin, d->sh, d->sw, ntaps, dt, dx, soff, CHUNK);
        gather_chunk(d->cout, ns, ntaps, d->cin, in, soff, w, (size_t)d->cin * d->cout, d->cout, b,
                     out + (size_t)s0 * d->cout, NULL, d->cout, 0);
    }
}

void conv2d_periodic_bwd_data__avx2(const conv2d_desc *d, const float *gout, const float *wt, float *gin) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), ntaps = d->kh * d->kw;
    int dt[MAX_TAPS], dx[MAX_TAPS];
    ptrdiff_t soff[MAX_TAPS * CHUNK];
    const size_t wtap = (size_t)d->cout * d->cin;
    if (d->sh == 1 && d->sw == 1) {
        /* gin(s) = sum_tap gout(s - delta(tap)) . wt[tap]: a gather over input sites. */
        const int sites = d->n * d->h * d->w;
        tap_deltas(d, -1, dt, dx);
        for (int s0 = 0; s0 < sites; s0 += CHUNK) {
            const int ns = sites - s0 < CHUNK ? sites - s0 : CHUNK;
            tap_offsets(s0, ns, CHUNK, d->h, d->w, d->h, d->w, d->cout, 1, 1, ntaps, dt, dx, soff, CHUNK);
            gather_chunk(d->cin, ns, ntaps, d->cout, gout, soff, wt, wtap, d->cin, NULL,
                         gin + (size_t)s0 * d->cin, NULL, d->cin, 0);
        }
        return;
    }
    /* Strided: scatter each output site's contribution through each tap into the site it read. */
    const int sites = d->n * oh * ow;
    ptrdiff_t src[CHUNK];
    memset(gin, 0, conv2d_in_size(d) * sizeof(float));
    tap_deltas(d, 1, dt, dx);
    for (int s0 = 0; s0 < sites; s0 += CHUNK) {
        const int ns = sites - s0 < CHUNK ? sites - s0 : CHUNK;
        tap_offsets(s0, ns, CHUNK, oh, ow, d->h, d->w, d->cin, d->sh, d->sw, ntaps, dt, dx, soff, CHUNK);
        for (int k = 0; k < CHUNK; k++) src[k] = (ptrdiff_t)(s0 + (k < ns ? k : ns - 1)) * d->cout;
        for (int tap = 0; tap < ntaps; tap++)
            gather_chunk(d->cin, ns, 1, d->cout, gout, src, wt + tap * wtap, 0, d->cin, NULL, gin, soff + tap * CHUNK,
                         0, 1);
    }
}

/* gw[m][8n..] += sum_k in[soff[k] + m] * gout[k*ldg + 8n ..] for m < M, n < N. */
AI void tile_wgrad(const int M, const int N, const int masked, __m256i mask, int nsites, const float *in,
                   const ptrdiff_t *soff, const float *g, int ldg, float *gw, int ldw) {
    __m256 acc[6][2];
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) acc[m][n] = _mm256_setzero_ps();
    for (int k = 0; k < nsites; k++, g += ldg) {
        const float *p = in + soff[k];
        __m256 gv[2];
        for (int n = 0; n < N; n++) gv[n] = ldv(g + 8 * n, masked && n == N - 1, mask);
        for (int m = 0; m < M; m++) {
            const __m256 a = _mm256_broadcast_ss(p + m);
            for (int n = 0; n < N; n++) acc[m][n] = _mm256_fmadd_ps(a, gv[n], acc[m][n]);
        }
    }
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            const int mk = masked && n == N - 1;
            float *q = gw + (size_t)m * ldw + 8 * n;
            stv(q, _mm256_add_ps(ldv(q, mk, mask), acc[m][n]), mk, mask);
        }
}

/* All input-channel blocks (5 or 6 rows each, balanced) for one output-channel block. */
AI void wgrad_cblocks(const int N, const int masked, __m256i mask, int cin, int nsites, const float *in,
                      const ptrdiff_t *soff, const float *g, int ldg, float *gw, int ldw) {
    const int nb = (cin + 5) / 6;
    for (int bi = 0; bi < nb; bi++) {
        const int c0 = (int)((long)bi * cin / nb), c1 = (int)((long)(bi + 1) * cin / nb);
        const float *inb = in + c0;
        float *gwb = gw + (size_t)c0 * ldw;
        switch (c1 - c0) {
        case 6: tile_wgrad(6, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 5: tile_wgrad(5, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 4: tile_wgrad(4, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 3: tile_wgrad(3, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 2: tile_wgrad(2, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        default: tile_wgrad(1, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        }
    }
}

void conv2d_periodic_bwd_weights__avx2(const conv2d_desc *d, const float *in, const float *gout, float *gw,
                                       float *gb) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), ntaps = d->kh * d->kw, cin = d->cin, cout = d->cout;
    const int sites = d->n * oh * ow;
    const int want_gb = d->bias && gb;
    const __m256i none = _mm256_setzero_si256();
    int dt[MAX_TAPS], dx[MAX_TAPS];
    ptrdiff_t soff[MAX_TAPS * CHUNK_W];
    tap_deltas(d, 1, dt, dx);
    memset(gw, 0, conv2d_w_size(d) * sizeof(float));
    if (want_gb) memset(gb, 0, (size_t)cout * sizeof(float));
    for (int s0 = 0; s0 < sites; s0 += CHUNK_W) {
        const int ns = sites - s0 < CHUNK_W ? sites - s0 : CHUNK_W;
        const float *g = gout + (size_t)s0 * cout;
        tap_offsets(s0, ns, ns, oh, ow, d->h, d->w, cin, d->sh, d->sw, ntaps, dt, dx, soff, CHUNK_W);
        for (int tap = 0; tap < ntaps; tap++) {
            const ptrdiff_t *so = soff + tap * CHUNK_W;
            float *gwt = gw + (size_t)tap * cin * cout;
            int c0 = 0;
            for (; c0 + 16 <= cout; c0 += 16) wgrad_cblocks(2, 0, none, cin, ns, in, so, g + c0, cout, gwt + c0, cout);
            const int rem = cout - c0;
            if (rem > 8)
                wgrad_cblocks(2, 1, tail_mask(rem - 8), cin, ns, in, so, g + c0, cout, gwt + c0, cout);
            else if (rem == 8)
                wgrad_cblocks(1, 0, none, cin, ns, in, so, g + c0, cout, gwt + c0, cout);
            else if (rem > 0)
                wgrad_cblocks(1, 1, tail_mask(rem), cin, ns, in, so, g + c0, cout, gwt + c0, cout);
        }
        if (want_gb) /* while this chunk of gout is still in cache */
            for (int c0 = 0; c0 < cout; c0 += 8) {
                const int mk = cout - c0 < 8;
                const __m256i mask = mk ? tail_mask(cout - c0) : none;
                __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
                int k = 0;
                for (; k + 4 <= ns; k += 4)
                    for (int u = 0; u < 4; u++)
                        s[u] = _mm256_add_ps(s[u], ldv(g + (size_t)(k + u) * cout + c0, mk, mask));
                for (; k < ns; k++) s[0] = _mm256_add_ps(s[0], ldv(g + (size_t)k * cout + c0, mk, mask));
                const __m256 tot = _mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3]));
                stv(gb + c0, _mm256_add_ps(ldv(gb + c0, mk, mask), tot), mk, mask);
            }
    }
}

/* conv2d with periodic padding, AArch64 NEON (ASIMD, FMA).
 *
 * The scheme of conv2d-avx2.c with 4-float vectors and AArch64's 32 vector registers:
 *  - forward, and backward-data at stride 1 (a correlation with the flipped taps on gout):
 *    "gather" tile of M output sites x N channel vectors (5 x 4, 6 x 3, 8 x 2, 8 x 1: accumulators,
 *    N weight vectors and the M broadcast scalars that gcc loads ahead all fit in the 32 vector
 *    registers; 6 x 4 spilled); per reduction step M scalar loads + N vector loads feed M*N FMAs.
 *    The reduction runs over taps (each site has its own wrapped source pointer) and channels.
 *    A 1x1 layer with <= 4 reduction channels (the first layer) instead keeps the block's weights
 *    in registers and streams sites past them.
 *  - backward-data at stride 2: the same tile with one tap at a time, scattered with += into the
 *    input sites that tap read (for a fixed tap the site map is injective, so no conflicts).
 *  - backward-weights: tile of M input channels (broadcast) x N output-channel vectors of one tap,
 *    reduced over the sites of a chunk in registers, then added into gw.
 * Per-tap source offsets are precomputed per chunk of sites.  NEON has no masked loads: a channel
 * tail (1..3 floats) is loaded and stored with lane/64-bit accesses that never touch memory past
 * it; site tails reuse the last site's offsets and skip the stores.  Integer-valued data give the
 * reference's results exactly (every partial sum is exact, whatever the order).
 */
#include <arm_neon.h>
#include "kernels/neon_part.h"
#include <string.h>

#include "kernels/conv2d/conv2d.h"

#define AI static inline __attribute__((always_inline))

enum {
    MAX_TAPS = 9,
    CHUNK = 120,  /* sites per chunk for the gather tiles: a multiple of every tile height (5, 6, 8) */
    CHUNK_W = 128 /* sites per chunk for backward-weights */
};

AI int wrap_idx(int v, int n) {
    if ((unsigned)v < (unsigned)n) return v;
    v %= n;
    return v < 0 ? v + n : v;
}

/* `masked` and r are compile-time constants after inlining (r: lanes of a block's last vector). */
AI float32x4_t ldv(const float *p, int masked, int r) { return masked ? ld_part(p, r) : vld1q_f32(p); }
AI void stv(float *p, float32x4_t v, int masked, int r) {
    if (masked) st_part(p, v, r);
    else vst1q_f32(p, v);
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
 *   acc[m][n] = init + sum_tap sum_k src[soff[tap*ld + m] + k] * wgt[tap*wtap + k*ldw + 4n .. +4]
 * and dst[o + 4n ..] = acc, o = doff[m] (accum = 1: +=) or o = m*dstride (accum = 0: =), m < mvalid.
 * init = bias vector or 0.  The last vector holds r lanes when `masked`. */
AI void tile_gather(const int M, const int N, const int masked, int r, int ntaps, int K, const float *src,
                    const ptrdiff_t *soff, int ld, const float *wgt, size_t wtap, size_t ldw, const float *bias,
                    float *dst, const ptrdiff_t *doff, int dstride, int mvalid, const int accum) {
    float32x4_t acc[8][4];
    for (int n = 0; n < N; n++) {
        const float32x4_t init = bias ? ldv(bias + 4 * n, masked && n == N - 1, r) : vdupq_n_f32(0.0f);
        for (int m = 0; m < M; m++) acc[m][n] = init;
    }
    for (int tap = 0; tap < ntaps; tap++) {
        const float *p[8];
        for (int m = 0; m < M; m++) p[m] = src + soff[tap * ld + m];
        const float *wp = wgt + tap * wtap;
        for (int k = 0; k < K; k++, wp += ldw) {
            float32x4_t wv[4];
            for (int n = 0; n < N; n++) wv[n] = ldv(wp + 4 * n, masked && n == N - 1, r);
            for (int m = 0; m < M; m++) {
                const float32x4_t a = vld1q_dup_f32(p[m] + k);
                for (int n = 0; n < N; n++) acc[m][n] = vfmaq_f32(acc[m][n], a, wv[n]);
            }
        }
    }
    for (int m = 0; m < M; m++) {
        if (m >= mvalid) break;
        float *q = dst + (accum ? doff[m] : (ptrdiff_t)m * dstride);
        for (int n = 0; n < N; n++) {
            const int mk = masked && n == N - 1;
            float32x4_t v = acc[m][n];
            if (accum) v = vaddq_f32(v, ldv(q + 4 * n, mk, r));
            stv(q + 4 * n, v, mk, r);
        }
    }
}

/* One channel block of the gather tile over `nsites` sites of a chunk (offsets padded). */
AI void gather_sweep(const int N, const int masked, int r, int nsites, int ntaps, int K, const float *src,
                     const ptrdiff_t *soff, const float *wgt, size_t wtap, size_t ldw, const float *bias, float *dst,
                     const ptrdiff_t *doff, int dstride, const int accum) {
    const int M = N == 4 ? 5 : N == 3 ? 6 : 8; /* accumulators + N weights + M broadcasts <= 32 registers */
    for (int m0 = 0; m0 < nsites; m0 += M) {
        const int mv = nsites - m0 < M ? nsites - m0 : M;
        if (accum) /* scattered destinations */
            tile_gather(M, N, masked, r, ntaps, K, src, soff + m0, CHUNK, wgt, wtap, ldw, bias, dst, doff + m0, 0,
                        mv, 1);
        else
            tile_gather(M, N, masked, r, ntaps, K, src, soff + m0, CHUNK, wgt, wtap, ldw, bias,
                        dst + (ptrdiff_t)m0 * dstride, NULL, dstride, mv, 0);
    }
}

/* Tiny reductions (a 1x1 layer with cin <= 4, e.g. the first layer): the channel block's weights
 * stay in registers and the sites stream past them. */
AI void ws_sweep(const int KT, const int N, const int masked, int r, int nsites, const float *src,
                 const ptrdiff_t *soff, const float *wgt, size_t ldw, const float *bias, float *dst, int dstride) {
    float32x4_t wv[4][4], init[4];
    for (int n = 0; n < N; n++) {
        const int mk = masked && n == N - 1;
        for (int k = 0; k < KT; k++) wv[k][n] = ldv(wgt + k * ldw + 4 * n, mk, r);
        init[n] = bias ? ldv(bias + 4 * n, mk, r) : vdupq_n_f32(0.0f);
    }
    for (int m = 0; m < nsites; m++) {
        const float *p = src + soff[m];
        float *q = dst + (ptrdiff_t)m * dstride;
        float32x4_t acc[4];
        for (int n = 0; n < N; n++) acc[n] = init[n];
        for (int k = 0; k < KT; k++) {
            const float32x4_t a = vld1q_dup_f32(p + k);
            for (int n = 0; n < N; n++) acc[n] = vfmaq_f32(acc[n], a, wv[k][n]);
        }
        for (int n = 0; n < N; n++) stv(q + 4 * n, acc[n], masked && n == N - 1, r);
    }
}

AI void ws_sweep_k(int K, const int N, const int masked, int r, int nsites, const float *src, const ptrdiff_t *soff,
                   const float *wgt, size_t ldw, const float *bias, float *dst, int dstride) {
    switch (K) {
    case 1: ws_sweep(1, N, masked, r, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    case 2: ws_sweep(2, N, masked, r, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    case 3: ws_sweep(3, N, masked, r, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    default: ws_sweep(4, N, masked, r, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    }
}

/* A channel block of N vectors, the last one r lanes wide: one instantiation per (N, r), so that
 * the tail's loads and stores have no branches in the inner loops. */
#define BY_BLOCK(CALL)                                                                              \
    switch (N * 4 + r - 1) {                                                                        \
    case 4: CALL(1, 1, 1); break;  case 5: CALL(1, 1, 2); break;                                    \
    case 6: CALL(1, 1, 3); break;  case 7: CALL(1, 0, 4); break;                                    \
    case 8: CALL(2, 1, 1); break;  case 9: CALL(2, 1, 2); break;                                    \
    case 10: CALL(2, 1, 3); break; case 11: CALL(2, 0, 4); break;                                   \
    case 12: CALL(3, 1, 1); break; case 13: CALL(3, 1, 2); break;                                   \
    case 14: CALL(3, 1, 3); break; case 15: CALL(3, 0, 4); break;                                   \
    case 16: CALL(4, 1, 1); break; case 17: CALL(4, 1, 2); break;                                   \
    case 18: CALL(4, 1, 3); break; default: CALL(4, 0, 4); break;                                   \
    }

/* Every channel block (16 channels, then one block for the 1..15 left) for one chunk; channel
 * blocks outside, sites inside, so a block's weights stay in L1 while the chunk streams past. */
static void gather_chunk(int nvec, int nsites, int ntaps, int K, const float *src, const ptrdiff_t *soff,
                         const float *wgt, size_t wtap, size_t ldw, const float *bias, float *dst,
                         const ptrdiff_t *doff, int dstride, const int accum) {
    const int ws = !accum && ntaps == 1 && K <= 4;
    for (int c0 = 0; c0 < nvec; c0 += 16) {
        const int rem = nvec - c0 < 16 ? nvec - c0 : 16;
        const int N = (rem + 3) / 4, r = rem - 4 * (N - 1);
        const float *b = bias ? bias + c0 : NULL;
        if (ws) {
#define WS(NN, MK, RR) ws_sweep_k(K, NN, MK, RR, nsites, src, soff, wgt + c0, ldw, b, dst + c0, dstride)
            BY_BLOCK(WS)
#undef WS
        } else if (accum) {
#define GA(NN, MK, RR) gather_sweep(NN, MK, RR, nsites, ntaps, K, src, soff, wgt + c0, wtap, ldw, b, dst + c0, doff, dstride, 1)
            BY_BLOCK(GA)
#undef GA
        } else {
#define GS(NN, MK, RR) gather_sweep(NN, MK, RR, nsites, ntaps, K, src, soff, wgt + c0, wtap, ldw, b, dst + c0, doff, dstride, 0)
            BY_BLOCK(GS)
#undef GS
        }
    }
}

static void tap_deltas(const conv2d_desc *d, int sign, int *dt, int *dx) {
    const int offh = conv2d_off(d->kh), offw = conv2d_off(d->kw);
    for (int i = 0; i < d->kh; i++)
        for (int j = 0; j < d->kw; j++) {
            dt[i * d->kw + j] = sign * (i + offh);
            dx[i * d->kw + j] = sign * (j + offw);
        }
}

void conv2d_periodic_fwd__neon(const conv2d_desc *d, const float *in, const float *w, const float *bias,
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

void conv2d_periodic_bwd_data__neon(const conv2d_desc *d, const float *gout, const float *wt, float *gin) {
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

/* gw[m][4n..] += sum_k in[soff[k] + m] * gout[k*ldg + 4n ..] for m < M, n < N. */
AI void tile_wgrad(const int M, const int N, const int masked, int r, int nsites, const float *in,
                   const ptrdiff_t *soff, const float *g, int ldg, float *gw, int ldw) {
    float32x4_t acc[6][4];
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) acc[m][n] = vdupq_n_f32(0.0f);
    for (int k = 0; k < nsites; k++, g += ldg) {
        const float *p = in + soff[k];
        float32x4_t gv[4];
        for (int n = 0; n < N; n++) gv[n] = ldv(g + 4 * n, masked && n == N - 1, r);
        for (int m = 0; m < M; m++) {
            const float32x4_t a = vld1q_dup_f32(p + m);
            for (int n = 0; n < N; n++) acc[m][n] = vfmaq_f32(acc[m][n], a, gv[n]);
        }
    }
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            const int mk = masked && n == N - 1;
            float *q = gw + (size_t)m * ldw + 4 * n;
            stv(q, vaddq_f32(ldv(q, mk, r), acc[m][n]), mk, r);
        }
}

/* All input-channel blocks (balanced, at most 5 rows for N = 4 and 6 otherwise, so that the
 * accumulators, the N gout vectors and the row broadcasts fit in registers) for one output-channel
 * block. */
AI void wgrad_cblocks(const int N, const int masked, int r, int cin, int nsites, const float *in,
                      const ptrdiff_t *soff, const float *g, int ldg, float *gw, int ldw) {
    const int mb = N == 4 ? 5 : 6, nb = (cin + mb - 1) / mb;
    for (int bi = 0; bi < nb; bi++) {
        const int c0 = (int)((long)bi * cin / nb), c1 = (int)((long)(bi + 1) * cin / nb);
        const float *inb = in + c0;
        float *gwb = gw + (size_t)c0 * ldw;
        switch (c1 - c0) {
        case 6:
            if (N != 4) tile_wgrad(6, N, masked, r, nsites, inb, soff, g, ldg, gwb, ldw); /* N = 4: mb = 5 */
            break;
        case 5: tile_wgrad(5, N, masked, r, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 4: tile_wgrad(4, N, masked, r, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 3: tile_wgrad(3, N, masked, r, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 2: tile_wgrad(2, N, masked, r, nsites, inb, soff, g, ldg, gwb, ldw); break;
        default: tile_wgrad(1, N, masked, r, nsites, inb, soff, g, ldg, gwb, ldw); break;
        }
    }
}

void conv2d_periodic_bwd_weights__neon(const conv2d_desc *d, const float *in, const float *gout, float *gw,
                                       float *gb) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), ntaps = d->kh * d->kw, cin = d->cin, cout = d->cout;
    const int sites = d->n * oh * ow;
    const int want_gb = d->bias && gb;
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
            for (int c0 = 0; c0 < cout; c0 += 16) {
                const int rem = cout - c0 < 16 ? cout - c0 : 16;
                const int N = (rem + 3) / 4, r = rem - 4 * (N - 1);
#define WG(NN, MK, RR) wgrad_cblocks(NN, MK, RR, cin, ns, in, so, g + c0, cout, gwt + c0, cout)
                BY_BLOCK(WG)
#undef WG
            }
        }
        if (want_gb) /* while this chunk of gout is still in cache */
            for (int c0 = 0; c0 < cout; c0 += 4) {
                const int mk = cout - c0 < 4, r = cout - c0;
                float32x4_t s[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
                int k = 0;
                for (; k + 4 <= ns; k += 4)
                    for (int u = 0; u < 4; u++) s[u] = vaddq_f32(s[u], ldv(g + (size_t)(k + u) * cout + c0, mk, r));
                for (; k < ns; k++) s[0] = vaddq_f32(s[0], ldv(g + (size_t)k * cout + c0, mk, r));
                const float32x4_t tot = vaddq_f32(vaddq_f32(s[0], s[1]), vaddq_f32(s[2], s[3]));
                stv(gb + c0, vaddq_f32(ldv(gb + c0, mk, r), tot), mk, r);
            }
    }
}

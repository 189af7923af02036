/* The loops of conv2d-avx2.c and conv2d-neon.c, written once (BLIS-style: loops here, the vector
 * primitives per ISA).  The including file defines, then includes this header:
 *   VF, VL              the float vector type and its lane count;
 *   VMASK               what describes a block's last, partial vector (AVX2: a lane mask; NEON:
 *                       its lane count), V_TAIL(r) makes one for r lanes;
 *   v_zero() v_bcast(p) v_fma(acc, a, b) = acc + a*b, v_add(a, b);
 *   ldv(p, masked, m) stv(p, v, masked, m)  a vector, or only the lanes m when `masked`;
 *   CHUNK               sites per gather chunk, a multiple of every GATHER_M;
 *   NMAX, GATHER_M(N), WGRAD_MB(N)  the widest block in vectors, and the register-tile heights;
 *   BY_BLOCK(rem, CALL) for a block of rem (1..16) channels, CALL(N, masked, m) with N, masked
 *                       compile-time constants, so that tail loads carry no branch inside loops;
 *   CONV2D_FN(name)     name##__isa.
 * The scheme:
 *  - forward, and backward-data at stride 1 (a correlation with the flipped taps on gout):
 *    "gather" tile of M output sites x N channel vectors; per reduction step M broadcasts + N
 *    vector loads feed M*N FMAs.  The reduction runs over taps (each site has its own wrapped
 *    source pointer) and channels.  A 1x1 layer with <= 4 reduction channels (the first layer)
 *    instead keeps the block's weights in registers and streams sites past them.
 *  - backward-data at stride 2: the same tile with one tap at a time, scattered with += into the
 *    input sites that tap read (for a fixed tap the site map is injective, so no conflicts).
 *  - backward-weights: tile of M input channels (broadcast) x N output-channel vectors of one tap,
 *    reduced over the sites of a chunk in registers, then added into gw.
 * Sites are processed in chunks whose per-tap source offsets are precomputed once (wrapping costs
 * a division only at lattice edges), which also keeps a chunk's activations in L1/L2 while every
 * channel block sweeps it; site tails reuse the last site's offsets and skip the stores. */
#pragma once
#include <string.h>
#include "kernels/conv2d/conv2d.h"

enum {
    MAX_TAPS = 9,
    CHUNK_W = 128, /* sites per chunk for backward-weights */
    BLOCK_CH = 16  /* channels per block: 2 AVX2 or 4 NEON vectors */
};

/* Periodic index of any v (lb_wrap only covers (-n, 2n)): a division only off the lattice. */
LB_INLINE int wrap_idx(int v, int n) {
    if ((unsigned)v < (unsigned)n) return v;
    v %= n;
    return v < 0 ? v + n : v;
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
 *   acc[m][n] = init + sum_tap sum_k src[soff[tap*ld + m] + k] * wgt[tap*wtap + k*ldw + VL*n ..]
 * and dst[o + VL*n ..] = acc, o = doff[m] (accum = 1: +=) or o = m*dstride (accum = 0: =), m < mvalid.
 * init = bias vector or 0.  The last vector is partial (m) when `masked`. */
LB_INLINE void tile_gather(const int M, const int N, const int masked, VMASK mask, int ntaps, int K, const float *src,
                           const ptrdiff_t *soff, int ld, const float *wgt, size_t wtap, size_t ldw, const float *bias,
                           float *dst, const ptrdiff_t *doff, int dstride, int mvalid, const int accum) {
    VF acc[8][NMAX];
    for (int n = 0; n < N; n++) {
        const VF init = bias ? ldv(bias + VL * n, masked && n == N - 1, mask) : v_zero();
        for (int m = 0; m < M; m++) acc[m][n] = init;
    }
    for (int tap = 0; tap < ntaps; tap++) {
        const float *p[8];
        for (int m = 0; m < M; m++) p[m] = src + soff[tap * ld + m];
        const float *wp = wgt + tap * wtap;
        for (int k = 0; k < K; k++, wp += ldw) {
            VF wv[NMAX];
            for (int n = 0; n < N; n++) wv[n] = ldv(wp + VL * n, masked && n == N - 1, mask);
            for (int m = 0; m < M; m++) {
                const VF a = v_bcast(p[m] + k);
                for (int n = 0; n < N; n++) acc[m][n] = v_fma(acc[m][n], a, wv[n]);
            }
        }
    }
    for (int m = 0; m < M; m++) {
        if (m >= mvalid) break;
        float *q = dst + (accum ? doff[m] : (ptrdiff_t)m * dstride);
        for (int n = 0; n < N; n++) {
            const int mk = masked && n == N - 1;
            VF v = acc[m][n];
            if (accum) v = v_add(v, ldv(q + VL * n, mk, mask));
            stv(q + VL * n, v, mk, mask);
        }
    }
}

/* One channel block of the gather tile over `nsites` sites of a chunk (offsets padded). */
LB_INLINE void gather_sweep(const int N, const int masked, VMASK mask, int nsites, int ntaps, int K, const float *src,
                            const ptrdiff_t *soff, const float *wgt, size_t wtap, size_t ldw, const float *bias,
                            float *dst, const ptrdiff_t *doff, int dstride, const int accum) {
    const int M = GATHER_M(N);
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
 * stay in registers and the sites stream past them; the gather tile would spend more time on
 * setup and stores than on its few FMAs. */
LB_INLINE void ws_sweep(const int KT, const int N, const int masked, VMASK mask, int nsites, const float *src,
                        const ptrdiff_t *soff, const float *wgt, size_t ldw, const float *bias, float *dst,
                        int dstride) {
    VF wv[4][NMAX], init[NMAX];
    for (int n = 0; n < N; n++) {
        const int mk = masked && n == N - 1;
        for (int k = 0; k < KT; k++) wv[k][n] = ldv(wgt + k * ldw + VL * n, mk, mask);
        init[n] = bias ? ldv(bias + VL * n, mk, mask) : v_zero();
    }
    for (int m = 0; m < nsites; m++) {
        const float *p = src + soff[m];
        float *q = dst + (ptrdiff_t)m * dstride;
        VF acc[NMAX];
        for (int n = 0; n < N; n++) acc[n] = init[n];
        for (int k = 0; k < KT; k++) {
            const VF a = v_bcast(p + k);
            for (int n = 0; n < N; n++) acc[n] = v_fma(acc[n], a, wv[k][n]);
        }
        for (int n = 0; n < N; n++) stv(q + VL * n, acc[n], masked && n == N - 1, mask);
    }
}

LB_INLINE void ws_sweep_k(int K, const int N, const int masked, VMASK mask, int nsites, const float *src,
                          const ptrdiff_t *soff, const float *wgt, size_t ldw, const float *bias, float *dst,
                          int dstride) {
    switch (K) {
    case 1: ws_sweep(1, N, masked, mask, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    case 2: ws_sweep(2, N, masked, mask, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    case 3: ws_sweep(3, N, masked, mask, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    default: ws_sweep(4, N, masked, mask, nsites, src, soff, wgt, ldw, bias, dst, dstride); break;
    }
}

/* Every channel block (16 channels, then one block for the 1..15 left) for one chunk; channel
 * blocks outside, sites inside, so a block's weights stay in L1 while the chunk streams past. */
static void gather_chunk(int nvec, int nsites, int ntaps, int K, const float *src, const ptrdiff_t *soff,
                         const float *wgt, size_t wtap, size_t ldw, const float *bias, float *dst,
                         const ptrdiff_t *doff, int dstride, const int accum) {
    const int ws = !accum && ntaps == 1 && K <= 4;
    for (int c0 = 0; c0 < nvec; c0 += BLOCK_CH) {
        const int rem = nvec - c0 < BLOCK_CH ? nvec - c0 : BLOCK_CH;
        const float *b = bias ? bias + c0 : NULL;
        if (ws) {
#define WS(NN, MK, MS) ws_sweep_k(K, NN, MK, MS, nsites, src, soff, wgt + c0, ldw, b, dst + c0, dstride)
            BY_BLOCK(rem, WS);
#undef WS
        } else if (accum) {
#define GA(NN, MK, MS) gather_sweep(NN, MK, MS, nsites, ntaps, K, src, soff, wgt + c0, wtap, ldw, b, dst + c0, doff, dstride, 1)
            BY_BLOCK(rem, GA);
#undef GA
        } else {
#define GS(NN, MK, MS) gather_sweep(NN, MK, MS, nsites, ntaps, K, src, soff, wgt + c0, wtap, ldw, b, dst + c0, doff, dstride, 0)
            BY_BLOCK(rem, GS);
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

void CONV2D_FN(conv2d_periodic_fwd)(const conv2d_desc *d, const float *in, const float *w, const float *bias,
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

void CONV2D_FN(conv2d_periodic_bwd_data)(const conv2d_desc *d, const float *gout, const float *wt, float *gin) {
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

/* gw[m][VL*n..] += sum_k in[soff[k] + m] * gout[k*ldg + VL*n ..] for m < M, n < N. */
LB_INLINE void tile_wgrad(const int M, const int N, const int masked, VMASK mask, int nsites, const float *in,
                          const ptrdiff_t *soff, const float *g, int ldg, float *gw, int ldw) {
    VF acc[6][NMAX];
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) acc[m][n] = v_zero();
    for (int k = 0; k < nsites; k++, g += ldg) {
        const float *p = in + soff[k];
        VF gv[NMAX];
        for (int n = 0; n < N; n++) gv[n] = ldv(g + VL * n, masked && n == N - 1, mask);
        for (int m = 0; m < M; m++) {
            const VF a = v_bcast(p + m);
            for (int n = 0; n < N; n++) acc[m][n] = v_fma(acc[m][n], a, gv[n]);
        }
    }
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            const int mk = masked && n == N - 1;
            float *q = gw + (size_t)m * ldw + VL * n;
            stv(q, v_add(ldv(q, mk, mask), acc[m][n]), mk, mask);
        }
}

/* All input-channel blocks (balanced, at most WGRAD_MB(N) <= 6 rows, so that the accumulators,
 * the N gout vectors and the row broadcasts fit in registers) for one output-channel block. */
LB_INLINE void wgrad_cblocks(const int N, const int masked, VMASK mask, int cin, int nsites, const float *in,
                             const ptrdiff_t *soff, const float *g, int ldg, float *gw, int ldw) {
    const int mb = WGRAD_MB(N), nb = (cin + mb - 1) / mb;
    for (int bi = 0; bi < nb; bi++) {
        const int c0 = (int)((long)bi * cin / nb), c1 = (int)((long)(bi + 1) * cin / nb);
        const float *inb = in + c0;
        float *gwb = gw + (size_t)c0 * ldw;
        switch (c1 - c0) {
        case 6:
            if (WGRAD_MB(N) >= 6) tile_wgrad(6, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw);
            break;
        case 5: tile_wgrad(5, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 4: tile_wgrad(4, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 3: tile_wgrad(3, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        case 2: tile_wgrad(2, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        default: tile_wgrad(1, N, masked, mask, nsites, inb, soff, g, ldg, gwb, ldw); break;
        }
    }
}

/* gb[c] += sum over the ns sites of a chunk of g, while that chunk of gout is still in cache. */
static void bias_grad_chunk(int cout, int ns, const float *g, float *gb) {
    for (int c0 = 0; c0 < cout; c0 += VL) {
        const int mk = cout - c0 < VL;
        const VMASK mask = V_TAIL(cout - c0);
        VF s[4] = {v_zero(), v_zero(), v_zero(), v_zero()};
        int k = 0;
        for (; k + 4 <= ns; k += 4)
            for (int u = 0; u < 4; u++) s[u] = v_add(s[u], ldv(g + (size_t)(k + u) * cout + c0, mk, mask));
        for (; k < ns; k++) s[0] = v_add(s[0], ldv(g + (size_t)k * cout + c0, mk, mask));
        const VF tot = v_add(v_add(s[0], s[1]), v_add(s[2], s[3]));
        stv(gb + c0, v_add(ldv(gb + c0, mk, mask), tot), mk, mask);
    }
}

void CONV2D_FN(conv2d_periodic_bwd_weights)(const conv2d_desc *d, const float *in, const float *gout, float *gw,
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
            for (int c0 = 0; c0 < cout; c0 += BLOCK_CH) {
                const int rem = cout - c0 < BLOCK_CH ? cout - c0 : BLOCK_CH;
#define WG(NN, MK, MS) wgrad_cblocks(NN, MK, MS, cin, ns, in, so, g + c0, cout, gwt + c0, cout)
                BY_BLOCK(rem, WG);
#undef WG
            }
        }
        if (want_gb) bias_grad_chunk(cout, ns, g, gb);
    }
}

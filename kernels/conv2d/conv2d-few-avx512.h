/* The avx512 conv2d variant's paths for at most 8 written channels in full zmm
 * (conv2d-few-avx512.c describes them).  Internal to kernels/conv2d: the avx512 variant calls
 * them; nothing else should. */
#pragma once
#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include "kernels/conv2d/conv2d.h"

/* bwd_weights when cout <= 8, 16 < cin <= 48 and cout * ceil(cin/16) >= 12 (same bits as the ymm tiles); false, touching
 * nothing, for any other shape. */
bool conv2d_few_bwd_weights_avx512(const conv2d_desc *d, const float *in, const float *gout, float *gw, float *gb);

/* The pair path of the fwd-style product (fwd, stride-1 bwd_data): nc <= 16 written channels from
 * kc (even) reduction channels per tap, T taps, in CONV2D_FEW_NO(nc) / 8 zmm per site.  Packed
 * weights: CONV2D_FEW_PACK(T, kc, nc) floats. */
#define CONV2D_FEW_NO(nc) ((nc) > 8 ? 16 : 8)
#define CONV2D_FEW_PACK(T, kc, nc) ((size_t)(T) * (kc) * CONV2D_FEW_NO(nc))
#define CONV2D_FEW_WMAX 4608 /* the most packed floats a caller keeps on its stack (T*kc*NO <= 4608) */
static inline bool conv2d_few_pair_fits(int T, int kc, int nc) {
    return nc <= 16 && kc >= 2 && kc % 2 == 0 && CONV2D_FEW_PACK(T, kc, nc) <= CONV2D_FEW_WMAX;
}
/* w [T][kc][nc] -> wp [T][kc/2][NO/8][8][2] (zeros for outputs >= nc): tap t's block at
 * wp + CONV2D_FEW_PACK(t, kc, nc). */
void conv2d_few_pack_avx512(int T, int kc, int nc, const float *w, float *wp);
/* A tile of the pair path with the fwd tile's signature (conv2d-avx512.c: tile_fwd_fn): wtab[t]
 * the packed weights of tap t (ldw ignored: 16 floats per pair of k and 8 outputs); tail the
 * written lanes (nc); height in *m, at most mmax (0: no limit; 12, 8, 6 or 4). */
typedef void conv2d_few_tile_fn(int T, int K, const float *const *tab, int ch, const float *const *wtab, size_t ldw,
                                const float *bias, __mmask16 tail, float *dst, size_t ldd, int mrows);
conv2d_few_tile_fn *conv2d_few_pair_tile_avx512(int nc, int mmax, int *m);

/* Chunks of sites whose pointer tables (one per tap) are made from the previous chunk's instead of
 * rebuilt: when a chunk is whole images, the next full chunk's entries are its entries moved on by
 * those images.  Cheaper: with few channels the per-site wraps cost as much as the FMAs (perf, Zen 5:
 * 29 % of task3-eq1's 8 -> 16 2x2 fwd, 45 % of its 32 -> 8 2x2 bwd_weights).
 * conv2d_chunk_shift: the floats of input `chunk` sites move on by when they are whole images of `per`
 * sites, `img` floats each; 0 when they are not. */
static inline ptrdiff_t conv2d_chunk_shift(int chunk, int per, size_t img) {
    return chunk % per == 0 ? (ptrdiff_t)(chunk / per) * (ptrdiff_t)img : 0;
}
/* The chunk at s0 (cnt of `chunk` sites): its T tables (`ld` entries apart, n of them used) made from
 * the previous chunk's when the shift is known and both chunks are full (only the last chunk can be
 * short); false when the caller must build them. */
static inline bool conv2d_tab_next(const float **tab, int T, size_t ld, size_t n, ptrdiff_t shift, int s0, int cnt,
                                   int chunk) {
    if (!s0 || !shift || cnt != chunk) return false;
    for (int t = 0; t < T; t++)
        for (size_t i = 0; i < n; i++) tab[(size_t)t * ld + i] += shift;
    return true;
}

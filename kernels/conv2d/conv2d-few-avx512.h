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

/* A pointer table of a chunk of whole images made the next chunk's: every entry moves on by `by`
 * floats (the chunk's images).  Cheaper than rebuilding it: with few channels the per-site wraps
 * cost as much as the FMAs (perf, Zen 5: 29 % of task3-eq1's 8 -> 16 2x2 fwd, 45 % of its
 * 32 -> 8 2x2 bwd_weights). */
static inline void conv2d_tab_shift(const float **tab, size_t n, ptrdiff_t by) {
    for (size_t i = 0; i < n; i++) tab[i] += by;
}

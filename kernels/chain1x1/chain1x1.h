/* chain1x1: a fused forward pass over 2..4 consecutive 1x1 conv layers (stride 1), each followed
 * by a LeakyReLU, float32, NHWC.  A 1x1 conv treats every site alike, so the lattice and the batch
 * are one list of `sites` rows of channels:
 *   x_0 = in                               [sites][c[0]]
 *   p_l = x_l . w[l] (+ b[l])               [sites][c[l+1]],  w[l] [c[l]][c[l+1]] (conv2d's HWIO at 1x1)
 *   x_{l+1} = lrelu(p_l, slope)             y > 0 ? y : slope*y
 *   out = x_layers                          [sites][c[layers]]
 * It is the composition of conv2d fwd (kh = kw = 1, sh = sw = 1) and act lrelu_fwd per layer: a
 * variant runs a tile of sites through every layer with the intermediates in a small buffer (L1),
 * and reads `in` and writes `out` once, where the unfused layers write and re-read every
 * intermediate over the whole batch.  Summation per output: bias, then input channels in order
 * (the order of conv2d's variants), so results match the unfused layers up to FMA rounding.
 * keep == NULL: inference, only `out` is written.  keep != NULL (training forward, which needs the
 * intermediates for backward): also keep->pre[l] = p_l for every layer and keep->post[l] = x_{l+1}
 * for l < layers-1 (x_layers is `out`), still in one pass.  No pointer may alias another.
 */
#pragma once
#include <stdbool.h>
#include "kernels/common.h"

#define CHAIN1X1_MAX_LAYERS 4
#define CHAIN1X1_MAX_C 128   /* channels of any layer, at most */

typedef struct {
    size_t sites;                          /* n * h * w */
    int layers;                            /* 2..CHAIN1X1_MAX_LAYERS */
    int c[CHAIN1X1_MAX_LAYERS + 1];        /* c[0] in, c[l+1] out of layer l; 1..CHAIN1X1_MAX_C */
    int bias[CHAIN1X1_MAX_LAYERS];         /* 0 or 1 per layer */
    float slope;                           /* LeakyReLU slope after every layer */
    lb_params params;                      /* the variant's tuning parameters (0: defaults) */
} chain1x1_desc;

typedef struct {
    float *pre[CHAIN1X1_MAX_LAYERS];       /* [sites][c[l+1]]: every layer's conv output */
    float *post[CHAIN1X1_MAX_LAYERS - 1];  /* [sites][c[l+1]]: the lrelu outputs but the last */
} chain1x1_keep;

/* Whether d is a chain the op takes (layer count and channel bounds). */
static inline bool chain1x1_valid(const chain1x1_desc *d) {
    if (d->layers < 2 || d->layers > CHAIN1X1_MAX_LAYERS) return false;
    for (int l = 0; l <= d->layers; l++)
        if (d->c[l] < 1 || d->c[l] > CHAIN1X1_MAX_C) return false;
    return true;
}
static inline size_t chain1x1_w_size(const chain1x1_desc *d, int l) { return (size_t)d->c[l] * d->c[l + 1]; }
static inline double chain1x1_flops(const chain1x1_desc *d) {
    double f = 0;
    for (int l = 0; l < d->layers; l++) f += 2.0 * (double)d->sites * d->c[l] * d->c[l + 1];
    return f;
}

typedef void chain1x1_fwd_fn(const chain1x1_desc *d, const float *in, const float *const *w, const float *const *b,
                             float *out, const chain1x1_keep *keep);

typedef struct {
    const char *name;
    lb_isa isa;
    chain1x1_fwd_fn *fwd;
    const lb_param_info *params;   /* NULL when nparams is 0 */
    int nparams;
} chain1x1_ops;

#define KERNEL(isa, sfx) chain1x1_fwd_fn chain1x1_fwd__##sfx;
#define KERNEL_P(isa, sfx) KERNEL(isa, sfx)
#include "kernels/chain1x1/chain1x1.inc"
#undef KERNEL
#undef KERNEL_P

/* avx512 parameters (kernels/common.h: 0 = the default):
 *   tile  8..64  sites per tile run through every layer (rounded down to a multiple of 4); 0: 64,
 *                measured on the seed chains at 60x4, batch 128 (CPU time, interleaved, two runs):
 *                64 beat 32 in three of four rows by 2-6% (the fourth 2% slower, within its
 *                spread), 16 was 1.25-1.35x slower than 64 */
enum { CHAIN1X1_AVX512_TILE, CHAIN1X1_AVX512_NPARAMS };
LB_UNUSED static const lb_param_info chain1x1_params__avx512[CHAIN1X1_AVX512_NPARAMS] = {
    {"tile", 8, 64, "sites per tile through every layer (multiple of 4); 0: 64"},
};

/* avx2 parameters: the same tile (the avx512 file's algorithm at 8 lanes); 0: 64 */
enum { CHAIN1X1_AVX2_TILE, CHAIN1X1_AVX2_NPARAMS };
LB_UNUSED static const lb_param_info chain1x1_params__avx2[CHAIN1X1_AVX2_NPARAMS] = {
    {"tile", 8, 64, "sites per tile through every layer (multiple of 4); 0: 64"},
};

/* neon parameters: the same tile (the avx2 file's algorithm at 4 lanes); 0: 64, the x86 variants'
 * default (not measured on ARM hardware; `latbench tune --op chain1x1` there picks the tile) */
enum { CHAIN1X1_NEON_TILE, CHAIN1X1_NEON_NPARAMS };
LB_UNUSED static const lb_param_info chain1x1_params__neon[CHAIN1X1_NEON_NPARAMS] = {
    {"tile", 8, 64, "sites per tile through every layer (multiple of 4); 0: 64"},
};

#define CHAIN1X1_ROW(isa, sfx) { #sfx, isa, chain1x1_fwd__##sfx, NULL, 0 },
#define CHAIN1X1_ROW_P(isa, sfx) \
    { #sfx, isa, chain1x1_fwd__##sfx, chain1x1_params__##sfx, (int)(sizeof chain1x1_params__##sfx / sizeof chain1x1_params__##sfx[0]) },

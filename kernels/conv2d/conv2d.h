/* conv2d with periodic (circular) padding, float32, NHWC.
 *
 * Output size: oh = ceil(h / sh), ow = ceil(w / sw).  Output site (t, x) reads input sites
 *   ((t*sh + i + off(kh)) mod h, (x*sw + j + off(kw)) mod w),  i < kh, j < kw,
 * with off(k) = -floor((k-1)/2): PyTorch's "same" split with circular padding (docs/design.md §4.1).
 *   in   [n][h][w][cin]          out  [n][oh][ow][cout]
 *   w    [kh][kw][cin][cout]     wt   [kh][kw][cout][cin]  (backward-data)
 *   bias [cout] or NULL when !bias
 * fwd overwrites out.  bwd_data overwrites gin [n][h][w][cin].  bwd_weights overwrites
 * gw [kh][kw][cin][cout] and, when d->bias and gb != NULL, gb [cout].
 */
#pragma once
#include "kernels/common.h"

typedef struct {
    int n;        /* batch */
    int h, w;     /* input lattice NT x NX */
    int cin, cout;
    int kh, kw;   /* 1..3 */
    int sh, sw;   /* 1 or 2 */
    int bias;     /* 0 or 1 */
    lb_params params; /* the variant's tuning parameters (all 0: its defaults); not part of the
                         problem: descriptors and results are the same for every value */
} conv2d_desc;

static inline int conv2d_off(int k) { return -((k - 1) / 2); }
static inline int conv2d_oh(const conv2d_desc *d) { return (d->h + d->sh - 1) / d->sh; }
static inline int conv2d_ow(const conv2d_desc *d) { return (d->w + d->sw - 1) / d->sw; }
static inline size_t conv2d_in_size(const conv2d_desc *d) { return (size_t)d->n * d->h * d->w * d->cin; }
static inline size_t conv2d_out_size(const conv2d_desc *d) { return (size_t)d->n * conv2d_oh(d) * conv2d_ow(d) * d->cout; }
static inline size_t conv2d_w_size(const conv2d_desc *d) { return (size_t)d->kh * d->kw * d->cin * d->cout; }

/* FLOPs per call (one FMA = 2 FLOPs); the same count for all three passes. */
static inline double conv2d_flops(const conv2d_desc *d) {
    return 2.0 * d->n * conv2d_oh(d) * conv2d_ow(d) * d->cout * d->cin * d->kh * d->kw;
}
/* Compulsory bytes moved per call (each tensor read or written once). */
static inline double conv2d_bytes(const conv2d_desc *d) {
    return 4.0 * (conv2d_in_size(d) + conv2d_out_size(d) + conv2d_w_size(d) + (d->bias ? d->cout : 0));
}

/* [kh][kw][cin][cout] -> [kh][kw][cout][cin]; the layout backward-data consumes. */
static inline void conv2d_weights_transpose(const conv2d_desc *d, const float *w, float *wt) {
    for (int t = 0; t < d->kh * d->kw; t++)
        for (int ci = 0; ci < d->cin; ci++)
            for (int co = 0; co < d->cout; co++)
                wt[((size_t)t * d->cout + co) * d->cin + ci] = w[((size_t)t * d->cin + ci) * d->cout + co];
}

typedef void conv2d_fwd_fn(const conv2d_desc *d, const float *in, const float *w, const float *bias, float *out);
typedef void conv2d_bwd_data_fn(const conv2d_desc *d, const float *gout, const float *wt, float *gin);
typedef void conv2d_bwd_weights_fn(const conv2d_desc *d, const float *in, const float *gout, float *gw, float *gb);

typedef struct {
    const char *name;
    lb_isa isa;
    conv2d_fwd_fn *fwd;
    conv2d_bwd_data_fn *bwd_data;
    conv2d_bwd_weights_fn *bwd_weights;
    const lb_param_info *params;   /* the parameters this variant accepts (NULL when nparams is 0) */
    int nparams;
} conv2d_ops;

#define KERNEL(isa, sfx)                                             \
    conv2d_fwd_fn conv2d_periodic_fwd__##sfx;                        \
    conv2d_bwd_data_fn conv2d_periodic_bwd_data__##sfx;              \
    conv2d_bwd_weights_fn conv2d_periodic_bwd_weights__##sfx;
#define KERNEL_P(isa, sfx) KERNEL(isa, sfx)
#include "kernels/conv2d/conv2d.inc"
#undef KERNEL
#undef KERNEL_P

/* Tuning parameters of a variant (kernels/common.h: 0 = the default, i.e. the kernel as before).
 * Naming rule for every conv2d variant, which `latbench tune` relies on to try only what can act:
 * a name starting "fwd_" acts on fwd and stride-1 bwd_data, "bww_" on bwd_weights, any other on
 * every pass.  A variant with a table is listed in conv2d.inc as KERNEL_P(isa, sfx) and its table
 * is conv2d_params__<sfx> here.
 *
 * avx512 (the defaults were tuned by hand on Zen 4, one 512-bit FMA pipe):
 *   fwd_m        4..12  tile height (output sites) of fwd and stride-1 bwd_data, at most this,
 *                       rounded down to an instantiated height (4, 5, 6, 8, 12); 0: the tallest
 *                       that fits the registers per width (12, 12, 8, 6, 5 for 1..5 vectors)
 *   fwd_prefetch 1..2   software prefetch of the next tile's rows: 1 never, 2 always;
 *                       0: when the operands exceed 2 MiB
 *   small_zmm    1..2   at most 8 written channels: 1 in a masked zmm; 2 in a ymm (Zen 4 issues two
 *                       ymm FMAs a cycle against one zmm); 0: in full zmm where the shape fits
 *                       (conv2d-few-avx512.c: fwd / stride-1 bwd_data with an even reduction count
 *                       per tap and operands within 2 MiB take two k per zmm, and so do 9..16
 *                       written channels at 0, in two zmm, where 1 and 2 keep one zmm; bwd_weights with
 *                       17..48 input channels, enough of them, runs over them, the same bits),
 *                       else in a ymm
 *   bww_chunk    32..512 sites per chunk in bwd_weights (swept once per gw tile); 0: 256
 *   bww_m        1..12  bwd_weights tile height (rows of gw), at most this; 0: the tallest per
 *                       width (12, 12, 8, 6, 5 for 1..5 vectors; 16 for a ymm)
 * None changes a result beyond the summation order of its tiles (verify checks every value). */
enum { CONV2D_AVX512_FWD_M, CONV2D_AVX512_FWD_PREFETCH, CONV2D_AVX512_SMALL_ZMM, CONV2D_AVX512_BWW_CHUNK,
       CONV2D_AVX512_BWW_M, CONV2D_AVX512_NPARAMS };
LB_UNUSED static const lb_param_info conv2d_params__avx512[CONV2D_AVX512_NPARAMS] = {
    {"fwd_m", 4, 12, "tile height of fwd / stride-1 bwd_data, at most (4, 5, 6, 8, 12); 0: 12, 12, 8, 6, 5 per width"},
    {"fwd_prefetch", 1, 2, "software prefetch in fwd / stride-1 bwd_data: 1 never, 2 always; 0: above 2 MiB"},
    {"small_zmm", 1, 2, "<= 8 channels: 1 in a masked zmm, 2 in a ymm; 0: full zmm where it fits, else ymm (9..16: 0 pairs of k)"},
    {"bww_chunk", 32, 512, "sites per chunk in bwd_weights; 0: 256"},
    {"bww_m", 1, 12, "bwd_weights tile height, at most; 0: 12, 12, 8, 6, 5 per width (ymm 16)"},
};

#define CONV2D_ROW(isa, sfx) { #sfx, isa, conv2d_periodic_fwd__##sfx, conv2d_periodic_bwd_data__##sfx, conv2d_periodic_bwd_weights__##sfx, NULL, 0 },
#define CONV2D_ROW_P(isa, sfx)                                                                          \
    { #sfx, isa, conv2d_periodic_fwd__##sfx, conv2d_periodic_bwd_data__##sfx, conv2d_periodic_bwd_weights__##sfx, \
      conv2d_params__##sfx, (int)(sizeof conv2d_params__##sfx / sizeof conv2d_params__##sfx[0]) },

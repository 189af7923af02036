/* Dense (linear) layer and flatten.
 *   x [n][in]   w [in][out]   b [out] or NULL when !bias   y [n][out]
 *   fwd:         y = x w + b                       (overwrites y)
 *   bwd_data:    gx = gy w^T                        (overwrites gx [n][in])
 *   bwd_weights: gw = x^T gy, gb = sum_n gy         (overwrites gw [in][out]; gb when bias && gb)
 * Flatten turns NHWC activations [n][h][w][c] into PyTorch's per-sample order [n][c][h][w]
 * (so a Linear after Flatten has PyTorch's weights); flatten_bwd is the inverse permutation.
 */
#pragma once
#include "kernels/common.h"

typedef struct {
    int n, in, out;
    int bias;
} dense_desc;

typedef struct {
    int n, h, w, c;
} dense_flatten_desc;

static inline double dense_flops(const dense_desc *d) { return 2.0 * d->n * d->in * d->out; }
static inline double dense_bytes(const dense_desc *d) {
    return 4.0 * ((double)d->n * d->in + (double)d->in * d->out + (double)d->n * d->out + (d->bias ? d->out : 0));
}
static inline double dense_flatten_bytes(const dense_flatten_desc *d) { return 8.0 * d->n * d->h * d->w * d->c; }

typedef void dense_fwd_fn(const dense_desc *d, const float *x, const float *w, const float *b, float *y);
typedef void dense_bwd_data_fn(const dense_desc *d, const float *gy, const float *w, float *gx);
typedef void dense_bwd_weights_fn(const dense_desc *d, const float *x, const float *gy, float *gw, float *gb);
typedef void dense_flatten_fwd_fn(const dense_flatten_desc *d, const float *in, float *out);
typedef void dense_flatten_bwd_fn(const dense_flatten_desc *d, const float *gout, float *gin);

typedef struct {
    const char *name;
    lb_isa isa;
    dense_fwd_fn *fwd;
    dense_bwd_data_fn *bwd_data;
    dense_bwd_weights_fn *bwd_weights;
    dense_flatten_fwd_fn *flatten_fwd;
    dense_flatten_bwd_fn *flatten_bwd;
} dense_ops;

#define KERNEL(isa, sfx) dense_fwd_fn dense_fwd__##sfx; dense_bwd_data_fn dense_bwd_data__##sfx; \
    dense_bwd_weights_fn dense_bwd_weights__##sfx; dense_flatten_fwd_fn dense_flatten_fwd__##sfx; dense_flatten_bwd_fn dense_flatten_bwd__##sfx;
#include "kernels/dense/dense.inc"
#undef KERNEL
#define DENSE_ROW(isa, sfx) { #sfx, isa, dense_fwd__##sfx, dense_bwd_data__##sfx, dense_bwd_weights__##sfx, \
    dense_flatten_fwd__##sfx, dense_flatten_bwd__##sfx },

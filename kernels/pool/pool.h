/* Average and max pooling, k x k window, stride s, no padding, floor mode (PyTorch's
 * AvgPool2d/MaxPool2d defaults): oh = (h - k)/s + 1, ow = (w - k)/s + 1; requires h, w >= k.
 *   in [n][h][w][c]   out [n][oh][ow][c]
 * fwd overwrites out.  bwd overwrites gin [n][h][w][c]; for max, the gradient goes to the first
 * maximum of the window in row-major order (PyTorch's choice), recomputed from `in`;
 * for avg, in may be NULL.
 */
#pragma once
#include "kernels/common.h"

typedef enum { POOL_AVG = 0, POOL_MAX = 1 } pool_kind;

typedef struct {
    int n, h, w, c;
    int k, s;
    pool_kind kind;
} pool_desc;

static inline int pool_oh(const pool_desc *d) { return (d->h - d->k) / d->s + 1; }
static inline int pool_ow(const pool_desc *d) { return (d->w - d->k) / d->s + 1; }
static inline size_t pool_in_size(const pool_desc *d) { return (size_t)d->n * d->h * d->w * d->c; }
static inline size_t pool_out_size(const pool_desc *d) { return (size_t)d->n * pool_oh(d) * pool_ow(d) * d->c; }
static inline double pool_flops(const pool_desc *d) { return (double)pool_out_size(d) * d->k * d->k; }
static inline double pool_bytes(const pool_desc *d) { return 4.0 * (pool_in_size(d) + pool_out_size(d)); }

typedef void pool_fwd_fn(const pool_desc *d, const float *in, float *out);
typedef void pool_bwd_fn(const pool_desc *d, const float *in, const float *gout, float *gin);

typedef struct {
    const char *name;
    lb_isa isa;
    pool_fwd_fn *fwd;
    pool_bwd_fn *bwd;
} pool_ops;

#define KERNEL(isa, sfx) pool_fwd_fn pool_fwd__##sfx; pool_bwd_fn pool_bwd__##sfx;
#include "kernels/pool/pool.inc"
#undef KERNEL
#define POOL_ROW(isa, sfx) { #sfx, isa, pool_fwd__##sfx, pool_bwd__##sfx },

/* Global pooling over all lattice sites: average, max, sum.
 *   in [n][hw][c]  (hw = NT*NX sites)   out [n][c]
 * fwd overwrites out.  bwd overwrites gin [n][hw][c]; for max the gradient goes to the first
 * site holding the maximum (recomputed from `in`); for avg and sum, in may be NULL.
 */
#pragma once
#include "kernels/common.h"

typedef enum { GPOOL_AVG = 0, GPOOL_MAX = 1, GPOOL_SUM = 2 } gpool_kind;

typedef struct {
    int n, hw, c;
    gpool_kind kind;
} gpool_desc;

static inline double gpool_flops(const gpool_desc *d) { return (double)d->n * d->hw * d->c; }
static inline double gpool_bytes(const gpool_desc *d) { return 4.0 * ((double)d->n * d->hw * d->c + (double)d->n * d->c); }

typedef void gpool_fwd_fn(const gpool_desc *d, const float *in, float *out);
typedef void gpool_bwd_fn(const gpool_desc *d, const float *in, const float *gout, float *gin);

typedef struct {
    const char *name;
    lb_isa isa;
    gpool_fwd_fn *fwd;
    gpool_bwd_fn *bwd;
} gpool_ops;

#define KERNEL(isa, sfx) gpool_fwd_fn gpool_fwd__##sfx; gpool_bwd_fn gpool_bwd__##sfx;
#include "kernels/gpool/gpool.inc"
#undef KERNEL
#define GPOOL_ROW(isa, sfx) { #sfx, isa, gpool_fwd__##sfx, gpool_bwd__##sfx },

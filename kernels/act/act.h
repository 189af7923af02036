/* Elementwise activations on n floats (any shape).  In-place is allowed (y == x, gx == gy).
 *   lrelu_fwd:   y = x > 0 ? x : slope*x                 (DESIGN: slope 0.01)
 *   lrelu_bwd:   gx = gy * (x > 0 ? 1 : slope)            (uses the forward input x)
 *   sigmoid_fwd: y = 1 / (1 + exp(-x)), accurate for all x (no overflow for large |x|)
 *   sigmoid_bwd: gx = gy * y * (1 - y)                    (uses the forward output y)
 */
#pragma once
#include "kernels/common.h"

typedef void act_lrelu_fwd_fn(size_t n, float slope, const float *x, float *y);
typedef void act_lrelu_bwd_fn(size_t n, float slope, const float *x, const float *gy, float *gx);
typedef void act_sigmoid_fwd_fn(size_t n, const float *x, float *y);
typedef void act_sigmoid_bwd_fn(size_t n, const float *y, const float *gy, float *gx);

static inline double act_bytes_fwd(size_t n) { return 8.0 * n; }
static inline double act_bytes_bwd(size_t n) { return 12.0 * n; }

typedef struct {
    const char *name;
    lb_isa isa;
    act_lrelu_fwd_fn *lrelu_fwd;
    act_lrelu_bwd_fn *lrelu_bwd;
    act_sigmoid_fwd_fn *sigmoid_fwd;
    act_sigmoid_bwd_fn *sigmoid_bwd;
} act_ops;

#define KERNEL(isa, sfx) act_lrelu_fwd_fn act_lrelu_fwd__##sfx; act_lrelu_bwd_fn act_lrelu_bwd__##sfx; \
    act_sigmoid_fwd_fn act_sigmoid_fwd__##sfx; act_sigmoid_bwd_fn act_sigmoid_bwd__##sfx;
#include "kernels/act/act.inc"
#undef KERNEL
#define ACT_ROW(isa, sfx) { #sfx, isa, act_lrelu_fwd__##sfx, act_lrelu_bwd__##sfx, act_sigmoid_fwd__##sfx, act_sigmoid_bwd__##sfx },

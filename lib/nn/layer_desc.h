/* The kernel descriptor of a spec layer at its input shape and batch size: the one place a
 * net_spec layer becomes a conv2d/pool/gpool problem (model runtime, verify, bench). */
#pragma once
#include "lib/nn/netspec.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/gpool/gpool.h"
#include "kernels/pool/pool.h"

static inline conv2d_desc layer_conv_desc(const layer_spec *L, act_shape in, int n) {
    return (conv2d_desc){n, in.h, in.w, L->cin, L->cout, L->kh, L->kw, L->stride, L->stride, L->bias, {{0}}};
}

static inline pool_desc layer_pool_desc(const layer_spec *L, act_shape in, int n) {
    return (pool_desc){n, in.h, in.w, in.c, L->k, L->s, L->kind == LAYER_AVGPOOL ? POOL_AVG : POOL_MAX};
}

static inline gpool_desc layer_gpool_desc(const layer_spec *L, act_shape in, int n) {
    return (gpool_desc){n, in.h * in.w, in.c,
                        L->kind == LAYER_GAVGPOOL ? GPOOL_AVG : L->kind == LAYER_GMAXPOOL ? GPOOL_MAX : GPOOL_SUM};
}

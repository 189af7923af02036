/* The verification problem set: every layer of every preset network on 8x8, 60x4 and 100x5
 * (batches 1 and 2), plus awkward shapes.  Shared by `latbench verify` and the tests. */
#pragma once
#include <stddef.h>
#include "kernels/conv2d/conv2d.h"
#include "kernels/pool/pool.h"
#include "kernels/gpool/gpool.h"
#include "kernels/dense/dense.h"

typedef struct {
    void (*conv)(void *ctx, const conv2d_desc *d);
    void (*pool)(void *ctx, const pool_desc *d);
    void (*gpool)(void *ctx, const gpool_desc *d);
    void (*dense)(void *ctx, const dense_desc *d);
    void (*flatten)(void *ctx, const dense_flatten_desc *d);
    void (*act)(void *ctx, size_t n);
    void (*loss)(void *ctx, size_t n);
    void (*optim)(void *ctx, size_t n);
} vp_visitor;

/* Calls the visitor for every problem (the same problem may come more than once). */
void vp_enumerate(const vp_visitor *v, void *ctx);

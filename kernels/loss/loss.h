/* Losses with gradients, mean reduction over all `count` elements (PyTorch's default).
 *   mse:        L = mean((p - t)^2),                       grad = 2 (p - t) / count
 *   bce_logits: L = mean(max(z,0) - z t + log1p(exp(-|z|))), grad = (sigmoid(z) - t) / count
 *               (binary cross-entropy on logits, stable for any z; equals BCE(sigmoid(z), t))
 * Returns L; writes grad [count] when grad != NULL.
 */
#pragma once
#include "kernels/common.h"

typedef float loss_fn(size_t count, const float *pred, const float *target, float *grad);

typedef struct {
    const char *name;
    lb_isa isa;
    loss_fn *mse;
    loss_fn *bce_logits;
} loss_ops;

#define KERNEL(isa, sfx) loss_fn loss_mse__##sfx; loss_fn loss_bce_logits__##sfx;
#include "kernels/loss/loss.inc"
#undef KERNEL
#define LOSS_ROW(isa, sfx) { #sfx, isa, loss_mse__##sfx, loss_bce_logits__##sfx },

/* PLACEHOLDER: optim avx512 variant not written yet. */
#include "kernels/optim/optim.h"

void adamw_step__avx512(const adamw_params *hp, size_t n, float *param, const float *grad, float *m, float *v, float *vmax) { __builtin_trap(); }

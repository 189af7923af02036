/* PLACEHOLDER: pool scalar variant not written yet. */
#include "kernels/pool/pool.h"

void pool2d_fwd__scalar(const pool_desc *d, const float *in, float *out) { __builtin_trap(); }
void pool2d_bwd__scalar(const pool_desc *d, const float *in, const float *gout, float *gin) { __builtin_trap(); }

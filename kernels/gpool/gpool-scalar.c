/* PLACEHOLDER: gpool scalar variant not written yet. */
#include "kernels/gpool/gpool.h"

void gpool_fwd__scalar(const gpool_desc *d, const float *in, float *out) { __builtin_trap(); }
void gpool_bwd__scalar(const gpool_desc *d, const float *in, const float *gout, float *gin) { __builtin_trap(); }

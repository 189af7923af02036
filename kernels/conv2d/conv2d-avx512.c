/* PLACEHOLDER: conv2d avx512 variant not written yet. */
#include "kernels/conv2d/conv2d.h"

void conv2d_periodic_fwd__avx512(const conv2d_desc *d, const float *in, const float *w, const float *bias, float *out) { __builtin_trap(); }
void conv2d_periodic_bwd_data__avx512(const conv2d_desc *d, const float *gout, const float *wt, float *gin) { __builtin_trap(); }
void conv2d_periodic_bwd_weights__avx512(const conv2d_desc *d, const float *in, const float *gout, float *gw, float *gb) { __builtin_trap(); }

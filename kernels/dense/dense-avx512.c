/* PLACEHOLDER: dense avx512 variant not written yet. */
#include "kernels/dense/dense.h"

void dense_fwd__avx512(const dense_desc *d, const float *x, const float *w, const float *b, float *y) { __builtin_trap(); }
void dense_bwd_data__avx512(const dense_desc *d, const float *gy, const float *w, float *gx) { __builtin_trap(); }
void dense_bwd_weights__avx512(const dense_desc *d, const float *x, const float *gy, float *gw, float *gb) { __builtin_trap(); }
void flatten_fwd__avx512(const flatten_desc *d, const float *in, float *out) { __builtin_trap(); }
void flatten_bwd__avx512(const flatten_desc *d, const float *gout, float *gin) { __builtin_trap(); }

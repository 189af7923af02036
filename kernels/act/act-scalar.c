/* PLACEHOLDER: act scalar variant not written yet. */
#include "kernels/act/act.h"

void lrelu_fwd__scalar(size_t n, float slope, const float *x, float *y) { __builtin_trap(); }
void lrelu_bwd__scalar(size_t n, float slope, const float *x, const float *gy, float *gx) { __builtin_trap(); }
void sigmoid_fwd__scalar(size_t n, const float *x, float *y) { __builtin_trap(); }
void sigmoid_bwd__scalar(size_t n, const float *y, const float *gy, float *gx) { __builtin_trap(); }

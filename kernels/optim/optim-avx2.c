/* AdamW (+amsgrad), AVX2: the operations of optim-scalar.c, in its order and without FMA
 * contraction (the pragma: gcc would otherwise fuse the intrinsics' mul and add), so the result
 * is bit-identical to the reference; sqrt and div are correctly rounded in both. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <immintrin.h>
#include "kernels/avx2_part.h"
#include <math.h>
#include "kernels/optim/optim.h"

typedef struct {
    __m256 decay, w1, b2, w2, step_size, bc2_sqrt, eps;
} adamw_vec;

/* Loads/stores 8 floats, or the lanes of msk (vmaskmovps, only for the tail: AMD cores microcode
 * its store form). */

LB_INLINE void step8(const adamw_vec *c, int ams, const int full, __m256i msk, float *param, const float *grad, float *m,
              float *v, float *vmax) {
    const __m256 g = avx2_ld(grad, full, msk), m0 = avx2_ld(m, full, msk);
    const __m256 p = _mm256_mul_ps(avx2_ld(param, full, msk), c->decay);
    const __m256 mi = _mm256_add_ps(m0, _mm256_mul_ps(_mm256_sub_ps(g, m0), c->w1));
    const __m256 vi = _mm256_add_ps(_mm256_mul_ps(avx2_ld(v, full, msk), c->b2),
                                    _mm256_mul_ps(_mm256_mul_ps(c->w2, g), g));
    __m256 s = vi;
    if (ams) {
        s = _mm256_max_ps(avx2_ld(vmax, full, msk), vi);
        avx2_st(vmax, s, full, msk);
    }
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(s), c->bc2_sqrt), c->eps);
    avx2_st(param, _mm256_sub_ps(p, _mm256_div_ps(_mm256_mul_ps(c->step_size, mi), denom)), full, msk);
    avx2_st(m, mi, full, msk);
    avx2_st(v, vi, full, msk);
}

void optim_adamw_step__avx2(const optim_adamw_params *hp, size_t n, float *param, const float *grad, float *m, float *v,
                      float *vmax) {
    const double bc1 = 1.0 - pow((double)hp->beta1, (double)hp->step);
    const double bc2 = 1.0 - pow((double)hp->beta2, (double)hp->step);
    adamw_vec c;
    c.decay = _mm256_set1_ps((float)(1.0 - (double)hp->lr * (double)hp->weight_decay));
    c.w1 = _mm256_set1_ps((float)(1.0 - (double)hp->beta1));
    c.b2 = _mm256_set1_ps(hp->beta2);
    c.w2 = _mm256_set1_ps((float)(1.0 - (double)hp->beta2));
    c.step_size = _mm256_set1_ps((float)((double)hp->lr / bc1));
    c.bc2_sqrt = _mm256_set1_ps((float)sqrt(bc2));
    c.eps = _mm256_set1_ps(hp->eps);
    const int ams = hp->amsgrad && vmax;
    const __m256i all = _mm256_set1_epi32(-1);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        step8(&c, ams, 1, all, param + i, grad + i, m + i, v + i, ams ? vmax + i : NULL);
    if (i < n) {
        const __m256i msk = avx2_mask_n(n - i);
        step8(&c, ams, 0, msk, param + i, grad + i, m + i, v + i, ams ? vmax + i : NULL);
    }
}

/* AdamW (+amsgrad), AVX-512: the operations of optim-scalar.c, in its order and without FMA
 * contraction (the pragma: gcc would otherwise fuse the intrinsics' mul and add), so the result
 * is bit-identical to the reference; sqrt and div are correctly rounded in both. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <immintrin.h>
#include "kernels/avx512_part.h"
#include <math.h>
#include "kernels/optim/optim.h"

void optim_adamw_step__avx512(const optim_adamw_params *hp, size_t n, float *param, const float *grad, float *m, float *v,
                        float *vmax) {
    const double bc1 = 1.0 - pow((double)hp->beta1, (double)hp->step);
    const double bc2 = 1.0 - pow((double)hp->beta2, (double)hp->step);
    const __m512 decay = _mm512_set1_ps((float)(1.0 - (double)hp->lr * (double)hp->weight_decay));
    const __m512 w1 = _mm512_set1_ps((float)(1.0 - (double)hp->beta1)), b2 = _mm512_set1_ps(hp->beta2);
    const __m512 w2 = _mm512_set1_ps((float)(1.0 - (double)hp->beta2));
    const __m512 step_size = _mm512_set1_ps((float)((double)hp->lr / bc1));
    const __m512 bc2_sqrt = _mm512_set1_ps((float)sqrt(bc2)), eps = _mm512_set1_ps(hp->eps);
    const int ams = hp->amsgrad && vmax;
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 k = avx512_mask_n(n - i);
        const __m512 g = _mm512_maskz_loadu_ps(k, grad + i), m0 = _mm512_maskz_loadu_ps(k, m + i);
        const __m512 p = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, param + i), decay);
        const __m512 mi = _mm512_add_ps(m0, _mm512_mul_ps(_mm512_sub_ps(g, m0), w1));
        const __m512 vi = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, v + i), b2),
                                        _mm512_mul_ps(_mm512_mul_ps(w2, g), g));
        __m512 s = vi;
        if (ams) {
            s = _mm512_max_ps(_mm512_maskz_loadu_ps(k, vmax + i), vi);
            _mm512_mask_storeu_ps(vmax + i, k, s);
        }
        const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(s), bc2_sqrt), eps);
        _mm512_mask_storeu_ps(param + i, k, _mm512_sub_ps(p, _mm512_div_ps(_mm512_mul_ps(step_size, mi), denom)));
        _mm512_mask_storeu_ps(m + i, k, mi);
        _mm512_mask_storeu_ps(v + i, k, vi);
    }
}

/* Losses, AVX-512.  Same formulas as loss-scalar.c (read its header comment): float elementwise
 * terms, double sum; exp and log1p are the Cephes single-precision polynomials (about 1 ulp)
 * after range reduction, evaluated with FMA.
 */
#include <immintrin.h>
#include "kernels/avx512_part.h"
#include "kernels/loss/loss.h"


/* exp(x) for x <= 0 (x = -|z|): x = k ln2 + r, |r| <= ln2/2; vscalefps applies 2^k with one
 * rounding, so results in the subnormal range are right too.  Below -104 the result is 0. */
LB_INLINE __m512 exp_nonpos(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x); /* ln2 = C1 - C2, C1 exact in 9 bits */
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 y = _mm512_set1_ps(1.9875691500e-4f);
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
    y = _mm512_add_ps(_mm512_fmadd_ps(y, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, k);
}

/* log1p(e) for e in [0, 1].  With f = e (e <= sqrt2-1) or f = (e-1)/2 (then log1p(e) = ln2 +
 * log(1+f)), f is exact and in [sqrt(1/2)-1, sqrt2-1], the domain of the Cephes log polynomial. */
LB_INLINE __m512 log1p_unit(__m512 e) {
    const __mmask16 big = _mm512_cmp_ps_mask(e, _mm512_set1_ps(0.414213562f), _CMP_GT_OQ);
    const __m512 f = _mm512_mask_mul_ps(e, big, _mm512_sub_ps(e, _mm512_set1_ps(1.0f)), _mm512_set1_ps(0.5f));
    const __m512 z = _mm512_mul_ps(f, f);
    __m512 y = _mm512_set1_ps(7.0376836292e-2f);
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-1.1514610310e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(1.1676998740e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-1.2420140846e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(1.4249322787e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-1.6668057665e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(2.0000714765e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(-2.4999993993e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(3.3333331174e-1f));
    y = _mm512_mul_ps(_mm512_mul_ps(y, f), z);
    y = _mm512_mask_add_ps(y, big, y, _mm512_set1_ps(-2.12194440e-4f));
    y = _mm512_fmadd_ps(_mm512_set1_ps(-0.5f), z, y);
    __m512 res = _mm512_add_ps(f, y);
    return _mm512_mask_add_ps(res, big, res, _mm512_set1_ps(0.693359375f));
}

LB_INLINE __m512d acc_pd(__m512d acc, __m256 v) { return _mm512_add_pd(acc, _mm512_cvtps_pd(v)); }

float loss_mse__avx512(size_t count, const float *pred, const float *target, float *grad) {
    const __m512 norm = _mm512_set1_ps((float)(2.0 / (double)count));
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 m = avx512_mask_n(count - i);
        const __m512 dlt = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, pred + i), _mm512_maskz_loadu_ps(m, target + i));
        if (grad) _mm512_mask_storeu_ps(grad + i, m, _mm512_mul_ps(dlt, norm));
        const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(dlt)), hi = _mm512_cvtps_pd(_mm512_extractf32x8_ps(dlt, 1));
        a0 = _mm512_fmadd_pd(lo, lo, a0); /* the square of a float is exact in double */
        a1 = _mm512_fmadd_pd(hi, hi, a1);
    }
    return (float)(_mm512_reduce_add_pd(_mm512_add_pd(a0, a1)) / (double)count);
}

float loss_bce_logits__avx512(size_t count, const float *pred, const float *target, float *grad) {
    const __m512 inv = _mm512_set1_ps((float)(1.0 / (double)count)), one = _mm512_set1_ps(1.0f);
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    for (size_t i = 0; i < count; i += 16) {
        const __mmask16 m = avx512_mask_n(count - i);
        const __m512 z = _mm512_maskz_loadu_ps(m, pred + i), t = _mm512_maskz_loadu_ps(m, target + i);
        const __mmask16 pos = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GE_OQ);
        const __m512 az = _mm512_abs_ps(z), omt = _mm512_sub_ps(one, t);
        const __m512 e = exp_nonpos(_mm512_sub_ps(_mm512_setzero_ps(), az));
        const __m512 lin = _mm512_mask_mul_ps(_mm512_mul_ps(az, t), pos, z, omt);
        const __m512 l = _mm512_maskz_add_ps(m, lin, log1p_unit(e)); /* masked-off lanes add 0 */
        a0 = acc_pd(a0, _mm512_castps512_ps256(l));
        a1 = acc_pd(a1, _mm512_extractf32x8_ps(l, 1));
        if (grad) {
            const __m512 er = _mm512_div_ps(e, _mm512_add_ps(one, e));
            const __m512 g = _mm512_mask_sub_ps(_mm512_sub_ps(er, t), pos, omt, er);
            _mm512_mask_storeu_ps(grad + i, m, _mm512_mul_ps(g, inv));
        }
    }
    return (float)(_mm512_reduce_add_pd(_mm512_add_pd(a0, a1)) / (double)count);
}

/* Activations, AVX-512.  16 floats per vector, masked tail; in-place safe (load before store). */
#include <immintrin.h>
#include "kernels/avx512_part.h"
#include "kernels/act/act.h"


static inline __m512 lrelu_v(__m512 x, __m512 slope) {
    __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_mask_blend_ps(pos, _mm512_mul_ps(x, slope), x);
}

void act_lrelu_fwd__avx512(size_t n, float slope, const float *x, float *y) {
    const __m512 vs = _mm512_set1_ps(slope);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        __m512 c = _mm512_loadu_ps(x + i + 32), d = _mm512_loadu_ps(x + i + 48);
        _mm512_storeu_ps(y + i, lrelu_v(a, vs));
        _mm512_storeu_ps(y + i + 16, lrelu_v(b, vs));
        _mm512_storeu_ps(y + i + 32, lrelu_v(c, vs));
        _mm512_storeu_ps(y + i + 48, lrelu_v(d, vs));
    }
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, lrelu_v(_mm512_loadu_ps(x + i), vs));
    if (i < n) {
        __mmask16 m = avx512_mask_n(n - i);
        _mm512_mask_storeu_ps(y + i, m, lrelu_v(_mm512_maskz_loadu_ps(m, x + i), vs));
    }
}

static inline __m512 lrelu_bwd_v(__m512 x, __m512 gy, __m512 slope) {
    __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_mul_ps(gy, _mm512_mask_blend_ps(pos, slope, _mm512_set1_ps(1.0f)));
}

void act_lrelu_bwd__avx512(size_t n, float slope, const float *x, const float *gy, float *gx) {
    const __m512 vs = _mm512_set1_ps(slope);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = lrelu_bwd_v(_mm512_loadu_ps(x + i), _mm512_loadu_ps(gy + i), vs);
        __m512 b = lrelu_bwd_v(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(gy + i + 16), vs);
        _mm512_storeu_ps(gx + i, a);
        _mm512_storeu_ps(gx + i + 16, b);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(gx + i, lrelu_bwd_v(_mm512_loadu_ps(x + i), _mm512_loadu_ps(gy + i), vs));
    if (i < n) {
        __mmask16 m = avx512_mask_n(n - i);
        _mm512_mask_storeu_ps(gx + i, m, lrelu_bwd_v(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, gy + i), vs));
    }
}

/* exp(a) for a <= 0 (NaN propagates).  a = n ln2 + r, |r| <= ln2/2 (Cody-Waite split of ln2 so
 * r is exact to ~1e-11), Cephes degree-7 polynomial (~1 ulp), then scalef, which rounds once into
 * the denormal range.  Below -104 the result is 0 in float anyway; the clamp keeps n finite. */
static inline __m512 exp_nonpos(__m512 a) {
    a = _mm512_max_ps(_mm512_set1_ps(-104.0f), a);   /* operand order: a NaN in `a` survives */
    __m512 nf = _mm512_roundscale_ps(_mm512_mul_ps(a, _mm512_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(0.693359375f), a);
    r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
    p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, nf);
}

/* Same stable form as the reference: e = exp(-|x|), y = (x >= 0 ? 1 : e) / (1 + e). */
static inline __m512 sigmoid_v(__m512 x) {
    __m512 e = exp_nonpos(_mm512_or_ps(x, _mm512_set1_ps(-0.0f)));
    __mmask16 nonneg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
    __m512 num = _mm512_mask_blend_ps(nonneg, e, _mm512_set1_ps(1.0f));
    return _mm512_div_ps(num, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

void act_sigmoid_fwd__avx512(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = sigmoid_v(_mm512_loadu_ps(x + i)), b = sigmoid_v(_mm512_loadu_ps(x + i + 16));
        _mm512_storeu_ps(y + i, a);
        _mm512_storeu_ps(y + i + 16, b);
    }
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, sigmoid_v(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = avx512_mask_n(n - i);
        _mm512_mask_storeu_ps(y + i, m, sigmoid_v(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

/* (gy * y) * (1 - y): the reference's evaluation order, so the result is bit-identical. */
static inline __m512 sigmoid_bwd_v(__m512 y, __m512 gy) {
    return _mm512_mul_ps(_mm512_mul_ps(gy, y), _mm512_sub_ps(_mm512_set1_ps(1.0f), y));
}

void act_sigmoid_bwd__avx512(size_t n, const float *y, const float *gy, float *gx) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = sigmoid_bwd_v(_mm512_loadu_ps(y + i), _mm512_loadu_ps(gy + i));
        __m512 b = sigmoid_bwd_v(_mm512_loadu_ps(y + i + 16), _mm512_loadu_ps(gy + i + 16));
        _mm512_storeu_ps(gx + i, a);
        _mm512_storeu_ps(gx + i + 16, b);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(gx + i, sigmoid_bwd_v(_mm512_loadu_ps(y + i), _mm512_loadu_ps(gy + i)));
    if (i < n) {
        __mmask16 m = avx512_mask_n(n - i);
        _mm512_mask_storeu_ps(gx + i, m, sigmoid_bwd_v(_mm512_maskz_loadu_ps(m, y + i), _mm512_maskz_loadu_ps(m, gy + i)));
    }
}

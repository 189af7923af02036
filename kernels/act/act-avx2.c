/* Activations, AVX2+FMA.  8 floats per vector, maskload/maskstore tail; in-place safe. */
#include <immintrin.h>
#include "kernels/avx2_part.h"
#include "kernels/act/act.h"

static inline __m256 lrelu_v(__m256 x, __m256 slope) {
    __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_blendv_ps(_mm256_mul_ps(x, slope), x, pos);
}

void act_lrelu_fwd__avx2(size_t n, float slope, const float *x, float *y) {
    const __m256 vs = _mm256_set1_ps(slope);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
        _mm256_storeu_ps(y + i, lrelu_v(a, vs));
        _mm256_storeu_ps(y + i + 8, lrelu_v(b, vs));
        _mm256_storeu_ps(y + i + 16, lrelu_v(c, vs));
        _mm256_storeu_ps(y + i + 24, lrelu_v(d, vs));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, lrelu_v(_mm256_loadu_ps(x + i), vs));
    if (i < n) {
        __m256i m = avx2_mask_n(n - i);
        _mm256_maskstore_ps(y + i, m, lrelu_v(_mm256_maskload_ps(x + i, m), vs));
    }
}

static inline __m256 lrelu_bwd_v(__m256 x, __m256 gy, __m256 slope) {
    __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_mul_ps(gy, _mm256_blendv_ps(slope, _mm256_set1_ps(1.0f), pos));
}

void act_lrelu_bwd__avx2(size_t n, float slope, const float *x, const float *gy, float *gx) {
    const __m256 vs = _mm256_set1_ps(slope);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = lrelu_bwd_v(_mm256_loadu_ps(x + i), _mm256_loadu_ps(gy + i), vs);
        __m256 b = lrelu_bwd_v(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(gy + i + 8), vs);
        _mm256_storeu_ps(gx + i, a);
        _mm256_storeu_ps(gx + i + 8, b);
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(gx + i, lrelu_bwd_v(_mm256_loadu_ps(x + i), _mm256_loadu_ps(gy + i), vs));
    if (i < n) {
        __m256i m = avx2_mask_n(n - i);
        _mm256_maskstore_ps(gx + i, m, lrelu_bwd_v(_mm256_maskload_ps(x + i, m), _mm256_maskload_ps(gy + i, m), vs));
    }
}

/* exp(a) for a <= 0 (NaN propagates); see act-avx512.c.  Without scalef, 2^n for n down to -150
 * is applied as two normal factors 2^(n/2) 2^(n-n/2), so the only rounding into the denormals is
 * the final multiply. */
static inline __m256 exp_nonpos(__m256 a) {
    a = _mm256_max_ps(_mm256_set1_ps(-104.0f), a);   /* operand order: a NaN in `a` survives */
    __m256 nf = _mm256_round_ps(_mm256_mul_ps(a, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(0.693359375f), a);
    r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    __m256i n = _mm256_cvtps_epi32(nf);                     /* NaN gives INT_MIN: harmless, p is NaN */
    __m256i n1 = _mm256_srai_epi32(n, 1), n2 = _mm256_sub_epi32(n, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

static inline __m256 sigmoid_v(__m256 x) {
    __m256 e = exp_nonpos(_mm256_or_ps(x, _mm256_set1_ps(-0.0f)));
    __m256 nonneg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    __m256 num = _mm256_blendv_ps(e, _mm256_set1_ps(1.0f), nonneg);
    return _mm256_div_ps(num, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

void act_sigmoid_fwd__avx2(size_t n, const float *x, float *y) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = sigmoid_v(_mm256_loadu_ps(x + i)), b = sigmoid_v(_mm256_loadu_ps(x + i + 8));
        _mm256_storeu_ps(y + i, a);
        _mm256_storeu_ps(y + i + 8, b);
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, sigmoid_v(_mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = avx2_mask_n(n - i);
        _mm256_maskstore_ps(y + i, m, sigmoid_v(_mm256_maskload_ps(x + i, m)));
    }
}

static inline __m256 sigmoid_bwd_v(__m256 y, __m256 gy) {
    return _mm256_mul_ps(_mm256_mul_ps(gy, y), _mm256_sub_ps(_mm256_set1_ps(1.0f), y));
}

void act_sigmoid_bwd__avx2(size_t n, const float *y, const float *gy, float *gx) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = sigmoid_bwd_v(_mm256_loadu_ps(y + i), _mm256_loadu_ps(gy + i));
        __m256 b = sigmoid_bwd_v(_mm256_loadu_ps(y + i + 8), _mm256_loadu_ps(gy + i + 8));
        _mm256_storeu_ps(gx + i, a);
        _mm256_storeu_ps(gx + i + 8, b);
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(gx + i, sigmoid_bwd_v(_mm256_loadu_ps(y + i), _mm256_loadu_ps(gy + i)));
    if (i < n) {
        __m256i m = avx2_mask_n(n - i);
        _mm256_maskstore_ps(gx + i, m, sigmoid_bwd_v(_mm256_maskload_ps(y + i, m), _mm256_maskload_ps(gy + i, m)));
    }
}

/* Losses, AVX2 + FMA.  Same formulas as loss-scalar.c (read its header comment): float
 * elementwise terms, double sum; exp and log1p are the Cephes single-precision polynomials
 * (about 1 ulp) after range reduction, evaluated with FMA.
 */
#include <immintrin.h>
#include "kernels/avx2_part.h"
#include "kernels/loss/loss.h"

LB_INLINE __m256 pow2i(__m256i k) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23)); }

/* exp(x) for x <= 0 (x = -|z|): x = k ln2 + r, |r| <= ln2/2.  2^k (k >= -150) is applied as
 * 2^(k - k/2) 2^(k/2): both factors are normal and only the last product rounds, so results in
 * the subnormal range are right too.  Below -104 the result is 0. */
LB_INLINE __m256 exp_nonpos(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-104.0f));
    const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x); /* ln2 = C1 - C2, C1 exact in 9 bits */
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_add_ps(_mm256_fmadd_ps(y, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    const __m256i ki = _mm256_cvtps_epi32(k);
    const __m256i k1 = _mm256_srai_epi32(ki, 1), k2 = _mm256_sub_epi32(ki, k1);
    return _mm256_mul_ps(_mm256_mul_ps(y, pow2i(k1)), pow2i(k2));
}

/* log1p(e) for e in [0, 1].  With f = e (e <= sqrt2-1) or f = (e-1)/2 (then log1p(e) = ln2 +
 * log(1+f)), f is exact and in [sqrt(1/2)-1, sqrt2-1], the domain of the Cephes log polynomial. */
LB_INLINE __m256 log1p_unit(__m256 e) {
    const __m256 big = _mm256_cmp_ps(e, _mm256_set1_ps(0.414213562f), _CMP_GT_OQ);
    const __m256 f = _mm256_blendv_ps(e, _mm256_mul_ps(_mm256_sub_ps(e, _mm256_set1_ps(1.0f)), _mm256_set1_ps(0.5f)), big);
    const __m256 z = _mm256_mul_ps(f, f);
    __m256 y = _mm256_set1_ps(7.0376836292e-2f);
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-1.1514610310e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(1.1676998740e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-1.2420140846e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(1.4249322787e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-1.6668057665e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(2.0000714765e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(-2.4999993993e-1f));
    y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(3.3333331174e-1f));
    y = _mm256_mul_ps(_mm256_mul_ps(y, f), z);
    y = _mm256_add_ps(y, _mm256_and_ps(big, _mm256_set1_ps(-2.12194440e-4f)));
    y = _mm256_fmadd_ps(_mm256_set1_ps(-0.5f), z, y);
    return _mm256_add_ps(_mm256_add_ps(f, y), _mm256_and_ps(big, _mm256_set1_ps(0.693359375f)));
}

LB_INLINE __m256d acc_pd(__m256d acc, __m128 v) { return _mm256_add_pd(acc, _mm256_cvtps_pd(v)); }

LB_INLINE double hsum_pd(__m256d a) {
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* The loop bodies, for 8 full lanes or (once, at the end) the lanes of m, loaded with vmaskmovps
 * and stored in pieces (AMD cores microcode the vmaskmovps store). */

LB_INLINE void st(const int full, float *p, __m256 v, int n) {
    if (full) {
        _mm256_storeu_ps(p, v);
        return;
    }
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int k = 0; k < n; k++) p[k] = t[k];
}

LB_INLINE void mse8(const int full, __m256i m, int n, const float *pred, const float *target, float *grad, __m256 norm,
             __m256d *a0, __m256d *a1) {
    const __m256 dlt = _mm256_sub_ps(avx2_ld(pred, full, m), avx2_ld(target, full, m));
    if (grad) st(full, grad, _mm256_mul_ps(dlt, norm), n);
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(dlt)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(dlt, 1));
    *a0 = _mm256_fmadd_pd(lo, lo, *a0); /* the square of a float is exact in double */
    *a1 = _mm256_fmadd_pd(hi, hi, *a1);
}

float loss_mse__avx2(size_t count, const float *pred, const float *target, float *grad) {
    const __m256 norm = _mm256_set1_ps((float)(2.0 / (double)count));
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        mse8(1, _mm256_setzero_si256(), 8, pred + i, target + i, grad ? grad + i : NULL, norm, &a0, &a1);
    if (i < count)
        mse8(0, avx2_mask_n(count - i), (int)(count - i), pred + i, target + i, grad ? grad + i : NULL, norm, &a0, &a1);
    return (float)(hsum_pd(_mm256_add_pd(a0, a1)) / (double)count);
}

LB_INLINE void bce8(const int full, __m256i m, int n, const float *pred, const float *target, float *grad, __m256 inv,
             __m256d *a0, __m256d *a1) {
    const __m256 one = _mm256_set1_ps(1.0f), absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 z = avx2_ld(pred, full, m), t = avx2_ld(target, full, m);
    const __m256 pos = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GE_OQ);
    const __m256 az = _mm256_and_ps(z, absmask), omt = _mm256_sub_ps(one, t);
    const __m256 e = exp_nonpos(_mm256_sub_ps(_mm256_setzero_ps(), az));
    const __m256 lin = _mm256_blendv_ps(_mm256_mul_ps(az, t), _mm256_mul_ps(z, omt), pos);
    __m256 l = _mm256_add_ps(lin, log1p_unit(e));
    if (!full) l = _mm256_and_ps(l, _mm256_castsi256_ps(m)); /* masked-off lanes add 0 */
    *a0 = acc_pd(*a0, _mm256_castps256_ps128(l));
    *a1 = acc_pd(*a1, _mm256_extractf128_ps(l, 1));
    if (grad) {
        const __m256 er = _mm256_div_ps(e, _mm256_add_ps(one, e));
        const __m256 g = _mm256_blendv_ps(_mm256_sub_ps(er, t), _mm256_sub_ps(omt, er), pos);
        st(full, grad, _mm256_mul_ps(g, inv), n);
    }
}

float loss_bce_logits__avx2(size_t count, const float *pred, const float *target, float *grad) {
    const __m256 inv = _mm256_set1_ps((float)(1.0 / (double)count));
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= count; i += 8)
        bce8(1, _mm256_setzero_si256(), 8, pred + i, target + i, grad ? grad + i : NULL, inv, &a0, &a1);
    if (i < count)
        bce8(0, avx2_mask_n(count - i), (int)(count - i), pred + i, target + i, grad ? grad + i : NULL, inv, &a0, &a1);
    return (float)(hsum_pd(_mm256_add_pd(a0, a1)) / (double)count);
}

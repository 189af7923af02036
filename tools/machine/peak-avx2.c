#include <immintrin.h>
#include "tools/machine/peak.h"

float machine_fma_loop_avx2(long iters) {
    /* c = c*a + b converges to b/(1-a) = 1: no overflow, no denormals, whatever iters is */
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
    __m256 c0 = _mm256_set1_ps(0.10f), c1 = _mm256_set1_ps(0.11f), c2 = _mm256_set1_ps(0.12f);
    __m256 c3 = _mm256_set1_ps(0.13f), c4 = _mm256_set1_ps(0.14f), c5 = _mm256_set1_ps(0.15f);
    __m256 c6 = _mm256_set1_ps(0.16f), c7 = _mm256_set1_ps(0.17f), c8 = _mm256_set1_ps(0.18f);
    __m256 c9 = _mm256_set1_ps(0.19f), c10 = _mm256_set1_ps(0.20f), c11 = _mm256_set1_ps(0.21f);
    for (long i = 0; i < iters; i++) {
        c0 = _mm256_fmadd_ps(c0, a, b); c1 = _mm256_fmadd_ps(c1, a, b); c2 = _mm256_fmadd_ps(c2, a, b);
        c3 = _mm256_fmadd_ps(c3, a, b); c4 = _mm256_fmadd_ps(c4, a, b); c5 = _mm256_fmadd_ps(c5, a, b);
        c6 = _mm256_fmadd_ps(c6, a, b); c7 = _mm256_fmadd_ps(c7, a, b); c8 = _mm256_fmadd_ps(c8, a, b);
        c9 = _mm256_fmadd_ps(c9, a, b); c10 = _mm256_fmadd_ps(c10, a, b); c11 = _mm256_fmadd_ps(c11, a, b);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

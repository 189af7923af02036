/* Partial AVX2 loads and stores for channel tails (1..7 floats), shared by the -avx2.c kernels:
 * maskload/maskstore read and write only the lanes a mask selects, never past a tensor's end.
 * The `full` flags are compile-time constants after inlining, so full vectors carry no mask. */
#pragma once
#include <immintrin.h>
#include "kernels/common.h"

/* Lanes [0, r) on: none for r <= 0, all for r >= 8. */
LB_INLINE __m256i avx2_mask(int r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/* Eight floats at p, or only the lanes of m when !full (zeros elsewhere). */
LB_INLINE __m256 avx2_ld(const float *p, int full, __m256i m) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}
/* Stores eight floats at p, or only the lanes of m when !full. */
LB_INLINE void avx2_st(float *p, __m256 v, int full, __m256i m) {
    if (full) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, m, v);
}
/* avx2_mask for a count of floats left, which may exceed INT_MAX. */
LB_INLINE __m256i avx2_mask_n(size_t n) { return avx2_mask(n >= 8 ? 8 : (int)n); }

/* AVX-512 lane masks for channel tails, shared by the -avx512.c kernels: masked loads and stores
 * (maskz_loadu, mask_storeu) touch only the selected lanes, never past a tensor's end. */
#pragma once
#include <immintrin.h>
#include "kernels/common.h"

/* Lanes [0, r) on: none for r <= 0, all for r >= 16. */
LB_INLINE __mmask16 avx512_mask(int r) {
    return r >= 16 ? (__mmask16)0xFFFF : r <= 0 ? (__mmask16)0 : (__mmask16)((1u << r) - 1u);
}
/* avx512_mask for a count of floats left, which may exceed INT_MAX. */
LB_INLINE __mmask16 avx512_mask_n(size_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u); }

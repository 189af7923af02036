/* conv2d with periodic padding, AVX2 + FMA: the loops of conv2d-driver.h (read its header) over
 * channel vectors of 8 floats.  Gather tile M = 6 sites x N = 2 vectors (12 accumulators) or
 * M = 8 x N = 1 for a lone 8-wide tail; backward-weights tiles of up to 6 input channels.  Channel
 * tails use maskload/maskstore (kernels/avx2_part.h). */
#include <immintrin.h>
#include "kernels/avx2_part.h"

#define VF __m256
#define VL 8
#define VMASK __m256i
#define V_TAIL(r) avx2_mask(r)
#define v_zero() _mm256_setzero_ps()
#define v_bcast(p) _mm256_broadcast_ss(p)
#define v_fma(acc, a, b) _mm256_fmadd_ps(a, b, acc)
#define v_add(a, b) _mm256_add_ps(a, b)
#define ldv(p, masked, m) avx2_ld(p, !(masked), m)
#define stv(p, v, masked, m) avx2_st(p, v, !(masked), m)
#define CHUNK 96 /* sites per gather chunk: a multiple of both tile heights (6, 8) */
#define NMAX 2
#define GATHER_M(N) ((N) == 2 ? 6 : 8)
#define WGRAD_MB(N) 6
/* 16 channels: 2 full vectors; a tail block: 2 vectors (the last masked) or 1. */
#define BY_BLOCK(rem, CALL)                                                                        \
    do {                                                                                           \
        const __m256i none_ = _mm256_setzero_si256();                                              \
        if ((rem) == 16) CALL(2, 0, none_);                                                        \
        else if ((rem) > 8) CALL(2, 1, avx2_mask((rem) - 8));                                      \
        else if ((rem) == 8) CALL(1, 0, none_);                                                    \
        else CALL(1, 1, avx2_mask(rem));                                                           \
    } while (0)
#define CONV2D_FN(name) name##__avx2

#include "kernels/conv2d/conv2d-driver.h"

/* conv2d with periodic padding, AArch64 NEON (ASIMD, FMA): the loops of conv2d-driver.h (read its
 * header) over 4-float vectors and AArch64's 32 vector registers.  Gather tiles of M sites x N
 * vectors: 5 x 4, 6 x 3, 8 x 2, 8 x 1 (accumulators, N weight vectors and the M broadcast scalars
 * that gcc loads ahead all fit in the 32 registers; 6 x 4 spilled); backward-weights tiles of at
 * most 5 rows for N = 4, 6 otherwise.  NEON has no masked loads: a channel tail (1..3 floats) is
 * loaded and stored with lane/64-bit accesses that never touch memory past it
 * (kernels/neon_part.h).  Integer-valued data give the reference's results exactly (every partial
 * sum is exact, whatever the order). */
#include <arm_neon.h>
#include "kernels/neon_part.h"

#define VF float32x4_t
#define VL 4
#define VMASK int /* lanes of a block's last vector, a compile-time constant after inlining */
#define V_TAIL(r) (r)
#define v_zero() vdupq_n_f32(0.0f)
#define v_bcast(p) vld1q_dup_f32(p)
#define v_fma(acc, a, b) vfmaq_f32(acc, a, b)
#define v_add(a, b) vaddq_f32(a, b)
#define ldv(p, masked, r) ((masked) ? ld_part(p, r) : vld1q_f32(p))
#define stv(p, v, masked, r) ((masked) ? st_part(p, v, r) : vst1q_f32(p, v))
#define CHUNK 120 /* sites per gather chunk: a multiple of every tile height (5, 6, 8) */
#define NMAX 4
#define GATHER_M(N) ((N) == 4 ? 5 : (N) == 3 ? 6 : 8) /* accumulators + N weights + M broadcasts <= 32 */
#define WGRAD_MB(N) ((N) == 4 ? 5 : 6)
/* A block of N = ceil(rem / 4) vectors, the last one r lanes wide: one instantiation per (N, r). */
#define BY_BLOCK(rem, CALL)                                                                        \
    do {                                                                                           \
        const int n_ = ((rem) + 3) / 4, r_ = (rem) - 4 * (n_ - 1);                                 \
        switch (n_ * 4 + r_ - 1) {                                                                 \
        case 4: CALL(1, 1, 1); break;  case 5: CALL(1, 1, 2); break;                               \
        case 6: CALL(1, 1, 3); break;  case 7: CALL(1, 0, 4); break;                               \
        case 8: CALL(2, 1, 1); break;  case 9: CALL(2, 1, 2); break;                               \
        case 10: CALL(2, 1, 3); break; case 11: CALL(2, 0, 4); break;                              \
        case 12: CALL(3, 1, 1); break; case 13: CALL(3, 1, 2); break;                              \
        case 14: CALL(3, 1, 3); break; case 15: CALL(3, 0, 4); break;                              \
        case 16: CALL(4, 1, 1); break; case 17: CALL(4, 1, 2); break;                              \
        case 18: CALL(4, 1, 3); break; default: CALL(4, 0, 4); break;                              \
        }                                                                                          \
    } while (0)
#define CONV2D_FN(name) name##__neon

#include "kernels/conv2d/conv2d-driver.h"

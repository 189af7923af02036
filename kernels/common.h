/* Shared definitions for every kernel.
 *
 * Data layout (the one place it is documented):
 *   activations  NHWC, i.e. [n][t][x][c] with t in 0..NT-1 (lattice "H"), x in 0..NX-1 ("W"),
 *                channels innermost so that a SIMD vector spans channels of one site;
 *   conv weights [kh][kw][cin][cout] ("HWIO"), cout innermost (the vectorized dimension);
 *   conv weights for backward-data: [kh][kw][cout][cin] (see conv2d_weights_transpose);
 *   dense weights [in][out] (a dense layer is a 1x1 conv on a 1x1 lattice);
 *   flatten produces PyTorch's [c][t][x] order per sample so that Linear weights match PyTorch.
 * No alignment is required of any pointer; kernels never allocate and never spawn threads
 * (callers split the batch across threads and pass sub-ranges).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(_M_X64)
#define LB_X86 1
#else
#define LB_X86 0
#endif
#if defined(__aarch64__)
#define LB_ARM64 1
#else
#define LB_ARM64 0
#endif

/* Ordered by preference within one architecture: dispatch picks the highest the CPU runs. */
typedef enum { LB_ISA_SCALAR = 0, LB_ISA_AVX2 = 1, LB_ISA_AVX512 = 2, LB_ISA_NEON = 3 } lb_isa;

#define LB_RESTRICT __restrict__
#define LB_UNUSED __attribute__((unused))
/* Forced inlining for SIMD helpers whose mode arguments (tile sizes, tail flags) must become
 * compile-time constants in each caller; the one definition every kernel file uses. */
#define LB_INLINE static inline __attribute__((always_inline))

/* Periodic index in [0, n) for i in (-n, 2n). */
static inline int lb_wrap(int i, int n) { return i < 0 ? i + n : (i >= n ? i - n : i); }

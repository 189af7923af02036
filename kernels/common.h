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

/* Tuning parameters.  A variant may accept up to LB_PARAMS_MAX small integer parameters, declared
 * by its op's contract header as a table of lb_param_info (name, range, meaning); 0 always means
 * "this variant's default", which is the behaviour before tuning existed, so a zeroed lb_params
 * runs every kernel as it always ran.  A variant that accepts none has an empty table, and a
 * profile entry giving it parameters is refused when the profile is loaded. */
#define LB_PARAMS_MAX 6
typedef struct {
    const char *name;   /* the key in a tuning profile's "params" */
    int min, max;       /* accepted non-zero values (0, the default, is always accepted) */
    const char *what;   /* one line for `latbench info` and the README */
} lb_param_info;
typedef struct {
    int v[LB_PARAMS_MAX];   /* v[i] belongs to the variant's table entry i; unused: 0 */
} lb_params;

/* Periodic index in [0, n) for i in (-n, 2n). */
static inline int lb_wrap(int i, int n) { return i < 0 ? i + n : (i >= n ? i - n : i); }

/* latbench - the public C API of liblatbench (installed as <latbench.h>; `pkg-config --cflags --libs
 * latbench`).  A small, stable face over the library: the version, the kernel dispatch, the conv2d
 * kernel and two activations, the model runtime (a trained model's forward pass) and the worm sampler.
 *
 * Conventions
 *   - Every symbol starts with latbench_ (types latbench_*); nothing else is exported by the shared
 *     library.
 *   - A call that can fail returns bool: true on success; false with one line naming the problem
 *     written to err (errlen bytes, always NUL-terminated; err may be NULL when errlen is 0).
 *   - Tensors are float32 (configurations int16), row-major, in the layouts given per function; the
 *     caller owns every buffer.
 *   - The dispatch is made once per process from the CPU and the environment (LATBENCH_ISA caps the
 *     kernels: scalar, avx2, avx512, neon; LATBENCH_PROFILE picks the tuning profile).  Call
 *     latbench_init first: it checks that environment and returns false on a bad value (the first
 *     kernel call without it would end the process with status 2 instead).
 */
#ifndef LATBENCH_H
#define LATBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; the Makefile reads it from here (the shared library's SONAME
 * liblatbench.so.MAJOR, latbench.pc, `latbench --version`).  MAJOR changes with an incompatible
 * change of this API, MINOR with an addition. */
#define LATBENCH_VERSION_MAJOR 0
#define LATBENCH_VERSION_MINOR 1
#define LATBENCH_VERSION_PATCH 0

#if defined(__GNUC__)
#define LATBENCH_API __attribute__((visibility("default")))
#else
#define LATBENCH_API
#endif

/* ---- version and build ---- */

/* "MAJOR.MINOR.PATCH" of the library linked (compare with the LATBENCH_VERSION_* of this header). */
LATBENCH_API const char *latbench_version(void);
/* The git commit the library was built from ("-dirty" appended for local changes; "unknown"). */
LATBENCH_API const char *latbench_build_commit(void);
/* The compiler ("gcc 12.2.0") and the flags the library was built with. */
LATBENCH_API const char *latbench_build_compiler(void);
LATBENCH_API const char *latbench_build_flags(void);

/* ---- dispatch ---- */

/* Checks LATBENCH_ISA, LATBENCH_PROFILE and OMP_NUM_THREADS and makes the process-wide kernel
 * choice.  Idempotent. */
LATBENCH_API bool latbench_init(char *err, size_t errlen);
/* The ISA cap the kernels run under here: "scalar", "avx2", "avx512" or "neon". */
LATBENCH_API const char *latbench_isa(void);
/* The variant chosen for an op ("conv2d", "pool", "gpool", "act", "dense", "loss", "optim",
 * "worm"), e.g. "avx512"; NULL for an unknown op. */
LATBENCH_API const char *latbench_variant(const char *op);
/* The variants of an op compiled into the library: *count of them, name i by latbench_variant_name
 * (NULL past the end or for an unknown op), and whether this CPU runs it under the cap. */
LATBENCH_API int latbench_variant_count(const char *op);
LATBENCH_API const char *latbench_variant_name(const char *op, int i, bool *runs_here);

/* ---- kernels (single-threaded calls of the dispatched variant) ---- */

/* 2-D convolution with periodic (circular) padding, NHWC, PyTorch's "same" split of the kernel:
 * output site (t, x) reads input sites ((t*sh + i - (kh-1)/2) mod h, (x*sw + j - (kw-1)/2) mod w).
 * Output size oh = ceil(h / sh), ow = ceil(w / sw). */
typedef struct {
    int n;          /* batch, >= 1 */
    int h, w;       /* input sites, >= 1 */
    int cin, cout;  /* channels, >= 1 */
    int kh, kw;     /* kernel, 1..3 */
    int sh, sw;     /* stride, 1 or 2 */
    int bias;       /* 0 or 1 */
} latbench_conv2d_desc;

/* Element counts of in [n][h][w][cin], out [n][oh][ow][cout] and w [kh][kw][cin][cout]. */
LATBENCH_API size_t latbench_conv2d_in_size(const latbench_conv2d_desc *d);
LATBENCH_API size_t latbench_conv2d_out_size(const latbench_conv2d_desc *d);
LATBENCH_API size_t latbench_conv2d_w_size(const latbench_conv2d_desc *d);
/* out = conv(in, w) + bias (bias [cout], NULL when !d->bias); out is overwritten. */
LATBENCH_API bool latbench_conv2d_fwd(const latbench_conv2d_desc *d, const float *in, const float *w,
                                      const float *bias, float *out, char *err, size_t errlen);
/* gin [n][h][w][cin] = the gradient of the input from gout [n][oh][ow][cout] (w as in fwd). */
LATBENCH_API bool latbench_conv2d_bwd_data(const latbench_conv2d_desc *d, const float *gout, const float *w,
                                           float *gin, char *err, size_t errlen);
/* gw [kh][kw][cin][cout] and, when d->bias and gb != NULL, gb [cout] (both overwritten). */
LATBENCH_API bool latbench_conv2d_bwd_weights(const latbench_conv2d_desc *d, const float *in, const float *gout,
                                              float *gw, float *gb, char *err, size_t errlen);

/* Elementwise on n floats (y == x allowed): leaky ReLU y = x > 0 ? x : slope*x; sigmoid. */
LATBENCH_API void latbench_lrelu(size_t n, float slope, const float *x, float *y);
LATBENCH_API void latbench_sigmoid(size_t n, const float *x, float *y);

/* ---- model runtime ---- */

typedef struct latbench_model latbench_model;

/* Loads a trained model (a safetensors file written by `latbench train`) for an nt x nx lattice and
 * at most `batch` samples per forward call, run with `threads` OpenMP threads (<= 0: 1).  spec: the
 * net's spec text (`latbench model NAME` shows the format), or NULL for the spec stored in the file.
 * NULL with the reason in err (a missing or malformed file, tensors that do not match the spec, a
 * net that does not fit the lattice). */
LATBENCH_API latbench_model *latbench_model_load(const char *path, const char *spec, int nt, int nx, int batch,
                                                 int threads, char *err, size_t errlen);
/* Outputs per sample (after the final sigmoid, if the net has one). */
LATBENCH_API int latbench_model_outputs(const latbench_model *m);
/* Forward pass on n configurations x [n][4][nt][nx] (int16: k_t, k_x, l_t, l_x, the layout of a
 * dataset's x.npy), 1 <= n <= batch; writes y [n][outputs]. */
LATBENCH_API bool latbench_model_forward(latbench_model *m, const int16_t *x, int n, float *y, char *err,
                                         size_t errlen);
LATBENCH_API void latbench_model_free(latbench_model *m);

/* ---- worm sampler ---- */

/* One parameter point of the sampler (`latbench generate --task regression`). */
typedef struct {
    int nt, nx;                  /* lattice, each 2..4096 */
    double eta, lambda, mu;      /* couplings */
    long count;                  /* configurations to generate, >= 1 */
    int chains;                  /* independent chains (<= 0: 16; at most count are used) */
    int therm;                   /* thermalization sweeps per chain (<= 0: 2000; at least 8) */
    int threads;                 /* OpenMP threads (<= 0: the OpenMP default) */
    uint64_t seed;               /* the same seed gives the same configurations for any thread count */
} latbench_sampler_params;

/* The defaults of `latbench generate`: 8x8, eta 4.01, lambda 1, mu 1, count 1, seed 1. */
LATBENCH_API latbench_sampler_params latbench_sampler_defaults(void);
/* Generates p->count configurations into x [count][4][nt][nx] (int16: k_t, k_x, l_t, l_x) and, when
 * y is not NULL, their observables into y [count][2] (n, |phi|^2).  Spacing between stored
 * configurations is twice the measured autocorrelation time, as `latbench generate` does. */
LATBENCH_API bool latbench_sample(const latbench_sampler_params *p, int16_t *x, float *y, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif /* LATBENCH_H */

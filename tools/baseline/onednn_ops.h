/* oneDNN baselines for the benchmark: convolution (on an explicitly circular-padded input, see
 * halo.h) and pooling, each primitive bound to the caller's memories ("external" memories: our
 * NHWC/HWIO buffers, or another primitive's output) with the reorders its chosen layouts need.
 *
 * An odnn_op is a list of executions, run in order: reorders of its inputs into the primitive's
 * layouts, the primitive, reorders of its outputs back into the external layouts.  An input or
 * output whose layout already matches is bound directly (no reorder).  A conversion cache shared
 * by the ops of a chain lets a later op reuse an input conversion an earlier op already makes
 * (e.g. diff_dst reordered once for both backward-data and backward-weights).
 *
 * oneDNN runs on omp_get_max_threads() threads and bakes the thread count into some kernels when
 * a primitive is created: call omp_set_num_threads(T) before creating the ops timed at T threads.
 */
#pragma once
#include <stdbool.h>
#ifdef LB_NO_ONEDNN
#include "tools/baseline/onednn_absent.h"   /* built without oneDNN: every odnn_* call fails */
#else
#define LB_HAVE_ONEDNN 1
#include <dnnl.h>
#endif
#include "tools/baseline/halo.h"
#include "tools/timing/timing.h"
#include "kernels/pass.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/pool/pool.h"

typedef struct {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
} odnn_env;

/* False (with a message on stderr) when oneDNN has no CPU engine. */
bool odnn_env_init(odnn_env *e);
void odnn_env_fini(odnn_env *e);

/* A memory over a caller's buffer (not owned), for a plain tag (nhwc, hwio, x, ...). */
dnnl_memory_t odnn_user_mem(const odnn_env *e, int ndims, const dnnl_dim_t *dims, dnnl_format_tag_t tag, void *ptr);
/* Zeroes a memory's buffer: pages faulted in before timing, blocked-layout padding zero. */
void odnn_touch(dnnl_memory_t m);
/* A layout as a oneDNN-style tag string ("acdb" = nhwc, "aBcd16b" = nChw16c, ...). */
void odnn_layout_str(const dnnl_memory_desc_t *md, char *buf, size_t len);

#define ODNN_MAX_ARGS 10
#define ODNN_MAX_EXEC 6
typedef struct {
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    int nargs;
    dnnl_exec_arg_t args[ODNN_MAX_ARGS];
    char name[48];
} odnn_exec;

/* Step function for timing.h: runs one execution (ctx is an odnn_exec). */
void odnn_exec_run(void *ctx);
/* A reorder from -> to as an execution; destroy x->prim with dnnl_primitive_destroy. */
bool odnn_reorder_init(odnn_exec *x, const odnn_env *env, dnnl_memory_t from, dnnl_memory_t to, const char *name);

typedef struct {
    dnnl_memory_t from, to;
} odnn_conversion;
typedef struct {
    int n;
    odnn_conversion conv[64];
} odnn_conv_cache;

typedef struct {
    int arg;               /* DNNL_ARG_* */
    dnnl_memory_t ext;     /* external memory; NULL: a memory in the primitive's layout is
                              allocated and bound (workspace, or an output kept in its layout) */
    bool output;
    const char *name;      /* for step names: "src", "weights", ... */
} odnn_bind;

typedef struct {
    const odnn_env *env;
    dnnl_primitive_desc_t pd, hint;   /* owned; hint: the forward pd a backward pd was made with */
    char impl[96];
    char layouts[192];                /* "src:aBcd16b wei:ABcd16b16a ..." as the primitive uses them */
    int n_pre, n_post;
    odnn_exec pre[ODNN_MAX_EXEC], main, post[ODNN_MAX_EXEC];
    int n_owned;
    dnnl_memory_t owned[2 * ODNN_MAX_ARGS];
    int n_bound;
    int bound_arg[ODNN_MAX_ARGS];
    dnnl_memory_t bound_mem[ODNN_MAX_ARGS];
} odnn_op;

/* Takes ownership of pd (and hint, may be NULL) even on failure.  what names the main step
 * ("conv fwd").  cache may be NULL.  op must not move afterwards (steps point into it). */
bool odnn_op_init(odnn_op *op, const odnn_env *env, dnnl_primitive_desc_t pd, dnnl_primitive_desc_t hint,
                  const char *what, const odnn_bind *binds, int n_binds, odnn_conv_cache *cache);
void odnn_op_fini(odnn_op *op);
/* The memory bound to arg (in the primitive's layout), or NULL. */
dnnl_memory_t odnn_op_mem(const odnn_op *op, int arg);
/* Appends the op's executions to a sequence: reorders as STEP_REORDER, the primitive as STEP_COMPUTE. */
int odnn_op_add_steps(odnn_op *op, timing_seq *s);
/* Runs every execution once. */
void odnn_op_run(odnn_op *op);
int odnn_op_n_reorders(const odnn_op *op);

typedef enum { ODNN_ANY = 0, ODNN_PLAIN = 1 } odnn_layout;

/* Convolution descriptors on the padded input geometry [n][cin][hp][wp] (unpadded in oneDNN's
 * sense: padding 0), weights [cout][cin][kh][kw], dst [n][cout][oh][ow]: ODNN_ANY lets oneDNN pick
 * every layout (format_tag_any), ODNN_PLAIN fixes nhwc / hwio.  Backward pds also return the
 * forward hint they were made with (to be owned by the op).  NULL on failure. */
dnnl_primitive_desc_t odnn_conv_fwd_pd(const odnn_env *e, const conv2d_desc *d, int hp, int wp, odnn_layout lay);
dnnl_primitive_desc_t odnn_conv_bwd_data_pd(const odnn_env *e, const conv2d_desc *d, int hp, int wp, odnn_layout lay,
                                            dnnl_primitive_desc_t *hint);
dnnl_primitive_desc_t odnn_conv_bwd_weights_pd(const odnn_env *e, const conv2d_desc *d, int hp, int wp,
                                               odnn_layout lay, dnnl_primitive_desc_t *hint);

/* Pooling (no padding, floor mode): oneDNN pooling takes no format_tag_any for its source, so
 * ODNN_ANY means the channel-blocked layout its fast kernels prefer (nChw16c, or nChw8c when
 * c % 16 != 0) and ODNN_PLAIN nhwc.  The backward pd needs the forward hint (returned). */
dnnl_primitive_desc_t odnn_pool_fwd_pd(const odnn_env *e, const pool_desc *d, odnn_layout lay);
dnnl_primitive_desc_t odnn_pool_bwd_pd(const odnn_env *e, const pool_desc *d, odnn_layout lay,
                                       dnnl_primitive_desc_t *hint);

/* ---- conv and pool over our buffers (onednn_layers.c) ----
 * The one oneDNN baseline: verify (plain layouts, run once), bench and gbench (both layouts, timed
 * as steps) bind their buffers through these; only the conv chain (bench_chain.c) binds its own,
 * since its layers pass blocked tensors to one another. */

/* Our buffers of one conv problem in our layouts (conv2d.h: NHWC, HWIO).  A pass uses only its
 * own: fwd in, w, bias -> out; bwd_data gout, w -> gin; bwd_weights in, gout -> gw, gb (bias
 * only with d->bias).  pad: halo_padded_size floats, the padded input (fwd, bwd_weights) or its
 * gradient (bwd_data); unused where the halo is the identity (1x1 at stride 1). */
typedef struct {
    float *in, *w, *bias, *out, *gout, *gin, *gw, *gb, *pad;
} odnn_conv_bufs;

/* oneDNN's periodic convolution of one pass: halo copy (fwd, bwd_weights), the op's reorders and
 * primitive, halo fold-back (bwd_data).  Must not move after init (its steps point into it). */
typedef struct {
    odnn_op op;
    lb_pass pass;
    bool halo;                    /* the padded tensor is not the input itself */
    odnn_halo_ctx pad, fold;
    int n_user;
    dnnl_memory_t user[5];        /* our buffers as oneDNN memories */
} odnn_conv;

/* threads: of the halo copy.  False (a message on stderr) when oneDNN cannot run the problem;
 * nothing is then held. */
bool odnn_conv_init(odnn_conv *c, const odnn_env *e, const conv2d_desc *d, lb_pass pass, odnn_layout lay,
                    const odnn_conv_bufs *b, int threads);
void odnn_conv_fini(odnn_conv *c);
/* Appends [halo copy] reorders, primitive, reorders [halo fold-back] (STEP_HALO, STEP_REORDER,
 * STEP_COMPUTE) to s. */
int odnn_conv_add_steps(odnn_conv *c, timing_seq *s);
/* Runs the pass once: the result is in the pass's output buffer. */
void odnn_conv_run(odnn_conv *c);

/* oneDNN pooling of one pass over our NHWC buffers: LB_PASS_FWD in -> out, LB_PASS_BWD_DATA
 * gout -> gin (max pooling's backward reads the workspace of one forward run, in -> out, made at
 * init).  Must not move after init. */
typedef struct {
    odnn_op op, fwd;
    bool fwd_ok;
    int n_user;
    dnnl_memory_t user[4];
} odnn_pool;

bool odnn_pool_init(odnn_pool *p, const odnn_env *e, const pool_desc *d, lb_pass pass, odnn_layout lay, float *in,
                    float *out, float *gout, float *gin);
void odnn_pool_fini(odnn_pool *p);

/* What the run's oneDNN is, for the context of every result: "2.6.3 <hash>" (or "not available on
 * this build"), its CPU runtime ("omp", ...) and the ISA it dispatches to ("avx512_core_bf16", ...;
 * both "none" without oneDNN). */
void odnn_version_str(char *buf, size_t len);
const char *odnn_runtime_name(void);
const char *odnn_effective_isa_name(void);
/* With our kernels capped at AVX2 (LATBENCH_ISA), oneDNN is capped the same way, so that the
 * comparison is what an AVX2 machine would see; an explicit ONEDNN_MAX_CPU_ISA wins.  (A scalar cap
 * has no oneDNN counterpart: oneDNN then keeps its best ISA.)  Must run before any primitive. */
void odnn_match_isa(lb_isa cap);

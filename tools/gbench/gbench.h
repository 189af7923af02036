/* The google-benchmark registry of latbench, inside tools/gbench (the entry point is
 * gbench_kernels.h): every kernel variant of every enumerator over the layer shapes of the preset
 * networks, the oneDNN baselines of conv and pool, and the worm sweep.
 *
 * One registered benchmark = one (problem, pass, implementation, thread count).  Its function is
 * called several times by google-benchmark (iteration-count growth, repetitions), so buffers are
 * kept in a one-slot cache per problem (every pass and implementation of a problem shares them)
 * and the oneDNN primitives / worm sampler in a one-slot cache per benchmark.
 *   gbench_problems.c  the problems (from tools/problems/netproblems.h) and the benchmarks
 *   gbench_run.c       buffers, the steps of our kernels, oneDNN and the worm, the counters
 *   gbench_main.c      options, the context, cmd_gbench */
#pragma once
#ifndef LB_NO_GBENCH
#include <stdbool.h>
#include <stddef.h>
#include "arch/registry.h"
#include "kernels/pass.h"
#include "tools/baseline/onednn_ops.h"
#include "tools/bench/bench.h"
#include "tools/bench/wormbench.h"
#include "tools/gbench/gbench_shim.h"
#include "tools/problems/problem.h"

#ifdef LB_NO_ONEDNN
#define GBK_ONEDNN 0
#else
#define GBK_ONEDNN 1
#endif

#define GBK_MAX_LIST 16

/* A problem of the registry: a layer problem (merged over the layers and nets that share its
 * name), or a lattice of the worm sweep (no prob_record kind: not a layer). */
typedef struct {
    bool worm;
    prob_record prob;
    dense_flatten_desc act_shape;  /* act: the activation's shape (its name: two shapes of one size stay apart) */
    int worm_nt, worm_nx;
    double worm_mu;
    bool has_lrelu, has_sigmoid, has_mse, has_bce;
    char desc[96];
    char layers[192];
} gbk_problem;

/* Which function of a problem a benchmark times: its pass, and for act and loss the function
 * (act: LAYER_LRELU or LAYER_SIGMOID; loss: GBK_BCE or GBK_MSE). */
enum { GBK_MSE = 0, GBK_BCE = 1 };
typedef struct {
    lb_pass pass;
    int fn;
} gbk_op;

typedef enum { IMPL_OURS = 0, IMPL_ONEDNN_ANY, IMPL_ONEDNN_NHWC } impl_kind;

struct registry;

typedef struct {
    struct registry *reg;
    int index, problem;
    gbk_op op;
    impl_kind impl;
    lb_isa isa;              /* ours: the variant's ISA; oneDNN: the ISA its peak is taken from */
    const void *variant;     /* conv2d_ops, pool_ops, ... of the kind's enumerator */
    const char *variant_name;
    int threads;
    bool dispatched;         /* ours: the variant the dispatcher picked for this op (named "ours") */
} gbench_entry;

/* Buffers of the problem in the slot (the union of what every pass of its kind needs). */
enum { B_IN, B_W, B_WT, B_BIAS, B_OUT, B_GOUT, B_GIN, B_GW, B_GB, B_WS, B_PAD, B_N };

typedef struct {
    int problem;             /* -1: empty */
    float *b[B_N];
} buffer_slot;

typedef struct {
    int bench;               /* -1: empty */
#if GBK_ONEDNN
    odnn_conv conv;          /* the oneDNN baseline of a conv or pool entry */
    odnn_pool pool;
    bool conv_ok, pool_ok;
#endif
    timing_seq seq;
    bench_worm_sampler worm;
    bool worm_ok;
} impl_slot;

typedef struct registry {
    const lb_dispatch *disp;
    machine_info mach;
    int threads[GBK_MAX_LIST], n_threads, max_threads;
    gbk_problem *problems;
    int n_problems, cap_problems;
    gbench_entry *benches;
    int n_benches, cap_benches;
    double peak[LB_ISA_NEON + 1][GBK_MAX_LIST];   /* GFLOP/s per ISA at threads[i] */
    bool have_onednn;
#if GBK_ONEDNN
    odnn_env env;
#endif
    buffer_slot bufs;
    impl_slot slot;
    int last_bench;          /* the benchmark run last: a new one gets a warm-up call */
} registry;

/* gbench_problems.c */
/* The layers of one network on one lattice and batch, its loss and its optimizer step; false
 * with the reason in why when the net does not fit the lattice (FL nets fit one lattice only). */
bool gbk_collect_net(registry *R, const char *net, int h, int w, int batch, char *why, size_t whylen);
void gbk_collect_worm(registry *R);
/* Every (pass, implementation, thread count) of every problem, in problem order. */
bool gbk_make_benches(registry *R);
/* "conv2d_fwd/<desc>/<impl>/threads:T", the name google-benchmark lists, in the grammar of bench's
 * rows (bench_impl_name; README "Benchmark names"). */
void gbk_bench_name(const registry *R, const gbench_entry *e, char *buf, size_t len);

/* gbench_run.c */
/* FLOPs and compulsory bytes of one call; fma: the op is multiply-add bound (% of FMA peak). */
void gbk_work_of(const gbench_entry *e, const gbk_problem *p, double *flops, double *bytes, bool *fma);
/* The function google-benchmark calls (ctx: the gbench_entry). */
void gbk_run_bench(gb_state *st, void *ctx);
/* Frees the buffer and implementation slots. */
void gbk_release(registry *R);
#endif

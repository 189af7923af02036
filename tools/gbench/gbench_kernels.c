/* The google-benchmark registry of latbench (gbench_kernels.h): every kernel variant of every
 * enumerator over the layer shapes of the preset networks, the oneDNN baselines of conv and pool,
 * and the worm sweep; counters GFLOPS, GBps, pct_fma_peak (of the FMA peak measured at start-up)
 * and threads; the machine in the context (CPU, dispatch, FMA peaks, STREAM bandwidth, oneDNN).
 *
 * One registered benchmark = one (op, problem, implementation, thread count).  Its function is
 * called several times by google-benchmark (iteration-count growth, repetitions), so buffers are
 * kept in a one-slot cache per problem (every pass and implementation of a problem shares them)
 * and the oneDNN primitives / worm sampler in a one-slot cache per benchmark.  Time is wall-clock
 * (UseRealTime): the work runs on OpenMP threads. */
#include "tools/gbench/gbench_kernels.h"
#include "lib/io/atomic.h"
#include <stdio.h>

#ifdef LB_NO_GBENCH
int bench_gbench_main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "latbench bench --gbench: not available in this build (built without google-benchmark)\n");
    return 2;
}
#else

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch/registry.h"
#include "tools/machine/bandwidth.h"
#include "tools/bench/bench.h"
#include "arch/build_info.h"
#include "tools/gbench/gbench_shim.h"
#include "tools/baseline/halo.h"
#include "tools/machine/machine.h"
#include "tools/baseline/onednn_ops.h"
#include "tools/machine/peak.h"
#include "lib/lattice/sampler.h"
#include "lib/nn/layer_desc.h"
#include "lib/nn/netspec.h"
#include "lib/nn/parallel.h"
#include "tools/problems/lists.h"
#include "tools/verify/verify_ops.h"

#ifdef LB_NO_ONEDNN
#define GBK_ONEDNN 0
#else
#define GBK_ONEDNN 1
#endif

#define GBK_MAX_LIST 16

static const char *const default_nets[] = {"task1-eq", "task1-st", "task3-eq1", "task2-fl"};

/* ---- problems and benchmarks ---- */

typedef enum { PK_CONV, PK_POOL, PK_GPOOL, PK_ACT, PK_DENSE, PK_FLATTEN, PK_LOSS, PK_OPTIM, PK_WORM } problem_kind;

typedef enum {
    OP_CONV_FWD, OP_CONV_BWD_DATA, OP_CONV_BWD_WEIGHTS,
    OP_POOL_FWD, OP_POOL_BWD,
    OP_GPOOL_FWD, OP_GPOOL_BWD,
    OP_LRELU_FWD, OP_LRELU_BWD, OP_SIGMOID_FWD, OP_SIGMOID_BWD,
    OP_DENSE_FWD, OP_DENSE_BWD_DATA, OP_DENSE_BWD_WEIGHTS,
    OP_FLATTEN_FWD, OP_FLATTEN_BWD,
    OP_LOSS_MSE, OP_LOSS_BCE,
    OP_ADAMW,
    OP_WORM_SWEEP,
} bench_op;

static const char *const op_names[] = {
    "conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_weights", "pool_fwd", "pool_bwd", "gpool_fwd", "gpool_bwd",
    "lrelu_fwd", "lrelu_bwd", "sigmoid_fwd", "sigmoid_bwd", "dense_fwd", "dense_bwd_data", "dense_bwd_weights",
    "flatten_fwd", "flatten_bwd", "loss_mse", "loss_bce_logits", "adamw_step", "worm_sweep",
};

typedef struct {
    problem_kind kind;
    conv2d_desc conv;
    pool_desc pool;
    gpool_desc gpool;
    dense_desc dense;
    flatten_desc flat;      /* also the activation shape of PK_ACT */
    size_t n;               /* PK_ACT, PK_LOSS, PK_OPTIM: elements */
    int worm_nt, worm_nx;
    double worm_mu;
    bool has_lrelu, has_sigmoid, has_mse, has_bce;
    char desc[96];
    char layers[192];
} problem;

typedef enum { IMPL_OURS = 0, IMPL_ONEDNN_ANY, IMPL_ONEDNN_NHWC } impl_kind;

struct registry;

typedef struct {
    struct registry *reg;
    int index, problem;
    bench_op op;
    impl_kind impl;
    lb_isa isa;              /* ours: the variant's ISA; oneDNN: the ISA its peak is taken from */
    const void *variant;     /* conv2d_ops, pool_ops, ... of the op's enumerator */
    const char *variant_name;
    int threads;
} bench_entry;

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
    bench_seq seq;
    /* the worm */
    lb_wtable wt;
    bool wt_ok;
    lb_sampler sampler;
    bool sampler_ok;
} impl_slot;

typedef struct registry {
    const lb_dispatch *disp;
    bench_machine mach;
    int threads[GBK_MAX_LIST], n_threads, max_threads;
    problem *problems;
    int n_problems, cap_problems;
    bench_entry *benches;
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

static problem *add_problem(registry *R, const problem *p) {
    for (int i = 0; i < R->n_problems; i++)
        if (R->problems[i].kind == p->kind && !strcmp(R->problems[i].desc, p->desc)) {
            problem *q = &R->problems[i];
            q->has_lrelu |= p->has_lrelu;
            q->has_sigmoid |= p->has_sigmoid;
            q->has_mse |= p->has_mse;
            q->has_bce |= p->has_bce;
            return q;
        }
    if (R->n_problems == R->cap_problems) {
        int cap = R->cap_problems ? 2 * R->cap_problems : 64;
        problem *np = realloc(R->problems, sizeof *np * (size_t)cap);
        if (!np) return NULL;
        R->problems = np;
        R->cap_problems = cap;
    }
    problem *q = &R->problems[R->n_problems++];
    *q = *p;
    q->layers[0] = 0;
    return q;
}

static void add_label(problem *q, const char *label) {
    if (!q || strstr(q->layers, label)) return;
    size_t n = strlen(q->layers);
    snprintf(q->layers + n, sizeof q->layers - n, "%s%s", n ? " " : "", label);
}

static bool add_bench(registry *R, int prob, bench_op op, impl_kind impl, lb_isa isa, const void *variant,
                      const char *variant_name, int threads) {
    if (R->n_benches == R->cap_benches) {
        int cap = R->cap_benches ? 2 * R->cap_benches : 256;
        bench_entry *nb = realloc(R->benches, sizeof *nb * (size_t)cap);
        if (!nb) return false;
        R->benches = nb;
        R->cap_benches = cap;
    }
    R->benches[R->n_benches] = (bench_entry){R, R->n_benches, prob, op, impl, isa, variant, variant_name, threads};
    R->n_benches++;
    return true;
}

static void shape_str(const flatten_desc *d, char *buf, size_t len) {
    snprintf(buf, len, "mb%d_c%d_ih%diw%d", d->n, d->c, d->h, d->w);
}

/* The layers of one network on one lattice and batch, its loss and its optimizer step; false
 * with the reason in why when the net does not fit the lattice (FL nets fit one lattice only). */
static bool collect_net(registry *R, const char *net, int h, int w, int batch, char *why, size_t whylen) {
    net_spec spec;
    act_shape s[NETSPEC_MAX_LAYERS + 1];
    if (!netspec_parse(netspec_preset(net), &spec, why, whylen) || !netspec_shapes(&spec, h, w, s, why, whylen)) return false;
    int count[LAYER_LINEAR + 1] = {0};
    static const char *const kind_label[] = {"conv", "lrelu", "sigmoid", "avgpool", "maxpool", "gavgpool", "gmaxpool",
                                             "gsumpool", "flatten", "linear"};
    bool sigmoid_out = false;
    for (int i = 0; i < spec.n_layers; i++) {
        const layer_spec *L = &spec.layers[i];
        const act_shape a = s[i];
        problem p;
        memset(&p, 0, sizeof p);
        char label[96];
        snprintf(label, sizeof label, "%s:%s%d", net, kind_label[L->kind], ++count[L->kind]);
        switch (L->kind) {
        case LAYER_CONV:
            p.kind = PK_CONV;
            p.conv = layer_conv_desc(L, a, batch);
            conv2d_desc_str(&p.conv, p.desc, sizeof p.desc);
            break;
        case LAYER_AVGPOOL:
        case LAYER_MAXPOOL:
            p.kind = PK_POOL;
            p.pool = layer_pool_desc(L, a, batch);
            pool_desc_str(&p.pool, p.desc, sizeof p.desc);
            break;
        case LAYER_GAVGPOOL:
        case LAYER_GMAXPOOL:
        case LAYER_GSUMPOOL:
            p.kind = PK_GPOOL;
            p.gpool = layer_gpool_desc(L, a, batch);
            gpool_desc_str(&p.gpool, p.desc, sizeof p.desc);
            break;
        case LAYER_LRELU:
        case LAYER_SIGMOID:
            p.kind = PK_ACT;
            p.flat = (flatten_desc){batch, a.h, a.w, a.c};
            p.n = (size_t)batch * a.h * a.w * a.c;
            p.has_lrelu = L->kind == LAYER_LRELU;
            p.has_sigmoid = L->kind == LAYER_SIGMOID;
            sigmoid_out = L->kind == LAYER_SIGMOID && i == spec.n_layers - 1;
            shape_str(&p.flat, p.desc, sizeof p.desc);
            break;
        case LAYER_FLATTEN:
            p.kind = PK_FLATTEN;
            p.flat = (flatten_desc){batch, a.h, a.w, a.c};
            shape_str(&p.flat, p.desc, sizeof p.desc);
            break;
        case LAYER_LINEAR:
            p.kind = PK_DENSE;
            p.dense = (dense_desc){batch, L->cin, L->cout, L->bias};
            dense_desc_str(&p.dense, p.desc, sizeof p.desc);
            break;
        }
        add_label(add_problem(R, &p), label);
    }
    /* the loss of the net's task: BCE on the logits of a sigmoid net (detection), else MSE */
    problem p;
    memset(&p, 0, sizeof p);
    p.kind = PK_LOSS;
    p.n = (size_t)batch * s[spec.n_layers].c;
    p.has_bce = sigmoid_out;
    p.has_mse = !sigmoid_out;
    snprintf(p.desc, sizeof p.desc, "mb%d_o%d", batch, s[spec.n_layers].c);
    add_label(add_problem(R, &p), net);
    memset(&p, 0, sizeof p);
    p.kind = PK_OPTIM;
    p.n = (size_t)netspec_param_count(&spec);
    snprintf(p.desc, sizeof p.desc, "n%zu_amsgrad", p.n);
    add_label(add_problem(R, &p), net);
    return true;
}

static void collect_worm(registry *R) {
    static const int lattices[][2] = {{60, 4}, {8, 8}};
    for (int i = 0; i < 2; i++) {
        problem p;
        memset(&p, 0, sizeof p);
        p.kind = PK_WORM;
        p.worm_nt = lattices[i][0];
        p.worm_nx = lattices[i][1];
        p.worm_mu = 1.0;
        snprintf(p.desc, sizeof p.desc, "%dx%d_eta4.01_lambda1_mu%.2f", p.worm_nt, p.worm_nx, p.worm_mu);
        add_label(add_problem(R, &p), "worm");
    }
}

/* Whether a variant of ISA isa is registered; prints "skipped: ..." the first time an op's
 * variant is left out. */
static bool usable(registry *R, const char *op, const char *variant, lb_isa isa, bool *said) {
    if (lb_isa_usable(&R->disp->cpu, R->disp->cap, isa)) return true;
    if (!*said) {
        if (!lb_cpu_supports(&R->disp->cpu, isa))
            fprintf(stderr, "latbench bench --gbench: skipped: %s/%s (CPU lacks %s)\n", op, variant, lb_isa_name(isa));
        else
            fprintf(stderr, "latbench bench --gbench: skipped: %s/%s (above the LATBENCH_ISA cap %s)\n", op, variant,
                    lb_isa_name(R->disp->cap));
        *said = true;
    }
    return false;
}

/* The ISA whose FMA peak oneDNN is held against: what it may use (capped like our kernels). */
static lb_isa onednn_peak_isa(const registry *R) {
    return R->disp->cap == LB_ISA_SCALAR ? bench_peak_isa_for(&R->disp->cpu, LB_ISA_SCALAR) : R->disp->cap;
}

#define VARIANTS(OP, TYPE, said)                                                           \
    do {                                                                                   \
        int nv_;                                                                           \
        const TYPE *v_ = lb_##OP##_variants(&nv_);                                         \
        for (int k_ = 0; k_ < nv_; k_++) {                                                 \
            if (!usable(R, #OP, v_[k_].name, v_[k_].isa, &(said)[k_ < 8 ? k_ : 7])) continue; \
            for (size_t o_ = 0; o_ < n_ops; o_++)                                          \
                for (int t_ = 0; t_ < R->n_threads; t_++)                                  \
                    ok &= add_bench(R, pi, ops[o_], IMPL_OURS, v_[k_].isa, &v_[k_], v_[k_].name, \
                                    R->threads[t_]);                                       \
        }                                                                                  \
    } while (0)

/* oneDNN's two layouts of a conv or pool op at every thread count. */
static bool add_onednn(registry *R, int pi, bench_op op) {
    bool ok = true;
    for (int l = 0; l < 2 && R->have_onednn; l++)
        for (int t = 0; t < R->n_threads; t++)
            ok &= add_bench(R, pi, op, l == 0 ? IMPL_ONEDNN_ANY : IMPL_ONEDNN_NHWC, onednn_peak_isa(R), NULL,
                            l == 0 ? "onednn_any" : "onednn_nhwc", R->threads[t]);
    return ok;
}

/* Every (op, implementation, thread count) of every problem, in problem order. */
static bool make_benches(registry *R) {
    bool ok = true;
    bool said[9][8] = {{false}};
    for (int pi = 0; pi < R->n_problems; pi++) {
        const problem *p = &R->problems[pi];
        bench_op ops[4];
        size_t n_ops = 0;
        switch (p->kind) {
        case PK_CONV:
            for (int pass = 0; pass < 3; pass++) {
                ops[0] = (bench_op)(OP_CONV_FWD + pass);
                n_ops = 1;
                VARIANTS(conv2d, conv2d_ops, said[0]);
                ok &= add_onednn(R, pi, ops[0]);
            }
            break;
        case PK_POOL:
            for (int pass = 0; pass < 2; pass++) {
                ops[0] = (bench_op)(OP_POOL_FWD + pass);
                n_ops = 1;
                VARIANTS(pool, pool_ops, said[1]);
                ok &= add_onednn(R, pi, ops[0]);
            }
            break;
        case PK_GPOOL:
            ops[n_ops++] = OP_GPOOL_FWD;
            ops[n_ops++] = OP_GPOOL_BWD;
            VARIANTS(gpool, gpool_ops, said[2]);
            break;
        case PK_ACT:
            if (p->has_lrelu) {
                ops[n_ops++] = OP_LRELU_FWD;
                ops[n_ops++] = OP_LRELU_BWD;
            }
            if (p->has_sigmoid) {
                ops[n_ops++] = OP_SIGMOID_FWD;
                ops[n_ops++] = OP_SIGMOID_BWD;
            }
            VARIANTS(act, act_ops, said[3]);
            break;
        case PK_DENSE:
            ops[n_ops++] = OP_DENSE_FWD;
            ops[n_ops++] = OP_DENSE_BWD_DATA;
            ops[n_ops++] = OP_DENSE_BWD_WEIGHTS;
            VARIANTS(dense, dense_ops, said[4]);
            break;
        case PK_FLATTEN:
            ops[n_ops++] = OP_FLATTEN_FWD;
            ops[n_ops++] = OP_FLATTEN_BWD;
            VARIANTS(dense, dense_ops, said[4]);
            break;
        case PK_LOSS:
            if (p->has_mse) ops[n_ops++] = OP_LOSS_MSE;
            if (p->has_bce) ops[n_ops++] = OP_LOSS_BCE;
            VARIANTS(loss, loss_ops, said[5]);
            break;
        case PK_OPTIM:
            ops[n_ops++] = OP_ADAMW;
            VARIANTS(optim, optim_ops, said[6]);
            break;
        case PK_WORM:
            ops[n_ops++] = OP_WORM_SWEEP;
            VARIANTS(worm, worm_ops, said[7]);
            break;
        }
    }
    return ok;
}

/* ---- buffers (one problem at a time) ---- */

static void free_buffers(buffer_slot *s) {
    for (int k = 0; k < B_N; k++) free(s->b[k]);
    memset(s, 0, sizeof *s);
    s->problem = -1;
}

static void release_slot(registry *R);

static bool prepare_buffers(registry *R, int pi) {
    if (R->bufs.problem == pi) return true;
    release_slot(R);   /* oneDNN memories point into the buffers about to be freed */
    free_buffers(&R->bufs);
    const problem *p = &R->problems[pi];
    size_t n[B_N] = {0};
    switch (p->kind) {
    case PK_CONV: {
        const conv2d_desc *d = &p->conv;
        n[B_IN] = n[B_GIN] = conv2d_in_size(d);
        n[B_OUT] = n[B_GOUT] = conv2d_out_size(d);
        n[B_W] = n[B_WT] = n[B_GW] = conv2d_w_size(d);
        n[B_BIAS] = n[B_GB] = (size_t)d->cout;
        n[B_WS] = nn_conv2d_bwd_weights_workspace(R->max_threads, d);
        halo_geom g = halo_for_conv2d(d);
        if (R->have_onednn && !halo_is_identity(&g)) n[B_PAD] = halo_padded_size(&g);
        break;
    }
    case PK_POOL:
        n[B_IN] = n[B_GIN] = pool_in_size(&p->pool);
        n[B_OUT] = n[B_GOUT] = pool_out_size(&p->pool);
        break;
    case PK_GPOOL:
        n[B_IN] = n[B_GIN] = (size_t)p->gpool.n * p->gpool.hw * p->gpool.c;
        n[B_OUT] = n[B_GOUT] = (size_t)p->gpool.n * p->gpool.c;
        break;
    case PK_ACT:
    case PK_FLATTEN:
        n[B_IN] = n[B_OUT] = n[B_GOUT] = n[B_GIN] = (size_t)p->flat.n * p->flat.h * p->flat.w * p->flat.c;
        break;
    case PK_DENSE:
        n[B_IN] = n[B_GIN] = (size_t)p->dense.n * p->dense.in;
        n[B_OUT] = n[B_GOUT] = (size_t)p->dense.n * p->dense.out;
        n[B_W] = n[B_GW] = (size_t)p->dense.in * p->dense.out;
        n[B_BIAS] = n[B_GB] = (size_t)p->dense.out;
        break;
    case PK_LOSS:   /* pred, target, grad */
        n[B_IN] = n[B_W] = n[B_GIN] = p->n;
        break;
    case PK_OPTIM:  /* param, grad, m, v, vmax */
        n[B_W] = n[B_GW] = n[B_OUT] = n[B_GOUT] = n[B_GIN] = p->n;
        break;
    case PK_WORM:
        break;
    }
    for (int k = 0; k < B_N; k++)
        if (n[k] && !(R->bufs.b[k] = bench_alloc_filled(n[k], 101 + (unsigned)k))) {
            free_buffers(&R->bufs);
            return false;
        }
    if (p->kind == PK_CONV) conv2d_weights_transpose(&p->conv, R->bufs.b[B_W], R->bufs.b[B_WT]);
    if (p->kind == PK_OPTIM)   /* second moments are non-negative */
        for (size_t i = 0; i < p->n; i++) {
            R->bufs.b[B_GOUT][i] = fabsf(R->bufs.b[B_GOUT][i]);
            R->bufs.b[B_GIN][i] = fabsf(R->bufs.b[B_GIN][i]) + R->bufs.b[B_GOUT][i];
        }
    R->bufs.problem = pi;
    return true;
}

/* ---- our kernels: one call of the op on the entry's thread count ---- */

typedef struct {
    const bench_entry *e;
    const problem *p;
    float *const *b;
    adamw_params hp;
    volatile float sink;    /* loss values, kept so that the calls are not optimized away */
} ours_call;

/* Sample range of slice q of `parts` over n samples (lib/nn/parallel.h's split). */
static void slice(int n, int parts, int q, int *lo, int *cnt) {
    int base = n / parts, rem = n % parts;
    *lo = q * base + (q < rem ? q : rem);
    *cnt = base + (q < rem);
}

/* Element range of part q of `parts`, cut at multiples of 16 floats (whole vectors). */
static void erange(size_t n, int parts, int q, size_t *lo, size_t *cnt) {
    size_t per = ((n + (size_t)parts - 1) / (size_t)parts + 15) & ~(size_t)15;
    *lo = (size_t)q * per < n ? (size_t)q * per : n;
    *cnt = n - *lo < per ? n - *lo : per;
}

/* Threads an elementwise op on n floats uses: at most one per 16 elements. */
static int element_parts(int threads, size_t n) {
    size_t cap = (n + 15) / 16;
    return cap < 1 ? 1 : (size_t)threads < cap ? threads : (int)cap;
}

/* How many threads ours really uses for the entry (the batch or element split). */
static int ours_threads_used(const bench_entry *e, const problem *p) {
    switch (e->op) {
    case OP_CONV_FWD: case OP_CONV_BWD_DATA: case OP_CONV_BWD_WEIGHTS: return nn_batch_parts(e->threads, p->conv.n);
    case OP_POOL_FWD: case OP_POOL_BWD: return nn_batch_parts(e->threads, p->pool.n);
    case OP_GPOOL_FWD: case OP_GPOOL_BWD: return nn_batch_parts(e->threads, p->gpool.n);
    case OP_DENSE_FWD: case OP_DENSE_BWD_DATA: return nn_batch_parts(e->threads, p->dense.n);
    case OP_FLATTEN_FWD: case OP_FLATTEN_BWD: return nn_batch_parts(e->threads, p->flat.n);
    case OP_LRELU_FWD: case OP_LRELU_BWD: case OP_SIGMOID_FWD: case OP_SIGMOID_BWD: case OP_ADAMW:
        return element_parts(e->threads, p->n);
    case OP_WORM_SWEEP: return e->threads;
    default: return 1;   /* dense bwd_weights and the losses reduce over the batch: one thread */
    }
}

static void step_gpool(void *ctx) {
    ours_call *c = ctx;
    const gpool_ops *k = c->e->variant;
    const gpool_desc *d = &c->p->gpool;
    float *const *b = c->b;
    const bool bwd = c->e->op == OP_GPOOL_BWD;
    const int parts = nn_batch_parts(c->e->threads, d->n);
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int q = 0; q < parts; q++) {
        int lo, cnt;
        slice(d->n, parts, q, &lo, &cnt);
        gpool_desc s = *d;
        s.n = cnt;
        size_t big = (size_t)lo * d->hw * d->c, small = (size_t)lo * d->c;
        if (bwd) k->bwd(&s, b[B_IN] + big, b[B_GOUT] + small, b[B_GIN] + big);
        else k->fwd(&s, b[B_IN] + big, b[B_OUT] + small);
    }
}

static void step_act(void *ctx) {
    ours_call *c = ctx;
    const act_ops *k = c->e->variant;
    float *const *b = c->b;
    const bench_op op = c->e->op;
    const size_t n = c->p->n;
    const int parts = element_parts(c->e->threads, n);
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int q = 0; q < parts; q++) {
        size_t lo, cnt;
        erange(n, parts, q, &lo, &cnt);
        if (op == OP_LRELU_FWD) k->lrelu_fwd(cnt, 0.01f, b[B_IN] + lo, b[B_OUT] + lo);
        else if (op == OP_LRELU_BWD) k->lrelu_bwd(cnt, 0.01f, b[B_IN] + lo, b[B_GOUT] + lo, b[B_GIN] + lo);
        else if (op == OP_SIGMOID_FWD) k->sigmoid_fwd(cnt, b[B_IN] + lo, b[B_OUT] + lo);
        else k->sigmoid_bwd(cnt, b[B_OUT] + lo, b[B_GOUT] + lo, b[B_GIN] + lo);
    }
}

static void step_dense(void *ctx) {
    ours_call *c = ctx;
    const dense_ops *k = c->e->variant;
    const dense_desc *d = &c->p->dense;
    float *const *b = c->b;
    const bench_op op = c->e->op;
    if (op == OP_DENSE_BWD_WEIGHTS) {
        k->bwd_weights(d, b[B_IN], b[B_GOUT], b[B_GW], d->bias ? b[B_GB] : NULL);
        return;
    }
    const int parts = nn_batch_parts(c->e->threads, d->n);
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int q = 0; q < parts; q++) {
        int lo, cnt;
        slice(d->n, parts, q, &lo, &cnt);
        dense_desc s = *d;
        s.n = cnt;
        if (op == OP_DENSE_FWD) k->fwd(&s, b[B_IN] + (size_t)lo * d->in, b[B_W], d->bias ? b[B_BIAS] : NULL, b[B_OUT] + (size_t)lo * d->out);
        else k->bwd_data(&s, b[B_GOUT] + (size_t)lo * d->out, b[B_W], b[B_GIN] + (size_t)lo * d->in);
    }
}

static void step_flatten(void *ctx) {
    ours_call *c = ctx;
    const dense_ops *k = c->e->variant;
    const flatten_desc *d = &c->p->flat;
    float *const *b = c->b;
    const bool bwd = c->e->op == OP_FLATTEN_BWD;
    const int parts = nn_batch_parts(c->e->threads, d->n);
    const size_t per = (size_t)d->h * d->w * d->c;
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int q = 0; q < parts; q++) {
        int lo, cnt;
        slice(d->n, parts, q, &lo, &cnt);
        flatten_desc s = *d;
        s.n = cnt;
        if (bwd) k->flatten_bwd(&s, b[B_GOUT] + lo * per, b[B_GIN] + lo * per);
        else k->flatten_fwd(&s, b[B_IN] + lo * per, b[B_OUT] + lo * per);
    }
}

static void step_loss(void *ctx) {
    ours_call *c = ctx;
    const loss_ops *k = c->e->variant;
    float *const *b = c->b;
    c->sink = (c->e->op == OP_LOSS_MSE ? k->mse : k->bce_logits)(c->p->n, b[B_IN], b[B_W], b[B_GIN]);
}

static void step_adamw(void *ctx) {
    ours_call *c = ctx;
    const optim_ops *k = c->e->variant;
    float *const *b = c->b;
    const size_t n = c->p->n;
    const int parts = element_parts(c->e->threads, n);
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int q = 0; q < parts; q++) {
        size_t lo, cnt;
        erange(n, parts, q, &lo, &cnt);
        k->adamw_step(&c->hp, cnt, b[B_W] + lo, b[B_GW] + lo, b[B_OUT] + lo, b[B_GOUT] + lo, b[B_GIN] + lo);
    }
}

/* FLOPs and compulsory bytes of one call; fma: the op is multiply-add bound (% of FMA peak). */
static void work_of(const bench_entry *e, const problem *p, double *flops, double *bytes, bool *fma) {
    *flops = *bytes = 0;
    *fma = false;
    switch (e->op) {
    case OP_CONV_FWD: case OP_CONV_BWD_DATA: case OP_CONV_BWD_WEIGHTS:
        *flops = conv2d_flops(&p->conv);
        *bytes = conv2d_bytes(&p->conv);
        *fma = true;
        break;
    case OP_POOL_FWD:
        *flops = pool_flops(&p->pool);
        *bytes = pool_bytes(&p->pool);
        break;
    case OP_POOL_BWD:   /* reads gout (and in, for max), writes gin */
        *flops = pool_flops(&p->pool);
        *bytes = pool_bytes(&p->pool) + (p->pool.kind == POOL_MAX ? 4.0 * pool_in_size(&p->pool) : 0);
        break;
    case OP_GPOOL_FWD:
        *flops = gpool_flops(&p->gpool);
        *bytes = gpool_bytes(&p->gpool);
        break;
    case OP_GPOOL_BWD:
        *bytes = gpool_bytes(&p->gpool) + (p->gpool.kind == GPOOL_MAX ? 4.0 * p->gpool.n * p->gpool.hw * p->gpool.c : 0);
        break;
    case OP_LRELU_FWD: case OP_SIGMOID_FWD:
        *bytes = act_bytes_fwd(p->n);
        break;
    case OP_LRELU_BWD: case OP_SIGMOID_BWD:
        *bytes = act_bytes_bwd(p->n);
        break;
    case OP_DENSE_FWD: case OP_DENSE_BWD_DATA: case OP_DENSE_BWD_WEIGHTS:
        *flops = dense_flops(&p->dense);
        *bytes = dense_bytes(&p->dense);
        *fma = true;
        break;
    case OP_FLATTEN_FWD: case OP_FLATTEN_BWD:
        *bytes = flatten_bytes(&p->flat);
        break;
    case OP_LOSS_MSE: case OP_LOSS_BCE:   /* pred and target read, grad written */
        *bytes = 12.0 * p->n;
        break;
    case OP_ADAMW:   /* grad read; param, m, v, vmax read and written */
        *bytes = 36.0 * p->n;
        break;
    case OP_WORM_SWEEP:
        break;
    }
}

static double peak_of(const registry *R, lb_isa isa, int threads) {
    lb_isa p = bench_peak_isa_for(&R->disp->cpu, isa);
    for (int i = 0; i < R->n_threads; i++)
        if (R->threads[i] == threads) return R->peak[p][i];
    return 0;
}

static void set_work_counters(gb_state *st, const registry *R, const bench_entry *e, int threads_used) {
    double flops, bytes;
    bool fma;
    work_of(e, &R->problems[e->problem], &flops, &bytes, &fma);
    if (flops > 0) gb_set_counter(st, "GFLOPS", flops * 1e-9, GB_COUNTER_PER_CALL_RATE);
    if (bytes > 0) gb_set_counter(st, "GBps", bytes * 1e-9, GB_COUNTER_PER_CALL_RATE);
    double peak = fma ? peak_of(R, e->isa, e->threads) : 0;
    if (peak > 0) gb_set_counter(st, "pct_fma_peak", 100 * flops * 1e-9 / peak, GB_COUNTER_PER_CALL_RATE);
    gb_set_counter(st, "threads_used", threads_used, GB_COUNTER_DEFAULT);
}

static void run_ours(gb_state *st, registry *R, const bench_entry *e, bool warm_up) {
    const problem *p = &R->problems[e->problem];
    float *const *b = R->bufs.b;
    ours_call c = {.e = e, .p = p, .b = b, .hp = adamw_defaults()};
    bench_conv_ctx cc;
    bench_pool_ctx pc;
    bench_step_fn *fn = NULL;
    void *ctx = &c;
    switch (e->op) {
    case OP_CONV_FWD: case OP_CONV_BWD_DATA: case OP_CONV_BWD_WEIGHTS:
        cc = (bench_conv_ctx){e->variant, e->threads, p->conv, b[B_IN], b[B_W], p->conv.bias ? b[B_BIAS] : NULL, b[B_GOUT], b[B_WT],
                              b[B_OUT], b[B_GIN], b[B_GW], p->conv.bias ? b[B_GB] : NULL, b[B_WS]};
        ctx = &cc;
        fn = e->op == OP_CONV_FWD ? bench_step_conv_fwd : e->op == OP_CONV_BWD_DATA ? bench_step_conv_bwd_data : bench_step_conv_bwd_weights;
        break;
    case OP_POOL_FWD: case OP_POOL_BWD:
        pc = (bench_pool_ctx){e->variant, e->threads, p->pool, b[B_IN], b[B_GOUT], b[B_OUT], b[B_GIN]};
        ctx = &pc;
        fn = e->op == OP_POOL_FWD ? bench_step_pool_fwd : bench_step_pool_bwd;
        break;
    case OP_GPOOL_FWD: case OP_GPOOL_BWD: fn = step_gpool; break;
    case OP_LRELU_FWD: case OP_LRELU_BWD: case OP_SIGMOID_FWD: case OP_SIGMOID_BWD: fn = step_act; break;
    case OP_DENSE_FWD: case OP_DENSE_BWD_DATA: case OP_DENSE_BWD_WEIGHTS: fn = step_dense; break;
    case OP_FLATTEN_FWD: case OP_FLATTEN_BWD: fn = step_flatten; break;
    case OP_LOSS_MSE: case OP_LOSS_BCE: fn = step_loss; break;
    case OP_ADAMW: fn = step_adamw; break;
    case OP_WORM_SWEEP: break;
    }
    if (warm_up) fn(ctx);
    for (long n; (n = gb_batch(st)) > 0;)
        for (long i = 0; i < n; i++) fn(ctx);
    set_work_counters(st, R, e, ours_threads_used(e, p));
    gb_set_label(st, p->layers);
}

/* ---- the per-benchmark slot: oneDNN primitives, or the worm sampler ---- */

static void release_slot(registry *R) {
    impl_slot *s = &R->slot;
    if (s->bench >= 0) {
#if GBK_ONEDNN
        if (s->conv_ok) odnn_conv_fini(&s->conv);
        if (s->pool_ok) odnn_pool_fini(&s->pool);
#endif
        if (s->sampler_ok) lb_sampler_free(&s->sampler);
        if (s->wt_ok) lb_wtable_free(&s->wt);
    }
    memset(s, 0, sizeof *s);
    s->bench = -1;
}

#if GBK_ONEDNN
/* oneDNN's convolution of the entry's pass (onednn_ops.h: halo copy or fold-back around it). */
static bool onednn_conv(registry *R, const bench_entry *e, impl_slot *s) {
    float *const *b = R->bufs.b;
    const odnn_conv_bufs ob = {b[B_IN], b[B_W], b[B_BIAS], b[B_OUT], b[B_GOUT], b[B_GIN], b[B_GW], b[B_GB], b[B_PAD]};
    const lb_pass pass = (lb_pass)(e->op - OP_CONV_FWD);   /* the OP_CONV_* follow lb_pass's order */
    const odnn_layout lay = e->impl == IMPL_ONEDNN_ANY ? ODNN_ANY : ODNN_PLAIN;
    if (!(s->conv_ok = odnn_conv_init(&s->conv, &R->env, &R->problems[e->problem].conv, pass, lay, &ob, e->threads)))
        return false;
    return odnn_conv_add_steps(&s->conv, &s->seq) == 0;
}

/* oneDNN pooling (blocked layout for "any", nhwc for "nhwc"). */
static bool onednn_pool(registry *R, const bench_entry *e, impl_slot *s) {
    float *const *b = R->bufs.b;
    const lb_pass pass = e->op == OP_POOL_FWD ? LB_PASS_FWD : LB_PASS_BWD_DATA;
    const odnn_layout lay = e->impl == IMPL_ONEDNN_ANY ? ODNN_ANY : ODNN_PLAIN;
    if (!(s->pool_ok = odnn_pool_init(&s->pool, &R->env, &R->problems[e->problem].pool, pass, lay, b[B_IN], b[B_OUT],
                                      b[B_GOUT], b[B_GIN])))
        return false;
    return odnn_op_add_steps(&s->pool.op, &s->seq) == 0;
}

/* Runs the sequence `reps` more times (untimed) with a clock read between steps: where the time
 * goes, per kind of step, in ns per call.  A kind the sequence lacks gets no counter (a counter
 * that is always 0 would make google-benchmark 1.7 write "cv": NaN, which is not JSON). */
static void step_breakdown(gb_state *st, const bench_seq *seq, long reps) {
    double kind[STEP_N_KINDS] = {0};
    bool has[STEP_N_KINDS] = {false};
    for (long r = 0; r < reps; r++) {
        double t = bench_now();
        for (int k = 0; k < seq->n_steps; k++) {
            seq->steps[k].fn(seq->steps[k].ctx);
            double t2 = bench_now();
            kind[seq->steps[k].kind] += t2 - t;
            has[seq->steps[k].kind] = true;
            t = t2;
        }
    }
    static const char *const names[STEP_N_KINDS] = {"compute_ns", "halo_ns", "reorder_ns", "other_ns"};
    for (int k = 0; k < STEP_N_KINDS; k++)
        if (has[k]) gb_set_counter(st, names[k], kind[k] / reps * 1e9, GB_COUNTER_DEFAULT);
}

static void run_onednn(gb_state *st, registry *R, const bench_entry *e, bool warm_up) {
    impl_slot *s = &R->slot;
    if (s->bench != e->index) {
        release_slot(R);
        s->bench = e->index;
        /* oneDNN takes its thread count from here when a primitive is created */
        bool ok = R->problems[e->problem].kind == PK_CONV ? onednn_conv(R, e, s) : onednn_pool(R, e, s);
        if (!ok) {
            release_slot(R);
            gb_skip_with_error(st, "oneDNN has no primitive for this problem");
            return;
        }
    }
    const bench_seq *seq = &s->seq;
    for (int k = 0; warm_up && k < seq->n_steps; k++) seq->steps[k].fn(seq->steps[k].ctx);
    for (long n; (n = gb_batch(st)) > 0;)
        for (long i = 0; i < n; i++)
            for (int k = 0; k < seq->n_steps; k++) seq->steps[k].fn(seq->steps[k].ctx);
    long iters = gb_iterations(st);
    step_breakdown(st, seq, iters / 4 < 1 ? 1 : iters / 4 > 1000 ? 1000 : iters / 4);
    set_work_counters(st, R, e, e->threads);
    const odnn_op *op = s->conv_ok ? &s->conv.op : &s->pool.op;
    if (odnn_op_n_reorders(op) > 0) gb_set_counter(st, "reorders", odnn_op_n_reorders(op), GB_COUNTER_DEFAULT);
    char label[320];
    snprintf(label, sizeof label, "%s [%s]", op->impl, op->layouts);
    gb_set_label(st, label);
}
#endif

/* ---- the worm: one sweep of every chain per iteration, threads over blocks ---- */

static uint64_t head_moves(const lb_sampler *s) {
    uint64_t t = 0;
    for (int b = 0; b < s->ens.nblocks; b++) {
        const worm_block *B = &s->ens.blocks[b];
        for (int c = 0; c < B->active; c++) t += B->stat[WORM_STAT_HEAD_PROP * B->lanes + c];
    }
    return t;
}

static void run_worm(gb_state *st, registry *R, const bench_entry *e) {
    const problem *p = &R->problems[e->problem];
    const worm_ops *ops = e->variant;
    impl_slot *s = &R->slot;
    char err[160];
    if (s->bench != e->index) {
        release_slot(R);
        s->bench = e->index;
        lb_point_cfg pc = {.nt = p->worm_nt, .nx = p->worm_nx, .eta = 4.01, .lambda = 1.0, .mu = p->worm_mu,
                           .nchains = e->threads * ops->lanes, .seed = 12345, .ops = ops};
        if (!(s->wt_ok = lb_wtable_build(&s->wt, pc.eta, pc.lambda, LB_FMAX_DEFAULT, err, sizeof err)) ||
            !(s->sampler_ok = lb_sampler_init(&s->sampler, &pc, &s->wt, err, sizeof err))) {
            release_slot(R);
            gb_skip_with_error(st, err);
            return;
        }
        /* thermalized, with the automatic worms per sweep, as a real run (wormbench.c) */
        lb_sampler *S = &s->sampler;
        for (int b = 0; b < S->ens.nblocks; b++) ops->sweep(&S->desc, &S->ens.blocks[b], 200, NULL);
        lb_sampler_calibrate(S);
        for (int b = 0; b < S->ens.nblocks; b++) ops->sweep(&S->desc, &S->ens.blocks[b], 300, NULL);
    }
    lb_sampler *S = &s->sampler;
    const int nblocks = S->ens.nblocks, threads = e->threads;
    const uint64_t h0 = head_moves(S);
    for (long n; (n = gb_batch(st)) > 0;)
        for (long i = 0; i < n; i++) {
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
            for (int b = 0; b < nblocks; b++) ops->sweep(&S->desc, &S->ens.blocks[b], 1, NULL);
        }
    const double chains = S->cfg.nchains;
    gb_set_counter(st, "chain_sweeps_per_s", chains, GB_COUNTER_PER_CALL_RATE);
    gb_set_counter(st, "l_updates_per_s", 2.0 * S->g.v * chains, GB_COUNTER_PER_CALL_RATE);
    gb_set_counter(st, "head_moves_per_s", (double)(head_moves(S) - h0), GB_COUNTER_RATE);
    gb_set_counter(st, "worms_per_sweep", S->desc.worms_per_sweep, GB_COUNTER_DEFAULT);
    gb_set_counter(st, "chains", chains, GB_COUNTER_DEFAULT);
    gb_set_counter(st, "threads_used", threads, GB_COUNTER_DEFAULT);
    gb_set_label(st, ops->name);
}

static void run_bench(gb_state *st, void *ctx) {
    const bench_entry *e = ctx;
    registry *R = e->reg;
    if (!prepare_buffers(R, e->problem)) {
        gb_skip_with_error(st, "cannot allocate the buffers of this problem");
        return;
    }
    omp_set_num_threads(e->threads);
    /* the first call of a benchmark is not timed: caches, lazy library set-up, thread wake-up */
    const bool warm_up = R->last_bench != e->index;
    R->last_bench = e->index;
    if (e->op == OP_WORM_SWEEP) run_worm(st, R, e);
#if GBK_ONEDNN
    else if (e->impl != IMPL_OURS) run_onednn(st, R, e, warm_up);
#endif
    else run_ours(st, R, e, warm_up);
}

/* ---- context ---- */



static void context_list(const char *key, const int *v, int n) {
    char buf[160];
    size_t p = 0;
    buf[0] = 0;
    for (int i = 0; i < n && p < sizeof buf; i++) p += (size_t)snprintf(buf + p, sizeof buf - p, "%s%d", i ? "," : "", v[i]);
    gb_add_context(key, buf);
}

/* The machine and the measured ceilings (FMA peaks of the ISAs the registry needs, STREAM triad). */
static void add_context(registry *R, const char *nets, const char *lattices, const char *batches, bool cpu_time) {
    const lb_dispatch *d = R->disp;
    char buf[512];
    gb_add_context("latbench_cpu_model", R->mach.model);
    gb_add_context("latbench_cpu_vendor", d->cpu.vendor);
    gb_add_context("latbench_cpu_uarch", R->mach.uarch);
    gb_add_context("latbench_machine_slug", R->mach.slug);
    snprintf(buf, sizeof buf, "%d packages, %d cores, %d PUs", R->mach.packages, R->mach.cores, R->mach.pus);
    gb_add_context("latbench_topology", buf);
    gb_add_context("latbench_isa_features", R->mach.features);
    snprintf(buf, sizeof buf, "%s%s", lb_isa_name(d->cap), getenv("LATBENCH_ISA") && *getenv("LATBENCH_ISA") ? " (LATBENCH_ISA)" : "");
    gb_add_context("latbench_isa_cap", buf);
    snprintf(buf, sizeof buf, "conv2d=%s pool=%s gpool=%s act=%s dense=%s loss=%s optim=%s worm=%s", d->conv2d->name, d->pool->name,
             d->gpool->name, d->act->name, d->dense->name, d->loss->name, d->optim->name, d->worm->name);
    gb_add_context("latbench_dispatch", buf);
    context_list("latbench_threads", R->threads, R->n_threads);
    gb_add_context("latbench_nets", nets);
    gb_add_context("latbench_lattices", lattices);
    gb_add_context("latbench_batches", batches);
    gb_add_context("latbench_compiler", lb_build_compiler());
    gb_add_context("latbench_compiler_flags", lb_build_flags());
    gb_add_context("latbench_git_commit", lb_build_commit());
    gb_add_context("latbench_time", cpu_time ? "CPU time of the calling thread (--cpu-time; one thread)"
                                             : "wall clock (UseRealTime): kernels run on OpenMP threads");
    gb_add_context("latbench_omp_proc_bind", getenv("OMP_PROC_BIND") ? getenv("OMP_PROC_BIND") : "");
    gb_add_context("latbench_omp_places", getenv("OMP_PLACES") ? getenv("OMP_PLACES") : "");
    for (int isa = LB_ISA_AVX2; isa <= LB_ISA_NEON; isa++)
        for (int i = 0; i < R->n_threads; i++)
            if (R->peak[isa][i] > 0) {
                char key[64], val[32];
                snprintf(key, sizeof key, "latbench_fma_peak_gflops_%s_t%d", lb_isa_name((lb_isa)isa), R->threads[i]);
                snprintf(val, sizeof val, "%.2f", R->peak[isa][i]);
                gb_add_context(key, val);
            }
    for (int i = 0; i < R->n_threads; i++) {
        char key[64], val[32];
        snprintf(key, sizeof key, "latbench_stream_triad_gbps_t%d", R->threads[i]);
        snprintf(val, sizeof val, "%.2f", bench_stream_gbps(R->threads[i], 0));
        gb_add_context(key, val);
        snprintf(key, sizeof key, "latbench_l2_triad_gbps_t%d", R->threads[i]);
        snprintf(val, sizeof val, "%.2f", bench_cache_gbps(R->threads[i], 0));
        gb_add_context(key, val);
    }
    snprintf(buf, sizeof buf, "STREAM triad a=b+s*c on doubles, 24 B/element (write-allocate not counted), best of 10 passes; "
             "the three arrays together 4x the last-level cache (%zu MiB), at least 256 MiB", bench_llc_bytes() >> 20);
    gb_add_context("latbench_stream_convention", buf);
#if GBK_ONEDNN
    odnn_version_str(buf, sizeof buf);
    gb_add_context("latbench_onednn_version", buf);
    gb_add_context("latbench_onednn_cpu_runtime", odnn_runtime_name());
    gb_add_context("latbench_onednn_cpu_isa", odnn_effective_isa_name());
    gb_add_context("latbench_onednn_baseline", R->have_onednn ? "conv (halo copy and reorders as counters halo_ns, reorder_ns) and pool"
                                                               : "off (no CPU engine)");
#else
    gb_add_context("latbench_onednn_baseline", "not available (built without oneDNN)");
#endif
}

/* FMA peaks of the ISAs some registered FMA-bound benchmark is held against, at every thread count. */
static void measure_peaks(registry *R) {
    bool need[LB_ISA_NEON + 1] = {false};
    for (int i = 0; i < R->n_benches; i++) {
        double f, b;
        bool fma;
        work_of(&R->benches[i], &R->problems[R->benches[i].problem], &f, &b, &fma);
        if (fma) need[bench_peak_isa_for(&R->disp->cpu, R->benches[i].isa)] = true;
    }
    for (int isa = 0; isa <= LB_ISA_NEON; isa++)
        if (need[isa]) bench_peak_sweep(&R->disp->cpu, (lb_isa)isa, R->threads, R->n_threads, R->mach.cores, R->peak[isa]);
}

/* ---- options ---- */

typedef struct {
    int batches[GBK_MAX_LIST], n_batches;
    int lat_h[GBK_MAX_LIST], lat_w[GBK_MAX_LIST], n_lattices;
    char nets[512];
    bool nets_given;          /* --nets: say which of them do not fit a lattice */
    bool cpu_time;            /* --cpu-time: the calling thread's CPU time instead of wall time */
    const char *out_path;     /* --benchmark_out=PATH, written through an atomic temporary (lib/io/atomic.h) */
    bool listing;             /* --benchmark_list_tests: no measurement of the machine */
} gbk_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: latbench bench --gbench [--threads LIST | --cpu-time] [--nets LIST] [--lattice LIST] [--batch LIST]\n"
            "                                [google-benchmark flags]\n"
            "  Every kernel variant this CPU runs (under LATBENCH_ISA) and the oneDNN conv/pool baselines over the\n"
            "  layer shapes of the networks (default task1-eq,task1-st,task3-eq1,task2-fl) on each lattice (default\n"
            "  8x8,64x64) and batch (default 1,32), on each OpenMP thread count (default 1), plus the worm sweep.\n"
            "  Names: OP/PROBLEM/IMPL/threads:T/real_time, e.g. conv2d_fwd/mb32_ic4oc64_ih8iw8_kh1kw1_sh1sw1_b1/avx512/threads:1/real_time.\n"
            "  Counters: GFLOPS, GBps (compulsory bytes), pct_fma_peak (of the FMA peak measured at start-up),\n"
            "  threads_used; oneDNN rows also compute_ns, halo_ns, reorder_ns (untimed breakdown) and its\n"
            "  implementation as the label.  The machine (FMA peaks, STREAM bandwidth, oneDNN) is in the context.\n"
            "  Time is wall clock (names end in /real_time); --cpu-time times the calling thread's CPU time\n"
            "  instead (one thread only): steadier on a machine shared with other work.\n"
            "  google-benchmark flags: --benchmark_filter=RE --benchmark_list_tests --benchmark_min_time=S\n"
            "  --benchmark_repetitions=N --benchmark_enable_random_interleaving=true --benchmark_out=FILE\n"
            "  --benchmark_out_format=json|console|csv ... (google-benchmark's --help lists them all).\n");
}

#define BAD(...)                                                    \
    do {                                                            \
        fprintf(stderr, "latbench bench --gbench: " __VA_ARGS__);   \
        fputc('\n', stderr);                                        \
        return 2;                                                   \
    } while (0)

/* Consumes latbench's own options; the rest goes to gargv (gargv[0] = "latbench").  Returns 0, 1
 * after help, 2 on a bad option. */
static int parse_opts(int argc, char **argv, registry *R, gbk_opts *o, char **gargv, int *gargc, char *out_arg, size_t out_len) {
    memset(o, 0, sizeof *o);
    R->threads[0] = 1;
    R->n_threads = 1;
    o->batches[0] = 1;
    o->batches[1] = 32;
    o->n_batches = 2;
    o->lat_h[0] = o->lat_w[0] = 8;
    o->lat_h[1] = o->lat_w[1] = 64;
    o->n_lattices = 2;
    o->nets[0] = 0;
    for (size_t i = 0; i < sizeof default_nets / sizeof default_nets[0]; i++)
        snprintf(o->nets + strlen(o->nets), sizeof o->nets - strlen(o->nets), "%s%s", i ? "," : "", default_nets[i]);
    *gargc = 0;
    gargv[(*gargc)++] = "latbench";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        static const char *const own[] = {"--threads", "--nets", "--lattice", "--batch"};
        int which = -1;
        const char *v = NULL;
        for (int k = 0; k < 4 && which < 0; k++) {
            size_t n = strlen(own[k]);
            if (!strncmp(a, own[k], n) && (a[n] == 0 || a[n] == '=')) {
                which = k;
                if (a[n] == '=') v = a + n + 1;
                else if (i + 1 < argc) v = argv[++i];
                else BAD("%s needs a value", own[k]);
            }
        }
        if (which == 0) {
            if (!lb_parse_int_list(v, 1, 1024, GBK_MAX_LIST, R->threads, &R->n_threads)) BAD("--threads: '%s' is not a list of thread counts (1..1024)", v);
        } else if (which == 1) {
            if (strlen(v) >= sizeof o->nets) BAD("--nets: list too long");
            char buf[512];
            strcpy(buf, v);
            for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if (!netspec_preset(tok)) BAD("--nets: '%s' is not a network preset (see latbench model)", tok);
            strcpy(o->nets, v);
            o->nets_given = true;
        } else if (which == 2) {
            if (!lb_parse_lattice_list(v, GBK_MAX_LIST, o->lat_h, o->lat_w, &o->n_lattices)) BAD("--lattice: '%s' is not a list of NTxNX lattices (e.g. 8x8,64x64)", v);
        } else if (which == 3) {
            if (!lb_parse_int_list(v, 1, 1 << 16, GBK_MAX_LIST, o->batches, &o->n_batches)) BAD("--batch: '%s' is not a list of batch sizes (1..65536)", v);
        } else if (!strcmp(a, "--cpu-time")) {
            o->cpu_time = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strncmp(a, "--benchmark_out=", 16)) {
            if (!a[16]) BAD("--benchmark_out needs a file name");
            o->out_path = a + 16;
            gargv[(*gargc)++] = out_arg; /* "--benchmark_out=TEMPORARY", filled in once it exists */
        } else {
            if (!strcmp(a, "--benchmark_list_tests") ||
                (!strncmp(a, "--benchmark_list_tests=", 23) && strcmp(a + 23, "false") && strcmp(a + 23, "0")))
                o->listing = true;
            gargv[(*gargc)++] = argv[i];
        }
    }
    gargv[*gargc] = NULL;
    R->max_threads = 1;
    for (int i = 0; i < R->n_threads; i++)
        if (R->threads[i] > R->max_threads) R->max_threads = R->threads[i];
    if (o->cpu_time && R->max_threads > 1) BAD("--cpu-time needs --threads 1 (OpenMP workers' CPU time is not the calling thread's)");
    return 0;
}

int bench_gbench_main(int argc, char **argv) {
    registry R;
    memset(&R, 0, sizeof R);
    R.bufs.problem = -1;
    R.slot.bench = -1;
    R.last_bench = -1;
    R.disp = lb_dispatch_get();
    bench_machine_detect(&R.mach, &R.disp->cpu);
    gbk_opts o;
    char **gargv = calloc((size_t)argc + 2, sizeof *gargv);
    char out_arg[4300];
    int gargc = 0;
    if (!gargv) BAD("out of memory");
    int rc = parse_opts(argc, argv, &R, &o, gargv, &gargc, out_arg, sizeof out_arg);
    if (rc) {
        free(gargv);
        return rc == 1 ? 0 : rc;
    }
    /* the output file first (google-benchmark writes the temporary, renamed into place at the
     * end: whole or absent), then google-benchmark's flags: a bad one fails before any work */
    lb_atomic_file af = {.fd = -1, .slot = -1};
    char err[600];
    if (o.out_path) {
        if (!lb_atomic_open(&af, o.out_path, 0, err, sizeof err)) {
            fprintf(stderr, "latbench bench --gbench: %s\n", err);
            free(gargv);
            return 2;
        }
        snprintf(out_arg, sizeof out_arg, "--benchmark_out=%s", af.tmp);
    }
    rc = gb_init(gargc, gargv);
    if (rc) {
        lb_atomic_abort(&af);
        free(gargv);
        return rc;
    }
#if GBK_ONEDNN
    odnn_match_isa(R.disp->cap);
    R.have_onednn = odnn_env_init(&R.env);
#endif

    /* problems: every layer of every net on each lattice and batch, then the worm */
    char nets[512], lat_s[256] = "", batch_s[160] = "";
    const char *net_names[GBK_MAX_LIST * 4];
    int n_nets = 0;
    strcpy(nets, o.nets);
    for (char *save = NULL, *net = strtok_r(nets, ",", &save); net && n_nets < GBK_MAX_LIST * 4; net = strtok_r(NULL, ",", &save))
        net_names[n_nets++] = net;
    for (int li = 0; li < o.n_lattices; li++)
        snprintf(lat_s + strlen(lat_s), sizeof lat_s - strlen(lat_s), "%s%dx%d", li ? "," : "", o.lat_h[li], o.lat_w[li]);
    for (int bi = 0; bi < o.n_batches; bi++)
        snprintf(batch_s + strlen(batch_s), sizeof batch_s - strlen(batch_s), "%s%d", bi ? "," : "", o.batches[bi]);
    for (int li = 0; li < o.n_lattices; li++)
        for (int bi = 0; bi < o.n_batches; bi++)
            for (int ni = 0; ni < n_nets; ni++) {
                char why[160];
                /* FL nets fit only the lattice they were built for */
                if (!collect_net(&R, net_names[ni], o.lat_h[li], o.lat_w[li], o.batches[bi], why, sizeof why) && bi == 0 &&
                    o.nets_given)
                    fprintf(stderr, "latbench bench --gbench: note: %s on %dx%d left out: %s\n", net_names[ni], o.lat_h[li],
                            o.lat_w[li], why);
            }
    collect_worm(&R);
    bool ok = R.n_problems > 0 && make_benches(&R);
    for (int i = 0; ok && i < R.n_benches; i++) {
        const bench_entry *e = &R.benches[i];
        char name[320];
        snprintf(name, sizeof name, "%s/%s/%s/threads:%d", op_names[e->op], R.problems[e->problem].desc, e->variant_name, e->threads);
        gb_benchmark *b = gb_register(name, run_bench, &R.benches[i]);
        if (!b) ok = false;
        else if (!o.cpu_time) gb_opt_real_time(b);
    }
    if (!ok) {
        fprintf(stderr, "latbench bench --gbench: cannot build the benchmark registry (out of memory)\n");
        lb_atomic_abort(&af);
        rc = 1;
    } else {
        if (!o.listing) {
            measure_peaks(&R);
            add_context(&R, o.nets, lat_s, batch_s, o.cpu_time);
        }
        int n_run = 0;
        rc = gb_run(&n_run);
        if (o.out_path && rc == 0) {
            if (!lb_atomic_commit(&af, err, sizeof err)) {
                fprintf(stderr, "latbench bench --gbench: %s\n", err);
                rc = 1;
            }
        } else {
            lb_atomic_abort(&af);
        }
    }
    release_slot(&R);
    free_buffers(&R.bufs);
#if GBK_ONEDNN
    if (R.have_onednn) odnn_env_fini(&R.env);
#endif
    free(R.benches);
    free(R.problems);
    free(gargv);
    return rc;
}
#endif /* LB_NO_GBENCH */

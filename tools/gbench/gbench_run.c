/* The timed runs of the gbench registry (gbench.h): the buffers of one problem at a time, one call
 * of our kernels on the entry's thread count, oneDNN's primitives with their halo copies and
 * reorders, the worm sweep, and the counters (GFLOPS, GBps, pct_fma_peak of the FMA peak measured
 * at start-up, threads_used).  Time is wall-clock (UseRealTime): the work runs on OpenMP threads. */
#ifndef LB_NO_GBENCH
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/lattice/sampler.h"
#include "lib/nn/netspec.h"
#include "lib/nn/parallel.h"
#include "tools/baseline/halo.h"
#include "tools/gbench/gbench.h"
#include "tools/machine/peak.h"
#include "tools/verify/verify_ops.h"

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
    const gbk_problem *p = &R->problems[pi];
    const prob_record *q = &p->prob;
    size_t n[B_N] = {0};
    switch (p->worm ? (prob_kind)-1 : q->kind) {
    case PROB_CONV2D: {
        const conv2d_desc *d = &q->u.conv;
        n[B_IN] = n[B_GIN] = conv2d_in_size(d);
        n[B_OUT] = n[B_GOUT] = conv2d_out_size(d);
        n[B_W] = n[B_WT] = n[B_GW] = conv2d_w_size(d);
        n[B_BIAS] = n[B_GB] = (size_t)d->cout;
        n[B_WS] = nn_conv2d_bwd_weights_workspace(R->max_threads, d);
        halo_geom g = halo_for_conv2d(d);
        if (R->have_onednn && !halo_is_identity(&g)) n[B_PAD] = halo_padded_size(&g);
        break;
    }
    case PROB_POOL:
        n[B_IN] = n[B_GIN] = pool_in_size(&q->u.pool);
        n[B_OUT] = n[B_GOUT] = pool_out_size(&q->u.pool);
        break;
    case PROB_GPOOL:
        n[B_IN] = n[B_GIN] = (size_t)q->u.gpool.n * q->u.gpool.hw * q->u.gpool.c;
        n[B_OUT] = n[B_GOUT] = (size_t)q->u.gpool.n * q->u.gpool.c;
        break;
    case PROB_ACT:
        n[B_IN] = n[B_OUT] = n[B_GOUT] = n[B_GIN] = q->u.n;
        break;
    case PROB_FLATTEN:
        n[B_IN] = n[B_OUT] = n[B_GOUT] = n[B_GIN] = (size_t)q->u.flatten.n * q->u.flatten.h * q->u.flatten.w * q->u.flatten.c;
        break;
    case PROB_DENSE:
        n[B_IN] = n[B_GIN] = (size_t)q->u.dense.n * q->u.dense.in;
        n[B_OUT] = n[B_GOUT] = (size_t)q->u.dense.n * q->u.dense.out;
        n[B_W] = n[B_GW] = (size_t)q->u.dense.in * q->u.dense.out;
        n[B_BIAS] = n[B_GB] = (size_t)q->u.dense.out;
        break;
    case PROB_LOSS:   /* pred, target, grad */
        n[B_IN] = n[B_W] = n[B_GIN] = q->u.n;
        break;
    case PROB_OPTIM:  /* param, grad, m, v, vmax */
        n[B_W] = n[B_GW] = n[B_OUT] = n[B_GOUT] = n[B_GIN] = q->u.n;
        break;
    default:   /* the worm: its sampler is in the implementation slot */
        break;
    }
    for (int k = 0; k < B_N; k++)
        if (n[k] && !(R->bufs.b[k] = bench_alloc_filled(n[k], 101 + (unsigned)k))) {
            free_buffers(&R->bufs);
            return false;
        }
    if (!p->worm && q->kind == PROB_CONV2D) conv2d_weights_transpose(&q->u.conv, R->bufs.b[B_W], R->bufs.b[B_WT]);
    if (!p->worm && q->kind == PROB_OPTIM)   /* second moments are non-negative */
        for (size_t i = 0; i < q->u.n; i++) {
            R->bufs.b[B_GOUT][i] = fabsf(R->bufs.b[B_GOUT][i]);
            R->bufs.b[B_GIN][i] = fabsf(R->bufs.b[B_GIN][i]) + R->bufs.b[B_GOUT][i];
        }
    R->bufs.problem = pi;
    return true;
}

/* ---- our kernels: one call of the op on the entry's thread count ---- */

typedef struct {
    const gbench_entry *e;
    const prob_record *p;
    float *const *b;
    optim_adamw_params hp;
    volatile float sink;    /* loss values, kept so that the calls are not optimized away */
} ours_call;

/* Sample range of slice q of `parts` over n samples (lib/nn/parallel.h's split). */

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
static int ours_threads_used(const gbench_entry *e, const gbk_problem *g) {
    const prob_record *p = &g->prob;
    if (g->worm) return e->threads;
    switch (p->kind) {
    case PROB_CONV2D: return nn_batch_parts(e->threads, p->u.conv.n);
    case PROB_POOL: return nn_batch_parts(e->threads, p->u.pool.n);
    case PROB_GPOOL: return nn_batch_parts(e->threads, p->u.gpool.n);
    case PROB_DENSE: /* bwd_weights reduces over the batch: one thread */
        return e->op.pass == LB_PASS_BWD_WEIGHTS ? 1 : nn_batch_parts(e->threads, p->u.dense.n);
    case PROB_FLATTEN: return nn_batch_parts(e->threads, p->u.flatten.n);
    case PROB_ACT:
    case PROB_OPTIM: return element_parts(e->threads, p->u.n);
    case PROB_LOSS: return 1;   /* the losses reduce over the batch */
    }
    return 1;
}

static void step_gpool(void *ctx) {   /* the library's threaded gpool, as training runs it */
    ours_call *c = ctx;
    const gpool_desc *d = &c->p->u.gpool;
    float *const *b = c->b;
    if (c->e->op.pass != LB_PASS_FWD) nn_gpool_bwd(c->e->variant, c->e->threads, d, b[B_IN], b[B_GOUT], b[B_GIN]);
    else nn_gpool_fwd(c->e->variant, c->e->threads, d, b[B_IN], b[B_OUT]);
}

static void step_act(void *ctx) {
    ours_call *c = ctx;
    const act_ops *k = c->e->variant;
    float *const *b = c->b;
    const bool lrelu = c->e->op.fn == LAYER_LRELU, fwd = c->e->op.pass == LB_PASS_FWD;
    const size_t n = c->p->u.n;
    const int parts = element_parts(c->e->threads, n);
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int q = 0; q < parts; q++) {
        size_t lo, cnt;
        erange(n, parts, q, &lo, &cnt);
        if (lrelu && fwd) k->lrelu_fwd(cnt, 0.01f, b[B_IN] + lo, b[B_OUT] + lo);
        else if (lrelu) k->lrelu_bwd(cnt, 0.01f, b[B_IN] + lo, b[B_GOUT] + lo, b[B_GIN] + lo);
        else if (fwd) k->sigmoid_fwd(cnt, b[B_IN] + lo, b[B_OUT] + lo);
        else k->sigmoid_bwd(cnt, b[B_OUT] + lo, b[B_GOUT] + lo, b[B_GIN] + lo);
    }
}

static void step_dense(void *ctx) {
    ours_call *c = ctx;
    const dense_ops *k = c->e->variant;
    const dense_desc *d = &c->p->u.dense;
    float *const *b = c->b;
    const lb_pass pass = c->e->op.pass;
    if (pass == LB_PASS_BWD_WEIGHTS) {
        k->bwd_weights(d, b[B_IN], b[B_GOUT], b[B_GW], d->bias ? b[B_GB] : NULL);
        return;
    }
    const int parts = nn_batch_parts(c->e->threads, d->n);
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int q = 0; q < parts; q++) {
        int lo, cnt;
        nn_batch_slice(d->n, parts, q, &lo, &cnt);
        dense_desc s = *d;
        s.n = cnt;
        if (pass == LB_PASS_FWD) k->fwd(&s, b[B_IN] + (size_t)lo * d->in, b[B_W], d->bias ? b[B_BIAS] : NULL, b[B_OUT] + (size_t)lo * d->out);
        else k->bwd_data(&s, b[B_GOUT] + (size_t)lo * d->out, b[B_W], b[B_GIN] + (size_t)lo * d->in);
    }
}

static void step_flatten(void *ctx) {
    ours_call *c = ctx;
    const dense_ops *k = c->e->variant;
    const dense_flatten_desc *d = &c->p->u.flatten;
    float *const *b = c->b;
    const bool bwd = c->e->op.pass != LB_PASS_FWD;
    const int parts = nn_batch_parts(c->e->threads, d->n);
    const size_t per = (size_t)d->h * d->w * d->c;
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int q = 0; q < parts; q++) {
        int lo, cnt;
        nn_batch_slice(d->n, parts, q, &lo, &cnt);
        dense_flatten_desc s = *d;
        s.n = cnt;
        if (bwd) k->flatten_bwd(&s, b[B_GOUT] + lo * per, b[B_GIN] + lo * per);
        else k->flatten_fwd(&s, b[B_IN] + lo * per, b[B_OUT] + lo * per);
    }
}

static void step_loss(void *ctx) {
    ours_call *c = ctx;
    const loss_ops *k = c->e->variant;
    float *const *b = c->b;
    c->sink = (c->e->op.fn == GBK_MSE ? k->mse : k->bce_logits)(c->p->u.n, b[B_IN], b[B_W], b[B_GIN]);
}

static void step_adamw(void *ctx) {
    ours_call *c = ctx;
    const optim_ops *k = c->e->variant;
    float *const *b = c->b;
    const size_t n = c->p->u.n;
    const int parts = element_parts(c->e->threads, n);
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int q = 0; q < parts; q++) {
        size_t lo, cnt;
        erange(n, parts, q, &lo, &cnt);
        k->adamw_step(&c->hp, cnt, b[B_W] + lo, b[B_GW] + lo, b[B_OUT] + lo, b[B_GOUT] + lo, b[B_GIN] + lo);
    }
}

void gbk_work_of(const gbench_entry *e, const gbk_problem *g, double *flops, double *bytes, bool *fma) {
    const prob_record *p = &g->prob;
    const bool fwd = e->op.pass == LB_PASS_FWD;
    *flops = *bytes = 0;
    *fma = false;
    if (g->worm) return;
    switch (p->kind) {
    case PROB_CONV2D:
        *flops = conv2d_flops(&p->u.conv);
        *bytes = conv2d_bytes(&p->u.conv);
        *fma = true;
        break;
    case PROB_POOL:   /* bwd reads gout (and in, for max), writes gin */
        *flops = pool_flops(&p->u.pool);
        *bytes = pool_bytes(&p->u.pool) + (!fwd && p->u.pool.kind == POOL_MAX ? 4.0 * pool_in_size(&p->u.pool) : 0);
        break;
    case PROB_GPOOL:
        if (fwd) *flops = gpool_flops(&p->u.gpool);
        *bytes = gpool_bytes(&p->u.gpool) +
                 (!fwd && p->u.gpool.kind == GPOOL_MAX ? 4.0 * p->u.gpool.n * p->u.gpool.hw * p->u.gpool.c : 0);
        break;
    case PROB_ACT:
        *bytes = fwd ? act_bytes_fwd(p->u.n) : act_bytes_bwd(p->u.n);
        break;
    case PROB_DENSE:
        *flops = dense_flops(&p->u.dense);
        *bytes = dense_bytes(&p->u.dense);
        *fma = true;
        break;
    case PROB_FLATTEN:
        *bytes = dense_flatten_bytes(&p->u.flatten);
        break;
    case PROB_LOSS:   /* pred and target read, grad written */
        *bytes = 12.0 * p->u.n;
        break;
    case PROB_OPTIM:   /* grad read; param, m, v, vmax read and written */
        *bytes = 36.0 * p->u.n;
        break;
    }
}

static double peak_of(const registry *R, lb_isa isa, int threads) {
    lb_isa p = machine_peak_isa_for(&R->disp->cpu, isa);
    for (int i = 0; i < R->n_threads; i++)
        if (R->threads[i] == threads) return R->peak[p][i];
    return 0;
}

static void set_work_counters(gb_state *st, const registry *R, const gbench_entry *e, int threads_used) {
    double flops, bytes;
    bool fma;
    gbk_work_of(e, &R->problems[e->problem], &flops, &bytes, &fma);
    if (flops > 0) gb_set_counter(st, "GFLOPS", flops * 1e-9, GB_COUNTER_PER_CALL_RATE);
    if (bytes > 0) gb_set_counter(st, "GBps", bytes * 1e-9, GB_COUNTER_PER_CALL_RATE);
    double peak = fma ? peak_of(R, e->isa, e->threads) : 0;
    if (peak > 0) gb_set_counter(st, "pct_fma_peak", 100 * flops * 1e-9 / peak, GB_COUNTER_PER_CALL_RATE);
    gb_set_counter(st, "threads_used", threads_used, GB_COUNTER_DEFAULT);
}

static void run_ours(gb_state *st, registry *R, const gbench_entry *e, bool warm_up) {
    const gbk_problem *g = &R->problems[e->problem];
    const prob_record *p = &g->prob;
    float *const *b = R->bufs.b;
    ours_call c = {.e = e, .p = p, .b = b, .hp = optim_adamw_defaults()};
    bench_conv_ctx cc;
    bench_pool_ctx pc;
    timing_step_fn *fn = NULL;
    void *ctx = &c;
    const lb_pass pass = e->op.pass;
    switch (p->kind) {
    case PROB_CONV2D: {
        const conv2d_desc *d = &p->u.conv;
        cc = (bench_conv_ctx){e->variant, e->threads, *d, b[B_IN], b[B_W], d->bias ? b[B_BIAS] : NULL, b[B_GOUT], b[B_WT],
                              b[B_OUT], b[B_GIN], b[B_GW], d->bias ? b[B_GB] : NULL, b[B_WS]};
        ctx = &cc;
        fn = pass == LB_PASS_FWD ? bench_step_conv_fwd : pass == LB_PASS_BWD_DATA ? bench_step_conv_bwd_data : bench_step_conv_bwd_weights;
        break;
    }
    case PROB_POOL:
        pc = (bench_pool_ctx){e->variant, e->threads, p->u.pool, b[B_IN], b[B_GOUT], b[B_OUT], b[B_GIN]};
        ctx = &pc;
        fn = pass == LB_PASS_FWD ? bench_step_pool_fwd : bench_step_pool_bwd;
        break;
    case PROB_GPOOL: fn = step_gpool; break;
    case PROB_ACT: fn = step_act; break;
    case PROB_DENSE: fn = step_dense; break;
    case PROB_FLATTEN: fn = step_flatten; break;
    case PROB_LOSS: fn = step_loss; break;
    case PROB_OPTIM: fn = step_adamw; break;
    }
    if (warm_up) fn(ctx);
    for (long n; (n = gb_batch(st)) > 0;)
        for (long i = 0; i < n; i++) fn(ctx);
    set_work_counters(st, R, e, ours_threads_used(e, g));
    gb_set_label(st, g->layers);
}

/* ---- the per-benchmark slot: oneDNN primitives, or the worm sampler ---- */

static void release_slot(registry *R) {
    impl_slot *s = &R->slot;
    if (s->bench >= 0) {
#if GBK_ONEDNN
        if (s->conv_ok) odnn_conv_fini(&s->conv);
        if (s->pool_ok) odnn_pool_fini(&s->pool);
#endif
        if (s->worm_ok) bench_worm_free(&s->worm);
    }
    memset(s, 0, sizeof *s);
    s->bench = -1;
}

#if GBK_ONEDNN
/* oneDNN's convolution of the entry's pass (onednn_ops.h: halo copy or fold-back around it). */
static bool onednn_conv(registry *R, const gbench_entry *e, impl_slot *s) {
    float *const *b = R->bufs.b;
    const odnn_conv_bufs ob = {b[B_IN], b[B_W], b[B_BIAS], b[B_OUT], b[B_GOUT], b[B_GIN], b[B_GW], b[B_GB], b[B_PAD]};
    const lb_pass pass = e->op.pass;
    const odnn_layout lay = e->impl == IMPL_ONEDNN_ANY ? ODNN_ANY : ODNN_PLAIN;
    if (!(s->conv_ok = odnn_conv_init(&s->conv, &R->env, &R->problems[e->problem].prob.u.conv, pass, lay, &ob, e->threads)))
        return false;
    return odnn_conv_add_steps(&s->conv, &s->seq) == 0;
}

/* oneDNN pooling (blocked layout for "any", nhwc for "nhwc"). */
static bool onednn_pool(registry *R, const gbench_entry *e, impl_slot *s) {
    float *const *b = R->bufs.b;
    const lb_pass pass = e->op.pass;
    const odnn_layout lay = e->impl == IMPL_ONEDNN_ANY ? ODNN_ANY : ODNN_PLAIN;
    if (!(s->pool_ok = odnn_pool_init(&s->pool, &R->env, &R->problems[e->problem].prob.u.pool, pass, lay, b[B_IN], b[B_OUT],
                                      b[B_GOUT], b[B_GIN])))
        return false;
    return odnn_op_add_steps(&s->pool.op, &s->seq) == 0;
}

/* Runs the sequence `reps` more times (untimed) with a clock read between steps: where the time
 * goes, per kind of step, in ns per call.  A kind the sequence lacks gets no counter (a counter
 * that is always 0 would make google-benchmark 1.7 write "cv": NaN, which is not JSON). */
static void step_breakdown(gb_state *st, const timing_seq *seq, long reps) {
    double kind[STEP_N_KINDS] = {0};
    bool has[STEP_N_KINDS] = {false};
    for (long r = 0; r < reps; r++) {
        double t = timing_now();
        for (int k = 0; k < seq->n_steps; k++) {
            seq->steps[k].fn(seq->steps[k].ctx);
            double t2 = timing_now();
            kind[seq->steps[k].kind] += t2 - t;
            has[seq->steps[k].kind] = true;
            t = t2;
        }
    }
    static const char *const names[STEP_N_KINDS] = {"compute_ns", "halo_ns", "reorder_ns", "other_ns"};
    for (int k = 0; k < STEP_N_KINDS; k++)
        if (has[k]) gb_set_counter(st, names[k], kind[k] / reps * 1e9, GB_COUNTER_DEFAULT);
}

static void run_onednn(gb_state *st, registry *R, const gbench_entry *e, bool warm_up) {
    impl_slot *s = &R->slot;
    if (s->bench != e->index) {
        release_slot(R);
        s->bench = e->index;
        /* oneDNN takes its thread count from here when a primitive is created */
        bool ok = R->problems[e->problem].prob.kind == PROB_CONV2D ? onednn_conv(R, e, s) : onednn_pool(R, e, s);
        if (!ok) {
            release_slot(R);
            gb_skip_with_error(st, "oneDNN has no primitive for this problem");
            return;
        }
    }
    const timing_seq *seq = &s->seq;
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

static uint64_t head_moves(const lat_sampler *s) {
    uint64_t t = 0;
    for (int b = 0; b < s->ens.nblocks; b++) {
        const worm_block *B = &s->ens.blocks[b];
        for (int c = 0; c < B->active; c++) t += B->stat[WORM_STAT_HEAD_PROP * B->lanes + c];
    }
    return t;
}

static void run_worm(gb_state *st, registry *R, const gbench_entry *e) {
    const gbk_problem *p = &R->problems[e->problem];
    const worm_ops *ops = e->variant;
    impl_slot *s = &R->slot;
    char err[160];
    if (s->bench != e->index) {
        release_slot(R);
        s->bench = e->index;
        /* thermalized, with the automatic worms per sweep, as bench sets up a real run */
        const bench_worm_cfg wc = {.nt = p->worm_nt, .nx = p->worm_nx, .eta = 4.01, .lambda = 1.0, .mu = p->worm_mu,
                                     .threads = e->threads, .blocks_per_thread = 1, .ops = ops};
        if (!(s->worm_ok = bench_worm_setup(&wc, &s->worm, err, sizeof err))) {
            release_slot(R);
            gb_skip_with_error(st, err);
            return;
        }
    }
    lat_sampler *S = &s->worm.s;
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

void gbk_run_bench(gb_state *st, void *ctx) {
    const gbench_entry *e = ctx;
    registry *R = e->reg;
    if (!prepare_buffers(R, e->problem)) {
        gb_skip_with_error(st, "cannot allocate the buffers of this problem");
        return;
    }
    omp_set_num_threads(e->threads);
    /* the first call of a benchmark is not timed: caches, lazy library set-up, thread wake-up */
    const bool warm_up = R->last_bench != e->index;
    R->last_bench = e->index;
    if (R->problems[e->problem].worm) run_worm(st, R, e);
#if GBK_ONEDNN
    else if (e->impl != IMPL_OURS) run_onednn(st, R, e, warm_up);
#endif
    else run_ours(st, R, e, warm_up);
}

void gbk_release(registry *R) {
    release_slot(R);
    free_buffers(&R->bufs);
}
#endif

/* One conv or pool problem: ours (the dispatched kernel through the batch-splitting wrappers) and
 * oneDNN in its preferred layouts (format_tag_any, reorders from/to our NHWC/HWIO as separate
 * steps) and in plain nhwc/hwio, all three timed interleaved at each thread count. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "tools/bench/bench.h"
#include "tools/baseline/halo.h"
#include "lib/nn/conv_choice.h"
#include "lib/nn/parallel.h"

void bench_step_conv_fwd(void *p) {
    bench_conv_ctx *c = p;
    nn_conv2d_fwd(c->k, c->threads, &c->d, c->in, c->w, c->bias, c->out);
}
void bench_step_conv_bwd_data(void *p) {
    bench_conv_ctx *c = p;
    nn_conv2d_bwd_data(c->k, c->threads, &c->d, c->gout, c->wt, c->gin);
}
void bench_step_conv_bwd_weights(void *p) {
    bench_conv_ctx *c = p;
    nn_conv2d_bwd_weights(c->k, c->threads, &c->d, c->in, c->gout, c->gw, c->gb, c->ws);
}

void bench_step_pool_fwd(void *p) {
    bench_pool_ctx *c = p;
    nn_pool_fwd(c->k, c->threads, &c->d, c->in, c->out);
}
void bench_step_pool_bwd(void *p) {
    bench_pool_ctx *c = p;
    nn_pool_bwd(c->k, c->threads, &c->d, c->in, c->gout, c->gin);
}



/* The buffers of one conv problem, shared by ours and oneDNN (timing only: results not compared;
 * `latbench verify` does that). */
typedef struct {
    float *in, *w, *wt, *bias, *out, *gout, *gin, *gw, *gb, *ws, *pad;
} conv_bufs;

static void conv_bufs_free(conv_bufs *b) {
    free(b->in);
    free(b->w);
    free(b->wt);
    free(b->bias);
    free(b->out);
    free(b->gout);
    free(b->gin);
    free(b->gw);
    free(b->gb);
    free(b->ws);
    free(b->pad);
    memset(b, 0, sizeof *b);
}

static int max_threads(const bench_opts *o) {
    int m = 1;
    for (int i = 0; i < o->n_threads; i++)
        if (o->threads[i] > m) m = o->threads[i];
    return m;
}

static bool conv_bufs_alloc(conv_bufs *b, const conv2d_desc *d, lb_pass pass, const halo_geom *hg, bool onednn,
                            int threads_max) {
    memset(b, 0, sizeof *b);
    size_t nin = conv2d_in_size(d), nout = conv2d_out_size(d), nw = conv2d_w_size(d);
    bool halo = onednn && !halo_is_identity(hg);
    b->w = bench_alloc_filled(nw, 2);
    if (d->bias) b->bias = bench_alloc_filled((size_t)d->cout, 3);
    if (pass == LB_PASS_FWD) {
        b->in = bench_alloc_filled(nin, 1);
        b->out = bench_alloc_filled(nout, 4);
        if (halo) b->pad = bench_alloc_filled(halo_padded_size(hg), 5);
        return b->w && (!d->bias || b->bias) && b->in && b->out && (!halo || b->pad);
    }
    b->gout = bench_alloc_filled(nout, 6);
    if (pass == LB_PASS_BWD_DATA) {
        b->wt = bench_alloc_filled(nw, 7);
        if (b->wt) conv2d_weights_transpose(d, b->w, b->wt);
        b->gin = bench_alloc_filled(nin, 8);
        if (halo) b->pad = bench_alloc_filled(halo_padded_size(hg), 9);   /* gradient of the padded input */
        return b->w && b->wt && b->gout && b->gin && (!halo || b->pad);
    }
    b->in = bench_alloc_filled(nin, 1);
    b->gw = bench_alloc_filled(nw, 10);
    if (d->bias) b->gb = bench_alloc_filled((size_t)d->cout, 11);
    size_t nws = nn_conv2d_bwd_weights_workspace(threads_max, d);
    if (nws) b->ws = bench_alloc_filled(nws, 12);
    if (halo) b->pad = bench_alloc_filled(halo_padded_size(hg), 5);
    return b->w && b->in && b->gout && b->gw && (!d->bias || b->gb) && (!nws || b->ws) && (!halo || b->pad);
}

/* The timed paths of one problem at one thread count, in this order: ours, [scalar], [the tuning
 * profile's choice ("tuned")], [oneDNN in its preferred layouts ("any")], [oneDNN in nhwc ("plain")]. */
typedef struct {
    timing_seq seq[5];
    int n;
    bool scalar, tuned, any, plain;
    const char *impl_any, *layouts_any, *impl_plain;
} paths;

static void paths_add(paths *p, const char *name, const char *step_name, timing_step_fn *fn, void *ctx) {
    memset(&p->seq[p->n], 0, sizeof p->seq[0]);
    p->seq[p->n].name = name;
    timing_seq_add(&p->seq[p->n++], step_name, STEP_COMPUTE, fn, ctx);
}

/* The next path, empty, for a oneDNN op to append its steps to; p->n++ keeps it. */
static timing_seq *paths_next(paths *p, const char *name) {
    memset(&p->seq[p->n], 0, sizeof p->seq[0]);
    p->seq[p->n].name = name;
    return &p->seq[p->n];
}

/* Times the paths interleaved and reports the row; m holds the problem's fields already. */
static void time_and_report(bench_run *r, paths *p, bench_measure *m, int ti, double *ours_first) {
    timing_seq_result res[5];
    if (timing_interleaved(p->seq, p->n, &r->opt->timing, res) != 0) return;
    int i = 1;
    if (p->scalar) {
        m->seq_scalar = &p->seq[i];
        m->scalar = &res[i++];
    }
    if (p->tuned) {
        m->seq_tuned = &p->seq[i];
        m->tuned = &res[i++];
    }
    m->seq_ours = &p->seq[0];
    m->ours = &res[0];
    if (p->any) {
        m->seq_any = &p->seq[i];
        m->any = &res[i++];
        m->impl_any = p->impl_any;
        m->layouts_any = p->layouts_any;
    }
    if (p->plain) {
        m->seq_plain = &p->seq[i];
        m->plain = &res[i++];
        m->impl_plain = p->impl_plain;
    }
    m->counter_calls = bench_counter_calls(&res[0]);
    bench_count_calls(r, m->name, m->threads, bench_seq_run_once, &p->seq[0], m->counter_calls, &m->counters);
    m->ours_time_first_threads = ti == 0 ? 0 : *ours_first;
    if (ti == 0) *ours_first = res[0].total.median;
    bench_report(r, m);
}

static const odnn_layout path_layout[2] = {ODNN_ANY, ODNN_PLAIN};
static const char *const path_name[2] = {"onednn_any", "onednn_nhwc"};

/* What a conv or a pool problem plugs into time_problem: ours and the scalar reference as steps
 * of one function, and its oneDNN baseline per layout. */
typedef struct problem_run problem_run;
struct problem_run {
    bench_measure row;                  /* the row's fields but its thread counts */
    int batch;                          /* ours splits it over the threads */
    const odnn_env *env;
    timing_step_fn *step;
    const char *ours_name, *scalar_name;
    void *ours, *scalar;                /* the step contexts */
    int *ours_threads, *scalar_threads; /* their thread counts */
    /* the tuning profile's choice at `threads` into the row and the step context `tuned` (NULL: the
     * op has none); false when no profile applies */
    bool (*tuned_for)(problem_run *pr, int threads);
    void *tuned;
    /* oneDNN in path_layout[l] (oneDNN takes the thread count of omp_set_num_threads): appends
     * its steps to s and returns its op (for impl and layouts); NULL where it cannot run. */
    const odnn_op *(*onednn_init)(problem_run *pr, int l, int threads, timing_seq *s);
    void (*onednn_fini)(problem_run *pr, int l);
};

/* Ours (the default), [scalar], [the profile's choice], [oneDNN any], [oneDNN nhwc] timed side by side
 * at each thread count. */
static void time_problem(bench_run *r, problem_run *pr) {
    double ours_first = 0;   /* ours at the first thread count, to spot contended runs */
    for (int ti = 0; ti < r->opt->n_threads; ti++) {
        int T = r->opt->threads[ti];
        omp_set_num_threads(T);   /* oneDNN takes its thread count from here, at creation and execution */
        *pr->ours_threads = *pr->scalar_threads = T;
        paths p = {.n = 0, .scalar = r->opt->scalar};
        paths_add(&p, "ours", pr->ours_name, pr->step, pr->ours);
        if (p.scalar) paths_add(&p, "scalar", pr->scalar_name, pr->step, pr->scalar);
        if ((p.tuned = pr->tuned_for && pr->tuned_for(pr, T))) paths_add(&p, "tuned", pr->row.tuned_variant, pr->step, pr->tuned);
        const odnn_op *op[2] = {NULL, NULL};
        for (int l = 0; l < 2 && r->have_onednn; l++)
            if ((op[l] = pr->onednn_init(pr, l, T, paths_next(&p, path_name[l])))) p.n++;
        p.any = op[0] != NULL;
        p.plain = op[1] != NULL;
        if (op[0]) p.impl_any = op[0]->impl, p.layouts_any = op[0]->layouts;
        if (op[1]) p.impl_plain = op[1]->impl;
        bench_measure m = pr->row;   /* with the tuned fields tuned_for set */
        m.threads = T;
        m.threads_ours = nn_batch_parts(T, pr->batch);
        time_and_report(r, &p, &m, ti, &ours_first);
        for (int l = 0; l < 2; l++)
            if (op[l]) pr->onednn_fini(pr, l);
    }
}

typedef struct {
    problem_run pr;   /* first: the callbacks are handed &pr */
    const conv2d_desc *d;
    lb_pass pass;
    odnn_conv_bufs ob;
    odnn_conv dn[2];
    bench_conv_ctx tc;   /* the tuned path's step context */
    const lb_profile *profile;
    const lb_dispatch *disp;
} conv_run;

/* The profile's variant and parameters for this problem and pass at `threads` (nn_conv_choose, the
 * model runtime's rule), into the tuned path's context and the row. */
static bool conv_tuned_for(problem_run *pr, int threads) {
    conv_run *c = (conv_run *)pr;
    if (!c->profile) return false;
    nn_conv_choice ch = nn_conv_choose(c->profile, c->disp, c->d, c->pass, threads);
    c->tc.k = ch.ops;
    c->tc.d.params = ch.params;
    c->tc.threads = threads;
    pr->row.tuned_variant = ch.ops->name;
    pr->row.tuned_isa = ch.ops->isa;
    pr->row.tuned_how = nn_tuned_name(ch.how);
    pr->row.tuned_entry = ch.entry ? ch.entry->problem : "";
    return true;
}

static const odnn_op *conv_onednn_init(problem_run *pr, int l, int threads, timing_seq *s) {
    conv_run *c = (conv_run *)pr;
    if (!odnn_conv_init(&c->dn[l], pr->env, c->d, c->pass, path_layout[l], &c->ob, threads)) return NULL;
    if (odnn_conv_add_steps(&c->dn[l], s) == 0) return &c->dn[l].op;
    odnn_conv_fini(&c->dn[l]);
    return NULL;
}

static void conv_onednn_fini(problem_run *pr, int l) { odnn_conv_fini(&((conv_run *)pr)->dn[l]); }

bool bench_conv_problem(bench_run *r, const conv2d_desc *d, lb_pass pass, const char *name, const char *layers) {
    const conv2d_ops *k = r->disp->conv2d;
    halo_geom hg = halo_for_conv2d(d);
    conv_bufs b;
    if (!conv_bufs_alloc(&b, d, pass, &hg, r->have_onednn, max_threads(r->opt))) {
        fprintf(r->out, "%s: skipped: cannot allocate its buffers\n", name);
        conv_bufs_free(&b);
        return false;
    }
    bench_conv_ctx oc = {k, 1, *d, b.in, b.w, b.bias, b.gout, b.wt, b.out, b.gin, b.gw, b.gb, b.ws};
    if (r->opt->ours_tuned && lb_profile_active()) {   /* ours: the profile's choice at the first thread count */
        const nn_conv_choice ch = nn_conv_choose(lb_profile_active(), r->disp, d, pass, r->opt->threads[0]);
        k = oc.k = ch.ops;
        oc.d.params = ch.params;
    }
    bench_conv_ctx sc = oc;
    sc.k = bench_scalar_conv2d();
    conv_run c = {.pr = {.row = {.layers = layers, .op = "conv2d", .pass = lb_pass_name(pass), .flops = conv2d_flops(d),
                                 .bytes = conv2d_bytes(d), .fma_bound = true, .isa = k->isa, .variant = k->name},
                         .batch = d->n, .env = &r->env,
                         .step = pass == LB_PASS_FWD ? bench_step_conv_fwd
                                 : pass == LB_PASS_BWD_DATA ? bench_step_conv_bwd_data : bench_step_conv_bwd_weights,
                         .ours_name = k->name, .scalar_name = sc.k->name, .ours = &oc, .scalar = &sc,
                         .ours_threads = &oc.threads, .scalar_threads = &sc.threads,
                         .onednn_init = conv_onednn_init, .onednn_fini = conv_onednn_fini,
                         .tuned_for = conv_tuned_for},
                  .d = d, .pass = pass, .ob = {b.in, b.w, b.bias, b.out, b.gout, b.gin, b.gw, b.gb, b.pad},
                  .tc = oc, .profile = r->opt->no_tuned ? NULL : lb_profile_active(), .disp = r->disp};
    c.pr.tuned = &c.tc;
    snprintf(c.pr.row.name, sizeof c.pr.row.name, "%s", name);
    time_problem(r, &c.pr);
    conv_bufs_free(&b);
    return true;
}

typedef struct {
    problem_run pr;   /* first: the callbacks are handed &pr */
    const pool_desc *d;
    lb_pass pass;
    float *in, *out, *gout, *gin;
    odnn_pool dn[2];
} pool_run;

static const odnn_op *pool_onednn_init(problem_run *pr, int l, int threads, timing_seq *s) {
    pool_run *c = (pool_run *)pr;
    if (!odnn_pool_init(&c->dn[l], pr->env, c->d, c->pass, path_layout[l], c->in, c->out, c->gout, c->gin))
        return NULL;
    if (odnn_op_add_steps(&c->dn[l].op, s) == 0) return &c->dn[l].op;
    odnn_pool_fini(&c->dn[l]);
    return NULL;
}

static void pool_onednn_fini(problem_run *pr, int l) { odnn_pool_fini(&((pool_run *)pr)->dn[l]); }

bool bench_pool_problem(bench_run *r, const pool_desc *d, lb_pass pass, const char *name, const char *layers) {
    const pool_ops *k = r->disp->pool;
    const bool bwd = pass != LB_PASS_FWD;
    size_t nin = pool_in_size(d), nout = pool_out_size(d);
    float *in = bench_alloc_filled(nin, 21), *out = bench_alloc_filled(nout, 22);
    float *gout = bwd ? bench_alloc_filled(nout, 23) : NULL, *gin = bwd ? bench_alloc_filled(nin, 24) : NULL;
    bool ok = in && out && (!bwd || (gout && gin));
    if (!ok) fprintf(r->out, "%s: skipped: cannot allocate its buffers\n", name);
    bench_pool_ctx oc = {k, 1, *d, in, gout, out, gin};
    bench_pool_ctx sc = oc;
    sc.k = bench_scalar_pool();
    pool_run c = {.pr = {.row = {.layers = layers, .op = "pool", .pass = lb_pass_name_unsplit(pass), .flops = pool_flops(d),
                                 .bytes = pool_bytes(d), .fma_bound = false, .isa = k->isa, .variant = k->name},
                         .batch = d->n, .env = &r->env, .step = bwd ? bench_step_pool_bwd : bench_step_pool_fwd,
                         .ours_name = k->name, .scalar_name = sc.k->name, .ours = &oc, .scalar = &sc,
                         .ours_threads = &oc.threads, .scalar_threads = &sc.threads,
                         .onednn_init = pool_onednn_init, .onednn_fini = pool_onednn_fini},
                  .d = d, .pass = pass, .in = in, .out = out, .gout = gout, .gin = gin};
    snprintf(c.pr.row.name, sizeof c.pr.row.name, "%s", name);
    if (ok) time_problem(r, &c.pr);
    free(in);
    free(out);
    free(gout);
    free(gin);
    return ok;
}

/* One conv or pool problem: ours (the dispatched kernel through the batch-splitting wrappers) and
 * oneDNN in its preferred layouts (format_tag_any, reorders from/to our NHWC/HWIO as separate
 * steps) and in plain nhwc/hwio, all three timed interleaved at each thread count. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "harness/bench/bench.h"
#include "harness/bench/halo.h"
#include "harness/nn/parallel.h"

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

void bench_step_halo_pad(void *p) {
    bench_halo_ctx *c = p;
    halo_pad_nhwc(&c->g, c->threads, c->src, c->dst);
}
void bench_step_halo_fold(void *p) {
    bench_halo_ctx *c = p;
    halo_fold_nhwc(&c->g, c->threads, c->src, c->dst);
}


static const char *pass_name(conv_pass p) {
    return p == PASS_FWD ? "fwd" : p == PASS_BWD_DATA ? "bwd_data" : "bwd_weights";
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

static bool conv_bufs_alloc(conv_bufs *b, const conv2d_desc *d, conv_pass pass, const halo_geom *hg, bool onednn,
                            int threads_max) {
    memset(b, 0, sizeof *b);
    size_t nin = conv2d_in_size(d), nout = conv2d_out_size(d), nw = conv2d_w_size(d);
    bool halo = onednn && !halo_is_identity(hg);
    b->w = bench_alloc_filled(nw, 2);
    if (d->bias) b->bias = bench_alloc_filled((size_t)d->cout, 3);
    if (pass == PASS_FWD) {
        b->in = bench_alloc_filled(nin, 1);
        b->out = bench_alloc_filled(nout, 4);
        if (halo) b->pad = bench_alloc_filled(halo_padded_size(hg), 5);
        return b->w && (!d->bias || b->bias) && b->in && b->out && (!halo || b->pad);
    }
    b->gout = bench_alloc_filled(nout, 6);
    if (pass == PASS_BWD_DATA) {
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

/* User (external) memories of a conv pass, our buffers seen by oneDNN. */
typedef struct {
    dnnl_memory_t src, wei, bias, dst;   /* dst: diff_src for bwd_data; wei/bias: diffs for bwd_weights */
    dnnl_memory_t gout;
} conv_user_mems;

static void user_mems_free(conv_user_mems *u) {
    dnnl_memory_t *m[] = {&u->src, &u->wei, &u->bias, &u->dst, &u->gout};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (*m[i]) dnnl_memory_destroy(*m[i]);
    memset(u, 0, sizeof *u);
}

static bool conv_onednn_op(bench_run *r, odnn_op *op, const conv2d_desc *d, conv_pass pass, const halo_geom *hg,
                           const conv_bufs *b, conv_user_mems *u, odnn_layout lay) {
    const odnn_env *e = &r->env;
    bool halo = !halo_is_identity(hg);
    dnnl_dim_t src_dims[4] = {d->n, d->cin, hg->hp, hg->wp}, wdims[4] = {d->cout, d->cin, d->kh, d->kw},
               bdims[1] = {d->cout}, odims[4] = {d->n, d->cout, conv2d_oh(d), conv2d_ow(d)};
    dnnl_primitive_desc_t pd = NULL, hint = NULL;
    odnn_bind bind[5];
    int nb = 0;
    if (pass == PASS_FWD) {
        u->src = odnn_user_mem(e, 4, src_dims, dnnl_nhwc, halo ? b->pad : b->in);
        u->wei = odnn_user_mem(e, 4, wdims, dnnl_hwio, b->w);
        if (d->bias) u->bias = odnn_user_mem(e, 1, bdims, dnnl_x, b->bias);
        u->dst = odnn_user_mem(e, 4, odims, dnnl_nhwc, b->out);
        bind[nb++] = (odnn_bind){DNNL_ARG_SRC, u->src, false, "src"};
        bind[nb++] = (odnn_bind){DNNL_ARG_WEIGHTS, u->wei, false, "wei"};
        if (d->bias) bind[nb++] = (odnn_bind){DNNL_ARG_BIAS, u->bias, false, "bia"};
        bind[nb++] = (odnn_bind){DNNL_ARG_DST, u->dst, true, "dst"};
        pd = odnn_conv_fwd_pd(e, d, hg->hp, hg->wp, lay);
    } else if (pass == PASS_BWD_DATA) {
        u->gout = odnn_user_mem(e, 4, odims, dnnl_nhwc, b->gout);
        u->wei = odnn_user_mem(e, 4, wdims, dnnl_hwio, b->w);
        u->dst = odnn_user_mem(e, 4, src_dims, dnnl_nhwc, halo ? b->pad : b->gin);
        bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_DST, u->gout, false, "diff_dst"};
        bind[nb++] = (odnn_bind){DNNL_ARG_WEIGHTS, u->wei, false, "wei"};
        bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_SRC, u->dst, true, "diff_src"};
        pd = odnn_conv_bwd_data_pd(e, d, hg->hp, hg->wp, lay, &hint);
    } else {
        u->src = odnn_user_mem(e, 4, src_dims, dnnl_nhwc, halo ? b->pad : b->in);
        u->gout = odnn_user_mem(e, 4, odims, dnnl_nhwc, b->gout);
        u->wei = odnn_user_mem(e, 4, wdims, dnnl_hwio, b->gw);
        if (d->bias) u->bias = odnn_user_mem(e, 1, bdims, dnnl_x, b->gb);
        bind[nb++] = (odnn_bind){DNNL_ARG_SRC, u->src, false, "src"};
        bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_DST, u->gout, false, "diff_dst"};
        bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_WEIGHTS, u->wei, true, "diff_wei"};
        if (d->bias) bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_BIAS, u->bias, true, "diff_bia"};
        pd = odnn_conv_bwd_weights_pd(e, d, hg->hp, hg->wp, lay, &hint);
    }
    for (int i = 0; i < nb; i++)
        if (!bind[i].ext) {
            if (pd) dnnl_primitive_desc_destroy(pd);
            if (hint) dnnl_primitive_desc_destroy(hint);
            return false;
        }
    char what[32];
    snprintf(what, sizeof what, "conv %s", pass_name(pass));
    return odnn_op_init(op, e, pd, hint, what, bind, nb, NULL);
}

/* Sequence of a oneDNN path: [halo copy] reorders, primitive, reorders [fold-back]. */
static bool onednn_seq(bench_seq *s, const char *name, odnn_op *op, bench_halo_ctx *pad, bench_halo_ctx *fold) {
    memset(s, 0, sizeof *s);
    s->name = name;
    int rc = 0;
    if (pad) rc |= bench_seq_add(s, "halo copy", STEP_HALO, bench_step_halo_pad, pad);
    rc |= odnn_op_add_steps(op, s);
    if (fold) rc |= bench_seq_add(s, "halo fold-back", STEP_HALO, bench_step_halo_fold, fold);
    return rc == 0;
}

bool bench_conv_problem(bench_run *r, const conv2d_desc *d, conv_pass pass, const char *name, const char *layers) {
    const conv2d_ops *k = r->disp->conv2d;
    halo_geom hg = halo_for_conv2d(d);
    bool halo = !halo_is_identity(&hg);
    conv_bufs b;
    if (!conv_bufs_alloc(&b, d, pass, &hg, r->have_onednn, max_threads(r->opt))) {
        fprintf(r->out, "%s: skipped: cannot allocate its buffers\n", name);
        conv_bufs_free(&b);
        return false;
    }
    double ours_first = 0;   /* ours at the first thread count, to spot contended runs */
    for (int ti = 0; ti < r->opt->n_threads; ti++) {
        int T = r->opt->threads[ti];
        omp_set_num_threads(T);   /* oneDNN takes its thread count from here, at creation and execution */
        bench_conv_ctx oc = {k, T, *d, b.in, b.w, b.bias, b.gout, b.wt, b.out, b.gin, b.gw, b.gb, b.ws};
        bench_conv_ctx sc = oc;
        sc.k = bench_scalar_conv2d();
        bench_step_fn *step = pass == PASS_FWD ? bench_step_conv_fwd : pass == PASS_BWD_DATA ? bench_step_conv_bwd_data : bench_step_conv_bwd_weights;
        bench_seq seqs[4];
        memset(&seqs[0], 0, sizeof seqs[0]);
        seqs[0].name = "ours";
        bench_seq_add(&seqs[0], k->name, STEP_COMPUTE, step, &oc);
        int nseq = 1;
        if (r->opt->scalar) {
            memset(&seqs[1], 0, sizeof seqs[1]);
            seqs[1].name = "scalar";
            bench_seq_add(&seqs[1], sc.k->name, STEP_COMPUTE, step, &sc);
            nseq = 2;
        }
        odnn_op any, plain;
        conv_user_mems uany = {0}, uplain = {0};
        bool ok_any = false, ok_plain = false;
        bench_halo_ctx pad = {hg, T, b.in, b.pad}, fold = {hg, T, b.pad, b.gin};
        bench_halo_ctx *padp = halo && pass != PASS_BWD_DATA ? &pad : NULL, *foldp = halo && pass == PASS_BWD_DATA ? &fold : NULL;
        if (r->have_onednn) {
            ok_any = conv_onednn_op(r, &any, d, pass, &hg, &b, &uany, ODNN_ANY);
            if (ok_any && !onednn_seq(&seqs[nseq], "onednn_any", &any, padp, foldp)) {
                odnn_op_fini(&any);
                ok_any = false;
            }
            nseq += ok_any;
            ok_plain = conv_onednn_op(r, &plain, d, pass, &hg, &b, &uplain, ODNN_PLAIN);
            if (ok_plain && !onednn_seq(&seqs[nseq], "onednn_nhwc", &plain, padp, foldp)) {
                odnn_op_fini(&plain);
                ok_plain = false;
            }
            nseq += ok_plain;
        }
        bench_seq_result res[4];
        if (bench_time_interleaved(seqs, nseq, &r->opt->timing, res) == 0) {
            int i = 1;
            bench_measure m = {0};
            if (r->opt->scalar) {
                m.seq_scalar = &seqs[i];
                m.scalar = &res[i++];
            }
            snprintf(m.name, sizeof m.name, "%s", name);
            m.layers = layers;
            m.op = "conv2d";
            m.pass = pass_name(pass);
            m.threads = T;
            m.threads_ours = nn_batch_parts(T, d->n);
            m.flops = conv2d_flops(d);
            m.bytes = conv2d_bytes(d);
            m.fma_bound = true;
            m.isa = k->isa;
            m.variant = k->name;
            m.seq_ours = &seqs[0];
            m.ours = &res[0];
            if (ok_any) {
                m.seq_any = &seqs[i];
                m.any = &res[i++];
                m.impl_any = any.impl;
                m.layouts_any = any.layouts;
            }
            if (ok_plain) {
                m.seq_plain = &seqs[i];
                m.plain = &res[i++];
                m.impl_plain = plain.impl;
            }
            m.counter_calls = bench_counter_calls(&res[0]);
            bench_count_calls(r, name, T, bench_seq_run_once, &seqs[0], m.counter_calls, &m.counters);
            m.ours_time_first_threads = ti == 0 ? 0 : ours_first;
            if (ti == 0) ours_first = res[0].total.median;
            bench_report(r, &m);
        }
        if (ok_any) odnn_op_fini(&any);
        if (ok_plain) odnn_op_fini(&plain);
        user_mems_free(&uany);
        user_mems_free(&uplain);
    }
    conv_bufs_free(&b);
    return true;
}

bool bench_pool_problem(bench_run *r, const pool_desc *d, int bwd, const char *name, const char *layers) {
    const pool_ops *k = r->disp->pool;
    size_t nin = pool_in_size(d), nout = pool_out_size(d);
    float *in = bench_alloc_filled(nin, 21), *out = bench_alloc_filled(nout, 22);
    float *gout = bwd ? bench_alloc_filled(nout, 23) : NULL, *gin = bwd ? bench_alloc_filled(nin, 24) : NULL;
    if (!in || !out || (bwd && (!gout || !gin))) {
        fprintf(r->out, "%s: skipped: cannot allocate its buffers\n", name);
        free(in);
        free(out);
        free(gout);
        free(gin);
        return false;
    }
    const odnn_env *e = &r->env;
    dnnl_dim_t idims[4] = {d->n, d->c, d->h, d->w}, odims[4] = {d->n, d->c, pool_oh(d), pool_ow(d)};
    double ours_first = 0;   /* ours at the first thread count, to spot contended runs */
    for (int ti = 0; ti < r->opt->n_threads; ti++) {
        int T = r->opt->threads[ti];
        omp_set_num_threads(T);
        bench_pool_ctx oc = {k, T, *d, in, gout, out, gin};
        bench_pool_ctx sc = oc;
        sc.k = bench_scalar_pool();
        bench_seq seqs[4];
        memset(&seqs[0], 0, sizeof seqs[0]);
        seqs[0].name = "ours";
        bench_seq_add(&seqs[0], k->name, STEP_COMPUTE, bwd ? bench_step_pool_bwd : bench_step_pool_fwd, &oc);
        int nseq = 1;
        if (r->opt->scalar) {
            memset(&seqs[1], 0, sizeof seqs[1]);
            seqs[1].name = "scalar";
            bench_seq_add(&seqs[1], sc.k->name, STEP_COMPUTE, bwd ? bench_step_pool_bwd : bench_step_pool_fwd, &sc);
            nseq = 2;
        }
        /* [0]: blocked ("any"), [1]: nhwc; fwd[] are only needed for max pooling's workspace */
        odnn_op ops[2], fwd[2];
        bool ok[2] = {false, false}, fwd_ok[2] = {false, false};
        dnnl_memory_t umem[2][2] = {{NULL, NULL}, {NULL, NULL}};
        for (int l = 0; l < 2 && r->have_onednn; l++) {
            odnn_layout lay = l == 0 ? ODNN_ANY : ODNN_PLAIN;
            umem[l][0] = odnn_user_mem(e, 4, idims, dnnl_nhwc, bwd ? gin : in);
            umem[l][1] = odnn_user_mem(e, 4, odims, dnnl_nhwc, bwd ? gout : out);
            if (!umem[l][0] || !umem[l][1]) continue;
            if (!bwd) {
                odnn_bind bind[3] = {{DNNL_ARG_SRC, umem[l][0], false, "src"},
                                     {DNNL_ARG_DST, umem[l][1], true, "dst"},
                                     {DNNL_ARG_WORKSPACE, NULL, true, "ws"}};
                ok[l] = odnn_op_init(&ops[l], e, odnn_pool_fwd_pd(e, d, lay), NULL, "pool fwd", bind,
                                     d->kind == POOL_MAX ? 3 : 2, NULL);
            } else {
                dnnl_memory_t ws = NULL;
                if (d->kind == POOL_MAX) {
                    /* the backward pass reads the forward's workspace: run the forward once */
                    dnnl_memory_t src = odnn_user_mem(e, 4, idims, dnnl_nhwc, in), dst = odnn_user_mem(e, 4, odims, dnnl_nhwc, out);
                    odnn_bind fb[3] = {{DNNL_ARG_SRC, src, false, "src"},
                                       {DNNL_ARG_DST, dst, true, "dst"},
                                       {DNNL_ARG_WORKSPACE, NULL, true, "ws"}};
                    fwd_ok[l] = src && dst && odnn_op_init(&fwd[l], e, odnn_pool_fwd_pd(e, d, lay), NULL, "pool fwd", fb, 3, NULL);
                    if (fwd_ok[l]) {
                        odnn_op_run(&fwd[l]);
                        ws = odnn_op_mem(&fwd[l], DNNL_ARG_WORKSPACE);
                    }
                    if (src) dnnl_memory_destroy(src);
                    if (dst) dnnl_memory_destroy(dst);
                    if (!fwd_ok[l]) continue;
                }
                dnnl_primitive_desc_t hint = NULL, pd = odnn_pool_bwd_pd(e, d, lay, &hint);
                odnn_bind bind[3] = {{DNNL_ARG_DIFF_DST, umem[l][1], false, "diff_dst"},
                                     {DNNL_ARG_DIFF_SRC, umem[l][0], true, "diff_src"},
                                     {DNNL_ARG_WORKSPACE, ws, false, "ws"}};
                ok[l] = odnn_op_init(&ops[l], e, pd, hint, "pool bwd", bind, d->kind == POOL_MAX ? 3 : 2, NULL);
            }
            if (ok[l] && onednn_seq(&seqs[nseq], l == 0 ? "onednn_any" : "onednn_nhwc", &ops[l], NULL, NULL)) nseq++;
            else if (ok[l]) {
                odnn_op_fini(&ops[l]);
                ok[l] = false;
            }
        }
        bench_seq_result res[4];
        if (bench_time_interleaved(seqs, nseq, &r->opt->timing, res) == 0) {
            int i = 1;
            bench_measure m = {0};
            if (r->opt->scalar) {
                m.seq_scalar = &seqs[i];
                m.scalar = &res[i++];
            }
            snprintf(m.name, sizeof m.name, "%s", name);
            m.layers = layers;
            m.op = "pool";
            m.pass = bwd ? "bwd" : "fwd";
            m.threads = T;
            m.threads_ours = nn_batch_parts(T, d->n);
            m.flops = pool_flops(d);
            m.bytes = pool_bytes(d);
            m.fma_bound = false;
            m.isa = k->isa;
            m.variant = k->name;
            m.seq_ours = &seqs[0];
            m.ours = &res[0];
            if (ok[0]) {
                m.seq_any = &seqs[i];
                m.any = &res[i++];
                m.impl_any = ops[0].impl;
                m.layouts_any = ops[0].layouts;
            }
            if (ok[1]) {
                m.seq_plain = &seqs[i];
                m.plain = &res[i++];
                m.impl_plain = ops[1].impl;
            }
            m.counter_calls = bench_counter_calls(&res[0]);
            bench_count_calls(r, name, T, bench_seq_run_once, &seqs[0], m.counter_calls, &m.counters);
            m.ours_time_first_threads = ti == 0 ? 0 : ours_first;
            if (ti == 0) ours_first = res[0].total.median;
            bench_report(r, &m);
        }
        for (int l = 0; l < 2; l++) {
            if (ok[l]) odnn_op_fini(&ops[l]);
            if (fwd_ok[l]) odnn_op_fini(&fwd[l]);
            for (int j = 0; j < 2; j++)
                if (umem[l][j]) dnnl_memory_destroy(umem[l][j]);
        }
    }
    free(in);
    free(out);
    free(gout);
    free(gin);
    return true;
}

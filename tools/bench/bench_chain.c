/* The conv chain of a network (its conv layers back to back, activations left out), forward and
 * backward as training runs it: forward of every layer, then from the last layer down backward-
 * weights of every layer and backward-data of all but the first (the input needs no gradient).
 *
 * Ours: the dispatched kernels through the batch-splitting wrappers, NHWC throughout, plus the
 * weight transpose backward-data needs (timed as part of ours).
 * oneDNN: every primitive with format_tag_any; activations stay in the layout a primitive chose
 * as long as the next primitive takes it, and go through NHWC only where the circular halo has
 * to be copied (kernels larger than 1x1): reorder to NHWC, halo copy, reorder to the next
 * primitive's layout.  Input and final output are NHWC (our pipeline's layout), weights HWIO.
 * Reordered weights and gradients are reused between forward, backward-data and backward-weights
 * where the layouts agree (conversion cache), as a careful oneDNN user would.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "tools/bench/bench.h"
#include "lib/nn/layer_desc.h"
#include "lib/nn/netspec.h"
#include "lib/nn/parallel.h"

#define CHAIN_MAX 16

typedef struct {
    int L;
    conv2d_desc d[CHAIN_MAX];
    halo_geom hg[CHAIN_MAX];
    float *x[CHAIN_MAX + 1];   /* x[i]: input of layer i; x[L]: output */
    float *g[CHAIN_MAX + 1];   /* g[i]: gradient of x[i]; g[L] given, g[0] not computed */
    float *w[CHAIN_MAX], *wt[CHAIN_MAX], *b[CHAIN_MAX], *gw[CHAIN_MAX], *gb[CHAIN_MAX];
    float *ws;
} chain_bufs;

static void chain_bufs_free(chain_bufs *c) {
    for (int i = 0; i <= c->L; i++) {
        free(c->x[i]);
        free(c->g[i]);
        if (i < c->L) {
            free(c->w[i]);
            free(c->wt[i]);
            free(c->b[i]);
            free(c->gw[i]);
            free(c->gb[i]);
        }
    }
    free(c->ws);
}

/* The conv layers of a preset, which must follow each other without a change of shape. */
static bool chain_layers(const char *net, int h, int w, int batch, chain_bufs *c, char *err, size_t errlen) {
    const char *text = netspec_preset(net);
    net_spec spec;
    act_shape shapes[NETSPEC_MAX_LAYERS + 1];
    if (!text) {
        snprintf(err, errlen, "no preset named %s", net);
        return false;
    }
    if (!netspec_parse(text, &spec, err, errlen) || !netspec_shapes(&spec, h, w, shapes, err, errlen)) return false;
    c->L = 0;
    for (int i = 0; i < spec.n_layers; i++) {
        const layer_spec *l = &spec.layers[i];
        if (l->kind != LAYER_CONV) continue;
        if (c->L == CHAIN_MAX) {
            snprintf(err, errlen, "more than %d conv layers", CHAIN_MAX);
            return false;
        }
        conv2d_desc d = layer_conv_desc(l, shapes[i], batch);
        if (c->L > 0) {
            const conv2d_desc *p = &c->d[c->L - 1];
            if (p->cout != d.cin || conv2d_oh(p) != d.h || conv2d_ow(p) != d.w) {
                snprintf(err, errlen, "its conv layers are not back to back (a pooling between them)");
                return false;
            }
        }
        c->d[c->L] = d;
        c->hg[c->L] = halo_for_conv2d(&d);
        c->L++;
    }
    if (c->L == 0) {
        snprintf(err, errlen, "no conv layers");
        return false;
    }
    return true;
}

static bool chain_bufs_alloc(chain_bufs *c, int threads_max) {
    bool ok = true;
    size_t ws = 0;
    for (int i = 0; i < c->L; i++) {
        const conv2d_desc *d = &c->d[i];
        size_t nw = conv2d_w_size(d);
        c->x[i] = bench_alloc_filled(conv2d_in_size(d), 30 + i);
        if (i > 0) c->g[i] = bench_alloc_filled(conv2d_in_size(d), 50 + i);
        c->w[i] = bench_alloc_filled(nw, 70 + i);
        c->wt[i] = bench_alloc_filled(nw, 90 + i);
        c->gw[i] = bench_alloc_filled(nw, 110 + i);
        ok = ok && c->x[i] && (i == 0 || c->g[i]) && c->w[i] && c->wt[i] && c->gw[i];
        if (d->bias) {
            c->b[i] = bench_alloc_filled((size_t)d->cout, 130 + i);
            c->gb[i] = bench_alloc_filled((size_t)d->cout, 150 + i);
            ok = ok && c->b[i] && c->gb[i];
        }
        size_t s = nn_conv2d_bwd_weights_workspace(threads_max, d);
        if (s > ws) ws = s;
    }
    const conv2d_desc *last = &c->d[c->L - 1];
    c->x[c->L] = bench_alloc_filled(conv2d_out_size(last), 170);
    c->g[c->L] = bench_alloc_filled(conv2d_out_size(last), 171);
    if (ws) c->ws = bench_alloc_filled(ws, 172);
    return ok && c->x[c->L] && c->g[c->L] && (!ws || c->ws);
}

typedef struct {
    const conv2d_desc *d;
    const float *w;
    float *wt;
} transpose_ctx;

static void step_transpose(void *p) {
    transpose_ctx *t = p;
    conv2d_weights_transpose(t->d, t->w, t->wt);
}

/* Ours: the step contexts live here so that the sequence's pointers stay valid. */
typedef struct {
    bench_conv_ctx fwd[CHAIN_MAX], bww[CHAIN_MAX], bwd[CHAIN_MAX];
    transpose_ctx tr[CHAIN_MAX];
} ours_chain;

static bool ours_chain_seq(ours_chain *o, timing_seq *s, const chain_bufs *c, const conv2d_ops *k, int T) {
    int rc = 0;
    memset(s, 0, sizeof *s);
    s->name = "ours";
    for (int i = 0; i < c->L; i++) {
        o->fwd[i] = (bench_conv_ctx){.k = k, .threads = T, .d = c->d[i], .in = c->x[i], .w = c->w[i], .bias = c->b[i], .out = c->x[i + 1]};
        rc |= timing_seq_add(s, "conv fwd", STEP_COMPUTE, bench_step_conv_fwd, &o->fwd[i]);
    }
    for (int i = c->L - 1; i >= 0; i--) {
        o->bww[i] = (bench_conv_ctx){.k = k, .threads = T, .d = c->d[i], .in = c->x[i], .gout = c->g[i + 1], .gw = c->gw[i], .gb = c->gb[i], .ws = c->ws};
        rc |= timing_seq_add(s, "conv bwd_weights", STEP_COMPUTE, bench_step_conv_bwd_weights, &o->bww[i]);
        if (i == 0) continue;
        o->tr[i] = (transpose_ctx){&c->d[i], c->w[i], c->wt[i]};
        rc |= timing_seq_add(s, "weights transpose", STEP_OTHER, step_transpose, &o->tr[i]);
        o->bwd[i] = (bench_conv_ctx){.k = k, .threads = T, .d = c->d[i], .gout = c->g[i + 1], .wt = c->wt[i], .gin = c->g[i]};
        rc |= timing_seq_add(s, "conv bwd_data", STEP_COMPUTE, bench_step_conv_bwd_data, &o->bwd[i]);
    }
    return rc == 0;
}

/* oneDNN: ops, the executions between them, and every memory the chain itself made. */
typedef struct {
    odnn_op fwd[CHAIN_MAX], bww[CHAIN_MAX], bwd[CHAIN_MAX];
    bool fwd_ok[CHAIN_MAX], bww_ok[CHAIN_MAX], bwd_ok[CHAIN_MAX];
    odnn_exec extra[2 * CHAIN_MAX + 2];
    int n_extra;
    dnnl_memory_t mems[8 * CHAIN_MAX + 4];
    int n_mems;
    dnnl_memory_t wuser[CHAIN_MAX];   /* our HWIO weights, as seen by oneDNN */
    odnn_halo_ctx halo[CHAIN_MAX], fold[CHAIN_MAX];
    odnn_conv_cache cache;
    char impl[96];
} onednn_chain;

static dnnl_memory_t chain_mem(onednn_chain *o, dnnl_memory_t m) {
    if (m) o->mems[o->n_mems++] = m;
    return m;
}

static dnnl_memory_t chain_alloc_nhwc(onednn_chain *o, const odnn_env *e, dnnl_dim_t n, dnnl_dim_t c, dnnl_dim_t h,
                                      dnnl_dim_t w) {
    dnnl_dim_t dims[4] = {n, c, h, w};
    dnnl_memory_t m = chain_mem(o, odnn_user_mem(e, 4, dims, dnnl_nhwc, DNNL_MEMORY_ALLOCATE));
    if (m) odnn_touch(m);
    return m;
}

static void *mem_ptr(dnnl_memory_t m) {
    void *p = NULL;
    dnnl_memory_get_data_handle(m, &p);
    return p;
}

static bool is_nhwc(dnnl_memory_t m) {
    const dnnl_memory_desc_t *md;
    dnnl_memory_desc_t want;
    dnnl_memory_get_memory_desc(m, &md);
    return dnnl_memory_desc_init_by_tag(&want, md->ndims, md->dims, md->data_type, dnnl_nhwc) == dnnl_success &&
           dnnl_memory_desc_equal(md, &want);
}

static bool same_layout(dnnl_memory_t a, dnnl_memory_t b) {
    const dnnl_memory_desc_t *x, *y;
    dnnl_memory_get_memory_desc(a, &x);
    dnnl_memory_get_memory_desc(b, &y);
    return dnnl_memory_desc_equal(x, y);
}

/* A reorder a -> b as a chain step. */
static bool chain_reorder(onednn_chain *o, const odnn_env *e, timing_seq *s, dnnl_memory_t a, dnnl_memory_t b,
                          const char *name) {
    odnn_exec *x = &o->extra[o->n_extra];
    if (!odnn_reorder_init(x, e, a, b, name)) return false;
    o->n_extra++;
    return timing_seq_add(s, x->name, STEP_REORDER, odnn_exec_run, x) == 0;
}

static void onednn_chain_fini(onednn_chain *o) {
    for (int i = 0; i < CHAIN_MAX; i++) {
        if (o->fwd_ok[i]) odnn_op_fini(&o->fwd[i]);
        if (o->bww_ok[i]) odnn_op_fini(&o->bww[i]);
        if (o->bwd_ok[i]) odnn_op_fini(&o->bwd[i]);
    }
    for (int i = 0; i < o->n_extra; i++) dnnl_primitive_destroy(o->extra[i].prim);
    for (int i = 0; i < o->n_mems; i++) dnnl_memory_destroy(o->mems[i]);
    memset(o, 0, sizeof *o);
}

/* Layer i's forward steps (a reorder to nhwc and a halo copy where the layer pads, then the conv)
 * from *cur; *cur becomes its output.  false on a oneDNN failure; *rc collects timing_seq_add's. */
static bool chain_fwd_layer(onednn_chain *o, timing_seq *s, const odnn_env *e, const chain_bufs *c, int T, int i,
                            dnnl_memory_t *cur, int *rc) {
    const conv2d_desc *d = &c->d[i];
    const halo_geom *hg = &c->hg[i];
    dnnl_memory_t src = *cur;
    if (!halo_is_identity(hg)) {
        dnnl_memory_t nhwc = *cur;
        if (!is_nhwc(*cur)) {
            nhwc = chain_alloc_nhwc(o, e, d->n, d->cin, d->h, d->w);
            if (!nhwc || !chain_reorder(o, e, s, *cur, nhwc, "reorder to nhwc")) return false;
        }
        src = chain_alloc_nhwc(o, e, d->n, d->cin, hg->hp, hg->wp);
        if (!src) return false;
        o->halo[i] = (odnn_halo_ctx){*hg, T, mem_ptr(nhwc), mem_ptr(src)};
        *rc |= timing_seq_add(s, "halo copy", STEP_HALO, bench_step_halo_pad, &o->halo[i]);
    }
    dnnl_dim_t wdims[4] = {d->cout, d->cin, d->kh, d->kw}, bdims[1] = {d->cout};
    dnnl_memory_t wm = o->wuser[i] = chain_mem(o, odnn_user_mem(e, 4, wdims, dnnl_hwio, c->w[i]));
    dnnl_memory_t bm = d->bias ? chain_mem(o, odnn_user_mem(e, 1, bdims, dnnl_x, c->b[i])) : NULL;
    if (!wm || (d->bias && !bm)) return false;
    odnn_bind bind[4] = {{DNNL_ARG_SRC, src, false, "src"}, {DNNL_ARG_WEIGHTS, wm, false, "wei"},
                         {DNNL_ARG_DST, NULL, true, "dst"}, {DNNL_ARG_BIAS, bm, false, "bia"}};
    o->fwd_ok[i] = odnn_op_init(&o->fwd[i], e, odnn_conv_fwd_pd(e, d, hg->hp, hg->wp, ODNN_ANY), NULL, "conv fwd",
                                bind, d->bias ? 4 : 3, &o->cache);
    if (!o->fwd_ok[i]) return false;
    *rc |= odnn_op_add_steps(&o->fwd[i], s);
    *cur = odnn_op_mem(&o->fwd[i], DNNL_ARG_DST);
    if (i == 0) snprintf(o->impl, sizeof o->impl, "%s", o->fwd[i].impl);
    return true;
}

/* Layer i's backward steps from the gradient *cur: backward-weights and, but for the first
 * layer, backward-data (then a halo fold-back where the layer pads); *cur becomes the gradient
 * of its input. */
static bool chain_bwd_layer(onednn_chain *o, timing_seq *s, const odnn_env *e, const chain_bufs *c, int T, int i,
                            dnnl_memory_t *cur, int *rc) {
    const conv2d_desc *d = &c->d[i];
    const halo_geom *hg = &c->hg[i];
    dnnl_dim_t wdims[4] = {d->cout, d->cin, d->kh, d->kw}, bdims[1] = {d->cout};
    dnnl_memory_t gwm = chain_mem(o, odnn_user_mem(e, 4, wdims, dnnl_hwio, c->gw[i]));
    dnnl_memory_t gbm = d->bias ? chain_mem(o, odnn_user_mem(e, 1, bdims, dnnl_x, c->gb[i])) : NULL;
    if (!gwm || (d->bias && !gbm)) return false;
    dnnl_primitive_desc_t hint = NULL, pd = odnn_conv_bwd_weights_pd(e, d, hg->hp, hg->wp, ODNN_ANY, &hint);
    odnn_bind bw[4] = {{DNNL_ARG_SRC, odnn_op_mem(&o->fwd[i], DNNL_ARG_SRC), false, "src"},
                       {DNNL_ARG_DIFF_DST, *cur, false, "diff_dst"},
                       {DNNL_ARG_DIFF_WEIGHTS, gwm, true, "diff_wei"},
                       {DNNL_ARG_DIFF_BIAS, gbm, true, "diff_bia"}};
    o->bww_ok[i] = odnn_op_init(&o->bww[i], e, pd, hint, "conv bwd_weights", bw, d->bias ? 4 : 3, &o->cache);
    if (!o->bww_ok[i]) return false;
    *rc |= odnn_op_add_steps(&o->bww[i], s);
    if (i == 0) return true;
    dnnl_memory_t gsrc = NULL, gnext = NULL;
    bool halo = !halo_is_identity(hg);
    if (halo) {
        gsrc = chain_alloc_nhwc(o, e, d->n, d->cin, hg->hp, hg->wp);
        dnnl_dim_t dims[4] = {d->n, d->cin, d->h, d->w};
        gnext = chain_mem(o, odnn_user_mem(e, 4, dims, dnnl_nhwc, c->g[i]));
        if (!gsrc || !gnext) return false;
    }
    hint = NULL;
    pd = odnn_conv_bwd_data_pd(e, d, hg->hp, hg->wp, ODNN_ANY, &hint);
    odnn_bind bd[3] = {{DNNL_ARG_DIFF_DST, *cur, false, "diff_dst"},
                       {DNNL_ARG_WEIGHTS, o->wuser[i], false, "wei"},   /* the cache reuses the forward's conversion */
                       {DNNL_ARG_DIFF_SRC, gsrc, true, "diff_src"}};
    o->bwd_ok[i] = odnn_op_init(&o->bwd[i], e, pd, hint, "conv bwd_data", bd, 3, &o->cache);
    if (!o->bwd_ok[i]) return false;
    *rc |= odnn_op_add_steps(&o->bwd[i], s);
    if (halo) {
        o->fold[i] = (odnn_halo_ctx){*hg, T, mem_ptr(gsrc), mem_ptr(gnext)};
        *rc |= timing_seq_add(s, "halo fold-back", STEP_HALO, bench_step_halo_fold, &o->fold[i]);
        *cur = gnext;
    } else {
        *cur = odnn_op_mem(&o->bwd[i], DNNL_ARG_DIFF_SRC);
    }
    return true;
}

/* The whole chain in oneDNN's preferred layouts (ODNN_ANY): the forward layers, a reorder of the
 * output into the user's buffer where the layouts differ, then the backward layers from the
 * incoming gradient. */
static bool onednn_chain_seq(onednn_chain *o, timing_seq *s, const odnn_env *e, const chain_bufs *c, int T) {
    memset(s, 0, sizeof *s);
    s->name = "onednn_any";
    int rc = 0;
    dnnl_memory_t cur;
    {
        const conv2d_desc *d = &c->d[0];
        dnnl_dim_t dims[4] = {d->n, d->cin, d->h, d->w};
        cur = chain_mem(o, odnn_user_mem(e, 4, dims, dnnl_nhwc, c->x[0]));
        if (!cur) return false;
    }
    for (int i = 0; i < c->L; i++)
        if (!chain_fwd_layer(o, s, e, c, T, i, &cur, &rc)) return false;
    {
        const conv2d_desc *d = &c->d[c->L - 1];
        dnnl_dim_t dims[4] = {d->n, d->cout, conv2d_oh(d), conv2d_ow(d)};
        dnnl_memory_t out = chain_mem(o, odnn_user_mem(e, 4, dims, dnnl_nhwc, c->x[c->L]));
        if (!out) return false;
        if (!same_layout(cur, out) && !chain_reorder(o, e, s, cur, out, "reorder output")) return false;
        cur = chain_mem(o, odnn_user_mem(e, 4, dims, dnnl_nhwc, c->g[c->L]));   /* the incoming gradient */
        if (!cur) return false;
    }
    for (int i = c->L - 1; i >= 0; i--)
        if (!chain_bwd_layer(o, s, e, c, T, i, &cur, &rc)) return false;
    return rc == 0;
}

bool bench_chain(bench_run *r, const char *net, int h, int w, int batch) {
    char err[160], name[112];
    chain_bufs c;
    memset(&c, 0, sizeof c);
    snprintf(name, sizeof name, "chain/%s/mb%d_ih%diw%d/fwd+bwd", net, batch, h, w);
    if (!bench_wanted(r, name, net)) return true;
    if (!chain_layers(net, h, w, batch, &c, err, sizeof err)) {
        fprintf(r->out, "%s: skipped: %s\n", name, err);
        return false;
    }
    int tmax = 1;
    for (int i = 0; i < r->opt->n_threads; i++)
        if (r->opt->threads[i] > tmax) tmax = r->opt->threads[i];
    if (!chain_bufs_alloc(&c, tmax)) {
        fprintf(r->out, "%s: skipped: cannot allocate its buffers\n", name);
        chain_bufs_free(&c);
        return false;
    }
    double flops = 0, bytes = 0;
    for (int i = 0; i < c.L; i++) {
        int passes = i == 0 ? 2 : 3;
        flops += passes * conv2d_flops(&c.d[i]);
        bytes += passes * conv2d_bytes(&c.d[i]);
    }
    const conv2d_ops *k = r->disp->conv2d;
    ours_chain *oc = calloc(1, sizeof *oc);
    onednn_chain *dc = calloc(1, sizeof *dc);
    timing_seq *seqs = calloc(2, sizeof *seqs);
    if (!oc || !dc || !seqs) {
        free(oc);
        free(dc);
        free(seqs);
        chain_bufs_free(&c);
        return false;
    }
    double ours_first = 0;   /* ours at the first thread count, to spot contended runs */
    for (int ti = 0; ti < r->opt->n_threads; ti++) {
        int T = r->opt->threads[ti];
        omp_set_num_threads(T);
        int nseq = 0;
        if (ours_chain_seq(oc, &seqs[0], &c, k, T)) nseq = 1;
        bool ok_dnnl = false;
        if (nseq && r->have_onednn) {
            ok_dnnl = onednn_chain_seq(dc, &seqs[1], &r->env, &c, T);
            if (!ok_dnnl) fprintf(r->out, "%s: oneDNN chain could not be set up\n", name);
        }
        timing_seq_result res[2];
        if (nseq && timing_interleaved(seqs, nseq + ok_dnnl, &r->opt->timing, res) == 0) {
            bench_measure m = {0};
            snprintf(m.name, sizeof m.name, "%s", name);
            m.layers = net;
            m.op = "chain";
            m.pass = "fwd+bwd";
            m.threads = T;
            m.threads_ours = nn_batch_parts(T, batch);
            m.flops = flops;
            m.bytes = bytes;
            m.fma_bound = true;
            m.isa = k->isa;
            m.variant = k->name;
            m.seq_ours = &seqs[0];
            m.ours = &res[0];
            if (ok_dnnl) {
                m.seq_any = &seqs[1];
                m.any = &res[1];
                m.impl_any = dc->impl;
            }
            m.ours_time_first_threads = ti == 0 ? 0 : ours_first;
            if (ti == 0) ours_first = res[0].total.median;
            bench_report(r, &m);
        }
        onednn_chain_fini(dc);
    }
    free(oc);
    free(dc);
    free(seqs);
    chain_bufs_free(&c);
    return true;
}

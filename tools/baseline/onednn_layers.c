/* The oneDNN baseline of one conv or pool pass over our buffers (onednn_ops.h): which of our
 * buffers is bound to which oneDNN argument, written once for verify, bench and gbench.  Built
 * without oneDNN, odnn_user_mem fails and so does every init here. */
#include "tools/baseline/onednn_ops.h"
#include <stdio.h>
#include <string.h>

/* A memory over one of our buffers, owned by the caller's list (destroyed at fini). */
static dnnl_memory_t user_mem(dnnl_memory_t *list, int *n, int cap, const odnn_env *e, int nd, const dnnl_dim_t *dims,
                              dnnl_format_tag_t tag, void *ptr) {
    if (*n == cap) return NULL;
    dnnl_memory_t m = odnn_user_mem(e, nd, dims, tag, ptr);
    if (m) list[(*n)++] = m;
    return m;
}

static bool all_bound(const odnn_bind *bind, int nb) {
    for (int i = 0; i < nb; i++)
        if (!bind[i].ext) return false;
    return true;
}

void odnn_conv_fini(odnn_conv *c) {
    odnn_op_fini(&c->op);
    for (int i = 0; i < c->n_user; i++) dnnl_memory_destroy(c->user[i]);
    memset(c, 0, sizeof *c);
}

bool odnn_conv_init(odnn_conv *c, const odnn_env *e, const conv2d_desc *d, lb_pass pass, odnn_layout lay,
                    const odnn_conv_bufs *b, int threads) {
    memset(c, 0, sizeof *c);
    const halo_geom hg = halo_for_conv2d(d);
    c->pass = pass;
    c->halo = !halo_is_identity(&hg);
    c->pad = (odnn_halo_ctx){hg, threads, b->in, b->pad};
    c->fold = (odnn_halo_ctx){hg, threads, b->pad, b->gin};
    /* oneDNN sees the padded input: [n][cin][hp][wp], no padding of its own */
    dnnl_dim_t sdims[4] = {d->n, d->cin, hg.hp, hg.wp}, wdims[4] = {d->cout, d->cin, d->kh, d->kw},
               bdims[1] = {d->cout}, odims[4] = {d->n, d->cout, conv2d_oh(d), conv2d_ow(d)};
    dnnl_memory_t *u = c->user;
    int *nu = &c->n_user;
    const int cap = (int)(sizeof c->user / sizeof c->user[0]);
    odnn_bind bind[5];
    int nb = 0;
    if (pass == LB_PASS_FWD) {
        bind[nb++] = (odnn_bind){DNNL_ARG_SRC, user_mem(u, nu, cap, e, 4, sdims, dnnl_nhwc, c->halo ? b->pad : b->in), false, "src"};
        bind[nb++] = (odnn_bind){DNNL_ARG_WEIGHTS, user_mem(u, nu, cap, e, 4, wdims, dnnl_hwio, b->w), false, "wei"};
        if (d->bias) bind[nb++] = (odnn_bind){DNNL_ARG_BIAS, user_mem(u, nu, cap, e, 1, bdims, dnnl_x, b->bias), false, "bia"};
        bind[nb++] = (odnn_bind){DNNL_ARG_DST, user_mem(u, nu, cap, e, 4, odims, dnnl_nhwc, b->out), true, "dst"};
    } else if (pass == LB_PASS_BWD_DATA) {
        bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_DST, user_mem(u, nu, cap, e, 4, odims, dnnl_nhwc, b->gout), false, "diff_dst"};
        bind[nb++] = (odnn_bind){DNNL_ARG_WEIGHTS, user_mem(u, nu, cap, e, 4, wdims, dnnl_hwio, b->w), false, "wei"};
        bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_SRC, user_mem(u, nu, cap, e, 4, sdims, dnnl_nhwc, c->halo ? b->pad : b->gin), true, "diff_src"};
    } else {
        bind[nb++] = (odnn_bind){DNNL_ARG_SRC, user_mem(u, nu, cap, e, 4, sdims, dnnl_nhwc, c->halo ? b->pad : b->in), false, "src"};
        bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_DST, user_mem(u, nu, cap, e, 4, odims, dnnl_nhwc, b->gout), false, "diff_dst"};
        bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_WEIGHTS, user_mem(u, nu, cap, e, 4, wdims, dnnl_hwio, b->gw), true, "diff_wei"};
        if (d->bias) bind[nb++] = (odnn_bind){DNNL_ARG_DIFF_BIAS, user_mem(u, nu, cap, e, 1, bdims, dnnl_x, b->gb), true, "diff_bia"};
    }
    if (!all_bound(bind, nb)) {
        odnn_conv_fini(c);
        return false;
    }
    dnnl_primitive_desc_t pd = NULL, hint = NULL;
    if (pass == LB_PASS_FWD) pd = odnn_conv_fwd_pd(e, d, hg.hp, hg.wp, lay);
    else if (pass == LB_PASS_BWD_DATA) pd = odnn_conv_bwd_data_pd(e, d, hg.hp, hg.wp, lay, &hint);
    else pd = odnn_conv_bwd_weights_pd(e, d, hg.hp, hg.wp, lay, &hint);
    char what[32];
    snprintf(what, sizeof what, "conv %s", lb_pass_name(pass));
    if (!odnn_op_init(&c->op, e, pd, hint, what, bind, nb, NULL)) {   /* owns pd and hint */
        odnn_conv_fini(c);
        return false;
    }
    return true;
}

int odnn_conv_add_steps(odnn_conv *c, timing_seq *s) {
    int rc = 0;
    if (c->halo && c->pass != LB_PASS_BWD_DATA) rc |= timing_seq_add(s, "halo copy", STEP_HALO, bench_step_halo_pad, &c->pad);
    rc |= odnn_op_add_steps(&c->op, s);
    if (c->halo && c->pass == LB_PASS_BWD_DATA) rc |= timing_seq_add(s, "halo fold-back", STEP_HALO, bench_step_halo_fold, &c->fold);
    return rc;
}

void odnn_conv_run(odnn_conv *c) {
    if (c->halo && c->pass != LB_PASS_BWD_DATA) bench_step_halo_pad(&c->pad);
    odnn_op_run(&c->op);
    if (c->halo && c->pass == LB_PASS_BWD_DATA) bench_step_halo_fold(&c->fold);
}

void odnn_pool_fini(odnn_pool *p) {
    odnn_op_fini(&p->op);
    if (p->fwd_ok) odnn_op_fini(&p->fwd);
    for (int i = 0; i < p->n_user; i++) dnnl_memory_destroy(p->user[i]);
    memset(p, 0, sizeof *p);
}

bool odnn_pool_init(odnn_pool *p, const odnn_env *e, const pool_desc *d, lb_pass pass, odnn_layout lay, float *in,
                    float *out, float *gout, float *gin) {
    memset(p, 0, sizeof *p);
    const bool max = d->kind == POOL_MAX;
    dnnl_dim_t idims[4] = {d->n, d->c, d->h, d->w}, odims[4] = {d->n, d->c, pool_oh(d), pool_ow(d)};
    dnnl_memory_t *u = p->user;
    int *nu = &p->n_user;
    const int cap = (int)(sizeof p->user / sizeof p->user[0]);
    bool ok;
    if (pass == LB_PASS_FWD) {
        odnn_bind bind[3] = {{DNNL_ARG_SRC, user_mem(u, nu, cap, e, 4, idims, dnnl_nhwc, in), false, "src"},
                             {DNNL_ARG_DST, user_mem(u, nu, cap, e, 4, odims, dnnl_nhwc, out), true, "dst"},
                             {DNNL_ARG_WORKSPACE, NULL, true, "ws"}};
        ok = all_bound(bind, 2) && odnn_op_init(&p->op, e, odnn_pool_fwd_pd(e, d, lay), NULL, "pool fwd", bind, max ? 3 : 2, NULL);
    } else {
        dnnl_memory_t ws = NULL;
        if (max) {   /* the backward reads the forward's workspace: run the forward once */
            odnn_bind fb[3] = {{DNNL_ARG_SRC, user_mem(u, nu, cap, e, 4, idims, dnnl_nhwc, in), false, "src"},
                               {DNNL_ARG_DST, user_mem(u, nu, cap, e, 4, odims, dnnl_nhwc, out), true, "dst"},
                               {DNNL_ARG_WORKSPACE, NULL, true, "ws"}};
            p->fwd_ok = all_bound(fb, 2) && odnn_op_init(&p->fwd, e, odnn_pool_fwd_pd(e, d, lay), NULL, "pool fwd", fb, 3, NULL);
            if (!p->fwd_ok) {
                odnn_pool_fini(p);
                return false;
            }
            odnn_op_run(&p->fwd);
            ws = odnn_op_mem(&p->fwd, DNNL_ARG_WORKSPACE);
        }
        odnn_bind bind[3] = {{DNNL_ARG_DIFF_DST, user_mem(u, nu, cap, e, 4, odims, dnnl_nhwc, gout), false, "diff_dst"},
                             {DNNL_ARG_DIFF_SRC, user_mem(u, nu, cap, e, 4, idims, dnnl_nhwc, gin), true, "diff_src"},
                             {DNNL_ARG_WORKSPACE, ws, false, "ws"}};
        ok = all_bound(bind, max ? 3 : 2);
        dnnl_primitive_desc_t hint = NULL, pd = ok ? odnn_pool_bwd_pd(e, d, lay, &hint) : NULL;
        ok = ok && odnn_op_init(&p->op, e, pd, hint, "pool bwd", bind, max ? 3 : 2, NULL);
    }
    if (!ok) odnn_pool_fini(p);
    return ok;
}

/* Verifier for dense (fwd, bwd_data, bwd_weights + bias) and flatten (fwd, bwd).
 *
 * Dense inputs are integers in [-3, 3]: every partial sum is an integer below 2^24, so the scalar
 * reference, each variant and oneDNN must agree exactly (tolerance 0) whatever their summation
 * order.  Flatten is a permutation, checked exactly against the index formula.
 * Kernel arguments sit 4 bytes off 64-byte alignment (vf_buf_alloc); inputs end exactly at the
 * end of their allocation (ASan catches a read past them).  Outputs are prefilled with NaN (an
 * element a kernel forgets to write fails) and followed by VF_GUARD guard floats that must come
 * back untouched (a masked tail that stores too much fails even where ASan cannot see it).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify_ops.h"

void dense_desc_str(const dense_desc *d, char *buf, size_t len) {
    snprintf(buf, len, "mb%d_ic%doc%d_b%d", d->n, d->in, d->out, d->bias ? 1 : 0);
}

static void flatten_desc_str(const dense_flatten_desc *d, char *buf, size_t len) {
    snprintf(buf, len, "mb%d_c%d_ih%diw%d", d->n, d->c, d->h, d->w);
}

static float *alloc_out(size_t n) { return vf_buf_alloc(n, true); }
static float *alloc_in(size_t n) { return vf_buf_alloc(n, false); }

static bool guard_ok(const float *p, size_t n, const char *what, char *detail, size_t len) {
    const size_t k = vf_guard_breach(p, n);
    if (k == 0) return true;
    snprintf(detail, len, "%s: wrote %zu element(s) past its end (got %.9g there)", what, k, p[n + k - 1]);
    return false;
}

/* got[n] vs want[n] exactly, and got's guard intact. */
static bool same(const float *got, const float *want, size_t n, const char *what, char *detail, size_t len) {
    if (!guard_ok(got, n, what, detail, len)) return false;
    char sub[200];
    if (vf_compare(got, want, n, 0.0, 0.0, sub, sizeof sub)) return true;
    snprintf(detail, len, "%s: %s", what, sub);
    return false;
}

/* ---- oneDNN inner product (plain layouts: src nc, weights io = our [in][out], dst nc) ---- */
#if LB_HAVE_ONEDNN

typedef struct {
    dnnl_primitive_desc_t fpd, bdpd, bwpd;
    dnnl_primitive_t fwd, bwd_data, bwd_weights;
    dnnl_memory_t mem[9];
    int nmem;
} ip_ctx;

static void ip_free(ip_ctx *c) {
    for (int k = 0; k < c->nmem; k++) dnnl_memory_destroy(c->mem[k]);
    if (c->fwd) dnnl_primitive_destroy(c->fwd);
    if (c->bwd_data) dnnl_primitive_destroy(c->bwd_data);
    if (c->bwd_weights) dnnl_primitive_destroy(c->bwd_weights);
    if (c->fpd) dnnl_primitive_desc_destroy(c->fpd);
    if (c->bdpd) dnnl_primitive_desc_destroy(c->bdpd);
    if (c->bwpd) dnnl_primitive_desc_destroy(c->bwpd);
}

static bool ip_mem(vf_report *r, ip_ctx *c, const dnnl_memory_desc_t *md, const float *p, dnnl_memory_t *out) {
    VF_DNNL(dnnl_memory_create(out, md, r->engine, (void *)p));
    c->mem[c->nmem++] = *out;
    return true;
}

/* Runs all three passes on the verifier's inputs into y, gx, gw, gb (gb only with bias). */
static bool ip_run(vf_report *r, ip_ctx *c, const dense_desc *d, const float *x, const float *w, const float *b,
                   const float *gy, float *y, float *gx, float *gw, float *gb) {
    dnnl_memory_desc_t src, wei, bia, dst;
    dnnl_dims_t sd = {d->n, d->in}, wd = {d->out, d->in}, bd = {d->out}, dd = {d->n, d->out};
    VF_DNNL(dnnl_memory_desc_init_by_tag(&src, 2, sd, dnnl_f32, dnnl_nc));
    VF_DNNL(dnnl_memory_desc_init_by_tag(&wei, 2, wd, dnnl_f32, dnnl_io));
    VF_DNNL(dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_x));
    VF_DNNL(dnnl_memory_desc_init_by_tag(&dst, 2, dd, dnnl_f32, dnnl_nc));
    const dnnl_memory_desc_t *biap = d->bias ? &bia : NULL;

    dnnl_inner_product_desc_t fd, bdd, bwd;
    VF_DNNL(dnnl_inner_product_forward_desc_init(&fd, dnnl_forward_training, &src, &wei, biap, &dst));
    VF_DNNL(dnnl_primitive_desc_create(&c->fpd, &fd, NULL, r->engine, NULL));
    VF_DNNL(dnnl_inner_product_backward_data_desc_init(&bdd, &src, &wei, &dst));
    VF_DNNL(dnnl_primitive_desc_create(&c->bdpd, &bdd, NULL, r->engine, c->fpd));
    VF_DNNL(dnnl_inner_product_backward_weights_desc_init(&bwd, &src, &wei, biap, &dst));
    VF_DNNL(dnnl_primitive_desc_create(&c->bwpd, &bwd, NULL, r->engine, c->fpd));
    VF_DNNL(dnnl_primitive_create(&c->fwd, c->fpd));
    VF_DNNL(dnnl_primitive_create(&c->bwd_data, c->bdpd));
    VF_DNNL(dnnl_primitive_create(&c->bwd_weights, c->bwpd));

    dnnl_memory_t mx, mw, mb = NULL, my, mgy, mgx, mgw, mgb = NULL;
    if (!ip_mem(r, c, &src, x, &mx) || !ip_mem(r, c, &wei, w, &mw) || !ip_mem(r, c, &dst, y, &my) ||
        !ip_mem(r, c, &dst, gy, &mgy) || !ip_mem(r, c, &src, gx, &mgx) || !ip_mem(r, c, &wei, gw, &mgw))
        return false;
    if (d->bias && (!ip_mem(r, c, &bia, b, &mb) || !ip_mem(r, c, &bia, gb, &mgb))) return false;

    dnnl_exec_arg_t fa[] = {{DNNL_ARG_SRC, mx}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, my}, {DNNL_ARG_BIAS, mb}};
    VF_DNNL(dnnl_primitive_execute(c->fwd, r->stream, d->bias ? 4 : 3, fa));
    dnnl_exec_arg_t da[] = {{DNNL_ARG_DIFF_DST, mgy}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mgx}};
    VF_DNNL(dnnl_primitive_execute(c->bwd_data, r->stream, 3, da));
    dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, mx}, {DNNL_ARG_DIFF_DST, mgy}, {DNNL_ARG_DIFF_WEIGHTS, mgw},
                            {DNNL_ARG_DIFF_BIAS, mgb}};
    VF_DNNL(dnnl_primitive_execute(c->bwd_weights, r->stream, d->bias ? 4 : 3, wa));
    VF_DNNL(dnnl_stream_wait(r->stream));
    return true;
}
#endif

/* ---- dense ---- */

typedef struct {
    float *y, *gx, *gw, *gb;
} dense_out;

static void dense_out_alloc(dense_out *o, const dense_desc *d) {
    o->y = alloc_out((size_t)d->n * d->out);
    o->gx = alloc_out((size_t)d->n * d->in);
    o->gw = alloc_out((size_t)d->in * d->out);
    o->gb = alloc_out((size_t)d->out);
}

static void dense_out_free(dense_out *o) {
    vf_buf_free(o->y);
    vf_buf_free(o->gx);
    vf_buf_free(o->gw);
    vf_buf_free(o->gb);
}

/* Runs one pass of `v` into o (poisoned first).  gb is passed even without bias: it must then
 * come back untouched (the contract writes gb only when bias). */
static void dense_run(const dense_ops *v, lb_pass pass, const dense_desc *d, const float *x, const float *w,
                      const float *b, const float *gy, dense_out *o) {
    const size_t ny = (size_t)d->n * d->out, nx = (size_t)d->n * d->in, nw = (size_t)d->in * d->out;
    switch (pass) {
    case LB_PASS_FWD:
        vf_poison(o->y, ny);
        v->fwd(d, x, w, d->bias ? b : NULL, o->y);
        break;
    case LB_PASS_BWD_DATA:
        vf_poison(o->gx, nx);
        v->bwd_data(d, gy, w, o->gx);
        break;
    default:
        vf_poison(o->gw, nw);
        vf_poison(o->gb, d->bias ? (size_t)d->out : 0);
        v->bwd_weights(d, x, gy, o->gw, o->gb);
        break;
    }
}

static bool dense_same(lb_pass pass, const dense_desc *d, const dense_out *got, const dense_out *want, char *detail,
                       size_t len) {
    switch (pass) {
    case LB_PASS_FWD: return same(got->y, want->y, (size_t)d->n * d->out, "y", detail, len);
    case LB_PASS_BWD_DATA: return same(got->gx, want->gx, (size_t)d->n * d->in, "gx", detail, len);
    default:
        if (!same(got->gw, want->gw, (size_t)d->in * d->out, "gw", detail, len)) return false;
        if (d->bias) return same(got->gb, want->gb, (size_t)d->out, "gb", detail, len);
        return guard_ok(got->gb, 0, "gb (bias off: must stay untouched)", detail, len);
    }
}

/* verify_dense over an explicit variant list (tests inject broken variants through this). */
void verify_dense_variants(vf_report *r, const dense_desc *d, const dense_ops *vars, int nvars) {
    char prob[64], desc[160], detail[320];
    dense_desc_str(d, prob, sizeof prob);
    const size_t nx = (size_t)d->n * d->in, nw = (size_t)d->in * d->out, ny = (size_t)d->n * d->out;
    float *x = alloc_in(nx), *w = alloc_in(nw), *b = alloc_in((size_t)d->out), *gy = alloc_in(ny);
    vf_fill_int(x, nx, 0x1001 + (uint64_t)nx, -3, 3);
    vf_fill_int(w, nw, 0x2002 + (uint64_t)nw, -3, 3);
    vf_fill_int(b, (size_t)d->out, 0x3003, -3, 3);
    vf_fill_int(gy, ny, 0x4004 + (uint64_t)ny, -3, 3);

    static const dense_ops scalar = {"scalar", LB_ISA_SCALAR, dense_fwd__scalar, dense_bwd_data__scalar,
                                     dense_bwd_weights__scalar, dense_flatten_fwd__scalar, dense_flatten_bwd__scalar};
    dense_out ref, dn, got;
    dense_out_alloc(&ref, d);
    dense_out_alloc(&dn, d);
    dense_out_alloc(&got, d);
    for (lb_pass p = LB_PASS_FWD; p < LB_N_PASSES; p++) dense_run(&scalar, p, d, x, w, b, gy, &ref);

    /* oneDNN rejects zero-sized dimensions; those shapes are checked against scalar only */
    bool have_dn = r->onednn && d->n > 0 && d->in > 0 && d->out > 0, dn_ok = false;
#if LB_HAVE_ONEDNN
    if (have_dn) {
        ip_ctx c = {0};
        vf_poison(dn.gb, d->bias ? (size_t)d->out : 0);
        dn_ok = ip_run(r, &c, d, x, w, b, gy, dn.y, dn.gx, dn.gw, dn.gb);
        ip_free(&c);
    }
#endif

    for (int i = 0; i < nvars; i++) {
        const dense_ops *v = &vars[i];
        if (!vf_variant_runnable(r, "dense", v->name, v->isa)) continue;
        const bool is_ref = v->fwd == scalar.fwd && v->bwd_data == scalar.bwd_data && v->bwd_weights == scalar.bwd_weights;
        for (lb_pass p = LB_PASS_FWD; p < LB_N_PASSES; p++) {
            snprintf(desc, sizeof desc, "dense_%s/%s/%s", lb_pass_name(p), prob, v->name);
            const bool want_s = !is_ref && vf_wanted(r, desc);
            char desc_dn[180];
            snprintf(desc_dn, sizeof desc_dn, "%s@onednn", desc);
            const bool want_dn = have_dn && vf_wanted(r, desc_dn);
            if (!want_s && !want_dn) continue;
            dense_run(v, p, d, x, w, b, gy, &got);
            if (want_s) {
                bool ok = dense_same(p, d, &got, &ref, detail, sizeof detail);
                vf_record(r, desc, ok, detail);
            }
            if (want_dn) {
                bool ok = dn_ok && dense_same(p, d, &got, &dn, detail, sizeof detail);
                if (!dn_ok) snprintf(detail, sizeof detail, "oneDNN inner product failed (message above)");
                vf_record(r, desc_dn, ok, detail);
            }
        }
    }
    dense_out_free(&ref);
    dense_out_free(&dn);
    dense_out_free(&got);
    vf_buf_free(x);
    vf_buf_free(w);
    vf_buf_free(b);
    vf_buf_free(gy);
}

void verify_dense(vf_report *r, const dense_desc *d) {
    int n;
    const dense_ops *vars = lb_dense_variants(&n);
    verify_dense_variants(r, d, vars, n);
}

/* ---- flatten ---- */

void verify_flatten_variants(vf_report *r, const dense_flatten_desc *d, const dense_ops *vars, int nvars) {
    char prob[64], desc[160], detail[320];
    flatten_desc_str(d, prob, sizeof prob);
    const size_t H = (size_t)d->h, W = (size_t)d->w, C = (size_t)d->c, tot = (size_t)d->n * H * W * C;
    float *in = alloc_in(tot), *gout = alloc_in(tot), *want_f = vf_alloc(tot), *want_b = vf_alloc(tot);
    float *got = alloc_out(tot);
    /* distinct values, so any misplaced element shows */
    for (size_t k = 0; k < tot; k++) {
        in[k] = (float)(k + 1);
        gout[k] = -(float)(k + 1);
    }
    for (size_t n = 0; n < (size_t)d->n; n++)
        for (size_t h = 0; h < H; h++)
            for (size_t w = 0; w < W; w++)
                for (size_t c = 0; c < C; c++) {
                    const size_t nhwc = ((n * H + h) * W + w) * C + c, nchw = ((n * C + c) * H + h) * W + w;
                    want_f[nchw] = in[nhwc];
                    want_b[nhwc] = gout[nchw];
                }
    for (int i = 0; i < nvars; i++) {
        const dense_ops *v = &vars[i];
        if (!vf_variant_runnable(r, "dense", v->name, v->isa)) continue;
        snprintf(desc, sizeof desc, "flatten_fwd/%s/%s", prob, v->name);
        if (vf_wanted(r, desc)) {
            vf_poison(got, tot);
            v->flatten_fwd(d, in, got);
            vf_record(r, desc, same(got, want_f, tot, "out", detail, sizeof detail), detail);
        }
        snprintf(desc, sizeof desc, "flatten_bwd/%s/%s", prob, v->name);
        if (vf_wanted(r, desc)) {
            vf_poison(got, tot);
            v->flatten_bwd(d, gout, got);
            vf_record(r, desc, same(got, want_b, tot, "gin", detail, sizeof detail), detail);
        }
    }
    vf_buf_free(in);
    vf_buf_free(gout);
    free(want_f);
    free(want_b);
    vf_buf_free(got);
}

void verify_flatten(vf_report *r, const dense_flatten_desc *d) {
    int n;
    const dense_ops *vars = lb_dense_variants(&n);
    verify_flatten_variants(r, d, vars, n);
}

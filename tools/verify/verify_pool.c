/* Pooling verifier: every runnable variant vs the scalar reference, and every variant (the
 * reference included) vs oneDNN pooling (nhwc; max backward through the forward_training
 * workspace; avg against both avg_exclude_padding and avg_include_padding, which agree here
 * because there is no padding).
 * Inputs are integers in [-8, 8], so window sums are exact and max ties are frequent (ties test
 * the first-maximum rule).  Buffers sit 4 bytes off 64-byte alignment; outputs have a guard zone
 * and start as NaN so unwritten elements show. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify_ops.h"

void pool_desc_str(const pool_desc *d, char *buf, size_t len) {
    snprintf(buf, len, "%s_mb%d_c%d_ih%diw%d_k%ds%d", d->kind == POOL_MAX ? "max" : "avg", d->n, d->c, d->h, d->w, d->k,
             d->s);
}

/* ---- oneDNN ---- */
#if LB_HAVE_ONEDNN
typedef struct {
    dnnl_primitive_desc_t fpd, bpd;
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t src, dst, ws, dsrc, ddst;
} dnnl_pool_res;

static void res_free(dnnl_pool_res *z) {
    dnnl_memory_t *mems[] = {&z->src, &z->dst, &z->ws, &z->dsrc, &z->ddst};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
        if (*mems[i]) dnnl_memory_destroy(*mems[i]);
    if (z->fwd) dnnl_primitive_destroy(z->fwd);
    if (z->bwd) dnnl_primitive_destroy(z->bwd);
    if (z->fpd) dnnl_primitive_desc_destroy(z->fpd);
    if (z->bpd) dnnl_primitive_desc_destroy(z->bpd);
}

/* Forward (into out) and backward (into gin) with oneDNN; gin may be NULL to skip backward. */
static bool onednn_pool(vf_report *r, dnnl_pool_res *z, const pool_desc *d, dnnl_alg_kind_t alg, const float *in,
                        const float *gout, float *out, float *gin) {
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_dims_t sd = {d->n, d->c, d->h, d->w}, dd = {d->n, d->c, pool_oh(d), pool_ow(d)};
    dnnl_dims_t strides = {d->s, d->s}, kernel = {d->k, d->k}, dil = {0, 0}, pad = {0, 0};
    VF_DNNL(dnnl_memory_desc_init_by_tag(&src_md, 4, sd, dnnl_f32, dnnl_nhwc));
    VF_DNNL(dnnl_memory_desc_init_by_tag(&dst_md, 4, dd, dnnl_f32, dnnl_nhwc));
    dnnl_pooling_v2_desc_t fdesc, bdesc;
    VF_DNNL(dnnl_pooling_v2_forward_desc_init(&fdesc, dnnl_forward_training, alg, &src_md, &dst_md, strides, kernel, dil,
                                              pad, pad));
    VF_DNNL(dnnl_primitive_desc_create(&z->fpd, &fdesc, NULL, r->engine, NULL));
    VF_DNNL(dnnl_primitive_create(&z->fwd, z->fpd));
    VF_DNNL(dnnl_memory_create(&z->src, &src_md, r->engine, (void *)in));
    VF_DNNL(dnnl_memory_create(&z->dst, &dst_md, r->engine, out));
    const dnnl_memory_desc_t *ws_md = dnnl_primitive_desc_query_md(z->fpd, dnnl_query_workspace_md, 0);
    bool has_ws = ws_md && dnnl_memory_desc_get_size(ws_md) > 0;
    if (has_ws) VF_DNNL(dnnl_memory_create(&z->ws, ws_md, r->engine, DNNL_MEMORY_ALLOCATE));
    dnnl_exec_arg_t fargs[3] = {{DNNL_ARG_SRC, z->src}, {DNNL_ARG_DST, z->dst}, {DNNL_ARG_WORKSPACE, z->ws}};
    VF_DNNL(dnnl_primitive_execute(z->fwd, r->stream, has_ws ? 3 : 2, fargs));
    VF_DNNL(dnnl_stream_wait(r->stream));
    if (!gin) return true;
    VF_DNNL(dnnl_pooling_v2_backward_desc_init(&bdesc, alg, &src_md, &dst_md, strides, kernel, dil, pad, pad));
    VF_DNNL(dnnl_primitive_desc_create(&z->bpd, &bdesc, NULL, r->engine, z->fpd));
    VF_DNNL(dnnl_primitive_create(&z->bwd, z->bpd));
    VF_DNNL(dnnl_memory_create(&z->ddst, &dst_md, r->engine, (void *)gout));
    VF_DNNL(dnnl_memory_create(&z->dsrc, &src_md, r->engine, gin));
    dnnl_exec_arg_t bargs[3] = {{DNNL_ARG_DIFF_DST, z->ddst}, {DNNL_ARG_DIFF_SRC, z->dsrc}, {DNNL_ARG_WORKSPACE, z->ws}};
    VF_DNNL(dnnl_primitive_execute(z->bwd, r->stream, has_ws ? 3 : 2, bargs));
    VF_DNNL(dnnl_stream_wait(r->stream));
    return true;
}

static bool run_onednn(vf_report *r, const pool_desc *d, dnnl_alg_kind_t alg, const float *in, const float *gout,
                       float *out, float *gin) {
    dnnl_pool_res z;
    memset(&z, 0, sizeof z);
    bool ok = onednn_pool(r, &z, d, alg, in, gout, out, gin);
    res_free(&z);
    return ok;
}
#endif

/* The buffers and results of one problem: inputs, the scalar reference's results, the variant's,
 * and oneDNN's (avg: exclude- and include-padding; NULL when not wanted). */
typedef struct {
    const pool_desc *d;
    char prob[96];
    size_t ni, no;
    bool avg, want_dn, dn_ok;
    double rtol, atol;
    float *in, *gout, *ref_out, *ref_gin, *out, *gin;
    float *dn_out, *dn_gin, *dn_out2, *dn_gin2;
} pool_case;

/* oneDNN's results, computed only when some @onednn check of the problem is selected. */
static void onednn_results(vf_report *r, const pool_ops *vs, int nv, pool_case *c) {
    char desc[192];
    if (r->onednn)
        for (int i = 0; i < nv; i++) {
            snprintf(desc, sizeof desc, "pool_fwd/%s/%s@onednn", c->prob, vs[i].name);
            c->want_dn |= vf_wanted(r, desc);
            snprintf(desc, sizeof desc, "pool_bwd/%s/%s@onednn", c->prob, vs[i].name);
            c->want_dn |= vf_wanted(r, desc);
        }
#if LB_HAVE_ONEDNN
    if (c->want_dn) {
        const pool_desc *d = c->d;
        c->dn_out = vf_alloc(c->no);
        c->dn_gin = vf_alloc(c->ni);
        if (c->avg) {
            c->dn_out2 = vf_alloc(c->no);
            c->dn_gin2 = vf_alloc(c->ni);
            c->dn_ok = run_onednn(r, d, dnnl_pooling_avg_exclude_padding, c->in, c->gout, c->dn_out, c->dn_gin) &&
                       run_onednn(r, d, dnnl_pooling_avg_include_padding, c->in, c->gout, c->dn_out2, c->dn_gin2);
        } else {
            c->dn_ok = run_onednn(r, d, dnnl_pooling_max, c->in, c->gout, c->dn_out, c->dn_gin);
        }
    }
#endif
}

/* Variant v, forward and backward, against the reference and oneDNN. */
static void check_variant(vf_report *r, const pool_ops *v, pool_case *c) {
    const pool_desc *d = c->d;
    const bool is_ref = v->isa == LB_ISA_SCALAR;
    for (int pass = 0; pass < 2; pass++) {
        const char *pname = pass ? "pool_bwd" : "pool_fwd";
        float *got = pass ? c->gin : c->out;
        const float *ref = pass ? c->ref_gin : c->ref_out;
        const size_t len = pass ? c->ni : c->no;
        char d_ref[192], d_dn[192];
        snprintf(d_ref, sizeof d_ref, "%s/%s/%s", pname, c->prob, v->name);
        snprintf(d_dn, sizeof d_dn, "%s/%s/%s@onednn", pname, c->prob, v->name);
        bool w_ref = !is_ref && vf_wanted(r, d_ref), w_dn = c->want_dn && vf_wanted(r, d_dn);
        if (!w_ref && !w_dn) continue;
        vf_poison(got, len);
        if (pass) v->bwd(d, c->avg ? NULL : c->in, c->gout, c->gin);
        else v->fwd(d, c->in, c->out);
        if (w_ref) vf_check(r, d_ref, got, ref, len, c->rtol, c->atol);
        if (w_dn) {
            if (!c->dn_ok) {
                vf_record(r, d_dn, false, "oneDNN pooling failed (see stderr)");
                continue;
            }
            const float *dn = pass ? c->dn_gin : c->dn_out, *dn2 = pass ? c->dn_gin2 : c->dn_out2;
            char detail[256] = "";
            bool ok = vf_compare(got, dn, len, c->rtol * 10, c->atol, detail, sizeof detail);
            if (ok && dn2) ok = vf_compare(got, dn2, len, c->rtol * 10, c->atol, detail, sizeof detail);
            vf_record(r, d_dn, ok, detail);
        }
    }
}

void verify_pool(vf_report *r, const pool_desc *d) {
    pool_case c = {.d = d, .ni = pool_in_size(d), .no = pool_out_size(d), .avg = d->kind == POOL_AVG};
    pool_desc_str(d, c.prob, sizeof c.prob);
    /* avg: exact window sums times 1/k^2 computed the same way everywhere, but allow for a
     * divide-instead-of-multiply (oneDNN) and, in backward, for overlapping windows adding
     * differently rounded contributions. */
    c.rtol = c.avg ? 1e-6 : 0, c.atol = c.avg ? 1e-6 : 0;
    const uint64_t seed = 0x9001 + (uint64_t)d->n * 131 + (uint64_t)d->c * 17 + (uint64_t)d->h * 7 + (uint64_t)d->w;

    c.in = vf_buf_alloc(c.ni, false), c.gout = vf_buf_alloc(c.no, false);
    c.ref_out = vf_buf_alloc(c.no, true), c.ref_gin = vf_buf_alloc(c.ni, true);
    c.out = vf_buf_alloc(c.no, true), c.gin = vf_buf_alloc(c.ni, true);
    vf_fill_int(c.in, c.ni, seed, -8, 8);
    vf_fill_int(c.gout, c.no, seed ^ 0x5555, -8, 8);
    pool_fwd__scalar(d, c.in, c.ref_out);
    pool_bwd__scalar(d, c.avg ? NULL : c.in, c.gout, c.ref_gin);

    int nv;
    const pool_ops *vs = lb_pool_variants(&nv);
    onednn_results(r, vs, nv, &c);
    for (int i = 0; i < nv; i++)
        if (vf_variant_runnable(r, "pool", vs[i].name, vs[i].isa)) check_variant(r, &vs[i], &c);
    vf_buf_free(c.in); vf_buf_free(c.gout);
    vf_buf_free(c.ref_out); vf_buf_free(c.ref_gin); vf_buf_free(c.out); vf_buf_free(c.gin);
    free(c.dn_out); free(c.dn_gin); free(c.dn_out2); free(c.dn_gin2);
}

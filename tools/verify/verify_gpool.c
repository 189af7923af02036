/* Global pooling verifier: every runnable variant vs the scalar reference (fwd, bwd), every
 * variant (the reference included) vs oneDNN reduction (fwd: sum, mean, max over the site axis)
 * and vs an independent closed form of the backward (avg: g/hw everywhere; sum: g everywhere;
 * max: g at the first site holding the maximum, 0 elsewhere).
 * Inputs are integers in [-8, 8]: sums are exact (|sum| <= 8 hw < 2^24), ties for the maximum are
 * frequent.  Buffers sit 4 bytes off alignment; outputs have a guard zone and start as NaN.
 * oneDNN rejects a reduction over one site (hw == 1): there the oneDNN check is left out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify_ops.h"

static const char *kind_name(gpool_kind k) { return k == GPOOL_MAX ? "max" : k == GPOOL_SUM ? "sum" : "avg"; }

void gpool_desc_str(const gpool_desc *d, char *buf, size_t len) {
    snprintf(buf, len, "%s_mb%d_c%d_hw%d", kind_name(d->kind), d->n, d->c, d->hw);
}

/* Backward written without reference to the kernels: what the derivative of each kind is. */
static void closed_form_bwd(const gpool_desc *d, const float *in, const float *gout, float *gin) {
    const size_t hw = (size_t)d->hw, C = (size_t)d->c;
    for (size_t n = 0; n < (size_t)d->n; n++)
        for (size_t c = 0; c < C; c++) {
            const float *x = in + n * hw * C + c;
            float *g = gin + n * hw * C + c;
            /* a float max: gcc 12's AArch64 vectorizer crashes (ICE) on a double fmax reduction of floats */
            float m = -INFINITY;
            for (size_t p = 0; p < hw; p++) m = fmaxf(m, x[p * C]);
            bool placed = false;
            for (size_t p = 0; p < hw; p++) {
                double v = gout[n * C + c];
                if (d->kind == GPOOL_AVG) v = (float)(v / (double)hw);
                if (d->kind == GPOOL_MAX) {
                    bool first = !placed && x[p * C] == m;
                    placed |= first;
                    v = first ? v : 0.0;
                }
                g[p * C] = (float)v;
            }
        }
}

#if LB_HAVE_ONEDNN
typedef struct {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst;
} dnnl_red_res;

static bool onednn_reduce(vf_report *r, dnnl_red_res *z, const gpool_desc *d, const float *in, float *out) {
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_dims_t sd = {d->n, d->hw, d->c}, dd = {d->n, 1, d->c};
    VF_DNNL(dnnl_memory_desc_init_by_tag(&src_md, 3, sd, dnnl_f32, dnnl_abc));
    VF_DNNL(dnnl_memory_desc_init_by_tag(&dst_md, 3, dd, dnnl_f32, dnnl_abc));
    dnnl_alg_kind_t alg = d->kind == GPOOL_MAX ? dnnl_reduction_max : d->kind == GPOOL_SUM ? dnnl_reduction_sum : dnnl_reduction_mean;
    dnnl_reduction_desc_t rd;
    VF_DNNL(dnnl_reduction_desc_init(&rd, alg, &src_md, &dst_md, 0.0f, 0.0f));
    VF_DNNL(dnnl_primitive_desc_create(&z->pd, &rd, NULL, r->engine, NULL));
    VF_DNNL(dnnl_primitive_create(&z->prim, z->pd));
    VF_DNNL(dnnl_memory_create(&z->src, &src_md, r->engine, (void *)in));
    VF_DNNL(dnnl_memory_create(&z->dst, &dst_md, r->engine, out));
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, z->src}, {DNNL_ARG_DST, z->dst}};
    VF_DNNL(dnnl_primitive_execute(z->prim, r->stream, 2, args));
    VF_DNNL(dnnl_stream_wait(r->stream));
    return true;
}

static bool run_onednn(vf_report *r, const gpool_desc *d, const float *in, float *out) {
    dnnl_red_res z;
    memset(&z, 0, sizeof z);
    bool ok = onednn_reduce(r, &z, d, in, out);
    if (z.src) dnnl_memory_destroy(z.src);
    if (z.dst) dnnl_memory_destroy(z.dst);
    if (z.prim) dnnl_primitive_destroy(z.prim);
    if (z.pd) dnnl_primitive_desc_destroy(z.pd);
    return ok;
}
#else
static bool run_onednn(vf_report *r, const gpool_desc *d, const float *in, float *out) {
    return false; /* unreachable: r->onednn is false without oneDNN */
}
#endif

void verify_gpool(vf_report *r, const gpool_desc *d) {
    char prob[96];
    gpool_desc_str(d, prob, sizeof prob);
    const size_t ni = (size_t)d->n * d->hw * d->c, no = (size_t)d->n * d->c;
    const bool max = d->kind == GPOOL_MAX;
    /* sum and max are exact on integer data; avg allows a different division (oneDNN) */
    const double rtol = d->kind == GPOOL_AVG ? 1e-6 : 0;
    const uint64_t seed = 0x6001 + (uint64_t)d->n * 131 + (uint64_t)d->c * 17 + (uint64_t)d->hw;

    float *in = vf_buf_alloc(ni, false), *gout = vf_buf_alloc(no, false);
    float *ref_out = vf_buf_alloc(no, true), *ref_gin = vf_buf_alloc(ni, true);
    float *out = vf_buf_alloc(no, true), *gin = vf_buf_alloc(ni, true);
    float *closed = vf_alloc(ni), *dn_out = NULL;
    vf_fill_int(in, ni, seed, -8, 8);
    vf_fill_int(gout, no, seed ^ 0x5555, -8, 8);
    gpool_fwd__scalar(d, in, ref_out);
    gpool_bwd__scalar(d, max ? in : NULL, gout, ref_gin);
    closed_form_bwd(d, in, gout, closed);

    int nv;
    const gpool_ops *vs = lb_gpool_variants(&nv);
    char desc[192];
    /* oneDNN rejects a reduction that reduces nothing (hw == 1): no oneDNN check there */
    bool want_dn = false;
    if (r->onednn && d->hw > 1)
        for (int i = 0; i < nv; i++) {
            snprintf(desc, sizeof desc, "gpool_fwd/%s/%s@onednn", prob, vs[i].name);
            want_dn |= vf_wanted(r, desc);
        }
    bool dn_ok = false;
    if (want_dn) {
        dn_out = vf_alloc(no);
        dn_ok = run_onednn(r, d, in, dn_out);
    }

    for (int i = 0; i < nv; i++) {
        const gpool_ops *v = &vs[i];
        if (!vf_variant_runnable(r, "gpool", v->name, v->isa)) continue;
        const bool is_ref = v->isa == LB_ISA_SCALAR;
        char d_ref[192], d_x[192];
        /* forward: vs reference, vs oneDNN */
        snprintf(d_ref, sizeof d_ref, "gpool_fwd/%s/%s", prob, v->name);
        snprintf(d_x, sizeof d_x, "gpool_fwd/%s/%s@onednn", prob, v->name);
        bool w_ref = !is_ref && vf_wanted(r, d_ref), w_x = want_dn && vf_wanted(r, d_x);
        if (w_ref || w_x) {
            vf_poison(out, no);
            v->fwd(d, in, out);
            if (w_ref) vf_check(r, d_ref, out, ref_out, no, rtol, 0);
            if (w_x) {
                if (dn_ok) vf_check(r, d_x, out, dn_out, no, rtol, 0);
                else vf_record(r, d_x, false, "oneDNN reduction failed (see stderr)");
            }
        }
        /* backward: vs reference, vs the closed form */
        snprintf(d_ref, sizeof d_ref, "gpool_bwd/%s/%s", prob, v->name);
        snprintf(d_x, sizeof d_x, "gpool_bwd/%s/%s@closed_form", prob, v->name);
        w_ref = !is_ref && vf_wanted(r, d_ref);
        w_x = vf_wanted(r, d_x);
        if (w_ref || w_x) {
            vf_poison(gin, ni);
            v->bwd(d, max ? in : NULL, gout, gin);
            if (w_ref) vf_check(r, d_ref, gin, ref_gin, ni, rtol, 0);
            if (w_x) vf_check(r, d_x, gin, closed, ni, rtol, 0);
        }
    }
    vf_buf_free(in); vf_buf_free(gout);
    vf_buf_free(ref_out); vf_buf_free(ref_gin); vf_buf_free(out); vf_buf_free(gin);
    free(closed); free(dn_out);
}

/* conv2d verifier: forward, backward-data and backward-weights (+bias) of every runnable variant
 * against the scalar reference and, when r->onednn, every variant (the reference included)
 * against oneDNN.
 *
 * oneDNN has no circular padding, so the periodic convolution runs on an explicitly padded input
 * (tools/baseline/halo.h), through the same binding the benchmarks time (odnn_conv in
 * tools/baseline/onednn_ops.h): plain nhwc / hwio, run once.
 *
 * Inputs are integer-valued in [-2, 2] (or [-1, 1] for very long sums), so every partial sum is
 * an integer below 2^24 and all results are exact whatever the summation order: the comparison
 * is exact (atol 0).  Only a problem whose worst-case sum could exceed 2^24 gets a tolerance.
 * Outputs are poisoned with NaN before each call (an element a kernel fails to write shows up)
 * and followed by a guard region (a kernel writing past the end shows up); inputs end exactly at
 * the end of their allocation (ASan catches a read past them); every pointer handed to a kernel
 * is misaligned by 4 bytes, since the contract requires no alignment (vf_buf_alloc).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "arch/conv2d_problem.h"
#include "arch/profile.h"
#include "tools/baseline/onednn_ops.h"
#include "tools/verify/verify_ops.h"

void conv2d_desc_str(const conv2d_desc *d, char *buf, size_t len) {
    lb_conv2d_problem_str(d, buf, len);   /* one grammar with tools/problems and the profile */
}

/* One check: the main result and, for bwd_weights with bias, gb (one descriptor for both). */
static void check(vf_report *r, const char *desc, const float *got, const float *want, size_t n, const float *got_b,
                  const float *want_b, size_t nb, double atol) {
    char detail[256] = "", db[224];
    bool ok = vf_compare(got, want, n, 0.0, atol, detail, sizeof detail);
    if (ok && !vf_guard_intact(got, n)) {
        ok = false;
        snprintf(detail, sizeof detail, "wrote past the end of the output (%zu elements)", n);
    }
    if (ok && nb) {
        ok = vf_compare(got_b, want_b, nb, 0.0, atol, db, sizeof db);
        if (!ok) snprintf(detail, sizeof detail, "bias gradient: %s", db);
        if (ok && !vf_guard_intact(got_b, nb)) {
            ok = false;
            snprintf(detail, sizeof detail, "wrote past the end of the bias gradient (%zu elements)", nb);
        }
    }
    vf_record(r, desc, ok, detail);
}

/* ---- oneDNN through an explicit halo (the baseline bench times: onednn_ops.h) ---- */
#if LB_HAVE_ONEDNN
/* The oneDNN result of one pass into want / want_b (unpadded, our layouts), in plain nhwc / hwio
 * with the direct algorithm. */
static bool onednn_result(vf_report *r, const conv2d_desc *d, lb_pass pass, const float *in, const float *w,
                          const float *bias, const float *gout, float *want, float *want_b) {
    const odnn_env env = {r->engine, r->stream};
    /* oneDNN may prefer aligned operands; its copies of ours are 64-byte aligned. */
    float *ia = vf_alloc(conv2d_in_size(d)), *wa = vf_alloc(conv2d_w_size(d)), *ba = vf_alloc((size_t)d->cout);
    const halo_geom hg = halo_for_conv2d(d);
    float *ga = vf_alloc(conv2d_out_size(d)), *pad = vf_alloc(halo_padded_size(&hg));
    memcpy(ia, in, conv2d_in_size(d) * sizeof(float));
    memcpy(wa, w, conv2d_w_size(d) * sizeof(float));
    memcpy(ba, bias, (size_t)d->cout * sizeof(float));
    memcpy(ga, gout, conv2d_out_size(d) * sizeof(float));
    const odnn_conv_bufs b = {ia, wa, ba, want, ga, want, want, want_b, pad};
    odnn_conv c;
    bool ok = odnn_conv_init(&c, &env, d, pass, ODNN_PLAIN, &b, 1);
    if (ok) {
        odnn_conv_run(&c);
        odnn_conv_fini(&c);
    }
    free(ia);
    free(wa);
    free(ba);
    free(ga);
    free(pad);
    return ok;
}
#else
static bool onednn_result(vf_report *r, const conv2d_desc *d, lb_pass pass, const float *in, const float *w,
                          const float *bias, const float *gout, float *want, float *want_b) {
    return false; /* unreachable: r->onednn is false without oneDNN */
}
#endif

/* ---- the verifier ---- */
typedef struct {
    const conv2d_desc *d;
    const float *in, *w, *wt, *bias, *gout;
    size_t nres, nres_b;  /* result sizes of the pass (nres_b: gb, bwd_weights with bias) */
    const float *bias_buf; /* the bias values even when d->bias is 0 (the oneDNN binding reads them) */
    double atol;
} problem;

static void run_variant(const conv2d_ops *v, lb_pass pass, const problem *p, float *res, float *res_b) {
    vf_poison(res, p->nres);
    if (res_b) vf_poison(res_b, p->nres_b);
    switch (pass) {
    case LB_PASS_FWD: v->fwd(p->d, p->in, p->w, p->bias, res); break;
    case LB_PASS_BWD_DATA: v->bwd_data(p->d, p->gout, p->wt, res); break;
    default: v->bwd_weights(p->d, p->in, p->gout, res, res_b); break;
    }
}

bool vf_conv2d_param_acts(const char *name, lb_pass pass) {
    if (!strncmp(name, "fwd_", 4)) return pass != LB_PASS_BWD_WEIGHTS;
    if (!strncmp(name, "bww_", 4)) return pass == LB_PASS_BWD_WEIGHTS;
    return true;
}

/* Variant v (not the reference) at each value of each of its parameters that acts on the pass,
 * one at a time from the problem's own, against the reference result want (the same tolerance:
 * a parameter changes at most the summation order).  Descriptor: <variant>.<param>.<value>. */
static void verify_params(vf_report *r, const char *dref, const conv2d_ops *v, lb_pass pass, const problem *p,
                          float *got, float *got_b, const float *want, const float *want_b) {
    for (int i = 0; i < v->nparams; i++) {
        if (!vf_conv2d_param_acts(v->params[i].name, pass)) continue;
        int vals[24];
        const int nv = vf_param_values(&v->params[i], vals, 24);
        for (int k = 0; k < nv; k++) {
            char desc[240];
            snprintf(desc, sizeof desc, "%s.%s.%d", dref, v->params[i].name, vals[k]);
            if (!vf_wanted(r, desc)) continue;
            conv2d_desc d = *p->d;
            d.params.v[i] = vals[k];
            problem q = *p;
            q.d = &d;
            run_variant(v, pass, &q, got, got_b);
            check(r, desc, got, want, p->nres, got_b, want_b, p->nres_b, p->atol);
            r->param_checks++;
        }
    }
}

/* Whether entry k of p is the first with its (op, pass, variant, params): each set is checked once. */
static bool first_set(const lb_profile *p, int k) {
    const lb_profile_entry *e = &p->entries[k];
    for (int i = 0; i < k; i++) {
        const lb_profile_entry *x = &p->entries[i];
        if (!strcmp(x->op, e->op) && x->pass == e->pass && !strcmp(x->variant, e->variant) &&
            !memcmp(&x->params, &e->params, sizeof e->params))
            return false;
    }
    return true;
}

/* Variant v at every parameter set the active tuning profile gives it for this pass (all its
 * parameters at once, as dispatch runs them), against the reference result want.  Descriptor:
 * <variant>.{name=value,...}. */
static void verify_profile_sets(vf_report *r, const char *dref, const conv2d_ops *v, lb_pass pass, const problem *p,
                                float *got, float *got_b, const float *want, const float *want_b) {
    const lb_profile *prof = lb_profile_active();
    for (int k = 0; prof && k < prof->n; k++) {
        const lb_profile_entry *e = &prof->entries[k];
        static const lb_params none;
        if (strcmp(e->op, "conv2d") || e->pass != pass || strcmp(e->variant, v->name) ||
            !memcmp(&e->params, &none, sizeof none) || !first_set(prof, k))
            continue;
        char desc[400];
        size_t at = (size_t)snprintf(desc, sizeof desc, "%s.{", dref);
        for (int i = 0; i < v->nparams && at < sizeof desc; i++)
            if (e->params.v[i])
                at += (size_t)snprintf(desc + at, sizeof desc - at, "%s%s=%d", desc[at - 1] == '{' ? "" : ",",
                                       v->params[i].name, e->params.v[i]);
        if (at < sizeof desc) snprintf(desc + at, sizeof desc - at, "}");
        if (!vf_wanted(r, desc)) continue;
        conv2d_desc d = *p->d;
        d.params = e->params;
        problem q = *p;
        q.d = &d;
        run_variant(v, pass, &q, got, got_b);
        check(r, desc, got, want, p->nres, got_b, want_b, p->nres_b, p->atol);
        r->profile_checks++;
    }
}

/* One pass of problem p: every wanted variant against the scalar reference ref and oneDNN (each
 * computed once, on first need), and a variant with parameters at their values. */
static void verify_pass(vf_report *r, const char *prob, const conv2d_ops *vars, int nvar, const conv2d_ops *ref,
                        lb_pass pass, const problem *p) {
    float *got = vf_buf_alloc(p->nres, true), *got_b = p->nres_b ? vf_buf_alloc(p->nres_b, true) : NULL;
    float *want = NULL, *want_b = NULL, *dnn = NULL, *dnn_b = NULL;
    bool dnn_tried = false, dnn_ok = false;
    for (int i = 0; i < nvar; i++) {
        const conv2d_ops *v = &vars[i];
        char dref[192], ddnn[200];
        snprintf(dref, sizeof dref, "conv2d_%s/%s/%s", lb_pass_name(pass), prob, v->name);
        snprintf(ddnn, sizeof ddnn, "%s@onednn", dref);
        const bool want_ref = v != ref && vf_wanted(r, dref);
        const bool want_dnn = r->onednn && vf_wanted(r, ddnn);
        /* the filter may name one parameter value: "<dref>.<param>.<value>" */
        const bool want_prm = v != ref && v->nparams && (!r->filter || strstr(r->filter, dref) || strstr(dref, r->filter));
        if (!want_ref && !want_dnn && !want_prm) continue;
        if (!vf_variant_runnable(r, "conv2d", v->name, v->isa)) continue;
        if ((want_ref || want_prm) && !want) {
            want = vf_buf_alloc(p->nres, true);
            want_b = p->nres_b ? vf_buf_alloc(p->nres_b, true) : NULL;
            run_variant(ref, pass, p, want, want_b);
        }
        if (want_prm) verify_params(r, dref, v, pass, p, got, got_b, want, want_b);
        if (want_prm) verify_profile_sets(r, dref, v, pass, p, got, got_b, want, want_b);
        if (!want_ref && !want_dnn) continue;

        run_variant(v, pass, p, got, got_b);

        if (want_ref) check(r, dref, got, want, p->nres, got_b, want_b, p->nres_b, p->atol);
        if (want_dnn) {
            if (!dnn_tried) {
                dnn_tried = true;
                dnn = vf_alloc(p->nres);
                dnn_b = p->nres_b ? vf_alloc(p->nres_b) : NULL;
                dnn_ok = onednn_result(r, p->d, pass, p->in, p->w, p->bias_buf, p->gout, dnn, dnn_b);
            }
            if (!dnn_ok) {
                vf_record(r, ddnn, false, "oneDNN could not run this problem (see the oneDNN message above)");
                continue;
            }
            check(r, ddnn, got, dnn, p->nres, got_b, dnn_b, p->nres_b, p->atol);
        }
    }
    vf_buf_free(got);
    vf_buf_free(got_b);
    vf_buf_free(want);
    vf_buf_free(want_b);
    free(dnn);
    free(dnn_b);
}

void verify_conv2d(vf_report *r, const conv2d_desc *d) {
    char prob[96];
    conv2d_desc_str(d, prob, sizeof prob);
    int nvar = 0;
    const conv2d_ops *vars = lb_conv2d_variants(&nvar);
    const conv2d_ops *ref = NULL;
    for (int i = 0; i < nvar; i++)
        if (vars[i].isa == LB_ISA_SCALAR) ref = &vars[i];
    if (!ref) {
        vf_record(r, "conv2d/no-scalar-reference", false, "no scalar conv2d variant is registered");
        return;
    }

    /* Longest sum in any pass (terms per output element), and the data range that keeps it exact. */
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), taps = d->kh * d->kw;
    double terms = fmax(fmax((double)d->cin * taps + 1, (double)d->cout * taps), (double)d->n * oh * ow);
    const int amp = terms * 4 <= 0x1p24 ? 2 : 1;
    const double bound = terms * amp * amp;
    const double atol = bound <= 0x1p24 ? 0.0 : bound * 0x1p-22;

    const size_t nin = conv2d_in_size(d), nout = conv2d_out_size(d), nw = conv2d_w_size(d), nb = (size_t)d->cout;
    /* inputs end at the end of their allocation (ASan catches a read past them) */
    float *in = vf_buf_alloc(nin, false), *w = vf_buf_alloc(nw, false), *wt = vf_buf_alloc(nw, false);
    float *bias = vf_buf_alloc(nb, false), *gout = vf_buf_alloc(nout, false);
    vf_fill_int(in, nin, 0xc0217a11 ^ (uint64_t)nin, -amp, amp);
    vf_fill_int(w, nw, 0xc0217a12 ^ (uint64_t)nw, -amp, amp);
    vf_fill_int(bias, nb, 0xc0217a13, -amp, amp);
    vf_fill_int(gout, nout, 0xc0217a14 ^ (uint64_t)nout, -amp, amp);
    conv2d_weights_transpose(d, w, wt);

    for (lb_pass pass = LB_PASS_FWD; pass < LB_N_PASSES; pass++) {
        problem p = {d, in, w, wt, d->bias ? bias : NULL, gout, 0, 0, bias, atol};
        p.nres = pass == LB_PASS_FWD ? nout : pass == LB_PASS_BWD_DATA ? nin : nw;
        p.nres_b = pass == LB_PASS_BWD_WEIGHTS && d->bias ? nb : 0;
        verify_pass(r, prob, vars, nvar, ref, pass, &p);
    }
    vf_buf_free(in);
    vf_buf_free(w);
    vf_buf_free(wt);
    vf_buf_free(bias);
    vf_buf_free(gout);
}

/* conv2d verifier: forward, backward-data and backward-weights (+bias) of every runnable variant
 * against the scalar reference and, when r->onednn, every variant (the reference included)
 * against oneDNN.
 *
 * oneDNN has no circular padding, so the periodic convolution is expressed through an explicit
 * halo: the input is copied into a padded NHWC buffer, rows -off(kh) above and kh-1+off(kh)
 * below (likewise for columns), filled by wrapping, and oneDNN runs a 'valid' convolution with
 * the same strides.  Backward-data runs oneDNN's backward-data into the padded buffer and folds
 * the halo gradient back (adds it, with wrap) into the unpadded gin; backward-weights runs on the
 * padded input.
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
#include "harness/verify/verify_ops.h"

void conv2d_desc_str(const conv2d_desc *d, char *buf, size_t len) {
    snprintf(buf, len, "mb%d_ic%doc%d_ih%diw%d_kh%dkw%d_sh%dsw%d_b%d", d->n, d->cin, d->cout, d->h, d->w, d->kh, d->kw,
             d->sh, d->sw, d->bias);
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

/* ---- oneDNN through an explicit halo ---- */
#if LB_HAVE_ONEDNN
static inline int wrap_mod(int i, int n) { return ((i % n) + n) % n; }

typedef struct {
    int hp, wp;          /* padded input size */
    int offh, offw;      /* padded (pt, px) is input (pt + offh, px + offw), wrapped */
} halo;

static halo halo_of(const conv2d_desc *d) {
    halo g;
    g.hp = (conv2d_oh(d) - 1) * d->sh + d->kh;
    g.wp = (conv2d_ow(d) - 1) * d->sw + d->kw;
    g.offh = conv2d_off(d->kh);
    g.offw = conv2d_off(d->kw);
    return g;
}

static void halo_fill(const conv2d_desc *d, const halo *g, const float *in, float *pad) {
    const size_t c = (size_t)d->cin;
    for (int n = 0; n < d->n; n++)
        for (int pt = 0; pt < g->hp; pt++)
            for (int px = 0; px < g->wp; px++) {
                const int t = wrap_mod(pt + g->offh, d->h), x = wrap_mod(px + g->offw, d->w);
                memcpy(pad + (((size_t)n * g->hp + pt) * g->wp + px) * c, in + (((size_t)n * d->h + t) * d->w + x) * c,
                       c * sizeof(float));
            }
}

static void halo_fold(const conv2d_desc *d, const halo *g, const float *pad, float *gin) {
    const size_t c = (size_t)d->cin;
    memset(gin, 0, conv2d_in_size(d) * sizeof(float));
    for (int n = 0; n < d->n; n++)
        for (int pt = 0; pt < g->hp; pt++)
            for (int px = 0; px < g->wp; px++) {
                const int t = wrap_mod(pt + g->offh, d->h), x = wrap_mod(px + g->offw, d->w);
                const float *s = pad + (((size_t)n * g->hp + pt) * g->wp + px) * c;
                float *o = gin + (((size_t)n * d->h + t) * d->w + x) * c;
                for (size_t i = 0; i < c; i++) o[i] += s[i];
            }
}

typedef struct {
    dnnl_primitive_desc_t fpd, pd;
    dnnl_primitive_t prim;
    dnnl_memory_t mem[4];
    int nmem;
} dnnl_objs;

static void objs_free(dnnl_objs *o) {
    if (o->prim) dnnl_primitive_destroy(o->prim);
    if (o->pd && o->pd != o->fpd) dnnl_primitive_desc_destroy(o->pd);
    if (o->fpd) dnnl_primitive_desc_destroy(o->fpd);
    for (int i = 0; i < o->nmem; i++) dnnl_memory_destroy(o->mem[i]);
    memset(o, 0, sizeof *o);
}

static bool add_arg(vf_report *r, dnnl_objs *o, dnnl_exec_arg_t *args, int arg, const dnnl_memory_desc_t *md, void *ptr) {
    VF_DNNL(dnnl_memory_create(&o->mem[o->nmem], md, r->engine, ptr));
    args[o->nmem].arg = arg;
    args[o->nmem].memory = o->mem[o->nmem];
    o->nmem++;
    return true;
}

#endif

enum { FWD, BWD_DATA, BWD_WEIGHTS, N_PASSES };
static const char *const pass_name[N_PASSES] = {"conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_weights"};

#if LB_HAVE_ONEDNN

/* One pass through oneDNN (plain nhwc / hwio formats, direct algorithm).
 *   FWD:         pad (padded input), w, bias -> res (out)
 *   BWD_DATA:    gout, w -> pad (padded gin)
 *   BWD_WEIGHTS: pad (padded input), gout -> res (gw), res_b (gb, when bias) */
static bool onednn_pass(vf_report *r, const conv2d_desc *d, const halo *g, int pass, float *pad, const float *w,
                        const float *bias, const float *gout, float *res, float *res_b, dnnl_objs *o) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d);
    dnnl_dims_t sdims = {d->n, d->cin, g->hp, g->wp}, wdims = {d->cout, d->cin, d->kh, d->kw}, bdims = {d->cout},
                ddims = {d->n, d->cout, oh, ow};
    dnnl_dims_t strides = {d->sh, d->sw}, zero = {0, 0};
    dnnl_memory_desc_t smd, wmd, bmd, dmd;
    VF_DNNL(dnnl_memory_desc_init_by_tag(&smd, 4, sdims, dnnl_f32, dnnl_nhwc));
    VF_DNNL(dnnl_memory_desc_init_by_tag(&wmd, 4, wdims, dnnl_f32, dnnl_hwio));
    VF_DNNL(dnnl_memory_desc_init_by_tag(&bmd, 1, bdims, dnnl_f32, dnnl_x));
    VF_DNNL(dnnl_memory_desc_init_by_tag(&dmd, 4, ddims, dnnl_f32, dnnl_nhwc));
    const dnnl_memory_desc_t *bias_md = d->bias ? &bmd : NULL;

    dnnl_convolution_desc_t fd, bd;
    VF_DNNL(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &smd, &wmd, bias_md,
                                               &dmd, strides, zero, zero));
    VF_DNNL(dnnl_primitive_desc_create(&o->fpd, &fd, NULL, r->engine, NULL));
    dnnl_exec_arg_t args[4];
    switch (pass) {
    case FWD:
        o->pd = o->fpd;
        if (!add_arg(r, o, args, DNNL_ARG_SRC, &smd, pad) || !add_arg(r, o, args, DNNL_ARG_WEIGHTS, &wmd, (void *)w) ||
            (d->bias && !add_arg(r, o, args, DNNL_ARG_BIAS, &bmd, (void *)bias)) ||
            !add_arg(r, o, args, DNNL_ARG_DST, &dmd, res))
            return false;
        break;
    case BWD_DATA:
        VF_DNNL(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &smd, &wmd, &dmd, strides, zero,
                                                         zero));
        VF_DNNL(dnnl_primitive_desc_create(&o->pd, &bd, NULL, r->engine, o->fpd));
        if (!add_arg(r, o, args, DNNL_ARG_DIFF_DST, &dmd, (void *)gout) ||
            !add_arg(r, o, args, DNNL_ARG_WEIGHTS, &wmd, (void *)w) || !add_arg(r, o, args, DNNL_ARG_DIFF_SRC, &smd, pad))
            return false;
        break;
    default:
        VF_DNNL(dnnl_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &smd, &wmd, bias_md, &dmd,
                                                            strides, zero, zero));
        VF_DNNL(dnnl_primitive_desc_create(&o->pd, &bd, NULL, r->engine, o->fpd));
        if (!add_arg(r, o, args, DNNL_ARG_SRC, &smd, pad) || !add_arg(r, o, args, DNNL_ARG_DIFF_DST, &dmd, (void *)gout) ||
            !add_arg(r, o, args, DNNL_ARG_DIFF_WEIGHTS, &wmd, res) ||
            (d->bias && !add_arg(r, o, args, DNNL_ARG_DIFF_BIAS, &bmd, res_b)))
            return false;
        break;
    }
    VF_DNNL(dnnl_primitive_create(&o->prim, o->pd));
    VF_DNNL(dnnl_primitive_execute(o->prim, r->stream, o->nmem, args));
    VF_DNNL(dnnl_stream_wait(r->stream));
    return true;
}

/* The oneDNN result of one pass into want / want_b (unpadded, our layouts). */
static bool onednn_result(vf_report *r, const conv2d_desc *d, int pass, const float *in, const float *w,
                          const float *bias, const float *gout, float *want, float *want_b) {
    const halo g = halo_of(d);
    const size_t npad = (size_t)d->n * g.hp * g.wp * d->cin;
    float *pad = vf_alloc(npad);
    /* oneDNN may prefer aligned operands; its copies of ours are 64-byte aligned. */
    float *wa = vf_alloc(conv2d_w_size(d)), *ba = vf_alloc((size_t)d->cout), *ga = vf_alloc(conv2d_out_size(d));
    memcpy(wa, w, conv2d_w_size(d) * sizeof(float));
    memcpy(ba, bias, (size_t)d->cout * sizeof(float));
    memcpy(ga, gout, conv2d_out_size(d) * sizeof(float));
    if (pass != BWD_DATA) halo_fill(d, &g, in, pad);
    dnnl_objs o;
    memset(&o, 0, sizeof o);
    bool ok = onednn_pass(r, d, &g, pass, pad, wa, ba, ga, want, want_b, &o);
    objs_free(&o);
    if (ok && pass == BWD_DATA) halo_fold(d, &g, pad, want);
    free(pad);
    free(wa);
    free(ba);
    free(ga);
    return ok;
}
#else
static bool onednn_result(vf_report *r, const conv2d_desc *d, int pass, const float *in, const float *w,
                          const float *bias, const float *gout, float *want, float *want_b) {
    return false; /* unreachable: r->onednn is false without oneDNN */
}
#endif

/* ---- the verifier ---- */
typedef struct {
    const conv2d_desc *d;
    const float *in, *w, *wt, *bias, *gout;
    size_t nres, nres_b;  /* result sizes of the pass (nres_b: gb, bwd_weights with bias) */
} problem;

static void run_variant(const conv2d_ops *v, int pass, const problem *p, float *res, float *res_b) {
    vf_poison(res, p->nres);
    if (res_b) vf_poison(res_b, p->nres_b);
    switch (pass) {
    case FWD: v->fwd(p->d, p->in, p->w, p->bias, res); break;
    case BWD_DATA: v->bwd_data(p->d, p->gout, p->wt, res); break;
    default: v->bwd_weights(p->d, p->in, p->gout, res, res_b); break;
    }
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

    for (int pass = 0; pass < N_PASSES; pass++) {
        problem p = {d, in, w, wt, d->bias ? bias : NULL, gout, 0, 0};
        p.nres = pass == FWD ? nout : pass == BWD_DATA ? nin : nw;
        p.nres_b = pass == BWD_WEIGHTS && d->bias ? nb : 0;
        float *got = vf_buf_alloc(p.nres, true), *got_b = p.nres_b ? vf_buf_alloc(p.nres_b, true) : NULL;
        float *want = NULL, *want_b = NULL, *dnn = NULL, *dnn_b = NULL;
        bool dnn_tried = false, dnn_ok = false;

        for (int i = 0; i < nvar; i++) {
            const conv2d_ops *v = &vars[i];
            char dref[192], ddnn[200];
            snprintf(dref, sizeof dref, "%s/%s/%s", pass_name[pass], prob, v->name);
            snprintf(ddnn, sizeof ddnn, "%s@onednn", dref);
            const bool want_ref = v != ref && vf_wanted(r, dref);
            const bool want_dnn = r->onednn && vf_wanted(r, ddnn);
            if (!want_ref && !want_dnn) continue;
            if (!vf_variant_runnable(r, "conv2d", v->name, v->isa)) continue;

            run_variant(v, pass, &p, got, got_b);

            if (want_ref) {
                if (!want) {
                    want = vf_buf_alloc(p.nres, true);
                    want_b = p.nres_b ? vf_buf_alloc(p.nres_b, true) : NULL;
                    run_variant(ref, pass, &p, want, want_b);
                }
                check(r, dref, got, want, p.nres, got_b, want_b, p.nres_b, atol);
            }
            if (want_dnn) {
                if (!dnn_tried) {
                    dnn_tried = true;
                    dnn = vf_alloc(p.nres);
                    dnn_b = p.nres_b ? vf_alloc(p.nres_b) : NULL;
                    dnn_ok = onednn_result(r, d, pass, in, w, bias, gout, dnn, dnn_b);
                }
                if (!dnn_ok) {
                    vf_record(r, ddnn, false, "oneDNN could not run this problem (see the oneDNN message above)");
                    continue;
                }
                check(r, ddnn, got, dnn, p.nres, got_b, dnn_b, p.nres_b, atol);
            }
        }
        vf_buf_free(got);
        vf_buf_free(got_b);
        vf_buf_free(want);
        vf_buf_free(want_b);
        free(dnn);
        free(dnn_b);
    }
    vf_buf_free(in);
    vf_buf_free(w);
    vf_buf_free(wt);
    vf_buf_free(bias);
    vf_buf_free(gout);
}

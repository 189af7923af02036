/* The conv2d layer problems for `latbench tune` (tune.h): per pass, every variant under the cap is
 * checked by tools/verify's conv2d check against the scalar reference (on the same shape at a
 * batch of at most 4: the code paths of a batch do not depend on its size, the reference's cost
 * does), and the ones that pass are timed on the real batch, one kernel call per call, one thread
 * (the kernels are single-threaded; lib/nn splits the batch among threads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/registry.h"
#include "tools/tune/tune.h"
#include "tools/verify/verify_ops.h"

#define MAX_VARIANTS 8

typedef struct {
    const conv2d_ops *v;
    lb_pass pass;
    const conv2d_desc *d;
    const float *in, *w, *wt, *bias, *gout;
    float *out, *gb;
} conv_call;

static void call_conv(void *ctx) {
    const conv_call *c = ctx;
    switch (c->pass) {
    case LB_PASS_FWD: c->v->fwd(c->d, c->in, c->w, c->bias, c->out); break;
    case LB_PASS_BWD_DATA: c->v->bwd_data(c->d, c->gout, c->wt, c->out); break;
    default: c->v->bwd_weights(c->d, c->in, c->gout, c->out, c->gb); break;
    }
}

/* Whether variant v passes verify's check of this pass (mismatches are printed on stderr). */
static bool verified(const conv2d_desc *d, lb_pass pass, const conv2d_ops *v) {
    if (v->isa == LB_ISA_SCALAR) return true;   /* the reference itself */
    conv2d_desc small = *d;
    if (small.n > 4) small.n = 4;
    char prob[96], filter[200];
    conv2d_desc_str(&small, prob, sizeof prob);
    snprintf(filter, sizeof filter, "conv2d_%s/%s/%s", lb_pass_name(pass), prob, v->name);
    vf_report r;
    vf_report_init(&r, stderr, 1u << v->isa, false);
    r.filter = filter;
    verify_conv2d(&r, &small);
    vf_report_fini(&r);
    return r.failed == 0 && r.checked > 0;
}

/* The variants under the cap, the dispatched table in place of its own row (the test slowdown). */
static int list_variants(const conv2d_ops **ops, int *def) {
    const lb_dispatch *d = lb_dispatch_get();
    int n, k = 0;
    const conv2d_ops *v = lb_conv2d_variants(&n);
    *def = -1;
    for (int i = 0; i < n && k < MAX_VARIANTS; i++) {
        if (!lb_isa_usable(&d->cpu, d->cap, v[i].isa)) continue;
        const bool is_def = !strcmp(v[i].name, d->conv2d->name);
        if (is_def) *def = k;
        ops[k++] = is_def ? d->conv2d : &v[i];
    }
    return k;
}

static float *filled(size_t n, uint64_t seed) {
    float *p = vf_alloc(n ? n : 1);
    vf_fill_uniform(p, n, seed, -1.0f, 1.0f);
    return p;
}

bool tune_conv(const conv2d_desc *d, lb_pass pass, tune_level level, lb_profile_entry *e, tune_outcome *out,
               char *rejected, size_t rlen, char *err, size_t errlen) {
    const conv2d_ops *ops[MAX_VARIANTS];
    int def;
    const int n = list_variants(ops, &def);
    rejected[0] = 0;
    if (def < 0) return snprintf(err, errlen, "no default conv2d variant under the cap"), false;
    const size_t nin = conv2d_in_size(d), nout = conv2d_out_size(d), nw = conv2d_w_size(d);
    float *in = filled(nin, 1), *w = filled(nw, 2), *wt = filled(nw, 3), *bias = filled((size_t)d->cout, 4);
    float *gout = filled(nout, 5);
    conv_call calls[MAX_VARIANTS];
    tune_cand c[MAX_VARIANTS];
    int map[MAX_VARIANTS], nc = 0, cdef = -1;
    for (int i = 0; i < n; i++) {
        if (!verified(d, pass, ops[i])) {   /* a wrong variant is never a candidate */
            const size_t at = strlen(rejected);
            if (at < rlen) snprintf(rejected + at, rlen - at, "%s%s", at ? "," : "", ops[i]->name);
            continue;
        }
        const size_t nres = pass == LB_PASS_FWD ? nout : pass == LB_PASS_BWD_DATA ? nin : nw;
        calls[nc] = (conv_call){.v = ops[i], .pass = pass, .d = d, .in = in, .w = w, .wt = wt, .bias = bias,
                                .gout = gout, .out = vf_alloc(nres), .gb = vf_alloc((size_t)d->cout)};
        c[nc] = (tune_cand){.name = ops[i]->name, .seq = {.name = ops[i]->name}};
        timing_seq_add(&c[nc].seq, ops[i]->name, STEP_COMPUTE, call_conv, &calls[nc]);
        if (i == def) cdef = nc;
        map[nc++] = i;
    }
    tune_outcome o = {0};
    bool ok = cdef >= 0;
    if (!ok) snprintf(err, errlen, "the default %s fails verification", ops[def]->name);
    if (ok && !(ok = tune_halving(c, nc, cdef, level, &o))) snprintf(err, errlen, "out of memory timing the candidates");
    if (ok) {
        memset(e, 0, sizeof *e);
        snprintf(e->op, sizeof e->op, "conv2d");
        e->pass = pass;
        conv2d_desc_str(d, e->problem, sizeof e->problem);
        e->isa = lb_dispatch_get()->cap;
        e->threads = 1;
        snprintf(e->variant, sizeof e->variant, "%s", ops[map[o.winner]]->name);
        e->time_s = o.chosen.q1;
        e->default_time_s = o.def.q1;
        e->speedup = e->time_s > 0 ? e->default_time_s / e->time_s : 1.0;
        e->spread = o.spread;
        *out = o;
        out->chal_name = o.challenger >= 0 ? ops[map[o.challenger]]->name : NULL;
    }
    for (int i = 0; i < nc; i++) free(calls[i].out), free(calls[i].gb);
    free(in), free(w), free(wt), free(bias), free(gout);
    return ok;
}

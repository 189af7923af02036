/* The conv2d layer problems for `latbench tune` (tune.h): per pass, every variant under the cap is
 * checked by tools/verify's conv2d check against the scalar reference (on the same shape at a
 * batch of at most 4: the code paths of a batch do not depend on its size, the reference's cost
 * does; a variant with tuning parameters at each of their values too, and rejected with all of
 * them if one fails), and the ones that pass are timed on the real batch at the problem's thread
 * count the way lib/nn runs them (lib/nn/parallel.h: the batch split among the threads, each slice
 * one kernel call, bwd_weights' partial sums reduced), so an entry at threads T is what a model at
 * T threads runs.
 * Parameters: the coordinate search of tune.h.
 * Cold (the default; tune.h): every timed call takes the next copy of the operands its pass
 * touches (tools/timing/cold.h), shared by all candidates of the problem. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/registry.h"
#include "lib/nn/parallel.h"
#include "tools/timing/cold.h"
#include "tools/tune/tune.h"
#include "tools/verify/verify_ops.h"

#define MAX_VARIANTS 8
#define MAX_CANDS 64   /* the variants, and one variant's parameter values */

typedef struct {
    const conv2d_ops *v;
    lb_pass pass;
    int threads;
    conv2d_desc d;   /* the problem with the candidate's parameters */
    const float *in, *w, *wt, *bias, *gout;
    float *out, *gb, *ws;   /* ws: bwd_weights' partial sums at threads > 1 (NULL otherwise) */
    timing_cold *cold;    /* cold timing: the operands' copies (the pointers above unused), or NULL */
} conv_call;

/* The operands a pass touches, in the order of a cold rotation's buffers. */
enum { OP_IN, OP_W, OP_WT, OP_BIAS, OP_GOUT, OP_OUT, OP_GB, OP_WS, OP_N };
static int pass_operands(lb_pass pass, bool has_ws, int *ops) {
    int n = 0;
    if (pass == LB_PASS_FWD) ops[n++] = OP_IN, ops[n++] = OP_W, ops[n++] = OP_BIAS;
    else if (pass == LB_PASS_BWD_DATA) ops[n++] = OP_GOUT, ops[n++] = OP_WT;
    else {
        ops[n++] = OP_IN, ops[n++] = OP_GOUT, ops[n++] = OP_GB;
        if (has_ws) ops[n++] = OP_WS;
    }
    ops[n++] = OP_OUT;
    return n;
}

static void call_conv(void *ctx) {
    const conv_call *c = ctx;
    const float *in = c->in, *w = c->w, *wt = c->wt, *bias = c->bias, *gout = c->gout;
    float *out = c->out, *gb = c->gb, *ws = c->ws;
    if (c->cold) {   /* the next copy of each operand the pass touches */
        int ops[OP_N];
        const int n = pass_operands(c->pass, c->ws != NULL, ops), k = timing_cold_next(c->cold);
        float *p[OP_N] = {0};
        for (int i = 0; i < n; i++) p[ops[i]] = timing_cold_buf(c->cold, i, k);
        in = p[OP_IN], w = p[OP_W], wt = p[OP_WT], bias = p[OP_BIAS], gout = p[OP_GOUT];
        out = p[OP_OUT], gb = p[OP_GB], ws = p[OP_WS];
    }
    switch (c->pass) {
    case LB_PASS_FWD: nn_conv2d_fwd(c->v, c->threads, &c->d, in, w, bias, out); break;
    case LB_PASS_BWD_DATA: nn_conv2d_bwd_data(c->v, c->threads, &c->d, gout, wt, out); break;
    default: nn_conv2d_bwd_weights(c->v, c->threads, &c->d, in, gout, out, gb, ws); break;
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

/* The problem's operands (shared by every candidate) and the candidates: a variant at some
 * parameters, its call, and its timing sequence. */
typedef struct {
    const conv2d_desc *d;
    lb_pass pass;
    int threads;
    float *in, *w, *wt, *bias, *gout;
    size_t nres;
    timing_cold *cold;        /* cold timing: &rot (NULL: warm, each candidate its own outputs) */
    timing_cold rot;
    int n, def;                 /* candidates, the dispatch default's index */
    conv_call calls[MAX_CANDS];
    tune_cand c[MAX_CANDS];
    char names[MAX_CANDS][96];  /* "avx512" or "avx512 {fwd_m=8}" */
} conv_set;

/* " {a=1, b=2}" for the non-zero parameters of v in p ("" for none). */
static void params_str(const conv2d_ops *v, const lb_params *p, char *buf, size_t len) {
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < v->nparams && at < len; i++)
        if (p->v[i]) at += (size_t)snprintf(buf + at, len - at, "%s%s=%d", at ? ", " : " {", v->params[i].name, p->v[i]);
    if (at && at < len) snprintf(buf + at, len - at, "}");
}

static bool add_cand(conv_set *s, const conv2d_ops *v, const lb_params *p) {
    if (s->n == MAX_CANDS) return false;
    const int k = s->n++;
    char ps[80];
    params_str(v, p, ps, sizeof ps);
    snprintf(s->names[k], sizeof s->names[k], "%s%s", v->name, ps);
    const size_t nws = nn_conv2d_bwd_weights_workspace(s->threads, s->d);
    s->calls[k] = (conv_call){.v = v, .pass = s->pass, .threads = s->threads, .d = *s->d, .in = s->in, .w = s->w,
                              .wt = s->wt, .bias = s->bias, .gout = s->gout, .out = vf_alloc(s->nres),
                              .gb = vf_alloc((size_t)s->d->cout), .ws = nws ? vf_alloc(nws) : NULL};
    s->calls[k].d.params = *p;
    s->calls[k].cold = s->cold;
    s->c[k] = (tune_cand){.name = s->names[k], .seq = {.name = s->names[k]}};
    timing_seq_add(&s->c[k].seq, s->names[k], STEP_COMPUTE, call_conv, &s->calls[k]);
    return true;
}

/* The values of parameter pi to try at this level: quick, at most TUNE_QUICK_VALUES spread over
 * what verify checks (its ends included). */
static int try_values(const lb_param_info *pi, tune_level level, int *vals) {
    int all[24];
    const int n = vf_param_values(pi, all, 24);
    if (level != TUNE_QUICK || n <= TUNE_QUICK_VALUES) return memcpy(vals, all, sizeof *all * (size_t)n), n;
    for (int k = 0; k < TUNE_QUICK_VALUES; k++) vals[k] = all[k * (n - 1) / (TUNE_QUICK_VALUES - 1)];
    return TUNE_QUICK_VALUES;
}

/* The coordinate search's first step for variant s->c[base] (parameters all 0): each parameter
 * that acts on the pass alone at each value, timed in one screening round with the variants;
 * the combination of each parameter's best value where it beat the variant's defaults then joins
 * the variants as one more candidate (the halving decides).  skip[i]: variant i was clearly
 * slower than the screening's fastest (tune_screen), so the halving leaves it out.  False on an
 * allocation failure. */
static bool coordinate_step(conv_set *s, int base, tune_level level, bool *skip) {
    const conv2d_ops *v = s->calls[base].v;
    const int first = s->n;
    int owner[MAX_CANDS];
    for (int i = 0; i < v->nparams; i++) {
        if (!vf_conv2d_param_acts(v->params[i].name, s->pass)) continue;
        int vals[24];
        const int nv = try_values(&v->params[i], level, vals);
        for (int k = 0; k < nv; k++) {
            lb_params p = {{0}};
            p.v[i] = vals[k];
            owner[s->n] = i;
            if (!add_cand(s, v, &p)) break;
        }
    }
    if (s->n == first) return true;
    timing_stats st[MAX_CANDS];
    bool slow[MAX_CANDS];
    if (!tune_screen(s->c, s->n, s->def, level, st, slow)) return false;
    for (int k = 0; k < first; k++) skip[k] = slow[k];
    lb_params best = {{0}};
    double bq[LB_PARAMS_MAX];
    int nbest = 0;
    for (int i = 0; i < LB_PARAMS_MAX; i++) bq[i] = st[base].q1;
    for (int k = first; k < s->n; k++)
        if (st[k].q1 > 0 && st[k].q1 < bq[owner[k]]) bq[owner[k]] = st[k].q1, best.v[owner[k]] = s->calls[k].d.params.v[owner[k]];
    for (int i = 0; i < LB_PARAMS_MAX; i++) nbest += best.v[i] != 0;
    for (int k = first; k < s->n; k++) free(s->calls[k].out), free(s->calls[k].gb), free(s->calls[k].ws);
    s->n = first;
    if (nbest) add_cand(s, v, &best);
    return true;
}

/* The operands pass touches (the buffers of s): their count, bytes and contents into bytes/init;
 * *total their sum. */
static int pass_set(const conv_set *s, size_t bytes[OP_N], const void *init[OP_N], size_t *total) {
    const size_t nws = nn_conv2d_bwd_weights_workspace(s->threads, s->d);
    const float *src[OP_N] = {s->in, s->w, s->wt, s->bias, s->gout, NULL, NULL, NULL};
    const size_t nw = conv2d_w_size(s->d);
    const size_t len[OP_N] = {conv2d_in_size(s->d), nw, nw, (size_t)s->d->cout, conv2d_out_size(s->d), s->nres,
                              (size_t)s->d->cout, nws};
    int ops[OP_N];
    const int n = pass_operands(s->pass, nws > 0, ops);
    *total = 0;
    for (int i = 0; i < n; i++) bytes[i] = len[ops[i]] * sizeof(float), init[i] = src[ops[i]], *total += bytes[i];
    return n;
}

/* The rotation of the operands pass touches (the buffers of s, copied), sized by cold.h's rule
 * for this CPU's caches. */
static bool cold_init(const conv_set *s, timing_cold *r) {
    size_t bytes[OP_N], total;
    const void *init[OP_N];
    const int n = pass_set(s, bytes, init, &total);
    const lb_cpu *cpu = &lb_dispatch_get()->cpu;
    return timing_cold_init(r, n, bytes, init, timing_cold_target_bytes(cpu->l2_bytes, cpu->l3_bytes), TIMING_COLD_CAP_BYTES);
}

/* tune_cache's choice for s: auto is cold where the operands exceed this core's L2 (tune.h). */
static bool timed_cold(const conv_set *s, tune_cache cache) {
    if (cache != TUNE_CACHE_AUTO) return cache == TUNE_CACHE_COLD;
    size_t bytes[OP_N], total;
    const void *init[OP_N];
    pass_set(s, bytes, init, &total);
    const long long l2 = lb_dispatch_get()->cpu.l2_bytes;
    return l2 <= 0 || total > (size_t)l2;
}

bool tune_conv(const conv2d_desc *d, lb_pass pass, int threads, tune_level level, tune_cache cache, lb_profile_entry *e,
               tune_outcome *out, char *rejected, size_t rlen, char *err, size_t errlen) {
    const conv2d_ops *ops[MAX_VARIANTS];
    int def;
    const int n = list_variants(ops, &def);
    rejected[0] = 0;
    if (def < 0) return snprintf(err, errlen, "no default conv2d variant under the cap"), false;
    const size_t nin = conv2d_in_size(d), nout = conv2d_out_size(d), nw = conv2d_w_size(d);
    static conv_set s;   /* large (the calls and names of 64 candidates); tune runs one at a time */
    s = (conv_set){.d = d, .pass = pass, .threads = threads < 1 ? 1 : threads, .in = filled(nin, 1), .w = filled(nw, 2), .wt = filled(nw, 3),
                   .bias = filled((size_t)d->cout, 4), .gout = filled(nout, 5), .def = -1,
                   .nres = pass == LB_PASS_FWD ? nout : pass == LB_PASS_BWD_DATA ? nin : nw};
    const bool cold = timed_cold(&s, cache);
    if (cold && !cold_init(&s, &s.rot)) {
        free(s.in), free(s.w), free(s.wt), free(s.bias), free(s.gout);
        return snprintf(err, errlen, "out of memory for the cold-cache copies"), false;
    }
    s.cold = cold ? &s.rot : NULL;
    const lb_params none = {{0}};
    int tunable = -1;
    bool skip[MAX_CANDS] = {0};
    for (int i = 0; i < n; i++) {
        if (!verified(d, pass, ops[i])) {   /* a wrong variant is never a candidate */
            const size_t at = strlen(rejected);
            if (at < rlen) snprintf(rejected + at, rlen - at, "%s%s", at ? "," : "", ops[i]->name);
            continue;
        }
        if (i == def) s.def = s.n;
        if (ops[i]->nparams && tunable < 0) tunable = s.n;
        add_cand(&s, ops[i], &none);
    }
    tune_outcome o = {0};
    bool ok = s.def >= 0;
    if (!ok) snprintf(err, errlen, "the default %s fails verification", ops[def]->name);
    if (ok && tunable >= 0 && !(ok = coordinate_step(&s, tunable, level, skip))) snprintf(err, errlen, "out of memory timing the parameters");
    if (ok && !(ok = tune_halving(s.c, s.n, s.def, skip, level, &o))) snprintf(err, errlen, "out of memory timing the candidates");
    if (ok) {
        const conv_call *w = &s.calls[o.winner];
        memset(e, 0, sizeof *e);
        snprintf(e->op, sizeof e->op, "conv2d");
        e->pass = pass;
        conv2d_desc_str(d, e->problem, sizeof e->problem);
        e->isa = lb_dispatch_get()->cap;
        e->threads = s.threads;
        snprintf(e->variant, sizeof e->variant, "%s", w->v->name);
        e->params = w->d.params;
        e->time_s = o.chosen.q1;
        e->default_time_s = o.def.q1;
        e->speedup = e->time_s > 0 ? e->default_time_s / e->time_s : 1.0;
        e->spread = o.spread;
        e->cold = cold;
        *out = o;
        out->cold_copies = cold ? s.rot.copies : 0;
        out->cold_bytes = cold ? timing_cold_total_bytes(&s.rot) : 0;
        params_str(w->v, &w->d.params, out->params, sizeof out->params);
        if (o.challenger >= 0) snprintf(out->chal_label, sizeof out->chal_label, "%s", s.names[o.challenger]);
        out->chal_name = o.challenger >= 0 ? out->chal_label : NULL;
    }
    for (int i = 0; i < s.n; i++) free(s.calls[i].out), free(s.calls[i].gb), free(s.calls[i].ws);
    free(s.in), free(s.w), free(s.wt), free(s.bias), free(s.gout);
    if (cold) timing_cold_free(&s.rot);
    return ok;
}

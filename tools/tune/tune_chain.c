/* The chain1x1 problems for `latbench tune` (tune.h): a model's chain of 1x1 conv + lrelu layers,
 * run either fused (a chain1x1 variant at a tile) or unfused (the layers one by one as the model
 * runs them: nn_conv2d_fwd_lrelu with the dispatched conv2d).  Each SIMD variant is first checked
 * by tools/verify's chain1x1 check against the scalar reference (at every tile verify checks, on
 * at most CHECK_SITES sites; rejected with all its tiles if one fails); then the unfused layers
 * and every variant x tile are timed by tune_halving against the model's default (nn_chain_default_fused:
 * the dispatched variant at its default tile, else unfused), at the problem's thread count with
 * the batch split among the threads as lib/nn runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/chain1x1/chain1x1_problem.h"
#include "arch/registry.h"
#include "lib/nn/conv_choice.h"
#include "lib/nn/parallel.h"
#include "tools/tune/tune.h"
#include "tools/verify/verify_ops.h"

#define MAX_CANDS 32
#define CHECK_SITES 256

typedef struct {
    const tune_chain_problem *p;
    const chain1x1_ops *v;    /* NULL: unfused */
    chain1x1_desc d;          /* with the candidate's tile */
    const float *in, *const *w, *const *b;
    float *out, **pre, **post;
} chain_call;

static void call_chain(void *ctx) {
    const chain_call *c = ctx;
    const tune_chain_problem *p = c->p;
    if (c->v) {
        nn_chain1x1_fwd(c->v, p->threads, p->n, p->ps, &c->d, c->in, c->w, c->b, c->out, NULL);
        return;
    }
    const lb_dispatch *k = lb_dispatch_get();
    const float *x = c->in;
    for (int l = 0; l < c->d.layers; l++) {
        const conv2d_desc cd = {p->n, 1, (int)p->ps, c->d.c[l], c->d.c[l + 1], 1, 1, 1, 1, c->d.bias[l], {{0}}};
        float *y = l == c->d.layers - 1 ? c->out : c->post[l];
        nn_conv2d_fwd_lrelu(k->conv2d, k->act, c->d.slope, p->threads, &cd, x, c->w[l], c->d.bias[l] ? c->b[l] : NULL,
                            c->pre[l], y);
        x = y;
    }
}

/* Whether SIMD variant v passes verify's chain1x1 check (scalar is the reference). */
static bool verified(const chain1x1_desc *d, const chain1x1_ops *v) {
    int n;
    const chain1x1_ops *rows = lb_chain1x1_variants(&n);
    const chain1x1_ops pair[2] = {rows[0], *v};
    chain1x1_desc small = *d;
    if (small.sites > CHECK_SITES) small.sites = CHECK_SITES;
    vf_report r;
    vf_report_init(&r, stderr, 1u << LB_ISA_SCALAR | 1u << v->isa, false);
    verify_chain1x1_variants(&r, &small, pair, 2);
    vf_report_fini(&r);
    return r.failed == 0 && r.checked > 0;
}

typedef struct {
    int n, def;
    chain_call calls[MAX_CANDS];
    tune_cand c[MAX_CANDS];
    char names[MAX_CANDS][48];   /* "unfused", "avx512", "avx512 {tile=16}" */
} chain_set;

static void add_cand(chain_set *s, const chain_call *proto, const chain1x1_ops *v, int tile) {
    if (s->n == MAX_CANDS) return;
    const int k = s->n++;
    if (!v) snprintf(s->names[k], sizeof s->names[k], "%s", LB_CHAIN1X1_UNFUSED);
    else if (!tile) snprintf(s->names[k], sizeof s->names[k], "%s", v->name);
    else snprintf(s->names[k], sizeof s->names[k], "%s {tile=%d}", v->name, tile);
    s->calls[k] = *proto;
    s->calls[k].v = v;
    s->calls[k].d.params.v[0] = tile;
    s->c[k] = (tune_cand){.name = s->names[k], .seq = {.name = s->names[k]}};
    timing_seq_add(&s->c[k].seq, s->names[k], STEP_COMPUTE, call_chain, &s->calls[k]);
}

/* The SIMD variants under the cap, each verified (else listed in rejected) at tile 0 and the tiles
 * to try at this level; the default's index in s->def. */
static void add_variants(chain_set *s, const chain_call *proto, tune_level level, char *rejected, size_t rlen) {
    const lb_dispatch *k = lb_dispatch_get();
    const bool fused = nn_chain_default_fused(k, false);
    int n;
    const chain1x1_ops *v = lb_chain1x1_variants(&n);
    for (int i = 0; i < n; i++) {
        if (v[i].isa == LB_ISA_SCALAR || !lb_isa_usable(&k->cpu, k->cap, v[i].isa)) continue;
        if (!verified(&proto->d, &v[i])) {
            const size_t at = strlen(rejected);
            if (at < rlen) snprintf(rejected + at, rlen - at, "%s%s", at ? "," : "", v[i].name);
            continue;
        }
        if (fused && !strcmp(v[i].name, k->chain1x1->name)) s->def = s->n;
        add_cand(s, proto, &v[i], 0);
        int vals[24], all = v[i].nparams ? vf_param_values(&v[i].params[0], vals, 24) : 0;
        const int m = level == TUNE_QUICK && all > TUNE_QUICK_VALUES ? TUNE_QUICK_VALUES : all;
        for (int t = 0; t < m; t++) add_cand(s, proto, &v[i], vals[m == all ? t : t * (all - 1) / (m - 1)]);
    }
}

static float *filled(size_t n, uint64_t seed) {
    float *p = vf_alloc(n ? n : 1);
    vf_fill_uniform(p, n, seed, -1.0f, 1.0f);
    return p;
}

bool tune_chain(const tune_chain_problem *p, tune_level level, lb_profile_entry *e, tune_outcome *out, char *rejected,
                size_t rlen, char *err, size_t errlen) {
    const chain1x1_desc *d = &p->d;
    const size_t S = d->sites;
    float *w[CHAIN1X1_MAX_LAYERS] = {0}, *b[CHAIN1X1_MAX_LAYERS] = {0}, *pre[CHAIN1X1_MAX_LAYERS] = {0},
          *post[CHAIN1X1_MAX_LAYERS] = {0};
    for (int l = 0; l < d->layers; l++) {
        w[l] = filled(chain1x1_w_size(d, l), 10 + l), b[l] = filled((size_t)d->c[l + 1], 20 + l);
        pre[l] = vf_alloc(S * d->c[l + 1]), post[l] = vf_alloc(S * d->c[l + 1]);
    }
    float *in = filled(S * d->c[0], 1), *o = vf_alloc(S * d->c[d->layers]);
    const chain_call proto = {p, NULL, *d, in, (const float *const *)w, (const float *const *)b, o, pre, post};
    static chain_set s;   /* the calls and names of 32 candidates; tune runs one at a time */
    s = (chain_set){.def = 0};
    rejected[0] = 0;
    add_cand(&s, &proto, NULL, 0);   /* the unfused layers: the default unless a fused one is */
    add_variants(&s, &proto, level, rejected, rlen);
    tune_outcome oc = {0};
    const bool ok = tune_halving(s.c, s.n, s.def, NULL, level, &oc);
    if (!ok) snprintf(err, errlen, "out of memory timing the candidates");
    if (ok) {
        const chain_call *win = &s.calls[oc.winner];
        memset(e, 0, sizeof *e);
        snprintf(e->op, sizeof e->op, "chain1x1");
        e->pass = LB_PASS_FWD;
        lb_chain1x1_problem_str(d, e->problem, sizeof e->problem);
        e->isa = lb_dispatch_get()->cap;
        e->threads = p->threads;
        snprintf(e->variant, sizeof e->variant, "%s", win->v ? win->v->name : LB_CHAIN1X1_UNFUSED);
        if (win->v) e->params = win->d.params;
        e->time_s = oc.chosen.q1;
        e->default_time_s = oc.def.q1;
        e->speedup = e->time_s > 0 ? e->default_time_s / e->time_s : 1.0;
        e->spread = oc.spread;
        *out = oc;
        const char *brace = strchr(s.names[oc.winner], ' ');
        snprintf(out->params, sizeof out->params, "%s", brace ? brace : "");
        if (oc.challenger >= 0) snprintf(out->chal_label, sizeof out->chal_label, "%s", s.names[oc.challenger]);
        out->chal_name = oc.challenger >= 0 ? out->chal_label : NULL;
    }
    for (int l = 0; l < d->layers; l++) free(w[l]), free(b[l]), free(pre[l]), free(post[l]);
    free(in), free(o);
    return ok;
}

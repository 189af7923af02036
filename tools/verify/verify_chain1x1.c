/* chain1x1 verifier (kernels/chain1x1/chain1x1.h): the scalar reference against the unfused
 * composition of conv2d's and act's scalar kernels (conv2d fwd at 1x1, then lrelu_fwd, per layer,
 * every intermediate written out), and every other runnable variant against the scalar reference,
 * at its default parameters and at each checked value of each parameter (vf_param_values); both
 * modes: inference (only the output) and keep (every layer's conv output and lrelu output too,
 * against the unfused intermediates).  Inputs uniform in [-1, 1), weights in +-1/sqrt(cin), biases
 * in [-0.5, 0.5): the sums are not exact in float, so the tolerance is relative 1e-4 with an
 * absolute floor of 1e-5 x the largest |value| of the tensor (FMA contraction and summation order
 * differ between the fused tiles and the unfused layers by a few ulps per layer). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/chain1x1/chain1x1_problem.h"
#include "arch/profile.h"
#include "tools/verify/verify_ops.h"

#define RTOL 1e-4
#define ATOL_REL 1e-5

typedef struct {
    chain1x1_desc d;
    float *in, *w[CHAIN1X1_MAX_LAYERS], *b[CHAIN1X1_MAX_LAYERS];
    float *pre[CHAIN1X1_MAX_LAYERS], *post[CHAIN1X1_MAX_LAYERS]; /* unfused; post[layers-1] = output */
    float *got, *kpre[CHAIN1X1_MAX_LAYERS], *kpost[CHAIN1X1_MAX_LAYERS];  /* a variant's results */
} chain_data;

static size_t act_n(const chain1x1_desc *d, int l) { return d->sites * (size_t)d->c[l]; }

static void data_make(chain_data *z, const chain1x1_desc *d) {
    memset(z, 0, sizeof *z);
    z->d = *d;
    z->in = vf_buf_alloc(act_n(d, 0), false);
    vf_fill_uniform(z->in, act_n(d, 0), 0xc4a1 ^ d->sites, -1.0f, 1.0f);
    for (int l = 0; l < d->layers; l++) {
        const float s = 1.0f / sqrtf((float)d->c[l]);
        z->w[l] = vf_buf_alloc(chain1x1_w_size(d, l), false);
        vf_fill_uniform(z->w[l], chain1x1_w_size(d, l), 0xc4a2 + (uint64_t)l, -s, s);
        z->b[l] = vf_buf_alloc((size_t)d->c[l + 1], false);
        vf_fill_uniform(z->b[l], (size_t)d->c[l + 1], 0xc4a3 + (uint64_t)l, -0.5f, 0.5f);
        z->pre[l] = vf_alloc(act_n(d, l + 1));
        z->post[l] = vf_alloc(act_n(d, l + 1));
        z->kpre[l] = vf_buf_alloc(act_n(d, l + 1), true);
        z->kpost[l] = vf_buf_alloc(act_n(d, l + 1), true);
    }
    z->got = vf_buf_alloc(act_n(d, d->layers), true);
}

static void data_free(chain_data *z) {
    vf_buf_free(z->in);
    vf_buf_free(z->got);
    for (int l = 0; l < z->d.layers; l++) {
        vf_buf_free(z->w[l]), vf_buf_free(z->b[l]), vf_buf_free(z->kpre[l]), vf_buf_free(z->kpost[l]);
        free(z->pre[l]), free(z->post[l]);
    }
}

/* The unfused layers: conv2d fwd 1x1 on a 1 x sites lattice, then lrelu, each written out. */
static void unfused(chain_data *z) {
    const chain1x1_desc *d = &z->d;
    const float *x = z->in;
    for (int l = 0; l < d->layers; l++) {
        const conv2d_desc cd = {1, 1, (int)d->sites, d->c[l], d->c[l + 1], 1, 1, 1, 1, d->bias[l], {{0}}};
        conv2d_periodic_fwd__scalar(&cd, x, z->w[l], d->bias[l] ? z->b[l] : NULL, z->pre[l]);
        act_lrelu_fwd__scalar(act_n(d, l + 1), d->slope, z->pre[l], z->post[l]);
        x = z->post[l];
    }
}

void chain1x1_desc_str(const chain1x1_desc *d, char *buf, size_t len) { lb_chain1x1_problem_str(d, buf, len); }

static void check_scaled(vf_report *r, const char *desc, const float *got, const float *want, size_t n) {
    float m = 0; /* in float: gcc 12's AArch64 vectorizer crashed on the double fmax reduction */
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(want[i]));
    vf_check(r, desc, got, want, n, RTOL, ATOL_REL * (m > 0 ? m : 1));
}

/* Variant v (parameters p) in both modes against want (the output) and the unfused intermediates. */
static void check_variant(vf_report *r, chain_data *z, const chain1x1_ops *v, lb_params p, const char *against,
                          const float *want, const char *prob, const char *suffix) {
    chain1x1_desc d = z->d;
    d.params = p;
    const size_t nout = act_n(&d, d.layers);
    char desc[256];
    snprintf(desc, sizeof desc, "chain1x1_fwd/%s/%s%s%s", prob, v->name, suffix, against);
    if (vf_wanted(r, desc)) {
        vf_poison(z->got, nout);
        v->fwd(&d, z->in, (const float *const *)z->w, (const float *const *)z->b, z->got, NULL);
        check_scaled(r, desc, z->got, want, nout);
    }
    snprintf(desc, sizeof desc, "chain1x1_fwdkeep/%s/%s%s%s", prob, v->name, suffix, against);
    if (!vf_wanted(r, desc)) return;
    chain1x1_keep keep;
    for (int l = 0; l < d.layers; l++) {
        vf_poison(z->kpre[l], act_n(&d, l + 1)), vf_poison(z->kpost[l], act_n(&d, l + 1));
        keep.pre[l] = z->kpre[l];
        if (l < d.layers - 1) keep.post[l] = z->kpost[l];
    }
    vf_poison(z->got, nout);
    v->fwd(&d, z->in, (const float *const *)z->w, (const float *const *)z->b, z->got, &keep);
    for (int l = 0; l < d.layers; l++) {
        char dl[300];
        snprintf(dl, sizeof dl, "%s (layer %d conv output)", desc, l);
        check_scaled(r, dl, z->kpre[l], z->pre[l], act_n(&d, l + 1));
        snprintf(dl, sizeof dl, "%s (layer %d lrelu output)", desc, l);
        check_scaled(r, dl, l < d.layers - 1 ? z->kpost[l] : z->got, z->post[l], act_n(&d, l + 1));
    }
}

/* Each checked value of each parameter of v, the others at their defaults. */
static void check_params(vf_report *r, chain_data *z, const chain1x1_ops *v, const float *want, const char *prob) {
    for (int i = 0; i < v->nparams; i++) {
        int vals[24];
        const int nv = vf_param_values(&v->params[i], vals, 24);
        for (int k = 0; k < nv; k++) {
            lb_params p = {{0}};
            p.v[i] = vals[k];
            char sfx[64];
            snprintf(sfx, sizeof sfx, "@%s=%d", v->params[i].name, vals[k]);
            r->param_checks++;
            check_variant(r, z, v, p, "", want, prob, sfx);
        }
    }
}

/* v at every parameter set the active tuning profile's chain1x1 entries give it (each set once). */
static void check_profile_sets(vf_report *r, chain_data *z, const chain1x1_ops *v, const float *want, const char *prob) {
    const lb_profile *p = lb_profile_active();
    static const lb_params none;
    for (int k = 0; p && k < p->n; k++) {
        const lb_profile_entry *e = &p->entries[k];
        bool seen = strcmp(e->op, "chain1x1") || strcmp(e->variant, v->name) || !memcmp(&e->params, &none, sizeof none);
        for (int j = 0; j < k && !seen; j++)
            seen = !strcmp(p->entries[j].op, "chain1x1") && !strcmp(p->entries[j].variant, v->name) &&
                   !memcmp(&p->entries[j].params, &e->params, sizeof e->params);
        if (seen) continue;
        char sfx[64];
        int at = snprintf(sfx, sizeof sfx, "@");
        for (int i = 0; i < v->nparams && at > 0 && (size_t)at < sizeof sfx; i++)
            at += snprintf(sfx + at, sizeof sfx - (size_t)at, "%s%s=%d", i ? "," : "", v->params[i].name, e->params.v[i]);
        r->profile_checks++;
        check_variant(r, z, v, e->params, "", want, prob, sfx);
    }
}

void verify_chain1x1_variants(vf_report *r, const chain1x1_desc *d, const chain1x1_ops *vars, int nvars) {
    char prob[128];
    chain1x1_desc_str(d, prob, sizeof prob);
    chain_data z;
    data_make(&z, d);
    unfused(&z);
    const size_t nout = act_n(d, d->layers);
    float *want = vf_alloc(nout);
    vars[0].fwd(d, z.in, (const float *const *)z.w, (const float *const *)z.b, want, NULL);
    check_variant(r, &z, &vars[0], d->params, "@unfused", z.post[d->layers - 1], prob, "");
    for (int i = 1; i < nvars; i++) {
        if (!vf_variant_runnable(r, "chain1x1", vars[i].name, vars[i].isa)) continue;
        check_variant(r, &z, &vars[i], d->params, "", want, prob, "");
        check_variant(r, &z, &vars[i], d->params, "@unfused", z.post[d->layers - 1], prob, "");
        check_params(r, &z, &vars[i], want, prob);
        check_profile_sets(r, &z, &vars[i], want, prob);
    }
    free(want);
    data_free(&z);
}

void verify_chain1x1(vf_report *r, const chain1x1_desc *d) {
    int n;
    const chain1x1_ops *vars = lb_chain1x1_variants(&n);
    verify_chain1x1_variants(r, d, vars, n);
}

/* The seed nets' leading chains (task1-eq 4-64-48-80, task1-st 4-80-80-48) at 60x4 x 2 samples,
 * and awkward ones: odd site counts (1, 7, 183), channels off the vector width, 2 and 4 layers,
 * layers without bias. */
void verify_chain1x1_set(vf_report *r) {
    static const chain1x1_desc set[] = {
        {480, 3, {4, 64, 48, 80}, {1, 1, 1}, 0.01f, {{0}}},
        {480, 3, {4, 80, 80, 48}, {1, 1, 1}, 0.01f, {{0}}},
        {1, 2, {3, 17, 9}, {1, 0}, 0.01f, {{0}}},
        {7, 4, {1, 33, 5, 128, 9}, {1, 1, 0, 1}, 0.01f, {{0}}},
        {183, 2, {16, 80, 15}, {0, 1}, 0.01f, {{0}}},
        {183, 4, {5, 48, 96, 31, 64}, {1, 1, 1, 1}, 0.2f, {{0}}},
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) verify_chain1x1(r, &set[i]);
}

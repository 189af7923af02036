/* chain1x1 (kernels/chain1x1/chain1x1.h), the fused pass over 1x1 conv + lrelu layers: every variant
 * against the scalar reference and the reference against the unfused conv2d + act layers, in both
 * modes, over many shapes (odd site counts, batch 1, channels off the vector width, 2..4 layers,
 * with and without bias); a broken variant is caught; the dispatched chain against the dispatched
 * unfused kernels; and a model's eval and training results with the chain on and off. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/test_util.h"
#include "lib/nn/model.h"
#include "tools/verify/verify_ops.h"

static uint64_t rng(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Random chains: 2..4 layers, channels in 1..128 (a third of them near a multiple of 16), sites
 * from one to a few hundred (odd counts, not multiples of any tile). */
static chain1x1_desc random_chain(uint64_t *s) {
    static const size_t sites[] = {1, 2, 3, 5, 7, 13, 31, 61, 97, 183, 240, 241};
    chain1x1_desc d = {.sites = sites[rng(s) % 12], .layers = 2 + (int)(rng(s) % 3), .slope = 0.01f};
    for (int l = 0; l <= d.layers; l++) {
        const int near = 16 * (1 + (int)(rng(s) % 8)) + (int)(rng(s) % 3) - 1;
        d.c[l] = rng(s) % 3 ? 1 + (int)(rng(s) % 128) : (near > 128 ? 128 : near);
    }
    for (int l = 0; l < d.layers; l++) d.bias[l] = (int)(rng(s) % 4 != 0);
    return d;
}

static void test_shapes(void **state) {
    (void)state;
    const int n = cli_emulated() ? 8 : 60;
    if (cli_emulated()) print_message("NOTE: under emulation: %d random chains instead of 60\n", n);
    vf_report r;
    vf_report_init(&r, stderr, VF_ALL_ISAS, false);
    uint64_t s = 42;
    for (int i = 0; i < n; i++) {
        chain1x1_desc d = random_chain(&s);
        assert_true(chain1x1_valid(&d));
        verify_chain1x1(&r, &d);
    }
    verify_chain1x1_set(&r);
    print_message("chain1x1: %d checks, %d failed, %d variants skipped\n", r.checked, r.failed, r.skipped);
    assert_int_equal(r.failed, 0);
    assert_true(r.checked >= 2 * 4 * n);
    vf_report_fini(&r);
}

/* The scalar reference with one output value off, and one that skips the last layer's bias. */
static void fwd_off_by_one(const chain1x1_desc *d, const float *in, const float *const *w, const float *const *b,
                           float *out, const chain1x1_keep *keep) {
    chain1x1_fwd__scalar(d, in, w, b, out, keep);
    out[d->sites * d->c[d->layers] / 2] += 0.01f;
}
static void fwd_no_last_bias(const chain1x1_desc *d, const float *in, const float *const *w, const float *const *b,
                             float *out, const chain1x1_keep *keep) {
    chain1x1_desc e = *d;
    e.bias[e.layers - 1] = 0;
    chain1x1_fwd__scalar(&e, in, w, b, out, keep);
}

static void test_broken_caught(void **state) {
    (void)state;
    const chain1x1_ops vars[] = {{"scalar", LB_ISA_SCALAR, chain1x1_fwd__scalar, NULL, 0},
                                 {"offbyone", LB_ISA_SCALAR, fwd_off_by_one, NULL, 0},
                                 {"nobias", LB_ISA_SCALAR, fwd_no_last_bias, NULL, 0}};
    const chain1x1_desc d = {61, 3, {4, 64, 48, 80}, {1, 1, 1}, 0.01f, {{0}}};
    vf_report r;
    vf_report_init(&r, stderr, VF_ALL_ISAS, false);
    verify_chain1x1_variants(&r, &d, vars, 3);
    /* per broken variant: inference and keep mode, against the reference and unfused, each fails */
    print_message("broken variants: %d of %d checks failed\n", r.failed, r.checked);
    assert_true(r.failed >= 6);
    vf_report_fini(&r);
}

/* The dispatched chain against the dispatched conv2d + lrelu on task1-eq's chain at 60x4 x 4. */
static void test_dispatched_vs_unfused(void **state) {
    (void)state;
    const lb_dispatch *k = lb_dispatch_get();
    const chain1x1_desc d = {960, 3, {4, 64, 48, 80}, {1, 1, 1}, 0.01f, {{0}}};
    float *x[4], *w[3], *b[3], *got = vf_alloc(960 * 80);
    x[0] = vf_alloc(960 * 4);
    vf_fill_uniform(x[0], 960 * 4, 1, -2, 2);
    for (int l = 0; l < 3; l++) {
        w[l] = vf_alloc(chain1x1_w_size(&d, l)), b[l] = vf_alloc((size_t)d.c[l + 1]);
        x[l + 1] = vf_alloc(960 * (size_t)d.c[l + 1]);
        vf_fill_uniform(w[l], chain1x1_w_size(&d, l), 2 + (uint64_t)l, -0.3f, 0.3f);
        vf_fill_uniform(b[l], (size_t)d.c[l + 1], 9 + (uint64_t)l, -0.5f, 0.5f);
        const conv2d_desc cd = {4, 60, 4, d.c[l], d.c[l + 1], 1, 1, 1, 1, 1, {{0}}};
        k->conv2d->fwd(&cd, x[l], w[l], b[l], x[l + 1]);
        k->act->lrelu_fwd(960 * (size_t)d.c[l + 1], 0.01f, x[l + 1], x[l + 1]);
    }
    k->chain1x1->fwd(&d, x[0], (const float *const *)w, (const float *const *)b, got, NULL);
    double worst = 0, m = 0;
    size_t same = 0;
    for (size_t i = 0; i < 960 * 80; i++) {
        const double e = fabs((double)got[i] - x[3][i]), v = fabs((double)x[3][i]);
        if (e > worst) worst = e;
        if (v > m) m = v;
        same += got[i] == x[3][i];
    }
    print_message("chain1x1 %s vs conv2d %s + act %s: max |diff| %.3g (max |value| %.3g), %zu of %d bit-identical\n",
                  k->chain1x1->name, k->conv2d->name, k->act->name, worst, m, same, 960 * 80);
    assert_true(m > 0.1);
    assert_true(worst <= 1e-5 * m);
    for (int l = 0; l < 4; l++) free(x[l]);
    for (int l = 0; l < 3; l++) free(w[l]), free(b[l]);
    free(got);
}

static void fill_input(int16_t *x, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) x[i] = (int16_t)((int)(rng(&seed) % 5) - 2);
}

static void assert_close(const char *what, const float *a, const float *b, size_t n, double rtol) {
    double m = 0, worst = 0;
    /* plain comparisons: gcc 12's AArch64 vectorizer crashed on these fmax reductions */
    for (size_t i = 0; i < n; i++) {
        const double v = fabs((double)b[i]), e = fabs((double)a[i] - b[i]) - rtol * v;
        if (v > m) m = v;
        if (e > worst) worst = e;
    }
    print_message("%s: max excess over rtol %g: %.3g (max |value| %.3g)\n", what, rtol, worst, m);
    assert_true(worst <= 1e-5 * m);
}

/* A preset's eval (and training step) with the chain on and off: the same outputs, loss, grads. */
static void model_on_off(const char *preset, bool train, int threads) {
    net_spec spec;
    char err[256];
    assert_true(netspec_parse(netspec_preset(preset), &spec, err, sizeof err));
    const int n = 6;
    nn_model *m = nn_model_create(&spec, 60, 4, n, threads, train, err, sizeof err);
    assert_non_null(m);
    nn_model_init(m, 3);
    int16_t *x = malloc((size_t)n * 4 * 240 * sizeof *x);
    fill_input(x, (size_t)n * 4 * 240, 5);
    nn_model_set_input(m, x, NULL, n);
    const size_t no = (size_t)n * nn_model_outputs(m), np = nn_model_param_count(m);
    float *y = calloc(no, sizeof *y), *out0 = malloc(no * sizeof *out0), *g0 = malloc(np * sizeof *g0);
    assert_int_equal(nn_model_set_chain(m, 0), 1);
    memcpy(out0, nn_model_forward(m, n), no * sizeof *out0);
    if (train) nn_model_backward(m, n, y), memcpy(g0, nn_model_grads(m), np * sizeof *g0);
    nn_model_set_chain(m, 1);
    char what[96];
    snprintf(what, sizeof what, "%s %s %d thread(s), outputs", preset, train ? "train" : "eval", threads);
    assert_close(what, nn_model_forward(m, n), out0, no, 1e-4);
    if (train) {
        nn_model_backward(m, n, y);
        snprintf(what, sizeof what, "%s train %d thread(s), gradients", preset, threads);
        assert_close(what, nn_model_grads(m), g0, np, 1e-3);
    }
    free(x), free(y), free(out0), free(g0);
    nn_model_free(m);
}

static void test_model_chain(void **state) {
    (void)state;
    model_on_off("task1-eq", false, 1);
    model_on_off("task1-st", false, 2);
    model_on_off("task1-eq", true, 2);
}

/* The default rule under a tuning profile: its conv2d entries for a chain's layers (timed layer by layer)
 * leave the chain on, whether they kept the default or chose another variant. */
static void test_chain_default_under_profile(void **state) {
    (void)state;
    net_spec spec;
    char err[256];
    assert_true(netspec_parse(netspec_preset("task1-eq"), &spec, err, sizeof err));
    nn_model *m = nn_model_create(&spec, 60, 4, 4, 1, false, err, sizeof err);
    assert_non_null(m);
    const lb_dispatch *d = lb_dispatch_get();
    if (d->chain1x1->isa == LB_ISA_SCALAR || d->chain1x1->isa != d->conv2d->isa) {
        print_message("NOTE: no SIMD chain1x1 at the conv2d dispatch's ISA here (%s): the default rule keeps the chain "
                      "off, checked as such\n", lb_isa_name(d->conv2d->isa));
        assert_int_equal(nn_model_chains_on(m), 0);
        nn_model_free(m);
        return;
    }
    assert_int_equal(nn_model_chains_on(m), 1);
    lb_profile_entry e = {.op = "conv2d", .pass = LB_PASS_FWD, .problem = "any", .isa = d->cap, .threads = 1};
    snprintf(e.variant, sizeof e.variant, "%s", d->conv2d->name);
    lb_profile p = {.n = 1, .entries = &e};
    nn_model_set_profile(m, &p);
    assert_int_equal(nn_model_chains_on(m), 1);   /* the default kept: still fused */
    int nv;
    const conv2d_ops *v = lb_conv2d_variants(&nv);
    const char *other = NULL;
    for (int i = 0; i < nv && !other; i++)
        if (strcmp(v[i].name, d->conv2d->name) && v[i].isa == LB_ISA_SCALAR) other = v[i].name;
    assert_non_null(other);
    snprintf(e.variant, sizeof e.variant, "%s", other);
    nn_model_set_profile(m, &p);
    assert_int_equal(nn_model_chains_on(m), 1);   /* still fused: the fusion's gain is the larger */
    nn_model_set_profile(m, NULL);
    assert_int_equal(nn_model_chains_on(m), 1);
    nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_default_under_profile),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_broken_caught),
        cmocka_unit_test(test_dispatched_vs_unfused),
        cmocka_unit_test(test_model_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The tuning profile applied per conv layer (lib/nn/conv_choice.h, nn_model_set_profile): conv2d's
 * nearest-shape rule in lb_profile_choice; a model's forward and backward with a profile choosing
 * scalar for one layer and a SIMD variant for another agree with the default's within verify's
 * tolerance; `latbench info` prints the coverage of the presets' conv layers; a profile made on
 * another CPU is refused and no layer uses it.  No timings are asserted.
 * LATBENCH_BIN (set by tests/run.sh) names the binary of the build under test. */
/* gcc 12's AArch64 cross compiler stops with an internal error (vect_transform_reduction) vectorizing
 * this file's float reductions at -O3; the test needs no vector code. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__aarch64__)
#pragma GCC optimize("no-tree-vectorize")
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch/conv2d_problem.h"
#include "arch/profile.h"
#include "arch/registry.h"
#include "lib/nn/model.h"
#include "tools/machine/machine.h"
#include "tests/profile_fixture.h"

static cli_result R;
static char tmpdir[256];
static lb_profile_identity HERE;

static int setup(void **state) {
    (void)state;
    return profile_fixture_setup(tmpdir, sizeof tmpdir, "latbench-test-profile-apply-", &HERE);
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

static lb_profile_entry entry(lb_pass pass, const char *problem, lb_isa isa, int threads, const char *variant) {
    lb_profile_entry e = {.pass = pass, .isa = isa, .threads = threads, .time_s = 1e-3, .default_time_s = 2e-3,
                          .speedup = 2.0, .spread = 0.05};
    snprintf(e.op, sizeof e.op, "conv2d");
    snprintf(e.problem, sizeof e.problem, "%s", problem);
    snprintf(e.variant, sizeof e.variant, "%s", variant);
    return e;
}

/* conv2d: the same kernel, stride, bias and channels only; then the nearest batch and lattice sites
 * (octaves), the aspect last; else "any"; else none. */
static void test_conv2d_nearest_rule(void **state) {
    (void)state;
    const lb_isa I = LB_ISA_SCALAR;
    lb_profile_entry e[] = {
        entry(LB_PASS_FWD, "mb128_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1", I, 1, "scalar"),
        entry(LB_PASS_FWD, "mb16_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1", I, 1, "scalar"),
        entry(LB_PASS_FWD, "mb128_ic4oc64_ih8iw8_kh1kw1_sh1sw1_b1", I, 1, "scalar"),
        entry(LB_PASS_FWD, "mb128_ic4oc64_ih4iw60_kh1kw1_sh1sw1_b1", I, 1, "scalar"),
        entry(LB_PASS_FWD, "mb128_ic4oc32_ih8iw8_kh2kw2_sh1sw1_b0", I, 1, "scalar"),
    };
    lb_profile p = {.n = 5, .entries = e};
#define CH(prob) lb_profile_choice(&p, "conv2d", LB_PASS_FWD, prob, I, 1)
    assert_ptr_equal(CH("mb128_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1"), &e[0]);   /* itself */
    assert_ptr_equal(CH("mb100_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1"), &e[0]);   /* nearest batch */
    assert_ptr_equal(CH("mb20_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1"), &e[1]);
    assert_ptr_equal(CH("mb128_ic4oc64_ih8iw10_kh1kw1_sh1sw1_b1"), &e[2]);   /* nearest sites */
    assert_ptr_equal(CH("mb128_ic4oc64_ih5iw50_kh1kw1_sh1sw1_b1"), &e[3]);   /* same sites as 60x4: the aspect */
    assert_ptr_equal(CH("mb128_ic4oc64_ih50iw5_kh1kw1_sh1sw1_b1"), &e[0]);
    assert_ptr_equal(CH("mb1_ic4oc32_ih64iw64_kh2kw2_sh1sw1_b0"), &e[4]);    /* far, but the only one */
    assert_null(CH("mb128_ic4oc32_ih8iw8_kh2kw2_sh1sw1_b1"));                /* bias differs */
    assert_null(CH("mb128_ic4oc32_ih8iw8_kh2kw2_sh2sw2_b0"));                /* stride differs */
    assert_null(CH("mb128_ic8oc32_ih8iw8_kh2kw2_sh1sw1_b0"));                /* channels differ */
    assert_null(CH("mb128_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1_x"));             /* not the grammar */
    assert_null(lb_profile_choice(&p, "conv2d", LB_PASS_BWD_DATA, "mb128_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1", I, 1));
    e[1] = entry(LB_PASS_FWD, "any", I, 1, "scalar");
    assert_ptr_equal(CH("mb128_ic8oc32_ih8iw8_kh2kw2_sh1sw1_b0"), &e[1]);    /* no shape near: "any" */
    assert_ptr_equal(CH("mb100_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1"), &e[0]);   /* a near shape before "any" */
#undef CH
    /* the grammar is the one tools/problems prints */
    char s[128];
    conv2d_desc d = {256, 8, 8, 4, 32, 1, 1, 1, 1, 0, {{0}}};
    lb_conv2d_problem_str(&d, s, sizeof s);
    assert_string_equal(s, "mb256_ic4oc32_ih8iw8_kh1kw1_sh1sw1_b0");
}

/* A net with fused (conv + lrelu) and unfused convs, each with its own shape. */
static const char *NET = "conv 3x3 4 8\nlrelu\nconv 1x1 8 8\nlrelu\nconv* 2x2 8 4\ngavgpool\nlinear 4 2\n";
enum { B = 5, H = 8, W = 8, T = 2 };

static void run_model(nn_model *m, const int16_t *x, const float *y, float *out, float *grads) {
    nn_model_set_input(m, x, NULL, B);
    memcpy(out, nn_model_forward(m, B), B * 2 * sizeof(float));
    nn_model_backward(m, B, y);
    memcpy(grads, nn_model_grads(m), nn_model_param_count(m) * sizeof(float));
}

/* |a - b| <= 1e-5 * max |b| + 1e-6 everywhere: verify's order-of-summation slack for float inputs. */
static void assert_close(const float *a, const float *b, size_t n) {
    double mx = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(b[i]));
    for (size_t i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > 1e-5 * mx + 1e-6) fail_msg("element %zu: %g vs %g (max %g)", i, a[i], b[i], mx);
}

static void test_model_agrees_with_profile(void **state) {
    (void)state;
    const lb_dispatch *d = lb_dispatch_get();
    const char *simd = NULL;
    int nv;
    const conv2d_ops *v = lb_conv2d_variants(&nv);
    for (int i = 0; i < nv; i++)   /* the lowest SIMD variant this CPU runs under the cap (avx2, neon) */
        if (v[i].isa != LB_ISA_SCALAR && lb_isa_usable(&d->cpu, d->cap, v[i].isa) && !simd) simd = v[i].name;
    if (!simd) {
        printf("test_profile_apply: no SIMD conv2d variant runs here (cap %s): both layers get scalar\n", lb_isa_name(d->cap));
        simd = "scalar";
    }
    net_spec spec;
    char err[256];
    assert_true(netspec_parse(NET, &spec, err, sizeof err));
    nn_model *m = nn_model_create(&spec, H, W, B, T, true, err, sizeof err);
    assert_non_null(m);
    nn_model_init(m, 3);
    int16_t x[B * 4 * H * W];
    float y[B * 2];
    for (int i = 0; i < B * 4 * H * W; i++) x[i] = (int16_t)(i * 7 % 5 - 2);
    for (int i = 0; i < B * 2; i++) y[i] = (float)(i % 3) * 0.5f;
    const size_t np = nn_model_param_count(m);
    float out0[B * 2], out1[B * 2], *g0 = malloc(np * sizeof(float)), *g1 = malloc(np * sizeof(float));
    nn_model_set_profile(m, NULL);
    for (int pass = 0; pass < LB_N_PASSES; pass++)
        assert_string_equal(nn_model_conv_choice(m, 0, (lb_pass)pass).ops->name, d->conv2d->name);
    run_model(m, x, y, out0, g0);
    /* layer 0: scalar, layer 2: the SIMD variant (its exact shapes), layer 4: by nearest batch */
    char p0[128], p2[128], p4[128];
    conv2d_desc d0 = {B, H, W, 4, 8, 3, 3, 1, 1, 1, {{0}}}, d2 = {B, H, W, 8, 8, 1, 1, 1, 1, 1, {{0}}},
                d4 = {4 * B, H, W, 8, 4, 2, 2, 1, 1, 0, {{0}}};
    lb_conv2d_problem_str(&d0, p0, sizeof p0), lb_conv2d_problem_str(&d2, p2, sizeof p2), lb_conv2d_problem_str(&d4, p4, sizeof p4);
    lb_profile_entry e[3 * LB_N_PASSES];
    for (int pass = 0; pass < LB_N_PASSES; pass++) {
        e[3 * pass] = entry((lb_pass)pass, p0, d->cap, T, "scalar");
        e[3 * pass + 1] = entry((lb_pass)pass, p2, d->cap, 1, simd);   /* threads: the nearest count */
        e[3 * pass + 2] = entry((lb_pass)pass, p4, d->cap, T, "scalar");
    }
    lb_profile p = {.id = HERE, .n = 3 * LB_N_PASSES, .entries = e};
    nn_model_set_profile(m, &p);
    for (int pass = 0; pass < LB_N_PASSES; pass++) {
        nn_conv_choice c0 = nn_model_conv_choice(m, 0, (lb_pass)pass), c2 = nn_model_conv_choice(m, 2, (lb_pass)pass),
                       c4 = nn_model_conv_choice(m, 4, (lb_pass)pass);
        assert_string_equal(c0.ops->name, "scalar");
        assert_int_equal(c0.how, NN_TUNED_EXACT);
        assert_string_equal(c2.ops->name, simd);
        assert_int_equal(c2.how, NN_TUNED_EXACT);
        assert_string_equal(c4.ops->name, "scalar");
        assert_int_equal(c4.how, NN_TUNED_NEAREST);
        assert_ptr_equal(c4.entry, &e[3 * pass + 2]);
    }
    run_model(m, x, y, out1, g1);
    assert_close(out1, out0, B * 2);
    assert_close(g1, g0, np);
    nn_model_set_profile(m, NULL);   /* and back: the default again, the same results */
    run_model(m, x, y, out1, g1);
    assert_memory_equal(out1, out0, sizeof out0);
    assert_memory_equal(g1, g0, np * sizeof(float));
    free(g0), free(g1);
    nn_model_free(m);
}

/* A profile with task1-eq's first conv (the same shape as task1-fl's first) tuned for fwd at its
 * training shape and for bwd_data at batch 64. */
static void save_profile(const char *path, const lb_profile_identity *id) {
    lb_profile_entry e[2] = {
        entry(LB_PASS_FWD, "mb128_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1", id->isa_cap, 1, "scalar"),
        entry(LB_PASS_BWD_DATA, "mb64_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1", id->isa_cap, 1, "scalar"),
    };
    lb_profile p = {.id = *id, .n = 2, .entries = e};
    char err[1400];
    assert_true(lb_profile_save(path, &p, err, sizeof err));
}

static void test_info_coverage(void **state) {
    (void)state;
    char path[400], env[600], want[400];
    snprintf(path, sizeof path, "%s/here.json", tmpdir);
    save_profile(path, &HERE);
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s", path);
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 0);
    const char *def = lb_dispatch_get()->conv2d->name;
    snprintf(want, sizeof want,
             "    task1-eq:conv1 mb128_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1: fwd scalar (tuned exactly), bwd_data scalar (by "
             "nearest shape mb64_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1), bwd_weights %s (default)\n", def);
    if (!strstr(R.out, want)) fail_msg("no line\n%s\nin\n%s", want, R.out);
    assert_non_null(strstr(R.out, "    task1-fl:conv1 mb128_ic4oc64_ih60iw4_kh1kw1_sh1sw1_b1: fwd scalar (tuned exactly)"));
    snprintf(want, sizeof want, "    task3-eq1:conv1 mb128_ic4oc32_ih8iw8_kh1kw1_sh1sw1_b0: fwd %s (default)", def);
    assert_non_null(strstr(R.out, want));
    assert_non_null(strstr(R.out, "  coverage: 2 layer passes tuned exactly, 2 by nearest shape, "));
    assert_non_null(strstr(R.out, "conv2d: the same kernel, stride, bias and channels, the nearest batch"));
}

/* Another CPU's profile with the same conv2d entries: refused with the reason, no coverage shown. */
static void test_foreign_refused(void **state) {
    (void)state;
    char path[400], env[600];
    lb_profile_identity other = HERE;
    snprintf(other.slug, sizeof other.slug, "some-other-cpu-64c");
    other.cores = HERE.cores + 62;
    snprintf(path, sizeof path, "%s/foreign.json", tmpdir);
    save_profile(path, &other);
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s", path);
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "made on some-other-cpu-64c"));
    assert_non_null(strstr(R.out, "not applied (slug differs"));
    assert_null(strstr(R.out, "tuned exactly"));
    assert_null(strstr(R.out, "coverage:"));
    lb_profile q;
    char err[1400];
    assert_int_equal(lb_profile_load(path, &HERE, &q, err, sizeof err), LB_PROFILE_FOREIGN);
}

/* verify checks the profile's parameter sets: on the entry's own shape (batch cut to 4) and on any
 * shape --desc names, each set once per pass, counted in the summary line. */
static void test_verify_profile_sets(void **state) {
    (void)state;
    const lb_dispatch *d = lb_dispatch_get();
    int n;
    const conv2d_ops *v = lb_conv2d_variants(&n), *tun = NULL;
    for (int i = 0; i < n && !tun; i++)
        if (v[i].nparams >= 2 && lb_isa_usable(&d->cpu, d->cap, v[i].isa)) tun = &v[i];
    if (!tun) {
        print_message("NOTE no conv2d variant with parameters runs here: the profile's sets are not checked\n");
        return;
    }
    lb_profile_entry e[3] = {entry(LB_PASS_FWD, "mb128_ic16oc16_ih8iw8_kh3kw3_sh1sw1_b1", tun->isa, 1, tun->name),
                             entry(LB_PASS_BWD_WEIGHTS, "mb128_ic16oc16_ih8iw8_kh3kw3_sh1sw1_b1", tun->isa, 1, tun->name),
                             entry(LB_PASS_BWD_WEIGHTS, "mb64_ic16oc16_ih8iw8_kh3kw3_sh1sw1_b1", tun->isa, 1, tun->name)};
    for (int k = 0; k < 3; k++) e[k].params.v[0] = tun->params[0].min, e[k].params.v[1] = tun->params[1].max;
    /* e[2] has e[1]'s set: checked once */
    lb_profile p = {.id = HERE, .n = 3, .entries = e};
    char path[400], env[600], args[900], err[1400], want[256];
    snprintf(path, sizeof path, "%s/verify.json", tmpdir);
    if (!lb_profile_save(path, &p, err, sizeof err)) fail_msg("%s", err);
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s", path);
    cli_latbench(&R, env, "verify --no-onednn --desc conv2d/mb2_ic16oc16_ih5iw7_kh3kw3_sh1sw1_b1");
    if (R.status || !strstr(R.out, ", 2 at the profile's parameter sets)")) fail_msg("status %d: %s", R.status, R.out);
    snprintf(want, sizeof want, "/%s.{%s=%d,%s=%d}", tun->name, tun->params[0].name, tun->params[0].min, tun->params[1].name,
             tun->params[1].max);
    snprintf(args, sizeof args, "verify --no-onednn --verbose --filter conv2d_fwd/mb4_ic16oc16_ih8iw8_kh3kw3_sh1sw1_b1%s", want);
    cli_latbench(&R, env, args);   /* the entry's own shape at batch 4, found by the profile alone */
    if (R.status || !strstr(R.out, ", 1 at the profile's parameter sets)") || !strstr(R.out, want))
        fail_msg("status %d: %s", R.status, R.out);
    cli_latbench(&R, "LATBENCH_PROFILE=off", "verify --no-onednn --desc conv2d/mb2_ic16oc16_ih5iw7_kh3kw3_sh1sw1_b1");
    if (R.status || !strstr(R.out, ", 0 at the profile's parameter sets)")) fail_msg("status %d: %s", R.status, R.out);
}

/* bench with a profile: the conv row's choice timed beside the default, the context names the
 * profile (the times are not asserted). */
static void test_bench_side_by_side(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("a bench run");
    char path[400], env[600];
    snprintf(path, sizeof path, "%s/bench.json", tmpdir);
    lb_profile_entry e = entry(LB_PASS_FWD, "mb2_ic4oc8_ih8iw8_kh1kw1_sh1sw1_b0", HERE.isa_cap, 1, "scalar");
    lb_profile p = {.id = HERE, .n = 1, .entries = &e};
    char err[1400];
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s", path);
    cli_latbench(&R, env, "bench --desc conv2d/mb2_ic4oc8_ih8iw8_kh1kw1_sh1sw1_b0 --threads 1 --quick --no-json --no-history "
                          "--baseline none");
    if (R.status) fail_msg("%s", R.out);
    char want[600];
    snprintf(want, sizeof want, "profile   %s (made on %s", path, HERE.slug);
    assert_non_null(strstr(R.out, want));
    assert_non_null(strstr(R.out, "    tuned  scalar (tuned exactly) "));
    snprintf(want, sizeof want, "    tuned  %s (default) ", lb_dispatch_get()->conv2d->name);   /* bwd passes: no entry */
    assert_non_null(strstr(R.out, want));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_nearest_rule),
        cmocka_unit_test(test_model_agrees_with_profile),
        cmocka_unit_test(test_info_coverage),
        cmocka_unit_test(test_foreign_refused),
        cmocka_unit_test(test_bench_side_by_side),
        cmocka_unit_test(test_verify_profile_sets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* The tuning profile's chain1x1 op (arch/profile.h, kernels/chain1x1/chain1x1_problem.h, lib/nn/conv_choice.h):
 * the descriptor grammar and its distance; a profile with chain1x1 entries ("unfused", a variant
 * with a tile) survives the round trip; a tile out of range, a malformed descriptor and a backward
 * pass are refused with one line naming the entry; the model applies the entry (unfused or fused at
 * a tile, exactly or by the nearest site count) and both give the same outputs within verify's
 * tolerance; without a chain1x1 entry the default rule stands. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/chain1x1/chain1x1_problem.h"
#include "lib/nn/model.h"
#include "tests/profile_fixture.h"

static char tmpdir[256];
static lb_profile_identity HERE;

static int setup(void **state) {
    (void)state;
    return profile_fixture_setup(tmpdir, sizeof tmpdir, "latbench-test-profile-chain-", &HERE);
}
static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

static lb_profile_entry entry(const char *problem, lb_isa isa, const char *variant, int tile) {
    lb_profile_entry e = {.op = "chain1x1", .pass = LB_PASS_FWD, .isa = isa, .threads = 1, .time_s = 1e-3,
                          .default_time_s = 1.5e-3, .speedup = 1.5, .spread = 0.25};
    snprintf(e.problem, sizeof e.problem, "%s", problem);
    snprintf(e.variant, sizeof e.variant, "%s", variant);
    e.params.v[0] = tile;
    return e;
}

/* The SIMD chain1x1 variant this CPU runs at the highest isa, or NULL. */
static const chain1x1_ops *simd_chain(void) {
    const lb_dispatch *d = lb_dispatch_get();
    return d->chain1x1->isa != LB_ISA_SCALAR ? d->chain1x1 : NULL;
}

static void test_descriptor(void **state) {
    (void)state;
    const chain1x1_desc d = {480, 3, {4, 64, 48, 80}, {1, 0, 1}, 0.01f, {{0}}};
    char s[128];
    lb_chain1x1_problem_str(&d, s, sizeof s);
    assert_string_equal(s, "s480_c4-64-48-80_b101");
    chain1x1_desc q;
    assert_true(lb_chain1x1_problem_parse(s, &q));
    assert_int_equal(q.sites, 480);
    assert_int_equal(q.layers, 3);
    assert_memory_equal(q.c, d.c, sizeof d.c);
    assert_memory_equal(q.bias, d.bias, sizeof d.bias);
    assert_true(lb_chain1x1_problem_parse("s1_c1-128-1-128-1_b0000", &q));
    static const char *const bad[] = {"", "s0_c4-8-8_b11", "s480_c4-8_b1", "s480_c4-8-8_b111", "s480_c4-8-8-8-8-8_b11111",
                                      "s480_c4-129-8_b11", "s480_c4-8-8_b12", "s480_c4-08-8_b11", "s480_c4-8-8_b11x",
                                      "s480_c4-0-8_b11", "any"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (lb_chain1x1_problem_parse(bad[i], &q)) fail_msg("'%s' parsed", bad[i]);
    assert_int_equal(lb_chain1x1_distance("s480_c4-8-8_b11", "s960_c4-8-8_b11"), 10000);
    assert_int_equal(lb_chain1x1_distance("s480_c4-8-8_b11", "s480_c4-8-8_b10"), -1);
    assert_int_equal(lb_chain1x1_distance("s480_c4-8-8_b11", "s480_c4-8-9_b11"), -1);
}

/* Save, load: every field back; the nearest site count is chosen before "any". */
static void test_round_trip(void **state) {
    (void)state;
    const chain1x1_ops *v = simd_chain();
    char path[400], err[1400];
    snprintf(path, sizeof path, "%s/chain.json", tmpdir);
    lb_profile_entry e[3] = {entry("s480_c4-64-48-80_b111", HERE.isa_cap, LB_CHAIN1X1_UNFUSED, 0),
                             entry("any", HERE.isa_cap, "scalar", 0),
                             entry("s960_c4-64-48-80_b111", HERE.isa_cap, v ? v->name : "scalar", v ? 32 : 0)};
    lb_profile p = {.id = HERE, .n = 3, .entries = e}, q;
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    if (lb_profile_load(path, &HERE, &q, err, sizeof err) != LB_PROFILE_OK) fail_msg("%s", err);
    assert_int_equal(q.n, 3);
    for (int i = 0; i < 3; i++) assert_memory_equal(&q.entries[i], &e[i], sizeof e[i]);
    assert_ptr_equal(lb_profile_choice(&q, "chain1x1", LB_PASS_FWD, "s1920_c4-64-48-80_b111", HERE.isa_cap, 1), &q.entries[2]);
    assert_ptr_equal(lb_profile_choice(&q, "chain1x1", LB_PASS_FWD, "s400_c4-64-48-80_b111", HERE.isa_cap, 1), &q.entries[0]);
    assert_ptr_equal(lb_profile_choice(&q, "chain1x1", LB_PASS_FWD, "s400_c4-64-48-80_b110", HERE.isa_cap, 1), &q.entries[1]);
    lb_profile_free(&q);
}

/* One changed field of entries[2] of a saved profile: refused, the message naming the entry. */
static void expect_refused(const char *key, json_t *val, const char *want) {
    const chain1x1_ops *v = simd_chain();
    char path[400], err[1400];
    snprintf(path, sizeof path, "%s/bad.json", tmpdir);
    lb_profile_entry e[3] = {entry("s480_c4-64-48-80_b111", HERE.isa_cap, LB_CHAIN1X1_UNFUSED, 0),
                             entry("any", HERE.isa_cap, "scalar", 0),
                             entry("s960_c4-64-48-80_b111", HERE.isa_cap, v ? v->name : "scalar", v ? 16 : 0)};
    lb_profile p = {.id = HERE, .n = 3, .entries = e}, q;
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    json_t *root = json_load_file(path, 0, NULL);
    json_t *o = json_array_get(json_object_get(root, "entries"), 2);
    if (!strcmp(key, "tile")) json_object_set_new(json_object_get(o, "params"), "tile", val);
    else json_object_set_new(o, key, val);
    assert_int_equal(json_dump_file(root, path, 0), 0);
    json_decref(root);
    assert_int_equal(lb_profile_load(path, &HERE, &q, err, sizeof err), LB_PROFILE_DAMAGED);
    print_message("  %s: %s\n", key, err);
    assert_non_null(strstr(err, want));
}

static void test_refused(void **state) {
    (void)state;
    const chain1x1_ops *v = simd_chain();
    if (v) {
        expect_refused("tile", json_integer(65), "entries[2].params.tile: 65 is out of range (0 or 8..64)");
        expect_refused("tile", json_integer(4), "entries[2].params.tile: 4 is out of range (0 or 8..64)");
    } else {
        print_message("  NOTE: no SIMD chain1x1 here: the tile checks use scalar's empty table\n");
        expect_refused("tile", json_integer(32), "entries[2].params: variant scalar accepts no parameter 'tile'");
    }
    expect_refused("problem", json_string("s960_c4-64-48-80"), "entries[2].problem: 's960_c4-64-48-80' is not a chain1x1 descriptor");
    expect_refused("pass", json_string("bwd_data"), "entries[2].pass: chain1x1 has only fwd");
    expect_refused("variant", json_string("fused"), "entries[2].variant: 'fused' is not a chain1x1 variant");
}

static void fill_input(int16_t *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = (int16_t)((int)((i * 2654435761u) >> 7 & 7) - 3);
}

/* task1-eq eval under a profile saying unfused and one saying fused at tile 8: the choice applied
 * (how, ops, params), the outputs equal within verify's tolerance. */
static void test_model_unfused_vs_fused(void **state) {
    (void)state;
    net_spec spec;
    char err[256], prob[128];
    assert_true(netspec_parse(netspec_preset("task1-eq"), &spec, err, sizeof err));
    const int n = 3;
    nn_model *m = nn_model_create(&spec, 60, 4, n, 1, false, err, sizeof err);
    assert_non_null(m);
    nn_model_init(m, 7);
    int16_t *x = malloc((size_t)n * 4 * 240 * sizeof *x);
    fill_input(x, (size_t)n * 4 * 240);
    nn_model_set_input(m, x, NULL, n);
    chain1x1_desc d;
    nn_chain_choice c;
    int first = -1;
    for (int i = 0; i < nn_model_layers(m) && first < 0; i++)
        if (nn_model_chain_at(m, i, &d, &c)) first = i;
    assert_true(first >= 0);
    assert_int_equal(d.sites, (size_t)n * 240);
    assert_int_equal(c.how, NN_TUNED_DEFAULT);
    assert_ptr_equal(c.ops, nn_chain_default_fused(lb_dispatch_get(), false) ? lb_dispatch_get()->chain1x1 : NULL);
    lb_chain1x1_problem_str(&d, prob, sizeof prob);
    const lb_isa cap = lb_dispatch_get()->cap;
    lb_profile_entry e = entry(prob, cap, LB_CHAIN1X1_UNFUSED, 0);
    lb_profile p = {.n = 1, .entries = &e};
    nn_model_set_profile(m, &p);
    assert_true(nn_model_chain_at(m, first, NULL, &c));
    assert_null(c.ops);
    assert_int_equal(c.how, NN_TUNED_EXACT);
    assert_int_equal(nn_model_chains_on(m), 0);
    const size_t no = (size_t)n * nn_model_outputs(m);
    float *out0 = malloc(no * sizeof *out0);
    memcpy(out0, nn_model_forward(m, n), no * sizeof *out0);
    const chain1x1_ops *v = simd_chain();
    e = entry("s1440_c4-64-48-80_b111", cap, v ? v->name : "scalar", v ? 8 : 0);   /* the nearest: 2x the sites */
    nn_model_set_profile(m, &p);
    assert_true(nn_model_chain_at(m, first, NULL, &c));
    assert_non_null(c.ops);
    assert_string_equal(c.ops->name, v ? v->name : "scalar");
    assert_int_equal(c.params.v[0], v ? 8 : 0);
    assert_int_equal(c.how, NN_TUNED_NEAREST);
    assert_int_equal(nn_model_chains_on(m), 1);
    const float *out1 = nn_model_forward(m, n);
    double worst = 0, big = 0;
    for (size_t i = 0; i < no; i++) { /* plain comparisons: gcc 12's AArch64 vectorizer fails on two fmax reductions */
        const double excess = fabs((double)out1[i] - out0[i]) - 1e-4 * fabs((double)out0[i]), mag = fabs((double)out0[i]);
        if (excess > worst) worst = excess;
        if (mag > big) big = mag;
    }
    print_message("  unfused vs %s tile 8: max excess over rtol 1e-4: %.3g (max |value| %.3g)\n", v ? v->name : "scalar",
                  worst, big);
    assert_true(worst <= 1e-5 * big);
    free(out0), free(x);
    nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_model_unfused_vs_fused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

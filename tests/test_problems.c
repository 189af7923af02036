/* Problem names in both directions (tools/problems/problem.h): the parser is the exact inverse of
 * the printer over every problem of the verification set and over random shapes, it reads the names
 * verify prints, it refuses malformed names with one line, and `latbench verify|bench --desc` run a
 * shape outside the built-in set. */
#include <stdio.h>
#include <string.h>
#include "tools/problems/problem.h"
#include "tools/verify/verify_ops.h"
#include "tools/verify/verify_problems.h"
#include "tests/test_util.h"

/* str(p) parses back to p, and printing that gives the same string again */
static void round_trip(const lb_problem *p) {
    char s[192], s2[192], err[256] = "";
    assert_true(lb_problem_str(p, s, sizeof s) < (int)sizeof s);
    lb_problem q;
    lb_problem_sel sel;
    if (!lb_problem_parse(s, &q, &sel, err, sizeof err)) fail_msg("%s does not parse: %s", s, err);
    assert_true(sel.whole);
    if (memcmp(p, &q, sizeof q)) fail_msg("%s parses to another problem", s);
    lb_problem_str(&q, s2, sizeof s2);
    assert_string_equal(s, s2);
}

/* the shape part is what the verifiers print, and their names (pass/shape/variant@ref) parse to p */
static void verifier_name(const lb_problem *p, const char *printed, const char *pass, const char *suffix) {
    char shape[160], line[256], err[256] = "";
    lb_problem_shape_str(p, shape, sizeof shape);
    if (printed) assert_string_equal(shape, printed);
    snprintf(line, sizeof line, "%s/%s%s/avx2@onednn", pass, shape, suffix);
    lb_problem q;
    lb_problem_sel sel;
    if (!lb_problem_parse(line, &q, &sel, err, sizeof err)) fail_msg("%s does not parse: %s", line, err);
    assert_false(sel.whole);
    assert_string_equal(sel.filter, line);
    assert_memory_equal(p, &q, sizeof q);
}

static int n_seen[8];

static void check(const lb_problem *p, const char *printed, const char *pass, const char *suffix) {
    n_seen[p->kind]++;
    round_trip(p);
    verifier_name(p, printed, pass, suffix);
}

#define PROB(K, F, V) lb_problem p; memset(&p, 0, sizeof p); p.kind = K; p.u.F = V
static void on_conv(void *c, const conv2d_desc *d) {
    PROB(LB_PROB_CONV2D, conv, *d);
    char s[160];
    conv2d_desc_str(d, s, sizeof s);
    check(&p, s, "conv2d_bwd_weights", "");
    (void)c;
}
static void on_pool(void *c, const pool_desc *d) {
    PROB(LB_PROB_POOL, pool, *d);
    char s[160];
    pool_desc_str(d, s, sizeof s);
    check(&p, s, "pool_bwd", "");
    (void)c;
}
static void on_gpool(void *c, const gpool_desc *d) {
    PROB(LB_PROB_GPOOL, gpool, *d);
    char s[160];
    gpool_desc_str(d, s, sizeof s);
    check(&p, s, "gpool_fwd", "");
    (void)c;
}
static void on_dense(void *c, const dense_desc *d) {
    PROB(LB_PROB_DENSE, dense, *d);
    char s[160];
    dense_desc_str(d, s, sizeof s);
    check(&p, s, "dense_bwd_data", "");
    (void)c;
}
static void on_flatten(void *c, const flatten_desc *d) {
    PROB(LB_PROB_FLATTEN, flatten, *d);
    check(&p, NULL, "flatten_fwd", "");
    (void)c;
}
static void on_act(void *c, size_t n) {
    PROB(LB_PROB_ACT, n, n);
    check(&p, NULL, "sigmoid_bwd", "_inplace");
    (void)c;
}
static void on_loss(void *c, size_t n) {
    PROB(LB_PROB_LOSS, n, n);
    check(&p, NULL, "loss_bce_logits", "_wide");
    (void)c;
}
static void on_optim(void *c, size_t n) {
    PROB(LB_PROB_OPTIM, n, n);
    check(&p, NULL, "adamw", "_amsgrad1_wd0.01");
    (void)c;
}

static void test_builtin_set_round_trips(void **state) {
    (void)state;
    static const vp_visitor v = {on_conv, on_pool, on_gpool, on_dense, on_flatten, on_act, on_loss, on_optim};
    memset(n_seen, 0, sizeof n_seen);
    vp_enumerate(&v, NULL);
    for (int k = 0; k < 8; k++)
        if (!n_seen[k]) fail_msg("no %s problem in the verification set", lb_prob_kind_name((lb_prob_kind)k));
}

static unsigned rnd(unsigned long long *s, unsigned lo, unsigned hi) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (unsigned)((*s >> 33) % (hi - lo + 1));
}

static void test_random_shapes_round_trip(void **state) {
    (void)state;
    unsigned long long s = 42;
    for (int i = 0; i < 2000; i++) {
        lb_problem p;
        memset(&p, 0, sizeof p);
        p.kind = (lb_prob_kind)rnd(&s, 0, 7);
        switch (p.kind) {
        case LB_PROB_CONV2D:
            p.u.conv = (conv2d_desc){(int)rnd(&s, 1, 64), (int)rnd(&s, 1, 99), (int)rnd(&s, 1, 99), (int)rnd(&s, 1, 200),
                                     (int)rnd(&s, 1, 200), (int)rnd(&s, 1, 3), (int)rnd(&s, 1, 3), (int)rnd(&s, 1, 2),
                                     (int)rnd(&s, 1, 2), (int)rnd(&s, 0, 1)};
            break;
        case LB_PROB_POOL: {
            int h = (int)rnd(&s, 1, 70), w = (int)rnd(&s, 1, 70), mx = h < w ? h : w;
            p.u.pool = (pool_desc){(int)rnd(&s, 1, 64), h, w, (int)rnd(&s, 1, 200), (int)rnd(&s, 1, (unsigned)mx),
                                   (int)rnd(&s, 1, 4), (pool_kind)rnd(&s, 0, 1)};
            break;
        }
        case LB_PROB_GPOOL:
            p.u.gpool = (gpool_desc){(int)rnd(&s, 1, 64), (int)rnd(&s, 1, 4096), (int)rnd(&s, 1, 500), (gpool_kind)rnd(&s, 0, 2)};
            break;
        case LB_PROB_DENSE:
            p.u.dense = (dense_desc){(int)rnd(&s, 1, 300), (int)rnd(&s, 1, 5000), (int)rnd(&s, 1, 500), (int)rnd(&s, 0, 1)};
            break;
        case LB_PROB_FLATTEN:
            p.u.flatten = (flatten_desc){(int)rnd(&s, 1, 64), (int)rnd(&s, 1, 99), (int)rnd(&s, 1, 99), (int)rnd(&s, 1, 200)};
            break;
        default: /* shapes within the parser's bounds (tensors of at most 2^28 elements) */
            p.u.n = rnd(&s, 0, 1u << 28);
            break;
        }
        round_trip(&p);
    }
}

static void test_bad_names_refused(void **state) {
    (void)state;
    static const char *const bad[] = {
        "", "conv2d", "conv2d/", "/mb1", "conv3d/mb1_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1",
        "conv2d/mb1_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1 ", "conv2d/mb1_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1x",
        "conv2d/mb0_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1", "conv2d/mb01_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1",
        "conv2d/mb-1_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1", "conv2d/mb+1_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1",
        "conv2d/mb1_ic1oc1_ih1iw1_kh4kw1_sh1sw1_b1", "conv2d/mb1_ic1oc1_ih1iw1_kh1kw1_sh3sw1_b1",
        "conv2d/mb1_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b2", "conv2d/mb99999999999_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1",
        "conv2d/mb65536_ic64oc64_ih64iw64_kh3kw3_sh1sw1_b1", "conv2d/mb1_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1/avx2",
        "conv2d_fwd/mb1_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1/", "conv2d_fwd/mb1_ic1oc1_ih1iw1_kh1kw1_sh1sw1_b1/av x2",
        "pool/min_mb1_c1_ih2iw2_k2s2", "pool/avg_mb1_c1_ih2iw2_k3s1", "pool/avg_mb1_c1_ih2iw2_k2s0",
        "gpool/avg_mb1_c1_hw0", "dense/mb1_ic0oc1_b1", "flatten/mb1_c1_ih1", "act/17", "act/n17_inplace",
        "lrelu_fwd/n17_wide", "loss/n1e3", "adamw/n17_amsgrad2_wd0", "optim/n999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lb_problem p;
        char err[256] = "";
        if (lb_problem_parse(bad[i], &p, NULL, err, sizeof err)) fail_msg("'%s' parsed", bad[i]);
        if (!*err || strchr(err, '\n')) fail_msg("'%s': the error is not one line: '%s'", bad[i], err);
    }
}

/* shapes outside the built-in set run from their names, and the names that cannot are exit 2 */
static void test_desc_on_the_command_line(void **state) {
    (void)state;
    static cli_result R;
    cli_latbench(&R, NULL, "verify --no-onednn --desc conv2d/mb1_ic3oc5_ih11iw13_kh3kw3_sh2sw1_b1");
    if (R.status != 0) fail_msg("verify --desc exited %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "0 mismatches"));
    assert_null(strstr(R.out, "verify: 0 checks"));
    cli_latbench(&R, NULL, "verify --no-onednn -v --desc pool_bwd/max_mb2_c5_ih7iw9_k3s2");
    if (R.status != 0) fail_msg("verify --desc exited %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "ok pool_bwd/max_mb2_c5_ih7iw9_k3s2/"));
    assert_null(strstr(R.out, "ok pool_fwd/"));
    cli_latbench(&R, NULL, "verify --no-onednn --desc act/n1001");
    assert_int_equal(R.status, 0);
    cli_latbench(&R, NULL, "verify --desc conv2d/mb1_ic3oc5_ih11iw13_kh5kw3_sh1sw1_b1");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "kh and kw must be 1 to 3"));
    cli_latbench(&R, NULL, "verify --desc act/n5 --filter x");
    assert_int_equal(R.status, 2);
    cli_latbench(&R, NULL, "bench --no-json --desc act/n17");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    cli_latbench(&R, NULL, "bench --no-json --desc conv2d/mb1_ic1oc1_ih3iw3_kh1kw1_sh1sw1_b1 --batch 2");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_set_round_trips),
        cmocka_unit_test(test_random_shapes_round_trip),
        cmocka_unit_test(test_bad_names_refused),
        cmocka_unit_test(test_desc_on_the_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

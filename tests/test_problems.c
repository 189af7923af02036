/* Problem names in both directions (tools/problems/problem.h): the parser is the exact inverse of
 * the printer over every problem of the verification set and over random shapes, it reads the names
 * verify prints, it refuses malformed names with one line, and `latbench verify|bench --desc` run a
 * shape outside the built-in set.  bench, bench --gbench and the gate draw their layer problems
 * from the one list (tools/problems/netproblems.h). */
#include <stdio.h>
#include <string.h>
#include "tools/problems/netproblems.h"
#include "tools/problems/lists.h"
#include "tools/problems/problem.h"
#include "tools/track/gate.h"
#include "tools/verify/verify_ops.h"
#include "tools/verify/verify_problems.h"
#include "tests/test_util.h"

/* str(p) parses back to p, and printing that gives the same string again */
static void round_trip(const prob_record *p) {
    char s[192], s2[192], err[256] = "";
    assert_true(prob_str(p, s, sizeof s) < (int)sizeof s);
    prob_record q;
    prob_sel sel;
    if (!prob_parse(s, &q, &sel, err, sizeof err)) fail_msg("%s does not parse: %s", s, err);
    assert_true(sel.whole);
    if (memcmp(p, &q, sizeof q)) fail_msg("%s parses to another problem", s);
    prob_str(&q, s2, sizeof s2);
    assert_string_equal(s, s2);
}

/* the shape part is what the verifiers print, and their names (pass/shape/variant@ref) parse to p */
static void verifier_name(const prob_record *p, const char *printed, const char *pass, const char *suffix) {
    char shape[160], line[256], err[256] = "";
    prob_shape_str(p, shape, sizeof shape);
    if (printed) assert_string_equal(shape, printed);
    snprintf(line, sizeof line, "%s/%s%s/avx2@onednn", pass, shape, suffix);
    prob_record q;
    prob_sel sel;
    if (!prob_parse(line, &q, &sel, err, sizeof err)) fail_msg("%s does not parse: %s", line, err);
    assert_false(sel.whole);
    assert_string_equal(sel.filter, line);
    assert_memory_equal(p, &q, sizeof q);
}

static int n_seen[8];

static void check(const prob_record *p, const char *printed, const char *pass, const char *suffix) {
    n_seen[p->kind]++;
    round_trip(p);
    verifier_name(p, printed, pass, suffix);
}

#define PROB(K, F, V) prob_record p; memset(&p, 0, sizeof p); p.kind = K; p.u.F = V
static void on_conv(void *c, const conv2d_desc *d) {
    PROB(PROB_CONV2D, conv, *d);
    char s[160];
    conv2d_desc_str(d, s, sizeof s);
    check(&p, s, "conv2d_bwd_weights", "");
    (void)c;
}
static void on_pool(void *c, const pool_desc *d) {
    PROB(PROB_POOL, pool, *d);
    char s[160];
    pool_desc_str(d, s, sizeof s);
    check(&p, s, "pool_bwd", "");
    (void)c;
}
static void on_gpool(void *c, const gpool_desc *d) {
    PROB(PROB_GPOOL, gpool, *d);
    char s[160];
    gpool_desc_str(d, s, sizeof s);
    check(&p, s, "gpool_fwd", "");
    (void)c;
}
static void on_dense(void *c, const dense_desc *d) {
    PROB(PROB_DENSE, dense, *d);
    char s[160];
    dense_desc_str(d, s, sizeof s);
    check(&p, s, "dense_bwd_data", "");
    (void)c;
}
static void on_flatten(void *c, const dense_flatten_desc *d) {
    PROB(PROB_FLATTEN, flatten, *d);
    check(&p, NULL, "flatten_fwd", "");
    (void)c;
}
static void on_act(void *c, size_t n) {
    PROB(PROB_ACT, n, n);
    check(&p, NULL, "sigmoid_bwd", "_inplace");
    (void)c;
}
static void on_loss(void *c, size_t n) {
    PROB(PROB_LOSS, n, n);
    check(&p, NULL, "loss_bce_logits", "_wide");
    (void)c;
}
static void on_optim(void *c, size_t n) {
    PROB(PROB_OPTIM, n, n);
    check(&p, NULL, "adamw", "_amsgrad1_wd0.01");
    (void)c;
}

static void test_builtin_set_round_trips(void **state) {
    (void)state;
    static const vp_visitor v = {on_conv, on_pool, on_gpool, on_dense, on_flatten, on_act, on_loss, on_optim};
    memset(n_seen, 0, sizeof n_seen);
    vp_enumerate(&v, NULL);
    for (int k = 0; k < 8; k++)
        if (!n_seen[k]) fail_msg("no %s problem in the verification set", prob_kind_name((prob_kind)k));
}

static unsigned rnd(unsigned long long *s, unsigned lo, unsigned hi) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (unsigned)((*s >> 33) % (hi - lo + 1));
}

static void test_random_shapes_round_trip(void **state) {
    (void)state;
    unsigned long long s = 42;
    for (int i = 0; i < 2000; i++) {
        prob_record p;
        memset(&p, 0, sizeof p);
        p.kind = (prob_kind)rnd(&s, 0, 7);
        switch (p.kind) {
        case PROB_CONV2D:
            p.u.conv = (conv2d_desc){(int)rnd(&s, 1, 64), (int)rnd(&s, 1, 99), (int)rnd(&s, 1, 99), (int)rnd(&s, 1, 200),
                                     (int)rnd(&s, 1, 200), (int)rnd(&s, 1, 3), (int)rnd(&s, 1, 3), (int)rnd(&s, 1, 2),
                                     (int)rnd(&s, 1, 2), (int)rnd(&s, 0, 1), {{0}}};
            break;
        case PROB_POOL: {
            int h = (int)rnd(&s, 1, 70), w = (int)rnd(&s, 1, 70), mx = h < w ? h : w;
            p.u.pool = (pool_desc){(int)rnd(&s, 1, 64), h, w, (int)rnd(&s, 1, 200), (int)rnd(&s, 1, (unsigned)mx),
                                   (int)rnd(&s, 1, 4), (pool_kind)rnd(&s, 0, 1)};
            break;
        }
        case PROB_GPOOL:
            p.u.gpool = (gpool_desc){(int)rnd(&s, 1, 64), (int)rnd(&s, 1, 4096), (int)rnd(&s, 1, 500), (gpool_kind)rnd(&s, 0, 2)};
            break;
        case PROB_DENSE:
            p.u.dense = (dense_desc){(int)rnd(&s, 1, 300), (int)rnd(&s, 1, 5000), (int)rnd(&s, 1, 500), (int)rnd(&s, 0, 1)};
            break;
        case PROB_FLATTEN:
            p.u.flatten = (dense_flatten_desc){(int)rnd(&s, 1, 64), (int)rnd(&s, 1, 99), (int)rnd(&s, 1, 99), (int)rnd(&s, 1, 200)};
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
        prob_record p;
        char err[256] = "";
        if (prob_parse(bad[i], &p, NULL, err, sizeof err)) fail_msg("'%s' parsed", bad[i]);
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
    assert_non_null(strstr(R.out, "(0 against oneDNN,"));
#if LB_X86 && !defined(LB_NO_ONEDNN)
    /* with oneDNN, the summary counts the checks made against it */
    cli_latbench(&R, NULL, "verify --desc conv2d/mb1_ic3oc5_ih11iw13_kh3kw3_sh1sw1_b1");
    if (R.status != 0) fail_msg("verify --desc exited %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, " against oneDNN,"));
    assert_null(strstr(R.out, "(0 against oneDNN,"));
#else
    print_message("NOTE verify against oneDNN: not checked, this build has no oneDNN\n");
#endif
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

/* ---- one problem list for bench, gbench and the gate ---- */

#define SET_MAX 1024
typedef struct {
    char name[SET_MAX][160];
    int n;
} name_set;

static bool set_has(const name_set *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->name[i], name)) return true;
    return false;
}

static void set_add(name_set *s, const char *name) {
    if (set_has(s, name)) return;
    assert_true(s->n < SET_MAX);
    snprintf(s->name[s->n++], sizeof s->name[0], "%s", name);
}

static void assert_sets_equal(const name_set *a, const name_set *b, const char *what) {
    for (int i = 0; i < a->n; i++)
        if (!set_has(b, a->name[i])) fail_msg("%s: %s is missing", what, a->name[i]);
    for (int i = 0; i < b->n; i++)
        if (!set_has(a, b->name[i])) fail_msg("%s: %s is not in the one list", what, b->name[i]);
}

/* The pass names ("conv2d_fwd/<shape>") of the layer problems of nets on the lattices and batches
 * (bench_fwd: what bench times, conv2d and pool, and only the forward passes). */
static void list_names(name_set *s, const char *const *nets, int n_nets, const char *lattices, const int *batches, int n_b,
                       bool bench_fwd) {
    int h[4], w[4], n_lat;
    assert_true(prob_parse_lattice_list(lattices, 4, h, w, &n_lat));
    for (int ni = 0; ni < n_nets; ni++)
        for (int li = 0; li < n_lat; li++)
            for (int bi = 0; bi < n_b; bi++) {
                prob_net_problem np[PROB_NET_MAX_PROBLEMS];
                char err[160];
                const int m = prob_net_problems(nets[ni], h[li], w[li], batches[bi], np, err, sizeof err);
                for (int i = 0; i < m; i++) {
                    const prob_kind k = np[i].prob.kind;
                    if (k == PROB_ACT || k == PROB_LOSS || k == PROB_OPTIM) continue;
                    if (bench_fwd && k != PROB_CONV2D && k != PROB_POOL) continue;
                    const int passes = k == PROB_CONV2D || k == PROB_DENSE ? 3 : 2;
                    for (int p = 0; p < (bench_fwd ? 1 : passes); p++) {
                        char name[160];
                        prob_pass_str(&np[i].prob, (lb_pass)p, name, sizeof name);
                        set_add(s, name);
                    }
                }
            }
}

/* The problem names at the starts of output lines: the first two '/' parts of lines that begin with
 * one of the layer kinds' pass names. */
static void output_names(name_set *s, const char *out) {
    static const char *const ops[] = {"conv2d_", "pool_", "gpool_", "dense_", "flatten_"};
    for (const char *line = out; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : line + strlen(line)) {
        bool layer = false;
        for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) layer |= !strncmp(line, ops[k], strlen(ops[k]));
        const char *slash = strchr(line, '/');
        if (!layer || !slash) continue;
        size_t len = strcspn(slash + 1, "/ \n") + (size_t)(slash + 1 - line);
        char name[160];
        snprintf(name, sizeof name, "%.*s", (int)len, line);
        set_add(s, name);
    }
}

static void test_one_list_for_bench_gbench_gate(void **state) {
    (void)state;
    static const char *const nets[] = {PROB_DEFAULT_NETS}, *const conv_nets[] = {PROB_DEFAULT_CONV_NETS};
    static const int batches[] = {1, 32}, batch1[] = {1}, batch32[] = {32};
    static cli_result R;
    static name_set want, got;
    /* gbench: its default nets, lattices 8x8,64x64, batches 1,32 */
#ifdef LB_NO_GBENCH
    (void)nets, (void)batches;
    print_message("NOTE problems: this build has no google-benchmark (GBENCH=0): gbench's list is checked on the builds that have it\n");
#else
    want.n = got.n = 0;
    list_names(&want, nets, 4, "8x8,64x64", batches, 2, false);
    cli_latbench(&R, NULL, "bench --gbench --benchmark_list_tests");
    if (R.status) fail_msg("bench --gbench exited %d:\n%s", R.status, R.out);
    output_names(&got, R.out);
    assert_true(got.n > 0);
    assert_sets_equal(&want, &got, "bench --gbench");
#endif
    /* the gate: every gated problem (the names of its committed expectations) is in the list */
    gate_expect e;
    char err[256];
    want.n = 0;
    list_names(&want, conv_nets, 3, "8x8", batch32, 1, false);
    if (!gate_load_expect("results/gate/avx2.json", &e, err, sizeof err)) fail_msg("%s", err);
    const char *key;
    json_t *v;
    int n_gated = 0;
    json_object_foreach(json_object_get(e.root, "ratios"), key, v) {
        /* the gated fused chains (chain1x1/<net>/mb32_ih8iw8) are not layer problems: their net must be
         * one of the conv nets of the list, at the gate's lattice and batch */
        if (!strncmp(key, "chain1x1/", 9)) {
            bool of_a_net = false;
            for (size_t i = 0; i < sizeof conv_nets / sizeof conv_nets[0]; i++) {
                char name[96];
                snprintf(name, sizeof name, "chain1x1/%s/mb32_ih8iw8", conv_nets[i]);
                of_a_net |= !strcmp(key, name);
            }
            if (!of_a_net) fail_msg("the gate's chain %s is not a chain of the list's nets at 8x8, batch 32", key);
            continue;
        }
        if (!set_has(&want, key)) fail_msg("the gate's %s is not in the one list", key);
        n_gated++;
    }
    gate_expect_free(&e);
    assert_true(n_gated >= 11);
    /* bench: its conv nets at 8x8, batch 1, forward passes (all of a --quick sweep would take long) */
    SKIP_UNDER_EMULATION("bench's problems from the one list");
    want.n = got.n = 0;
    list_names(&want, conv_nets, 3, "8x8", batch1, 1, true);
    cli_latbench(&R, NULL, "bench --quick --no-pipelines --no-json --threads 1 --batch 1 --reps 1 --baseline none --filter _fwd/");
    if (R.status) fail_msg("bench exited %d:\n%s", R.status, R.out);
    output_names(&got, R.out);
    assert_sets_equal(&want, &got, "bench");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_set_round_trips),
        cmocka_unit_test(test_random_shapes_round_trip),
        cmocka_unit_test(test_bad_names_refused),
        cmocka_unit_test(test_desc_on_the_command_line),
        cmocka_unit_test(test_one_list_for_bench_gbench_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

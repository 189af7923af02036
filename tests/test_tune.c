/* `latbench tune` (tools/tune) and the per-problem worm choice (lib/lattice/sampler.c), no timings
 * asserted: a tiny tune run writes a profile that loads back and `latbench info` reports; the
 * dispatch default slowed by LATBENCH_TEST_SLOWDOWN is never chosen; a profile choosing the scalar
 * worm for one problem is applied to that problem and `generate` output stays byte-identical; the
 * nearest tuned shape of the same lattice is used for an untuned chain count; bad options exit 2
 * with one line.  LATBENCH_BIN (set by tests/run.sh) names the binary of the build under test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch/profile.h"
#include "arch/registry.h"
#include "arch/conv2d_problem.h"
#include "lib/nn/conv_choice.h"
#include "tests/profile_fixture.h"

static cli_result R;
static char tmpdir[256];
static lb_profile_identity HERE;

static int setup(void **state) {
    (void)state;
    return profile_fixture_setup(tmpdir, sizeof tmpdir, "latbench-test-tune-", &HERE);
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

/* The one entry of the profile at path (which must load, made here). */
static lb_profile_entry only_entry(const char *path) {
    lb_profile p;
    char err[1400];
    const lb_profile_status st = lb_profile_load(path, &HERE, &p, err, sizeof err);
    if (st != LB_PROFILE_OK) fail_msg("%s: %s", path, err);
    assert_int_equal(p.n, 1);
    lb_profile_entry e = p.entries[0];
    lb_profile_free(&p);
    return e;
}

static void test_tune_writes_profile(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("a tune run");
    char args[800], env[600], path[400];
    snprintf(path, sizeof path, "%s/tiny.json", tmpdir);
    /* one worm problem; under the avx2 cap (where the CPU has it) two variants: scalar and avx2 */
    const char *cap = HERE.isa_cap >= LB_ISA_AVX2 && HERE.isa_cap <= LB_ISA_AVX512 ? "LATBENCH_ISA=avx2" : NULL;
    snprintf(args, sizeof args, "tune --op worm --lattice 8x8 --chains 2 --level quick --out %s", path);
    cli_latbench(&R, cap, args);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "tune: [1/1] worm nt8_nx8_mu1_chains2 threads 1: "));
    assert_non_null(strstr(R.out, "ETA"));
    const lb_profile_entry e = only_entry(path);
    assert_string_equal(e.op, "worm");
    assert_string_equal(e.problem, "nt8_nx8_mu1_chains2");
    assert_int_equal(e.threads, 1);
    assert_true(e.time_s > 0 && e.default_time_s > 0 && e.speedup > 0 && e.spread >= 0);
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s%s%s", path, cap ? " " : "", cap ? cap : "");
    cli_latbench(&R, env, "info");
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "matches this machine and build, applied"));
    assert_non_null(strstr(R.out, "worm 1, chain1x1 0)"));
    /* tuning again into the same file keeps one entry per key */
    cli_latbench(&R, cap, args);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "extending"));
    (void)only_entry(path);
}

/* The dispatch default slowed 20 times is never the winner. */
static void test_slowed_default_never_chosen(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("a tune run");
    if (HERE.isa_cap == LB_ISA_SCALAR) {
        print_message("NOTE only the scalar worm on this CPU: no other candidate\n");
        return;
    }
    char args[800], path[400];
    snprintf(path, sizeof path, "%s/slow.json", tmpdir);
    snprintf(args, sizeof args, "tune --op worm --lattice 16x16 --chains 16 --out %s", path);
    cli_latbench(&R, "LATBENCH_TEST_SLOWDOWN=worm.fwd:20", args);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "test slowdown: worm.fwd"));
    const lb_profile_entry e = only_entry(path);
    assert_string_not_equal(e.variant, lb_isa_name(HERE.isa_cap));
    assert_true(e.speedup > 1.0);
}

/* conv2d: the slowed default's forward pass is never chosen for any layer; the other passes are
 * tuned too, and every entry is a conv2d one at one thread. */
static void test_conv_slowed_default(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("a tune run");
    if (HERE.isa_cap == LB_ISA_SCALAR) {
        print_message("NOTE only the scalar conv2d on this CPU: no other candidate\n");
        return;
    }
    char args[800], path[400], err[1400];
    snprintf(path, sizeof path, "%s/conv.json", tmpdir);
    snprintf(args, sizeof args, "tune --op conv2d --model task3-eq1 --batch 2 --out %s", path);
    cli_latbench(&R, "LATBENCH_TEST_SLOWDOWN=conv2d.fwd:20", args);
    if (R.status) fail_msg("%s", R.out);
    lb_profile p;
    if (lb_profile_load(path, &HERE, &p, err, sizeof err) != LB_PROFILE_OK) fail_msg("%s", err);
    int fwd = 0, other = 0;
    for (int i = 0; i < p.n; i++) {
        assert_string_equal(p.entries[i].op, "conv2d");
        assert_int_equal(p.entries[i].threads, 1);
        if (p.entries[i].pass == LB_PASS_FWD) {
            fwd++;
            if (!strcmp(p.entries[i].variant, lb_isa_name(HERE.isa_cap)))
                fail_msg("the slowed %s was chosen for %s", p.entries[i].variant, p.entries[i].problem);
        } else other++;
    }
    assert_true(fwd > 0 && other == 2 * fwd);
    lb_profile_free(&p);
}

/* chain1x1: task1-eq's chain at a tiny shape, the conv2d forward slowed 20 times (the unfused
 * layers, then the default: a slowed conv2d is no registry row, so the fused default is off) is
 * never chosen: the entry names a fused variant and its tile; no timings asserted. */
static void test_chain_entry(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("a tune run");
    if (lb_dispatch_get()->chain1x1->isa == LB_ISA_SCALAR) {
        print_message("NOTE only the scalar chain1x1 on this CPU: no fused candidate\n");
        return;
    }
    char args[800], path[400];
    snprintf(path, sizeof path, "%s/chain.json", tmpdir);
    snprintf(args, sizeof args, "tune --op chain1x1 --model task1-eq --lattice 8x4 --batch 2 --out %s", path);
    cli_latbench(&R, "LATBENCH_TEST_SLOWDOWN=conv2d.fwd:20", args);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "tune: [1/1] chain1x1 s64_c4-64-48-80_b111 threads 1 (the task1-eq chain at layer 0): "));
    const lb_profile_entry e = only_entry(path);
    assert_string_equal(e.op, "chain1x1");
    assert_int_equal(e.pass, LB_PASS_FWD);
    assert_string_equal(e.problem, "s64_c4-64-48-80_b111");
    assert_string_not_equal(e.variant, "unfused");
    assert_string_not_equal(e.variant, "scalar");
    assert_true(e.speedup > 1.0);
    print_message("  chain1x1 entry: %s tile %d, %.2fx the unfused layers\n", e.variant, e.params.v[0], e.speedup);
}

/* --threads 2: the conv2d problems are timed and keyed at 2 threads (the batch split as lib/nn
 * splits it), the progress lines say so with the problem's share of the preset's training step,
 * which orders them; no timings asserted.  --budget 1: the largest problem alone (a run of 2
 * threads on a shared machine waits for the second thread at every call). */
static void test_conv_threads(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("a tune run");
    char args[800], path[400], err[1400];
    snprintf(path, sizeof path, "%s/conv-t2.json", tmpdir);
    snprintf(args, sizeof args, "tune --op conv2d --model task3-eq1 --batch 2 --threads 2 --level quick --budget 1 --out %s", path);
    cli_latbench(&R, NULL, args);
    if (R.status) fail_msg("%s", R.out);
    if (!strstr(R.out, "tune: [1/") || !strstr(R.out, " threads 2 (") || !strstr(R.out, " % of the task3-eq1 step): ") ||
        strstr(R.out, " threads 1 (") || !strstr(R.out, "task3-eq1 8x8 batch 2, 2 threads: one training step "))
        fail_msg("%s", R.out);
    lb_profile p;
    if (lb_profile_load(path, &HERE, &p, err, sizeof err) != LB_PROFILE_OK) fail_msg("%s", err);
    assert_true(p.n >= 1);
    for (int i = 0; i < p.n; i++) {
        assert_string_equal(p.entries[i].op, "conv2d");
        assert_int_equal(p.entries[i].threads, 2);
        assert_true(p.entries[i].time_s > 0 && p.entries[i].default_time_s > 0);
    }
    lb_profile_free(&p);
}

/* --timing cold: the progress line says how many copies of the operands the calls rotate over,
 * the entries say "timing": "cold", the profile loads and is applied; --timing warm: entries say
 * warm and no copies are made; auto (the default): these batch-2 operands fit in any L2, so warm,
 * and the start line says the rule.  --budget 1: the largest problem. */
static void test_conv_cold(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("a tune run");
    static const char *const modes[] = {"--timing cold ", "--timing warm ", ""};
    for (int m = 0; m < 3; m++) {
        char args[800], env[600], path[400], err[1400];
        snprintf(path, sizeof path, "%s/conv-cold%d.json", tmpdir, m);
        snprintf(args, sizeof args, "tune --op conv2d --model task3-eq1 --batch 2 --level quick --budget 1 %s--out %s",
                 modes[m], path);
        cli_latbench(&R, NULL, args);
        if (R.status) fail_msg("%s", R.out);
        if ((m == 0) != (strstr(R.out, "; cold: ") != NULL) || (m == 0) != (strstr(R.out, "conv2d timed cold: ") != NULL))
            fail_msg("%s", R.out);
        if ((m == 2) != (strstr(R.out, "conv2d timed cold where a pass's operands exceed L2 (else warm)") != NULL))
            fail_msg("%s", R.out);
        lb_profile p;
        if (lb_profile_load(path, &HERE, &p, err, sizeof err) != LB_PROFILE_OK) fail_msg("%s", err);
        assert_true(p.n >= 1);
        for (int i = 0; i < p.n; i++) {
            assert_string_equal(p.entries[i].op, "conv2d");
            assert_int_equal(p.entries[i].cold, m == 0);
            assert_true(p.entries[i].time_s > 0 && p.entries[i].default_time_s > 0);
        }
        lb_profile_free(&p);
        snprintf(env, sizeof env, "LATBENCH_PROFILE=%s", path);
        cli_latbench(&R, env, "info");
        if (R.status || !strstr(R.out, "matches this machine and build, applied")) fail_msg("%s", R.out);
    }
}

/* lib/nn applies the entry of its own thread count, else the nearest (ties: the fewer). */
static void test_conv_choice_threads(void **state) {
    (void)state;
    const lb_dispatch *d = lb_dispatch_get();
    const conv2d_desc desc = {.n = 128, .h = 8, .w = 8, .cin = 16, .cout = 16, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .bias = 1};
    char prob[128];
    lb_conv2d_problem_str(&desc, prob, sizeof prob);
    int n;
    const conv2d_ops *v = lb_conv2d_variants(&n);
    const char *other = NULL;   /* a variant under the cap other than the default */
    for (int i = 0; i < n && !other; i++)
        if (strcmp(v[i].name, d->conv2d->name) && lb_isa_usable(&d->cpu, d->cap, v[i].isa)) other = v[i].name;
    if (!other) {
        print_message("NOTE one conv2d variant under this cap: the thread rule is checked with it alone\n");
        other = d->conv2d->name;
    }
    lb_profile_entry e[2] = {{.op = "conv2d", .pass = LB_PASS_FWD, .isa = d->cap, .threads = 1, .time_s = 1,
                              .default_time_s = 1, .speedup = 1},
                             {.op = "conv2d", .pass = LB_PASS_FWD, .isa = d->cap, .threads = 4, .time_s = 1,
                              .default_time_s = 1, .speedup = 1}};
    for (int i = 0; i < 2; i++) snprintf(e[i].problem, sizeof e[i].problem, "%s", prob);
    snprintf(e[0].variant, sizeof e[0].variant, "%s", d->conv2d->name);
    snprintf(e[1].variant, sizeof e[1].variant, "%s", other);
    const lb_profile p = {.id = HERE, .n = 2, .entries = e};
    static const int threads[] = {1, 2, 3, 4, 16};
    static const int want[] = {0, 0, 1, 1, 1};   /* 2: 1 away from 1, 2 from 4; 3: the other way */
    for (int i = 0; i < 5; i++) {
        const nn_conv_choice c = nn_conv_choose(&p, d, &desc, LB_PASS_FWD, threads[i]);
        assert_ptr_equal(c.entry, &e[want[i]]);
        assert_string_equal(c.ops->name, e[want[i]].variant);
        assert_int_equal(c.how, NN_TUNED_EXACT);
    }
}

static lb_profile_entry worm_entry(const char *problem, lb_isa isa, const char *variant) {
    lb_profile_entry e = {.op = "worm", .pass = LB_PASS_FWD, .isa = isa, .threads = 1, .time_s = 1e-3,
                          .default_time_s = 2e-3, .speedup = 2.0, .spread = 0.05};
    snprintf(e.problem, sizeof e.problem, "%s", problem);
    snprintf(e.variant, sizeof e.variant, "%s", variant);
    return e;
}

/* A profile choosing the scalar worm for the 8x8 problem with 4 chains at mu 1: `generate` of that
 * point uses it (verbose says so), and its output is byte-identical to the run without a profile. */
static void test_per_problem_choice_applied(void **state) {
    (void)state;
    char env[600], path[400], args[1200], cmd[1200], err[1400];
    snprintf(path, sizeof path, "%s/scalar.json", tmpdir);
    lb_profile_entry e = worm_entry("nt8_nx8_mu1_chains4", HERE.isa_cap, "scalar");
    lb_profile p = {.id = HERE, .n = 1, .entries = &e};
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    const char *gen = "generate --task count --lattice 8x8 --points 4.25:1 --lambda 1 --count 40 --worms 0:2 "
                      "--therm 80 --chains 4 --seed 7 --threads 1 --out";
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s LATBENCH_VERBOSE=1", path);
    snprintf(args, sizeof args, "%s %s/with", gen, tmpdir);
    cli_latbench(&R, env, args);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "latbench: profile: worm nt8_nx8_mu1_chains4 uses scalar"));
    snprintf(args, sizeof args, "%s %s/without", gen, tmpdir);
    cli_latbench(&R, "LATBENCH_PROFILE=off", args);
    if (R.status) fail_msg("%s", R.out);
    snprintf(cmd, sizeof cmd, "cd '%s' && cmp with/x.npy without/x.npy && cmp with/y.npy without/y.npy && "
                              "cmp with/meta.json without/meta.json", tmpdir);
    cli_sh(&R, cmd);
    if (R.status) fail_msg("output differs with the profile: %s", R.out);
}

/* Untuned worm shapes: the same lattice's nearest chain count (by octaves), then mu; another
 * lattice gets none (the default runs). */
static void test_nearest_shape(void **state) {
    (void)state;
    lb_profile_entry e[] = {
        worm_entry("nt60_nx4_mu1_chains2", LB_ISA_AVX512, "scalar"),
        worm_entry("nt60_nx4_mu1_chains16", LB_ISA_AVX512, "avx512"),
        worm_entry("nt60_nx4_mu1.5_chains16", LB_ISA_AVX512, "avx2"),
    };
    lb_profile p = {.n = 3, .entries = e};
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt60_nx4_mu1_chains2", LB_ISA_AVX512, 1), &e[0]);
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt60_nx4_mu1_chains3", LB_ISA_AVX512, 1), &e[0]);
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt60_nx4_mu0.9_chains12", LB_ISA_AVX512, 1), &e[1]);
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt60_nx4_mu1.4_chains32", LB_ISA_AVX512, 1), &e[2]);
    assert_null(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt8_nx8_mu1_chains2", LB_ISA_AVX512, 1));
    assert_null(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt60_nx4_mu1", LB_ISA_AVX512, 1));
}

static void test_bad_options(void **state) {
    (void)state;
    static const char *const bad[][2] = {
        {"tune --level fast", "--level is not quick, measure or patient 'fast'"},
        {"tune --budget -3", "--budget is not a duration"},
        {"tune --budget 5x", "--budget is not a duration"},
        {"tune --lattice 1x4", "--lattice: every side must be >= 2"},
        {"tune --lattice 8x", "--lattice is not a list of NTxNX"},
        {"tune --chains 0", "--chains is not a list"},
        {"tune --threads 2,,3", "--threads is not a list"},
        {"tune --mu 1e9", "--mu out of range"},
        {"tune --op fft", "--op is not a list of worm, conv2d"},
        {"tune --op worm,worm", "--op is not a list of worm, conv2d"},
        {"tune --model nosuch --op conv2d", "latbench tune: nosuch: "},
        {"tune --batch 0", "--batch is not a list"},
        {"tune --bogus 1", "unknown option '--bogus'"},
        {"tune --out", "--out needs a value"},
        {"tune stray", "unexpected argument 'stray'"},
        {"tune --timing tepid", "--timing is not auto, cold or warm"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cli_latbench(&R, NULL, bad[i][0]);
        if (R.status != 2 || R.lines != 1 || !strstr(R.out, bad[i][1]))
            fail_msg("%s: status %d, %d lines: %s", bad[i][0], R.status, R.lines, R.out);
    }
    cli_latbench(&R, NULL, "tune --help");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "whole 99 % confidence interval"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_nearest_shape),
        cmocka_unit_test(test_per_problem_choice_applied),
        cmocka_unit_test(test_tune_writes_profile),
        cmocka_unit_test(test_slowed_default_never_chosen),
        cmocka_unit_test(test_conv_slowed_default),
        cmocka_unit_test(test_chain_entry),
        cmocka_unit_test(test_conv_threads),
        cmocka_unit_test(test_conv_cold),
        cmocka_unit_test(test_conv_choice_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

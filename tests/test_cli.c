/* The latbench binary end to end: info, dispatch overrides and their errors, verify.
 * LATBENCH_BIN (set by tests/run.sh) names the binary of the build under test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "tests/test_util.h"
#include "arch/cpu.h"

static cli_result R;

static void test_info_shows_dispatch(void **state) {
    (void)state;
    cli_latbench(&R, NULL, "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "selected kernels:"));
    assert_non_null(strstr(R.out, "conv2d"));
    assert_non_null(strstr(R.out, "L1 data cache"));
    cli_latbench(&R, "LATBENCH_ISA=scalar", "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "isa cap: scalar"));
    assert_non_null(strstr(R.out, "  conv2d  scalar"));
}

static void test_verbose_prints_choice(void **state) {
    (void)state;
    cli_latbench(&R, "LATBENCH_VERBOSE=1 LATBENCH_ISA=scalar", "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "latbench: kernel dispatch (cap scalar, from LATBENCH_ISA)"));
}

static void test_bad_isa_is_one_line_error(void **state) {
    (void)state;
    cli_latbench(&R, "LATBENCH_ISA=avx3", "info");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "LATBENCH_ISA=avx3 is not one of"));
    lb_cpu c;
    lb_cpu_detect(&c);
    const char *missing = !lb_cpu_supports(&c, LB_ISA_NEON) ? "neon" : "avx512";
    char env[64];
    snprintf(env, sizeof env, "LATBENCH_ISA=%s", missing);
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "this CPU cannot run"));
}

static void test_bad_arguments(void **state) {
    (void)state;
    cli_latbench(&R, NULL, "frobnicate");
    assert_int_equal(R.status, 2);
    assert_non_null(strstr(R.out, "unknown command 'frobnicate'"));
    cli_latbench(&R, NULL, "verify --isa sse9");
    assert_int_equal(R.status, 2);
    assert_non_null(strstr(R.out, "unknown ISA 'sse9'"));
    cli_latbench(&R, NULL, "verify --filter no-such-problem");
    assert_int_equal(R.status, 1);
    assert_non_null(strstr(R.out, "no check matched"));
}

/* The whole verification, at the default dispatch and capped to the scalar reference. */
static void test_verify_passes(void **state) {
    (void)state;
    cli_latbench(&R, NULL, "verify");
    if (R.status != 0) fail_msg("latbench verify exited %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, " 0 mismatches"));
    cli_latbench(&R, "LATBENCH_ISA=scalar", "verify");
    if (R.status != 0) fail_msg("LATBENCH_ISA=scalar latbench verify exited %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, " 0 mismatches"));
}

/* Every command of `latbench help` answers --help with its usage on stdout and exit 0 (so new
 * commands are covered as they are added), and --version names the build. */
static void test_every_command_has_help(void **state) {
    (void)state;
    cli_latbench(&R, NULL, "help");
    assert_int_equal(R.status, 0);
    char names[32][24];
    int n = 0;
    for (const char *l = R.out; l && *l && n < 32; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (l[0] == ' ' && l[1] == ' ' && sscanf(l + 2, "%23[a-z] ", names[n]) == 1) n++;
    assert_true(n >= 13);
    for (int i = 0; i < n; i++) {
        char args[128], want[128];
        snprintf(args, sizeof args, "%.23s --help 2>/dev/null", names[i]);
        cli_latbench(&R, NULL, args);
        if (R.status != 0) fail_msg("latbench %s --help: exit %d: %s", names[i], R.status, R.out);
        snprintf(want, sizeof want, "usage: latbench %.23s", names[i]);
        if (strncmp(R.out, want, strlen(want))) fail_msg("latbench %s --help does not start with '%s': %s", names[i], want, R.out);
    }
    print_message("NOTE cli: %d commands answer --help with exit 0\n", n);
    cli_latbench(&R, NULL, "--version");
    assert_int_equal(R.status, 0);
    assert_true(!strncmp(R.out, "latbench ", 9));
    assert_non_null(strstr(R.out, "compiler: "));
    assert_non_null(strstr(R.out, "  conv2d  +scalar"));
    assert_non_null(strstr(R.out, "oneDNN: "));
}

/* The names of the commands `latbench help` lists, into names; their count. */
static int command_names(char names[32][24]) {
    cli_latbench(&R, NULL, "help");
    assert_int_equal(R.status, 0);
    int n = 0;
    for (const char *l = R.out; l && *l && n < 32; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (l[0] == ' ' && l[1] == ' ' && sscanf(l + 2, "%23[a-z] ", names[n]) == 1) n++;
    assert_true(n >= 13);
    return n;
}

/* Runs args; the status and one line containing want (or, want NULL, no "unknown option"). */
static void expect_line(const char *args, int status, const char *want) {
    cli_latbench(&R, NULL, args);
    if (R.status != status) fail_msg("latbench %s: exit %d, not %d: %s", args, R.status, status, R.out);
    if (status == 2 && R.lines != 1) fail_msg("latbench %s: %d lines, not one: %s", args, R.lines, R.out);
    if (want && !strstr(R.out, want)) fail_msg("latbench %s: no '%s' in: %s", args, want, R.out);
    if (!want && strstr(R.out, "unknown option")) fail_msg("latbench %s: the option was not taken: %s", args, R.out);
}

/* Every command that has options takes --opt=value for them (GNU getopt_long): each line below gives
 * one option a value its check refuses, so the message proves the value reached the option. */
static void test_opt_equals_value(void **state) {
    (void)state;
    static const struct {
        const char *args;
        int status;
        const char *want;
    } cases[] = {
        {"verify --isa=sse9", 2, "unknown ISA 'sse9'"},
        {"bench --threads=1,,2 --no-history", 2, "--threads: '1,,2' is not a list"},
        {"bench --gbench --batch=0", 2, "--batch: '0' is not a list"},
        {"observe --lattice=8x8 --eta=4 --lambda=1 --mu=1 --sweeps=1", 2, "--sweeps 1: expected an integer in 2.."},
        {"generate --count=x", 2, "--count x: expected an integer"},
        {"model task1-eq --lattice=16x16", 0, "lattice 16x16"},
        {"train --epochs=0", 2, "--epochs 0: expected an integer in 1..1000000"},
        {"eval --threads=0", 2, "--threads needs an integer in 1..4096"},
        {"experiment count --trials=0", 2, "--trials needs an integer in 1.."},
        {"compare --alpha=0.9 a.json b.json", 2, "--alpha: '0.9' is not an error level"},
        {"tune --level=fast", 2, "--level is not quick, measure or patient 'fast'"},
        {"gate --runs=0", 2, "--runs: '0' is not a run count in [1, "},
        {"bisect --reps=1 HEAD~1 HEAD", 2, "--reps: '1' is not a count in [2, "},
        {"history --window=x", 2, "--window: 'x' is not a run count"},
        {"dashboard --points=3", 2, "--points: '3' is not a count in [10, 2000]"},
        {"report /nonexistent/results.json --out=/tmp", 2, "no such file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
#ifdef LB_NO_GBENCH
        if (!strncmp(cases[i].args, "bench --gbench", 14)) {
            print_message("NOTE %s: not checked, this build has no google-benchmark\n", cases[i].args);
            continue;
        }
#endif
        expect_line(cases[i].args, cases[i].status, cases[i].want);
    }
    /* a value given to an option that takes none, and a missing value, in the same form everywhere */
    expect_line("verify --verbose=1", 2, "latbench verify: --verbose takes no value");
    expect_line("gate --json", 2, "latbench gate: --json needs a value");
    print_message("NOTE cli: info and run take no options (checked below: they refuse unknown ones)\n");
}

/* Every command of `latbench help` refuses an unknown option with exit 2 and one line naming it. */
static void test_unknown_option_everywhere(void **state) {
    (void)state;
    char names[32][24];
    const int n = command_names(names);
    for (int i = 0; i < n; i++) {
        char args[128], want[160];
        snprintf(args, sizeof args, "%.23s --no-such-option", names[i]);
        snprintf(want, sizeof want, "latbench %.23s: unknown option '--no-such-option' (try latbench %.23s --help)", names[i],
                 names[i]);
        expect_line(args, 2, want);
    }
    print_message("NOTE cli: %d commands refuse an unknown option in one line with exit 2\n", n);
}

/* `--` ends the options: what follows is an operand even when it starts with "--". */
static void test_double_dash(void **state) {
    (void)state;
    expect_line("verify -- --isa", 2, "latbench verify: unexpected argument '--isa'");
    expect_line("compare --threshold 5 -- --old.json new.json", 2, "--old.json");
    assert_null(strstr(R.out, "unknown option"));
    expect_line("model -- --lattice", 2, "--lattice");
    assert_null(strstr(R.out, "unknown option"));
}

/* --progress: lines in a log gives a line per 10 % with the rate and the time left; none and
 * --quiet nothing at all on stderr (stdout goes to /dev/null: what is left is stderr). */
static void test_progress_choice(void **state) {
    (void)state;
    const char *run = "observe --lattice 8x8 --eta 4 --lambda 1 --mu 1 --sweeps 200 --therm 100 --chains 4";
    char args[512];
    snprintf(args, sizeof args, "%s --progress=lines 2>&1 >/dev/null | cat", run);
    cli_latbench(&R, NULL, args);
    if (R.lines < 9 || !strstr(R.out, "observe: ") || !strstr(R.out, "sweeps/s") || !strstr(R.out, "left"))
        fail_msg("--progress=lines in a log: %d lines: %s", R.lines, R.out);
    assert_null(strchr(R.out, '\r'));   /* no bar redraws in a log */
    snprintf(args, sizeof args, "%s --progress=bar 2>&1 >/dev/null | cat", run);
    cli_latbench(&R, NULL, args);
    if (!strchr(R.out, '\r') || !strstr(R.out, "observe ["))
        fail_msg("--progress=bar: no bar: %s", R.out);
    const char *quiet[] = {"--progress=none", "--quiet", "--progress none"};
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "%s %s 2>&1 >/dev/null | cat", run, quiet[i]);
        cli_latbench(&R, NULL, args);
        if (R.out[0]) fail_msg("%s printed on stderr: %s", quiet[i], R.out);
    }
    char dir[] = "/tmp/latbench-cli-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(args, sizeof args,
             "generate --task regression --lattice 8x8 --lambda 1 --eta 4 --mu 1 --count 32 --chains 4 --therm 64 "
             "--out %s/a --progress=lines 2>&1 >/dev/null | cat", dir);
    cli_latbench(&R, NULL, args);
    if (!strstr(R.out, "thermalizing: ") || !strstr(R.out, "sampling: ")) fail_msg("generate --progress=lines: %s", R.out);
    snprintf(args, sizeof args,
             "generate --task regression --lattice 8x8 --lambda 1 --eta 4 --mu 1 --count 32 --chains 4 --therm 64 "
             "--out %s/b --quiet 2>&1 >/dev/null | cat", dir);
    cli_latbench(&R, NULL, args);
    if (R.out[0]) fail_msg("generate --quiet printed on stderr: %s", R.out);
    expect_line("observe --lattice 8x8 --eta 4 --lambda 1 --mu 1 --progress=loud", 2,
                "--progress: 'loud' is not one of none, auto, bar or lines");
    snprintf(args, sizeof args, "rm -rf %s", dir);
    assert_int_equal(system(args), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_shows_dispatch),
        cmocka_unit_test(test_verbose_prints_choice),
        cmocka_unit_test(test_bad_isa_is_one_line_error),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_verify_passes),
        cmocka_unit_test(test_every_command_has_help),
        cmocka_unit_test(test_opt_equals_value),
        cmocka_unit_test(test_unknown_option_everywhere),
        cmocka_unit_test(test_double_dash),
        cmocka_unit_test(test_progress_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_shows_dispatch),
        cmocka_unit_test(test_verbose_prints_choice),
        cmocka_unit_test(test_bad_isa_is_one_line_error),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_verify_passes),
        cmocka_unit_test(test_every_command_has_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

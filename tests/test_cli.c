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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_shows_dispatch),
        cmocka_unit_test(test_verbose_prints_choice),
        cmocka_unit_test(test_bad_isa_is_one_line_error),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_verify_passes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The build's entry points, as the README gives them, and the floors of the source tree: a plain `make` builds ./latbench, and
 * `make ARCH=aarch64` the cross binary build/aarch64/latbench.  Checked as dry runs (-n -B: every
 * command make would run, none run), so the test is quick and leaves the tree alone. */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"

static cli_result R;
static char root[2048];

/* The source tree: the directory above build/<name>/ of the binary under test ($LATBENCH_BIN). */
static int find_root(void **s) {
    (void)s;
    const char *bin = getenv("LATBENCH_BIN");
    char path[2048];
    snprintf(path, sizeof path, "%s", bin && *bin ? bin : "./latbench");
    if (strchr(path, ' ')) return 0; /* "RUNNER BINARY": an emulated build, skipped below */
    char *b = strstr(path, "/build/");
    if (b) *b = 0;
    else if ((b = strrchr(path, '/'))) *b = 0;
    else snprintf(path, sizeof path, ".");
    snprintf(root, sizeof root, "%s", path);
    return 0;
}

static bool have_makefile(void) {
    char mk[2100];
    snprintf(mk, sizeof mk, "%s/Makefile", root);
    if (root[0] && access(mk, R_OK) == 0) return true;
    print_message("SKIP make: no source tree beside the binary under test (%s)\n", root[0] ? root : "emulated build");
    return false;
}

static void dry_run(const char *args) {
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "make -C '%s' --no-print-directory -n -B %s", root, args);
    cli_sh(&R, cmd);
}

static void test_plain_make_builds_latbench(void **s) {
    (void)s;
    if (!have_makefile()) return;
    dry_run("");
    assert_int_equal(R.status, 0);
    /* the binary is linked in build/release and copied to ./latbench */
    assert_non_null(strstr(R.out, "-o build/release/latbench"));
    assert_non_null(strstr(R.out, "cp build/release/latbench latbench.tmp"));
}

static void test_make_arch_aarch64_builds_the_cross_binary(void **s) {
    (void)s;
    if (!have_makefile()) return;
    dry_run("ARCH=aarch64");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "aarch64-linux-gnu-gcc"));
    assert_non_null(strstr(R.out, "-o build/aarch64/latbench"));
    assert_null(strstr(R.out, "-mavx")); /* no x86 variant in the ARM binary */
}

/* The floors of the tree (toolchain/check-layers.sh): no include runs from a lower room up, so the
 * library never depends on the tools and no two rooms depend on each other. */
static void test_no_include_runs_up_a_floor(void **s) {
    (void)s;
    if (!have_makefile()) return;
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s/toolchain/check-layers.sh' '%s'", root, root);
    cli_sh(&R, cmd);
    if (R.status != 0) print_message("%s", R.out);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, " 0 upward"));
}

/* ... and the check can fail: a library file that includes a front-end header is named. */
static void test_layer_check_names_an_upward_include(void **s) {
    (void)s;
    if (!have_makefile()) return;
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "d=$(mktemp -d) && mkdir -p $d/lib/io $d/tools/cli $d/kernels $d/arch && "
             "printf '#include \"tools/cli/cli.h\"\\n' > $d/lib/io/x.c && : > $d/tools/cli/cli.h && "
             "'%s/toolchain/check-layers.sh' $d; rc=$?; rm -rf $d; exit $rc", root);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 1);
    assert_non_null(strstr(R.out, "lib/io/x.c:1 includes tools/cli/cli.h: tools/cli is above lib/io"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_make_builds_latbench),
        cmocka_unit_test(test_make_arch_aarch64_builds_the_cross_binary),
        cmocka_unit_test(test_no_include_runs_up_a_floor),
        cmocka_unit_test(test_layer_check_names_an_upward_include),
    };
    return cmocka_run_group_tests(tests, find_root, NULL);
}

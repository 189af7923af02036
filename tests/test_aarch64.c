/* The AArch64 build through the binary (the ARM port): ASIMD/SVE detection and the NEON dispatch on the
 * emulated CPUs that matter (qemu's default "max": ASIMD + SVE; cortex-a72: ASIMD only), the
 * LATBENCH_ISA caps, the oneDNN comparisons reported as absent on a build without oneDNN, and
 * datasets from the NEON worm byte-identical to the scalar reference's on both CPUs.
 * On x86-64 the same file checks the complement: no NEON variant is compiled in and asking for
 * one is a one-line error.  LATBENCH_BIN / LATBENCH_RUNNER come from tests/run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/test_util.h"
#include "arch/cpu.h"

static cli_result R;
static char tmpdir[256];

static void expect(const char *what, const char *needle) {
    if (!strstr(R.out, needle)) fail_msg("%s: no \"%s\" in:\n%s", what, needle, R.out);
}

#if LB_ARM64
/* QEMU_CPU only means something under qemu-user; natively the CPU is what it is. */
static void info_on(const char *cpu_env, const char *what) {
    cli_latbench(&R, cpu_env, "info");
    if (R.status != 0) fail_msg("%s: latbench info exited %d:\n%s", what, R.status, R.out);
    expect(what, "features: asimd=1");
    expect(what, "isa cap: neon");
    static const char *ops[] = {"conv2d", "pool", "gpool", "act", "dense", "loss", "optim", "worm"};
    for (int i = 0; i < 8; i++) {
        char want[32];
        snprintf(want, sizeof want, "  %-7s neon\n", ops[i]);
        if (!strstr(R.out, want)) printf("NOTE %s: %s has no NEON variant selected yet\n", what, ops[i]);
    }
    expect(what, "  worm    neon\n");
    expect(what, "  chain1x1 neon\n");   /* the fused 1x1 chain's NEON variant (chain1x1-neon.c) */
}

static void test_detection_and_dispatch(void **state) {
    (void)state;
    if (!cli_emulated()) {
        info_on(NULL, "native");
        lb_cpu c;
        lb_cpu_detect(&c);
        printf("NOTE native AArch64: sve=%d (%d bits)\n", c.sve, c.sve_bits);
        return;
    }
    info_on(NULL, "qemu max");
    expect("qemu max", "sve=1 (vector length 512 bits)");
    info_on("QEMU_CPU=max,sve256=on", "qemu max,sve256");
    expect("qemu max,sve256", "sve=1 (vector length 256 bits)");
    info_on("QEMU_CPU=cortex-a72", "qemu cortex-a72");
    expect("qemu cortex-a72", "sve=0");
    expect("qemu cortex-a72", "Cortex-A72");
}
#else
static void test_detection_and_dispatch(void **state) {
    (void)state;
    cli_latbench(&R, NULL, "info");
    assert_int_equal(R.status, 0);
    if (strstr(R.out, "+neon") || strstr(R.out, "-neon")) fail_msg("an x86-64 build lists a NEON variant:\n%s", R.out);
    printf("NOTE x86-64 build: no NEON variant compiled in (the AArch64 checks run in the cross build)\n");
}
#endif

/* LATBENCH_ISA=scalar caps every op; an ISA of the other architecture is a one-line error, exit 2. */
static void test_isa_caps(void **state) {
    (void)state;
    cli_latbench(&R, "LATBENCH_ISA=scalar", "info");
    assert_int_equal(R.status, 0);
    expect("scalar cap", "isa cap: scalar");
    expect("scalar cap", "  worm    scalar\n");
    expect("scalar cap", "  conv2d  scalar\n");
    cli_latbench(&R, LB_ARM64 ? "LATBENCH_ISA=avx2" : "LATBENCH_ISA=neon", "info");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    expect("foreign ISA", "this CPU cannot run");
}

/* Without oneDNN, verify says so in one line and still checks every variant against the scalar
 * reference; with it (x86), the line is absent. */
static void test_verify_reports_onednn(void **state) {
    (void)state;
    cli_latbench(&R, NULL, "verify --filter conv2d_fwd/mb1_");
    if (R.status != 0) fail_msg("latbench verify exited %d:\n%s", R.status, R.out);
    expect("verify", " 0 mismatches");
#if defined(LB_NO_ONEDNN) || !LB_X86
    expect("verify", "oneDNN comparisons: not available on this build");
#else
    if (strstr(R.out, "not available on this build")) fail_msg("oneDNN reported absent in a oneDNN build:\n%s", R.out);
#endif
#ifdef LB_NO_ONEDNN
    cli_latbench(&R, NULL, "info");
    expect("info", "oneDNN: not available on this build");
#endif
}

static int same_file(const char *a, const char *b) {
    FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
    int same = x && y;
    while (same) {
        int c = fgetc(x), d = fgetc(y);
        if (c != d) same = 0;
        if (c == EOF || d == EOF) break;
    }
    if (x) fclose(x);
    if (y) fclose(y);
    return same;
}

/* A small dataset from the scalar worm and from the dispatched (NEON) one, also on an ASIMD-only
 * CPU: x.npy, y.npy and meta.json byte for byte. */
static void test_generate_same_bytes(void **state) {
    (void)state;
    static const char *runs[][2] = {
        {"LATBENCH_ISA=scalar", "scalar"},
        {NULL, "default"},
        {"QEMU_CPU=cortex-a72", "cortex-a72"},
    };
    const int nruns = LB_ARM64 && cli_emulated() ? 3 : 2;
    for (int i = 0; i < nruns; i++) {
        char args[600];
        snprintf(args, sizeof args,
                 "generate --task count --lattice 6x5 --points 4.01:1.2 --lambda 1 --count 8 --worms 0:3 --therm 12 "
                 "--chains 7 --seed 11 --threads 2 --out %s/%s",
                 tmpdir, runs[i][1]);
        cli_latbench(&R, runs[i][0], args);
        if (R.status != 0) fail_msg("%s latbench %s exited %d:\n%s", runs[i][0], args, R.status, R.out);
        static const char *files[] = {"x.npy", "y.npy", "meta.json"};
        for (int j = 0; j < 3 && i > 0; j++) {
            char p0[400], p1[400];
            snprintf(p0, sizeof p0, "%s/%s/%s", tmpdir, runs[0][1], files[j]);
            snprintf(p1, sizeof p1, "%s/%s/%s", tmpdir, runs[i][1], files[j]);
            if (!same_file(p0, p1)) fail_msg("%s differs between the scalar worm and %s", files[j], runs[i][1]);
        }
    }
    printf("NOTE generate: %d runs byte-identical to LATBENCH_ISA=scalar\n", nruns - 1);
}

static int setup(void **state) {
    (void)state;
    return test_tmpdir_make(tmpdir, sizeof tmpdir, "latbench-test-aarch64-");
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detection_and_dispatch),
        cmocka_unit_test(test_isa_caps),
        cmocka_unit_test(test_verify_reports_onednn),
        cmocka_unit_test(test_generate_same_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* Counts, grids and physical parameters past their limits: generate and observe refuse them with
 * one line and exit 2 before any work (no crash, no wrapped count, no silently saturated run, no
 * half-written dataset). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "lib/lattice/params.h"
#include "lib/lattice/sampler.h"
#include "lib/lattice/wtable.h"

static cli_result R;
static char tmp[256];

/* Runs args (with %s = the temporary directory); wants exit 2, one line naming `needle`, and no
 * dataset directory tmp/out left behind. */
static void refused(const char *args, const char *needle) {
    char full[2048], path[512];
    snprintf(full, sizeof full, args, tmp);
    cli_latbench(&R, NULL, full);
    snprintf(path, sizeof path, "%s/out", tmp);
    if (R.status != 2 || R.lines != 1 || !strstr(R.out, needle) || access(path, F_OK) == 0)
        fail_msg("'%s': status %d, %d lines: %s (wanted exit 2 and one line with '%s', no %s)", full, R.status, R.lines,
                 R.out, needle, path);
}

/* eta x mu grids whose point count overflows int (65536 x 65536 = 2^32 wrapped to 0: a heap
 * overrun before) */
static void test_grid_overflow(void **s) {
    (void)s;
    refused("generate --task regression --lattice 8x8 --lambda 1 --eta 4:69.535:0.001 --mu 0:6.5535:0.0001 --count 10 "
            "--out %s/out",
            "more than 100000 points");
    refused("observe --lattice 8x8 --lambda 1 --eta 4:69.535:0.001 --mu 0:6.5535:0.0001 --sweeps 2 --therm 0",
            "more than 100000 points");
    refused("observe --lattice 8x8 --lambda 1:1.1:0.001 --eta 4:4.1:0.001 --mu 0:0.1:0.001 --sweeps 2 --therm 0",
            "more than 100000 points");
}

/* --spacing x samples per chain past int: the sampling call got (int)2^32 = 0 sweeps before and
 * the run "wrote" an all-zero dataset. */
static void test_sweep_overflow(void **s) {
    (void)s;
    refused("generate --task regression --lattice 8x8 --lambda 1 --eta 4.01 --mu 1 --count 64 --chains 16 "
            "--spacing 1073741824 --therm 8 --out %s/out",
            "more than 1073741824 sweeps");
    /* even one sweep apart, 2^30 samples per chain are too many (refused before thermalizing) */
    refused("generate --task regression --lattice 2x2 --lambda 1 --eta 4.01 --mu 1 --count 1073741825 --chains 1 "
            "--therm 8 --out %s/out",
            "more than 1073741824 sweeps");
}

/* Lattices, chain states and series whose size does not fit are refused at parse time. */
static void test_sizes(void **s) {
    (void)s;
    refused("generate --task count --lattice 65536x65536 --lambda 1 --eta 4.01 --mu 1 --count 10 --out %s/out",
            "is too large");
    refused("observe --lattice 4096x4096 --lambda 1 --eta 4.01 --mu 1", "is too large");
    refused("observe --lattice 8x8 --lambda 1 --eta 4.01 --mu 1 --chains 65536 --sweeps 1073741824",
            "GiB of memory");
    refused("observe --lattice 2048x2048 --lambda 1 --eta 4.01 --mu 1 --chains 65536 --sweeps 2", "GiB of chain state");
    refused("generate --task regression --lattice 2048x2048 --lambda 1 --eta 4.01 --mu 1 --count 1099511627776 "
            "--out %s/out",
            "x.npy larger than");
}

/* mu past the float32 range of e^-mu: mu 100 and 1e10 gave the same data before. */
static void test_mu_range(void **s) {
    (void)s;
    refused("generate --task regression --lattice 8x8 --lambda 1 --eta 4.01 --mu 100 --count 2 --chains 1 --therm 8 "
            "--out %s/out",
            "mu 100 is outside -87..87");
    refused("observe --lattice 8x8 --lambda 1 --eta 4.01 --mu -1e10 --sweeps 2 --therm 0", "outside -87..87");
    lat_point_cfg c = {.nt = 8, .nx = 8, .eta = 4.01, .lambda = 1, .mu = LAT_MU_MAX, .nchains = 1};
    char err[256];
    assert_true(lat_point_validate(&c, err, sizeof err));
    c.mu = -LAT_MU_MAX;
    assert_true(lat_point_validate(&c, err, sizeof err));
    c.mu = 87.5;
    assert_false(lat_point_validate(&c, err, sizeof err));
}

/* An absurd worm count for the lattice ran for minutes without a line; now refused. */
static void test_worms_per_sweep(void **s) {
    (void)s;
    refused("observe --lattice 8x8 --lambda 1 --eta 4.01 --mu 1 --worms-per-sweep 16777216 --sweeps 2 --therm 0 "
            "--chains 1",
            "more than 16 per site");
    cli_latbench(&R, NULL, "observe --lattice 8x8 --lambda 1 --eta 4.01 --mu 1 --worms-per-sweep 1024 --sweeps 2 "
                           "--therm 0 --chains 1 --threads 1");
    assert_int_equal(R.status, 0);
}

/* bench: batch x lattice sizes whose layer buffers cannot exist; verify: a missing or cut value. */
static void test_bench_verify_options(void **s) {
    (void)s;
    refused("bench --batch 65536 --lattice 4096x4096 --no-json", "sample sites, more than 16777216");
    refused("bench --batch 1024 --lattice 8x8,512x512 --no-json", "sample sites, more than 16777216");
    refused("verify --isa", "--isa needs a value");
    refused("verify --filter", "--filter needs a value");
    refused("verify --isa ,", "names no ISA");
    refused("verify --isa scalar,scalar,scalar,scalar,scalar,scalar,scalar,scalar,scalar,scalar,scalar,scalar,scalar,"
            "scalar,scalar,scalar,scalar,scalar,scalar,scalar,avx2",
            "is too long");
}

/* refused() with environment assignments (env) before the binary */
static void refused_env(const char *env, const char *args, const char *needle) {
    char full[2048];
    snprintf(full, sizeof full, args, tmp);
    cli_latbench(&R, env, full);
    if (R.status != 2 || R.lines != 1 || !strstr(R.out, needle))
        fail_msg("'%s %s': status %d, %d lines: %s (wanted exit 2 and one line with '%s')", env, full, R.status, R.lines,
                 R.out, needle);
}

/* OMP_NUM_THREADS past the --threads bound overflowed libgomp's stack (SIGSEGV) in observe and
 * generate; 4096 still runs. */
static void test_omp_num_threads(void **s) {
    (void)s;
    refused_env("OMP_NUM_THREADS=100000", "observe --lattice 8x8 --eta 4 --lambda 1 --mu 1 --sweeps 2 --therm 0 --chains 1",
                "OMP_NUM_THREADS=100000 asks for 100000 threads, more than 4096");
    refused_env("OMP_NUM_THREADS=100000",
                "generate --task regression --lattice 8x8 --lambda 1 --eta 4 --mu 1 --count 2 --chains 1 --therm 8 "
                "--out %s/out",
                "more than 4096");
    /* the bound itself still runs (4096 threads are slow to start under qemu-user: 64 there) */
    cli_latbench(&R, cli_emulated() ? "OMP_NUM_THREADS=64" : "OMP_NUM_THREADS=4096",
                 "observe --lattice 8x8 --eta 4 --lambda 1 --mu 1 --sweeps 2 --therm 0 --chains 1");
    assert_int_equal(R.status, 0);
}

/* experiment --out '' put its datasets at /data; bench --json --quick wrote a file named --quick;
 * verify --isa of ISAs this CPU lacks checked nothing and ended in a contradictory summary. */
static void test_empty_and_option_values(void **s) {
    (void)s;
    refused("experiment regression --out ''", "--out needs a directory name");
    refused("bench --json --quick --filter nomatch", "--json needs a file name (got '--quick')");
    /* an output that cannot be written is refused before the work (train trained, then failed) */
    refused("train --model task3-eq1 --data %s/nodata --epochs 1 --out ''", "'' is not a usable output file name");
    refused("train --model task3-eq1 --data %s/nodata --epochs 1 --out /nonexistent-dir/m.safetensors",
            "the directory /nonexistent-dir does not exist");
    refused("gate --json ''", "--json: '' is not a usable output file name");
    refused("bench --quick --filter nomatch --json /nonexistent-dir/b.json", "the directory /nonexistent-dir does not exist");
    /* empty list items were skipped silently */
    refused("bench --quick --threads 1,,2 --filter nomatch", "--threads: '1,,2' is not a list");
    refused("bench --quick --lattice 8x8, --filter nomatch", "--lattice: '8x8,' is not a list");
    /* a filter that matches nothing measured nothing, wrote an empty result and exited 0 */
    char nomatch[1024], out[600];
    snprintf(out, sizeof out, "%s/out", tmp);
    snprintf(nomatch, sizeof nomatch, "bench --quick --no-pipelines --filter nomatch --json %s", out);
    cli_latbench(&R, NULL, nomatch);
    assert_int_equal(R.status, 2);
    assert_non_null(strstr(R.out, "latbench bench: no benchmark matched --filter nomatch"));
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(access("--quick.tmp", F_OK), -1);
    assert_int_equal(access("--quick", F_OK), -1);
#if defined(__x86_64__)
    refused("verify --isa neon", "--isa neon: this CPU runs none of these ISAs");
#else
    refused("verify --isa avx2,avx512", "this CPU runs none of these ISAs");
#endif
}

/* A W table of 2^20 entries took ~85 s without a line; the bound is now 2^16 (~5 s). */
static void test_fmax_bound(void **s) {
    (void)s;
    refused("observe --lattice 8x8 --eta 4 --lambda 1 --mu 1 --sweeps 2 --therm 0 --chains 1 --fmax 65537",
            "--fmax 65537: expected an integer in 8..65536");
    refused("generate --task regression --lattice 8x8 --lambda 1 --eta 4 --mu 1 --count 2 --chains 1 --therm 8 "
            "--fmax 1048576 --out %s/out",
            "expected an integer in 8..65536");
    lat_wtable t;
    char err[256];
    assert_false(lat_wtable_build(&t, 4, 1, LAT_FMAX_MAX + 1, err, sizeof err));
    assert_non_null(strstr(err, "fmax must be in 8..65536"));
}

/* Seeds are decimal: base 0 read "010" as octal 8, another seed than the one typed. */
static void test_seed_decimal(void **s) {
    (void)s;
    uint64_t v = 0;
    assert_true(lat_parse_u64("010", &v));
    assert_int_equal(v, 10);
    assert_true(lat_parse_u64("0x10", &v));
    assert_int_equal(v, 16);
    assert_true(lat_parse_u64("18446744073709551615", &v));
    assert_true(v == UINT64_MAX);
    assert_false(lat_parse_u64("18446744073709551616", &v));
    assert_false(lat_parse_u64("+1", &v));
    assert_false(lat_parse_u64(" 1", &v));
    assert_false(lat_parse_u64("0x", &v));
    assert_false(lat_parse_u64("08", &v) && v != 8);
}

static void test_grid_points(void **s) {
    (void)s;
    char err[256];
    int np = -1;
    const int ok[3] = {100, 10, 100}, big[3] = {65536, 1, 65536}, wrap[3] = {1 << 16, 1 << 16, 1 << 16};
    assert_true(lat_grid_points(ok, 3, &np, err, sizeof err));
    assert_int_equal(np, 100000);
    assert_false(lat_grid_points(big, 3, &np, err, sizeof err));
    assert_non_null(strstr(err, "more than 100000 points"));
    assert_false(lat_grid_points(wrap, 3, &np, err, sizeof err));
}

static int setup(void **s) {
    (void)s;
    return test_tmpdir_make(tmp, sizeof tmp, "lb_limits_");
}

static int teardown(void **s) {
    (void)s;
    return test_tmpdir_remove(tmp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_points),      cmocka_unit_test(test_grid_overflow), cmocka_unit_test(test_sweep_overflow),
        cmocka_unit_test(test_sizes),            cmocka_unit_test(test_mu_range),      cmocka_unit_test(test_worms_per_sweep),
        cmocka_unit_test(test_bench_verify_options), cmocka_unit_test(test_omp_num_threads),
        cmocka_unit_test(test_empty_and_option_values), cmocka_unit_test(test_fmax_bound),
        cmocka_unit_test(test_seed_decimal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* latbench report through the binary (LATBENCH_BIN, set by tests/run.sh): a small synthetic
 * results.json in the shape `latbench experiment` writes (harness/cli/experiment.c) gives valid,
 * non-trivial PNGs; bad input gives one line and exit 2. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/test_util.h"

static cli_result R;
static char tmp[128];

static void run(const char *fmt, const char *a, const char *b) {
    char args[2048];
    snprintf(args, sizeof args, fmt, a ? a : "", b ? b : "");
    cli_latbench(&R, NULL, args);
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* One trial of an EQ/ST net (runs on both sizes) or of an FL net (skipped on 16x16). */
#define TRIAL(T, VAL, L8, L16)                                                                                   \
    "{\"trial\": " #T ", \"val_loss\": " #VAL ", \"train_loss\": 0.9, \"best_epoch\": 10, \"epochs\": 20, "       \
    "\"train_seconds\": 1.5, \"samples_per_s\": 4000.0, \"test\": {\"8x8\": {\"loss\": " #L8 "}, \"16x16\": {\"loss\": " #L16 "}}}"
#define TRIAL_FL(T, VAL, L8)                                                                                     \
    "{\"trial\": " #T ", \"val_loss\": " #VAL ", \"train_loss\": 0.9, \"best_epoch\": 10, \"epochs\": 20, "       \
    "\"train_seconds\": 1.5, \"samples_per_s\": 4000.0, \"test\": {\"8x8\": {\"loss\": " #L8 "}, \"16x16\": "    \
    "{\"skipped\": \"task3-fl1 does not run on a 16x16 lattice\"}}}"
#define SUMMARY(A, B, C, D, E, F)                                                                                 \
    "\"summary\": {\"val_mean\": " #A ", \"val_median\": " #B ", \"test_train_size_mean\": " #C                   \
    ", \"test_train_size_median\": " #D ", \"test_all_sizes_mean\": " #E ", \"test_all_sizes_median\": " #F "}"

static const char *RESULTS_COUNT =
    "{\"task\": \"count\", \"quick\": true, \"train_lattice\": \"8x8\", \"train_count\": 2000, \"val_count\": 200,\n"
    " \"test_lattices\": [\"8x8\", \"16x16\"],\n"
    " \"settings\": {\"trials\": 2, \"epochs\": 150, \"patience\": 25, \"batch\": 100, \"threads\": 2},\n"
    " \"seconds\": {\"generation\": 5.0, \"training\": 10.0, \"evaluation\": 1.0},\n"
    " \"archs\": [\n"
    "  {\"arch\": \"task3-eq1\", \"params\": 1800, \"trials\": [" TRIAL(0, 1.1, 1.7, 6.5) ", " TRIAL(1, 3.1, 9.9, 30.2) "], "
    SUMMARY(2.1, 2.1, 5.8, 5.8, 12.1, 12.1) "},\n"
    "  {\"arch\": \"task3-st1\", \"params\": 2336, \"trials\": [" TRIAL(0, 0.8, 1.2, 40.0) ", " TRIAL(1, 0.9, 1.3, 55.0) "], "
    SUMMARY(0.85, 0.85, 1.25, 1.25, 24.4, 24.4) "},\n"
    "  {\"arch\": \"task3-fl1\", \"params\": 640, \"trials\": [" TRIAL_FL(0, 0.7, 1.0) ", " TRIAL_FL(1, 0.75, 1.1) "], "
    SUMMARY(0.725, 0.725, 1.05, 1.05, null, null) "}\n"
    " ]}\n";

/* A regression result with per-mu losses on one size (not written by `latbench experiment` today). */
static const char *RESULTS_REGRESSION =
    "{\"task\": \"regression\", \"quick\": true, \"train_lattice\": \"60x4\", \"train_count\": 1600, \"val_count\": 160,\n"
    " \"test_lattices\": [\"60x4\", \"50x2\"], \"settings\": {\"trials\": 1, \"epochs\": 40},\n"
    " \"archs\": [{\"arch\": \"task1-eq\", \"params\": 953, \"trials\": [{\"trial\": 0, \"val_loss\": 0.01, \"test\": {\n"
    "   \"60x4\": {\"loss\": 0.02, \"per_mu\": {\"0.90\": 0.01, \"1.00\": 0.02, \"1.10\": 0.05}},\n"
    "   \"50x2\": {\"loss\": 0.04, \"per_mu\": [{\"mu\": 0.9, \"loss\": 0.03}, {\"mu\": 1.0, \"loss\": 0.04}]}}}],\n"
    "   " SUMMARY(0.01, 0.01, 0.02, 0.02, 0.03, 0.03) "}]}\n";

static int setup(void **s) {
    (void)s;
    snprintf(tmp, sizeof tmp, "/tmp/latbench-report-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **s) {
    (void)s;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* path is a PNG (signature and IHDR) of at least min_bytes. */
static void assert_png(const char *dir, const char *name, long min_bytes) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("missing %s; latbench said:\n%s", path, R.out);
    unsigned char head[16];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(head + 12, "IHDR", 4);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    fclose(f);
    if (n < min_bytes) fail_msg("%s: only %ld bytes", path, n);
}

static bool exists(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* No temporary file (".NAME.tmp-...") left behind in dir. */
static void assert_no_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp-")) fail_msg("temporary file left: %s/%s", dir, e->d_name);
    closedir(d);
}

static void test_count_results_give_pngs(void **s) {
    (void)s;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/count", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    write_file(dir, "results.json", RESULTS_COUNT);
    run("report %s/results.json", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    assert_png(dir, "report_loss_vs_lattice.png", 20000);
    assert_png(dir, "report_table.png", 10000);
    assert_true(exists(dir, "report_table.md"));
    assert_false(exists(dir, "report_loss_vs_mu.png")); /* not a regression task */
    assert_non_null(strstr(R.out, "report_loss_vs_lattice.png"));
    assert_no_temporaries(dir);

    /* --out elsewhere (created), and the summary table in markdown holds the FL net's undefined value. */
    char out[300];
    snprintf(out, sizeof out, "%s/plots", tmp);
    run("report %s/results.json --out %s", dir, out);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    assert_png(out, "report_loss_vs_lattice.png", 20000);
    assert_png(out, "report_table.png", 10000);
    assert_no_temporaries(out);
    char md[512], text[8192];
    snprintf(md, sizeof md, "%s/report_table.md", out);
    FILE *f = fopen(md, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    assert_non_null(strstr(text, "| task3-fl1 | 640 | 2 |"));
    assert_non_null(strstr(text, "not run"));
}

static void test_regression_per_mu(void **s) {
    (void)s;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/reg", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    write_file(dir, "results.json", RESULTS_REGRESSION);
    run("report %s/results.json", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    assert_png(dir, "report_loss_vs_mu.png", 10000);
    assert_png(dir, "report_loss_vs_lattice.png", 10000);

    /* What `latbench experiment regression` writes today: no per-mu losses, so no mu plot and a note. */
    snprintf(dir, sizeof dir, "%s/reg-plain", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    char *plain = strdup(RESULTS_REGRESSION);
    assert_non_null(plain);
    for (char *p; (p = strstr(plain, "\"per_mu\""));) memcpy(p, "\"per_xx\"", 8);
    write_file(dir, "results.json", plain);
    free(plain);
    run("report %s/results.json", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "note: loss-vs-mu plot skipped"));
    assert_false(exists(dir, "report_loss_vs_mu.png"));
    assert_png(dir, "report_loss_vs_lattice.png", 10000);
}

static void expect_bad(const char *file, const char *text, const char *needle) {
    if (text) write_file(tmp, file, text);
    run("report %s/%s", tmp, file);
    if (R.status != 2 || R.lines != 1) fail_msg("%s: exit %d, %d lines:\n%s", file, R.status, R.lines, R.out);
    if (!strstr(R.out, needle)) fail_msg("%s: expected '%s' in: %s", file, needle, R.out);
    assert_non_null(strstr(R.out, "latbench report:"));
}

static void test_bad_input_one_line_exit_2(void **s) {
    (void)s;
    expect_bad("missing.json", NULL, "no such file");
    expect_bad("notjson.json", "this is { not json\n", "not JSON");
    expect_bad("empty.json", "", "not JSON");
    expect_bad("other.json", "{\"context\": {}, \"benchmarks\": []}\n", "no conv/pool or pipeline records to plot");
    expect_bad("array.json", "[1, 2, 3]\n", "neither an experiment's results.json");
    expect_bad("noarchs.json",
               "{\"task\": \"count\", \"train_lattice\": \"8x8\", \"test_lattices\": [\"8x8\"], \"archs\": []}\n",
               "archs");
    /* Passes the command's checks, refused by the plotting script: still one line, exit 2. */
    expect_bad("badlat.json",
               "{\"task\": \"count\", \"train_lattice\": \"8x8\", \"test_lattices\": [\"8by8\"], \"archs\": "
               "[{\"arch\": \"a\", \"trials\": [], \"summary\": {}}]}\n",
               "bad lattice name");
    run("report", NULL, NULL);
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    run("report %s/missing.json --bogus", tmp, NULL);
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
}

/* A real (small) benchmark run: its JSON gives the kernels-vs-oneDNN plot, the roofline and the
 * summary table. */
static void test_bench_results_give_pngs(void **s) {
    (void)s;
    char dir[256], args[1024];
    snprintf(dir, sizeof dir, "%s/bench", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(args, sizeof args, "bench --quick --threads 1 --batch 32 --reps 3 --no-pipelines --filter task3-eq1:conv2 --json %s/b.json", dir);
    cli_latbench(&R, NULL, args);
    if (R.status) fail_msg("bench: exit %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "STREAM triad"));
    run("report %s/b.json", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
#ifndef LB_NO_ONEDNN
    assert_png(dir, "b-vs-onednn.png", 10000);
#else
    assert_false(exists(dir, "b-vs-onednn.png"));   /* no oneDNN in this build: nothing to compare */
#endif
    assert_png(dir, "b-roofline.png", 10000);
    assert_true(exists(dir, "b-summary.md"));
    assert_false(exists(dir, "b-pipelines.png"));   /* no pipeline was timed */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_results_give_pngs),
        cmocka_unit_test(test_count_results_give_pngs),
        cmocka_unit_test(test_regression_per_mu),
        cmocka_unit_test(test_bad_input_one_line_exit_2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

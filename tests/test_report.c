/* latbench report through the binary (LATBENCH_BIN, set by tests/run.sh): a small synthetic
 * results.json in the shape `latbench experiment` writes (tools/cli/experiment.c) gives valid,
 * non-trivial PNGs; per-(eta, mu) and per-K losses give the loss-vs-mu and loss-vs-K plots and their
 * tables, their absence a note and no file; bad input gives one line and exit 2; --jobs 2 the same
 * files as one process. */
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

/* Per-(eta, mu) losses (2 eta x 2 mu) and per-K losses (K = 0, 1, 5) of one test lattice. */
#define PP(A, B, C, D)                                                                                            \
    "\"per_point\": [{\"eta\": 4.01, \"lambda\": 1.0, \"mu\": 1.0, \"n\": 10, \"loss\": " #A "}, "              \
    "{\"eta\": 4.01, \"lambda\": 1.0, \"mu\": 1.5, \"n\": 10, \"loss\": " #B "}, "                                \
    "{\"eta\": 4.25, \"lambda\": 1.0, \"mu\": 1.0, \"n\": 10, \"loss\": " #C "}, "                                \
    "{\"eta\": 4.25, \"lambda\": 1.0, \"mu\": 1.5, \"n\": 10, \"loss\": " #D "}]"
#define PL(K0, K1, K5)                                                                                            \
    "\"per_label\": [{\"label\": 0, \"n\": 8, \"loss\": " #K0 "}, {\"label\": 1, \"n\": 8, \"loss\": " #K1 "}, "    \
    "{\"label\": 5, \"n\": 8, \"loss\": " #K5 "}]"
#define TRIAL_PP(T, L8, PP8, PL8, L16, PP16, PL16)                                                                \
    "{\"trial\": " #T ", \"val_loss\": 1.0, \"test\": {\"8x8\": {\"loss\": " #L8 ", " PP8 ", " PL8 "}, "              \
    "\"16x16\": {\"loss\": " #L16 ", " PP16 ", " PL16 "}}}"
#define TRIAL_PP_FL(T, L8, PP8, PL8)                                                                              \
    "{\"trial\": " #T ", \"val_loss\": 1.0, \"test\": {\"8x8\": {\"loss\": " #L8 ", " PP8 ", " PL8 "}, "              \
    "\"16x16\": {\"skipped\": \"task3-fl1 does not run on a 16x16 lattice\"}}}"

/* What `latbench experiment count` writes: per-(eta, mu) and per-K losses on every size a net runs on.
 * The EQ net's medians over its two trials on 16x16 are 7.25 (eta 4.25, mu 1.5) and 61.5 (K = 5). */
static const char *RESULTS_COUNT_POINTS =
    "{\"task\": \"count\", \"quick\": true, \"train_lattice\": \"8x8\", \"train_count\": 2000,\n"
    " \"test_lattices\": [\"8x8\", \"16x16\"], \"settings\": {\"trials\": 2, \"epochs\": 40},\n"
    " \"archs\": [\n"
    "  {\"arch\": \"task3-eq1\", \"params\": 1800, \"trials\": [\n"
    "   " TRIAL_PP(0, 2.0, PP(1.5, 2.5, 1.0, 3.0), PL(0.5, 3.0, 0.7), 9.0, PP(8.0, 12.0, 4.0, 6.5), PL(3.0, 20.0, 60.0)) ",\n"
    "   " TRIAL_PP(1, 3.0, PP(2.5, 3.5, 2.0, 4.0), PL(0.9, 4.0, 0.8), 11.0, PP(9.0, 14.0, 5.0, 8.0), PL(5.0, 22.0, 63.0)) "],\n"
    "   " SUMMARY(1.0, 1.0, 2.5, 2.5, 6.25, 6.25) "},\n"
    "  {\"arch\": \"task3-fl1\", \"params\": 640, \"trials\": [\n"
    "   " TRIAL_PP_FL(0, 1.0, PP(0.5, 1.5, 0.4, 1.2), PL(0.3, 2.0, 0.4)) ",\n"
    "   " TRIAL_PP_FL(1, 1.2, PP(0.7, 1.7, 0.6, 1.4), PL(0.5, 2.5, 0.6)) "],\n"
    "   " SUMMARY(1.0, 1.0, 1.1, 1.1, null, null) "}\n"
    " ]}\n";

/* A detection result with per-(eta, mu) loss and accuracy (one trial, two sizes). */
#define PPA(ETA, MU, L, A) "{\"eta\": " #ETA ", \"lambda\": 1.0, \"mu\": " #MU ", \"n\": 20, \"loss\": " #L ", \"accuracy\": " #A "}"
static const char *RESULTS_DETECT_POINTS =
    "{\"task\": \"detect\", \"quick\": true, \"train_lattice\": \"8x8\", \"train_count\": 400,\n"
    " \"test_lattices\": [\"8x8\", \"16x16\"], \"settings\": {\"trials\": 1, \"epochs\": 40},\n"
    " \"archs\": [{\"arch\": \"task2-eq\", \"params\": 500, \"trials\": [{\"trial\": 0, \"val_loss\": 0.3, \"test\": {\n"
    "   \"8x8\": {\"loss\": 0.3, \"accuracy\": 0.9, \"per_point\": [" PPA(4.01, 1.0, 0.4, 0.85) ", " PPA(4.01, 1.5, 0.2, 0.95)
    ", " PPA(4.25, 1.0, 0.25, 0.93) ", " PPA(4.25, 1.5, 0.35, 0.875) "]},\n"
    "   \"16x16\": {\"loss\": 0.5, \"accuracy\": 0.8, \"per_point\": [" PPA(4.01, 1.0, 0.6, 0.75) ", " PPA(4.01, 1.5, 0.4, 0.85)
    ", " PPA(4.25, 1.0, 0.45, 0.83) ", " PPA(4.25, 1.5, 0.55, 0.785) "]}}}],\n"
    "   " SUMMARY(0.3, 0.3, 0.3, 0.3, 0.4, 0.4) "}]}\n";

/* A regression result with per-mu losses in the older "per_mu" forms (still read). */
static const char *RESULTS_REGRESSION =
    "{\"task\": \"regression\", \"quick\": true, \"train_lattice\": \"60x4\", \"train_count\": 1600, \"val_count\": 160,\n"
    " \"test_lattices\": [\"60x4\", \"50x2\"], \"settings\": {\"trials\": 1, \"epochs\": 40},\n"
    " \"archs\": [{\"arch\": \"task1-eq\", \"params\": 953, \"trials\": [{\"trial\": 0, \"val_loss\": 0.01, \"test\": {\n"
    "   \"60x4\": {\"loss\": 0.02, \"per_mu\": {\"0.90\": 0.01, \"1.00\": 0.02, \"1.10\": 0.05}},\n"
    "   \"50x2\": {\"loss\": 0.04, \"per_mu\": [{\"mu\": 0.9, \"loss\": 0.03}, {\"mu\": 1.0, \"loss\": 0.04}]}}}],\n"
    "   " SUMMARY(0.01, 0.01, 0.02, 0.02, 0.03, 0.03) "}]}\n";

static int setup(void **s) {
    (void)s;
    return test_tmpdir_make(tmp, sizeof tmp, "latbench-report-");
}

static int teardown(void **s) {
    (void)s;
    return test_tmpdir_remove(tmp);
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

/* The height in pixels of the PNG dir/name (its IHDR). */
static long png_height(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("missing %s", path);
    unsigned char head[24];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    return (long)head[20] << 24 | (long)head[21] << 16 | (long)head[22] << 8 | head[23];
}

/* dir/name, NUL-terminated, into a static buffer. */
static const char *read_text(const char *dir, const char *name) {
    static char text[1 << 16];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("missing %s", path);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    return text;
}

/* needle is in text. */
static void assert_has(const char *text, const char *needle) {
    if (!strstr(text, needle)) fail_msg("expected '%s' in:\n%s", needle, text);
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

/* `latbench report` on RESULTS written into a new directory tmp/NAME (dir: its path); must succeed. */
static void report_fresh(char *dir, size_t len, const char *name, const char *results) {
    snprintf(dir, len, "%s/%s", tmp, name);
    assert_int_equal(mkdir(dir, 0755), 0);
    test_write_file(dir, "results.json", results);
    run("report %s/results.json", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
}

static void test_count_results_give_pngs(void **s) {
    (void)s;
    char dir[256];
    report_fresh(dir, sizeof dir, "count", RESULTS_COUNT);
    assert_png(dir, "report_loss_vs_lattice.png", 20000);
    assert_png(dir, "report_table.png", 10000);
    assert_true(exists(dir, "report_table.md"));
    /* One loss per lattice size only: no per-(eta, mu) or per-K plot, a note for each, no table for them. */
    assert_false(exists(dir, "report_loss_vs_mu.png"));
    assert_false(exists(dir, "report_loss_vs_label.png"));
    assert_has(R.out, "note: loss-vs-mu plot skipped");
    assert_has(R.out, "note: loss-vs-K plot skipped");
    assert_non_null(strstr(R.out, "report_loss_vs_lattice.png"));
    assert_no_temporaries(dir);
    const char *t = read_text(dir, "report_table.md");
    assert_null(strstr(t, "per (eta, mu)"));
    assert_null(strstr(t, "per K"));
    /* the rank-scaling model (tools/report/plot_scaling.py): 6 trials of 1.5 s, 6 s on one rank; at 4
     * ranks the two st1 and two eq1 trials first, then the fl1 ones: 3 s + 6 s; one trial each from 8 */
    assert_png(dir, "report_scaling.png", 10000);
    t = read_text(dir, "report_scaling.md");
    assert_has(t, "| 1 | 15 | 1.00 | 100 % |");
    assert_has(t, "| 4 | 9 | 1.67 | 42 % |");
    assert_has(t, "stop helping at 8 ranks");

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

/* Per-(eta, mu) and per-K losses, as `latbench experiment count` writes them: both plots, both tables. */
static void test_count_per_point_per_label(void **s) {
    (void)s;
    char dir[256];
    report_fresh(dir, sizeof dir, "count-points", RESULTS_COUNT_POINTS);
    assert_png(dir, "report_loss_vs_mu.png", 20000);
    assert_png(dir, "report_loss_vs_label.png", 20000);
    assert_png(dir, "report_loss_vs_lattice.png", 20000);
    assert_has(R.out, "report_loss_vs_mu.png");
    assert_has(R.out, "report_loss_vs_label.png");
    assert_null(strstr(R.out, "note:"));
    assert_no_temporaries(dir);
    /* No accuracy: one row of panels, shorter than the detection plot below with its accuracy row. */
    long h_count = png_height(dir, "report_loss_vs_mu.png");

    const char *t = read_text(dir, "report_table.md");
    assert_has(t, "## Median test loss per (eta, mu) on the largest test lattice (16x16)");
    assert_has(t, "| arch | \u03b7 4.01, \u03bc 1 | \u03b7 4.01, \u03bc 1.5 | \u03b7 4.25, \u03bc 1 | \u03b7 4.25, \u03bc 1.5 |");
    assert_has(t, "| task3-eq1 | 8.5 | 13 | 4.5 | 7.25 |");
    assert_has(t, "| task3-fl1 | not run | not run | not run | not run |");
    assert_null(strstr(t, "Median test accuracy")); /* no accuracy in a count result */
    assert_has(t, "## Median test loss per K");
    assert_has(t, "### 8x8 (training size)");
    assert_has(t, "| arch | K=0* | K=1 | K=5* |");
    assert_has(t, "| task3-fl1 | 0.4 | 2.25 | 0.5 |");
    assert_has(t, "### 16x16");
    assert_has(t, "| task3-eq1 | 4 | 21 | 61.5 |");

    /* Detection with per-point accuracy: a second row of panels (accuracy), no per-K plot, no note. */
    report_fresh(dir, sizeof dir, "detect-points", RESULTS_DETECT_POINTS);
    assert_png(dir, "report_loss_vs_mu.png", 20000);
    assert_false(exists(dir, "report_loss_vs_label.png"));
    assert_null(strstr(R.out, "note:"));
    long h_detect = png_height(dir, "report_loss_vs_mu.png");
    if (h_detect < h_count + 300) fail_msg("no accuracy row: loss-vs-mu %ld px high (count: %ld)", h_detect, h_count);
    t = read_text(dir, "report_table.md");
    assert_has(t, "## Median test accuracy per (eta, mu) on the largest test lattice (16x16)");
    assert_has(t, "| task2-eq | 0.75 | 0.85 | 0.83 | 0.785 |");
    assert_has(t, "| task2-eq | 0.6 | 0.4 | 0.45 | 0.55 |");
    assert_no_temporaries(dir);
}

static void test_regression_per_mu(void **s) {
    (void)s;
    char dir[256];
    report_fresh(dir, sizeof dir, "reg", RESULTS_REGRESSION);
    assert_png(dir, "report_loss_vs_mu.png", 10000);
    assert_png(dir, "report_loss_vs_lattice.png", 10000);
    assert_false(exists(dir, "report_loss_vs_label.png")); /* counting only */
    assert_null(strstr(R.out, "note:"));
    const char *t = read_text(dir, "report_table.md");
    assert_has(t, "## Median test loss per (eta, mu) on the largest test lattice (60x4)");
    assert_has(t, "| task1-eq | 0.01 | 0.02 | 0.05 |");

    /* What `latbench experiment regression` writes today: no per-mu losses, so no mu plot and a note. */
    snprintf(dir, sizeof dir, "%s/reg-plain", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    char *plain = strdup(RESULTS_REGRESSION);
    assert_non_null(plain);
    for (char *p; (p = strstr(plain, "\"per_mu\""));) memcpy(p, "\"per_xx\"", 8);
    test_write_file(dir, "results.json", plain);
    free(plain);
    run("report %s/results.json", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "note: loss-vs-mu plot skipped"));
    assert_null(strstr(R.out, "loss-vs-K")); /* counting only */
    assert_false(exists(dir, "report_loss_vs_mu.png"));
    assert_png(dir, "report_loss_vs_lattice.png", 10000);
    assert_null(strstr(read_text(dir, "report_table.md"), "per (eta, mu)"));
}

static void expect_bad(const char *file, const char *text, const char *needle) {
    if (text) test_write_file(tmp, file, text);
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

/* dir/name's bytes equal other/name's. */
static void assert_same_file(const char *dir, const char *other, const char *name) {
    char cmd[1200];
    cli_result c;
    snprintf(cmd, sizeof cmd, "cmp '%s/%s' '%s/%s'", dir, name, other, name);
    cli_sh(&c, cmd);
    if (c.status) fail_msg("%s differs with --jobs 2:\n%s", name, c.out);
}

/* --jobs 2 (an MPI experiment's report: the loss-vs-mu figure in a second process) writes the same
 * files and prints the same lines as one process, notes included; the second process's failure is
 * one line naming its file, exit 1, no temporaries; --jobs 0 is a usage error. */
static void test_jobs_2_same_files(void **s) {
    (void)s;
    static const char *const figs[] = {"report_loss_vs_lattice.png", "report_loss_vs_mu.png", "report_loss_vs_label.png",
                                       "report_table.png", "report_table.md", "report_scaling.png", "report_scaling.md"};
    const char *const sets[][2] = {{"jobs-points", RESULTS_COUNT_POINTS}, {"jobs-plain", RESULTS_COUNT}};
    for (int k = 0; k < 2; k++) {
        char dir[256], two[300];
        report_fresh(dir, sizeof dir, sets[k][0], sets[k][1]);
        static char one_out[sizeof R.out];
        snprintf(one_out, sizeof one_out, "%s", R.out);
        snprintf(two, sizeof two, "%s/two", dir);
        run("report %s/results.json --jobs 2 --out %s", dir, two);
        if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
        /* the same lines, the second directory's name for the first's */
        char want[sizeof R.out], *w = want;
        for (const char *p = one_out, *hit; *p; p = hit + strlen(dir)) {
            hit = strstr(p, dir);
            if (!hit) hit = p + strlen(p);
            w += sprintf(w, "%.*s%s", (int)(hit - p), p, *hit ? two : "");
            if (!*hit) break;
        }
        assert_string_equal(R.out, want);
        assert_true(k == 1 || exists(dir, "report_loss_vs_mu.png")); /* the second process drew it */
        for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++)
            if (exists(dir, figs[i])) assert_same_file(dir, two, figs[i]);
            else assert_false(exists(two, figs[i]));
        assert_no_temporaries(two);
    }
    /* a directory where the second process's figure goes: it fails, one line, exit 1 */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/jobs-points/bad", tmp);
    assert_int_equal(mkdir(bad, 0755), 0);
    snprintf(bad, sizeof bad, "%s/jobs-points/bad/report_loss_vs_mu.png", tmp);
    assert_int_equal(mkdir(bad, 0755), 0);
    run("report %s/jobs-points/results.json --jobs 2 --out %s/jobs-points/bad", tmp, tmp);
    assert_int_equal(R.status, 1);
    assert_int_equal(R.lines, 1);
    assert_has(R.out, "report_loss_vs_mu.png");
    snprintf(bad, sizeof bad, "%s/jobs-points/bad", tmp);
    assert_no_temporaries(bad);
    run("report %s/jobs-points/results.json --jobs 0", tmp, NULL);
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
}

/* A real (small) benchmark run, made a 2-node file as `mpirun -n 2 latbench bench` writes it (rank
 * 0's top level plus "nodes", here the same run under two hosts): one report (matplotlib's start is
 * most of its time) gives the kernels-vs-oneDNN plot and the roofline of the top level, the nodes
 * side by side and a table per node.  A "nodes" that is not a list: one line, exit 2. */
static void test_bench_results_give_pngs(void **s) {
    (void)s;
    char dir[256], args[1024], cmd[1600];
    snprintf(dir, sizeof dir, "%s/bench", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(args, sizeof args, "bench --quick --threads 1 --batch 32 --reps 3 --no-pipelines --filter task3-eq1:conv2 --json %s/b.json", dir);
    cli_latbench(&R, NULL, args);
    if (R.status) fail_msg("bench: exit %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "STREAM triad"));
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); "
             "r[\"nodes\"]=[{\"rank\":k,\"host\":h,\"context\":r[\"context\"],\"benchmarks\":r[\"benchmarks\"]} "
             "for k,h in enumerate([\"node-a\",\"node-b\"])]; json.dump(r,open(sys.argv[2],\"w\")); "
             "r[\"nodes\"]=3; json.dump(r,open(sys.argv[3],\"w\"))' %s/b.json %s/n.json %s/bad.json",
             dir, dir, dir);
    cli_sh(&R, cmd);
    if (R.status) fail_msg("making the 2-node file: exit %d:\n%s", R.status, R.out);
    run("report %s/n.json", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
#ifndef LB_NO_ONEDNN
    assert_png(dir, "n-vs-onednn.png", 10000);
#else
    assert_false(exists(dir, "n-vs-onednn.png"));   /* no oneDNN in this build: nothing to compare */
#endif
    assert_png(dir, "n-roofline.png", 10000);
    assert_png(dir, "n-nodes.png", 10000);
    const char *md = read_text(dir, "n-summary.md");
    assert_has(md, "## Node node-a (rank 0)");
    assert_has(md, "## Node node-b (rank 1)");
    assert_false(exists(dir, "n-pipelines.png"));   /* no pipeline was timed */
    run("report %s/bad.json", dir, NULL);
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_results_give_pngs),
        cmocka_unit_test(test_count_results_give_pngs),
        cmocka_unit_test(test_count_per_point_per_label),
        cmocka_unit_test(test_regression_per_mu),
        cmocka_unit_test(test_bad_input_one_line_exit_2),
        cmocka_unit_test(test_jobs_2_same_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

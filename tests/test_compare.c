/* latbench compare and its statistics (tools/stats): the Mann-Whitney test and the confidence
 * interval of the ratio against known values, the interval's power and false alarms by simulation
 * (a table printed, nothing timed), the verdicts on synthetic result files (both latbench's and
 * google-benchmark's JSON), too few repetitions, bad input, and real runs: a deliberately slowed
 * kernel is flagged. */
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "tools/track/compare.h"
#include "tests/test_util.h"

static void test_mann_whitney_known_values(void **state) {
    (void)state;
    /* scipy.stats.mannwhitneyu(a, b, method="exact"): 2/252 for complete separation of 5 vs 5 */
    double a[5] = {1, 2, 3, 4, 5}, b[5] = {6, 7, 8, 9, 10};
    assert_true(fabs(mann_whitney_p(a, 5, b, 5) - 2.0 / 252) < 1e-12);
    assert_true(fabs(mann_whitney_p(b, 5, a, 5) - 2.0 / 252) < 1e-12);
    /* interleaved samples: no evidence at all */
    double c[4] = {1, 3, 5, 7}, d[4] = {2, 4, 6, 8};
    assert_true(mann_whitney_p(c, 4, d, 4) > 0.6);
    /* 3 vs 3 can never reach 0.05 (min p = 2/20) */
    assert_true(fabs(mann_whitney_p(a, 3, b, 3) - 0.1) < 1e-12);
    /* ties: normal approximation, still separates clearly different samples */
    double e[8] = {1, 1, 1, 2, 2, 2, 3, 3}, f[8] = {5, 5, 6, 6, 7, 7, 8, 8};
    double p = mann_whitney_p(e, 8, f, 8);
    assert_true(p > 0 && p < 0.01);
    double g[6] = {4, 4, 4, 4, 4, 4};
    assert_true(mann_whitney_p(g, 6, g, 6) == 1);
    assert_true(mann_whitney_p(a, 0, b, 5) == 1);
}

/* The interval of the ratio against values worked by hand: b = 2 a, 5 vs 5 at alpha 0.025 (each
 * bound 97.5 %): U counts 1, 1, 2, 3, ... of 252, P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252, so
 * k = 3 and the bounds are the 3rd smallest and 3rd largest of the 25 ratios 2 a_j / a_i: 2 * 1/3
 * and 2 * 3/1. */
static void test_ratio_ci_known_values(void **state) {
    (void)state;
    double a[5] = {1, 2, 3, 4, 5}, b[5] = {2, 4, 6, 8, 10};
    stats_shift sh;
    assert_true(stats_ratio_ci(a, 5, b, 5, 0.025, &sh));
    assert_true(sh.decidable);
    assert_true(fabs(sh.ratio - 2) < 1e-12);
    assert_true(fabs(sh.lo - 2.0 / 3) < 1e-12);
    assert_true(fabs(sh.hi - 6) < 1e-12);
    assert_true(fabs(sh.level - (1 - 4.0 / 252)) < 1e-12);
    /* at alpha 0.005 only the extremes remain: k = 1 (P(U <= 0) = 1/252) */
    assert_true(stats_ratio_ci(a, 5, b, 5, 0.005, &sh) && sh.decidable);
    assert_true(fabs(sh.lo - 0.4) < 1e-12 && fabs(sh.hi - 10) < 1e-12);
    /* the least repetitions that can decide: 1 / C(2n, n) <= alpha */
    assert_int_equal(stats_min_reps(0.05), 3);
    assert_int_equal(stats_min_reps(0.025), 4);
    assert_int_equal(stats_min_reps(0.01), 5);
    assert_int_equal(stats_min_reps(0.002), 6);
    assert_true(stats_ratio_ci(a, 4, b, 4, 0.01, &sh) && !sh.decidable);   /* 1/70 > 0.01 */
    assert_true(stats_ratio_ci(a, 4, b, 4, 0.025, &sh) && sh.decidable);
    assert_true(stats_ratio_ci(a, 3, b, 3, 0.025, &sh) && !sh.decidable);  /* 1/20 > 0.025 */
    assert_true(stats_ratio_ci(a, 3, b, 5, 0.025, &sh) && sh.decidable);   /* 1/56 */
    /* the sign-test interval of a median: 6 values at 0.025 give the extremes (1/64), 5 none (1/32) */
    double m, lo, hi, r6[6] = {1.3, 0.9, 1.1, 1.0, 1.2, 1.4};
    assert_int_equal(stats_sign_min_n(0.025), 6);
    assert_true(stats_median_ci(r6, 6, 0.025, &m, &lo, &hi));
    assert_true(fabs(m - 1.15) < 1e-12 && lo == 0.9 && hi == 1.4);
    assert_false(stats_median_ci(r6, 5, 0.025, &m, &lo, &hi));
    assert_true(fabs(m - 1.1) < 1e-12);
    /* bad input */
    double z[2] = {1, 0};
    assert_false(stats_ratio_ci(a, 0, b, 5, 0.025, &sh));
    assert_false(stats_ratio_ci(z, 2, b, 5, 0.025, &sh));
    assert_false(sh.decidable);
}

/* A fixed-seed generator (splitmix64) for the simulations. */
static double unit_rand(uint64_t *st) {
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return ((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

/* One repetition's time.  Shared: the noise of `bench --quick` on this shared 2-core machine
 * (measured on 9640 repetitions of 6 runs at load 3-4: log-deviations from the record's median have
 * quartiles -1.3 % / +3.3 %, 14 % of them are over +10 %, 5 % over x3.4): a log-normal core of sigma
 * 4 %, and 12 % of the repetitions hit by a burst adding an exponential time of mean 150 %.  Quiet:
 * the log-normal core alone (a machine to itself). */
static double noisy(uint64_t *st, double scale, bool shared) {
    double u1 = unit_rand(st), u2 = unit_rand(st);
    double z = sqrt(-2 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2);
    double t = scale * exp(0.04 * z);
    if (shared && unit_rand(st) < 0.12) t *= 1 - 1.5 * log(1 - unit_rand(st));
    return t;
}

enum { POWER_NR = 4, POWER_NS = 7, POWER_TRIALS = 2000 };
static const int power_reps[POWER_NR] = {4, 5, 7, 11};
static const double power_shifts[POWER_NS] = {1.0, 1.1, 1.15, 1.2, 1.3, 1.5, 2.0};

/* The share of simulated comparisons the default rule flags, per repetition count and shift, printed. */
static void power_table(bool shared, double rate[POWER_NR][POWER_NS]) {
    uint64_t st = 42;
    print_message("%s noise: share of %d simulated comparisons flagged by compare's default rule\n",
                  shared ? "shared-machine" : "quiet", POWER_TRIALS);
    print_message("reps       x1.0   x1.1  x1.15   x1.2   x1.3   x1.5   x2.0\n");
    for (int r = 0; r < POWER_NR; r++) {
        char line[128];
        int n = power_reps[r], len = snprintf(line, sizeof line, "%2d vs %2d", n, n);
        for (int s = 0; s < POWER_NS; s++) {
            int hits = 0;
            for (int t = 0; t < POWER_TRIALS; t++) {
                double a[16], b[16];
                for (int i = 0; i < n; i++) a[i] = noisy(&st, 1e-4, shared);
                for (int i = 0; i < n; i++) b[i] = noisy(&st, 1e-4 * power_shifts[s], shared);
                stats_shift sh;
                assert_true(stats_ratio_ci(a, n, b, n, COMPARE_DEFAULT_ALPHA, &sh));
                assert_true(sh.decidable);
                hits += sh.lo > 1 + COMPARE_DEFAULT_THRESHOLD;
            }
            rate[r][s] = (double)hits / POWER_TRIALS;
            len += snprintf(line + len, sizeof line - (size_t)len, " %6.3f", rate[r][s]);
        }
        print_message("%s\n", line);
    }
}

/* Power and false alarms of the default rule (interval entirely above 1 + 10 %, alpha 0.025) at the
 * repetition counts latbench produces: 4 (the least that decides), 5 (google-benchmark's usual),
 * 7 (bench --quick), 11 (bench).  Deterministic (fixed seed): the same tables on every run. */
static void test_ratio_ci_power(void **state) {
    (void)state;
    double q[POWER_NR][POWER_NS], sh[POWER_NR][POWER_NS];
    power_table(false, q);
    power_table(true, sh);
    for (int r = 0; r < POWER_NR; r++) {
        assert_true(q[r][0] == 0 && sh[r][0] <= 0.001);   /* no shift: (almost) never flagged */
        assert_true(q[r][5] >= 0.99);                      /* x1.5 on a quiet machine: always */
    }
    assert_true(q[2][3] >= 0.9);      /* x1.2 at bench --quick's 7 vs 7, quiet */
    assert_true(sh[3][6] >= 0.95);    /* x2 at 11 vs 11 even with bursts */
}

/* A latbench-style result with one benchmark whose samples are base * (1 + small jitter). */
static void write_latbench_json(const char *path, const char *name, double base_ns, int n, double ratio_onednn) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"context\": {\"executable\": \"latbench bench\"}, \"benchmarks\": [\n");
    for (int who = 0; who < 2; who++) {
        double t = who == 0 ? base_ns : base_ns / ratio_onednn;
        fprintf(f, "%s{\"name\": \"%s/%s/threads:1\", \"run_type\": \"aggregate\", \"problem\": \"%s\", \"impl\": \"%s\", "
                   "\"threads\": 1, \"time_unit\": \"ns\", \"real_time\": %g, \"onednn_best_path\": \"any\", \"samples\": [",
                who ? ",\n" : "", name, who == 0 ? "ours" : "onednn_any", name, who == 0 ? "ours" : "onednn_any", t);
        for (int i = 0; i < n; i++) fprintf(f, "%s%g", i ? ", " : "", t * (1 + 0.002 * ((i * 7) % 11)));   /* distinct: no ties */
        fprintf(f, "]}");
    }
    fprintf(f, "\n]}\n");
    fclose(f);
}

/* google-benchmark's JSON with --benchmark_repetitions=n: n iteration records and aggregates. */
static void write_gbench_json(const char *path, const char *name, double base_us, int n) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"context\": {\"library_build_type\": \"release\"}, \"benchmarks\": [\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "{\"name\": \"%s\", \"run_name\": \"%s\", \"run_type\": \"iteration\", \"repetitions\": %d, \"repetition_index\": %d, "
                   "\"iterations\": 1000, \"real_time\": %g, \"cpu_time\": %g, \"time_unit\": \"us\"},\n",
                name, name, n, i, base_us * (1 + 0.01 * (i % 3)), base_us);
    fprintf(f, "{\"name\": \"%s_median\", \"run_name\": \"%s\", \"run_type\": \"aggregate\", \"aggregate_name\": \"median\", "
               "\"real_time\": %g, \"cpu_time\": %g, \"time_unit\": \"us\"}\n]}\n",
            name, name, base_us, base_us);
    fclose(f);
}

/* A latbench-style result with one kernel measured on `nprob` problems, 7 repetitions each, every
 * time x `scale`, and problem `burst` (-1: none) slowed x2.5 in all its repetitions (a burst of
 * load covering the whole benchmark). */
static void write_kernel_json_impl(const char *path, int nprob, double scale, int burst, const char *impl) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"benchmarks\": [\n");
    for (int p = 0; p < nprob; p++) {
        double t = (1000 + 100 * p) * scale * (p == burst ? 2.5 : 1);
        fprintf(f, "%s{\"name\": \"conv2d_fwd/p%d/%s/threads:1\", \"time_unit\": \"ns\", \"samples\": [", p ? ",\n" : "", p, impl);
        for (int i = 0; i < 7; i++) fprintf(f, "%s%g", i ? ", " : "", t * (1 + 0.003 * ((i * 5 + p) % 7)));
        fprintf(f, "]}");
    }
    fprintf(f, "\n]}\n");
    fclose(f);
}

static void write_kernel_json(const char *path, int nprob, double scale, int burst) {
    write_kernel_json_impl(path, nprob, scale, burst, "ours");
}

static void compare(cli_result *r, const char *a, const char *b, const char *extra) {
    char args[1024];
    snprintf(args, sizeof args, "compare %s %s %s", a, b, extra ? extra : "");
    cli_latbench(r, NULL, args);
}

static void test_compare_synthetic(void **state) {
    (void)state;
    char dir[] = "/tmp/latbench-compare-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[256], b[256], c[256], d[256], e[256];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    snprintf(c, sizeof c, "%s/c.json", dir);
    snprintf(d, sizeof d, "%s/d.json", dir);
    snprintf(e, sizeof e, "%s/e.json", dir);
    cli_result *r = malloc(sizeof *r);
    assert_non_null(r);

    /* the same samples: quiet */
    write_latbench_json(a, "conv2d_fwd/x", 1000, 9, 0.8);
    write_latbench_json(b, "conv2d_fwd/x", 1000, 9, 0.8);
    compare(r, a, b, NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "0 regressions"));
    /* twice as slow, 9 repetitions each: a significant regression, named - oneDNN moved x2 with it,
     * beyond the machine-drift bound, so it is not put down to the machine */
    write_latbench_json(c, "conv2d_fwd/x", 2000, 9, 0.8);
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 1);
    assert_non_null(strstr(r->out, "REGRESSION"));
    assert_non_null(strstr(r->out, "conv2d_fwd/x/ours/threads:1"));
    assert_non_null(strstr(r->out, "oneDNN moved x2.000 too, beyond --machine-drift"));
    assert_non_null(strstr(r->out, "--machine-drift"));   /* the rule says it */
    /* ours and oneDNN both x1.2 in the second run: the machine's move, not a regression; with a
     * bound below it, a regression; ours alone x1.2: a regression confirmed against oneDNN */
    char f2[256];
    snprintf(f2, sizeof f2, "%s/f.json", dir);
    write_latbench_json(f2, "conv2d_fwd/x", 1200, 9, 0.8);
    compare(r, a, f2, NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "slower with oneDNN (the machine: not counted)"));
    assert_non_null(strstr(r->out, "1 kernel of ours moved with oneDNN"));
    assert_non_null(strstr(r->out, "0 regressions"));
    compare(r, a, f2, "--machine-drift 10");
    assert_int_equal(r->status, 1);
    compare(r, a, f2, "--machine-drift x");
    assert_int_equal(r->status, 2);
    write_latbench_json(f2, "conv2d_fwd/x", 1200, 9, 0.96);
    compare(r, a, f2, NULL);
    assert_int_equal(r->status, 1);
    assert_non_null(strstr(r->out, "REGRESSION (every benchmark's own interval; against oneDNN too: x1.200)"));
    /* ... but in ratio mode it is the same (ours and oneDNN both slowed: the machine was busy) */
    compare(r, a, c, "--ratio");
    assert_int_equal(r->status, 0);
    /* ours slower against oneDNN in the same run: a regression in ratio mode */
    write_latbench_json(d, "conv2d_fwd/x", 1000, 9, 1.6);
    compare(r, a, d, "--ratio");
    assert_int_equal(r->status, 1);
    assert_non_null(strstr(r->out, "REGRESSION"));
    /* ours 10 % slower (oneDNN not) is not above the default threshold of 10 %; it is above 5 % */
    write_latbench_json(e, "conv2d_fwd/x", 1100, 9, 0.88);
    compare(r, a, e, NULL);
    assert_int_equal(r->status, 0);
    compare(r, a, e, "--threshold 5");
    assert_int_equal(r->status, 1);
    /* google-benchmark's format */
    write_gbench_json(a, "BM_conv/8", 10, 10);
    write_gbench_json(b, "BM_conv/8", 10, 10);
    write_gbench_json(c, "BM_conv/8", 25, 10);
    compare(r, a, b, NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "1 benchmark compared"));
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 1);
    assert_non_null(strstr(r->out, "BM_conv/8"));

    /* bad input: one line, exit 2 */
    FILE *f = fopen(d, "w");
    fputs("{not json", f);
    fclose(f);
    compare(r, a, d, NULL);
    assert_int_equal(r->status, 2);
    assert_non_null(strstr(r->out, "not valid JSON"));
    assert_int_equal(r->lines, 1);
    f = fopen(d, "w");
    fputs("{\"x\": 1}", f);
    fclose(f);
    compare(r, a, d, NULL);
    assert_int_equal(r->status, 2);
    assert_non_null(strstr(r->out, "no \"benchmarks\" array"));
    compare(r, a, "/nonexistent/x.json", NULL);
    assert_int_equal(r->status, 2);
    assert_int_equal(r->lines, 1);
    compare(r, a, b, "--threshold abc");
    assert_int_equal(r->status, 2);
    cli_latbench(r, NULL, "compare onlyone.json");
    assert_int_equal(r->status, 2);
    /* nothing in common */
    write_gbench_json(e, "BM_other", 10, 3);
    compare(r, a, e, NULL);
    assert_int_equal(r->status, 2);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cli_sh(r, cmd);
    free(r);
}

/* Too few repetitions said plainly, the least that decides, reproducible output, google-benchmark's
 * 5 repetitions, and the verdict per kernel. */
static void test_compare_repetitions_and_kernels(void **state) {
    (void)state;
    char dir[] = "/tmp/latbench-compare-reps-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[256], c[256];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(c, sizeof c, "%s/c.json", dir);
    cli_result *r = malloc(sizeof *r);
    assert_non_null(r);
    /* one repetition each, or 3 vs 3: slower, but too few to decide: said, exit 0 */
    write_latbench_json(a, "conv2d_fwd/x", 1000, 1, 0.8);
    write_latbench_json(c, "conv2d_fwd/x", 2000, 1, 0.8);
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "too few repetitions to decide (1 vs 1; need >= 4)"));
    write_latbench_json(a, "conv2d_fwd/x", 1000, 3, 0.8);
    write_latbench_json(c, "conv2d_fwd/x", 1500, 3, 0.8);
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "too few repetitions to decide (3 vs 3; need >= 4)"));
    assert_non_null(strstr(r->out, "2 too few repetitions to decide"));   /* ours and oneDNN */
    /* 4 vs 4 (the least that decides), 1.5x: flagged; the same output twice (no randomness) */
    write_latbench_json(a, "conv2d_fwd/x", 1000, 4, 0.8);
    write_latbench_json(c, "conv2d_fwd/x", 1500, 4, 0.8);
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 1);
    assert_non_null(strstr(r->out, "REGRESSION"));
    char *first = strdup(r->out);
    assert_non_null(first);
    compare(r, a, c, NULL);
    assert_string_equal(first, r->out);
    free(first);
    /* identical distributions, 4 vs 4 and 7 vs 7: not flagged */
    write_latbench_json(c, "conv2d_fwd/x", 1000, 4, 0.8);
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "0 regressions"));
    write_latbench_json(a, "conv2d_fwd/x", 1000, 7, 0.8);
    write_latbench_json(c, "conv2d_fwd/x", 1000, 7, 0.8);
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 0);
    /* google-benchmark's usual 5 repetitions, every time x1.5: flagged (the fastest-halves test of
     * before could not reach its alpha at 3 vs 3) */
    write_gbench_json(a, "BM_conv/8", 10, 5);
    write_gbench_json(c, "BM_conv/8", 15, 5);
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 1);
    assert_non_null(strstr(r->out, "REGRESSION"));
    /* a kernel of 8 problems: one of them 2.5x slower in all its repetitions is that benchmark's
     * interval above, not the kernel's: no regression; all 8 x1.5: the kernel's regression */
    write_kernel_json(a, 8, 1, -1);
    write_kernel_json(c, 8, 1, 3);
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "slower (interval above)"));
    assert_non_null(strstr(r->out, "1 kernels: 0 regressions"));
    write_kernel_json(c, 8, 1.5, -1);
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 1);
    assert_non_null(strstr(r->out, "kernel conv2d_fwd/*/ours/threads:1"));
    assert_non_null(strstr(r->out, "REGRESSION (sign test)"));
    /* the same 1.5x on a kernel of the oneDNN baseline: reported as the machine's move, exit 0 */
    write_kernel_json_impl(a, 8, 1, -1, "onednn_any");
    write_kernel_json_impl(c, 8, 1.5, -1, "onednn_any");
    compare(r, a, c, NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "baseline moved (oneDNN: not counted)"));
    assert_non_null(strstr(r->out, "1 kernels: 0 regressions"));
    assert_non_null(strstr(r->out, "1 oneDNN baseline kernel moved"));

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cli_sh(r, cmd);
    free(r);
}

/* Two real runs of one conv layer, and a third with that kernel made 3x slower. */
static void test_compare_real_runs(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("compare real runs");
    char dir[] = "/tmp/latbench-compare-real-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cli_result *r = malloc(sizeof *r);
    assert_non_null(r);
    const char *bench = "bench --quick --threads 1 --batch 32 --reps 41 --filter conv2d_fwd/mb32_ic64oc48_ih8iw8";
    char args[1024], a[256], b[256], c[256];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    snprintf(c, sizeof c, "%s/c.json", dir);
    snprintf(args, sizeof args, "%s --json %s", bench, a);
    cli_latbench(r, NULL, args);
    assert_int_equal(r->status, 0);
    snprintf(args, sizeof args, "%s --json %s", bench, b);
    cli_latbench(r, NULL, args);
    assert_int_equal(r->status, 0);
    snprintf(args, sizeof args, "%s --json %s", bench, c);
    cli_latbench(r, "LATBENCH_TEST_SLOWDOWN=conv2d.fwd:3", args);
    assert_int_equal(r->status, 0);

#ifndef LB_NO_ONEDNN
    /* in-process ratios: insensitive to how busy the machine was during each run */
    compare(r, a, b, "--ratio");
    if (r->status != 0) print_message("%s\n", r->out);
    assert_int_equal(r->status, 0);
    compare(r, a, c, "--ratio");
    if (r->status != 1) print_message("%s\n", r->out);
    assert_int_equal(r->status, 1);
    assert_non_null(strstr(r->out, "conv2d_fwd/mb32_ic64oc48_ih8iw8_kh1kw1_sh1sw1_b1/ours/threads:1"));
#else
    print_message("NOTE compare: no oneDNN in this build: --ratio on real runs not tested\n");
#endif
    /* times: a 3x slowdown is flagged whatever the load */
    compare(r, a, c, NULL);
    if (r->status != 1) print_message("%s\n", r->out);
    assert_int_equal(r->status, 1);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cli_sh(r, cmd);
    free(r);
}

/* A file with one benchmark record: `record` is the JSON object's inside. */
static void write_record(const char *path, const char *record) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"benchmarks\": [{%s}]}\n", record);
    fclose(f);
}

/* Zero, negative or non-numeric times and unknown units are refused with one line naming the file
 * and the benchmark (they used to give "+inf%%", "-nan%%" or be read as ns). */
static void test_compare_rejects_bad_times(void **state) {
    (void)state;
    char dir[] = "/tmp/latbench-compare-bad-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    cli_result *r = malloc(sizeof *r);
    assert_non_null(r);
    write_latbench_json(a, "conv2d_fwd/x", 1000, 9, 0.8);
    static const char *bad[] = {
        "\"name\": \"conv2d_fwd/x/ours/threads:1\", \"time_unit\": \"ns\", \"samples\": [0, 0, 0]",
        "\"name\": \"conv2d_fwd/x/ours/threads:1\", \"time_unit\": \"ns\", \"samples\": [1000, -1000, 1000]",
        "\"name\": \"conv2d_fwd/x/ours/threads:1\", \"time_unit\": \"ns\", \"samples\": [1000, \"fast\", 1000]",
        "\"name\": \"conv2d_fwd/x/ours/threads:1\", \"time_unit\": \"fortnights\", \"samples\": [1000, 1001, 1002]",
        "\"name\": \"conv2d_fwd/x/ours/threads:1\", \"time_unit\": \"s\", \"samples\": [1e308, 1e308, 1e308]",
        "\"name\": \"conv2d_fwd/x/ours/threads:1\", \"run_type\": \"iteration\", \"time_unit\": \"us\", \"real_time\": -3",
        "\"name\": \"conv2d_fwd/x/ours/threads:1\", \"run_type\": \"iteration\", \"time_unit\": \"us\", \"real_time\": 0",
        "\"name\": \"conv2d_fwd/x/ours/threads:1\", \"run_type\": \"iteration\", \"time_unit\": 7, \"real_time\": 5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_record(b, bad[i]);
        for (int side = 0; side < 2; side++) {
            compare(r, side ? b : a, side ? a : b, side ? "--ratio" : NULL);
            if (r->status != 2 || r->lines != 1) print_message("case %zu: %s\n", i, r->out);
            assert_int_equal(r->status, 2);
            assert_int_equal(r->lines, 1);
            assert_non_null(strstr(r->out, b));
            assert_non_null(strstr(r->out, "conv2d_fwd/x/ours/threads:1"));
            assert_null(strstr(r->out, "inf"));
            assert_null(strstr(r->out, "nan"));
        }
    }
    /* a record in a known unit other than ns is scaled, not read as ns: 1 us == 1000 ns, unchanged */
    write_record(b, "\"name\": \"conv2d_fwd/x/ours/threads:1\", \"time_unit\": \"us\", \"samples\": [1, 1.002, 1.004, 1.006, 1.008, 1.01, 1.012, 1.014, 1.016]");
    compare(r, a, b, NULL);
    assert_int_equal(r->status, 0);
    assert_non_null(strstr(r->out, "1 benchmark compared"));

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cli_sh(r, cmd);
    free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mann_whitney_known_values),
        cmocka_unit_test(test_ratio_ci_known_values),
        cmocka_unit_test(test_ratio_ci_power),
        cmocka_unit_test(test_compare_synthetic),
        cmocka_unit_test(test_compare_repetitions_and_kernels),
        cmocka_unit_test(test_compare_rejects_bad_times),
        cmocka_unit_test(test_compare_real_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

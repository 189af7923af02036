/* `latbench bench --gbench`: the google-benchmark registry end to end (names per variant the CPU
 * runs, the LATBENCH_ISA cap, thread counts, bad flags) and its JSON (context, repetitions and
 * aggregates, counters consistent with the timings).  LATBENCH_BIN names the binary under test. */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "arch/registry.h"
#include "tools/machine/peak.h"

#ifdef LB_NO_GBENCH
/* A build without google-benchmark (the AArch64 cross build): --gbench says so in one line. */
static void test_not_available_in_this_build(void **state) {
    (void)state;
    static cli_result r;
    cli_latbench(&r, NULL, "bench --gbench --benchmark_list_tests");
    assert_int_not_equal(r.status, 0);
    assert_int_equal(r.lines, 1);
    assert_non_null(strstr(r.out, "not available in this build"));
    print_message("NOTE gbench: this build has no google-benchmark (GBENCH=0): only its one-line refusal is tested\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_not_available_in_this_build)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
#ifdef LB_NO_ONEDNN
#define ONEDNN_IMPL NULL
#define HAVE_ONEDNN 0
#else
#define ONEDNN_IMPL "onednn_any"
#define HAVE_ONEDNN 1
#endif

static cli_result R;
static lb_cpu cpu;

/* A problem of task1-eq's first layer on 8x8 at batch 1 (1x1 conv, 4 -> 64 channels). */
#define PROBLEM "mb1_ic4oc64_ih8iw8_kh1kw1_sh1sw1_b1"
#define SMALL "--lattice 8x8 --batch 1"

/* The highest-ISA conv2d variant this CPU runs (the scalar reference when no vector one does). */
static const conv2d_ops *best_conv2d(void) {
    int n;
    const conv2d_ops *v = lb_conv2d_variants(&n), *best = NULL;
    for (int i = 0; i < n; i++)
        if (lb_cpu_supports(&cpu, v[i].isa) && (!best || v[i].isa > best->isa)) best = &v[i];
    return best;
}

/* The <impl> part of a variant's name (README "Benchmark names"): ours for the dispatched one. */
static const char *impl_of(const char *variant, const char *dispatched, char *buf, size_t len) {
    if (dispatched && !strcmp(variant, dispatched)) snprintf(buf, len, "ours");
    else if (!strcmp(variant, "scalar")) snprintf(buf, len, "scalar");
    else snprintf(buf, len, "variant:%s", variant);
    return buf;
}

/* Listed by --benchmark_list_tests (google-benchmark's own names: with /real_time). */
static bool listed(const char *op, const char *problem, const char *impl, int threads) {
    char line[256];
    snprintf(line, sizeof line, "\n%s/%s/%s/threads:%d/real_time\n", op, problem, impl, threads);
    return strstr(R.out, line) != NULL || !strncmp(R.out, line + 1, strlen(line + 1));
}

static void test_list_has_every_variant_the_cpu_runs(void **state) {
    (void)state;
    cli_latbench(&R, NULL, "bench --gbench " SMALL " --benchmark_list_tests");
    assert_int_equal(R.status, 0);
    int n;
    char impl[80];
    const conv2d_ops *v = lb_conv2d_variants(&n);
    for (int i = 0; i < n; i++) {
        bool runs = lb_cpu_supports(&cpu, v[i].isa);
        impl_of(v[i].name, lb_dispatch_get()->conv2d->name, impl, sizeof impl);
        for (int pass = 0; pass < 3; pass++) {
            static const char *const ops[] = {"conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_weights"};
            assert_int_equal(listed(ops[pass], PROBLEM, impl, 1), runs);
        }
        if (!runs) {
            printf("SKIP conv2d/%s: this CPU lacks %s (the registry leaves it out)\n", v[i].name, lb_isa_name(v[i].isa));
            char said[128];
            snprintf(said, sizeof said, "skipped: conv2d/%s (CPU lacks %s)", v[i].name, lb_isa_name(v[i].isa));
            assert_non_null(strstr(R.out, said));
        }
    }
    const worm_ops *w = lb_worm_variants(&n);
    for (int i = 0; i < n; i++)   /* every worm variant is timed: none is "ours" */
        assert_int_equal(listed("worm", "60x4_eta4.01_lambda1_mu1.00", impl_of(w[i].name, NULL, impl, sizeof impl), 1),
                         lb_cpu_supports(&cpu, w[i].isa));
    assert_true(listed("conv2d_fwd", PROBLEM, "ours", 1));
    /* every op of every enumerator is registered */
    static const char *const all_ops[] = {"conv2d_fwd/", "conv2d_bwd_data/", "conv2d_bwd_weights/", "pool_fwd/", "pool_bwd/",
                                          "gpool_fwd/", "gpool_bwd/", "lrelu_fwd/", "lrelu_bwd/", "sigmoid_fwd/", "sigmoid_bwd/",
                                          "dense_fwd/", "dense_bwd_data/", "dense_bwd_weights/", "flatten_fwd/", "flatten_bwd/",
                                          "loss_mse/", "loss_bce_logits/", "adamw_step/", "worm/"};
    for (size_t i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n%s", all_ops[i]);
        if (!strstr(R.out, line) && strncmp(R.out, all_ops[i], strlen(all_ops[i]))) fail_msg("no %s benchmark listed", all_ops[i]);
    }
#ifdef LB_NO_ONEDNN
    printf("NOTE built without oneDNN: no onednn_any / onednn_nhwc baselines\n");
    assert_null(strstr(R.out, "/onednn_"));
#else
    assert_true(listed("conv2d_fwd", PROBLEM, "onednn_any", 1));
    assert_true(listed("conv2d_bwd_weights", PROBLEM, "onednn_nhwc", 1));
    assert_true(listed("pool_bwd", "max_mb1_c8_ih8iw8_k2s2", "onednn_any", 1));
#endif
}

static void test_list_honours_the_isa_cap(void **state) {
    (void)state;
    if (!lb_cpu_supports(&cpu, LB_ISA_AVX512) || !lb_cpu_supports(&cpu, LB_ISA_AVX2)) {
        printf("SKIP the LATBENCH_ISA=avx2 cap: this CPU lacks avx512 (or avx2), nothing above the cap to leave out\n");
        return;
    }
    cli_latbench(&R, "LATBENCH_ISA=avx2", "bench --gbench " SMALL " --benchmark_list_tests");
    assert_int_equal(R.status, 0);
    assert_null(strstr(R.out, "/variant:avx512"));
    assert_true(listed("conv2d_fwd", PROBLEM, "ours", 1));   /* the cap's variant is the dispatched one */
    assert_true(listed("conv2d_fwd", PROBLEM, "scalar", 1));
    assert_non_null(strstr(R.out, "skipped: conv2d/avx512 (above the LATBENCH_ISA cap avx2)"));
    cli_latbench(&R, "LATBENCH_ISA=scalar", "bench --gbench " SMALL " --benchmark_list_tests");
    assert_int_equal(R.status, 0);
    assert_null(strstr(R.out, "/variant:"));
    assert_null(strstr(R.out, "conv2d_fwd/" PROBLEM "/scalar/"));   /* the scalar variant is the dispatched one: ours */
    assert_true(listed("adamw_step", "n1800_amsgrad", "ours", 1));
}

static void test_threads_option(void **state) {
    (void)state;
    cli_latbench(&R, NULL, "bench --gbench --threads 1,2 " SMALL " --benchmark_list_tests --benchmark_filter=^conv2d_fwd/" PROBLEM "/scalar/");
    assert_int_equal(R.status, 0);
    assert_int_equal(R.lines, 2);
    assert_true(listed("conv2d_fwd", PROBLEM, "scalar", 1));
    assert_true(listed("conv2d_fwd", PROBLEM, "scalar", 2));
    cli_latbench(&R, NULL, "bench --gbench --cpu-time " SMALL " --benchmark_list_tests --benchmark_filter=^conv2d_fwd/" PROBLEM "/scalar/");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "conv2d_fwd/" PROBLEM "/scalar/threads:1\n"));
    cli_latbench(&R, NULL, "bench --gbench --cpu-time --threads 1,2 --benchmark_list_tests");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    cli_latbench(&R, NULL, "bench --gbench --threads 0 --benchmark_list_tests");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "--threads"));
}

static void test_bad_flags_fail_in_one_line(void **state) {
    (void)state;
    cli_latbench(&R, NULL, "bench --gbench --benchmark_nonsense");
    assert_int_not_equal(R.status, 0);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "--benchmark_nonsense"));
    cli_latbench(&R, NULL, "bench --gbench " SMALL " --benchmark_list_tests --benchmark_filter=^no_such_benchmark$");
    assert_int_equal(R.status, 1);
    /* an output that cannot be written is an input error (exit 2), found before any work */
    cli_latbench(&R, NULL, "bench --gbench " SMALL " --benchmark_out=/nonexistent-dir/x.json --benchmark_filter=^worm");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "cannot write /nonexistent-dir/x.json"));
}

/* Random interleaving calls the benchmarks of different problems in turn: the cached buffers and
 * oneDNN primitives must follow.  A 2x2 conv, so that oneDNN's path has our (instrumented) halo
 * copy: under ASan a stale path reads freed buffers. */
#define HALO_PROBLEM "mb1_ic80oc80_ih8iw8_kh2kw2_sh1sw1_b1"
static void test_random_interleaving(void **state) {
    (void)state;
    cli_latbench(&R, NULL,
                 "bench --gbench " SMALL " --benchmark_filter='^(conv2d_fwd/" HALO_PROBLEM "|pool_bwd/max_mb1_c8_ih8iw8_k2s2)/(scalar|onednn_any)/' "
                 "--benchmark_min_time=0.0005 --benchmark_repetitions=8 --benchmark_enable_random_interleaving=true "
                 "--benchmark_report_aggregates_only=true");
    if (R.status != 0) fail_msg("latbench failed:\n%s", R.out);
    static const char *const names[] = {"conv2d_fwd/" HALO_PROBLEM "/scalar/", "pool_bwd/max_mb1_c8_ih8iw8_k2s2/scalar/",
                                        "conv2d_fwd/" HALO_PROBLEM "/onednn_any/", "pool_bwd/max_mb1_c8_ih8iw8_k2s2/onednn_any/"};
    for (int i = 0; i < (HAVE_ONEDNN ? 4 : 2); i++) {
        char line[160];
        snprintf(line, sizeof line, "%sthreads:1_median ", names[i]);
        if (!strstr(R.out, line)) fail_msg("no %s in\n%s", line, R.out);
    }
}

static double number(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) fail_msg("%s: no number %s", json_string_value(json_object_get(o, "name")), key);
    return json_number_value(v);
}

static double context_number(json_t *ctx, const char *key) {
    const char *s = json_string_value(json_object_get(ctx, key));
    if (!s) fail_msg("context has no %s", key);
    return atof(s);
}

static void test_json_run(void **state) {
    (void)state;
    const conv2d_ops *best = best_conv2d();
    assert_non_null(best);
    char dir[] = "/tmp/test_gbench_XXXXXX", out[128], args[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/run.json", dir);
    /* named as bench names its rows (no /real_time): ours (the dispatched variant), scalar, oneDNN */
    const char *impls[3] = {lb_dispatch_get()->conv2d->isa != LB_ISA_SCALAR ? "scalar" : NULL, "ours", ONEDNN_IMPL};
    snprintf(args, sizeof args,
             "bench --gbench " SMALL " --benchmark_filter='^conv2d_fwd/" PROBLEM "/(scalar|ours|onednn_any)/' "
             "--benchmark_min_time=0.001 --benchmark_repetitions=2 --benchmark_out=%s --benchmark_out_format=json",
             out);
    cli_latbench(&R, NULL, args);
    if (R.status != 0) fail_msg("latbench failed:\n%s", R.out);
    json_error_t err;
    json_t *root = json_load_file(out, 0, &err);
    if (!root) fail_msg("%s: %s", out, err.text);

    json_t *ctx = json_object_get(root, "context");
    assert_non_null(ctx);
    static const char *const keys[] = {"latbench_cpu_model", "latbench_isa_features", "latbench_isa_cap", "latbench_dispatch",
                                       "latbench_compiler", "latbench_threads", "latbench_stream_convention", "latbench_onednn_baseline"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!json_is_string(json_object_get(ctx, keys[i]))) fail_msg("context has no %s", keys[i]);
    assert_string_equal(json_string_value(json_object_get(ctx, "latbench_threads")), "1");
    assert_true(context_number(ctx, "latbench_stream_triad_gbps_t1") > 0);
    assert_true(context_number(ctx, "latbench_l2_triad_gbps_t1") > 0);
    char key[96];
    snprintf(key, sizeof key, "latbench_fma_peak_gflops_%s_t1", lb_isa_name(machine_peak_isa_for(&cpu, best->isa)));
    if (best->isa != LB_ISA_SCALAR) assert_true(context_number(ctx, key) > 0);
#ifndef LB_NO_ONEDNN
    assert_non_null(json_object_get(ctx, "latbench_onednn_version"));
#endif

    json_t *benches = json_object_get(root, "benchmarks");
    assert_true(json_is_array(benches));
    const double flops = 2.0 * 8 * 8 * 4 * 64;   /* the problem's FLOPs per call */
    for (int k = 0; k < 3; k++) {
        if (!impls[k]) continue;
        char name[192];
        snprintf(name, sizeof name, "conv2d_fwd/" PROBLEM "/%s/threads:1", impls[k]);
        int iterations = 0, mean = 0, median = 0, stddev = 0;
        size_t i;
        json_t *b;
        json_array_foreach(benches, i, b) {
            if (strcmp(json_string_value(json_object_get(b, "run_name")), name)) continue;
            const char *type = json_string_value(json_object_get(b, "run_type"));
            const char *agg = json_string_value(json_object_get(b, "aggregate_name"));
            bool it = !strcmp(type, "iteration");
            iterations += it;
            mean += agg && !strcmp(agg, "mean");
            median += agg && !strcmp(agg, "median");
            stddev += agg && !strcmp(agg, "stddev");
            if (!it && strcmp(agg, "mean") && strcmp(agg, "median")) continue;
            double gf = number(b, "GFLOPS"), gb = number(b, "GBps"), pct = number(b, "pct_fma_peak");
            assert_true(isfinite(gf) && gf > 0);
            assert_true(isfinite(gb) && gb > 0);
            assert_true(isfinite(pct) && pct > 0);
            assert_true(number(b, "threads_used") == 1);
            if (it) {
                /* the rate counters divide by the wall time reported (real_time, ns per call) */
                assert_string_equal(json_string_value(json_object_get(b, "time_unit")), "ns");
                double t = number(b, "real_time");
                assert_true(fabs(gf * t - flops) < 1e-3 * flops);
                assert_int_equal((int)number(b, "repetitions"), 2);
            }
            if (!strcmp(impls[k], "scalar")) assert_true(pct < 100);
            if (!strcmp(impls[k], "onednn_any")) {
                const char *label = json_string_value(json_object_get(b, "label"));
                assert_true(label && *label);
                assert_true(number(b, "compute_ns") > 0);
                /* a 1x1 conv needs no halo copy; blocked layouts need reorders from/to NHWC */
                assert_null(json_object_get(b, "halo_ns"));
                assert_true(number(b, "reorder_ns") > 0 && number(b, "reorders") > 0);
            }
        }
        if (iterations != 2 || mean != 1 || median != 1 || stddev != 1)
            fail_msg("%s: %d iterations, %d mean, %d median, %d stddev entries (want 2, 1, 1, 1)", name, iterations, mean, median, stddev);
    }
    json_decref(root);

    /* written atomically: the temporary file is gone */
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') {
            assert_string_equal(e->d_name, "run.json");
            files++;
        }
    closedir(d);
    assert_int_equal(files, 1);
    unlink(out);
    rmdir(dir);
}

/* The names (run_name) of the timed rows of a result file, joined by newlines into out. */
static void row_names(const char *path, char *out, size_t len) {
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) fail_msg("%s: %s", path, err.text);
    size_t i, n = 0;
    json_t *b;
    out[0] = 0;
    json_array_foreach(json_object_get(root, "benchmarks"), i, b) {
        const char *type = json_string_value(json_object_get(b, "run_type"));
        const char *name = json_string_value(json_object_get(b, "run_name"));
        if (!type || strcmp(type, "iteration") || !name) continue;
        char line[300];
        snprintf(line, sizeof line, "%s\n", name);
        if (!strstr(out, line) && n + strlen(line) < len) n += (size_t)snprintf(out + n, len - n, "%s", line);
    }
    json_decref(root);
}

/* bench and bench --gbench name one problem's rows alike: the same run_names, `latbench compare`
 * and google-benchmark's compare.py match every row (no "only in" either file). */
static void test_names_match_bench(void **state) {
    (void)state;
    char dir[] = "/tmp/test_gbench_XXXXXX", env[160], args[1024], b[128], g[128];
    assert_non_null(mkdtemp(dir));
    snprintf(env, sizeof env, "LATBENCH_HISTORY=%s/h.sqlite", dir);
    snprintf(b, sizeof b, "%s/bench.json", dir);
    snprintf(g, sizeof g, "%s/gbench.json", dir);
    snprintf(args, sizeof args, "bench --quick --no-pipelines --no-history --scalar --threads 1 " SMALL " --filter conv2d_fwd/" PROBLEM
             " --json %s", b);
    cli_latbench(&R, env, args);
    if (R.status != 0) fail_msg("bench failed:\n%s", R.out);
    snprintf(args, sizeof args,
             "bench --gbench " SMALL " --benchmark_filter='^conv2d_fwd/" PROBLEM "/(scalar|ours|onednn_any|onednn_nhwc)/' "
             "--benchmark_min_time=0.001 --benchmark_repetitions=5 --benchmark_out=%s --benchmark_out_format=json", g);
    cli_latbench(&R, env, args);
    if (R.status != 0) fail_msg("gbench failed:\n%s", R.out);
    static char nb[4096], ng[4096];
    row_names(b, nb, sizeof nb);
    row_names(g, ng, sizeof ng);
    assert_non_null(strstr(nb, "conv2d_fwd/" PROBLEM "/ours/threads:1\n"));
    assert_non_null(strstr(nb, "conv2d_fwd/" PROBLEM "/scalar/threads:1\n"));
    /* the same set of names (in their own orders) */
    int lb = 0, lg = 0;
    for (const char *p = nb; *p; p++) lb += *p == '\n';
    for (const char *p = ng; *p; p++) lg += *p == '\n';
    bool same = lb == lg && lb > 0;
    for (char *p = nb, *e; same && (e = strchr(p, '\n')); p = e + 1) {
        char line[300];
        snprintf(line, sizeof line, "\n%.*s\n", (int)(e - p), p);
        same = !strncmp(ng, line + 1, strlen(line + 1)) || strstr(ng, line) != NULL;
    }
    if (!same) fail_msg("bench rows:\n%sgbench rows:\n%s", nb, ng);
    snprintf(args, sizeof args, "compare %s %s --all", b, g);
    cli_latbench(&R, NULL, args);
    if (R.status == 2 || strstr(R.out, " only in OLD") || strstr(R.out, " only in NEW")) fail_msg("compare:\n%s", R.out);
    assert_non_null(strstr(R.out, "conv2d_fwd/" PROBLEM "/ours/threads:1 "));
    const char *py = "/usr/share/benchmark/compare.py";
    if (access(py, R_OK) != 0) {
        print_message("NOTE %s absent (Debian libbenchmark-tools): google-benchmark's compare.py not checked\n", py);
    } else {
        snprintf(args, sizeof args, "/usr/bin/python3 %s benchmarks %s %s", py, b, g);
        cli_sh(&R, args);
        if (R.status != 0) print_message("NOTE compare.py did not run (exit %d; python3-scipy?):\n%s\n", R.status, R.out);
        else
            for (char *p = nb, *e; (e = strchr(p, '\n')); p = e + 1) {
                char name[300];
                snprintf(name, sizeof name, "%.*s", (int)(e - p), p);
                if (!strstr(R.out, name)) fail_msg("compare.py has no row %s:\n%s", name, R.out);
            }
    }
    test_tmpdir_remove(dir);
}

int main(void) {
    lb_cpu_detect(&cpu);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_has_every_variant_the_cpu_runs),
        cmocka_unit_test(test_list_honours_the_isa_cap),
        cmocka_unit_test(test_threads_option),
        cmocka_unit_test(test_bad_flags_fail_in_one_line),
        cmocka_unit_test(test_json_run),
        cmocka_unit_test(test_names_match_bench),
        cmocka_unit_test(test_random_interleaving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif

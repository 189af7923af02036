/* `latbench bench --json` in google-benchmark 1.7's layout: per benchmark one "iteration" row per
 * repetition, then the mean, median, stddev and cv aggregates; every record with real_time,
 * cpu_time and time_unit; run names unique (thread count and impl in each).  google-benchmark's own
 * compare.py reads two runs, and `latbench compare` reads new files and an old one beside a new one.
 * LATBENCH_BIN names the binary under test. */
#include "tests/test_util.h"
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* A problem of the recorded result below (the old format), small enough for a quick run. */
#define PROBLEM "conv2d_fwd/mb1_ic4oc64_ih8iw8_kh1kw1_sh1sw1_b1"
#define OLD_RESULT "results/amd-epyc-zen5-2c/bench-2026-12-04.json"
#define GB_COMPARE "/usr/share/benchmark/compare.py"

static char tmpdir[256];

static double num(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) fail_msg("%s: no number \"%s\"", json_string_value(json_object_get(o, "name")), key);
    return json_number_value(v);
}

static const char *str(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    if (!s) fail_msg("%s: no string \"%s\"", json_string_value(json_object_get(o, "name")), key);
    return s;
}

/* Runs `latbench bench ARGS --json DIR/FILE` and loads the result. */
static json_t *bench_json(const char *file, const char *args) {
    char path[400], a[1200];
    snprintf(path, sizeof path, "%s/%s", tmpdir, file);
    snprintf(a, sizeof a, "bench --quick --no-pipelines --no-history %s --json %s", args, path);
    static cli_result r;
    cli_latbench(&r, NULL, a);
    if (r.status != 0) fail_msg("latbench %s: exit %d\n%s", a, r.status, r.out);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) fail_msg("%s: %s", path, je.text);
    return root;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The checks of one benchmark (run_name): its iteration rows, its four aggregates. */
static void check_family(const json_t *bs, const char *run_name) {
    int reps = -1, n_it = 0, seen[64] = {0}, n_agg[4] = {0};
    static const char *const aggs[4] = {"mean", "median", "stddev", "cv"};
    double t[64];
    const json_t *median = NULL, *b;
    size_t i;
    json_array_foreach(bs, i, b) {
        if (strcmp(str(b, "run_name"), run_name)) continue;
        const int r = (int)num(b, "repetitions");
        if (reps < 0) reps = r;
        assert_int_equal(r, reps);
        assert_true(strstr(run_name, "/threads:") != NULL);
        char suffix[32];
        snprintf(suffix, sizeof suffix, "/threads:%d", (int)num(b, "threads"));
        assert_true(strlen(run_name) > strlen(suffix) && !strcmp(run_name + strlen(run_name) - strlen(suffix), suffix));
        if (!strcmp(str(b, "run_type"), "iteration")) {
            assert_string_equal(str(b, "name"), run_name);
            const int k = (int)num(b, "repetition_index");
            assert_true(k >= 0 && k < 64 && !seen[k]);
            seen[k] = 1;
            assert_true(num(b, "cpu_time") > 0 && num(b, "real_time") > 0 && num(b, "iterations") >= 1);
            t[n_it++] = num(b, "real_time");
            continue;
        }
        assert_string_equal(str(b, "run_type"), "aggregate");
        const char *agg = str(b, "aggregate_name");
        int a = 0;
        while (a < 4 && strcmp(agg, aggs[a])) a++;
        if (a == 4) fail_msg("%s: unknown aggregate %s", run_name, agg);
        n_agg[a]++;
        char want[300];
        snprintf(want, sizeof want, "%s_%s", run_name, agg);
        assert_string_equal(str(b, "name"), want);
        assert_string_equal(str(b, "aggregate_unit"), a == 3 ? "percentage" : "time");
        if (a == 1) median = b;
    }
    assert_true(reps >= 1);
    if (n_it != reps) fail_msg("%s: %d iteration rows, %d repetitions", run_name, n_it, reps);
    for (int a = 0; a < 4; a++)
        if (n_agg[a] != 1) fail_msg("%s: %d %s aggregates", run_name, n_agg[a], aggs[a]);
    /* the median row keeps latbench's fields and its samples: the iteration rows' times */
    assert_int_equal(json_array_size(json_object_get(median, "samples")), (size_t)reps);
    qsort(t, (size_t)n_it, sizeof *t, cmp_double);
    const double med = n_it % 2 ? t[n_it / 2] : 0.5 * (t[n_it / 2 - 1] + t[n_it / 2]);
    assert_true(fabs(num(median, "real_time") - med) <= 1e-9 * med);
}

/* Every record timed; one family per run_name, run_names unique; returns the families. */
static int check_layout(const json_t *root) {
    const json_t *bs = json_object_get(root, "benchmarks"), *b;
    assert_true(json_is_array(bs) && json_array_size(bs) > 0);
    json_t *names = json_object(), *fam = json_object();
    size_t i;
    json_array_foreach(bs, i, b) {
        assert_true(json_is_number(json_object_get(b, "real_time")));
        assert_true(json_is_number(json_object_get(b, "cpu_time")));
        assert_string_equal(str(b, "time_unit"), "ns");
        const char *name = str(b, "name"), *run = str(b, "run_name");
        if (!strcmp(str(b, "run_type"), "aggregate")) {
            if (json_object_get(names, name)) fail_msg("name %s twice", name);
            json_object_set_new(names, name, json_true());
        }
        char key[32];
        snprintf(key, sizeof key, "%d", (int)num(b, "family_index"));
        const char *f = json_string_value(json_object_get(fam, key));
        if (f) assert_string_equal(f, run);
        else json_object_set_new(fam, key, json_string(run));
    }
    int n = 0;
    const char *key;
    json_t *v, *runs = json_object();
    json_object_foreach(fam, key, v) {
        if (json_object_get(runs, json_string_value(v))) fail_msg("run_name %s in two families", json_string_value(v));
        json_object_set_new(runs, json_string_value(v), json_true());
        check_family(bs, json_string_value(v));
        n++;
    }
    json_decref(names);
    json_decref(fam);
    json_decref(runs);
    return n;
}

static void test_conv_rows_and_readers(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("bench JSON layout");
    const char *args = "--desc " PROBLEM " --threads 1,2 --reps 3";
    json_t *a = bench_json("a.json", args), *b = bench_json("b.json", args);
    /* ours and oneDNN's two layouts at 1 and 2 threads (a machine without oneDNN: ours alone) */
    int n = check_layout(a);
    assert_true(n == 6 || n == 2);
    assert_int_equal(check_layout(b), n);
    json_decref(a);
    json_decref(b);
    char cmd[1400];
    static cli_result r;
    if (access(GB_COMPARE, R_OK) == 0 && system("/usr/bin/python3 -c 'import scipy' 2>/dev/null") == 0) {
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 " GB_COMPARE " benchmarks %s/a.json %s/b.json", tmpdir, tmpdir);
        cli_sh(&r, cmd);
        if (r.status != 0) fail_msg("%s: exit %d\n%s", cmd, r.status, r.out);
        assert_non_null(strstr(r.out, PROBLEM "/ours/threads:2_median"));
    } else {
        print_message("NOTE google-benchmark's compare.py not checked: %s or python3-scipy is not installed "
                      "(toolchain/install-deps.sh installs libbenchmark-tools and python3-scipy)\n", GB_COMPARE);
    }
    snprintf(cmd, sizeof cmd, "compare %s/a.json %s/b.json", tmpdir, tmpdir);
    cli_latbench(&r, NULL, cmd);
    if (r.status > 1) fail_msg("latbench %s: exit %d\n%s", cmd, r.status, r.out);
    assert_non_null(strstr(r.out, n == 6 ? " 6 benchmarks compared" : " 2 benchmarks compared"));
    assert_null(strstr(r.out, "only in OLD"));
    assert_null(strstr(r.out, "only in NEW"));
    if (access(OLD_RESULT, R_OK) == 0) {
        /* the old layout (median rows named without "_median", no iteration rows) beside the new */
        snprintf(cmd, sizeof cmd, "compare --all %s %s/a.json", OLD_RESULT, tmpdir);   /* every row, moved or not */
        cli_latbench(&r, NULL, cmd);
        if (r.status > 1) fail_msg("latbench %s: exit %d\n%s", cmd, r.status, r.out);
        assert_non_null(strstr(r.out, PROBLEM "/ours/threads:1"));
        assert_null(strstr(r.out, " 0 benchmarks compared"));
    } else {
        print_message("NOTE %s not found (run from the repository root): old-format compare not checked\n", OLD_RESULT);
    }
}

static void test_worm_rows(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("bench JSON worm layout");
    json_t *w = bench_json("w.json", "--filter worm/60x4_eta4.01_lambda1_mu1.00 --threads 1,2");
    assert_true(check_layout(w) >= 2);
    const json_t *b;
    size_t i;
    int medians = 0;
    json_array_foreach(json_object_get(w, "benchmarks"), i, b) {
        if (!json_object_get(b, "worm")) continue;
        medians++;
        assert_string_equal(str(b, "aggregate_name"), "median");
        assert_true(num(b, "sweeps_per_s_core") > 0);
        /* an iteration: a sweep of every chain; cpu_time: the team's CPU time for it */
        const double per_chain_cpu = num(b, "cpu_time") * 1e-9 / num(b, "chains");
        assert_true(fabs(per_chain_cpu * num(b, "sweeps_per_s_core") - 1) < 1e-6);
    }
    assert_true(medians >= 2);
    json_decref(w);
}

static int setup(void **state) {
    (void)state;
    return test_tmpdir_make(tmpdir, sizeof tmpdir, "latbench-test-bench-json-");
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_rows_and_readers),
        cmocka_unit_test(test_worm_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

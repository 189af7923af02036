/* latbench model / train / eval end to end through the binary (LATBENCH_BIN, set by tests/run.sh). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "tests/test_util.h"

static cli_result R;
static char tmp[128];

/* latbench with the arguments fmt formatted with a and b (NULL: ""), into R. */
static void run(const char *fmt, const char *a, const char *b) {
    char args[2048];
    snprintf(args, sizeof args, fmt, a ? a : "", b ? b : "");
    cli_latbench(&R, NULL, args);
}

static int setup(void **s) {
    (void)s;
    snprintf(tmp, sizeof tmp, "/tmp/latbench-traincli-XXXXXX");
    if (!mkdtemp(tmp)) return -1;
    run("generate --task count --lattice 8x8 --points 4.25:1,4.01:1.5 --lambda 1 --count 200 --worms 0,5 --therm 64 "
        "--threads 1 --out %s/c8",
        tmp, NULL);
    if (R.status) return fprintf(stderr, "%s", R.out), -1;
    run("generate --task count --lattice 16x16 --eta 4.01 --mu 1 --lambda 1 --count 20 --worms 0,5 --therm 64 "
        "--threads 1 --out %s/c16",
        tmp, NULL);
    if (R.status) return fprintf(stderr, "%s", R.out), -1;
    return 0;
}

static int teardown(void **s) {
    (void)s;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_model_command(void **s) {
    (void)s;
    run("model task3-eq1 --lattice 64x64", NULL, NULL);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "parameters: 1800"));
    assert_non_null(strstr(R.out, "64x64x8"));
    run("model task1-fl --lattice 8x8", NULL, NULL);
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "does not run on a 8x8 lattice"));
    run("model no-such-net", NULL, NULL);
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
}

static void test_train_eval_fl_skips_other_size(void **s) {
    (void)s;
    run("train --model task3-fl1 --data %s/c8 --epochs 2 --threads 1 --out %s/fl.safetensors", tmp, tmp);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "trial 0: best validation loss"));
    run("model %s/fl.safetensors", tmp, NULL);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "parameters: 640"));
    run("eval --model %s/fl.safetensors --data %s/c8 --json", tmp, tmp);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "\"loss\""));
    char args[512];
    snprintf(args, sizeof args, "eval --model %s/fl.safetensors --data %s/c8 %s/c16", tmp, tmp, tmp);
    run("%s", args, NULL);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "c8: 8x8, 200 samples, MSE loss"));
    assert_non_null(strstr(R.out, "c16: skipped: the net (trained on 8x8) does not run on 16x16"));
}

static void test_eq_net_runs_on_other_size(void **s) {
    (void)s;
    run("train --model task3-eq2 --data %s/c8 --epochs 2 --trials 2 --seed 4 --threads 2 --out %s/eq.safetensors", tmp, tmp);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "trial 1:"));
    run("eval --model %s/eq.safetensors --data %s/c16", tmp, tmp);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "c16: 16x16, 20 samples, MSE loss"));
}

/* experiment count --quick on small datasets (--train-count, --test-count, --therm): the results
 * hold the loss per (eta, mu) point and per label K, and they add up to the overall loss.  A rerun
 * with another seed generates new datasets (named by a hash of their settings); a rerun with the
 * same settings reuses them. */
static void test_experiment_per_point_and_label(void **s) {
    (void)s;
    char args[1024];
    const char *small = "experiment count --quick --trials 1 --epochs 1 --threads 1 --train-count 120 --test-count 108 "
                        "--therm 32";
    snprintf(args, sizeof args, "%s --out %s/exp", small, tmp);
    run("%s", args, NULL);
    if (R.status) fprintf(stderr, "%s", R.out);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "data test-32x32-108-"));
    assert_null(strstr(R.out, "reused"));
    snprintf(args, sizeof args, "%s --seed 2 --out %s/exp", small, tmp);
    run("%s", args, NULL);
    assert_int_equal(R.status, 0);
    assert_null(strstr(R.out, "reused")); /* the seed-1 datasets are not this run's */
    snprintf(args, sizeof args, "%s --out %s/exp", small, tmp);
    run("%s", args, NULL);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, ": reused"));
    assert_null(strstr(R.out, "generated in"));
    snprintf(args, sizeof args, "%s/exp/results.json", tmp);
    json_error_t je;
    json_t *r = json_load_file(args, 0, &je);
    assert_non_null(r);
    json_t *eq = json_array_get(json_object_get(r, "archs"), 0);
    assert_string_equal(json_string_value(json_object_get(eq, "arch")), "task3-eq1");
    json_t *t16 = json_object_get(json_object_get(json_array_get(json_object_get(eq, "trials"), 0), "test"), "16x16");
    json_t *pp = json_object_get(t16, "per_point"), *pl = json_object_get(t16, "per_label");
    assert_int_equal(json_array_size(pp), 9); /* eta 4.01,4.04,4.25 x mu 1,1.25,1.5 */
    assert_int_equal(json_array_size(pl), 11); /* K = 0..10 */
    double sum = 0;
    long n = 0;
    for (size_t i = 0; i < 9; i++) {
        json_t *e = json_array_get(pp, i);
        assert_true(json_integer_value(json_object_get(e, "n")) == 12);
        assert_true(json_real_value(json_object_get(e, "mu")) == 1.0 + 0.25 * (double)(i % 3));
        sum += json_real_value(json_object_get(e, "loss")) * 12, n += 12;
    }
    const double all = json_real_value(json_object_get(t16, "loss"));
    assert_true(n == 108 && all > 0 && fabs(sum / n - all) <= 1e-6 * all);
    sum = 0;
    for (size_t i = 0; i < 11; i++) {
        json_t *e = json_array_get(pl, i);
        assert_true(json_integer_value(json_object_get(e, "label")) == (json_int_t)i);
        sum += json_real_value(json_object_get(e, "loss")) * json_integer_value(json_object_get(e, "n"));
    }
    assert_true(fabs(sum / 108 - all) <= 1e-6 * all);
    /* FL: skipped on the other sizes, with no per-point entries */
    json_t *fl = json_array_get(json_object_get(r, "archs"), 2);
    json_t *f16 = json_object_get(json_object_get(json_array_get(json_object_get(fl, "trials"), 0), "test"), "16x16");
    assert_non_null(json_object_get(f16, "skipped"));
    assert_null(json_object_get(f16, "per_point"));
    assert_non_null(json_object_get(json_object_get(r, "machine"), "cpu"));
    json_decref(r);
}

static void test_bad_input_one_line_exit_2(void **s) {
    (void)s;
    static const char *bad[] = {
        "train --model task3-eq1 --data %s/nope --out %s/x.safetensors",
        "train --model task1-eq --data %s/c8 --out %s/x.safetensors",  /* 2 outputs vs 1 label */
        "train --model task1-fl --data %s/c8 --out %s/x.safetensors",  /* FL on the wrong size */
        "train --model task3-eq1 --data %s/c8 --batch 0 --out %s/x",
        "train --model task3-eq1 --data %s/c8 --bogus --out %s/x",
        "eval --model %s/missing.safetensors --data %s/c8",
        "eval --model %s/c8/x.npy --data %s/c8",
        "experiment bogus%s%s",
        "experiment count --trials 0%s%s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run(bad[i], tmp, tmp);
        if (R.status != 2 || R.lines != 1) fprintf(stderr, "case %zu: status %d: %s", i, R.status, R.out);
        assert_int_equal(R.status, 2);
        assert_int_equal(R.lines, 1);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_command),
        cmocka_unit_test(test_train_eval_fl_skips_other_size),
        cmocka_unit_test(test_eq_net_runs_on_other_size),
        cmocka_unit_test(test_experiment_per_point_and_label),
        cmocka_unit_test(test_bad_input_one_line_exit_2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

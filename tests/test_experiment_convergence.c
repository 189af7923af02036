/* `latbench experiment convergence` (tools/experiment/convergence.c) on a tiny regression set (1
 * trial of 2 epochs, 200 training and 20 test samples, 1 thread: about 2 s a run):
 *  - results.json holds the four nets (EQ, ST, FL winners and the dense net), each with per-epoch
 *    training and validation losses of the run's length, parameter counts > 0 and the dense net's
 *    within 0.5x..2x of the EQ net's; the wall times are in timing.json, not results.json;
 *  - the same seed twice gives the same results.json bytes; a --target every net passes at once
 *    gives epochs_to_target 1;
 *  - `latbench report` draws the study's PNG and table (NOTE when matplotlib is missing);
 *  - bad options: one line, exit 2. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/test_util.h"
#include <jansson.h>

static cli_result R;
static char tmp[128];

static int setup(void **state) {
    (void)state;
    return test_tmpdir_make(tmp, sizeof tmp, "lbconv");
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmp);
}

/* A tiny convergence run into tmp/NAME (the plots skipped: LATBENCH_SHARE holds no script). */
static void run(const char *name, const char *opts) {
    char args[1024];
    snprintf(args, sizeof args,
             "experiment convergence --task regression --quick --trials 1 --epochs 2 --train-count 200 --test-count 20 "
             "--therm 8 --threads 1 --seed 5 --quiet %s --out %s/%s",
             opts, tmp, name);
    cli_latbench(&R, "LATBENCH_SHARE=/nonexistent", args);
    if (R.status != 0) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
}

static char *slurp(const char *name, const char *file, size_t *len) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s/%s", tmp, name, file);
    char *text = test_slurp(path, len);
    assert_non_null(text);
    return text;
}

static void test_structure_and_determinism(void **state) {
    (void)state;
    SKIP_WORKFLOW_UNDER_EMULATION("test_structure_and_determinism");
    run("a", "");
    size_t n1, n2;
    char *a = slurp("a", "results.json", &n1);
    json_t *r = json_loads(a, 0, NULL), *e;
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(r, "study")), "convergence");
    assert_true(json_real_value(json_object_get(r, "target")) > 0);
    static const char *const names[] = {"task1-eq", "task1-st", "task1-fl", "dense-task1"};
    static const char *const fams[] = {"EQ", "ST", "FL", "dense"};
    json_int_t params[4] = {0};
    size_t i;
    assert_int_equal(json_array_size(json_object_get(r, "archs")), 4);
    json_array_foreach(json_object_get(r, "archs"), i, e) {
        assert_string_equal(json_string_value(json_object_get(e, "arch")), names[i]);
        assert_string_equal(json_string_value(json_object_get(e, "family")), fams[i]);
        params[i] = json_integer_value(json_object_get(e, "params"));
        assert_true(params[i] > 0);
        json_t *t = json_array_get(json_object_get(e, "trials"), 0), *c = json_object_get(t, "curve");
        assert_int_equal(json_array_size(json_object_get(c, "train_loss")), 2);
        assert_int_equal(json_array_size(json_object_get(c, "val_loss")), 2);
        assert_true(json_real_value(json_array_get(json_object_get(c, "val_loss"), 1)) > 0);
        assert_int_equal(json_integer_value(json_object_get(t, "epochs")), 2);
        assert_non_null(json_object_get(t, "epochs_to_target"));
    }
    /* comparable budgets: the dense net within 0.5x..2x of the EQ net */
    assert_true(2 * params[3] >= params[0] && params[3] <= 2 * params[0]);
    json_decref(r);
    assert_null(strstr(a, "wall_seconds"));
    char *tm = slurp("a", "timing.json", NULL);
    assert_non_null(strstr(tm, "wall_seconds"));
    free(tm);
    /* the same seed again (datasets reused): the same bytes */
    run("a", "");
    char *b = slurp("a", "results.json", &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a), free(b);
    /* a target every net passes in its first epoch */
    run("a", "--target 1000");
    a = slurp("a", "results.json", NULL);
    r = json_loads(a, 0, NULL);
    assert_non_null(r);
    json_array_foreach(json_object_get(r, "archs"), i, e)
        assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(e, "trials"), 0), "epochs_to_target")), 1);
    json_decref(r);
    free(a);
}

static void test_report(void **state) {
    (void)state;
    SKIP_WORKFLOW_UNDER_EMULATION("test_report");
    cli_sh(&R, "${LATBENCH_PYTHON:-/usr/bin/python3} -c 'import matplotlib' 2>/dev/null");
    if (R.status != 0) {
        print_message("NOTE test_report: no matplotlib for /usr/bin/python3 (or $LATBENCH_PYTHON), the study's plot not drawn\n");
        return;
    }
    char args[512];
    snprintf(args, sizeof args, "report %s/a/results.json", tmp);
    cli_latbench(&R, NULL, args);
    if (R.status != 0) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    size_t n = 0;
    char *png = slurp("a", "report_study_convergence.png", &n);
    assert_true(n > 10000 && !memcmp(png, "\x89PNG", 4));
    free(png);
    char *md = slurp("a", "report_table.md", NULL);
    assert_non_null(strstr(md, "| dense-task1 | dense | 31874 | 0.96 | 1/1 | 1 |"));
    free(md);
}

static void test_bad_options(void **state) {
    (void)state;
    static const struct { const char *args, *msg; } bad[] = {
        {"experiment convergence", "needs --task regression|count"},
        {"experiment convergence --task detect", "needs --task regression|count"},
        {"experiment regression --task count", "--task goes with `experiment convergence`"},
        {"experiment regression --target 0.1", "--target goes with `experiment convergence`"},
        {"experiment convergence --task count --target -1", "--target needs a validation loss above 0"},
        {"experiment convergence --task count --augment translations", "one study per run"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cli_latbench(&R, NULL, bad[i].args);
        assert_int_equal(R.status, 2);
        if (!strstr(R.out, bad[i].msg)) print_message("%s: %s\n", bad[i].args, R.out);
        assert_non_null(strstr(R.out, bad[i].msg));
        assert_int_equal(R.lines, 1);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure_and_determinism),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

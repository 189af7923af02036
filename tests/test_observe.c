/* latbench observe end to end: the JSON contract (an object, a list for a scan), the text table,
 * independence of the thread count, and one-line errors with exit status 2 for bad input.
 * LATBENCH_BIN (set by tests/run.sh) names the binary of the build under test. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "tests/test_util.h"

static cli_result R;

static json_t *parse(const char *text) {
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) fail_msg("not JSON (%s at line %d): %.300s", e.text, e.line, text);
    return j;
}

static const char *SMALL = "--lattice 8x8 --eta 4.01 --lambda 1 --sweeps 300 --therm 60 --chains 4 --seed 7";

static void test_json_scan_is_a_list(void **state) {
    (void)state;
    char a[512];
    snprintf(a, sizeof a, "observe %s --mu 0.5:1.5:0.5 --json --threads 2", SMALL);
    cli_latbench(&R, NULL, a);
    assert_int_equal(R.status, 0);
    json_t *j = parse(R.out);
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 3);
    static const double mus[] = {0.5, 1.0, 1.5};
    double prev_n = -1;
    for (size_t i = 0; i < 3; i++) {
        json_t *o = json_array_get(j, i);
        static const char *keys[] = {"mu", "n", "n_err", "phi2", "phi2_err", "tau_int", "phi4", "charge", "worm_length"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (!json_is_number(json_object_get(o, keys[k]))) fail_msg("point %zu lacks numeric '%s'", i, keys[k]);
        json_t *acc = json_object_get(o, "acceptance");
        assert_true(json_is_object(acc));
        double aw = json_number_value(json_object_get(acc, "worm")), al = json_number_value(json_object_get(acc, "l"));
        assert_true(aw > 0 && aw < 1 && al > 0 && al < 1);
        assert_true(fabs(json_number_value(json_object_get(o, "mu")) - mus[i]) < 1e-12);
        double n = json_number_value(json_object_get(o, "n"));
        assert_true(n >= prev_n); /* n rises with mu */
        prev_n = n;
        assert_true(json_number_value(json_object_get(o, "tau_int")) >= 0.5);
        assert_true(json_number_value(json_object_get(o, "phi2_err")) > 0);
    }
    json_decref(j);
}

/* The same seed gives the same numbers whatever the thread count; a single point is an object. */
static void test_threads_do_not_change_results(void **state) {
    (void)state;
    char a[512];
    double v[2][3];
    for (int t = 0; t < 2; t++) {
        snprintf(a, sizeof a, "observe %s --mu 1.2 --json --threads %d", SMALL, t + 1);
        cli_latbench(&R, NULL, a);
        assert_int_equal(R.status, 0);
        json_t *o = parse(R.out);
        assert_true(json_is_object(o));
        v[t][0] = json_number_value(json_object_get(o, "n"));
        v[t][1] = json_number_value(json_object_get(o, "phi2"));
        v[t][2] = json_number_value(json_object_get(o, "tau_int"));
        json_decref(o);
    }
    for (int i = 0; i < 3; i++) assert_true(v[0][i] == v[1][i]);
}

static void test_text_table(void **state) {
    (void)state;
    char a[512];
    snprintf(a, sizeof a, "observe %s --mu 0.9,1.3", SMALL);
    cli_latbench(&R, NULL, a);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "<n>"));
    assert_non_null(strstr(R.out, "<|phi|^2>"));
    assert_non_null(strstr(R.out, "tau_int"));
    assert_non_null(strstr(R.out, " 0.9 "));
    assert_non_null(strstr(R.out, " 1.3 "));
}

static void test_bad_input(void **state) {
    (void)state;
    static const struct { const char *args, *needle; } bad[] = {
        {"observe --lattice 1x4 --eta 4.01 --lambda 1 --mu 1", "every dimension must be >= 2"},
        {"observe --lattice 60x1 --eta 4.01 --lambda 1 --mu 1", "every dimension must be >= 2"},
        {"observe --lattice 60 --eta 4.01 --lambda 1 --mu 1", "is not NTxNX"},
        {"observe --lattice 8x8 --eta 0 --lambda 0 --mu 0", "eta must be > 0 when lambda = 0"},
        {"observe --lattice 8x8 --eta -1 --lambda 0 --mu 0", "eta must be > 0 when lambda = 0"},
        {"observe --lattice 8x8 --eta 4.5 --lambda 0 --mu 1", "unstable"},
        {"observe --lattice 8x8 --eta 4 --lambda -1 --mu 1", "lambda must be >= 0"},
        {"observe --lattice 8x8 --eta 4 --lambda 1 --mu 1 --sweeps -5", "--sweeps -5"},
        {"observe --lattice 8x8 --eta 4 --lambda 1 --mu 1 --chains -2", "--chains -2"},
        {"observe --lattice 8x8 --eta 4 --lambda 1 --mu 1.1:1.0:0.1", "needs STEP > 0 and B >= A"},
        {"observe --lattice 8x8 --eta 4 --lambda 1 --mu abc", "'abc' is not a number"},
        {"observe --lattice 8x8 --eta 4 --lambda 1", "are required"},
        {"observe --lattice 8x8 --eta 4 --lambda 1 --mu 1 --bogus", "unknown option '--bogus'"},
        {"observe --lattice 8x8 --eta 4 --lambda 1 --mu", "--mu needs a value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cli_latbench(&R, NULL, bad[i].args);
        if (R.status != 2 || R.lines != 1 || !strstr(R.out, bad[i].needle))
            fail_msg("'%s': status %d, %d lines: %s (wanted '%s')", bad[i].args, R.status, R.lines, R.out, bad[i].needle);
    }
    cli_latbench(&R, NULL, "observe --help");
    assert_int_equal(R.status, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_scan_is_a_list),
        cmocka_unit_test(test_threads_do_not_change_results),
        cmocka_unit_test(test_text_table),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

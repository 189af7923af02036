/* Change points (tools/track/changepoint.h): a 10 % step in noise of known sigma is found where it is,
 * two steps are both found, a step 3 runs after an earlier level change is found (the newest-runs
 * test on the series' own noise), a flat series asked after each of 100 runs alarms at most once, pure noise gives none in at least 95 % of seeds, a seed gives the same
 * answer twice, and short or constant series give none. */
#include <math.h>
#include <string.h>
#include "tests/test_util.h"
#include "tools/track/changepoint.h"

/* Normal noise from a seeded splitmix64 + Box-Muller (the test's own, apart from the detector's). */
static uint64_t rs;
static double unif(void) {
    uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return ((z ^ (z >> 31)) >> 11) * 0x1p-53 + 0x1p-54;
}
static double gauss(void) {
    return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

/* x[i] = level(i) * (1 + sigma N(0,1)): level 100, times (1 + step) from each of the change indices. */
static void series(double *x, int n, double sigma, const int *at, const double *step, int k, uint64_t seed) {
    rs = seed;
    for (int i = 0; i < n; i++) {
        double level = 100;
        for (int c = 0; c < k; c++)
            if (i >= at[c]) level *= 1 + step[c];
        x[i] = level * (1 + sigma * gauss());
    }
}

static void test_one_step(void **s) {
    (void)s;
    double x[80];
    int at[] = {50};
    double st[] = {0.10};
    series(x, 80, 0.02, at, st, 1, 7);
    hist_cp cp[8];
    hist_cp_opts o = {0.01, 199, 3, 42, 0, 0};
    int k = hist_changepoints(x, 80, &o, cp, 8);
    assert_int_equal(k, 1);
    assert_true(abs(cp[0].index - 50) <= 1);
    assert_true(fabs(cp[0].step - 0.10) < 0.03);
    assert_true(cp[0].p <= 0.01);
    assert_true(fabs(cp[0].before - 100) < 2 && fabs(cp[0].after - 110) < 2);
}

static void test_two_steps(void **s) {
    (void)s;
    double x[120];
    int at[] = {40, 85};
    double st[] = {0.10, -0.15};
    series(x, 120, 0.02, at, st, 2, 11);
    hist_cp cp[8];
    hist_cp_opts o = {0.01, 199, 3, 1, 0, 0};
    int k = hist_changepoints(x, 120, &o, cp, 8);
    assert_int_equal(k, 2);
    assert_true(cp[0].index < cp[1].index);
    assert_true(abs(cp[0].index - 40) <= 1 && abs(cp[1].index - 85) <= 1);
    assert_true(cp[0].step > 0.07 && cp[1].step < -0.12);
    /* the cap bounds the answer */
    assert_int_equal(hist_changepoints(x, 120, &o, cp, 1), 1);
}

static void test_noise_has_none(void **s) {
    (void)s;
    double x[60];
    int clean = 0, seeds = 200;
    for (int sd = 0; sd < seeds; sd++) {
        series(x, 60, 0.03, NULL, NULL, 0, 1000 + (uint64_t)sd);
        hist_cp cp[8];
        hist_cp_opts o = {0.01, 199, 3, (uint64_t)sd, 0, 0};
        int k = hist_changepoints(x, 60, &o, cp, 8);
        assert_true(k >= 0);
        clean += k == 0;
    }
    print_message("noise: %d of %d seeds without a change point\n", clean, seeds);
    assert_true(clean >= seeds * 95 / 100);
}

static void test_deterministic(void **s) {
    (void)s;
    double x[90];
    int at[] = {30, 60};
    double st[] = {0.05, 0.05};
    series(x, 90, 0.03, at, st, 2, 5);
    hist_cp a[8], b[8];
    hist_cp_opts o = {0.05, 99, 3, 1234, 0, 0};
    int ka = hist_changepoints(x, 90, &o, a, 8), kb = hist_changepoints(x, 90, &o, b, 8);
    assert_int_equal(ka, kb);
    assert_true(ka >= 1);
    for (int i = 0; i < ka; i++) {   /* field by field: the struct has padding */
        assert_int_equal(a[i].index, b[i].index);
        assert_true(a[i].p == b[i].p && a[i].step == b[i].step && a[i].before == b[i].before);
    }
}

static void test_short_and_constant(void **s) {
    (void)s;
    double x[40];
    hist_cp cp[4];
    hist_cp_opts o = {0.01, 199, 5, 3, 0, 0};
    for (int i = 0; i < 40; i++) x[i] = i < 5 ? 1 : 2;
    assert_int_equal(hist_changepoints(x, 9, &o, cp, 4), 0);   /* n < 2 * min_size */
    assert_int_equal(hist_changepoints(x, 0, &o, cp, 4), 0);
    assert_int_equal(hist_changepoints(x, -1, &o, cp, 4), -1);
    for (int i = 0; i < 40; i++) x[i] = 3.5;
    assert_int_equal(hist_changepoints(x, 40, &o, cp, 4), 0);  /* constant: Q = 0 everywhere */
    for (int i = 0; i < 40; i++) x[i] = 0;
    assert_int_equal(hist_changepoints(x, 40, NULL, cp, 4), 0);  /* zeros, default options */
    /* a clean step from zero: found, the step undefined rather than a division by zero */
    for (int i = 20; i < 40; i++) x[i] = 1;
    int k = hist_changepoints(x, 40, NULL, cp, 4);
    assert_int_equal(k, 1);
    assert_int_equal(cp[0].index, 20);
    assert_true(isnan(cp[0].step));
}

/* A step only 3 runs old is called at its first run (by the newest-runs test where E-Divisive's
 * permutation test of the best split does not reach alpha), and noise alone is not. */
static void test_newest_runs(void **s) {
    (void)s;
    double x[43];
    int at[] = {40};
    double st[] = {0.10};
    series(x, 43, 0.01, at, st, 1, 3);
    hist_cp cp[8];
    hist_cp_opts on = {0.01, 199, 3, 1, 0, 0};
    int k = hist_changepoints(x, 43, &on, cp, 8);
    assert_int_equal(k, 1);
    assert_int_equal(cp[0].index, 40);
    assert_true(fabs(cp[0].step - 0.10) < 0.03);
    /* and not on the same runs without the step */
    series(x, 43, 0.01, NULL, NULL, 0, 3);
    assert_int_equal(hist_changepoints(x, 43, &on, cp, 8), 0);
}

/* A step 3 runs after an earlier level change: the runs back to that change are too few for a
 * rank test (3 against 3 cannot reach alpha 0.01), the series' own noise (run-to-run differences)
 * decides.  The newest change point is the step, at its first run. */
static void test_step_after_change(void **s) {
    (void)s;
    double x[26];
    int at[] = {20, 23};
    double st[] = {-0.10, -0.10};
    int found = 0;
    for (uint64_t sd = 1; sd <= 10; sd++) {
        series(x, 26, 0.01, at, st, 2, sd);
        hist_cp cp[8];
        hist_cp_opts o = {.seed = sd};
        int k = hist_changepoints(x, 26, &o, cp, 8);
        found += k > 0 && cp[k - 1].index == 23 && fabs(cp[k - 1].step + 0.10) < 0.04;
    }
    if (found < 9) fail_msg("the step 3 runs after a level change found in %d of 10 series", found);
}

/* A flat noisy series of 100 runs asked after every run, as CI does: at most one new change point
 * beyond 3 % appears (the false alarms `history` would print). */
static void test_flat_replayed(void **s) {
    (void)s;
    double x[100];
    series(x, 100, 0.02, NULL, NULL, 0, 11);
    int alarms = 0, prev = -1;
    for (int n = 6; n <= 100; n++) {
        hist_cp cp[8];
        hist_cp_opts o = {.seed = 1};
        int k = hist_changepoints(x, n, &o, cp, 8), now = k > 0 && fabs(cp[k - 1].step) > 0.03 ? cp[k - 1].index : -1;
        alarms += now >= 0 && now != prev;
        prev = now;
    }
    if (alarms > 1) fail_msg("%d alarms on 100 flat runs", alarms);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_step),
        cmocka_unit_test(test_newest_runs),
        cmocka_unit_test(test_step_after_change),
        cmocka_unit_test(test_flat_replayed),
        cmocka_unit_test(test_two_steps),
        cmocka_unit_test(test_noise_has_none),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_short_and_constant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

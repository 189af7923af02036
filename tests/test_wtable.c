/* The W(f) table against the closed forms of docs/design.md §2.3, to 1e-12 relative. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tests/test_util.h"
#include "lib/lattice/wtable.h"

static long double rel(long double a, long double b) { return fabsl(a - b) / fabsl(b); }

/* W(0) = √π/(4√λ) e^{η²/4λ} erfc(η/(2√λ)) and W(2) = (1 - 2ηW(0))/(4λ). */
static void check_low(long double eta, long double lam) {
    long double w0 = sqrtl(3.14159265358979323846264338327950288L) / (4 * sqrtl(lam)) * expl(eta * eta / (4 * lam)) *
                     erfcl(eta / (2 * sqrtl(lam)));
    long double w2 = (1 - 2 * eta * w0) / (4 * lam);
    long double q0 = expl(lat_logw_quad(0, eta, lam)), q2 = expl(lat_logw_quad(2, eta, lam));
    if (rel(q0, w0) > 1e-12L || rel(q2, w2) > 1e-12L)
        fail_msg("eta %Lg lambda %Lg: W(0) %.17Lg vs %.17Lg, W(2) %.17Lg vs %.17Lg", eta, lam, q0, w0, q2, w2);
}

/* W(f+4) = [(f/2+1) W(f) - η W(f+2)] / (2λ), one step from quadrature values (never iterated). */
static void check_recursion(long double eta, long double lam, int f) {
    long double a = lat_logw_quad(f, eta, lam), b = lat_logw_quad(f + 2, eta, lam), c = lat_logw_quad(f + 4, eta, lam);
    long double rhs = ((0.5L * f + 1) * expl(a - c) - eta * expl(b - c)) / (2 * lam);
    if (fabsl(rhs - 1) > 1e-12L) fail_msg("eta %Lg lambda %Lg f %d: recursion off by %Lg", eta, lam, f, rhs - 1);
}

static void test_closed_forms(void **state) {
    (void)state;
    static const long double pts[][2] = {{4.01L, 1}, {4.04L, 1}, {4.25L, 1}, {0.5L, 0.1L}, {8, 3}, {-1, 1}, {1, 20}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        check_low(pts[i][0], pts[i][1]);
        static const int fs[] = {0, 1, 2, 3, 7, 10, 31, 100, 257, 640, 1020};
        for (size_t j = 0; j < sizeof fs / sizeof fs[0]; j++) check_recursion(pts[i][0], pts[i][1], fs[j]);
    }
}

static void test_design_numbers(void **state) {
    (void)state;
    long double w0 = expl(lat_logw_quad(0, 4.01L, 1)), w2 = expl(lat_logw_quad(2, 4.01L, 1));
    assert_true(fabsl(w0 - 0.1129331100L) < 5.1e-11L);
    assert_true(fabsl(w2 / w0 - 0.2086997738L) < 5.1e-11L);
}

/* λ = 0: the quadrature (which handles λ = 0) agrees with ½ Γ(f/2+1) η^{-(f/2+1)} for all f. */
static void test_gaussian_limit(void **state) {
    (void)state;
    static const long double etas[] = {0.3L, 4.5L, 5};
    for (int e = 0; e < 3; e++)
        for (int f = 0; f <= 1028; f += (f < 20 ? 1 : 37)) {
            long double q = lat_logw_quad(f, etas[e], 0), g = lat_logw_gauss(f, etas[e]);
            if (fabsl(expl(q - g) - 1) > 1e-13L) fail_msg("eta %Lg f %d: quad/closed - 1 = %Lg", etas[e], f, expl(q - g) - 1);
        }
}

/* The built tables: ratios consistent with logW, zeros at the table edges, errors for bad input. */
static void test_tables(void **state) {
    (void)state;
    lat_wtable t;
    char err[200];
    assert_true(lat_wtable_build(&t, 4.01, 1.0, 1024, err, sizeof err));
    assert_int_equal(t.fmax, 1024);
    for (int f = 0; f <= t.fmax; f++) {
        assert_true(fabs(t.r2[f] / exp(t.logw[f + 2] - t.logw[f]) - 1) < 1e-11);
        assert_true(t.w1[t.fmax + 1 + f] > 0 || f == t.fmax);
        if (f >= 1) assert_true(fabsf(t.w1[f] * t.w1[t.fmax + 1 + f - 1] - 1.0f) < 1e-6f);
    }
    assert_true(t.w1[0] == 0.0f && t.w1[2 * t.fmax + 1] == 0.0f);
    assert_true(t.w2[0] == 0.0f && t.w2[1] == 0.0f && t.w2[2 * t.fmax + 1] == 0.0f && t.w2[2 * t.fmax] == 0.0f);
    assert_true(fabs(exp(t.logw[0]) - 0.1129331100) < 1e-10);
    assert_true(t.inv[3] == (float)(1.0 / 3));
    lat_wtable_free(&t);
    assert_true(lat_wtable_build(&t, 5.0, 0.0, 64, err, sizeof err));
    for (int f = 0; f <= 64; f++) assert_true(fabs(t.r2[f] - (0.5 * f + 1) / 5.0) < 1e-13 * t.r2[f]);
    lat_wtable_free(&t);
    assert_false(lat_wtable_build(&t, 0.0, 0.0, 64, err, sizeof err));
    assert_non_null(strstr(err, "eta must be > 0 when lambda = 0"));
    assert_false(lat_wtable_build(&t, -1.0, 0.0, 64, err, sizeof err));
    assert_false(lat_wtable_build(&t, 4.0, -1.0, 64, err, sizeof err));
    assert_false(lat_wtable_build(&t, 4.0, 1.0, 2, err, sizeof err));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_forms),
        cmocka_unit_test(test_design_numbers),
        cmocka_unit_test(test_gaussian_limit),
        cmocka_unit_test(test_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

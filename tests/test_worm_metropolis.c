/* μ = 0: the dual worm sampler agrees with a conventional Metropolis simulation of the complex
 * field φ (lib/lattice/metropolis.c, which shares no code with it) on <|φ|²> and <|φ|⁴>,
 * within 4 combined standard errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "tests/test_util.h"
#include "lib/lattice/metropolis.h"
#include "lib/lattice/sampler.h"

#if defined(__SANITIZE_ADDRESS__)
#define SCALE 8
#else
#define SCALE 1
#endif

static void compare(int nt, int nx, double eta, double lam, double delta) {
    const int R = 4, S = 40000 / SCALE;
    double *p2 = malloc(sizeof(double) * R * S), *p4 = malloc(sizeof(double) * R * S);
    double acc = 0;
    for (int r = 0; r < R; r++) {
        lat_metro_cfg c = {nt, nx, eta, lam, delta, 2, 1000 + r};
        acc += lat_metro_run(&c, 1000, S, p2 + (size_t)r * S, p4 + (size_t)r * S) / R;
    }
    lat_series_stats m2, m4;
    lat_series_analyze(p2, R, S, &m2);
    lat_series_analyze(p4, R, S, &m4);
    lat_point_cfg p = {.nt = nt, .nx = nx, .eta = eta, .lambda = lam, .mu = 0, .nchains = 8, .seed = 31};
    lat_measure_opts o = {.therm = 500, .sweeps = 16000 / SCALE, .threads = 2};
    lat_measure_result d;
    char err[300];
    if (!lat_measure(&p, 1, &o, &d, err, sizeof err)) fail_msg("%s", err);
    double z2 = (d.phi2.mean - m2.mean) / hypot(d.phi2.err, m2.err);
    double z4 = (d.phi4.mean - m4.mean) / hypot(d.phi4.err, m4.err);
    printf("NOTE %dx%d eta %g lambda %g mu 0: <|phi|^2> worm %.6f +- %.6f, Metropolis %.6f +- %.6f (%+.1f sigma; "
           "Metropolis acceptance %.2f, tau %.1f)\n",
           nt, nx, eta, lam, d.phi2.mean, d.phi2.err, m2.mean, m2.err, z2, acc, m2.tau);
    printf("NOTE %dx%d eta %g lambda %g mu 0: <|phi|^4> worm %.6f +- %.6f, Metropolis %.6f +- %.6f (%+.1f sigma)\n", nt,
           nx, eta, lam, d.phi4.mean, d.phi4.err, m4.mean, m4.err, z4);
    assert_true(fabs(z2) < 4);
    assert_true(fabs(z4) < 4);
    assert_true(fabs(d.n.mean) <= 4 * d.n.err + 1e-12);
    free(p2), free(p4);
}

static void test_metropolis_4x4(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("metropolis 4x4");
    compare(4, 4, 4.01, 1.0, 0.8);
}
static void test_metropolis_8x8(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("metropolis 8x8");
    compare(8, 8, 4.01, 1.0, 0.8);
}
/* a broken-symmetry-like point (η < 4) with a weaker coupling, on a non-square lattice */
static void test_metropolis_6x3(void **state) {
    (void)state;
    compare(6, 3, 3.5, 0.5, 0.8);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metropolis_4x4),
        cmocka_unit_test(test_metropolis_8x8),
        cmocka_unit_test(test_metropolis_6x3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

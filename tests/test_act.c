/* Activations: every variant vs the scalar reference and oneDNN eltwise over sizes around the
 * vector widths; sigmoid accuracy against double precision and at extreme inputs; finite-
 * difference checks of the reference backward; perturbed results must be caught. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "tools/verify/verify_ops.h"


static void test_sizes(void **state) {
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 4096, 65537};
    vf_report r;
    vf_report_init(&r, stderr, VF_ALL_ISAS, true);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) verify_act(&r, sizes[i]);
    print_message("act: %d checks, %d failed, %d skipped%s\n", r.checked, r.failed, r.skipped,
                  r.onednn ? " (with oneDNN)" : "");
    assert_int_equal(r.failed, 0);
    assert_true(r.checked > 0);
    vf_report_fini(&r);
}

/* The variants this CPU runs. */
static int runnable(const act_ops **out) {
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    int nv, k = 0;
    const act_ops *vs = lb_act_variants(&nv);
    for (int i = 0; i < nv; i++)
        if (lb_cpu_supports(&cpu, vs[i].isa)) out[k++] = &vs[i];
    return k;
}

/* Sigmoid of every variant against 1/(1+exp(-x)) in double on a dense grid over [-104, 30]
 * (normal results: relative error; denormal results: absolute, in units of 2^-149). */
static void test_sigmoid_accuracy(void **state) {
    (void)state;
    const size_t n = 400001;
    float *x = vf_alloc(n), *y = vf_alloc(n), *ref = vf_alloc(n);
    for (size_t i = 0; i < n; i++) x[i] = (float)(-104.0 + 134.0 * (double)i / (double)(n - 1));
    act_sigmoid_fwd__scalar(n, x, ref);
    const act_ops *vs[8];
    int nv = runnable(vs);
    for (int v = 0; v < nv; v++) {
        vs[v]->sigmoid_fwd(n, x, y);
        double max_rel = 0, max_den = 0, max_vs_ref = 0;
        for (size_t i = 0; i < n; i++) {
            double t = 1.0 / (1.0 + exp(-(double)x[i]));
            if (t >= FLT_MIN) {
                max_rel = fmax(max_rel, fabs(y[i] - t) / t);
                max_vs_ref = fmax(max_vs_ref, fabs((double)y[i] - ref[i]) / ref[i]);
            } else {
                max_den = fmax(max_den, fabs(y[i] - t) / 0x1p-149);
            }
        }
        print_message("sigmoid %-7s max rel err %.3g vs double (%.2f x 2^-24), %.3g vs the scalar reference; "
                      "denormal results within %.2f x 2^-149\n",
                      vs[v]->name, max_rel, max_rel / 0x1p-24, max_vs_ref, max_den);
        assert_true(max_rel < 1e-6);
        assert_true(max_vs_ref < 1e-6);
        assert_true(max_den <= 1.0);
    }
    free(x);
    free(y);
    free(ref);
}

/* Extreme inputs give finite results in [0, 1] (no overflow, no NaN), exactly 0/1 where float
 * cannot represent better, and the reference's tiny values for large negative x.  Placed at every
 * offset of a 37-element array so the vector bodies and the masked tails all see them. */
static void test_sigmoid_extremes(void **state) {
    (void)state;
    static const float ext[] = {100.0f, -100.0f, 1e30f, -1e30f, 0.0f, -0.0f, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX,
                                88.8f, -88.8f, 104.0f, -104.0f, 200.0f, -200.0f, 1e-40f, -1e-40f};
    const size_t ne = sizeof ext / sizeof ext[0], n = 37;
    const act_ops *vs[8];
    int nv = runnable(vs);
    float x[37], y[37], ref[37];
    for (size_t off = 0; off < n; off++) {
        for (size_t i = 0; i < n; i++) x[i] = ext[(i + off) % ne];
        act_sigmoid_fwd__scalar(n, x, ref);
        for (int v = 0; v < nv; v++) {
            vs[v]->sigmoid_fwd(n, x, y);
            for (size_t i = 0; i < n; i++) {
                assert_false(isnan(y[i]));
                assert_true(y[i] >= 0.0f && y[i] <= 1.0f);
                if (x[i] >= 17.0f) assert_true(y[i] == 1.0f);
                if (x[i] <= -104.0f) assert_true(y[i] <= 0x1p-149f);
                if (x[i] == 0.0f) assert_true(y[i] == 0.5f);   /* +0 and -0 */
                if (x[i] == -100.0f) assert_true(fabsf(y[i] - 3.7200760e-44f) <= 0x1p-149f);
                if (fabsf(x[i]) <= 1e-30f) assert_true(y[i] == 0.5f);
                assert_true(fabs((double)y[i] - ref[i]) <= 3e-6 * ref[i] + 0x1p-148);
            }
        }
    }
    /* NaN in, NaN out */
    x[0] = NAN;
    for (int v = 0; v < nv; v++) {
        vs[v]->sigmoid_fwd(1, x, y);
        assert_true(isnan(y[0]));
    }
}

/* Central differences (in double, from the float forward) against the reference backward. */
static void test_fd_gradients(void **state) {
    (void)state;
    const size_t n = 2000;
    float *x = vf_alloc(n), *gy = vf_alloc(n), *g = vf_alloc(n), *y = vf_alloc(n);
    vf_fill_uniform(x, n, 3, -12.0f, 12.0f);
    vf_fill_uniform(gy, n, 4, -2.0f, 2.0f);
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) < 0.1f) x[i] += x[i] < 0 ? -0.1f : 0.1f;   /* lrelu: away from the kink */
    const float h = 1.0f / 64;
    /* lrelu */
    act_lrelu_bwd__scalar(n, 0.01f, x, gy, g);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        float xp = x[i] + h, xm = x[i] - h, yp, ym;
        act_lrelu_fwd__scalar(1, 0.01f, &xp, &yp);
        act_lrelu_fwd__scalar(1, 0.01f, &xm, &ym);
        worst = fmax(worst, fabs(gy[i] * ((double)yp - ym) / ((double)xp - xm) - g[i]));
    }
    print_message("lrelu fd: worst %g\n", worst);
    assert_true(worst < 1e-6);
    /* sigmoid: the backward takes y = sigmoid(x) */
    act_sigmoid_fwd__scalar(n, x, y);
    act_sigmoid_bwd__scalar(n, y, gy, g);
    worst = 0;
    for (size_t i = 0; i < n; i++) {
        float xp = x[i] + h, xm = x[i] - h, yp, ym;
        act_sigmoid_fwd__scalar(1, &xp, &yp);
        act_sigmoid_fwd__scalar(1, &xm, &ym);
        worst = fmax(worst, fabs(gy[i] * ((double)yp - ym) / ((double)xp - xm) - g[i]));
    }
    print_message("sigmoid fd: worst %g\n", worst);
    assert_true(worst < 2e-5);   /* h^2 y'''/6 <= 3e-6 times |gy| <= 2, plus float rounding of y over 2h */
    free(x); free(gy); free(g); free(y);
}

/* Perturbed results are caught at the verifier's tolerances (lrelu exact; sigmoid 1e-6
 * relative); a backward with the wrong slope fails the finite-difference check. */
static void test_negative(void **state) {
    (void)state;
    const size_t n = 100;
    float x[100], y[100], bad[100], g[100], gy[100];
    char detail[256];
    vf_fill_uniform(x, n, 5, -8.0f, 8.0f);
    vf_fill_uniform(gy, n, 6, -2.0f, 2.0f);
    act_lrelu_fwd__scalar(n, 0.01f, x, y);
    memcpy(bad, y, sizeof bad);
    bad[37] = nextafterf(bad[37], INFINITY);
    assert_false(vf_compare(bad, y, n, 0, 0, detail, sizeof detail));
    act_sigmoid_fwd__scalar(n, x, y);
    memcpy(bad, y, sizeof bad);
    bad[63] *= 1.0f + 3e-6f;
    assert_true(vf_compare(y, y, n, 1e-6, 4.3e-45, detail, sizeof detail));
    assert_false(vf_compare(bad, y, n, 1e-6, 4.3e-45, detail, sizeof detail));
    /* backward with slope 0.02 instead of 0.01 */
    act_lrelu_bwd__scalar(n, 0.02f, x, gy, g);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        float xp = x[i] + 1.0f / 64, xm = x[i] - 1.0f / 64, yp, ym;
        act_lrelu_fwd__scalar(1, 0.01f, &xp, &yp);
        act_lrelu_fwd__scalar(1, 0.01f, &xm, &ym);
        worst = fmax(worst, fabs(gy[i] * ((double)yp - ym) / ((double)xp - xm) - g[i]));
    }
    assert_true(worst > 1e-3);
}

int main(void) {
    /* oneDNN runs on OpenMP: on a loaded 2-core machine its threads spin at barriers for most of
     * the run; the comparisons do not need it parallel */
    omp_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_sigmoid_accuracy),
        cmocka_unit_test(test_sigmoid_extremes),
        cmocka_unit_test(test_fd_gradients),
        cmocka_unit_test(test_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Losses: every variant vs the scalar reference and a double closed form over many sizes;
 * finite-difference gradients of the scalar losses; extreme logits by hand; a negative test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify_ops.h"

/* test hook in verify_loss.c */

static const size_t sizes[] = {0, 1, 15, 16, 17, 100, 1000, 33202};

static void report_open(vf_report *r, FILE *out) {
    vf_report_init(r, out, VF_ALL_ISAS,
                   true);
}

static void test_loss_sizes(void **state) {
    (void)state;
    vf_report r;
    report_open(&r, stderr);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) verify_loss(&r, sizes[k]);
    fprintf(stderr, "loss: %d checked, %d failed, %d skipped\n", r.checked, r.failed, r.skipped);
    assert_int_equal(r.failed, 0);
    assert_true(r.checked > 0);
    vf_report_fini(&r);
}

/* Central differences of the returned (float) loss; inputs in [-1, 1], h = 2^-5. */
static void fd_check(loss_fn *fn, const char *what, float *p, const float *t, size_t n) {
    float *g = vf_alloc(n);
    fn(n, p, t, g);
    const float h = 0x1p-5f;
    for (size_t k = 0; k < n; k++) {
        const float keep = p[k];
        p[k] = keep + h;
        const double lp = fn(n, p, t, NULL);
        p[k] = keep - h;
        const double lm = fn(n, p, t, NULL);
        p[k] = keep;
        const double fd = (lp - lm) / (2.0 * h);
        if (fabs(fd - g[k]) > 1e-4 + 1e-3 * fabs(fd)) {
            fprintf(stderr, "%s grad[%zu]: analytic %.9g, finite difference %.9g\n", what, k, g[k], fd);
            fail();
        }
    }
    free(g);
}

static void test_loss_finite_difference(void **state) {
    (void)state;
    const size_t n = 13;
    float *p = vf_alloc(n), *t = vf_alloc(n);
    vf_fill_uniform(p, n, 5, -1, 1);
    vf_fill_uniform(t, n, 6, -1, 1);
    fd_check(loss_mse__scalar, "mse", p, t, n);
    for (size_t k = 0; k < n; k++) { /* BCE targets: hard and soft, logits over a wider range */
        t[k] = k % 3 == 0 ? 1.0f : k % 3 == 1 ? 0.0f : 0.5f + 0.4f * t[k];
        p[k] *= 4.0f;
    }
    fd_check(loss_bce_logits__scalar, "bce_logits", p, t, n);
    free(p);
    free(t);
}

/* Logits far beyond exp's range, by hand: with e = exp(-|z|),
 *   loss_i = max(z,0) - z t + log1p(e), grad_i = (sigmoid(z) - t) / 4. */
static void test_bce_extremes(void **state) {
    (void)state;
    const float z[4] = {1e30f, -1e30f, 0.0f, 20.0f}, t[4] = {0.0f, 0.0f, 1.0f, 1.0f};
    const double e20 = exp(-20.0);
    const double want = (1e30 + 0.0 + log(2.0) + log1p(e20)) / 4.0;
    const double want_g[4] = {0.25, 0.0, -0.125, -(e20 / (1.0 + e20)) / 4.0}; /* 1 - sigmoid(20) = e/(1+e) */
    int nv, ran = 0;
    const loss_ops *vars = lb_loss_variants(&nv);
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    for (int i = 0; i < nv; i++) {
        if (!lb_cpu_supports(&cpu, vars[i].isa)) continue;
        float g[4];
        const float got = vars[i].bce_logits(4, z, t, g);
        fprintf(stderr, "%s: loss %.9g, grad %.9g %.9g %.9g %.9g\n", vars[i].name, got, g[0], g[1], g[2], g[3]);
        assert_true(fabs(got - want) <= 1e-6 * want);
        for (int k = 0; k < 4; k++) assert_true(fabs(g[k] - want_g[k]) <= 1e-6 * fabs(want_g[k]));
        ran++;
    }
    assert_true(ran > 0);
}

/* A variant whose value is off by 4e-6 relative, and one with one gradient element nudged. */
static float mse_value_bad(size_t n, const float *p, const float *t, float *g) {
    return loss_mse__scalar(n, p, t, g) * (1.0f + 4e-6f);
}
static float bce_grad_bad(size_t n, const float *p, const float *t, float *g) {
    const float l = loss_bce_logits__scalar(n, p, t, g);
    if (g && n) g[n / 2] += 1e-3f / (float)n;
    return l;
}
static float bce_overrun(size_t n, const float *p, const float *t, float *g) {
    const float l = loss_bce_logits__scalar(n, p, t, g);
    if (g) g[n] = 0.0f; /* one past the end: inside the verifier's guard */
    return l;
}

static void test_negative(void **state) {
    (void)state;
    const loss_ops vars[] = {
        {"scalar", LB_ISA_SCALAR, loss_mse__scalar, loss_bce_logits__scalar},
        {"broken", LB_ISA_SCALAR, mse_value_bad, bce_grad_bad},
        {"overrun", LB_ISA_SCALAR, loss_mse__scalar, bce_overrun},
    };
    FILE *sink = tmpfile();
    assert_non_null(sink);
    vf_report r;
    report_open(&r, sink);
    verify_loss_variants(&r, 100, vars, 3);
    /* broken: mse (1 problem) + bce (2 problems), vs scalar and vs double; overrun: bce x 2 x 2 */
    assert_int_equal(r.failed, 3 * 2 + 2 * 2);
    rewind(sink);
    char line[512];
    int seen = 0;
    while (fgets(line, sizeof line, sink))
        if (strstr(line, "MISMATCH loss_bce_logits/n100_wide/broken@double: grad")) seen = 1;
    assert_true(seen);
    vf_report_fini(&r);
    fclose(sink);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_sizes),
        cmocka_unit_test(test_loss_finite_difference),
        cmocka_unit_test(test_bce_extremes),
        cmocka_unit_test(test_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

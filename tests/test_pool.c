/* Pooling: every variant vs the scalar reference and oneDNN over the seed networks' pool layers
 * and awkward shapes; finite-difference checks of the reference backward; a perturbed result
 * must be caught. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "tools/verify/verify_ops.h"


static void run_verify(const pool_desc *ds, int count) {
    vf_report r;
    vf_report_init(&r, stderr, VF_ALL_ISAS, true);
    for (int i = 0; i < count; i++) verify_pool(&r, &ds[i]);
    print_message("pool: %d checks, %d failed, %d skipped%s\n", r.checked, r.failed, r.skipped,
                  r.onednn ? " (with oneDNN)" : "");
    assert_int_equal(r.failed, 0);
    assert_true(r.checked > 0);
    vf_report_fini(&r);
}

/* AvgPool/MaxPool(2x2, 2) of the seed networks: 8x8 .. 64x64 lattices, 60x4 and 100x5 (odd
 * width: floor mode drops the last column), every channel count of the tables. */
static void test_seed_layers(void **state) {
    (void)state;
    static const int lat[][2] = {{8, 8}, {60, 4}, {100, 5}, {64, 64}};
    static const int chans[] = {4, 8, 16, 32, 48, 64, 80};
    pool_desc ds[2 * 4 * 7 + 2];
    int n = 0;
    for (int kind = 0; kind < 2; kind++)
        for (int l = 0; l < 4; l++)
            for (int c = 0; c < 7; c++)
                ds[n++] = (pool_desc){.n = lat[l][0] == 64 ? 2 : 8, .h = lat[l][0], .w = lat[l][1], .c = chans[c],
                                      .k = 2, .s = 2, .kind = (pool_kind)kind};
    ds[n++] = (pool_desc){.n = 32, .h = 8, .w = 8, .c = 80, .k = 2, .s = 2, .kind = POOL_AVG};
    ds[n++] = (pool_desc){.n = 32, .h = 8, .w = 8, .c = 80, .k = 2, .s = 2, .kind = POOL_MAX};
    run_verify(ds, n);
}

/* Odd lattices, windows that overlap (s < k), leave gaps (s > k) or cover the whole lattice,
 * batch 1, channel counts that are not multiples of any vector width, and the small counts that
 * pack several sites into one vector (partial groups at the end of a row). */
static void test_awkward(void **state) {
    (void)state;
    static const int lat[][2] = {{5, 7}, {3, 3}, {2, 2}, {8, 8}, {9, 4}};
    static const int ks[][2] = {{2, 2}, {3, 1}, {3, 2}, {2, 1}, {3, 3}, {2, 3}, {1, 1}};
    static const int chans[] = {1, 2, 3, 4, 8, 13, 17, 33};
    pool_desc ds[2 * 5 * 7 * 8];
    int n = 0;
    for (int kind = 0; kind < 2; kind++)
        for (int l = 0; l < 5; l++)
            for (int k = 0; k < 7; k++)
                for (int c = 0; c < 8; c++) {
                    if (ks[k][0] > lat[l][0] || ks[k][0] > lat[l][1]) continue;
                    ds[n++] = (pool_desc){.n = (c + l) % 2 ? 1 : 3, .h = lat[l][0], .w = lat[l][1], .c = chans[c],
                                          .k = ks[k][0], .s = ks[k][1], .kind = (pool_kind)kind};
                }
    run_verify(ds, n);
}

/* ---- finite differences of the scalar reference ---- */

/* L(x) = sum_j w_j out_j(x), accumulated in double. */
static double loss(const pool_desc *d, const float *x, const float *w, float *out) {
    pool_fwd__scalar(d, x, out);
    double s = 0;
    for (size_t j = 0; j < pool_out_size(d); j++) s += (double)w[j] * out[j];
    return s;
}

/* Largest |analytic - central difference| over all inputs.  Inputs are distinct multiples of
 * 1/4 and the step 1/16, so no window's maximum changes under the perturbation. */
static double fd_error(const pool_desc *d, const float *grad_override) {
    const size_t ni = pool_in_size(d), no = pool_out_size(d);
    float *x = vf_alloc(ni), *w = vf_alloc(no), *out = vf_alloc(no), *g = vf_alloc(ni);
    for (size_t i = 0; i < ni; i++) x[i] = (float)(i * 7919 % ni) * 0.25f - (float)ni * 0.125f;   /* 7919 prime: a permutation */
    vf_fill_uniform(w, no, 42, -1.0f, 1.0f);
    pool_bwd__scalar(d, x, w, g);
    if (grad_override) memcpy(g, grad_override, ni * sizeof *g);
    double worst = 0;
    for (size_t i = 0; i < ni; i++) {
        float x0 = x[i], xp = x0 + 0.0625f, xm = x0 - 0.0625f;
        x[i] = xp;
        double lp = loss(d, x, w, out);
        x[i] = xm;
        double lm = loss(d, x, w, out);
        x[i] = x0;
        double fd = (lp - lm) / ((double)xp - (double)xm);
        worst = fmax(worst, fabs(fd - g[i]));
    }
    free(x); free(w); free(out); free(g);
    return worst;
}

static void test_fd_gradients(void **state) {
    (void)state;
    static const int ks[][2] = {{2, 2}, {3, 1}, {3, 2}, {2, 3}};
    for (int kind = 0; kind < 2; kind++)
        for (int k = 0; k < 4; k++) {
            pool_desc d = {.n = 2, .h = 5, .w = 7, .c = 3, .k = ks[k][0], .s = ks[k][1], .kind = (pool_kind)kind};
            double e = fd_error(&d, NULL);
            if (e > 1e-4) print_message("fd %s k%d s%d: error %g\n", kind ? "max" : "avg", d.k, d.s, e);
            assert_true(e <= 1e-4);
        }
}

/* A wrong result must be caught: one element off by 1e-5 relative (avg tolerance 1e-6) or one
 * ulp (max is exact), and a gradient with one element moved to the wrong window position. */
static void test_negative(void **state) {
    (void)state;
    pool_desc d = {.n = 2, .h = 6, .w = 6, .c = 5, .k = 2, .s = 2, .kind = POOL_AVG};
    size_t no = pool_out_size(&d), ni = pool_in_size(&d);
    float *x = vf_alloc(ni), *ref = vf_alloc(no), *bad = vf_alloc(no), *g = vf_alloc(ni);
    char detail[256];
    vf_fill_int(x, ni, 7, -8, 8);
    for (int kind = 0; kind < 2; kind++) {
        d.kind = (pool_kind)kind;
        pool_fwd__scalar(&d, x, ref);
        memcpy(bad, ref, no * sizeof *bad);
        bad[no / 2] = kind == POOL_AVG ? ref[no / 2] * (1 + 1e-5f) + 1e-5f : nextafterf(ref[no / 2], INFINITY);
        assert_true(vf_compare(ref, ref, no, kind ? 0 : 1e-6, kind ? 0 : 1e-6, detail, sizeof detail));
        assert_false(vf_compare(bad, ref, no, kind ? 0 : 1e-6, kind ? 0 : 1e-6, detail, sizeof detail));
    }
    /* max backward with the gradient of one window moved off its maximum */
    pool_desc dm = {.n = 1, .h = 4, .w = 4, .c = 2, .k = 2, .s = 2, .kind = POOL_MAX};
    float *gm = vf_alloc(pool_in_size(&dm));
    {
        float xs[32], w[8];
        for (int i = 0; i < 32; i++) xs[i] = (float)(i * 7919 % 32) * 0.25f;   /* same as fd_error */
        vf_fill_uniform(w, 8, 42, -1.0f, 1.0f);
        pool_bwd__scalar(&dm, xs, w, gm);
        static const int win0[4] = {0, 2, 8, 10};   /* channel 0 of sites (0,0) (0,1) (1,0) (1,1) */
        int hit = -1;
        for (int i = 0; i < 4; i++)
            if (gm[win0[i]] != 0) hit = i;
        assert_true(hit >= 0);
        int other = win0[(hit + 1) % 4];
        gm[other] = gm[win0[hit]];
        gm[win0[hit]] = 0;
    }
    assert_true(fd_error(&dm, gm) > 1e-2);
    free(gm);
    free(x); free(ref); free(bad); free(g);
}

int main(void) {
    /* oneDNN runs on OpenMP: on a loaded 2-core machine its threads spin at barriers for most of
     * the run; the comparisons do not need it parallel */
    omp_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_layers),
        cmocka_unit_test(test_awkward),
        cmocka_unit_test(test_fd_gradients),
        cmocka_unit_test(test_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

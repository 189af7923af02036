/* Global pooling: every variant vs the scalar reference, oneDNN reduction and the closed-form
 * backward over the seed networks' global pools and awkward shapes; finite-difference checks of
 * the reference backward; a perturbed result must be caught. */
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


static void run_verify(const gpool_desc *ds, int count) {
    vf_report r;
    vf_report_init(&r, stderr, VF_ALL_ISAS, true);
    for (int i = 0; i < count; i++) verify_gpool(&r, &ds[i]);
    print_message("gpool: %d checks, %d failed, %d skipped%s\n", r.checked, r.failed, r.skipped,
                  r.onednn ? " (with oneDNN)" : "");
    assert_int_equal(r.failed, 0);
    assert_true(r.checked > 0);
    vf_report_fini(&r);
}

/* GlobalAvg/Max/SumPool after the seed networks' last conv: channel counts 1 .. 80 on the
 * training and test lattices (8x8 .. 64x64, 50x2, 60x4, 100x5). */
static void test_seed_layers(void **state) {
    (void)state;
    static const int hws[] = {8 * 8, 50 * 2, 60 * 4, 100 * 5, 16 * 16, 64 * 64};
    static const int chans[] = {1, 4, 8, 16, 32, 80};
    gpool_desc ds[3 * 6 * 6 + 3];
    int n = 0;
    for (int kind = 0; kind < 3; kind++)
        for (int h = 0; h < 6; h++)
            for (int c = 0; c < 6; c++)
                ds[n++] = (gpool_desc){.n = hws[h] >= 4096 ? 2 : 8, .hw = hws[h], .c = chans[c], .kind = (gpool_kind)kind};
    for (int kind = 0; kind < 3; kind++) ds[n++] = (gpool_desc){.n = 32, .hw = 64, .c = 32, .kind = (gpool_kind)kind};
    run_verify(ds, n);
}

/* A single site, fewer sites than one vector holds, channel counts that divide no vector width
 * or only the AVX2 one, and batch 1. */
static void test_awkward(void **state) {
    (void)state;
    static const int hws[] = {1, 2, 3, 4, 9, 35, 37};
    static const int chans[] = {1, 2, 3, 5, 13, 17, 33, 64, 65};
    gpool_desc ds[3 * 7 * 9];
    int n = 0;
    for (int kind = 0; kind < 3; kind++)
        for (int h = 0; h < 7; h++)
            for (int c = 0; c < 9; c++)
                ds[n++] = (gpool_desc){.n = (h + c) % 2 ? 1 : 3, .hw = hws[h], .c = chans[c], .kind = (gpool_kind)kind};
    run_verify(ds, n);
}

static double loss(const gpool_desc *d, const float *x, const float *w, float *out) {
    gpool_fwd__scalar(d, x, out);
    double s = 0;
    for (size_t j = 0; j < (size_t)d->n * d->c; j++) s += (double)w[j] * out[j];
    return s;
}

/* Largest |analytic - central difference|; inputs are distinct multiples of 1/4, step 1/16. */
static double fd_error(const gpool_desc *d, const float *grad_override) {
    const size_t ni = (size_t)d->n * d->hw * d->c, no = (size_t)d->n * d->c;
    float *x = vf_alloc(ni), *w = vf_alloc(no), *out = vf_alloc(no), *g = vf_alloc(ni);
    for (size_t i = 0; i < ni; i++) x[i] = (float)(i * 7919 % ni) * 0.25f - (float)ni * 0.125f;
    vf_fill_uniform(w, no, 42, -1.0f, 1.0f);
    gpool_bwd__scalar(d, x, w, g);
    if (grad_override) memcpy(g, grad_override, ni * sizeof *g);
    double worst = 0;
    for (size_t i = 0; i < ni; i++) {
        float x0 = x[i], xp = x0 + 0.0625f, xm = x0 - 0.0625f;
        x[i] = xp;
        double lp = loss(d, x, w, out);
        x[i] = xm;
        double lm = loss(d, x, w, out);
        x[i] = x0;
        worst = fmax(worst, fabs((lp - lm) / ((double)xp - (double)xm) - g[i]));
    }
    free(x); free(w); free(out); free(g);
    return worst;
}

static void test_fd_gradients(void **state) {
    (void)state;
    static const int shapes[][2] = {{35, 3}, {4, 1}, {9, 17}};
    for (int kind = 0; kind < 3; kind++)
        for (int s = 0; s < 3; s++) {
            gpool_desc d = {.n = 2, .hw = shapes[s][0], .c = shapes[s][1], .kind = (gpool_kind)kind};
            double e = fd_error(&d, NULL);
            if (e > 1e-4) print_message("fd gpool kind %d hw%d c%d: error %g\n", kind, d.hw, d.c, e);
            assert_true(e <= 1e-4);
        }
}

/* One output element off by 1e-5 relative (avg tolerance 1e-6) or one ulp (sum and max are
 * exact) is caught; so is a max gradient placed at the wrong site. */
static void test_negative(void **state) {
    (void)state;
    gpool_desc d = {.n = 3, .hw = 35, .c = 5};
    size_t no = (size_t)d.n * d.c, ni = (size_t)d.n * d.hw * d.c;
    float *x = vf_alloc(ni), *ref = vf_alloc(no), *bad = vf_alloc(no), *g = vf_alloc(ni), *w = vf_alloc(no);
    char detail[256];
    vf_fill_int(x, ni, 7, -8, 8);
    for (int kind = 0; kind < 3; kind++) {
        d.kind = (gpool_kind)kind;
        double rtol = kind == GPOOL_AVG ? 1e-6 : 0;
        gpool_fwd__scalar(&d, x, ref);
        memcpy(bad, ref, no * sizeof *bad);
        bad[no / 2] = kind == GPOOL_AVG ? ref[no / 2] * (1 + 1e-5f) + 1e-5f : nextafterf(ref[no / 2], INFINITY);
        assert_true(vf_compare(ref, ref, no, rtol, 0, detail, sizeof detail));
        assert_false(vf_compare(bad, ref, no, rtol, 0, detail, sizeof detail));
    }
    d = (gpool_desc){.n = 1, .hw = 6, .c = 1, .kind = GPOOL_MAX};
    for (int i = 0; i < 6; i++) x[i] = (float)(i * 7919 % 6) * 0.25f - 0.75f;   /* as in fd_error */
    w[0] = 0.5f;
    gpool_bwd__scalar(&d, x, w, g);
    int at = -1;
    for (int i = 0; i < 6; i++)
        if (g[i] != 0) at = i;
    assert_true(at >= 0);
    g[(at + 1) % 6] = g[at];
    g[at] = 0;
    assert_true(fd_error(&d, g) > 1e-2);
    free(x); free(ref); free(bad); free(g); free(w);
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

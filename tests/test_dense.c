/* Dense + flatten: every variant vs the scalar reference and oneDNN over the Linear shapes of the
 * seed-000 networks and odd sizes; a finite-difference check of the scalar backward; a negative
 * test that the verifier catches a perturbed variant. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify_ops.h"

/* test hooks in verify_dense.c: the verifiers over an explicit variant list */

static void report_open(vf_report *r, FILE *out) {
    vf_report_init(r, out, VF_ALL_ISAS,
                   true);
}

static void expect_clean(vf_report *r, const char *what) {
    fprintf(stderr, "%s: %d checked, %d failed, %d skipped\n", what, r->checked, r->failed, r->skipped);
    assert_int_equal(r->failed, 0);
    assert_true(r->checked > 0);
}

/* Linear layers of the seed-000 architecture tables (in -> out). */
static const int seed_linear[][2] = {{80, 2},  {360, 24}, {24, 2}, {32, 32}, {32, 1}, {8, 32}, {128, 1}, {8, 1},
                                     {4, 1},   {16, 32},  {8, 4},  {4, 4},   {4, 32}, {32, 16}, {16, 1}};
static const int batches[] = {1, 7, 32, 100};

static void test_dense_seed_shapes(void **state) {
    (void)state;
    vf_report r;
    report_open(&r, stderr);
    for (size_t s = 0; s < sizeof seed_linear / sizeof seed_linear[0]; s++)
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
            for (int bias = 0; bias <= 1; bias++) {
                dense_desc d = {batches[b], seed_linear[s][0], seed_linear[s][1], bias};
                verify_dense(&r, &d);
            }
    expect_clean(&r, "dense seed shapes");
    vf_report_fini(&r);
}

static void test_dense_odd_shapes(void **state) {
    (void)state;
    static const int sizes[] = {1, 3, 17, 33};
    vf_report r;
    report_open(&r, stderr);
    for (int i = 0; i < 4; i++)
        for (int o = 0; o < 4; o++)
            for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
                dense_desc d = {batches[b], sizes[i], sizes[o], (i + o + (int)b) & 1};
                verify_dense(&r, &d);
            }
    /* tiles: out > 128 (bwd_data sums over several w^T tiles), in > 64, batch 256, column tails of
     * 9..15 (a masked zmm rather than a ymm), and empties */
    static const dense_desc extra[] = {{256, 80, 2, 1}, {256, 360, 24, 1}, {256, 32, 32, 0}, {9, 24, 360, 1},
                                       {5, 130, 200, 1}, {2, 1000, 3, 1},  {6, 12, 13, 1},   {5, 45, 77, 0},
                                       {0, 8, 4, 1},     {5, 0, 4, 1},     {5, 8, 0, 1}};
    for (size_t k = 0; k < sizeof extra / sizeof extra[0]; k++) verify_dense(&r, &extra[k]);
    expect_clean(&r, "dense odd shapes");
    vf_report_fini(&r);
}

static void test_flatten_shapes(void **state) {
    (void)state;
    static const dense_flatten_desc shapes[] = {{2, 15, 1, 24}, {1, 15, 1, 24}, {3, 2, 2, 32}, {4, 5, 7, 3},
                                          {2, 1, 1, 7},   {3, 4, 4, 1},   {1, 60, 4, 17}, {0, 2, 2, 2}};
    vf_report r;
    report_open(&r, stderr);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) verify_flatten(&r, &shapes[k]);
    expect_clean(&r, "flatten");
    vf_report_fini(&r);
}

/* L(x, w, b) = sum_{n,o} y[n][o] R[n][o] with y = dense_fwd(x, w, b); the backward with gy = R
 * must give dL/dx, dL/dw, dL/db.  L is linear in each argument, so central differences have no
 * truncation error; what is left is float rounding in y, far below the tolerance. */
static double fd_loss(const dense_desc *d, const float *x, const float *w, const float *b, const float *R, float *y) {
    dense_fwd__scalar(d, x, w, b, y);
    double L = 0;
    for (size_t k = 0; k < (size_t)d->n * d->out; k++) L += (double)y[k] * R[k];
    return L;
}

static void fd_check(const dense_desc *d, float *arg, size_t count, const float *grad, const float *x, const float *w,
                     const float *b, const float *R, float *y, const char *what) {
    const float h = 0.0625f; /* exact perturbation */
    for (size_t k = 0; k < count; k++) {
        const float keep = arg[k];
        arg[k] = keep + h;
        const double lp = fd_loss(d, x, w, b, R, y);
        arg[k] = keep - h;
        const double lm = fd_loss(d, x, w, b, R, y);
        arg[k] = keep;
        const double fd = (lp - lm) / (2.0 * h);
        if (fabs(fd - grad[k]) > 1e-4 * (1.0 + fabs(fd))) {
            fprintf(stderr, "%s[%zu]: analytic %.9g, finite difference %.9g\n", what, k, grad[k], fd);
            fail();
        }
    }
}

static void test_dense_finite_difference(void **state) {
    (void)state;
    static const dense_desc shapes[] = {{3, 5, 4, 1}, {7, 80, 2, 1}, {2, 24, 17, 0}, {1, 1, 1, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const dense_desc *d = &shapes[s];
        const size_t nx = (size_t)d->n * d->in, nw = (size_t)d->in * d->out, ny = (size_t)d->n * d->out;
        float *x = vf_alloc(nx), *w = vf_alloc(nw), *b = vf_alloc(d->out), *R = vf_alloc(ny), *y = vf_alloc(ny);
        float *gx = vf_alloc(nx), *gw = vf_alloc(nw), *gb = vf_alloc(d->out);
        vf_fill_uniform(x, nx, 11 + s, -1, 1);
        vf_fill_uniform(w, nw, 12 + s, -1, 1);
        vf_fill_uniform(b, d->out, 13 + s, -1, 1);
        vf_fill_uniform(R, ny, 14 + s, -1, 1);
        dense_bwd_data__scalar(d, R, w, gx);
        dense_bwd_weights__scalar(d, x, R, gw, gb);
        const float *bb = d->bias ? b : NULL;
        fd_check(d, x, nx, gx, x, w, bb, R, y, "dx");
        fd_check(d, w, nw, gw, x, w, bb, R, y, "dw");
        if (d->bias) fd_check(d, b, d->out, gb, x, w, bb, R, y, "db");
        free(x), free(w), free(b), free(R), free(y), free(gx), free(gw), free(gb);
    }
}

/* Broken variants: the scalar kernels with one output element nudged, and a flatten that swaps
 * two elements.  Every pass of them must be reported, against scalar and against oneDNN. */
static void fwd_bad(const dense_desc *d, const float *x, const float *w, const float *b, float *y) {
    dense_fwd__scalar(d, x, w, b, y);
    y[(size_t)d->n * d->out - 1] += 1.0f;
}
static void bwd_data_bad(const dense_desc *d, const float *gy, const float *w, float *gx) {
    dense_bwd_data__scalar(d, gy, w, gx);
    gx[0] *= 1.0f + 0x1p-20f;
    gx[0] += 0x1p-20f; /* nonzero even where gx[0] was 0 */
}
static void bwd_weights_bad(const dense_desc *d, const float *x, const float *gy, float *gw, float *gb) {
    dense_bwd_weights__scalar(d, x, gy, gw, gb);
    if (d->bias && gb) gb[d->out - 1] -= 2.0f;
    else gw[0] += 1.0f;
}
static void bwd_weights_overrun(const dense_desc *d, const float *x, const float *gy, float *gw, float *gb) {
    dense_bwd_weights__scalar(d, x, gy, gw, gb);
    gw[(size_t)d->in * d->out] = 0.0f; /* one past the end: inside the verifier's guard */
}
static void flatten_fwd_bad(const dense_flatten_desc *d, const float *in, float *out) {
    dense_flatten_fwd__scalar(d, in, out);
    float t = out[0];
    out[0] = out[1];
    out[1] = t;
}

static void test_negative(void **state) {
    (void)state;
    const dense_ops vars[] = {
        {"scalar", LB_ISA_SCALAR, dense_fwd__scalar, dense_bwd_data__scalar, dense_bwd_weights__scalar,
         dense_flatten_fwd__scalar, dense_flatten_bwd__scalar},
        {"broken", LB_ISA_SCALAR, fwd_bad, bwd_data_bad, bwd_weights_bad, flatten_fwd_bad, dense_flatten_bwd__scalar},
        {"overrun", LB_ISA_SCALAR, dense_fwd__scalar, dense_bwd_data__scalar, bwd_weights_overrun,
         dense_flatten_fwd__scalar, dense_flatten_bwd__scalar},
    };
    FILE *sink = tmpfile();
    assert_non_null(sink);
    vf_report r;
    report_open(&r, sink);
    const dense_desc d1 = {7, 80, 2, 1}, d0 = {4, 3, 5, 0};
    verify_dense_variants(&r, &d1, vars, 3);
    verify_dense_variants(&r, &d0, vars, 3);
    const bool dn = r.onednn;
    /* broken: 3 passes x 2 shapes, each vs scalar and (with oneDNN) vs oneDNN; overrun: bwd_weights */
    assert_int_equal(r.failed, (3 * 2 + 1 * 2) * (dn ? 2 : 1));
    rewind(sink);
    char line[512];
    int seen_fwd = 0, seen_guard = 0;
    while (fgets(line, sizeof line, sink)) {
        if (strstr(line, "MISMATCH dense_fwd/mb7_ic80oc2_b1/broken:")) seen_fwd = 1;
        if (strstr(line, "MISMATCH dense_bwd_weights/mb7_ic80oc2_b1/overrun:") && strstr(line, "past its end"))
            seen_guard = 1;
    }
    assert_true(seen_fwd);
    assert_true(seen_guard);
    vf_report_fini(&r);

    report_open(&r, sink);
    const dense_flatten_desc f = {2, 15, 1, 24};
    verify_flatten_variants(&r, &f, vars, 2);
    assert_int_equal(r.failed, 1); /* flatten_fwd of "broken" only */
    vf_report_fini(&r);

    /* the filter selects by descriptor substring */
    report_open(&r, sink);
    r.filter = "dense_bwd_data/mb7_ic80oc2_b1/broken@onednn";
    verify_dense_variants(&r, &d1, vars, 3);
    assert_int_equal(r.checked, dn ? 1 : 0);
    assert_int_equal(r.failed, dn ? 1 : 0);
    vf_report_fini(&r);
    fclose(sink);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_seed_shapes),       cmocka_unit_test(test_dense_odd_shapes),
        cmocka_unit_test(test_flatten_shapes),          cmocka_unit_test(test_dense_finite_difference),
        cmocka_unit_test(test_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

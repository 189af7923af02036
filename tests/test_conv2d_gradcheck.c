/* Proves the conv2d scalar reference from first principles: the forward pass against an
 * independent padded-copy convolution and hand-derived PyTorch 'same' circular offsets; backward
 * passes against central finite differences of L = sum(out * R) and against the exact adjoint
 * identities <fwd(x), y> == <x, bwd_data(y)> and <fwd_w(x), y> == <w, bwd_weights(x, y)>.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/conv2d/conv2d.h"

/* Deterministic generator so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}
static float rng_unit(void) { return (float)((rng_u32() & 0xffffff) / 8388608.0 - 1.0); } /* [-1, 1) */
static float rng_int(int lo, int hi) { return (float)(lo + (int)(rng_u32() % (uint32_t)(hi - lo + 1))); }

static void fill_unit(float *a, size_t n) {
    for (size_t i = 0; i < n; i++) a[i] = rng_unit();
}
static void fill_int(float *a, size_t n, int lo, int hi) {
    for (size_t i = 0; i < n; i++) a[i] = rng_int(lo, hi);
}
static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}
static float *alloc_f(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

/* Shapes: rectangular kernels, both strides, odd lattices, lattices smaller than the kernel. */
static const conv2d_desc shapes[] = {
    /* n h w cin cout kh kw sh sw bias */
    {1, 5, 7, 2, 3, 3, 3, 1, 1, 1, {{0}}},
    {2, 5, 7, 3, 2, 2, 3, 1, 1, 0, {{0}}},
    {1, 3, 3, 2, 2, 3, 3, 1, 1, 1, {{0}}},
    {2, 1, 2, 2, 3, 3, 2, 1, 1, 1, {{0}}},
    {1, 1, 1, 3, 2, 3, 3, 1, 1, 0, {{0}}},
    {1, 2, 2, 1, 2, 3, 3, 2, 2, 1, {{0}}},
    {2, 5, 7, 2, 3, 3, 3, 2, 2, 1, {{0}}},
    {1, 6, 4, 3, 2, 2, 2, 2, 2, 0, {{0}}},
    {1, 5, 6, 2, 2, 1, 3, 2, 1, 1, {{0}}},
    {2, 4, 5, 2, 3, 3, 1, 1, 2, 1, {{0}}},
    {1, 7, 5, 2, 2, 1, 2, 2, 2, 0, {{0}}},
    {1, 4, 4, 5, 4, 1, 1, 1, 1, 1, {{0}}},
    {2, 3, 5, 1, 1, 2, 2, 2, 1, 1, {{0}}},
};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void print_desc(const conv2d_desc *d) {
    print_message("  n=%d %dx%d cin=%d cout=%d k=%dx%d s=%dx%d bias=%d\n", d->n, d->h, d->w, d->cin, d->cout, d->kh,
                  d->kw, d->sh, d->sw, d->bias);
}

/* ---- independent forward: explicit circular padding, then a plain valid strided convolution */

static int mod_pos(int a, int n) {
    while (a < 0) a += n;
    while (a >= n) a -= n;
    return a;
}

static void naive_fwd(const conv2d_desc *d, const float *in, const float *w, const float *bias, double *out) {
    const int oh = (d->h + d->sh - 1) / d->sh, ow = (d->w + d->sw - 1) / d->sw;
    /* PyTorch padding='same': total k-1, left = (k-1)/2, right = the rest; the stride-2 variant
     * keeps the same left pad and pads on the right as far as the last window needs. */
    const int padt = (d->kh - 1) / 2, padl = (d->kw - 1) / 2;
    const int hp = (oh - 1) * d->sh + d->kh, wp = (ow - 1) * d->sw + d->kw;
    double *padded = malloc((size_t)d->n * hp * wp * d->cin * sizeof(double));
    assert_non_null(padded);
    for (int nn = 0; nn < d->n; nn++)
        for (int p = 0; p < hp; p++)
            for (int q = 0; q < wp; q++)
                for (int c = 0; c < d->cin; c++)
                    padded[(((size_t)nn * hp + p) * wp + q) * d->cin + c] =
                        in[(((size_t)nn * d->h + mod_pos(p - padt, d->h)) * d->w + mod_pos(q - padl, d->w)) * d->cin + c];
    for (int nn = 0; nn < d->n; nn++)
        for (int t = 0; t < oh; t++)
            for (int x = 0; x < ow; x++)
                for (int co = 0; co < d->cout; co++) {
                    double s = (d->bias && bias) ? bias[co] : 0.0;
                    for (int i = 0; i < d->kh; i++)
                        for (int j = 0; j < d->kw; j++)
                            for (int ci = 0; ci < d->cin; ci++)
                                s += padded[(((size_t)nn * hp + t * d->sh + i) * wp + x * d->sw + j) * d->cin + ci] *
                                     w[(((size_t)i * d->kw + j) * d->cin + ci) * d->cout + co];
                    out[(((size_t)nn * oh + t) * ow + x) * d->cout + co] = s;
                }
    free(padded);
}

static void test_fwd_matches_padded_naive(void **state) {
    (void)state;
    for (size_t s = 0; s < NSHAPES; s++) {
        const conv2d_desc *d = &shapes[s];
        const size_t ni = conv2d_in_size(d), no = conv2d_out_size(d), nw = conv2d_w_size(d);
        float *in = alloc_f(ni), *w = alloc_f(nw), *b = alloc_f(d->cout), *out = alloc_f(no);
        double *ref = malloc(no * sizeof(double));
        assert_non_null(ref);
        /* Integers keep every partial sum exact, so equality is the right test. */
        fill_int(in, ni, -4, 4);
        fill_int(w, nw, -4, 4);
        fill_int(b, d->cout, -8, 8);
        conv2d_periodic_fwd__scalar(d, in, w, b, out);
        naive_fwd(d, in, w, b, ref);
        for (size_t k = 0; k < no; k++) {
            if ((double)out[k] != ref[k]) {
                print_desc(d);
                fail_msg("fwd[%zu] = %g, padded naive = %g", k, out[k], ref[k]);
            }
        }
        free(in), free(w), free(b), free(out), free(ref);
    }
}

/* The offsets themselves, written out by hand for a 1-channel impulse on a 7x6 lattice:
 * k=3 reads t-1, t, t+1; k=2 reads t, t+1 (PyTorch puts the extra pad on the right). */
static void test_fwd_same_split_by_hand(void **state) {
    (void)state;
    for (int kh = 1; kh <= 3; kh++)
        for (int kw = 1; kw <= 3; kw++) {
            const conv2d_desc d = {1, 7, 6, 1, 1, kh, kw, 1, 1, 0, {{0}}};
            float in[42] = {0}, out[42], w[9];
            for (int k = 0; k < kh * kw; k++) w[k] = (float)(1 << k); /* tap id recoverable from the sum */
            const int t0 = 0, x0 = 5;                                  /* corner: both wraps exercised */
            in[t0 * 6 + x0] = 1.0f;
            conv2d_periodic_fwd__scalar(&d, in, w, NULL, out);
            const int lo_h = kh == 3 ? -1 : 0, lo_w = kw == 3 ? -1 : 0; /* first offset, by hand */
            for (int t = 0; t < 7; t++)
                for (int x = 0; x < 6; x++) {
                    float expect = 0;
                    for (int i = 0; i < kh; i++)
                        for (int j = 0; j < kw; j++)
                            if ((t + i + lo_h + 7) % 7 == t0 && (x + j + lo_w + 6) % 6 == x0) expect += w[i * kw + j];
                    if (out[t * 6 + x] != expect)
                        fail_msg("k=%dx%d out(%d,%d) = %g, expected %g", kh, kw, t, x, out[t * 6 + x], expect);
                }
            /* Spot values that do not depend on the formula above: output (t0, x0-1) reads the impulse
             * through tap j = 1 - lo_w (k=3: j=2, i.e. offset +1; k=2: j=1, offset +1). */
            if (kw >= 2) {
                const int j = kw == 3 ? 2 : 1, i = kh == 3 ? 1 : 0;
                assert_true(out[t0 * 6 + x0 - 1] == w[i * kw + j]);
            }
        }
}

/* ---- finite differences */

static double loss(const conv2d_desc *d, const float *in, const float *w, const float *b, const float *r, float *out) {
    conv2d_periodic_fwd__scalar(d, in, w, b, out);
    return dot(out, r, conv2d_out_size(d));
}

/* Central difference of the (bi)linear loss; with float forward passes the noise is a few 1e-6
 * per touched output divided by 2h, while any indexing slip moves a gradient by O(0.1). */
static void check_fd(const conv2d_desc *d, const char *what, float *param, size_t np, const float *analytic,
                     const float *in, const float *w, const float *b, const float *r, float *out) {
    const float h = 1.0f / 64;
    double worst = 0;
    for (size_t k = 0; k < np; k++) {
        const float saved = param[k];
        param[k] = saved + h;
        const double lp = loss(d, in, w, b, r, out);
        param[k] = saved - h;
        const double lm = loss(d, in, w, b, r, out);
        param[k] = saved;
        const double fd = (lp - lm) / (2.0 * h);
        const double err = fabs(fd - analytic[k]) / (1.0 + fabs(fd));
        if (err > worst) worst = err;
        if (err > 2e-4) {
            print_desc(d);
            fail_msg("%s[%zu]: analytic %.7g, finite difference %.7g", what, k, analytic[k], fd);
        }
    }
}

static void test_gradients_vs_finite_differences(void **state) {
    (void)state;
    for (size_t s = 0; s < NSHAPES; s++) {
        const conv2d_desc *d = &shapes[s];
        const size_t ni = conv2d_in_size(d), no = conv2d_out_size(d), nw = conv2d_w_size(d);
        float *in = alloc_f(ni), *w = alloc_f(nw), *wt = alloc_f(nw), *b = alloc_f(d->cout), *r = alloc_f(no);
        float *out = alloc_f(no), *gin = alloc_f(ni), *gw = alloc_f(nw), *gb = alloc_f(d->cout);
        fill_unit(in, ni);
        fill_unit(w, nw);
        fill_unit(b, d->cout);
        fill_unit(r, no);
        conv2d_weights_transpose(d, w, wt);
        conv2d_periodic_bwd_data__scalar(d, r, wt, gin);
        for (int k = 0; k < d->cout; k++) gb[k] = NAN; /* must be written when d->bias */
        conv2d_periodic_bwd_weights__scalar(d, in, r, gw, gb);
        check_fd(d, "gin", in, ni, gin, in, w, b, r, out);
        check_fd(d, "gw", w, nw, gw, in, w, b, r, out);
        if (d->bias) check_fd(d, "gb", b, d->cout, gb, in, w, b, r, out);
        else
            for (int k = 0; k < d->cout; k++) assert_true(isnan(gb[k])); /* untouched without bias */
        free(in), free(w), free(wt), free(b), free(r), free(out), free(gin), free(gw), free(gb);
    }
}

/* Larger random shapes (every kernel size, both strides per axis, sizes 1..7) for the exact
 * adjoint identities: with small integers every product and sum is exact in float and double. */
static void test_adjoint_identities_exact(void **state) {
    (void)state;
    int ncases = 0;
    for (int kh = 1; kh <= 3; kh++)
        for (int kw = 1; kw <= 3; kw++)
            for (int sh = 1; sh <= 2; sh++)
                for (int sw = 1; sw <= 2; sw++)
                    for (int rep = 0; rep < 4; rep++) {
                        conv2d_desc d = {1 + (int)(rng_u32() % 2), 1 + (int)(rng_u32() % 7), 1 + (int)(rng_u32() % 7),
                                         1 + (int)(rng_u32() % 5), 1 + (int)(rng_u32() % 5), kh, kw, sh, sw,
                                         (int)(rng_u32() % 2), {{0}}};
                        const size_t ni = conv2d_in_size(&d), no = conv2d_out_size(&d), nw = conv2d_w_size(&d);
                        float *x = alloc_f(ni), *w = alloc_f(nw), *wt = alloc_f(nw), *y = alloc_f(no);
                        float *fx = alloc_f(no), *gx = alloc_f(ni), *gw = alloc_f(nw), *gb = alloc_f(d.cout);
                        fill_int(x, ni, -3, 3);
                        fill_int(w, nw, -3, 3);
                        fill_int(y, no, -3, 3);
                        /* Poison outputs: every pass must overwrite, not accumulate. */
                        for (size_t k = 0; k < ni; k++) gx[k] = 1e6f;
                        for (size_t k = 0; k < nw; k++) gw[k] = 1e6f;
                        for (int k = 0; k < d.cout; k++) gb[k] = 1e6f;
                        conv2d_weights_transpose(&d, w, wt);
                        conv2d_periodic_fwd__scalar(&d, x, w, NULL, fx);
                        conv2d_periodic_bwd_data__scalar(&d, y, wt, gx);
                        conv2d_periodic_bwd_weights__scalar(&d, x, y, gw, gb);
                        const double lhs = dot(fx, y, no);
                        if (lhs != dot(x, gx, ni) || lhs != dot(w, gw, nw)) {
                            print_desc(&d);
                            fail_msg("<fwd x, y> = %g, <x, bwd_data y> = %g, <w, bwd_weights> = %g", lhs,
                                     dot(x, gx, ni), dot(w, gw, nw));
                        }
                        if (d.bias) {
                            const int sites = d.n * conv2d_oh(&d) * conv2d_ow(&d);
                            for (int co = 0; co < d.cout; co++) {
                                double sum = 0;
                                for (int k = 0; k < sites; k++) sum += y[(size_t)k * d.cout + co];
                                assert_true(gb[co] == sum);
                            }
                        }
                        free(x), free(w), free(wt), free(y), free(fx), free(gx), free(gw), free(gb);
                        ncases++;
                    }
    assert_int_equal(ncases, 144);
}

/* Bias is added once per output site and only when both d->bias and the pointer say so. */
static void test_bias_handling(void **state) {
    (void)state;
    conv2d_desc d = {2, 3, 5, 2, 3, 3, 2, 2, 1, 1, {{0}}};
    const size_t ni = conv2d_in_size(&d), no = conv2d_out_size(&d), nw = conv2d_w_size(&d);
    float *in = alloc_f(ni), *w = alloc_f(nw), *b = alloc_f(d.cout), *o1 = alloc_f(no), *o2 = alloc_f(no);
    fill_int(in, ni, -3, 3);
    fill_int(w, nw, -3, 3);
    fill_int(b, d.cout, 1, 9);
    conv2d_periodic_fwd__scalar(&d, in, w, b, o1);
    d.bias = 0;
    conv2d_periodic_fwd__scalar(&d, in, w, b, o2);
    for (size_t k = 0; k < no; k++) assert_true(o1[k] == o2[k] + b[k % d.cout]);
    free(in), free(w), free(b), free(o1), free(o2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fwd_same_split_by_hand),
        cmocka_unit_test(test_fwd_matches_padded_naive),
        cmocka_unit_test(test_gradients_vs_finite_differences),
        cmocka_unit_test(test_adjoint_identities_exact),
        cmocka_unit_test(test_bias_handling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

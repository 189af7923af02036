/* The batch-splitting wrappers (lib/nn/parallel.h) against one whole-batch kernel call, for
 * every conv2d and pool variant this CPU runs: bit-identical for conv fwd / bwd_data and pool
 * fwd / bwd, within rounding for the bwd_weights reduction (bit-identical when it runs on one
 * slice, and deterministic run to run); batch 1, 3 and 32 on 1, 2 and 3 threads (and more
 * threads than samples); the conv + lrelu slice-level fusion against the two kernels in turn, and
 * the threaded lrelu and global pooling against one call.  Buffers are exact-size heap blocks so that the sanitizer build catches
 * any write past a slice or the workspace. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "arch/registry.h"
#include "lib/nn/parallel.h"

static const int batches[] = {1, 3, 32};
static const int thread_counts[] = {1, 2, 3, 4};

static float *alloc_floats(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

static void fill(float *x, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((seed >> 40) & 0xffff) / 32768.0f - 1.0f;
    }
}

/* NaN sentinels, so that an element nobody wrote cannot compare equal. */
static void poison(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = NAN;
}

static void assert_bitwise(const float *got, const float *want, size_t n, const char *what) {
    if (memcmp(got, want, n * sizeof(float)) == 0) return;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof(float))) {
            print_error("%s: element %zu: got %.9g, want %.9g\n", what, i, got[i], want[i]);
            break;
        }
    fail();
}

static const lb_cpu *host_cpu(void) { return &lb_dispatch_get()->cpu; }

static const conv2d_desc conv_shapes[] = {
    /* n is set per test */
    {0, 6, 5, 8, 16, 2, 2, 1, 1, 1, {{0}}},    /* odd lattice, 2x2: the halo wraps */
    {0, 7, 6, 5, 3, 3, 3, 2, 2, 0, {{0}}},     /* 3x3 stride 2, channel counts below any vector width */
    {0, 8, 8, 4, 64, 1, 1, 1, 1, 1, {{0}}},    /* task1-eq layer 1 */
    {0, 8, 8, 80, 80, 2, 2, 1, 1, 1, {{0}}},   /* task1-eq layer 4 */
};
#define N_CONV_SHAPES (sizeof conv_shapes / sizeof conv_shapes[0])

typedef struct {
    conv2d_desc d;
    float *in, *w, *wt, *bias, *gout;
} conv_inputs;

static void conv_inputs_make(conv_inputs *c, const conv2d_desc *shape, int n) {
    c->d = *shape;
    c->d.n = n;
    c->in = alloc_floats(conv2d_in_size(&c->d));
    c->w = alloc_floats(conv2d_w_size(&c->d));
    c->wt = alloc_floats(conv2d_w_size(&c->d));
    c->bias = alloc_floats((size_t)c->d.cout);
    c->gout = alloc_floats(conv2d_out_size(&c->d));
    fill(c->in, conv2d_in_size(&c->d), 1);
    fill(c->w, conv2d_w_size(&c->d), 2);
    fill(c->bias, (size_t)c->d.cout, 3);
    fill(c->gout, conv2d_out_size(&c->d), 4);
    conv2d_weights_transpose(&c->d, c->w, c->wt);
}

static void conv_inputs_free(conv_inputs *c) {
    free(c->in);
    free(c->w);
    free(c->wt);
    free(c->bias);
    free(c->gout);
}

/* Calls fn(variant, inputs, threads) for every usable conv variant, shape, batch and thread count. */
typedef void conv_case_fn(const conv2d_ops *k, const conv_inputs *c, int threads);

static void for_each_conv_case(conv_case_fn *fn) {
    int nv;
    const conv2d_ops *vars = lb_conv2d_variants(&nv);
    int ran = 0;
    for (int v = 0; v < nv; v++) {
        if (!lb_cpu_supports(host_cpu(), vars[v].isa)) continue;
        for (size_t s = 0; s < N_CONV_SHAPES; s++)
            for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
                conv_inputs c;
                conv_inputs_make(&c, &conv_shapes[s], batches[b]);
                for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) fn(&vars[v], &c, thread_counts[t]);
                conv_inputs_free(&c);
                ran++;
            }
    }
    assert_true(ran > 0);
}

static void conv_fwd_case(const conv2d_ops *k, const conv_inputs *c, int threads) {
    size_t n = conv2d_out_size(&c->d);
    float *want = alloc_floats(n), *got = alloc_floats(n);
    const float *bias = c->d.bias ? c->bias : NULL;
    poison(want, n);
    poison(got, n);
    k->fwd(&c->d, c->in, c->w, bias, want);
    nn_conv2d_fwd(k, threads, &c->d, c->in, c->w, bias, got);
    assert_bitwise(got, want, n, k->name);
    free(want);
    free(got);
}

static void conv_bwd_data_case(const conv2d_ops *k, const conv_inputs *c, int threads) {
    size_t n = conv2d_in_size(&c->d);
    float *want = alloc_floats(n), *got = alloc_floats(n);
    poison(want, n);
    poison(got, n);
    k->bwd_data(&c->d, c->gout, c->wt, want);
    nn_conv2d_bwd_data(k, threads, &c->d, c->gout, c->wt, got);
    assert_bitwise(got, want, n, k->name);
    free(want);
    free(got);
}

/* Reassociating a sum of N products of values in [-1, 1] moves it by at most ~N ulp-sized steps
 * of its largest partial sum; N * 2^-22 bounds that loosely but still catches any missing or
 * doubled slice (an error of order 1). */
static void assert_close_sum(const float *got, const float *want, size_t n, double terms, const char *what) {
    double tol = terms * 2.4e-7 + 1e-6;
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol)) {
            print_error("%s: element %zu: got %.9g, want %.9g (tolerance %.3g)\n", what, i, got[i], want[i], tol);
            fail();
        }
}

static void conv_bwd_weights_case(const conv2d_ops *k, const conv_inputs *c, int threads) {
    const conv2d_desc *d = &c->d;
    size_t nw = conv2d_w_size(d), nb = (size_t)d->cout;
    size_t nws = nn_conv2d_bwd_weights_workspace(threads, d);
    int parts = nn_batch_parts(threads, d->n);
    assert_int_equal(nws == 0, parts == 1);
    float *gw_want = alloc_floats(nw), *gw = alloc_floats(nw), *gw2 = alloc_floats(nw);
    float *gb_want = alloc_floats(nb), *gb = alloc_floats(nb), *gb2 = alloc_floats(nb);
    float *ws = nws ? alloc_floats(nws) : NULL;
    if (ws) poison(ws, nws);
    float *gbp = d->bias ? gb : NULL, *gbp2 = d->bias ? gb2 : NULL;
    poison(gw_want, nw);
    poison(gw, nw);
    poison(gw2, nw);
    k->bwd_weights(d, c->in, c->gout, gw_want, d->bias ? gb_want : NULL);
    nn_conv2d_bwd_weights(k, threads, d, c->in, c->gout, gw, gbp, ws);
    double terms = (double)d->n * conv2d_oh(d) * conv2d_ow(d);   /* products summed per weight */
    if (parts == 1) assert_bitwise(gw, gw_want, nw, k->name);
    else assert_close_sum(gw, gw_want, nw, terms, k->name);
    if (d->bias) {
        if (parts == 1) assert_bitwise(gb, gb_want, nb, k->name);
        else assert_close_sum(gb, gb_want, nb, terms, k->name);
    }
    /* same inputs, same thread count: same bits (the reduction order is fixed) */
    nn_conv2d_bwd_weights(k, threads, d, c->in, c->gout, gw2, gbp2, ws);
    assert_bitwise(gw2, gw, nw, "bwd_weights run to run");
    if (d->bias) assert_bitwise(gb2, gb, nb, "bwd_weights bias run to run");
    free(gw_want);
    free(gw);
    free(gw2);
    free(gb_want);
    free(gb);
    free(gb2);
    free(ws);
}

/* conv + lrelu at the slice level (nn_conv2d_fwd_lrelu, nn_lrelu_bwd_conv2d_bwd_data) against the
 * kernels one after the other on the whole batch; backward also in place (gy over gact), as the
 * model runs it.  Batch 32 on the 80-channel shape spans several chunks per slice. */
static void conv_lrelu_case(const conv2d_ops *k, const conv_inputs *c, int threads) {
    const act_ops *a = lb_dispatch_get()->act;
    const float slope = 0.01f;
    const size_t no = conv2d_out_size(&c->d), ni = conv2d_in_size(&c->d);
    const float *bias = c->d.bias ? c->bias : NULL;
    float *y_want = alloc_floats(no), *a_want = alloc_floats(no), *y = alloc_floats(no), *act = alloc_floats(no);
    poison(y, no), poison(act, no);
    k->fwd(&c->d, c->in, c->w, bias, y_want);
    a->lrelu_fwd(no, slope, y_want, a_want);
    nn_conv2d_fwd_lrelu(k, a, slope, threads, &c->d, c->in, c->w, bias, y, act);
    assert_bitwise(y, y_want, no, "fused fwd: conv output");
    assert_bitwise(act, a_want, no, "fused fwd: lrelu output");
    float *gy_want = alloc_floats(no), *gin_want = alloc_floats(ni), *gy = alloc_floats(no), *gin = alloc_floats(ni);
    a->lrelu_bwd(no, slope, y_want, c->gout, gy_want);
    k->bwd_data(&c->d, gy_want, c->wt, gin_want);
    poison(gy, no), poison(gin, ni);
    nn_lrelu_bwd_conv2d_bwd_data(k, a, slope, threads, &c->d, y_want, c->gout, gy, c->wt, gin);
    assert_bitwise(gy, gy_want, no, "fused bwd: lrelu input gradient");
    assert_bitwise(gin, gin_want, ni, "fused bwd: conv input gradient");
    memcpy(gy, c->gout, no * sizeof(float)); /* in place, and without backward-data (first layer) */
    nn_lrelu_bwd_conv2d_bwd_data(k, a, slope, threads, &c->d, y_want, gy, gy, c->wt, NULL);
    assert_bitwise(gy, gy_want, no, "fused bwd in place");
    free(y_want), free(a_want), free(y), free(act), free(gy_want), free(gin_want), free(gy), free(gin);
}

static void test_conv_lrelu(void **state) {
    (void)state;
    for_each_conv_case(conv_lrelu_case);
}

/* Elementwise lrelu and global pooling split over threads: the bits of one whole-batch call. */
static void test_act_gpool(void **state) {
    (void)state;
    const lb_dispatch *k = lb_dispatch_get();
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        const int n = batches[b], hw = 35, ch = 21;
        const size_t ps = (size_t)hw * ch, tot = (size_t)n * ps;
        float *x = alloc_floats(tot), *g = alloc_floats(tot), *want = alloc_floats(tot), *got = alloc_floats(tot);
        float *po = alloc_floats((size_t)n * ch), *po_want = alloc_floats((size_t)n * ch);
        fill(x, tot, 11), fill(g, tot, 12);
        for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
            const int T = thread_counts[t];
            k->act->lrelu_fwd(tot, 0.01f, x, want);
            poison(got, tot);
            nn_lrelu_fwd(k->act, 0.01f, T, n, ps, x, got);
            assert_bitwise(got, want, tot, "lrelu fwd");
            k->act->lrelu_bwd(tot, 0.01f, x, g, want);
            poison(got, tot);
            nn_lrelu_bwd(k->act, 0.01f, T, n, ps, x, g, got);
            assert_bitwise(got, want, tot, "lrelu bwd");
            for (int kind = GPOOL_AVG; kind <= GPOOL_SUM; kind++) {
                const gpool_desc d = {n, hw, ch, (gpool_kind)kind};
                k->gpool->fwd(&d, x, po_want);
                poison(po, (size_t)n * ch);
                nn_gpool_fwd(k->gpool, T, &d, x, po);
                assert_bitwise(po, po_want, (size_t)n * ch, "gpool fwd");
                k->gpool->bwd(&d, x, g, want);
                poison(got, tot);
                nn_gpool_bwd(k->gpool, T, &d, x, g, got);
                assert_bitwise(got, want, tot, "gpool bwd");
            }
        }
        free(x), free(g), free(want), free(got), free(po), free(po_want);
    }
}

static void test_conv_fwd(void **state) {
    (void)state;
    for_each_conv_case(conv_fwd_case);
}

static void test_conv_bwd_data(void **state) {
    (void)state;
    for_each_conv_case(conv_bwd_data_case);
}

static void test_conv_bwd_weights(void **state) {
    (void)state;
    for_each_conv_case(conv_bwd_weights_case);
}

/* A layer with a bias whose caller wants no bias gradient (gb NULL): nothing may touch it. */
static void test_conv_bwd_weights_no_gb(void **state) {
    (void)state;
    const conv2d_ops *k = lb_dispatch_get()->conv2d;
    conv_inputs c;
    conv_inputs_make(&c, &conv_shapes[0], 5);
    size_t nw = conv2d_w_size(&c.d), nws = nn_conv2d_bwd_weights_workspace(2, &c.d);
    float *want = alloc_floats(nw), *got = alloc_floats(nw), *ws = alloc_floats(nws);
    k->bwd_weights(&c.d, c.in, c.gout, want, NULL);
    nn_conv2d_bwd_weights(k, 2, &c.d, c.in, c.gout, got, NULL, ws);
    assert_close_sum(got, want, nw, 5.0 * 30, k->name);
    free(want);
    free(got);
    free(ws);
    conv_inputs_free(&c);
}

static void test_batch_parts(void **state) {
    (void)state;
    assert_int_equal(nn_batch_parts(1, 32), 1);
    assert_int_equal(nn_batch_parts(2, 32), 2);
    assert_int_equal(nn_batch_parts(2, 1), 1);
    assert_int_equal(nn_batch_parts(4, 3), 3);
    assert_int_equal(nn_batch_parts(0, 8), 1);
    assert_int_equal(nn_batch_parts(3, 0), 1);
    conv2d_desc d = conv_shapes[0];
    d.n = 32;
    size_t per = conv2d_w_size(&d) + (size_t)d.cout;   /* 528: already a multiple of 16 */
    assert_int_equal(nn_conv2d_bwd_weights_workspace(1, &d), 0);
    assert_int_equal(nn_conv2d_bwd_weights_workspace(3, &d), 2 * ((per + 15) / 16 * 16));
    d = conv_shapes[1];   /* 3*3*5*3 = 135 weights, no bias: padded to 144 */
    d.n = 32;
    assert_int_equal(nn_conv2d_bwd_weights_workspace(2, &d), 144);
}

static const pool_desc pool_shapes[] = {
    {0, 8, 8, 48, 2, 2, POOL_AVG},   /* task1-st */
    {0, 8, 8, 16, 2, 2, POOL_MAX},
    {0, 7, 5, 13, 3, 2, POOL_MAX},   /* odd sizes, overlapping windows, floor mode */
    {0, 5, 7, 3, 2, 1, POOL_AVG},
};

static void test_pool(void **state) {
    (void)state;
    int nv, ran = 0;
    const pool_ops *vars = lb_pool_variants(&nv);
    for (int v = 0; v < nv; v++) {
        if (!lb_cpu_supports(host_cpu(), vars[v].isa)) continue;
        const pool_ops *k = &vars[v];
        for (size_t s = 0; s < sizeof pool_shapes / sizeof pool_shapes[0]; s++)
            for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
                pool_desc d = pool_shapes[s];
                d.n = batches[b];
                size_t nin = pool_in_size(&d), nout = pool_out_size(&d);
                float *in = alloc_floats(nin), *gout = alloc_floats(nout);
                float *out_want = alloc_floats(nout), *out = alloc_floats(nout);
                float *gin_want = alloc_floats(nin), *gin = alloc_floats(nin);
                fill(in, nin, 7);
                fill(gout, nout, 8);
                k->fwd(&d, in, out_want);
                const float *bwd_in = d.kind == POOL_AVG ? NULL : in;   /* avg needs no input */
                k->bwd(&d, bwd_in, gout, gin_want);
                for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
                    poison(out, nout);
                    poison(gin, nin);
                    nn_pool_fwd(k, thread_counts[t], &d, in, out);
                    nn_pool_bwd(k, thread_counts[t], &d, bwd_in, gout, gin);
                    assert_bitwise(out, out_want, nout, k->name);
                    assert_bitwise(gin, gin_want, nin, k->name);
                }
                free(in);
                free(gout);
                free(out_want);
                free(out);
                free(gin_want);
                free(gin);
                ran++;
            }
    }
    assert_true(ran > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_parts),
        cmocka_unit_test(test_conv_fwd),
        cmocka_unit_test(test_conv_bwd_data),
        cmocka_unit_test(test_conv_bwd_weights),
        cmocka_unit_test(test_conv_bwd_weights_no_gb),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_conv_lrelu),
        cmocka_unit_test(test_act_gpool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

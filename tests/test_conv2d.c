/* conv2d: every variant the CPU runs against the scalar reference and oneDNN (verify_conv2d) on
 * every conv layer of the seed-000 networks and on awkward shapes; the offset convention against
 * hand-computed values; and negative tests showing that the comparisons catch a wrong result.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/verify/verify_ops.h"


static void report_done(vf_report *r, const char *what) {
    printf("%s: %d checks, %d failed, %d skipped\n", what, r->checked, r->failed, r->skipped);
    fflush(stdout);
    assert_true(r->checked > 0);
    assert_int_equal(r->failed, 0);
    vf_report_fini(r);
}

/* (cin, cout, k) of every conv layer in the seed-000 tables (k x k kernels, stride 1). */
static const int net_layers[][3] = {
    {4, 64, 1}, {64, 48, 1}, {48, 80, 1}, {80, 80, 2}, {4, 80, 1},  {80, 80, 1}, {80, 48, 1}, {48, 80, 2},
    {64, 80, 2}, {48, 64, 2}, {64, 24, 1}, {4, 32, 2}, {32, 32, 1}, {4, 16, 2}, {16, 16, 1}, {16, 8, 1},
    {4, 8, 3},  {8, 32, 2}, {32, 32, 2}, {4, 32, 1}, {32, 8, 2},  {8, 16, 2}, {4, 8, 2},   {8, 8, 2},
    {8, 4, 1},  {4, 8, 1},  {4, 4, 1},  {8, 4, 2},  {4, 1, 3},   {16, 32, 1}, {32, 8, 1},  {4, 4, 2},
    {4, 16, 3}, {32, 4, 3}, {8, 4, 3},
};

static void test_network_layers(void **state) {
    (void)state;
    vf_report r;
    vf_report_init(&r, stdout, VF_ALL_ISAS, true);
    /* Small batches; 60x4 x 2 and 100x5 span several of the kernels' site chunks. */
    static const int lat[][3] = {{3, 8, 8}, {2, 60, 4}, {1, 100, 5}};
    for (size_t l = 0; l < sizeof net_layers / sizeof net_layers[0]; l++)
        for (int s = 0; s < 3; s++) {
            const int k = net_layers[l][2];
            conv2d_desc d = {lat[s][0], lat[s][1], lat[s][2], net_layers[l][0], net_layers[l][1], k, k, 1, 1,
                             (int)((l + s) % 4 != 3), {{0}}};
            verify_conv2d(&r, &d);
        }
    /* The compute-bound layers at a training batch: many tiles and site chunks per call. */
    for (size_t l = 0; l < 8; l++) {
        const int k = net_layers[l][2];
        conv2d_desc d = {32, 8, 8, net_layers[l][0], net_layers[l][1], k, k, 1, 1, 1, {{0}}};
        verify_conv2d(&r, &d);
    }
    /* Operands beyond L2: the kernels' software-prefetch path (zmm and ymm tiles). */
    static const conv2d_desc big[] = {
        {1, 64, 64, 80, 80, 2, 2, 1, 1, 1, {{0}}},
        {1, 64, 64, 48, 80, 1, 1, 1, 1, 1, {{0}}},
        {8, 64, 64, 16, 8, 1, 1, 1, 1, 1, {{0}}},
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) verify_conv2d(&r, &big[i]);
    report_done(&r, "network layers");
}

/* Many site chunks of whole images (avx512: each full chunk's row table is the previous one's
 * shifted, conv2d_tab_next): task3-eq1's layers at a batch of 20 (fwd 6 full chunks, bwd_weights
 * 5); 9..16 written channels (the pair path in two zmm, odd counts, an odd reduction count that
 * declines it); images of 35 sites (a chunk is 6 of them, partial tiles) and stride 2 (4 sites
 * per image, bwd_weights over input-channel vectors). */
static void test_image_chunks(void **state) {
    (void)state;
    vf_report r;
    vf_report_init(&r, stdout, VF_ALL_ISAS, true);
    static const conv2d_desc shapes[] = {
        {20, 8, 8, 4, 32, 1, 1, 1, 1, 0, {{0}}},  {20, 8, 8, 32, 8, 2, 2, 1, 1, 0, {{0}}},
        {20, 8, 8, 8, 16, 2, 2, 1, 1, 0, {{0}}},  {20, 8, 8, 16, 8, 1, 1, 1, 1, 1, {{0}}},
        {9, 8, 8, 8, 13, 2, 2, 1, 1, 1, {{0}}},   {9, 8, 8, 12, 6, 2, 2, 1, 1, 1, {{0}}},
        {9, 8, 8, 7, 14, 2, 2, 1, 1, 0, {{0}}},   {13, 5, 7, 6, 9, 3, 3, 1, 1, 1, {{0}}},
        {13, 5, 7, 10, 11, 2, 3, 1, 1, 0, {{0}}}, {150, 4, 4, 33, 7, 2, 3, 2, 2, 1, {{0}}},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) verify_conv2d(&r, &shapes[i]);
    report_done(&r, "image chunks");
}

/* Lattices smaller than the kernel, odd sizes with stride 2, channel counts that are not
 * multiples of 8 or 16, one input channel, rectangular kernels, batch 1. */
static void test_awkward_shapes(void **state) {
    (void)state;
    vf_report r;
    vf_report_init(&r, stdout, VF_ALL_ISAS, true);
    static const int lat[][2] = {{5, 7}, {3, 3}, {1, 1}, {2, 1}, {1, 2}, {7, 5}, {4, 6}};
    static const int ch[] = {1, 3, 13, 17, 33};
    static const int ker[][2] = {{1, 1}, {2, 2}, {3, 3}, {1, 3}, {3, 1}, {2, 3}, {3, 2}, {1, 2}};
    int count = 0;
    for (int li = 0; li < 7; li++)
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 5; b++)
                for (int ki = 0; ki < 8; ki++) {
                    /* A deterministic quarter of the product still covers every pair of factors. */
                    if ((li * 7 + a * 3 + b * 5 + ki) % 4) continue;
                    const int st = (li + a + 2 * b + ki) % 4;
                    conv2d_desc d = {1 + (a + ki) % 2, lat[li][0], lat[li][1], ch[a], ch[b], ker[ki][0], ker[ki][1],
                                     1 + (st & 1), 1 + (st >> 1), (li + b) % 2, {{0}}};
                    verify_conv2d(&r, &d);
                    count++;
                }
    /* Stride 2 on odd sizes with every kernel, and wide channel counts with tails. */
    for (int ki = 0; ki < 8; ki++) {
        conv2d_desc d = {2, 5, 7, 17, 33, ker[ki][0], ker[ki][1], 2, 2, 1, {{0}}};
        verify_conv2d(&r, &d);
        conv2d_desc e = {1, 9, 3, 1, 13, ker[ki][0], ker[ki][1], 2, 1, 0, {{0}}};
        verify_conv2d(&r, &e);
        conv2d_desc f = {1, 3, 9, 33, 1, ker[ki][0], ker[ki][1], 1, 2, 1, {{0}}};
        verify_conv2d(&r, &f);
        count += 3;
    }
    static const conv2d_desc extra[] = {
        {1, 8, 8, 100, 96, 2, 2, 1, 1, 1, {{0}}},  /* cout > 80: several column blocks */
        {1, 6, 5, 81, 97, 3, 3, 1, 1, 1, {{0}}},   /* one lane past a multiple of 16 */
        {4, 9, 9, 3, 5, 3, 3, 2, 2, 1, {{0}}},
        {1, 1, 1, 13, 17, 3, 3, 1, 1, 1, {{0}}},
        {1, 31, 11, 7, 9, 2, 3, 1, 1, 0, {{0}}},   /* 341 sites: a partial chunk and partial tiles */
        {1, 7, 5, 19, 7, 1, 1, 1, 1, 1, {{0}}},    /* 1x1, <= 8 channels written: a partial site group */
        {3, 3, 3, 5, 37, 1, 1, 1, 1, 0, {{0}}},
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) verify_conv2d(&r, &extra[i]), count++;
    printf("awkward shapes: %d problems\n", count);
    report_done(&r, "awkward shapes");
}

/* Tuning parameters: every variant's table is well formed; verify_conv2d checks each parameter's
 * values one at a time (counted in param_checks), and here also at combinations (all at their
 * minimum, all at their maximum, all in the middle) over awkward shapes, each against the scalar
 * reference.  The shapes: odd sizes, channels not multiples of 16 and <= 8 (the ymm path), batch 1,
 * stride 2, and more sites than the largest bwd_weights chunk. */
static void test_parameters(void **state) {
    (void)state;
    int nvar = 0, with = 0;
    const conv2d_ops *vars = lb_conv2d_variants(&nvar);
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    for (int v = 0; v < nvar; v++) {
        assert_true(vars[v].nparams >= 0 && vars[v].nparams <= LB_PARAMS_MAX);
        assert_true((vars[v].params != NULL) == (vars[v].nparams > 0));
        for (int i = 0; i < vars[v].nparams; i++) {
            const lb_param_info *pi = &vars[v].params[i];
            assert_true(pi->name && *pi->name && pi->what && *pi->what);
            assert_true(pi->min >= 1 && pi->min <= pi->max);
            for (int j = 0; j < i; j++) assert_string_not_equal(pi->name, vars[v].params[j].name);
        }
        if (vars[v].nparams && lb_cpu_supports(&cpu, vars[v].isa)) with++;
    }
    if (!with) {
        printf("parameters: no variant with tuning parameters runs on this CPU; only the tables were checked\n");
        return;
    }
    static const conv2d_desc shapes[] = {
        {1, 5, 7, 13, 17, 3, 3, 1, 1, 1, {{0}}},   {2, 7, 5, 3, 5, 2, 2, 1, 1, 0, {{0}}},
        {1, 9, 3, 17, 33, 3, 1, 2, 2, 1, {{0}}},   {1, 31, 11, 7, 9, 2, 3, 1, 1, 0, {{0}}},
        {2, 17, 19, 20, 8, 3, 3, 1, 1, 1, {{0}}},  {1, 6, 5, 81, 97, 3, 3, 1, 1, 1, {{0}}},
        {3, 11, 13, 8, 24, 1, 1, 1, 1, 1, {{0}}},  {1, 1, 1, 13, 17, 3, 3, 1, 1, 1, {{0}}},
    };
    vf_report r;
    vf_report_init(&r, stdout, VF_ALL_ISAS, false);
    int combos = 0;
    for (int v = 0; v < nvar; v++) {
        if (!vars[v].nparams || !lb_cpu_supports(&cpu, vars[v].isa)) continue;
        char filter[32];
        snprintf(filter, sizeof filter, "/%s", vars[v].name);
        r.filter = filter;
        for (int c = 0; c < 3; c++)
            for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
                conv2d_desc d = shapes[k];
                for (int i = 0; i < vars[v].nparams; i++) {
                    const lb_param_info *pi = &vars[v].params[i];
                    d.params.v[i] = c == 0 ? pi->min : c == 1 ? pi->max : (pi->min + pi->max) / 2;
                }
                verify_conv2d(&r, &d);
                combos++;
            }
    }
    printf("parameters: %d combinations x shapes, %d checks at single parameter values\n", combos, r.param_checks);
    assert_true(r.param_checks > 0);
    report_done(&r, "parameters");
}

/* The offset convention, off(k) = -floor((k-1)/2), by hand: on a 3-site ring, kernel 2 reads
 * (t, t+1) and kernel 3 reads (t-1, t, t+1); along t and along x; for every runnable variant. */
static void test_offsets_by_hand(void **state) {
    (void)state;
    int nvar = 0;
    const conv2d_ops *vars = lb_conv2d_variants(&nvar);
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    const float in[3] = {1, 10, 100}, w2[2] = {1, 2}, w3[3] = {1, 2, 3}, g[3] = {1, 0, 0};
    const float fwd2[3] = {21, 210, 102}, fwd3[3] = {132, 321, 213};
    /* gin(t) = sum_i gout(t - i - off) w[i]; with gout = e_0: gin(i + off) = w[i]. */
    const float bwd2[3] = {1, 2, 0}, bwd3[3] = {2, 3, 1};
    int ran = 0;
    for (int v = 0; v < nvar; v++) {
        if (!lb_cpu_supports(&cpu, vars[v].isa)) continue;
        for (int axis = 0; axis < 2; axis++)
            for (int k = 2; k <= 3; k++) {
                conv2d_desc d = {1, axis ? 1 : 3, axis ? 3 : 1, 1, 1, axis ? 1 : k, axis ? k : 1, 1, 1, 0, {{0}}};
                float out[3], gin[3], gw[3];
                vars[v].fwd(&d, in, k == 2 ? w2 : w3, NULL, out);
                vars[v].bwd_data(&d, g, k == 2 ? w2 : w3, gin); /* 1x1 channels: wt == w */
                /* gw[i] = sum_t in(t + i + off) gout(t) = in(i + off) with gout = e_0. */
                vars[v].bwd_weights(&d, in, g, gw, NULL);
                const float gw2[2] = {1, 10}, gw3[3] = {100, 1, 10};
                for (int t = 0; t < 3; t++) {
                    assert_float_equal(out[t], (k == 2 ? fwd2 : fwd3)[t], 0);
                    assert_float_equal(gin[t], (k == 2 ? bwd2 : bwd3)[t], 0);
                }
                for (int i = 0; i < k; i++) assert_float_equal(gw[i], (k == 2 ? gw2 : gw3)[i], 0);
            }
        ran++;
    }
    assert_true(ran > 0);
}

/* A wrong result is caught: one element off by one, a NaN, and a convolution with the other
 * 'same' convention (off = -floor(k/2), which for even k reads one site earlier). */
static void test_negative(void **state) {
    (void)state;
    const lb_dispatch *dp = lb_dispatch_get();
    const conv2d_desc d = {2, 6, 5, 13, 17, 2, 2, 1, 1, 1, {{0}}};
    const size_t ni = conv2d_in_size(&d), no = conv2d_out_size(&d), nw = conv2d_w_size(&d);
    float *in = vf_alloc(ni), *w = vf_alloc(nw), *b = vf_alloc((size_t)d.cout), *rolled = vf_alloc(ni);
    float *want = vf_alloc(no), *got = vf_alloc(no);
    vf_fill_int(in, ni, 1, -2, 2);
    vf_fill_int(w, nw, 2, -2, 2);
    vf_fill_int(b, (size_t)d.cout, 3, -2, 2);
    conv2d_periodic_fwd__scalar(&d, in, w, b, want);
    dp->conv2d->fwd(&d, in, w, b, got);
    char detail[256] = "";
    assert_true(vf_compare(got, want, no, 0, 0, detail, sizeof detail));

    vf_report r;
    vf_report_init(&r, stdout, VF_ALL_ISAS, false);
    printf("negative test: the three MISMATCH lines below are expected\n");
    got[no / 2] += 1.0f;
    bool ok = vf_compare(got, want, no, 0, 0, detail, sizeof detail);
    vf_record(&r, "conv2d_fwd/negative/off-by-one", ok, detail);
    assert_false(ok);
    got[no / 2] = NAN;
    ok = vf_compare(got, want, no, 0, 0, detail, sizeof detail);
    vf_record(&r, "conv2d_fwd/negative/nan", ok, detail);
    assert_false(ok);

    /* Off = -floor(k/2) on input x equals our convention on x rolled down by one row (and one
     * column): rolled(t, x) = in(t - 1, x - 1). */
    for (int n = 0; n < d.n; n++)
        for (int t = 0; t < d.h; t++)
            for (int x = 0; x < d.w; x++)
                memcpy(rolled + (((size_t)n * d.h + t) * d.w + x) * d.cin,
                       in + (((size_t)n * d.h + (t + d.h - 1) % d.h) * d.w + (x + d.w - 1) % d.w) * d.cin,
                       (size_t)d.cin * sizeof(float));
    dp->conv2d->fwd(&d, rolled, w, b, got);
    ok = vf_compare(got, want, no, 0, 0, detail, sizeof detail);
    vf_record(&r, "conv2d_fwd/negative/other-same-convention", ok, detail);
    assert_false(ok);
    assert_int_equal(r.failed, 3);
    vf_report_fini(&r);
    free(in), free(w), free(b), free(rolled), free(want), free(got);

    /* The oneDNN comparison alone (the halo path) accepts the right convention for this even
     * kernel, where the two conventions differ; so it would reject the other one. */
    vf_report q;
    vf_report_init(&q, stdout, VF_ALL_ISAS, true);
    q.filter = "@onednn";
    verify_conv2d(&q, &d);
    if (q.onednn) {
        assert_true(q.checked > 0);
        assert_int_equal(q.failed, 0);
    }
    vf_report_fini(&q);
}

int main(void) {
    /* oneDNN's reference runs are tiny: with OpenMP threads on a busy 2-core machine the spinning
     * barriers made this test 10x slower (13 s against 0.9 s). */
    omp_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_by_hand),
        cmocka_unit_test(test_negative),
        cmocka_unit_test(test_network_layers), cmocka_unit_test(test_image_chunks),
        cmocka_unit_test(test_awkward_shapes),
        cmocka_unit_test(test_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

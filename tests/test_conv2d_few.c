/* conv2d avx512, layers writing <= 8 channels (kernels/conv2d/conv2d-few-avx512.c): bwd_weights over
 * input-channel vectors gives the same bits as the ymm tiles (small_zmm=2), gb included, on shapes
 * that take that path (odd sizes, batch 1, channel tails, stride 2, more sites than one chunk,
 * full chunks of whole images whose row tables are shifted, not rebuilt);
 * and a shape it declines (16 -> 8) still matches.  Without AVX-512 the test says so and checks
 * nothing else.  (Values against the scalar reference: test_conv2d / verify, at every small_zmm.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/registry.h"
#include "kernels/conv2d/conv2d.h"

static const conv2d_ops *avx512_variant(void) {
    int n;
    const conv2d_ops *v = lb_conv2d_variants(&n);
    const lb_dispatch *d = lb_dispatch_get();
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].name, "avx512") && lb_isa_usable(&d->cpu, d->cap, v[i].isa)) return &v[i];
    return NULL;
}

static float rnd(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)(int)(*s >> 8) / 16777216.0f * 2.0f - 1.0f;
}

static void test_bww_same_bits(void **state) {
    (void)state;
    const conv2d_ops *k = avx512_variant();
    if (!k) {
        printf("conv2d few: the avx512 variant does not run on this CPU (or LATBENCH_ISA caps it): nothing checked\n");
        return;
    }
    static const conv2d_desc shapes[] = {
        {1, 7, 5, 20, 6, 3, 3, 2, 1, 1, {{0}}},  {3, 8, 8, 32, 8, 2, 2, 1, 1, 1, {{0}}},
        {2, 9, 6, 33, 7, 2, 3, 1, 2, 0, {{0}}},  {1, 5, 5, 48, 4, 1, 1, 1, 1, 1, {{0}}},
        {5, 8, 8, 32, 8, 2, 2, 1, 1, 0, {{0}}},  {2, 8, 8, 16, 8, 1, 1, 1, 1, 1, {{0}}},
        {9, 8, 8, 32, 8, 2, 2, 1, 1, 1, {{0}}},  {150, 4, 4, 33, 7, 2, 3, 2, 2, 1, {{0}}}, /* shifted tables */
    };
    uint32_t s = 7;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        conv2d_desc d0 = shapes[i], d2 = shapes[i];
        d2.params.v[CONV2D_AVX512_SMALL_ZMM] = 2;
        const size_t ni = conv2d_in_size(&d0), no = conv2d_out_size(&d0), nw = conv2d_w_size(&d0);
        float *in = malloc(ni * sizeof(float)), *g = malloc(no * sizeof(float));
        float *w0 = malloc(nw * sizeof(float)), *w2 = malloc(nw * sizeof(float)), b0[8], b2[8];
        assert_non_null(in), assert_non_null(g), assert_non_null(w0), assert_non_null(w2);
        for (size_t j = 0; j < ni; j++) in[j] = rnd(&s);
        for (size_t j = 0; j < no; j++) g[j] = rnd(&s);
        memset(w0, 0xA5, nw * sizeof(float)), memset(b0, 0xA5, sizeof b0); /* overwritten, not added to */
        k->bwd_weights(&d0, in, g, w0, b0);
        k->bwd_weights(&d2, in, g, w2, b2);
        printf("conv2d few: bwd_weights n%d %dx%d %d->%d %dx%d /%d,%d bias %d: %s\n", d0.n, d0.h, d0.w, d0.cin, d0.cout,
               d0.kh, d0.kw, d0.sh, d0.sw, d0.bias, memcmp(w0, w2, nw * sizeof(float)) ? "DIFFERENT bits" : "same bits");
        assert_memory_equal(w0, w2, nw * sizeof(float));
        if (d0.bias) assert_memory_equal(b0, b2, (size_t)d0.cout * sizeof(float));
        free(in), free(g), free(w0), free(w2);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bww_same_bits)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

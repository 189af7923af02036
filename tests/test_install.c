/* The public C API (include/latbench.h, lib/api/) called in process, in every build: the version
 * against the header, the dispatch, conv2d against a hand computation and the kernels' own calls,
 * the sampler's reproducibility, a model saved by the library and run through the API, and the
 * one-line errors.  Then, for the release build only (the build whose objects `make install` takes
 * without a rebuild), tests/test_install.sh: `make install PREFIX=tmp`, a program built with
 * pkg-config against the shared and the static library, the exported symbols, the man page, the
 * completion and `make uninstall`. */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "include/latbench.h"
#include "arch/registry.h"
#include "lib/nn/netspec.h"
#include "lib/nn/nnio.h"

static char err[512];

static void test_version_matches_the_header(void **s) {
    (void)s;
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", LATBENCH_VERSION_MAJOR, LATBENCH_VERSION_MINOR, LATBENCH_VERSION_PATCH);
    assert_string_equal(latbench_version(), want);
    assert_non_null(strstr(latbench_build_compiler(), "."));
    assert_true(strlen(latbench_build_commit()) > 0);
    assert_true(latbench_init(err, sizeof err));
    assert_true(latbench_init(err, sizeof err)); /* idempotent */
}

static void test_dispatch_names_the_chosen_variants(void **s) {
    (void)s;
    const lb_dispatch *d = lb_dispatch_get();
    assert_string_equal(latbench_isa(), lb_isa_name(d->cap));
    assert_string_equal(latbench_variant("conv2d"), d->conv2d->name);
    assert_string_equal(latbench_variant("worm"), d->worm->name);
    assert_null(latbench_variant("fft"));
    int n = latbench_variant_count("conv2d"), count;
    lb_conv2d_variants(&count);
    assert_int_equal(n, count);
    assert_true(n >= 1);
    bool runs = false, chosen_listed = false;
    for (int i = 0; i < n; i++) {
        const char *name = latbench_variant_name("conv2d", i, &runs);
        assert_non_null(name);
        if (!strcmp(name, "scalar")) assert_true(runs); /* the reference runs everywhere */
        chosen_listed |= !strcmp(name, d->conv2d->name);
    }
    assert_true(chosen_listed);
    assert_null(latbench_variant_name("conv2d", n, &runs));
    assert_int_equal(latbench_variant_count("fft"), 0);
}

/* A 2x3 lattice, kernel 1x2 (offset 0): out(t, x) = in(t, x) w0 + in(t, (x+1) mod 3) w1 + b. */
static void test_conv2d_fwd_by_hand(void **s) {
    (void)s;
    const latbench_conv2d_desc d = {.n = 1, .h = 2, .w = 3, .cin = 1, .cout = 1, .kh = 1, .kw = 2, .sh = 1, .sw = 1,
                                    .bias = 1};
    const float in[6] = {1, 2, 3, 4, 5, 6}, w[2] = {1, 10}, b[1] = {0.5f};
    const float want[6] = {21.5f, 32.5f, 13.5f, 54.5f, 65.5f, 46.5f};
    float out[6];
    assert_int_equal(latbench_conv2d_in_size(&d), 6);
    assert_int_equal(latbench_conv2d_out_size(&d), 6);
    assert_int_equal(latbench_conv2d_w_size(&d), 2);
    assert_true(latbench_conv2d_fwd(&d, in, w, b, out, err, sizeof err));
    for (int i = 0; i < 6; i++) assert_float_equal(out[i], want[i], 1e-6);
    /* backward-data: gin(t, x) = gout(t, x) w0 + gout(t, x-1) w1 */
    const float gout[6] = {1, 0, 0, 0, 0, 1};
    const float gin_want[6] = {1, 10, 0, 10, 0, 1};
    float gin[6], gw[2], gb[1];
    assert_true(latbench_conv2d_bwd_data(&d, gout, w, gin, err, sizeof err));
    for (int i = 0; i < 6; i++) assert_float_equal(gin[i], gin_want[i], 1e-6);
    /* backward-weights: gw0 = sum in*gout = 1 + 6, gw1 = sum in(x+1)*gout = 2 + 4, gb = 2 */
    assert_true(latbench_conv2d_bwd_weights(&d, in, gout, gw, gb, err, sizeof err));
    assert_float_equal(gw[0], 7, 1e-6);
    assert_float_equal(gw[1], 6, 1e-6);
    assert_float_equal(gb[0], 2, 1e-6);
}

static void test_conv2d_refuses_a_bad_descriptor(void **s) {
    (void)s;
    latbench_conv2d_desc d = {.n = 1, .h = 4, .w = 4, .cin = 1, .cout = 1, .kh = 5, .kw = 1, .sh = 1, .sw = 1};
    float buf[64] = {0};
    assert_false(latbench_conv2d_fwd(&d, buf, buf, NULL, buf, err, sizeof err));
    assert_string_equal(err, "conv2d: kernel 5x1: each side must be 1..3");
    d.kh = 3, d.sw = 3;
    assert_false(latbench_conv2d_fwd(&d, buf, buf, NULL, buf, err, sizeof err));
    assert_non_null(strstr(err, "stride"));
    d.sw = 1, d.bias = 1;
    assert_false(latbench_conv2d_fwd(&d, buf, buf, NULL, buf, err, sizeof err)); /* bias without a tensor */
    assert_non_null(strstr(err, "NULL"));
    assert_int_equal(latbench_conv2d_out_size(&(latbench_conv2d_desc){0}), 0);
}

static void test_activations(void **s) {
    (void)s;
    float x[3] = {-2, 0, 3}, y[3];
    latbench_lrelu(3, 0.01f, x, y);
    assert_float_equal(y[0], -0.02f, 1e-7);
    assert_float_equal(y[2], 3, 0);
    latbench_sigmoid(3, x, y);
    assert_float_equal(y[1], 0.5f, 1e-7);
}

static void test_sampler_is_reproducible(void **s) {
    (void)s;
    latbench_sampler_params p = latbench_sampler_defaults();
    assert_int_equal(p.nt, 8);
    p.nt = 4, p.nx = 6, p.count = 6, p.chains = 2, p.therm = 16, p.seed = 7;
    enum { V = 4 * 4 * 6 };
    int16_t x1[6 * V], x2[6 * V];
    float y1[12], y2[12];
    memset(x1, 0x55, sizeof x1);
    assert_true(latbench_sample(&p, x1, y1, err, sizeof err));
    p.threads = 2;
    assert_true(latbench_sample(&p, x2, y2, err, sizeof err));
    assert_memory_equal(x1, x2, sizeof x1); /* the same configurations for any thread count */
    assert_memory_equal(y1, y2, sizeof y1);
    for (int i = 0; i < 6; i++) assert_true(y1[2 * i] >= 0 && y1[2 * i + 1] >= 0);
    bool written = false; /* every configuration was stored (the 0x55 fill is not a valid one) */
    for (int i = 0; i < 6 * V; i++) written |= x1[i] != 0x5555;
    assert_true(written);
    p.seed = 8;
    assert_true(latbench_sample(&p, x2, NULL, err, sizeof err));
    p.nt = 1;
    assert_false(latbench_sample(&p, x2, NULL, err, sizeof err));
    assert_string_equal(err, "sampler: lattice 1x6: each side must be 2..4096");
}

/* A model saved by the library (nn_model_save), loaded and run through the API: the same outputs as
 * the runtime's own forward pass. */
static void test_model_load_and_forward(void **s) {
    (void)s;
    const char *text = "conv 2x2 4 3\nlrelu\ngavgpool\nlinear 3 2\n";
    net_spec spec;
    assert_true(netspec_parse(text, &spec, err, sizeof err));
    nn_model *m = nn_model_create(&spec, 4, 4, 3, 1, false, err, sizeof err);
    assert_non_null(m);
    nn_model_init(m, 11);
    char path[] = "/tmp/latbench-api-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_true(nn_model_save(m, text, "4x4", NULL, NULL, 0, path, err, sizeof err));
    int16_t x[3 * 4 * 16];
    for (int i = 0; i < 3 * 4 * 16; i++) x[i] = (int16_t)((i * 7) % 5 - 2);
    nn_model_set_input(m, x, NULL, 3);
    const float *want = nn_model_forward(m, 3);
    latbench_model *am = latbench_model_load(path, NULL, 4, 4, 3, 1, err, sizeof err);
    if (!am) fail_msg("%s", err);
    assert_int_equal(latbench_model_outputs(am), 2);
    float y[6];
    assert_true(latbench_model_forward(am, x, 3, y, err, sizeof err));
    for (int i = 0; i < 6; i++) assert_float_equal(y[i], want[i], 1e-6);
    assert_false(latbench_model_forward(am, x, 4, y, err, sizeof err));
    assert_string_equal(err, "model forward: 4 samples, the model takes 1..3");
    latbench_model_free(am);
    /* the spec given explicitly must match the file's tensors */
    assert_null(latbench_model_load(path, "conv 1x1 4 3\nlrelu\ngavgpool\nlinear 3 2\n", 4, 4, 1, 1, err, sizeof err));
    assert_true(strlen(err) > 0);
    unlink(path);
    nn_model_free(m);
    assert_null(latbench_model_load("/nonexistent/m.safetensors", NULL, 4, 4, 1, 1, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/m.safetensors"));
}

/* ---- make install (tests/test_install.sh) ---- */

static char root[2048], build[256];

/* The source tree and the build directory (relative to it) of the binary under test. */
static bool find_tree(void) {
    const char *bin = getenv("LATBENCH_BIN");
    char path[2048];
    snprintf(path, sizeof path, "%s", bin && *bin ? bin : "");
    char *b = strstr(path, "/build/");
    if (!b || strchr(path, ' ')) return false;
    *b = 0;
    snprintf(root, sizeof root, "%s", path);
    snprintf(build, sizeof build, "%s", b + 1);
    char *slash = strrchr(build, '/');
    if (slash) *slash = 0;
    char mk[2100];
    snprintf(mk, sizeof mk, "%s/Makefile", root);
    return access(mk, R_OK) == 0;
}

static void test_make_install(void **s) {
    (void)s;
    if (!find_tree()) {
        print_message("NOTE install: not run: no source tree beside the binary under test (%s)\n",
                      getenv("LATBENCH_BIN") ? getenv("LATBENCH_BIN") : "LATBENCH_BIN unset");
        return;
    }
    if (strcmp(build, "build/release")) {
        print_message("NOTE install: make install is checked with build/release only (this is %s: its flags are "
                      "not the Makefile's defaults; the API itself is tested above)\n", build);
        return;
    }
    static cli_result R;
    char cmd[4500];
    snprintf(cmd, sizeof cmd, "'%s/tests/test_install.sh' '%s' '%s'", root, root, build);
    cli_sh(&R, cmd);
    print_message("%s", R.out);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "install: all checks passed"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_matches_the_header),
        cmocka_unit_test(test_dispatch_names_the_chosen_variants),
        cmocka_unit_test(test_conv2d_fwd_by_hand),
        cmocka_unit_test(test_conv2d_refuses_a_bad_descriptor),
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_sampler_is_reproducible),
        cmocka_unit_test(test_model_load_and_forward),
        cmocka_unit_test(test_make_install),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

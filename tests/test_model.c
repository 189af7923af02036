/* The model runtime (lib/nn/model.h), training (train.h) and model files (nnio.h, safetensors):
 * whole-model backward against finite differences, determinism, training that learns, round trips. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "lib/io/safetensors.h"
#include "lib/nn/fit.h"
#include "lib/nn/model.h"
#include "lib/nn/nnio.h"
#include "lib/nn/train.h"

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Random configurations (k in -2..2, l in 0..3) with labels y = [mean k_t, mean l_x / 3]
 * (regression) or y = [mean k_t > 0] (outs 1, detection-like). */
static void synth(nn_dataset *d, long n, int nt, int nx, int outs, uint64_t seed) {
    memset(d, 0, sizeof *d);
    d->n = n, d->nt = nt, d->nx = nx, d->outs = outs;
    const size_t hw = (size_t)nt * nx;
    d->x = malloc(n * 4 * hw * sizeof(int16_t));
    d->y = malloc(n * outs * sizeof(float));
    uint64_t s = seed;
    for (long i = 0; i < n; i++) {
        double kt = 0, lx = 0;
        for (int c = 0; c < 4; c++)
            for (size_t p = 0; p < hw; p++) {
                int v = c < 2 ? (int)(rng_next(&s) % 5) - 2 : (int)(rng_next(&s) % 4);
                d->x[(i * 4 + c) * hw + p] = (int16_t)v;
                if (c == 0) kt += v;
                if (c == 3) lx += v;
            }
        kt /= hw, lx /= hw;
        if (outs == 2) d->y[i * 2] = (float)kt, d->y[i * 2 + 1] = (float)(lx / 3);
        else d->y[i] = kt > 0 ? 1.0f : 0.0f;
    }
}

static nn_model *make(const char *text, int h, int w, int batch, int threads, bool train) {
    net_spec spec;
    char err[256];
    bool ok = netspec_parse(text, &spec, err, sizeof err);
    if (!ok) fprintf(stderr, "%s\n", err);
    assert_true(ok);
    nn_model *m = nn_model_create(&spec, h, w, batch, threads, train, err, sizeof err);
    if (!m) fprintf(stderr, "%s\n", err);
    assert_non_null(m);
    return m;
}

static void gradcheck(const char *text, int outs, int threads) {
    nn_dataset d;
    synth(&d, 5, 8, 8, outs, 7);
    nn_model *m = make(text, 8, 8, 5, threads, true);
    nn_model_init(m, 11);
    size_t np = nn_model_param_count(m);
    float *p = nn_model_params(m);
    nn_model_set_input(m, d.x, NULL, 5);
    nn_model_forward(m, 5);
    nn_model_backward(m, 5, d.y);
    float *g = malloc(np * sizeof(float));
    memcpy(g, nn_model_grads(m), np * sizeof(float));
    float gmax = 0;
    for (size_t i = 0; i < np; i++) gmax = fmaxf(gmax, fabsf(g[i]));
    assert_true(gmax > 0);
    const float h = 1e-3f;
    double worst = 0;
    for (size_t i = 0; i < np; i++) {
        float keep = p[i];
        p[i] = keep + h;
        nn_model_forward(m, 5);
        double lp = nn_model_loss(m, 5, d.y);
        p[i] = keep - h;
        nn_model_forward(m, 5);
        double lm = nn_model_loss(m, 5, d.y);
        p[i] = keep;
        double num = (lp - lm) / (2.0 * h);
        double e = fabs(num - g[i]) / (gmax + 1e-6);
        if (e > worst) worst = e;
    }
    printf("NOTE gradcheck (%d threads): max |fd - backward| / max|grad| = %.2e over %zu parameters\n", threads, worst, np);
    assert_true(worst < 2e-2);
    free(g);
    nn_model_free(m);
    nn_dataset_free(&d);
}

static void test_gradcheck_mse(void **s) {
    (void)s;
    gradcheck("conv 2x2 4 3\nlrelu\navgpool 2x2 2\nconv 3x3 3 4 /2\nlrelu\nflatten\nlinear 16 3\nlrelu\nlinear 3 2\n", 2, 1);
    gradcheck("conv* 1x1 4 5\nlrelu\nconv 2x2 5 4\nlrelu\ngavgpool\nlinear* 4 2\n", 2, 2);
}

static void test_gradcheck_bce(void **s) {
    (void)s;
    gradcheck("conv 2x2 4 5\nlrelu\nmaxpool 2x2 2\nconv* 1x1 5 3\nlrelu\ngmaxpool\nlinear 3 1\nsigmoid\n", 1, 2);
    gradcheck("conv* 3x3 4 3\nlrelu\ngsumpool\nlinear 3 1\nsigmoid\n", 1, 1);
}

static void train_once(const nn_dataset *d, uint64_t seed, int threads, float *params_out, size_t *np, float *val) {
    nn_model *m = make("conv 1x1 4 8\nlrelu\nconv 2x2 8 8\nlrelu\ngavgpool\nlinear 8 2\n", d->nt, d->nx, 50, threads, true);
    long *idx = malloc(d->n * sizeof(long));
    long nv = nn_train_split(d->n, 0.1, seed, idx);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 4;
    nn_train_result r;
    char err[256];
    nn_model_init(m, seed);
    assert_true(nn_train_run(m, d, idx, d->n - nv, idx + d->n - nv, nv, &o, seed, &r, err, sizeof err));
    *np = nn_model_param_count(m);
    memcpy(params_out, nn_model_params(m), *np * sizeof(float));
    *val = r.best_val;
    free(idx);
    nn_model_free(m);
}

static void test_determinism(void **s) {
    (void)s;
    nn_dataset d;
    synth(&d, 300, 8, 8, 2, 3);
    float a[4096], b[4096], c[4096], va, vb, vc;
    size_t na, nb, nc;
    train_once(&d, 5, 1, a, &na, &va);
    train_once(&d, 5, 1, b, &nb, &vb);
    train_once(&d, 6, 1, c, &nc, &vc);
    assert_true(na == nb && na < 4096);
    assert_memory_equal(a, b, na * sizeof(float));
    assert_true(va == vb);
    assert_true(memcmp(a, c, na * sizeof(float)) != 0);
    /* Two threads: reproducible too (fixed reduction order). */
    train_once(&d, 5, 2, a, &na, &va);
    train_once(&d, 5, 2, b, &nb, &vb);
    assert_memory_equal(a, b, na * sizeof(float));
    nn_dataset_free(&d);
}

static void test_training_reduces_loss(void **s) {
    (void)s;
    nn_dataset d;
    synth(&d, 1000, 6, 6, 2, 9);
    nn_model *m = make("conv 1x1 4 16\nlrelu\nconv 2x2 16 8\nlrelu\ngavgpool\nlinear 8 2\n", 6, 6, 100, 2, true);
    long *idx = malloc(d.n * sizeof(long));
    long nv = nn_train_split(d.n, 0.1, 1, idx);
    assert_int_equal(nv, 100);
    nn_model_init(m, 1);
    double before = nn_eval_loss(m, &d, idx + d.n - nv, nv, NULL);
    nn_train_opts o = nn_train_defaults();
    o.epochs = 30, o.patience = 5;
    nn_train_result r;
    char err[256];
    assert_true(nn_train_run(m, &d, idx, d.n - nv, idx + d.n - nv, nv, &o, 1, &r, err, sizeof err));
    double after = nn_eval_loss(m, &d, idx + d.n - nv, nv, NULL);
    printf("NOTE training: validation MSE %.4g -> %.4g (best epoch %d of %d, %.0f samples/s)\n", before, after,
           r.best_epoch, r.epochs_run, r.samples_per_s);
    assert_true(after < 0.1 * before);
    assert_true(fabs(after - r.best_val) <= 1e-6 * fabs(after) + 1e-9); /* the best weights were kept */
    free(idx);
    nn_model_free(m);
    nn_dataset_free(&d);
}

static void test_safetensors_round_trip(void **s) {
    (void)s;
    const char *text = "conv 2x2 4 3\nlrelu\nconv* 3x1 3 5\ngsumpool\nlinear 5 2\n";
    nn_model *m = make(text, 8, 8, 4, 1, false);
    nn_model_init(m, 3);
    char path[] = "/tmp/latbench-st-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    const char *k[] = {"lr"}, *v[] = {"0.01"};
    assert_true(nn_model_save(m, text, "8x8", k, v, 1, path, err, sizeof err));
    io_st_file f;
    assert_true(io_safetensors_read(path, &f, err, sizeof err));
    assert_string_equal(io_safetensors_meta(&f, "spec"), text);
    assert_string_equal(io_safetensors_meta(&f, "lattice"), "8x8");
    assert_string_equal(io_safetensors_meta(&f, "lr"), "0.01");
    assert_string_equal(io_safetensors_meta(&f, "format"), "latbench-model-1");
    /* PyTorch layout: conv weight [cout][cin][kh][kw]. */
    const io_st_tensor *w0 = io_safetensors_find(&f, "0.weight");
    assert_non_null(w0);
    assert_int_equal(w0->ndim, 4);
    assert_true(w0->shape[0] == 3 && w0->shape[1] == 4 && w0->shape[2] == 2 && w0->shape[3] == 2);
    const float *p = nn_model_params(m);
    /* ours [kh][kw][cin][cout]: element (a=1, b=0, ci=2, co=1) */
    assert_true(w0->data[((1 * 4 + 2) * 2 + 1) * 2 + 0] == p[((1 * 2 + 0) * 4 + 2) * 3 + 1]);
    assert_null(io_safetensors_find(&f, "2.bias"));
    const io_st_tensor *w4 = io_safetensors_find(&f, "4.weight");
    assert_true(w4 && w4->ndim == 2 && w4->shape[0] == 2 && w4->shape[1] == 5);
    nn_model *m2 = make(text, 16, 4, 2, 1, false);
    assert_true(nn_model_load_params(m2, &f, err, sizeof err));
    assert_int_equal(nn_model_param_count(m2), nn_model_param_count(m));
    assert_memory_equal(nn_model_params(m2), p, nn_model_param_count(m) * sizeof(float));
    io_safetensors_free(&f);
    /* A truncated file is refused with a reason. */
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(ftruncate(fileno(fp), 40), 0);
    fclose(fp);
    assert_false(io_safetensors_read(path, &f, err, sizeof err));
    assert_non_null(strstr(err, "not a valid safetensors file"));
    unlink(path);
    nn_model_free(m);
    nn_model_free(m2);
}

static void test_fl_net_refuses_other_lattice(void **s) {
    (void)s;
    net_spec spec;
    char err[256];
    assert_true(netspec_parse(netspec_preset("task3-fl1"), &spec, err, sizeof err));
    nn_model *m = nn_model_create(&spec, 8, 8, 4, 1, false, err, sizeof err);
    assert_non_null(m);
    nn_model_free(m);
    assert_null(nn_model_create(&spec, 16, 16, 4, 1, false, err, sizeof err));
    assert_non_null(strstr(err, "linear expects 32 inputs"));
    assert_true(netspec_parse(netspec_preset("task3-eq1"), &spec, err, sizeof err));
    m = nn_model_create(&spec, 64, 64, 2, 1, false, err, sizeof err);
    assert_non_null(m);
    nn_model_free(m);
}

/* On more than one slice the model runs its per-sample layers slice by slice in one OpenMP region
 * per pass (model.c, slice_prefix); with a profile attached it runs them op by op, one region per
 * op.  Both must give the same bits: outputs, loss and every gradient, whatever the net (fused and
 * plain lrelu, pools, global pools, stride 2, bias or none, a dense head, a fused sigmoid) and for
 * uneven slices. */
static void sliced_vs_op_by_op(const char *text, int outs, int h, int w, int n, int threads) {
    nn_dataset d;
    synth(&d, n, h, w, outs, 5);
    nn_model *a = make(text, h, w, n, threads, true), *b = make(text, h, w, n, threads, true);
    nn_model_init(a, 9), nn_model_init(b, 9);
    nn_profile prof;
    memset(&prof, 0, sizeof prof);
    nn_model_attach_profile(b, &prof);
    const size_t np = nn_model_param_count(a);
    for (int step = 0; step < 2; step++) {
        nn_model_set_input(a, d.x, NULL, n), nn_model_set_input(b, d.x, NULL, n);
        const float *ya = nn_model_forward(a, n), *yb = nn_model_forward(b, n);
        assert_memory_equal(ya, yb, (size_t)n * outs * sizeof(float));
        const float la = nn_model_backward(a, n, d.y), lb = nn_model_backward(b, n, d.y);
        assert_memory_equal(&la, &lb, sizeof la);
        assert_memory_equal(nn_model_grads(a), nn_model_grads(b), np * sizeof(float));
        float gmax = 0;
        for (size_t i = 0; i < np; i++) gmax = fmaxf(gmax, fabsf(nn_model_grads(a)[i]));
        assert_true(gmax > 0);
        /* a second step from other parameters (the transposed weights must follow them) */
        for (size_t i = 0; i < np; i++) nn_model_params(a)[i] = nn_model_params(b)[i] -= 0.1f * nn_model_grads(a)[i];
    }
    nn_model_free(a), nn_model_free(b);
    nn_dataset_free(&d);
}

static void test_sliced_equals_op_by_op(void **s) {
    (void)s;
    const char *nets[] = {
        netspec_preset("task3-eq1"),
        "conv 2x2 4 3\nlrelu\navgpool 2x2 2\nconv 3x3 3 4 /2\nlrelu\nflatten\nlinear 16 3\nlrelu\nlinear 3 2\n",
        "conv 2x2 4 5\nlrelu\nmaxpool 2x2 2\nconv* 1x1 5 3\nlrelu\ngmaxpool\nlinear 3 1\nsigmoid\n",
        "conv* 1x1 4 5\nlrelu\nconv 2x2 5 4\ngavgpool\nlinear* 4 2\n",
        "conv 2x2 4 6\nlrelu\nconv 3x3 6 2 /2\nlrelu\ngsumpool\n", /* nothing after the sliced layers */
    };
    const int outs[] = {1, 2, 1, 2, 2};
    for (int k = 0; k < 5; k++) {
        sliced_vs_op_by_op(nets[k], outs[k], 8, 8, 7, 2);
        sliced_vs_op_by_op(nets[k], outs[k], 8, 8, 7, 3);
    }
}

/* nn_fit with a validation set of its own (o.val_data, latbench search --validate counts): every
 * training sample trains, and each trial's value is the loss of its kept weights on that set, not
 * on a split of the training set; a set of another lattice or label count is refused. */
typedef struct {
    const nn_dataset *d, *v;
    nn_fit_info info;
    double on_val, on_train;
    float best;
} fit_val_ctx;

static void fit_val_start(void *ctx, const nn_fit_info *info) { ((fit_val_ctx *)ctx)->info = *info; }

static bool fit_val_trial(void *ctx, int trial, nn_model *m, const nn_train_result *r, char *err, size_t errlen) {
    (void)trial, (void)err, (void)errlen;
    fit_val_ctx *c = ctx;
    c->on_val = nn_eval_loss(m, c->v, NULL, c->v->n, NULL);
    c->on_train = nn_eval_loss(m, c->d, NULL, c->d->n, NULL);
    c->best = r->best_val;
    return true;
}

static void test_fit_own_validation_set(void **s) {
    (void)s;
    nn_dataset d, v, v1;
    synth(&d, 200, 8, 8, 2, 3);
    synth(&v, 40, 8, 8, 2, 4);
    /* the held-out labels shifted: a loss on them differs from any on the training set's samples */
    for (long i = 0; i < v.n * 2; i++) v.y[i] += 0.5f;
    const char *text = "conv 1x1 4 8\nlrelu\ngavgpool\nlinear 8 2\n";
    net_spec spec;
    char err[256];
    assert_true(netspec_parse(text, &spec, err, sizeof err));
    fit_val_ctx c = {.d = &d, .v = &v};
    nn_fit_job j = {.name = "net", .data_name = "the data", .spec = &spec, .spec_text = text, .d = &d, .batch = 20,
                    .threads = 1, .trials = 1, .o = nn_train_defaults(), .on_start = fit_val_start,
                    .on_trial = fit_val_trial, .ctx = &c};
    j.o.epochs = 3, j.o.val_data = &v;
    nn_fit_result r;
    assert_true(nn_fit(&j, &r, err, sizeof err));
    assert_int_equal(c.info.n_train, 200);
    assert_int_equal(c.info.n_val, 40);
    assert_true(fabs(c.on_val - c.best) <= 1e-5 * fabs(c.on_val) + 1e-7);
    assert_true(c.on_val > c.on_train + 0.1); /* the shift of 0.5 costs about 0.25 on the held-out set */
    assert_true(fabsf(r.best_val - c.best) == 0);
    synth(&v1, 40, 8, 8, 1, 4);
    j.o.val_data = &v1;
    assert_false(nn_fit(&j, &r, err, sizeof err));
    assert_non_null(strstr(err, "validation set"));
    nn_dataset_free(&d), nn_dataset_free(&v), nn_dataset_free(&v1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcheck_mse),          cmocka_unit_test(test_gradcheck_bce),
        cmocka_unit_test(test_determinism),            cmocka_unit_test(test_fit_own_validation_set),            cmocka_unit_test(test_training_reduces_loss),
        cmocka_unit_test(test_safetensors_round_trip), cmocka_unit_test(test_fl_net_refuses_other_lattice),
        cmocka_unit_test(test_sliced_equals_op_by_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

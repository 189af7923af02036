/* The pipeline benchmarks: the model runtime's per-layer profile (bit-identical results, times
 * that add up, FLOPs that match the counts), `latbench bench`'s pipeline records, and the PyTorch
 * baseline script on its own. */
#include "tests/test_util.h"
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "arch/registry.h"
#include "lib/nn/model.h"
#include "lib/nn/netspec.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static nn_model *make_model(const char *preset, int h, int w, int batch, int threads) {
    net_spec spec;
    char err[256];
    assert_true(netspec_parse(netspec_preset(preset), &spec, err, sizeof err));
    nn_model *m = nn_model_create(&spec, h, w, batch, threads, true, err, sizeof err);
    if (!m) fail_msg("%s on %dx%d: %s", preset, h, w, err);
    nn_model_init(m, 7);
    return m;
}

typedef struct {
    int16_t *x;
    float *y, *opt; /* opt: AdamW state m, v, vmax */
    float losses[8];
} train_data;

static void data_alloc(train_data *d, const nn_model *m, int h, int w, int batch) {
    const size_t nx = (size_t)batch * 4 * h * w, ny = (size_t)batch * nn_model_outputs(m);
    d->x = malloc(nx * sizeof(int16_t));
    d->y = malloc(ny * sizeof(float));
    d->opt = calloc(3 * nn_model_param_count(m), sizeof(float));
    assert_non_null(d->x), assert_non_null(d->y), assert_non_null(d->opt);
    uint32_t s = 99;
    for (size_t i = 0; i < nx; i++) s = s * 1664525u + 1013904223u, d->x[i] = (int16_t)((s >> 16) % 5) - 2;
    for (size_t i = 0; i < ny; i++) s = s * 1664525u + 1013904223u, d->y[i] = (float)(s >> 8) * (1.0f / 16777216.0f);
}

static void data_free(train_data *d) {
    free(d->x), free(d->y), free(d->opt);
}

/* `steps` full training steps on the same batch, as the pipeline benchmark runs them. */
static void train_steps(nn_model *m, train_data *d, int batch, int steps) {
    optim_adamw_params hp = optim_adamw_defaults();
    const size_t np = nn_model_param_count(m);
    for (int s = 0; s < steps; s++) {
        nn_model_set_input(m, d->x, NULL, batch);
        nn_model_forward(m, batch);
        d->losses[s] = nn_model_backward(m, batch, d->y);
        hp.step++;
        nn_profile *p = nn_model_profile(m);
        double t0 = now_s();
        lb_dispatch_get()->optim->adamw_step(&hp, np, nn_model_params(m), nn_model_grads(m), d->opt, d->opt + np,
                                             d->opt + 2 * np);
        if (p) nn_prof_add(&p->optim, now_s() - t0, 0);
    }
}

/* The profile only reads the clock: parameters, gradients, outputs and losses are bit-identical
 * with and without it, on nets with pools, a fused sigmoid, bias-free layers, and 1 and 2 threads. */
static void test_profile_bit_identical(void **state) {
    (void)state;
    static const struct { const char *net; int h, w; } cases[] = {
        {"task1-st", 8, 8}, {"task2-st", 8, 8}, {"task3-eq1", 8, 8}, {"task1-fl", 60, 4}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
        for (int threads = 1; threads <= 2; threads++) {
            const int h = cases[ci].h, w = cases[ci].w, batch = 12, steps = 3;
            nn_model *a = make_model(cases[ci].net, h, w, batch, threads), *b = make_model(cases[ci].net, h, w, batch, threads);
            train_data da, db;
            data_alloc(&da, a, h, w, batch), data_alloc(&db, b, h, w, batch);
            nn_profile prof;
            memset(&prof, 0, sizeof prof);
            nn_model_attach_profile(b, &prof);
            assert_ptr_equal(nn_model_profile(b), &prof);
            assert_null(nn_model_profile(a));
            train_steps(a, &da, batch, steps), train_steps(b, &db, batch, steps);
            const size_t np = nn_model_param_count(a), no = (size_t)batch * nn_model_outputs(a);
            assert_memory_equal(nn_model_params(a), nn_model_params(b), np * sizeof(float));
            assert_memory_equal(nn_model_grads(a), nn_model_grads(b), np * sizeof(float));
            assert_memory_equal(da.losses, db.losses, steps * sizeof(float));
            nn_model_set_input(a, da.x, NULL, batch), nn_model_set_input(b, db.x, NULL, batch);
            const float *oa = nn_model_forward(a, batch), *ob = nn_model_forward(b, batch);
            assert_memory_equal(oa, ob, no * sizeof(float));
            assert_int_equal(prof.layer[0][LB_PASS_FWD].calls, steps + 1);
            /* detached: nothing more is recorded */
            nn_model_attach_profile(b, NULL);
            nn_model_forward(b, batch);
            assert_int_equal(prof.layer[0][LB_PASS_FWD].calls, steps + 1);
            data_free(&da), data_free(&db);
            nn_model_free(a), nn_model_free(b);
        }
}

/* Per-layer times are positive where a pass runs, absent where it does not, and with the input,
 * loss and optimizer cells sum to no more than the wall time of the steps; FLOPs match the counts. */
static void test_profile_sums(void **state) {
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        const int h = 8, w = 8, batch = 32, steps = 4;
        nn_model *m = make_model("task1-st", h, w, batch, threads);
        train_data d;
        data_alloc(&d, m, h, w, batch);
        train_steps(m, &d, batch, 1); /* warm-up, unprofiled */
        nn_profile prof;
        memset(&prof, 0, sizeof prof);
        nn_model_attach_profile(m, &prof);
        double t0 = now_s();
        train_steps(m, &d, batch, steps);
        double wall = now_s() - t0;
        nn_model_attach_profile(m, NULL);
        const int nl = nn_model_layers(m);
        double sum = prof.input.seconds, flops = 0;
        for (int i = 0; i < nl; i++) {
            const layer_spec *L = nn_model_layer(m, i);
            const bool weights = L->kind == LAYER_CONV || L->kind == LAYER_LINEAR;
            for (int p = 0; p < LB_N_PASSES; p++) {
                const nn_prof_cell *c = &prof.layer[i][p];
                /* a lrelu after a conv runs inside the conv: no cells of its own */
                bool runs = !nn_model_layer_fused(m, i) &&
                            (p == LB_PASS_FWD || (p == LB_PASS_BWD_DATA && i > 0) || (p == LB_PASS_BWD_WEIGHTS && weights));
                if (runs) {
                    if (c->calls != steps || !(c->seconds > 0))
                        fail_msg("layer %d pass %d: %ld calls, %g s (want %d calls, > 0 s)", i, p, c->calls, c->seconds, steps);
                } else {
                    assert_int_equal(c->calls, 0);
                    assert_true(c->seconds == 0);
                }
                assert_true(fabs(c->flops - c->calls * nn_model_layer_flops(m, i, (lb_pass)p, batch)) <= 1e-9 * (c->flops + 1));
                sum += c->seconds;
                flops += c->flops;
            }
        }
        for (const nn_prof_cell *c = &prof.input; c <= &prof.optim; c++) {
            assert_int_equal(c->calls, steps);
            assert_true(c->seconds > 0);
        }
        sum += prof.loss.seconds + prof.optim.seconds;
        assert_true(fabs(nn_profile_kernel_seconds(&prof, nl) + prof.input.seconds - sum) <= 1e-12 + 1e-9 * sum);
        if (!(sum <= wall)) fail_msg("profiled cells %.9g s > wall %.9g s", sum, wall);
        double want = nn_model_flops_train(m) * batch * steps;
        assert_true(fabs(flops - want) <= 1e-9 * want);
        data_free(&d);
        nn_model_free(m);
    }
}

/* The FLOP counts: task1-eq on 8x8, by hand (2*MACs per pass; gavgpool and lrelu count 0). */
static void test_flop_counts(void **state) {
    (void)state;
    nn_model *m = make_model("task1-eq", 8, 8, 4, 1);
    const double convs = 2.0 * 64 * (4 * 64 + 64 * 48 + 48 * 80 + 4 * 80 * 80), lin = 2.0 * 80 * 2;
    assert_true(nn_model_flops_fwd(m) == convs + lin);
    /* backward-weights of every layer, backward-data of all but the first conv (4 -> 64, 1x1) */
    assert_true(nn_model_flops_train(m) == 3 * (convs + lin) - 2.0 * 64 * 4 * 64);
    assert_true(nn_model_layer_flops(m, 0, LB_PASS_BWD_DATA, 4) == 0);
    assert_true(nn_model_layer_flops(m, 1, LB_PASS_FWD, 4) == 0); /* lrelu */
    assert_true(nn_model_layer_flops(m, 6, LB_PASS_BWD_DATA, 4) == 4 * 2.0 * 64 * 4 * 80 * 80);
    nn_model_free(m);
}

/* ---- the command line and the script ---- */

static const char *python_bin(void) {
    const char *p = getenv("LATBENCH_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

static bool have_torch(void) {
    char cmd[512];
    cli_result r;
    snprintf(cmd, sizeof cmd, "%s -c 'import torch'", python_bin());
    cli_sh(&r, cmd);
    return r.status == 0;
}

static const json_t *find_record(const json_t *root, const char *name) {
    const json_t *b = json_object_get(root, "benchmarks"), *rec;
    size_t i;
    json_array_foreach(b, i, rec) {
        const char *n = json_string_value(json_object_get(rec, "run_name"));
        const char *agg = json_string_value(json_object_get(rec, "aggregate_name"));
        if (n && !strcmp(n, name) && agg && !strcmp(agg, "median")) return rec;   /* where latbench's fields are */
    }
    return NULL;
}

static double num(const json_t *rec, const char *key) {
    const json_t *v = json_object_get(rec, key);
    if (!json_is_number(v)) fail_msg("record field %s missing or not a number", key);
    return json_number_value(v);
}

static void test_bench_pipeline_records(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("bench pipeline records");
    char path[] = "/tmp/latbench-test-pipeline-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char args[512];
    /* --nets picks the pipelines' nets: with --filter pipeline/train, task3-eq1's training alone */
    snprintf(args, sizeof args, "bench --filter pipeline/train --nets task3-eq1 --quick --threads 1 --json %s", path);
    static cli_result r;
    cli_latbench(&r, NULL, args);
    if (r.status != 0) fail_msg("latbench %s: exit %d\n%s", args, r.status, r.out);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) fail_msg("%s: %s", path, jerr.text);
    const json_t *rec = find_record(root, "pipeline/train/task3-eq1/8x8/mb128/threads:1");
    if (!rec) fail_msg("no pipeline/train/task3-eq1/8x8/mb128/threads:1 record; output:\n%s", r.out);
    /* the filter and --nets selected this pipeline alone */
    const json_t *b = json_object_get(root, "benchmarks"), *any;
    size_t i;
    json_array_foreach(b, i, any) assert_string_equal(json_string_value(json_object_get(any, "run_name")),
                                                       "pipeline/train/task3-eq1/8x8/mb128/threads:1");
    double t = num(rec, "real_time"), sps = num(rec, "samples_per_s"), gf = num(rec, "GFLOPS");
    assert_true(t > 0 && sps > 0 && gf > 0);
    assert_true(fabs(sps - 128 / (t * 1e-9)) <= 1e-6 * sps);
    assert_true(fabs(gf - num(rec, "flops") / t) <= 1e-6 * gf);
    double pct = num(rec, "pct_fma_peak");
    assert_true(pct > 0 && pct < 150);
    double share = num(rec, "outside_kernels_share");
    assert_true(share > -0.2 && share < 1); /* noise can make the profiled block's kernels exceed its mean */
    assert_string_equal(json_string_value(json_object_get(rec, "time_unit")), "ns");
    assert_true(num(rec, "cpu_time") > 0);   /* the process's CPU time per step, measured */
    assert_int_equal(json_array_size(json_object_get(rec, "samples")), (size_t)num(rec, "repetitions"));
    const json_t *layers = json_object_get(rec, "layers");
    assert_true(json_is_array(layers));
    assert_int_equal(json_array_size(layers), 10); /* task3-eq1: 4 x (conv, lrelu), gsumpool, linear */
    const json_t *l0 = json_array_get(layers, 0), *l2 = json_array_get(layers, 2);
    assert_true(num(l0, "fwd_time") > 0 && num(l0, "bwd_weights_time") > 0);
    assert_null(json_object_get(l0, "bwd_data_time")); /* the input needs no gradient */
    /* layer 1 (lrelu) runs inside the conv before it: marked, no times */
    const json_t *l1 = json_array_get(layers, 1);
    assert_non_null(json_object_get(l1, "fused_into"));
    assert_null(json_object_get(l1, "fwd_time"));
    assert_true(num(l2, "fwd_time") > 0 && num(l2, "bwd_data_time") > 0 && num(l2, "bwd_weights_time") > 0);
    if (have_torch()) {
        assert_true(num(rec, "torch_samples_per_s") > 0);
        assert_true(fabs(num(rec, "ratio_vs_torch") - sps / num(rec, "torch_samples_per_s")) <= 1e-6 * sps);
    } else {
        printf("NOTE %s has no torch: the PyTorch fields were not checked\n", python_bin());
        assert_null(json_object_get(rec, "torch_samples_per_s"));
        assert_non_null(strstr(r.out, "no PyTorch"));
    }
    json_decref(root);
    unlink(path);
}

/* Without python the pipelines run alone, with one line saying so. */
static void test_bench_pipeline_without_torch(void **state) {
    (void)state;
    static cli_result r;
    cli_latbench(&r, "LATBENCH_PYTHON=/nonexistent/python3",
                 "bench --filter pipeline/train/task3-eq1 --quick --threads 1 --no-json");
    if (r.status != 0) fail_msg("exit %d\n%s", r.status, r.out);
    /* "no PyTorch (cannot run /nonexistent/python3 ...)"; under qemu-user the failed exec shows as
     * the python process ending */
    assert_non_null(strstr(r.out, "no PyTorch ("));
    assert_non_null(strstr(r.out, "pipeline/train/task3-eq1/8x8/mb128/threads:1"));
}

static void test_bench_pipeline_bad_option(void **state) {
    (void)state;
    static cli_result r;
    cli_latbench(&r, NULL, "bench --pipeline-batch 0 --no-json");
    assert_int_equal(r.status, 2);
    assert_int_equal(r.lines, 1);
    assert_non_null(strstr(r.out, "--pipeline-batch"));
}

static void test_torch_script_alone(void **state) {
    (void)state;
    if (!have_torch()) {
        printf("NOTE %s has no torch: torch_pipeline.py not run\n", python_bin());
        return;
    }
    static cli_result r;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s tools/bench/torch_pipeline.py --reps 2 --min-time 0 train:task3-eq1:8x8:8:1 infer:task1-eq:8x8:4:1",
             python_bin());
    cli_sh(&r, cmd);
    if (r.status != 0) fail_msg("%s: exit %d\n%s", cmd, r.status, r.out);
    json_error_t jerr;
    json_t *root = json_loads(r.out, 0, &jerr);
    if (!root) fail_msg("not JSON (%s):\n%s", jerr.text, r.out);
    const json_t *jobs = json_object_get(root, "jobs");
    assert_int_equal(json_array_size(jobs), 2);
    for (size_t i = 0; i < 2; i++) {
        const json_t *j = json_array_get(jobs, i);
        assert_true(num(j, "samples_per_s") > 0);
        assert_int_equal((int)num(j, "reps"), 2);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(jobs, 1), "kind")), "infer");
    json_decref(root);
    /* a bad job: one line and exit 2 */
    snprintf(cmd, sizeof cmd, "%s tools/bench/torch_pipeline.py train:no-such-net:8x8:8:1", python_bin());
    cli_sh(&r, cmd);
    assert_int_equal(r.status, 2);
    assert_int_equal(r.lines, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_bit_identical), cmocka_unit_test(test_profile_sums),
        cmocka_unit_test(test_flop_counts),           cmocka_unit_test(test_bench_pipeline_records),
        cmocka_unit_test(test_bench_pipeline_without_torch), cmocka_unit_test(test_bench_pipeline_bad_option),
        cmocka_unit_test(test_torch_script_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* latbench models in PyTorch and back (python/latbench_torch.py, driven by tests/torch_interop.py):
 *  - every preset built in PyTorch and saved with the helper: `latbench eval --predictions` equals
 *    PyTorch's forward on the same configurations (max abs diff <= 1e-5 x max(1, |outputs|));
 *  - the reverse: a model `latbench train` wrote, loaded by the helper: PyTorch's forward equals
 *    latbench's predictions;
 *  - a plain state_dict (no latbench metadata) is refused without --spec, with a line naming --spec,
 *    and accepted with --spec (a preset or a spec file);
 *  - the same for the other commands that read a model file (model NAME, train --model): the net of
 *    the state_dict from --spec, refused without it, and --spec refused with a name that is no model file;
 *  - a wrong --spec, or a state_dict with other module indices, is refused with one line naming the
 *    tensor and its expected shape, exit 2.
 * Fails (does not skip) when /usr/bin/python3 cannot import torch: `make test` installs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/nn/netspec.h"
#include "tests/torch_fixture.h"

static char tmpdir[256];
static cli_result R;


/* The dataset a preset runs on: its outputs (task 1: 2, else 1) and lattice (task1-fl: 60x4). */
static const char *data_for(const char *preset) {
    return !strcmp(preset, "task1-fl") ? "reg60" : !strncmp(preset, "task1", 5) ? "reg8" : "det8";
}

/* "/usr/bin/python3 tests/torch_interop.py " with the script beside this source file. */
static void py(char *buf, size_t n, const char *args) {
    const char *f = __FILE__, *slash = strrchr(f, '/');
    snprintf(buf, n, "/usr/bin/python3 %.*storch_interop.py %s", slash ? (int)(slash - f + 1) : 0, f, args);
}

static int setup(void **state) {
    (void)state;
    return torch_fixture_setup(&R, tmpdir, sizeof tmpdir, "latbench-interop-", 24, 32);
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

/* latbench eval MODEL on DATA with --predictions PRED (extra: more options); the exit status. */
static int eval_pred(const char *model, const char *data, const char *pred, const char *extra) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "eval --model %.500s --data %s/%s --predictions %.500s --threads 2 %.1000s", model, tmpdir, data, pred,
             extra ? extra : "");
    cli_latbench(&R, NULL, cmd);
    if (R.status != 0) printf("eval %s: %s", model, R.out);
    return R.status;
}

/* Runs the compare of tests/torch_interop.py over jobs ("MODEL:DATA:PRED[:PRESET] ..."). */
static void py_compare(const char *jobs) {
    char cmd[8192], args[7800];
    snprintf(args, sizeof args, "compare 1e-5 %s", jobs);
    py(cmd, sizeof cmd, args);
    cli_sh(&R, cmd);
    printf("%s", R.out);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "interop ok"));
}

/* PyTorch -> latbench: every preset built and saved by the helper, evaluated by latbench. */
static void test_presets_torch_to_latbench(void **s) {
    (void)s;
    char cmd[4096], args[2048] = "", jobs[7000] = "", m[512], p[512];
    int n_presets;
    const char *const *presets = netspec_preset_names(&n_presets);   /* every preset the library knows */
    int at = snprintf(args, sizeof args, "export %s", tmpdir);
    for (int i = 0; i < n_presets; i++) at += snprintf(args + at, sizeof args - (size_t)at, " %s", presets[i]);
    py(cmd, sizeof cmd, args);
    cli_sh(&R, cmd);
    if (R.status != 0) printf("%s", R.out);
    assert_int_equal(R.status, 0);
    at = 0;
    for (int i = 0; i < n_presets; i++) {
        snprintf(m, sizeof m, "%s/%s.safetensors", tmpdir, presets[i]);
        snprintf(p, sizeof p, "%s/%s.pred.npy", tmpdir, presets[i]);
        assert_int_equal(eval_pred(m, data_for(presets[i]), p, NULL), 0);
        at += snprintf(jobs + at, sizeof jobs - (size_t)at, " %s:%s/%s:%s", m, tmpdir, data_for(presets[i]), p);
    }
    py_compare(jobs);
}

/* latbench -> PyTorch: a model latbench trained (one epoch), loaded by the helper. */
static void test_trained_latbench_to_torch(void **s) {
    (void)s;
    static const char *const nets[] = {"task2-eq", "task1-fl", "task3-st3"};
    char cmd[1024], m[512], p[512], jobs[4096] = "";
    int at = 0;
    for (int i = 0; i < 3; i++) {
        snprintf(m, sizeof m, "%s/trained-%s.safetensors", tmpdir, nets[i]);
        snprintf(p, sizeof p, "%s/trained-%s.pred.npy", tmpdir, nets[i]);
        snprintf(cmd, sizeof cmd, "train --model %s --data %s/%s --epochs 1 --batch 8 --threads 2 --quiet --out %s",
                 nets[i], tmpdir, data_for(nets[i]), m);
        cli_latbench(&R, NULL, cmd);
        if (R.status != 0) printf("%s", R.out);
        assert_int_equal(R.status, 0);
        assert_int_equal(eval_pred(m, data_for(nets[i]), p, NULL), 0);
        at += snprintf(jobs + at, sizeof jobs - (size_t)at, " %s:%s/%s:%s", m, tmpdir, data_for(nets[i]), p);
    }
    py_compare(jobs);
}

/* One line on stderr+stdout, exit 2, containing each of the needles. */
static void assert_refused(const char *needle1, const char *needle2) {
    printf("refused (exit %d): %s", R.status, R.out);
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, needle1));
    if (needle2) assert_non_null(strstr(R.out, needle2));
}

/* A state_dict without metadata: refused without --spec, accepted with a preset or a spec file. */
static void test_state_dict_with_spec(void **s) {
    (void)s;
    char cmd[2048], a[1024], sd[512], p[512], specf[512], jobs[2048];
    snprintf(sd, sizeof sd, "%s/sd-task1-eq.safetensors", tmpdir);
    snprintf(p, sizeof p, "%s/sd.pred.npy", tmpdir);
    snprintf(a, sizeof a, "statedict task1-eq %s", sd);
    py(cmd, sizeof cmd, a);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 0);
    snprintf(cmd, sizeof cmd, "eval --model %s --data %s/reg8", sd, tmpdir);
    cli_latbench(&R, NULL, cmd);
    assert_refused("no model spec in its metadata", "--spec");
    assert_int_equal(access(p, F_OK), -1); /* nothing written by a refused run */
    assert_int_equal(eval_pred(sd, "reg8", p, "--spec task1-eq"), 0);
    snprintf(jobs, sizeof jobs, "%s:%s/reg8:%s:task1-eq", sd, tmpdir, p);
    py_compare(jobs);
    /* the spec as a file: the same predictions */
    snprintf(specf, sizeof specf, "%s/task1-eq.spec", tmpdir);
    snprintf(cmd, sizeof cmd, "printf 'conv 1x1 4 64\\nlrelu\\nconv 1x1 64 48\\nlrelu\\nconv 1x1 48 80\\nlrelu\\n"
             "conv 2x2 80 80  # comments and blank lines are not layers\\n\\nlrelu\\ngavgpool\\nlinear 80 2\\n' > %s", specf);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 0);
    snprintf(a, sizeof a, "--spec %s", specf);
    snprintf(p, sizeof p, "%s/sd2.pred.npy", tmpdir);
    assert_int_equal(eval_pred(sd, "reg8", p, a), 0);
    snprintf(cmd, sizeof cmd, "cmp %s/sd.pred.npy %s", tmpdir, p);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 0);
}

/* model and train read a state_dict through --spec as eval does (one helper): refused without it. */
static void test_state_dict_model_train(void **s) {
    (void)s;
    char cmd[2048], a[1024], sd[512], out[512];
    snprintf(sd, sizeof sd, "%s/sd-mt.safetensors", tmpdir);
    snprintf(out, sizeof out, "%s/sd-mt-trained.safetensors", tmpdir);
    snprintf(a, sizeof a, "statedict task1-eq %s", sd);
    py(cmd, sizeof cmd, a);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 0);
    snprintf(cmd, sizeof cmd, "model %s", sd);
    cli_latbench(&R, NULL, cmd);
    assert_refused("no model spec in its metadata", "--spec");
    snprintf(cmd, sizeof cmd, "model %s --spec task1-eq", sd);
    cli_latbench(&R, NULL, cmd);
    printf("%s", R.out);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "net of --spec"));
    assert_non_null(strstr(R.out, "parameters: "));
    snprintf(cmd, sizeof cmd, "model %s --spec task1-st", sd);   /* other shapes: the tensor named */
    cli_latbench(&R, NULL, cmd);
    assert_refused("0.weight", "--spec task1-st");
    snprintf(cmd, sizeof cmd, "train --model %s --data %s/reg8 --out %s --epochs 1 --threads 1 --quiet", sd, tmpdir, out);
    cli_latbench(&R, NULL, cmd);
    assert_refused("no model spec in its metadata", "--spec");
    assert_int_equal(access(out, F_OK), -1);
    snprintf(cmd, sizeof cmd, "train --model %s --spec task1-eq --data %s/reg8 --out %s --epochs 1 --threads 1 --quiet", sd,
             tmpdir, out);
    cli_latbench(&R, NULL, cmd);
    printf("%s", R.out);
    assert_int_equal(R.status, 0);
    assert_int_equal(access(out, F_OK), 0);
    cli_latbench(&R, NULL, "model task1-eq --spec task1-eq");   /* --spec is for a model file only */
    assert_refused("--spec names the net of a model file", NULL);
}

/* A wrong --spec, and a state_dict numbered as AdaptiveAvgPool2d + Flatten would: one line, exit 2. */
static void test_wrong_spec_refused(void **s) {
    (void)s;
    char cmd[2048], a[1024], sd[512], p[512];
    snprintf(p, sizeof p, "%s/never.npy", tmpdir);
    snprintf(cmd, sizeof cmd, "eval --model %s/task1-eq.safetensors --data %s/reg8 --spec task1-st --predictions %s", tmpdir,
             tmpdir, p);
    cli_latbench(&R, NULL, cmd);
    /* task1-st's layer 0 is conv 1x1 4 80: the file's 0.weight is [64,4,1,1] */
    assert_refused("0.weight [64,4,1,1] (expected [80,4,1,1])", "--spec task1-st");
    assert_int_equal(access(p, F_OK), -1);
    snprintf(sd, sizeof sd, "%s/sd-shifted.safetensors", tmpdir);
    snprintf(a, sizeof a, "statedict task1-eq %s --pool-flatten", sd);
    py(cmd, sizeof cmd, a);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 0);
    snprintf(cmd, sizeof cmd, "eval --model %s --data %s/reg8 --spec task1-eq", sd, tmpdir);
    cli_latbench(&R, NULL, cmd);
    assert_refused("missing 9.weight [2,80], 9.bias [2]; unexpected 10.weight, 10.bias", "--spec task1-eq");
    snprintf(cmd, sizeof cmd, "eval --model %s --data %s/reg8 --spec no-such-net", sd, tmpdir);
    cli_latbench(&R, NULL, cmd);
    assert_refused("--spec", "no-such-net");
}

/* --predictions: one --data only; an unwritable target or an input refused before the evaluation. */
static void test_predictions_usage(void **s) {
    (void)s;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "eval --model %s/task2-eq.safetensors --data %s/det8 %s/det8 --predictions %s/p.npy", tmpdir,
             tmpdir, tmpdir, tmpdir);
    cli_latbench(&R, NULL, cmd);
    assert_refused("--predictions", "one --data");
    snprintf(cmd, sizeof cmd, "eval --model %s/task2-eq.safetensors --data %s/det8 --predictions %s/no/such/dir/p.npy",
             tmpdir, tmpdir, tmpdir);
    cli_latbench(&R, NULL, cmd);
    printf("refused (exit %d): %s", R.status, R.out);
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_null(strstr(R.out, "samples/s")); /* before any evaluation */
    /* an input as the output: refused, the input untouched */
    snprintf(cmd, sizeof cmd, "cp %s/det8/y.npy %s/y.keep && %s eval --model %s/task2-eq.safetensors --data %s/det8 "
             "--predictions %s/det8/y.npy", tmpdir, tmpdir, cli_bin(), tmpdir, tmpdir, tmpdir);
    cli_sh(&R, cmd);
    assert_refused("--predictions", "is the dataset's");
    snprintf(cmd, sizeof cmd, "cmp %s/det8/y.npy %s/y.keep", tmpdir, tmpdir);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_torch_to_latbench), cmocka_unit_test(test_trained_latbench_to_torch),
        cmocka_unit_test(test_state_dict_with_spec),      cmocka_unit_test(test_wrong_spec_refused),
        cmocka_unit_test(test_state_dict_model_train),
        cmocka_unit_test(test_predictions_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

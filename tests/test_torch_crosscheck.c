/* latbench against PyTorch (tests/torch_crosscheck.py): a model written by latbench (safetensors)
 * and a dataset written by latbench (npy) are loaded into PyTorch; forward outputs, gradients of
 * one training step and the AdamW(amsgrad) update must agree to 1e-4 relative.  Covers the task-1
 * EQ, ST and FL nets (MSE) and task-2 nets (sigmoid fused with BCE), with weight decay.
 * Fails (does not skip) when /usr/bin/python3 cannot import torch: `make test` installs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/torch_fixture.h"

static char tmpdir[256];
static cli_result R;

static int setup(void **state) {
    (void)state;
    return torch_fixture_setup(&R, tmpdir, sizeof tmpdir, "latbench-xcheck-", 64, 64);
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

/* Script path next to this source file. */
static void script_path(char *buf, size_t n) {
    const char *f = __FILE__, *slash = strrchr(f, '/');
    snprintf(buf, n, "%.*storch_crosscheck.py", slash ? (int)(slash - f + 1) : 0, f);
}

static void crosscheck(const char *model, const char *data, int batch, const char *wd, int threads) {
    char dump[512], cmd[2048], script[512];
    snprintf(dump, sizeof dump, "%s/dump-%s-%s-%d", tmpdir, model, data, threads);
    snprintf(cmd, sizeof cmd, "mkdir -p %s && %s train --model %s --data %s/%s --dump-step %s --batch %d --wd %s --seed 3 "
             "--threads %d", dump, cli_bin(), model, tmpdir, data, dump, batch, wd, threads);
    cli_sh(&R, cmd);
    if (R.status != 0) fprintf(stderr, "%s\n", R.out);
    assert_int_equal(R.status, 0);
    script_path(script, sizeof script);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s/%s 0.01 %s 1e-4 2>&1 | grep -v Warning", script, dump, tmpdir, data, wd);
    cli_sh(&R, cmd);
    for (char *c = R.out; *c; c++)
        if (*c == '\n' && c[1]) *c = ';';
    printf("NOTE torch crosscheck %s on %s (threads %d): %s", model, data, threads, R.out);
    assert_non_null(strstr(R.out, "crosscheck ok"));
}

static void test_task1_eq(void **s) { (void)s; crosscheck("task1-eq", "reg8", 48, "0", 1); }
static void test_task1_st(void **s) { (void)s; crosscheck("task1-st", "reg8", 48, "0.01", 2); }
static void test_task1_fl(void **s) { (void)s; crosscheck("task1-fl", "reg60", 32, "0", 2); }
static void test_task2_eq(void **s) { (void)s; crosscheck("task2-eq", "det8", 64, "0.01", 2); }
static void test_task2_st(void **s) { (void)s; crosscheck("task2-st", "det8", 64, "0", 1); }
static void test_task3_eq1(void **s) { (void)s; crosscheck("task3-eq1", "det8", 64, "0", 1); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task1_eq), cmocka_unit_test(test_task1_st),  cmocka_unit_test(test_task1_fl),
        cmocka_unit_test(test_task2_eq), cmocka_unit_test(test_task2_st), cmocka_unit_test(test_task3_eq1),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

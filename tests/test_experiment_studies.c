/* The studies of `latbench experiment` (tools/experiment/studies.c) and the translation
 * augmentation of the training loop (lib/nn/train.c):
 *  - nn_roll_sample is the exact cyclic roll of a sample on the periodic lattice (every element
 *    against the definition, for every shift), undone by the opposite roll; nn_augment_shift is
 *    seeded, in range, and varies with the sample and the epoch;
 *  - --augment translations and --train-sizes run on a tiny regression set (1 trial of 1 epoch,
 *    100 training and 13 test samples per lattice: a few seconds) and write results.json of the
 *    study's structure; the same seed twice gives the same results.json bytes;
 *  - --train-mu trains on a mu range and tests over every point;
 *  - bad study options: one line, exit 2. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/test_util.h"
#include <jansson.h>
#include "lib/nn/train.h"

static cli_result R;
static char tmp[128];

static int setup(void **state) {
    (void)state;
    return test_tmpdir_make(tmp, sizeof tmp, "lbstudy");
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmp);
}

static void test_roll_exact(void **state) {
    (void)state;
    enum { NT = 5, NX = 3, N = 4 * NT * NX };
    int16_t src[N], dst[N], back[N];
    for (int i = 0; i < N; i++) src[i] = (int16_t)(i * 7 - 50);
    for (int dt = 0; dt < NT; dt++)
        for (int dx = 0; dx < NX; dx++) {
            nn_roll_sample(src, dst, NT, NX, dt, dx);
            for (int c = 0; c < 4; c++)
                for (int t = 0; t < NT; t++)
                    for (int x = 0; x < NX; x++)
                        assert_int_equal(dst[(c * NT + (t + dt) % NT) * NX + (x + dx) % NX], src[(c * NT + t) * NX + x]);
            nn_roll_sample(dst, back, NT, NX, (NT - dt) % NT, (NX - dx) % NX);
            assert_memory_equal(back, src, sizeof src);
        }
    /* a nonzero shift moves something */
    nn_roll_sample(src, dst, NT, NX, 1, 0);
    assert_true(memcmp(dst, src, sizeof src) != 0);
}

static void test_shift_seeded(void **state) {
    (void)state;
    int seen[60][4] = {{0}}, distinct = 0, differ_epoch = 0;
    for (long s = 0; s < 200; s++) {
        int dt, dx, dt2, dx2;
        nn_augment_shift(7, 3, s, 60, 4, &dt, &dx);
        nn_augment_shift(7, 3, s, 60, 4, &dt2, &dx2);
        assert_int_equal(dt, dt2), assert_int_equal(dx, dx2);
        assert_in_range(dt, 0, 59), assert_in_range(dx, 0, 3);
        distinct += !seen[dt][dx]++;
        nn_augment_shift(7, 4, s, 60, 4, &dt2, &dx2);
        differ_epoch += dt != dt2 || dx != dx2;
    }
    assert_true(distinct > 50);     /* 200 draws over 240 shifts */
    assert_true(differ_epoch > 150); /* another epoch, other shifts */
}

/* A tiny study run into tmp/NAME (the plots skipped: LATBENCH_SHARE holds no script). */
static void study(const char *name, const char *opts) {
    char args[1024];
    snprintf(args, sizeof args,
             "experiment regression --quick %s --trials 1 --epochs 1 --train-count 100 --test-count 13 --therm 8 "
             "--threads 1 --seed 5 --quiet --out %s/%s",
             opts, tmp, name);
    cli_latbench(&R, "LATBENCH_SHARE=/nonexistent", args);
    if (R.status != 0) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
}

static char *results(const char *name, size_t *len) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s/results.json", tmp, name);
    char *text = test_slurp(path, len);
    assert_non_null(text);
    return text;
}

static int count(const char *text, const char *what) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++) n++;
    return n;
}

static void test_augment_study(void **state) {
    (void)state;
    SKIP_WORKFLOW_UNDER_EMULATION("test_augment_study");
    study("aug", "--augment translations");
    size_t n1, n2;
    char *a = results("aug", &n1);
    assert_non_null(strstr(a, "\"study\": \"augment\""));
    /* EQ once (none), ST and FL twice (translations and none) */
    assert_int_equal(count(a, "\"augment\": \"translations\""), 2);
    assert_int_equal(count(a, "\"augment\": \"none\""), 3);
    assert_int_equal(count(a, "\"arch\": \"task1-eq\""), 1);
    assert_int_equal(count(a, "\"arch\": \"task1-st\""), 2);
    assert_null(strstr(a, "train_seconds")); /* the clock's figures are in timing.json */
    char path[256];
    snprintf(path, sizeof path, "%s/aug/timing.json", tmp);
    char *tm = test_slurp(path, NULL);
    assert_non_null(tm);
    assert_non_null(strstr(tm, "train_seconds"));
    free(tm);
    /* the same seed again (datasets reused): the same bytes; the augmented ST differs from the plain one */
    study("aug", "--augment translations");
    char *b = results("aug", &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    json_t *r = json_loads(a, 0, NULL), *e;
    assert_non_null(r);
    double st_val[2] = {0, 0};
    size_t i;
    json_array_foreach(json_object_get(r, "archs"), i, e) {
        if (strcmp(json_string_value(json_object_get(e, "arch")), "task1-st")) continue;
        const bool aug = !strcmp(json_string_value(json_object_get(e, "augment")), "translations");
        st_val[aug] = json_real_value(json_object_get(json_array_get(json_object_get(e, "trials"), 0), "val_loss"));
    }
    assert_true(st_val[0] > 0 && st_val[1] > 0 && st_val[0] != st_val[1]);
    json_decref(r);
    free(a), free(b);
}

static void test_sizes_study(void **state) {
    (void)state;
    SKIP_WORKFLOW_UNDER_EMULATION("test_sizes_study");
    study("sizes", "--train-sizes 40,100");
    char *a = results("sizes", NULL);
    assert_non_null(strstr(a, "\"study\": \"train_sizes\""));
    assert_int_equal(count(a, "\"train_size\": 40"), 3);
    assert_int_equal(count(a, "\"train_size\": 100"), 3);
    free(a);
    /* the study's figure and table (latbench report: tools/report/plot_experiment.py) */
    cli_sh(&R, "${LATBENCH_PYTHON:-/usr/bin/python3} -c 'import matplotlib' 2>/dev/null");
    if (R.status != 0) {
        print_message("NOTE test_sizes_study: no matplotlib for /usr/bin/python3 (or $LATBENCH_PYTHON), the study's plot not drawn\n");
        return;
    }
    char args[512], path[256];
    snprintf(args, sizeof args, "report %s/sizes/results.json", tmp);
    cli_latbench(&R, NULL, args);
    assert_int_equal(R.status, 0);
    snprintf(path, sizeof path, "%s/sizes/report_study_sizes.png", tmp);
    size_t n = 0;
    char *png = test_slurp(path, &n);
    assert_non_null(png);
    assert_true(n > 10000 && !memcmp(png, "\x89PNG", 4));
    free(png);
    snprintf(path, sizeof path, "%s/sizes/report_table.md", tmp);
    char *md = test_slurp(path, NULL);
    assert_non_null(md);
    assert_non_null(strstr(md, "| task1-eq | 33202 | 40 | 1 |"));
    free(md);
}

static void test_train_mu_study(void **state) {
    (void)state;
    SKIP_WORKFLOW_UNDER_EMULATION("test_train_mu_study");
    study("sizes", "--train-mu 0.90:0.97"); /* the sizes study's datasets, reused */
    char *a = results("sizes", NULL);
    assert_non_null(strstr(a, "\"study\": \"train_mu\""));
    /* 8 of the 16 mu points of 0.90:1.05:0.01 (100 samples: 6 or 7 per point) and tested on all 13 of the test grid */
    json_t *r = json_loads(a, 0, NULL), *e;
    assert_non_null(r);
    size_t i;
    json_array_foreach(json_object_get(r, "archs"), i, e) {
        const json_int_t n = json_integer_value(json_object_get(e, "train_size"));
        assert_in_range(n, 40, 60);
        assert_true(json_real_value(json_array_get(json_object_get(e, "train_mu"), 1)) == 0.97);
        json_t *pp = json_object_get(json_object_get(json_object_get(json_array_get(json_object_get(e, "trials"), 0), "test"), "60x4"),
                                     "per_point");
        assert_int_equal(json_array_size(pp), 13);
    }
    assert_int_equal(i, 3);
    json_decref(r);
    free(a);
}

static void test_bad_options(void **state) {
    (void)state;
    static const struct { const char *args, *msg; } bad[] = {
        {"experiment regression --augment rotations", "--augment takes 'translations'"},
        {"experiment regression --train-sizes 5", "--train-sizes needs a list of sample counts"},
        {"experiment regression --train-sizes 100,x", "not 'x'"},
        {"experiment regression --train-sizes 100 --augment translations", "one study per run"},
        {"experiment regression --train-mu 1.0", "--train-mu needs LO:HI"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cli_latbench(&R, NULL, bad[i].args);
        assert_int_equal(R.status, 2);
        assert_non_null(strstr(R.out, bad[i].msg));
        assert_int_equal(R.lines, 1);
    }
    /* a size above the training set's count (the sizes study's datasets, reused): exit 2 naming it */
    char args[512];
    snprintf(args, sizeof args,
             "experiment regression --quick --train-sizes 500 --train-count 100 --test-count 13 --therm 8 --threads 1 "
             "--seed 5 --quiet --out %s/sizes", tmp);
    cli_latbench(&R, "LATBENCH_SHARE=/nonexistent", args);
    assert_int_equal(R.status, 2);
    assert_non_null(strstr(R.out, "500 is more than the training set's 100 samples"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roll_exact),
        cmocka_unit_test(test_shift_seeded),
        cmocka_unit_test(test_augment_study),
        cmocka_unit_test(test_sizes_study),
        cmocka_unit_test(test_train_mu_study),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

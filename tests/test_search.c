/* latbench search end to end through the binary: trials recorded in the study, the top-K spec files
 * load in `latbench model` and train in `latbench train` with the lr and batch they name (the study's),
 * a second run resumes the study, the same seed gives the same trials, two concurrent searches on one
 * study get distinct trial numbers, --max-params bounds the nets, --validate counts scores trials on
 * the count validation set, and a damaged study file is refused
 * (exit 2) and left as it was.  Tiny data (--train-count 300 --therm 32) and 3 epochs keep it a few
 * seconds; not run under emulation (ISA-independent). */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/test_util.h"
#include "lib/nn/nnio.h"

static cli_result R;
static char tmp[128];
#define SMALL "--task count --family st --train-count 300 --therm 32 --epochs 3 --threads 1 --quiet"

enum { TRIALS_PER_RUN = 3 };

/* latbench search SMALL with the options opts (formatted with dir). */
static void search(const char *opts, const char *dir) {
    char fmt[512], args[2048];
    snprintf(fmt, sizeof fmt, "search " SMALL " --trials %d %s", TRIALS_PER_RUN, opts);
    snprintf(args, sizeof args, fmt, dir, dir);
    cli_latbench(&R, NULL, args);
}

/* Rows of "number|state|spec" of a study, and how many. */
static int study_rows(const char *path, char *out, size_t len) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT number, state, spec FROM trials ORDER BY number", -1, &q, NULL), SQLITE_OK);
    int n = 0;
    size_t at = 0;
    out[0] = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        assert_int_equal(sqlite3_column_int(q, 0), n);
        at += (size_t)snprintf(out + at, len - at, "%d|%s|%s\n", n, sqlite3_column_text(q, 1), sqlite3_column_text(q, 2));
        assert_true(at < len);
        n++;
    }
    sqlite3_finalize(q);
    char ok[32] = "";
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW) snprintf(ok, sizeof ok, "%s", sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    assert_string_equal(ok, "ok");
    sqlite3_close(db);
    return n;
}

/* The trial, lr and batch that DIR/top-1.spec names in its comment lines. */
static void top_lr_batch(const char *dir, long *number, double *lr, int *batch) {
    char path[300];
    snprintf(path, sizeof path, "%s/top-1.spec", dir);
    size_t len;
    char *text = test_slurp(path, &len);
    assert_non_null(text);
    const char *t = strstr(text, ": trial "), *l = strstr(text, "# trained with --lr ");
    assert_non_null(t);
    assert_non_null(l);
    assert_int_equal(sscanf(t, ": trial %ld", number), 1);
    assert_int_equal(sscanf(l, "# trained with --lr %lf --batch %d", lr, batch), 2);
    free(text);
}

/* A trial's lr and batch size from its params in the study (batch: an index into the sizes). */
static void study_lr_batch(const char *path, long number, double *lr, int *batch) {
    static const int sizes[] = {16, 32, 64, 100, 128, 256};
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT json_extract(params, '$.lr'), json_extract(params, '$.batch') FROM trials"
                                            " WHERE number = ?", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int64(q, 1, number);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    *lr = sqlite3_column_double(q, 0);
    int i = sqlite3_column_int(q, 1);
    assert_true(i >= 0 && i < 6);
    *batch = sizes[i];
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static int setup(void **s) {
    (void)s;
    return test_tmpdir_make(tmp, sizeof tmp, "latbench-search-");
}

static int teardown(void **s) {
    (void)s;
    return test_tmpdir_remove(tmp);
}

static void search_resume_and_specs(void **state) {
    (void)state;
    SKIP_WORKFLOW_UNDER_EMULATION("search_resume_and_specs");
    char dir[256], path[300], rows[1 << 14], again[1 << 14];
    snprintf(dir, sizeof dir, "%s/a", tmp);
    search("--out %s", dir);
    if (R.status) fail_msg("%s", R.out);
    snprintf(path, sizeof path, "%s/study.sqlite", dir);
    int n = TRIALS_PER_RUN;
    assert_int_equal(study_rows(path, rows, sizeof rows), n);
    assert_null(strstr(rows, "running"));
    assert_non_null(strstr(R.out, "best "));
    assert_non_null(strstr(R.out, "task3-st1"));
    /* the best spec loads and trains */
    char args[1024];
    snprintf(args, sizeof args, "model %s/top-1.spec", dir);
    cli_latbench(&R, NULL, args);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "spec file"));
    /* it names its trial's lr and batch (the study's params), and trains with them */
    double lr;
    int batch;
    long number;
    top_lr_batch(dir, &number, &lr, &batch);
    snprintf(path, sizeof path, "%s/study.sqlite", dir);
    double want_lr;
    int want_batch;
    study_lr_batch(path, number, &want_lr, &want_batch);
    assert_true(fabs(lr - want_lr) <= 1e-8 * want_lr);
    assert_int_equal(batch, want_batch);
    snprintf(args, sizeof args,
             "train --model %s/top-1.spec --data $(ls -d %s/data/train-*/) --epochs 1 --threads 1 --lr %.9g --batch %d"
             " --out %s/t.safetensors", dir, dir, lr, batch, dir);
    cli_latbench(&R, NULL, args);
    if (R.status) fail_msg("%s", R.out);
    /* a second run adds its trials to the study */
    search("--out %s", dir);
    if (R.status) fail_msg("%s", R.out);
    assert_int_equal(study_rows(path, again, sizeof again), 2 * n);
    assert_memory_equal(rows, again, strlen(rows));
    /* the same seed in another study: the same trials */
    snprintf(dir, sizeof dir, "%s/b", tmp);
    search("--out %s", dir);
    if (R.status) fail_msg("%s", R.out);
    snprintf(path, sizeof path, "%s/study.sqlite", dir);
    assert_int_equal(study_rows(path, again, sizeof again), n);
    assert_string_equal(rows, again);
}

static void concurrent_searches(void **state) {
    (void)state;
    SKIP_WORKFLOW_UNDER_EMULATION("concurrent_searches");
    char cmd[4096], path[300], rows[1 << 14];
    snprintf(path, sizeof path, "%s/shared.sqlite", tmp);
    /* the data first, so that the two runs share it */
    char opt[600];
    snprintf(opt, sizeof opt, "--out %s/c --study %s --seed 5", tmp, path);
    search(opt, "");
    if (R.status) fail_msg("%s", R.out);
    snprintf(cmd, sizeof cmd, "(%s search " SMALL " --trials %d %s & %s search " SMALL " --trials %d %s --seed 6 & wait)",
             cli_bin(), TRIALS_PER_RUN, opt, cli_bin(), TRIALS_PER_RUN, opt);
    cli_sh(&R, cmd);
    if (strstr(R.out, "latbench search:")) fail_msg("%s", R.out);
    assert_int_equal(study_rows(path, rows, sizeof rows), 3 * TRIALS_PER_RUN);
    assert_null(strstr(rows, "running"));
}

/* The largest parameter count of a study's trials, and how many trials it has. */
static long study_max_params(const char *path, int *n) {
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT max(n_params), count(*) FROM trials", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    long m = (long)sqlite3_column_int64(q, 0);
    *n = sqlite3_column_int(q, 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return m;
}

/* --max-params bounds every trial's net (the same seed without it draws a larger one); 0 is refused. */
static void max_params_bounds_the_nets(void **state) {
    (void)state;
    SKIP_WORKFLOW_UNDER_EMULATION("max_params_bounds_the_nets");
    char opt[600], path[300];
    int n;
    snprintf(opt, sizeof opt, "--out %s/m --max-params 500", tmp);
    search(opt, "");
    if (R.status) fail_msg("%s", R.out);
    snprintf(path, sizeof path, "%s/m/study.sqlite", tmp);
    long m = study_max_params(path, &n);
    assert_int_equal(n, TRIALS_PER_RUN);
    assert_true(m > 0 && m <= 500);
    snprintf(opt, sizeof opt, "--out %s/m2", tmp);
    search(opt, "");
    if (R.status) fail_msg("%s", R.out);
    snprintf(path, sizeof path, "%s/m2/study.sqlite", tmp);
    assert_true(study_max_params(path, &n) > 500);
    snprintf(opt, sizeof opt, "--out %s/m3 --max-params 0", tmp);
    search(opt, "");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
}

/* A study's trial values and specs in number order (n of them). */
static void study_values(const char *path, double *v, char (*spec)[2048], int n) {
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value, spec FROM trials ORDER BY number", -1, &q, NULL), SQLITE_OK);
    int k = 0;
    for (; k < n && sqlite3_step(q) == SQLITE_ROW; k++) {
        v[k] = sqlite3_column_double(q, 0);
        snprintf(spec[k], sizeof spec[k], "%s", sqlite3_column_text(q, 1));
    }
    assert_int_equal(k, n);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* A study's key from its study table ("" when absent). */
static void study_key(const char *path, const char *key, char *out, size_t len) {
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM study WHERE key = ?", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    out[0] = 0;
    if (sqlite3_step(q) == SQLITE_ROW) snprintf(out, len, "%s", sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* --validate counts (the count task's default): the study and results.json say so, the validation
 * set in DIR/data/val-* has every count 0..10 at least 11 times, and a trial's value is a loss on it:
 * the same first (random) trials scored on the training set's split, whose labels are only 0 and 5,
 * look much better.  Resuming with another --validate and a bad value are refused (exit 2). */
static void validate_counts(void **state) {
    (void)state;
    SKIP_WORKFLOW_UNDER_EMULATION("validate_counts");
    char opt[600], path[300], kind[32];
    snprintf(opt, sizeof opt, "--out %s/vc", tmp);
    search(opt, "");
    if (R.status) fail_msg("%s", R.out);
    snprintf(path, sizeof path, "%s/vc/study.sqlite", tmp);
    study_key(path, "validate", kind, sizeof kind);
    assert_string_equal(kind, "counts");
    size_t len;
    snprintf(opt, sizeof opt, "%s/vc/results.json", tmp);
    char *res = test_slurp(opt, &len);
    assert_non_null(res);
    assert_non_null(strstr(res, "\"validate\": \"counts\""));
    free(res);
    /* the validation set: every count, the training lattice */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls -d %s/vc/data/val-8x8-*/ | head -1 | tr -d '\\n'", tmp);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 0);
    nn_dataset v;
    char err[512];
    if (!nn_dataset_load(R.out, &v, err, sizeof err)) fail_msg("%s: %s", R.out, err);
    int per[11] = {0};
    for (long i = 0; i < v.n; i++) {
        const int k = (int)lroundf(v.y[i]);
        assert_true(k >= 0 && k <= 10 && v.y[i] == (float)k);
        per[k]++;
    }
    for (int k = 0; k <= 10; k++) assert_true(per[k] >= 11);
    assert_int_equal(v.nt, 8);
    assert_int_equal(v.nx, 8);
    nn_dataset_free(&v);
    /* the same seed scored on the training split: the same points, far smaller losses */
    snprintf(opt, sizeof opt, "--out %s/vt --validate train", tmp);
    search(opt, "");
    if (R.status) fail_msg("%s", R.out);
    double vc[TRIALS_PER_RUN], vt[TRIALS_PER_RUN];
    static char sc[TRIALS_PER_RUN][2048], stt[TRIALS_PER_RUN][2048];
    study_values(path, vc, sc, TRIALS_PER_RUN);
    snprintf(path, sizeof path, "%s/vt/study.sqlite", tmp);
    study_values(path, vt, stt, TRIALS_PER_RUN);
    study_key(path, "validate", kind, sizeof kind);
    assert_string_equal(kind, "train");
    for (int i = 0; i < TRIALS_PER_RUN; i++) {
        assert_string_equal(sc[i], stt[i]);
        if (!(vc[i] > 1.3 * vt[i])) fail_msg("trial %d: counts %g, train split %g", i, vc[i], vt[i]);
    }
    /* resuming either study with the other kind is refused, and the study is left as it was */
    snprintf(opt, sizeof opt, "--out %s/vc --validate train", tmp);
    search(opt, "");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "--validate counts"));
    snprintf(opt, sizeof opt, "--out %s/vt --validate counts", tmp);
    search(opt, "");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    int n;
    study_max_params(path, &n);
    assert_int_equal(n, TRIALS_PER_RUN);
    /* bad values */
    snprintf(opt, sizeof opt, "--out %s/vb --validate count", tmp);
    search(opt, "");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "--validate"));
    cli_latbench(&R, NULL, "search --task regression --family eq --validate counts");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    cli_latbench(&R, NULL, "search --help");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "--validate train|counts"));
}

static void damaged_study_refused(void **state) {
    (void)state;
    char path[300], opt[600];
    snprintf(path, sizeof path, "%s/damaged.sqlite", tmp);
    const char junk[] = "SQLite format 3\0 and then garbage where the pages should be .......";
    FILE *f = fopen(path, "wb");
    fwrite(junk, 1, sizeof junk, f), fclose(f);
    snprintf(opt, sizeof opt, "--out %s/d --study %s", tmp, path);
    search(opt, "");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, path));
    size_t len;
    char *back = test_slurp(path, &len);
    assert_int_equal(len, sizeof junk);
    assert_memory_equal(back, junk, sizeof junk);
    free(back);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(search_resume_and_specs),
        cmocka_unit_test(concurrent_searches),
        cmocka_unit_test(max_params_bounds_the_nets),
        cmocka_unit_test(validate_counts),
        cmocka_unit_test(damaged_study_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

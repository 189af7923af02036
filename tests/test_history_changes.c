/* `latbench history` change points (tools/track/history_changes.c): a synthetic history with a 10 %
 * slowdown injected in one series is reported (exit 1) and one without is clean (exit 0); a ratio
 * series (a gate run's: no time) regresses when it falls, not when it rises; --since a commit or a
 * date cuts the past; --json parses back; a version 1 database migrates to the series table and
 * lists as before.
 *
 * Also the generator for the speed measurement (README, "History"):
 *     test_history_changes --generate RUNS SERIES > gen.txt     (export text; a 10 % step in series 0
 *                                                                 at 3/4 of the runs)
 *     LATBENCH_HISTORY=h.sqlite latbench history import gen.txt; time latbench history */
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "tools/track/history.h"

static cli_result R;
static char dir[64];

static int setup(void **s) {
    (void)s;
    return test_tmpdir_make(dir, sizeof dir, "latbench-hchanges-");
}

static int teardown(void **s) {
    (void)s;
    return test_tmpdir_remove(dir);
}

/* Deterministic noise in [-1, 1). */
static double noise(uint64_t *st) {
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return ((z ^ (z >> 31)) >> 11) * 0x1p-52 - 1;
}

/* The value of series s in run r: level 100 (1 for a ratio), 2 % noise, times (1 + step) from run `at` on. */
static double value(int s, int r, int at, double step, uint64_t *st) {
    double level = (s % 2 ? 1.0 : 100.0) * (r >= at ? 1 + step : 1);
    return level * (1 + 0.02 * noise(st));
}

/* runs runs of machine "m": series "bench/k" (time) and "gate/k" (ratio vs oneDNN, no time);
 * the series named step_in changes by step from run at on. */
static int reversed;   /* make_history appends the newest run first (imports of older runs later) */
static void make_history(const char *path, int runs, int series, const char *step_in, int at, double step) {
    char err[1400];
    hist_db *db = hist_open(path, true, err, sizeof err);
    if (!db) fail_msg("%s", err);
    uint64_t st = 99;
    hist_record *recs = calloc((size_t)series, sizeof *recs);
    char (*names)[32] = calloc((size_t)series, sizeof *names);
    assert_non_null(recs), assert_non_null(names);
    for (int i = 0; i < runs; i++) {
        int r = reversed ? runs - 1 - i : i;
        hist_run run = {.machine = "m", .command = "bench", .threads = "1"};
        snprintf(run.commit, sizeof run.commit, "c%04d", r);
        snprintf(run.date, sizeof run.date, "2026-%02d-%02dT00:00:00Z", 1 + r / 28 % 12, 1 + r % 28);
        for (int k = 0; k < series; k++) {
            snprintf(names[k], sizeof names[k], "%s/%d", k % 2 ? "gate" : "bench", k);
            double v = value(k, r, step_in && !strcmp(names[k], step_in) ? at : 1 << 30, step, &st);
            recs[k] = (hist_record){names[k], NULL, 0, k % 2 ? NAN : v, NAN, NAN, k % 2 ? v : NAN, NAN, NAN};
        }
        bool added;
        if (!hist_append(db, &run, recs, (size_t)series, &added, err, sizeof err)) fail_msg("%s", err);
        assert_true(added);
    }
    free(recs), free(names);
    hist_close(db);
}

static void test_step_reported(void **s) {
    (void)s;
    char a[128];
    snprintf(a, sizeof a, "%s/step.sqlite", dir);
    make_history(a, 60, 6, "bench/2", 40, 0.10);
    cli_history(&R, a, "");
    if (R.status != 1) fail_msg("status %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "m  bench/2  time_ns (higher is slower), 60 runs"));
    assert_non_null(strstr(R.out, "c0040"));           /* the first commit after the step */
    assert_non_null(strstr(R.out, "REGRESSION"));
    assert_non_null(strstr(R.out, "1 change point in 1 of 6 series"));
    /* under a larger threshold it is a change, not a regression */
    cli_history(&R, a, "--threshold 20");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "c0040"));
    assert_null(strstr(R.out, "REGRESSION"));
    /* since a commit after the step, or a date after it: no change left */
    cli_history(&R, a, "--since c0042");
    if (R.status != 0) fail_msg("status %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "0 change points in 0 of 6 series"));
    cli_history(&R, a, "--since 2026-02-15 --filter bench/2");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "0 change points in 0 of 1 series"));
    cli_history(&R, a, "--since c0030 --filter bench");
    assert_int_equal(R.status, 1);
    cli_history(&R, a, "--since nosuchcommit");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "--since nosuchcommit: neither a date"));
    cli_history(&R, a, "--threshold x");
    assert_int_equal(R.status, 2);
}

/* history replay on series of 2 % noise: a 30 % step (15 sigma) is caught within 5 runs in at least
 * 90 % of the replays (the permutation test needs enough runs for 1 / C(n, k) to reach alpha, so the
 * earliest starts can be late), a step under the threshold never is, the clean series give few false alarms, and the JSON
 * parses back with its counts. */
static void test_replay(void **s) {
    (void)s;
    char a[128];
    snprintf(a, sizeof a, "%s/replay.sqlite", dir);
    make_history(a, 30, 2, NULL, 0, 0);
    cli_history(&R, a, "replay --steps 30,2 --within 5 --threshold 5");   /* 2 % is under it */
    if (R.status != 0) fail_msg("status %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "history replay: 2 series"));
    if (!strstr(R.out, " +2.0%     5 runs        40       0.0%")) fail_msg("%s", R.out);
    cli_history(&R, a, "replay --steps 30 --within 3,5 --json");
    assert_int_equal(R.status, 0);
    json_error_t je;
    json_t *root = json_loads(R.out, 0, &je);
    if (!root) fail_msg("not JSON: %s\n%s", je.text, R.out);
    assert_int_equal(json_integer_value(json_object_get(root, "series")), 2);
    json_t *rows = json_object_get(root, "detection");
    assert_int_equal(json_array_size(rows), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "replays")), 40);
    assert_true(json_integer_value(json_object_get(json_array_get(rows, 1), "detected")) >= 36);
    assert_true(json_integer_value(json_object_get(json_array_get(rows, 0), "detected")) <=
                json_integer_value(json_object_get(json_array_get(rows, 1), "detected")));
    const json_int_t asked = json_integer_value(json_object_get(root, "runs_asked"));
    assert_int_equal(asked, 2 * (30 - 6 + 1));
    assert_true(json_integer_value(json_object_get(root, "false_alarms")) <= 2);
    json_decref(root);
    cli_history(&R, a, "replay --steps 0");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    cli_history(&R, a, "replay --within 1,2,3,4,5,6,7,8,9");
    assert_int_equal(R.status, 2);
}

static void test_no_step_clean(void **s) {
    (void)s;
    char a[128];
    snprintf(a, sizeof a, "%s/clean.sqlite", dir);
    make_history(a, 60, 6, NULL, 0, 0);
    cli_history(&R, a, "changes --machine m");
    if (R.status != 0) fail_msg("status %d:\n%s", R.status, R.out);
    if (!strstr(R.out, "0 change points in 0 of 6 series")) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "0 change points in 0 of 6 series"));
    cli_history(&R, a, "--machine other");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "in 0 of 0 series"));
}

static void test_ratio_direction(void **s) {
    (void)s;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/fall.sqlite", dir), snprintf(b, sizeof b, "%s/rise.sqlite", dir);
    make_history(a, 50, 4, "gate/1", 30, -0.10);   /* slower than oneDNN: a regression */
    make_history(b, 50, 4, "gate/1", 30, +0.10);   /* faster: a change, no regression */
    cli_history(&R, a, "--filter gate");
    assert_int_equal(R.status, 1);
    assert_non_null(strstr(R.out, "gate/1  ratio_onednn (higher is faster)"));
    cli_history(&R, b, "--filter gate");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "1 change point in 1 of 2 series"));
}

static void test_json_parses_back(void **s) {
    (void)s;
    char a[128];
    snprintf(a, sizeof a, "%s/json.sqlite", dir);
    make_history(a, 60, 4, "bench/0", 25, 0.10);
    cli_history(&R, a, "--json");
    assert_int_equal(R.status, 1);
    json_error_t je;
    json_t *root = json_loads(R.out, 0, &je);
    if (!root) fail_msg("%s: %s", je.text, R.out);
    assert_int_equal(json_integer_value(json_object_get(root, "regressions")), 1);
    json_t *ser = json_object_get(root, "series");
    assert_int_equal(json_array_size(ser), 4);
    json_t *b0 = json_array_get(ser, 0);
    assert_string_equal(json_string_value(json_object_get(b0, "name")), "bench/0");
    assert_string_equal(json_string_value(json_object_get(b0, "quantity")), "time_ns");
    assert_true(json_is_true(json_object_get(b0, "regression")));
    json_t *cp = json_array_get(json_object_get(b0, "changepoints"), 0);
    assert_non_null(cp);
    assert_string_equal(json_string_value(json_object_get(cp, "commit")), "c0025");
    double step = json_real_value(json_object_get(cp, "step")), p = json_real_value(json_object_get(cp, "p"));
    assert_true(step > 0.07 && step < 0.13);
    assert_true(p > 0 && p <= 0.01);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ser, 2), "quantity")), "ratio_onednn");
    json_decref(root);
}

/* Runs appended newest first: --window still takes the newest by date (the early stop of the
 * newest-id-first scan must not cut them off). */
static void test_window_out_of_order(void **s) {
    (void)s;
    char a[128];
    snprintf(a, sizeof a, "%s/reversed.sqlite", dir);
    reversed = 1;
    make_history(a, 80, 2, "bench/0", 70, 0.10);
    reversed = 0;
    cli_history(&R, a, "--window 30 --filter bench/0");
    if (R.status != 1) fail_msg("status %d:\n%s", R.status, R.out);
    assert_non_null(strstr(R.out, "time_ns (higher is slower), 30 runs"));
    assert_non_null(strstr(R.out, "c0070"));
}

/* A version 1 database (as the previous latbench wrote it) opens, migrates, lists and changes. */
static void test_v1_database_migrates(void **s) {
    (void)s;
    char a[128];
    snprintf(a, sizeof a, "%s/v1.sqlite", dir);
    sqlite3 *d;
    assert_int_equal(sqlite3_open(a, &d), SQLITE_OK);
    const char *v1 =
        "CREATE TABLE latbench_schema(version INTEGER NOT NULL, applied TEXT NOT NULL);"
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, machine TEXT NOT NULL, cpu TEXT NOT NULL,"
        " git_commit TEXT NOT NULL, build_flags TEXT NOT NULL, compiler TEXT NOT NULL, date TEXT NOT NULL,"
        " command TEXT NOT NULL, threads TEXT NOT NULL, UNIQUE(machine, date, git_commit, command));"
        "CREATE TABLE records(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
        " seq INTEGER NOT NULL, name TEXT NOT NULL, reps BLOB, median REAL, q1 REAL, q3 REAL,"
        " ratio_onednn REAL, ratio_scalar REAL, gflops REAL, PRIMARY KEY(run_id, seq)) WITHOUT ROWID;"
        "CREATE INDEX records_name ON records(name, run_id);"
        "INSERT INTO latbench_schema VALUES(1, 'then'); PRAGMA application_id = 1279412307;";
    assert_int_equal(sqlite3_exec(d, v1, NULL, NULL, NULL), SQLITE_OK);
    char sql[300];
    for (int r = 1; r <= 30; r++) {
        snprintf(sql, sizeof sql, "INSERT INTO runs VALUES(%d, 'old', 'cpu', 'k%02d', '', 'cc', '2025-01-%02dT00:00:00Z', 'bench', '1');"
                 "INSERT INTO records VALUES(%d, 0, 'bench/x', NULL, %g, NULL, NULL, NULL, NULL, NULL);",
                 r, r, r, r, r > 20 ? 120.0 + r % 3 : 100.0 + r % 3);
        assert_int_equal(sqlite3_exec(d, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_close(d);
    cli_history(&R, a, "list");
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "old"));
    assert_non_null(strstr(R.out, "    30  2025-01-01T00:00:00Z"));
    assert_non_null(strstr(R.out, "k30"));
    cli_history(&R, a, "");
    assert_int_equal(R.status, 1);
    assert_non_null(strstr(R.out, "k21"));
    /* now at the current version, and an append keeps the series table current */
    assert_int_equal(sqlite3_open(a, &d), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(d, "SELECT max(version), (SELECT count FROM series) FROM latbench_schema", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), HIST_SCHEMA_VERSION);
    assert_int_equal(sqlite3_column_int(st, 1), 30);
    sqlite3_finalize(st);
    /* schema 4: the runs recorded before have an unknown profile */
    assert_int_equal(sqlite3_prepare_v2(d, "SELECT count(*) FROM runs WHERE profile = ''", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 30);
    sqlite3_finalize(st);
    sqlite3_close(d);
}

/* A version 2 database with the names of earlier versions (bench --gbench's bare variants and
 * /real_time, its worm_sweep, bench's bare worm variants) migrates to one grammar: every series
 * under its new name, the gbench and bench rows of one benchmark one series. */
static void test_v2_names_migrate(void **s) {
    (void)s;
    char a[128];
    snprintf(a, sizeof a, "%s/v2.sqlite", dir);
    sqlite3 *d;
    assert_int_equal(sqlite3_open(a, &d), SQLITE_OK);
    const char *v2 =
        "CREATE TABLE latbench_schema(version INTEGER NOT NULL, applied TEXT NOT NULL);"
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, machine TEXT NOT NULL, cpu TEXT NOT NULL,"
        " git_commit TEXT NOT NULL, build_flags TEXT NOT NULL, compiler TEXT NOT NULL, date TEXT NOT NULL,"
        " command TEXT NOT NULL, threads TEXT NOT NULL, UNIQUE(machine, date, git_commit, command));"
        "CREATE TABLE records(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
        " seq INTEGER NOT NULL, name TEXT NOT NULL, reps BLOB, median REAL, q1 REAL, q3 REAL,"
        " ratio_onednn REAL, ratio_scalar REAL, gflops REAL, PRIMARY KEY(run_id, seq)) WITHOUT ROWID;"
        "CREATE INDEX records_name ON records(name, run_id);"
        "CREATE TABLE series(id INTEGER PRIMARY KEY, machine TEXT NOT NULL, name TEXT NOT NULL,"
        " count INTEGER NOT NULL, first_date TEXT NOT NULL, last_date TEXT NOT NULL, last_commit TEXT NOT NULL,"
        " UNIQUE(machine, name));"
        "ALTER TABLE records ADD COLUMN series_id INTEGER REFERENCES series(id);"
        "CREATE INDEX records_series ON records(series_id, run_id, median, ratio_onednn, ratio_scalar);"
        "INSERT INTO latbench_schema VALUES(1, 'then'); INSERT INTO latbench_schema VALUES(2, 'then');"
        "PRAGMA application_id = 1279412307;";
    assert_int_equal(sqlite3_exec(d, v2, NULL, NULL, NULL), SQLITE_OK);
    static const char *const old[2][3] = {
        /* bench */ {"conv2d_fwd/P/scalar/threads:1", "worm/L/avx2/threads:1", "conv2d_fwd/P/ours/threads:1"},
        /* gbench */ {"conv2d_fwd/P/scalar/threads:1/real_time", "worm_sweep/L/avx2/threads:1/real_time",
                      "conv2d_fwd/P/avx512/threads:1/real_time"}};
    char sql[600];
    for (int r = 1; r <= 20; r++) {
        const int g = r % 2;   /* bench and gbench runs in turn */
        snprintf(sql, sizeof sql, "INSERT INTO runs VALUES(%d, 'm', 'cpu', 'k%02d', '', 'cc', '2025-01-%02dT00:00:00Z', '%s', '1');",
                 r, r, r, g ? "gbench" : "bench");
        assert_int_equal(sqlite3_exec(d, sql, NULL, NULL, NULL), SQLITE_OK);
        for (int i = 0; i < 3; i++) {
            snprintf(sql, sizeof sql,
                     "INSERT OR IGNORE INTO series(machine, name, count, first_date, last_date, last_commit) VALUES('m', '%s', 0, '', '', '');"
                     "UPDATE series SET count = count + 1 WHERE machine = 'm' AND name = '%s';"
                     "INSERT INTO records VALUES(%d, %d, '%s', NULL, %g, NULL, NULL, NULL, NULL, NULL,"
                     " (SELECT id FROM series WHERE machine = 'm' AND name = '%s'));",
                     old[g][i], old[g][i], r, i, old[g][i], 100.0 + i, old[g][i]);
            assert_int_equal(sqlite3_exec(d, sql, NULL, NULL, NULL), SQLITE_OK);
        }
    }
    sqlite3_close(d);
    cli_history(&R, a, "list");
    if (R.status) fail_msg("%s", R.out);
    assert_null(strstr(R.out, "real_time"));
    assert_null(strstr(R.out, "worm_sweep"));
    assert_int_equal(sqlite3_open(a, &d), SQLITE_OK);
    sqlite3_stmt *st;
    static const struct {
        const char *name;
        int count;
    } want[] = {{"conv2d_fwd/P/scalar/threads:1", 20}, {"worm/L/variant:avx2/threads:1", 20},
                {"conv2d_fwd/P/ours/threads:1", 10}, {"conv2d_fwd/P/variant:avx512/threads:1", 10}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        assert_int_equal(sqlite3_prepare_v2(d, "SELECT s.count, (SELECT count(*) FROM records c WHERE c.series_id = s.id AND c.name = s.name)"
                                               " FROM series s WHERE s.name = ?", -1, &st, NULL), SQLITE_OK);
        sqlite3_bind_text(st, 1, want[i].name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) fail_msg("no series %s after the migration:\n%s", want[i].name, R.out);
        assert_int_equal(sqlite3_column_int(st, 0), want[i].count);
        assert_int_equal(sqlite3_column_int(st, 1), want[i].count);
        sqlite3_finalize(st);
    }
    assert_int_equal(sqlite3_prepare_v2(d, "SELECT count(*), (SELECT max(version) FROM latbench_schema) FROM series", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 4);
    assert_int_equal(sqlite3_column_int(st, 1), HIST_SCHEMA_VERSION);
    sqlite3_finalize(st);
    sqlite3_close(d);
    /* the renamed series read on: 20 runs of the merged scalar series */
    cli_history(&R, a, "list --filter conv2d_fwd/P/scalar");
    assert_non_null(strstr(R.out, "    20  2025-01-01T00:00:00Z"));
}

/* The gate's tuning profile in the store: a run's profile reads back (JSON "profile"), and a change
 * of a known profile is a known break - the runs before it are left out, so a 10 % slower level
 * under the new profile is no regression - while runs of unknown profile ("") break nothing. */
static void test_profile_break(void **s) {
    (void)s;
    char a[128], err[1400];
    snprintf(a, sizeof a, "%s/profile.sqlite", dir);
    hist_db *db = hist_open(a, true, err, sizeof err);
    if (!db) fail_msg("%s", err);
    uint64_t st = 5;
    for (int r = 0; r < 40; r++) {
        hist_run run = {.machine = "m", .command = "gate", .threads = "1"};
        snprintf(run.commit, sizeof run.commit, "p%04d", r);
        snprintf(run.date, sizeof run.date, "2026-%02d-%02dT00:00:00Z", 1 + r / 28, 1 + r % 28);
        snprintf(run.profile, sizeof run.profile, "%s", r < 10 ? "" : r < 30 ? "profile:aaaa" : "profile:bbbb");
        const double v = value(0, r, 30, 0.10, &st);
        hist_record rec = {"bench/p", NULL, 0, v, NAN, NAN, NAN, NAN, NAN};
        bool added;
        if (!hist_append(db, &run, &rec, 1, &added, err, sizeof err)) fail_msg("%s", err);
    }
    hist_close(db);
    cli_history(&R, a, "--filter bench/p");
    if (R.status != 0) fail_msg("status %d:\n%s", R.status, R.out);
    if (!strstr(R.out, "p0030") || !strstr(R.out, "profile changed to profile:bbbb: the 30 runs before, under another profile, left out"))
        fail_msg("%s", R.out);
    cli_history(&R, a, "--filter bench/p --json");
    json_error_t je;
    json_t *root = json_loads(R.out, 0, &je), *ser = json_array_get(json_object_get(root, "series"), 0);
    if (!ser) fail_msg("%s", R.out);
    assert_string_equal(json_string_value(json_object_get(ser, "profile")), "profile:bbbb");
    assert_int_equal(json_integer_value(json_object_get(ser, "runs_other_profile")), 30);
    assert_int_equal(json_integer_value(json_object_get(ser, "runs")), 10);
    json_decref(root);
    /* since a date inside the profile:aaaa runs: the unknown ones are gone, the break stays */
    cli_history(&R, a, "--filter bench/p --since 2026-01-20");
    assert_non_null(strstr(R.out, "the 11 runs before"));
    /* the column as stored */
    sqlite3 *d;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(a, &d), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(d, "SELECT group_concat(DISTINCT profile) FROM runs", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), ",profile:aaaa,profile:bbbb");
    sqlite3_finalize(q);
    sqlite3_close(d);
}

/* The export text of a RUNS x SERIES history (series 0 slower by 10 % from 3/4 of the runs on). */
static int generate(int runs, int series) {
    uint64_t st = 7;
    printf("latbench-history 1\n");
    for (int r = 0; r < runs; r++) {
        printf("run\tgen\tcpu\tg%06d\t-O3\tcc\t2026-01-01T%02d:%02d:%02dZ r%06d\tbench\t1\n", r, r / 3600 % 24, r / 60 % 60, r % 60,
               r);
        for (int k = 0; k < series; k++)
            printf("rec\tbench/op%03d\t%.6g\t-\t-\t-\t-\t-\t-\n", k, value(2 * k, r, k == 0 ? runs * 3 / 4 : 1 << 30, 0.10, &st));
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--generate")) return generate(atoi(argv[2]), atoi(argv[3]));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_reported),
        cmocka_unit_test(test_no_step_clean),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_ratio_direction),
        cmocka_unit_test(test_json_parses_back),
        cmocka_unit_test(test_window_out_of_order),
        cmocka_unit_test(test_v1_database_migrates),
        cmocka_unit_test(test_v2_names_migrate),
        cmocka_unit_test(test_profile_break),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* The benchmark history (tools/track/history.h, `latbench history`): a committed bench result
 * imports, exports and imports back to the same text; two processes appending at once both land; a
 * damaged or foreign file gets one line and is left byte for byte; a newer schema is refused;
 * LATBENCH_HISTORY, XDG_DATA_HOME and HOME place it; bench and gate append their runs.  No timings asserted. */
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "tools/track/history.h"

#define RESULT "results/amd-epyc-zen5-2c/bench-2026-12-04.json"

static cli_result R;
static char dir[64];

static int setup(void **s) {
    (void)s;
    return test_tmpdir_make(dir, sizeof dir, "latbench-history-");
}

static int teardown(void **s) {
    (void)s;
    return test_tmpdir_remove(dir);
}

/* Exports store `from` to e1, imports e1 into the empty store `to` and exports that to e2: the two
 * exports must be the same bytes.  Returns the first export's text (the caller frees it). */
static char *export_round_trip(const char *from, const char *to, const char *e1, const char *e2) {
    char args[300];
    snprintf(args, sizeof args, "export --out %s", e1);
    cli_history(&R, from, args);
    assert_int_equal(R.status, 0);
    snprintf(args, sizeof args, "import %s", e1);
    cli_history(&R, to, args);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "1 runs added"));
    snprintf(args, sizeof args, "export --out %s", e2);
    cli_history(&R, to, args);
    assert_int_equal(R.status, 0);
    size_t n1, n2;
    char *t1 = test_slurp(e1, &n1), *t2 = test_slurp(e2, &n2);
    assert_non_null(t1), assert_non_null(t2);
    assert_int_equal(n1, n2);
    assert_memory_equal(t1, t2, n1);
    free(t2);
    return t1;
}

static void test_import_export_round_trip(void **s) {
    (void)s;
    char a[128], b[128], e1[128], e2[128];
    snprintf(a, sizeof a, "%s/a.sqlite", dir), snprintf(b, sizeof b, "%s/b.sqlite", dir);
    snprintf(e1, sizeof e1, "%s/e1.txt", dir), snprintf(e2, sizeof e2, "%s/e2.txt", dir);
    cli_history(&R, a, "import " RESULT);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "1882 records added"));
    cli_history(&R, a, "import " RESULT);   /* the same run again: skipped */
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "already in the history"));
    char *t1 = export_round_trip(a, b, e1, e2);
    /* a record with its statistics, ratios and the 11 repetitions of the committed file */
    assert_non_null(strstr(t1, "\nrec\tconv2d_fwd/mb1_ic4oc64_ih8iw8_kh1kw1_sh1sw1_b1/ours/threads:1\t277.381228\t275.249407\t"
                               "278.585557\t0.223843028\t0.165042326\t118.133445\t273.803826 277.381228 287.356168 "));
    assert_non_null(strstr(t1, "\nrun\tamd-epyc-zen5-2c\tAuthenticAMD AMD EPYC family 26 model 2 zen5\t1e9b1ae98cb0-dirty\t"));
    free(t1);
    cli_history(&R, b, "list --machine amd-epyc-zen5-2c --filter conv2d_fwd/mb1_ic4oc64_ih8iw8_kh1kw1_sh1sw1_b1/ours --json");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "\"count\": 1"));
    assert_non_null(strstr(R.out, "\"last_commit\": \"1e9b1ae98cb0-dirty\""));
}

/* One writer: runs appended one transaction each, with 50 records of 5 repetitions. */
static void writer(const char *path, int who, int runs) {
    char err[1400];
    hist_db *db = hist_open(path, true, err, sizeof err);
    if (!db) fprintf(stderr, "writer %d: %s\n", who, err), _exit(1);
    double reps[5] = {1, 2, 3, 4, 5};
    hist_record recs[50];
    char names[50][32];
    for (int i = 0; i < 50; i++) {
        snprintf(names[i], sizeof names[i], "bench/%d", i);
        recs[i] = (hist_record){names[i], reps, 5, 3, 2, 4, NAN, 1.5, 10};
    }
    for (int r = 0; r < runs; r++) {
        hist_run run = {.machine = "m", .command = "bench", .commit = "c"};
        snprintf(run.date, sizeof run.date, "2026-01-01T00:00:%02u+0000 w%u", (unsigned)r % 100u, (unsigned)who % 10u);
        bool added;
        if (!hist_append(db, &run, recs, 50, &added, err, sizeof err) || !added) fprintf(stderr, "writer %d: %s\n", who, err), _exit(1);
    }
    hist_close(db);
    _exit(0);
}

static void test_two_writers_at_once(void **s) {
    (void)s;
    char path[128], err[1400];
    snprintf(path, sizeof path, "%s/concurrent.sqlite", dir);
    enum { WRITERS = 3, RUNS = 40 };
    pid_t pid[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pid[w] = fork();
        assert_true(pid[w] >= 0);
        if (pid[w] == 0) writer(path, w, RUNS);
    }
    for (int w = 0; w < WRITERS; w++) {
        int st;
        assert_int_equal(waitpid(pid[w], &st, 0), pid[w]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    hist_db *db = hist_open(path, false, err, sizeof err);
    if (!db) fail_msg("%s", err);
    assert_true(hist_check(db, err, sizeof err));
    hist_close(db);
    cli_history(&R, path, "list --filter bench/49");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "    120  "));   /* WRITERS x RUNS runs of that series */
}

/* A file that is not a history: one line, status 2, the file byte for byte as it was. */
static void refused_untouched(const char *path, const char *why) {
    size_t n0, n1;
    char *before = test_slurp(path, &n0);
    assert_non_null(before);
    const char *cmds[] = {"list", ("import " RESULT), "export", "check"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cli_history(&R, path, cmds[i]);
        if (R.status != 2 || R.lines != 1 || !strstr(R.out, "not a latbench history") || !strstr(R.out, why))
            fail_msg("history %s on %s: status %d, wanted 2 and one line with '%s':\n%s", cmds[i], path, R.status, why, R.out);
        assert_true(!strncmp(R.out, "latbench: history ", 18));
        char *after = test_slurp(path, &n1);
        assert_int_equal(n0, n1);
        assert_memory_equal(before, after, n0);
        free(after);
    }
    free(before);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", path);
    assert_int_not_equal(access(wal, F_OK), 0);
}

static void sql(const char *path, const char *text) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", text, msg);
    sqlite3_close(db);
}

static void test_damaged_files_are_refused_untouched(void **s) {
    (void)s;
    char path[128];
    snprintf(path, sizeof path, "%s/random.sqlite", dir);
    FILE *f = fopen(path, "wb");
    srand(7);
    for (int i = 0; i < 8192; i++) fputc(rand() & 255, f);
    fclose(f);
    refused_untouched(path, "not an SQLite database");

    snprintf(path, sizeof path, "%s/foreign.sqlite", dir);
    sql(path, "CREATE TABLE songs(title TEXT); INSERT INTO songs VALUES('a');");
    refused_untouched(path, "another SQLite database");

    /* a real history cut to half its length */
    snprintf(path, sizeof path, "%s/truncated.sqlite", dir);
    cli_history(&R, path, "import " RESULT);
    assert_int_equal(R.status, 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    refused_untouched(path, "truncated");

    snprintf(path, sizeof path, "%s/short.sqlite", dir);
    f = fopen(path, "wb");
    fputs("SQLite format 3", f);
    fclose(f);
    refused_untouched(path, "shorter than an SQLite header");
}

static void test_newer_schema_is_refused(void **s) {
    (void)s;
    char path[128];
    snprintf(path, sizeof path, "%s/newer.sqlite", dir);
    cli_history(&R, path, "import " RESULT);
    assert_int_equal(R.status, 0);
    sql(path, "INSERT INTO latbench_schema VALUES(99, 'later')");
    refused_untouched(path, "schema version 99 is newer");
}

static void test_location(void **s) {
    (void)s;
    char env[400], path[200];
    snprintf(env, sizeof env, "LATBENCH_HISTORY=%s/chosen.sqlite XDG_DATA_HOME=%s/xdg", dir, dir);
    /* a file that is no bench result is named, and the others still go in (exit 2) */
    cli_latbench(&R, env, "history import results/gate/avx2.json " RESULT);
    assert_int_equal(R.status, 2);
    assert_non_null(strstr(R.out, "latbench: results/gate/avx2.json: not a bench result: no \"context\" object\n"));
    assert_non_null(strstr(R.out, "1882 records added"));
    snprintf(path, sizeof path, "%s/chosen.sqlite", dir);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(env, sizeof env, "-u LATBENCH_HISTORY XDG_DATA_HOME=%s/xdg", dir);
    cli_latbench(&R, env, "history import " RESULT);
    assert_int_equal(R.status, 0);
    snprintf(path, sizeof path, "%s/xdg/latbench/history.sqlite", dir);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(env, sizeof env, "-u LATBENCH_HISTORY -u XDG_DATA_HOME HOME=%s/home", dir);
    cli_latbench(&R, env, "history import " RESULT);
    assert_int_equal(R.status, 0);
    snprintf(path, sizeof path, "%s/home/.local/share/latbench/history.sqlite", dir);
    assert_int_equal(access(path, F_OK), 0);
    /* nothing recorded yet: list says so, creates nothing */
    snprintf(path, sizeof path, "%s/none.sqlite", dir);
    cli_history(&R, path, "list");
    assert_int_equal(R.status, 2);
    assert_non_null(strstr(R.out, "no history there yet"));
    assert_int_not_equal(access(path, F_OK), 0);
}

static void test_export_text_errors_name_the_line(void **s) {
    (void)s;
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"latbench-history 3\n", "t:1: export version 3 is newer"},
        {"nonsense\n", "t:1: not a latbench history export"},
        {"latbench-history 1\nrec\tx\t1\t-\t-\t-\t-\t-\t-\n", "t:2: a rec line before any run line"},
        {"latbench-history 1\nrun\tm\tc\tg\tf\tcc\td\tbench\t1\nrec\tx\t1e999\t-\t-\t-\t-\t-\t-\n", "t:3: field 3: not a number"},
        {"latbench-history 1\nrun\tm\tc\tg\tf\tcc\td\tbench\t1\nrec\tx\t1\t-\t-\t-\t-\t-\t1 nan\n", "t:3: repetitions: not a number"},
        {"latbench-history 1\nrun\tm\tc\n", "t:2: a run line has 9 fields, not 3"},
        {"latbench-history 1\nrun\t\tc\tg\tf\tcc\td\tbench\t1\n", "t:2: a run without machine or date"},
        {"latbench-history 2\nrun\tm\tc\tg\tf\tcc\td\tbench\t1\n", "t:2: a run line has 10 fields, not 9"},
        {"latbench-history 1\nrun\tm\tc\tg\tf\tcc\td\tgate\t1\tnone\n", "t:2: a run line has 9 fields, not 10"},
        {"latbench-history 2\nrun\tm\tc\tg\tf\tcc\td\tgate\t1\tprofile:12ab\n", "t:2: field 10: not a tuning profile"},
        {"latbench-history 2\nrun\tm\tc\tg\tf\tcc\td\tgate\t1\tNone\n", "t:2: field 10: not a tuning profile"},
        {"latbench-history 1\nwhat\n", "t:2: neither a run nor a rec line"},
    };
    char err[1400];
    hist_db *db = hist_open(":memory:", true, err, sizeof err);
    assert_non_null(db);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int n = -1;
        assert_false(hist_import_text(db, bad[i].text, strlen(bad[i].text), "t", &n, err, sizeof err));
        if (!strstr(err, bad[i].msg)) fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].msg);
    }
    /* version 1 (no profile) is read: its run's profile is not known, "" in version 2 */
    const char *v1 = "latbench-history 1\nrun\tm\\tx\tc\tg\tf\tcc\td\tbench\t1\nrec\tx\t1\t-\t-\t-\t-\t-\t1 2.5\n";
    int n = 0;
    assert_true(hist_import_text(db, v1, strlen(v1), "t", &n, err, sizeof err));
    assert_int_equal(n, 1);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_true(hist_export(db, f, err, sizeof err));
    fclose(f);
    /* the escaped tab comes back escaped */
    assert_string_equal(out, "latbench-history 2\nrun\tm\\tx\tc\tg\tf\tcc\td\tbench\t1\t\nrec\tx\t1\t-\t-\t-\t-\t-\t1 2.5\n");
    free(out);
    hist_close(db);
    /* every kind of profile comes back, and `history` sees it: a change between two known profiles is a break */
    const char *v2 = "latbench-history 2\n"
                     "run\tm\tc\tg1\tf\tcc\t2026-01-01\tgate\t1\tnone\nrec\tgate/x\t-\t-\t-\t1\t2\t-\t-\n"
                     "run\tm\tc\tg2\tf\tcc\t2026-01-02\tgate\t1\toff\nrec\tgate/x\t-\t-\t-\t1\t2\t-\t-\n"
                     "run\tm\tc\tg3\tf\tcc\t2026-01-03\tgate\t1\tprofile:0123456789abcdef\nrec\tgate/x\t-\t-\t-\t1\t2\t-\t-\n"
                     "run\tm\tc\tg4\tf\tcc\t2026-01-04\tbench\t1\t\nrec\tgate/x\t-\t-\t-\t1\t2\t-\t-\n";
    db = hist_open(":memory:", true, err, sizeof err);
    assert_non_null(db);
    assert_true(hist_import_text(db, v2, strlen(v2), "t", &n, err, sizeof err));
    assert_int_equal(n, 4);
    f = open_memstream(&out, &len);
    assert_true(hist_export(db, f, err, sizeof err));
    fclose(f);
    assert_string_equal(out, v2);
    free(out);
    f = open_memstream(&out, &len);
    hist_changes_opts co = {.threshold = 3, .alpha = 0.01, .perms = 199, .min_size = 3, .seed = 1};
    int regressions = -1;
    assert_true(hist_changes(db, &co, f, &regressions, err, sizeof err));
    fclose(f);
    if (!strstr(out, "profile changed to profile:0123456789abcdef: the 2 runs before")) fail_msg("%s", out);
    free(out);
    hist_close(db);
}

/* bench appends the JSON it wrote; --no-history is the front end's and does not reach bench. */
static void test_bench_appends_its_run(void **s) {
    (void)s;
    SKIP_UNDER_EMULATION("bench append");
    char env[300], args[400], path[128];
    snprintf(path, sizeof path, "%s/bench.sqlite", dir);
    snprintf(env, sizeof env, "LATBENCH_HISTORY=%s", path);
    snprintf(args, sizeof args, "bench --quick --threads 1 --baseline none --desc conv2d/mb1_ic3oc5_ih11iw13_kh3kw3_sh2sw1_b1 --json %s/b.json", dir);
    cli_latbench(&R, env, args);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "history: 3 records appended to "));
    cli_history(&R, path, "list --filter conv2d_fwd/mb1_ic3oc5");
    assert_int_equal(R.status, 0);
    assert_int_equal(R.lines, 2);
    cli_latbench(&R, env, "bench --no-history --bogus");
    assert_int_equal(R.status, 2);
    assert_non_null(strstr(R.out, "'--bogus'"));
}

/* gate appends its gated ratios (whatever its verdict on a loaded machine: no timing asserted) and
 * the tuning profile it ran with. */
static void test_gate_appends_its_ratios(void **s) {
    (void)s;
    SKIP_UNDER_EMULATION("gate append");
    char env[300], path[128];
    snprintf(path, sizeof path, "%s/gate.sqlite", dir);
    snprintf(env, sizeof env, "LATBENCH_HISTORY=%s", path);
    cli_latbench(&R, env, "gate --reps 3 --expect results/gate/avx2.json");   /* any ISA's file: not judged here */
    if (!strstr(R.out, "history: 13 gate ratios appended to ")) fail_msg("%s", R.out);
    cli_history(&R, path, "export");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "\tgate\t1\t"));
    assert_non_null(strstr(R.out, "\nrec\tgate/"));
    assert_non_null(strstr(R.out, "/conv2d_fwd/"));
    /* the tuning profile it ran with is on its run: "none", "off" or "profile:<16 hex digits>" */
    sqlite3 *d;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(path, &d), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(d, "SELECT profile FROM runs WHERE command = 'gate'", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    const char *prof = (const char *)sqlite3_column_text(q, 0);
    if (strcmp(prof, "none") && strcmp(prof, "off") && !(strlen(prof) == 24 && !strncmp(prof, "profile:", 8)))
        fail_msg("the gate run's profile: '%s'", prof);
    printf("the gate run's profile: %s\n", prof);
    /* the export carries it, and an import of the export into an empty store exports the same text */
    char line[64], e1[128], e2[128], b[128];
    snprintf(line, sizeof line, "\tgate\t1\t%s\n", prof);
    assert_non_null(strstr(R.out, line));
    sqlite3_finalize(q);
    sqlite3_close(d);
    snprintf(e1, sizeof e1, "%s/gate1.txt", dir), snprintf(e2, sizeof e2, "%s/gate2.txt", dir), snprintf(b, sizeof b, "%s/gate_b.sqlite", dir);
    char *t1 = export_round_trip(path, b, e1, e2);
    assert_non_null(strstr(t1, line));
    free(t1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_export_round_trip),
        cmocka_unit_test(test_two_writers_at_once),
        cmocka_unit_test(test_damaged_files_are_refused_untouched),
        cmocka_unit_test(test_newer_schema_is_refused),
        cmocka_unit_test(test_location),
        cmocka_unit_test(test_export_text_errors_name_the_line),
        cmocka_unit_test(test_bench_appends_its_run),
        cmocka_unit_test(test_gate_appends_its_ratios),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

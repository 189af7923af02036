/* Reading the history back (history.h): the series list and the export text.
 *
 * Export text, one line per item, tab-separated, UTF-8; a field's tab, newline, carriage return and
 * backslash are written \t \n \r \\; an absent number is "-"; numbers are the shortest decimal that
 * reads back to the same double:
 *   latbench-history 2
 *   run MACHINE CPU COMMIT FLAGS COMPILER DATE COMMAND THREADS PROFILE
 *   rec NAME MEDIAN Q1 Q3 RATIO_ONEDNN RATIO_SCALAR GFLOPS REPS      (REPS: space-separated, ns)
 * each rec belonging to the run line above it; PROFILE is the run's tuning profile (hist_run.profile,
 * empty when not known).  Version 1 had no PROFILE field.  history_import.c reads both back. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/track/history.h"
#include "tools/track/history_db.h"

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), false)

static void put_field(FILE *f, const char *s) {
    fputc('\t', f);
    for (; s && *s; s++) {
        switch (*s) {
        case '\t': fputs("\\t", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\\': fputs("\\\\", f); break;
        default: fputc(*s, f);
        }
    }
}

/* The shortest of %.15g..%.17g that reads back as v. */
static void put_num(FILE *f, double v, char sep) {
    char b[40];
    for (int p = 15; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, v);
        if (strtod(b, NULL) == v) break;
    }
    fprintf(f, "%c%s", sep, b);
}

static void put_column_num(FILE *f, sqlite3_stmt *st, int col) {
    if (sqlite3_column_type(st, col) == SQLITE_NULL) fputs("\t-", f);
    else put_num(f, sqlite3_column_double(st, col), '\t');
}

static void put_reps(FILE *f, sqlite3_stmt *st, int col) {
    const unsigned char *b = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col) / 8;
    if (!b || n == 0) {
        fputs("\t-", f);
        return;
    }
    for (int k = 0; k < n; k++) {
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u |= (uint64_t)b[8 * k + i] << (8 * i);
        double v;
        memcpy(&v, &u, 8);
        put_num(f, v, k ? ' ' : '\t');
    }
}

bool hist_export(hist_db *db, FILE *f, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (!hist_prepare(db,
                      "SELECT r.id, r.machine, r.cpu, r.git_commit, r.build_flags, r.compiler, r.date, r.command, r.threads,"
                      " r.profile, c.name, c.median, c.q1, c.q3, c.ratio_onednn, c.ratio_scalar, c.gflops, c.reps"
                      " FROM runs r LEFT JOIN records c ON c.run_id = r.id ORDER BY r.date, r.id, c.seq",
                      &st, err, errlen))
        return false;
    fprintf(f, "%s %d\n", HIST_TEXT_MAGIC, HIST_TEXT_VERSION);
    sqlite3_int64 last = -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (id != last) {
            fputs("run", f);
            for (int c = 1; c <= 9; c++) put_field(f, (const char *)sqlite3_column_text(st, c));
            fputc('\n', f);
            last = id;
        }
        if (sqlite3_column_type(st, 10) == SQLITE_NULL) continue;   /* a run without records */
        fputs("rec", f);
        put_field(f, (const char *)sqlite3_column_text(st, 10));
        for (int c = 11; c <= 16; c++) put_column_num(f, st, c);
        put_reps(f, st, 17);
        fputc('\n', f);
    }
    bool ok = rc == SQLITE_DONE;
    if (!ok) snprintf(err, errlen, "history %s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    return ok;
}

static const char *col_text(sqlite3_stmt *st, int c) {
    const char *s = (const char *)sqlite3_column_text(st, c);
    return s ? s : "";
}

/* One series row: machine, name, count, first date, last date, last commit. */
static void list_row(sqlite3_stmt *st, bool json, json_t *arr, FILE *f) {
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "machine", json_string(col_text(st, 0)));
        json_object_set_new(o, "name", json_string(col_text(st, 1)));
        json_object_set_new(o, "count", json_integer(sqlite3_column_int64(st, 2)));
        json_object_set_new(o, "first_date", json_string(col_text(st, 3)));
        json_object_set_new(o, "last_date", json_string(col_text(st, 4)));
        json_object_set_new(o, "last_commit", json_string(col_text(st, 5)));
        json_array_append_new(arr, o);
    } else {
        fprintf(f, "%-32s %6lld  %-24s %-24s %-18s %s\n", col_text(st, 0), (long long)sqlite3_column_int64(st, 2),
                col_text(st, 3), col_text(st, 4), col_text(st, 5), col_text(st, 1));
    }
}

bool hist_list(hist_db *db, const char *machine, const char *filter, bool json, FILE *f, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (!hist_prepare(db,
                      "SELECT machine, name, count, first_date, last_date, last_commit FROM series"
                      " WHERE (?1 IS NULL OR machine = ?1) AND (?2 IS NULL OR instr(name, ?2) > 0) ORDER BY machine, name",
                      &st, err, errlen))
        return false;
    if (machine) sqlite3_bind_text(st, 1, machine, -1, SQLITE_STATIC);
    if (filter) sqlite3_bind_text(st, 2, filter, -1, SQLITE_STATIC);
    json_t *arr = json ? json_array() : NULL;
    if (!json) fprintf(f, "%-32s %6s  %-24s %-24s %-18s %s\n", "machine", "runs", "first", "last", "last commit", "benchmark");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) list_row(st, json, arr, f);
    bool ok = rc == SQLITE_DONE;
    if (!ok) snprintf(err, errlen, "history %s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    if (ok && json) {
        json_dumpf(arr, f, JSON_INDENT(1));
        fputc('\n', f);
    }
    json_decref(arr);
    return ok;
}

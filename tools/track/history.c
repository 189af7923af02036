/* The benchmark history store (history.h): one SQLite database, schema version 4 (version 1 plus the
 * series table: one row per (machine, benchmark name), kept up to date by every append, which the
 * list and the change points read instead of grouping every record; version 3 renamed the series of
 * earlier names into the one grammar of benchmark names; version 4 gave runs the tuning profile they
 * ran with, '' for the runs before it).
 *
 * A file is checked before SQLite writes anything to it: its header (the SQLite magic, a length that
 * holds the pages the header counts), then its application_id and schema table.  Anything else - random
 * bytes, a truncated copy, another program's database, a newer schema - is refused and left as it was.
 * The check and the creation of a new history run under an flock of the file, so that two processes
 * that start on a missing or empty file (two CI jobs) create it once.  WAL journaling and a busy timeout
 * let concurrent writers wait for each other; each run is appended in one IMMEDIATE transaction. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/track/history.h"
#include "tools/track/history_db.h"
#include "lib/io/atomic.h"

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), false)
/* "LBHS": PRAGMA application_id of a latbench history */
#define HIST_APP_ID 0x4c424853
/* how long a writer waits for another one (two CI jobs appending at once) */
#define HIST_BUSY_MS 30000

/* migrations[v] takes a database from schema version v to v + 1 (v = 0: a new, empty file). */
static const char *const migrations[HIST_SCHEMA_VERSION] = {
    "CREATE TABLE latbench_schema(version INTEGER NOT NULL, applied TEXT NOT NULL);"
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, machine TEXT NOT NULL, cpu TEXT NOT NULL,"
    " git_commit TEXT NOT NULL, build_flags TEXT NOT NULL, compiler TEXT NOT NULL, date TEXT NOT NULL,"
    " command TEXT NOT NULL, threads TEXT NOT NULL, UNIQUE(machine, date, git_commit, command));"
    "CREATE TABLE records(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " seq INTEGER NOT NULL, name TEXT NOT NULL, reps BLOB, median REAL, q1 REAL, q3 REAL,"
    " ratio_onednn REAL, ratio_scalar REAL, gflops REAL, PRIMARY KEY(run_id, seq)) WITHOUT ROWID;"
    "CREATE INDEX records_name ON records(name, run_id);",
    /* 1 -> 2: the series table, filled from the records already there; records gain their series */
    "CREATE TABLE series(id INTEGER PRIMARY KEY, machine TEXT NOT NULL, name TEXT NOT NULL,"
    " count INTEGER NOT NULL, first_date TEXT NOT NULL, last_date TEXT NOT NULL, last_commit TEXT NOT NULL,"
    " UNIQUE(machine, name));"
    "ALTER TABLE records ADD COLUMN series_id INTEGER REFERENCES series(id);"
    "INSERT INTO series(machine, name, count, first_date, last_date, last_commit)"
    " SELECT machine, name, n, first, substr(last, 1, instr(last, char(9)) - 1), substr(last, instr(last, char(9)) + 1)"
    " FROM (SELECT r.machine AS machine, c.name AS name, count(*) AS n, min(r.date) AS first,"
    "  max(r.date || char(9) || r.git_commit) AS last FROM records c JOIN runs r ON r.id = c.run_id GROUP BY r.machine, c.name);"
    "UPDATE records SET series_id = (SELECT s.id FROM series s JOIN runs r ON r.id = records.run_id"
    " WHERE s.machine = r.machine AND s.name = records.name);"
    "CREATE INDEX records_series ON records(series_id, run_id, median, ratio_onednn, ratio_scalar);",
    /* 2 -> 3: the names of earlier versions in the one grammar (hist_name_upgrade; two old names of one
     * benchmark become one series), the series table rebuilt from the renamed records */
    "UPDATE records SET name = latbench_name_v3(name) WHERE name <> latbench_name_v3(name);"
    "UPDATE records SET series_id = NULL;"
    "DELETE FROM series;"
    "INSERT INTO series(machine, name, count, first_date, last_date, last_commit)"
    " SELECT machine, name, n, first, substr(last, 1, instr(last, char(9)) - 1), substr(last, instr(last, char(9)) + 1)"
    " FROM (SELECT r.machine AS machine, c.name AS name, count(*) AS n, min(r.date) AS first,"
    "  max(r.date || char(9) || r.git_commit) AS last FROM records c JOIN runs r ON r.id = c.run_id GROUP BY r.machine, c.name);"
    "UPDATE records SET series_id = (SELECT s.id FROM series s JOIN runs r ON r.id = records.run_id"
    " WHERE s.machine = r.machine AND s.name = records.name);",
    /* 3 -> 4: the tuning profile of a run ('': not known, as for every run recorded before) */
    "ALTER TABLE runs ADD COLUMN profile TEXT NOT NULL DEFAULT '';",
};

/* latbench_name_v3(name): hist_name_upgrade in SQL, for the 2 -> 3 migration. */
static void sql_name_v3(sqlite3_context *c, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *name = (const char *)sqlite3_value_text(argv[0]);
    char out[600];
    if (!name || !hist_name_upgrade(name, out, sizeof out)) sqlite3_result_value(c, argv[0]);
    else sqlite3_result_text(c, out, -1, SQLITE_TRANSIENT);
}

bool hist_default_path(char *out, size_t len, char *err, size_t errlen) {
    const char *p = getenv("LATBENCH_HISTORY");
    int n;
    if (p && *p) n = snprintf(out, len, "%s", p);
    else if ((p = getenv("XDG_DATA_HOME")) && *p == '/') n = snprintf(out, len, "%s/latbench/history.sqlite", p);
    else if ((p = getenv("HOME")) && *p) n = snprintf(out, len, "%s/.local/share/latbench/history.sqlite", p);
    else return FAIL("history: no location for it (set LATBENCH_HISTORY, XDG_DATA_HOME or HOME)");
    if (n < 0 || (size_t)n >= len) return FAIL("history: its path is too long");
    return true;
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The file's header before SQLite reads it: *empty for a 0-byte file (a new history); false with
 * the reason in why for anything that is not a whole SQLite database. */
static bool precheck_header(int fd, bool *empty, char *why, size_t wl) {
    struct stat st;
    if (fstat(fd, &st) != 0) return snprintf(why, wl, "%s", strerror(errno)), false;
    if (!S_ISREG(st.st_mode)) return snprintf(why, wl, "not a regular file"), false;
    *empty = st.st_size == 0;
    if (*empty) return true;
    unsigned char h[100];
    if (st.st_size < 100 || pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h)
        return snprintf(why, wl, "%lld bytes: shorter than an SQLite header", (long long)st.st_size), false;
    if (memcmp(h, "SQLite format 3", 16) != 0) return snprintf(why, wl, "not an SQLite database"), false;
    uint32_t page = (uint32_t)h[16] << 8 | h[17];
    if (page == 1) page = 65536;
    uint32_t pages = be32(h + 28);
    /* the page count is valid when the change counter matches version-valid-for (SQLite's rule) */
    if (pages && be32(h + 24) == be32(h + 92) && (uint64_t)pages * page > (uint64_t)st.st_size)
        return snprintf(why, wl, "truncated: %lld of %llu bytes", (long long)st.st_size, (unsigned long long)pages * page), false;
    return true;
}

bool hist_exec(hist_db *db, const char *sql, char *err, size_t errlen) {
    char *msg = NULL;
    if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) == SQLITE_OK) return true;
    snprintf(err, errlen, "history %s: %s", db->path, msg ? msg : sqlite3_errmsg(db->db));
    sqlite3_free(msg);
    return false;
}

/* Ends a failed transaction (its own failure changes nothing: SQLite rolls back on close). */
static void rollback(hist_db *db) {
    sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

/* One integer from sql; false with SQLite's message in why. */
static bool query_int(sqlite3 *s, const char *sql, long long *v, char *why, size_t wl) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) *v = sqlite3_column_int64(st, 0);
    bool ok = rc == SQLITE_ROW;
    if (!ok) snprintf(why, wl, "%s", sqlite3_errmsg(s));
    sqlite3_finalize(st);
    return ok;
}

/* The schema version of an opened file: 0 for a new one; false with the reason it is no history. */
static bool schema_version(hist_db *db, long long *version, char *why, size_t wl) {
    long long app = 0, tables = 0;
    if (!query_int(db->db, "PRAGMA application_id", &app, why, wl)) return false;
    if (!query_int(db->db, "SELECT count(*) FROM sqlite_master", &tables, why, wl)) return false;
    *version = 0;
    if (tables == 0 && (app == 0 || app == HIST_APP_ID)) return true;
    if (app != HIST_APP_ID)
        return snprintf(why, wl, "another SQLite database: application_id %lld, %lld tables", app, tables), false;
    if (!query_int(db->db, "SELECT max(version) FROM latbench_schema", version, why, wl)) return false;
    if (*version < 1) return snprintf(why, wl, "no schema version"), false;
    if (*version > HIST_SCHEMA_VERSION)
        return snprintf(why, wl, "schema version %lld is newer than this latbench's %d: use a newer latbench", *version,
                        HIST_SCHEMA_VERSION), false;
    return true;
}

/* Brings the schema to HIST_SCHEMA_VERSION, one migration per version, in one transaction. */
static bool migrate(hist_db *db, char *err, size_t errlen) {
    char why[256];
    long long v;
    if (!hist_exec(db, "BEGIN IMMEDIATE", err, errlen)) return false;
    if (!schema_version(db, &v, why, sizeof why)) {   /* again, under the write lock */
        rollback(db);
        return FAIL("history %s: not a latbench history (%s)", db->path, why);
    }
    bool ok = true;
    for (; ok && v < HIST_SCHEMA_VERSION; v++) {
        char sql[160];
        snprintf(sql, sizeof sql, "INSERT INTO latbench_schema VALUES(%lld, datetime('now')); PRAGMA application_id = %d;",
                 v + 1, HIST_APP_ID);
        ok = hist_exec(db, migrations[v], err, errlen) && hist_exec(db, sql, err, errlen);
    }
    if (ok) return hist_exec(db, "COMMIT", err, errlen);
    rollback(db);
    return false;
}

/* The side descriptor: the header check reads it, and its flock serialises opening and creation. */
static bool open_side(hist_db *db, bool create, char *err, size_t errlen) {
    if (create) {
        char dir[sizeof db->path];
        snprintf(dir, sizeof dir, "%s", db->path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = 0;
            if (!io_mkdirs(dir)) return FAIL("history %s: cannot make its folder: %s", db->path, strerror(errno));
        }
    }
    db->fd = open(db->path, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_NONBLOCK | O_CLOEXEC, 0644);
    if (db->fd < 0 && errno == ENOENT && !create)
        return FAIL("history %s: no history there yet (latbench bench or latbench history import makes one)", db->path);
    if (db->fd < 0) return FAIL("history %s: %s", db->path, strerror(errno));
    if (flock(db->fd, LOCK_EX) != 0) return FAIL("history %s: lock: %s", db->path, strerror(errno));
    return true;
}

static bool open_checked(hist_db *db, bool create, char *err, size_t errlen) {
    char why[300];
    bool memory = !strcmp(db->path, ":memory:"), empty = true;
    if (!memory) {
        if (!open_side(db, create, err, errlen)) return false;
        if (!precheck_header(db->fd, &empty, why, sizeof why))
            return FAIL("history %s: not a latbench history (%s)", db->path, why);
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(db->path, &db->db, flags, NULL) != SQLITE_OK)
        return FAIL("history %s: %s", db->path, db->db ? sqlite3_errmsg(db->db) : "out of memory");
    sqlite3_busy_timeout(db->db, HIST_BUSY_MS);
    if (sqlite3_create_function(db->db, "latbench_name_v3", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_name_v3, NULL,
                                NULL) != SQLITE_OK)
        return FAIL("history %s: %s", db->path, sqlite3_errmsg(db->db));
    long long v;
    if (!schema_version(db, &v, why, sizeof why)) return FAIL("history %s: not a latbench history (%s)", db->path, why);
    if (!memory && !hist_exec(db, "PRAGMA journal_mode=WAL", err, errlen)) return false;
    if (!hist_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", err, errlen)) return false;
    return v == HIST_SCHEMA_VERSION || migrate(db, err, errlen);
}

hist_db *hist_open(const char *path, bool create, char *err, size_t errlen) {
    hist_db *db = calloc(1, sizeof *db);
    if (!db) return snprintf(err, errlen, "history %s: out of memory", path), NULL;
    db->fd = -1;
    if (snprintf(db->path, sizeof db->path, "%s", path) >= (int)sizeof db->path) {
        snprintf(err, errlen, "history: path too long");
        free(db);
        return NULL;
    }
    bool ok = open_checked(db, create, err, errlen);
    if (db->fd >= 0) flock(db->fd, LOCK_UN);
    if (!ok) {
        hist_close(db);
        return NULL;
    }
    return db;
}

hist_db *hist_open_default(char *path, size_t len, char *err, size_t errlen) {
    return hist_default_path(path, len, err, errlen) ? hist_open(path, true, err, errlen) : NULL;
}

void hist_close(hist_db *db) {
    if (!db) return;
    sqlite3_close(db->db);
    /* closed after SQLite's own descriptors: closing a descriptor drops the process's POSIX locks */
    if (db->fd >= 0) close(db->fd);
    free(db);
}

bool hist_prepare(hist_db *db, const char *sql, sqlite3_stmt **st, char *err, size_t errlen) {
    if (sqlite3_prepare_v2(db->db, sql, -1, st, NULL) == SQLITE_OK) return true;
    return FAIL("history %s: %s", db->path, sqlite3_errmsg(db->db));
}

static void bind_num(sqlite3_stmt *st, int i, double v) {
    if (isfinite(v)) sqlite3_bind_double(st, i, v);
    else sqlite3_bind_null(st, i);
}

/* The repetitions as little-endian IEEE doubles (the same blob on every host). */
static void bind_reps(sqlite3_stmt *st, int i, const double *reps, int n, unsigned char *buf) {
    for (int k = 0; k < n; k++) {
        uint64_t u;
        memcpy(&u, &reps[k], 8);
        for (int b = 0; b < 8; b++) buf[8 * k + b] = (unsigned char)(u >> (8 * b));
    }
    sqlite3_bind_blob(st, i, buf, 8 * n, SQLITE_TRANSIENT);
}

static bool insert_run(hist_db *db, const hist_run *r, bool *added, sqlite3_int64 *id, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (!hist_prepare(db, "INSERT OR IGNORE INTO runs(machine, cpu, git_commit, build_flags, compiler, date, command, threads,"
                          " profile) VALUES(?,?,?,?,?,?,?,?,?)", &st, err, errlen))
        return false;
    const char *v[] = {r->machine, r->cpu, r->commit, r->flags, r->compiler, r->date, r->command, r->threads, r->profile};
    for (int i = 0; i < 9; i++) sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok) snprintf(err, errlen, "history %s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    *added = ok && sqlite3_changes(db->db) > 0;
    *id = sqlite3_last_insert_rowid(db->db);
    return ok;
}

/* The series of (run's machine, name), made or brought up to date with one more record; its id in *sid. */
static bool upsert_series(hist_db *db, sqlite3_stmt *st, const hist_run *r, const char *name, sqlite3_int64 *sid, char *err,
                          size_t errlen) {
    sqlite3_bind_text(st, 1, r->machine, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->commit, -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) *sid = sqlite3_column_int64(st, 0);
    ok = ok && sqlite3_step(st) == SQLITE_DONE;
    if (sqlite3_reset(st) != SQLITE_OK || !ok) return FAIL("history %s: %s", db->path, sqlite3_errmsg(db->db));
    return true;
}

/* the newest (date, then commit) run of a series names its last date and commit, as list always did */
#define HIST_UPSERT_SERIES                                                                                         \
    "INSERT INTO series(machine, name, count, first_date, last_date, last_commit) VALUES(?1, ?2, 1, ?3, ?3, ?4)"  \
    " ON CONFLICT(machine, name) DO UPDATE SET count = count + 1, first_date = min(first_date, excluded.first_date)," \
    " last_commit = CASE WHEN excluded.last_date || char(9) || excluded.last_commit > last_date || char(9) || last_commit" \
    "  THEN excluded.last_commit ELSE last_commit END, last_date = max(last_date, excluded.last_date) RETURNING id"

static bool insert_records(hist_db *db, const hist_run *run, sqlite3_int64 id, const hist_record *recs, size_t n, char *err,
                           size_t errlen) {
    sqlite3_stmt *st, *ser;
    if (!hist_prepare(db, HIST_UPSERT_SERIES, &ser, err, errlen)) return false;
    if (!hist_prepare(db, "INSERT INTO records VALUES(?,?,?,?,?,?,?,?,?,?,?)", &st, err, errlen)) {
        sqlite3_finalize(ser);
        return false;
    }
    unsigned char *buf = NULL;
    size_t cap = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const hist_record *c = &recs[i];
        sqlite3_int64 sid;
        if (!(ok = upsert_series(db, ser, run, c->name, &sid, err, errlen))) break;
        sqlite3_bind_int64(st, 11, sid);
        if ((size_t)c->n_reps * 8 > cap) {
            cap = (size_t)c->n_reps * 8;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) { ok = FAIL("history %s: out of memory", db->path); break; }
            buf = nb;
        }
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
        if (c->n_reps > 0) bind_reps(st, 4, c->reps, c->n_reps, buf);
        else sqlite3_bind_null(st, 4);
        const double nums[] = {c->median, c->q1, c->q3, c->ratio_onednn, c->ratio_scalar, c->gflops};
        for (int k = 0; k < 6; k++) bind_num(st, 5 + k, nums[k]);
        ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_reset(st) == SQLITE_OK;
        if (!ok) snprintf(err, errlen, "history %s: %s", db->path, sqlite3_errmsg(db->db));
    }
    free(buf);
    sqlite3_finalize(st);
    sqlite3_finalize(ser);
    return ok;
}

bool hist_append(hist_db *db, const hist_run *run, const hist_record *recs, size_t n, bool *added, char *err, size_t errlen) {
    sqlite3_int64 id;
    *added = false;
    if (!hist_exec(db, "BEGIN IMMEDIATE", err, errlen)) return false;
    bool ok = insert_run(db, run, added, &id, err, errlen);
    if (ok && *added) ok = insert_records(db, run, id, recs, n, err, errlen);
    if (ok && hist_exec(db, "COMMIT", err, errlen)) return true;
    rollback(db);
    *added = false;
    return false;
}

bool hist_check(hist_db *db, char *err, size_t errlen) {
    sqlite3_stmt *st;
    if (!hist_prepare(db, "PRAGMA integrity_check", &st, err, errlen)) return false;
    bool ok = sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
    if (!ok) snprintf(err, errlen, "history %s: integrity check: %s", db->path,
                      sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    return ok;
}

/* The study store (study.h). */
#include "tools/search/study.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tools/stats/stats.h"

#define SEARCH_APP_ID 0x4C425352 /* "LBSR" */
#define SEARCH_BUSY_MS 60000

struct search_study {
    sqlite3 *db;
    char path[1024], host[256];
    const search_space *space;
};

static const char SCHEMA[] =
    "CREATE TABLE search_schema(version INTEGER NOT NULL, applied TEXT NOT NULL);"
    "CREATE TABLE study(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE trials(number INTEGER PRIMARY KEY, state TEXT NOT NULL, params TEXT NOT NULL, spec TEXT NOT NULL,"
    " seed INTEGER NOT NULL, value REAL, n_params INTEGER, started REAL NOT NULL, finished REAL, seconds REAL,"
    " host TEXT NOT NULL, pid INTEGER NOT NULL);"
    "CREATE TABLE intermediate(trial INTEGER NOT NULL REFERENCES trials(number), epoch INTEGER NOT NULL,"
    " value REAL NOT NULL, PRIMARY KEY(trial, epoch));"
    "CREATE INDEX intermediate_epoch ON intermediate(epoch);";

static double wall_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static bool exec(search_study *st, const char *sql, char *err, size_t errlen) {
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK) return true;
    snprintf(err, errlen, "study %s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
    sqlite3_free(msg);
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return false;
}

/* One integer (or text into buf) of a query; false when it fails or has no row. */
static bool query1(sqlite3 *db, const char *sql, long long *v, char *buf, size_t len) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return false;
    bool ok = sqlite3_step(q) == SQLITE_ROW;
    if (ok && v) *v = sqlite3_column_int64(q, 0);
    if (ok && buf) snprintf(buf, len, "%s", sqlite3_column_text(q, 0) ? (const char *)sqlite3_column_text(q, 0) : "");
    sqlite3_finalize(q);
    return ok;
}

/* An existing non-empty file must start as an SQLite database does: checked before SQLite opens it. */
static bool precheck(const char *path, bool *fresh, char *why, size_t wl) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *fresh = fd < 0 && errno == ENOENT;
    if (fd < 0) return *fresh || (snprintf(why, wl, "%s", strerror(errno)), false);
    char head[16] = {0};
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    if (n == 0) return *fresh = true;
    if (n != 16 || memcmp(head, "SQLite format 3", 16)) return snprintf(why, wl, "not an SQLite file"), false;
    return true;
}

/* The schema of a fresh file, or a check of an existing one; the study's task and family. */
static bool setup(search_study *st, char *err, size_t errlen) {
    if (!exec(st, "BEGIN IMMEDIATE", err, errlen)) return false;
    long long app = 0, tables = 0, v = 0;
    if (!query1(st->db, "PRAGMA application_id", &app, NULL, 0) ||
        !query1(st->db, "SELECT count(*) FROM sqlite_master", &tables, NULL, 0))
        return snprintf(err, errlen, "study %s: not a latbench study (%s)", st->path, sqlite3_errmsg(st->db)),
               exec(st, "ROLLBACK", err, 0), false;
    char sql[256], task[32] = "", fam[32] = "";
    if (app == 0 && tables == 0) {
        snprintf(sql, sizeof sql,
                 "PRAGMA application_id = %d; INSERT INTO search_schema VALUES(%d, datetime('now'));"
                 "INSERT INTO study VALUES('task', '%s'), ('family', '%s');",
                 SEARCH_APP_ID, SEARCH_SCHEMA_VERSION, search_task_name(st->space->task), search_family_name(st->space->family));
        if (!exec(st, SCHEMA, err, errlen) || !exec(st, sql, err, errlen)) return false;
    } else if (app != SEARCH_APP_ID || !query1(st->db, "SELECT max(version) FROM search_schema", &v, NULL, 0)) {
        exec(st, "ROLLBACK", err, 0);
        return snprintf(err, errlen, "study %s: not a latbench study (application_id %lld, %lld tables)", st->path, app, tables), false;
    } else if (v != SEARCH_SCHEMA_VERSION) {
        exec(st, "ROLLBACK", err, 0);
        return snprintf(err, errlen, "study %s: schema version %lld, this latbench reads %d", st->path, v, SEARCH_SCHEMA_VERSION), false;
    }
    query1(st->db, "SELECT value FROM study WHERE key='task'", NULL, task, sizeof task);
    query1(st->db, "SELECT value FROM study WHERE key='family'", NULL, fam, sizeof fam);
    if (strcmp(task, search_task_name(st->space->task)) || strcmp(fam, search_family_name(st->space->family))) {
        exec(st, "ROLLBACK", err, 0);
        return snprintf(err, errlen, "study %s: a study of --task %s --family %s, not of this search's", st->path, task, fam), false;
    }
    return exec(st, "COMMIT", err, errlen);
}

search_study *search_study_open(const char *path, const search_space *s, char *err, size_t errlen) {
    search_study *st = calloc(1, sizeof *st);
    if (!st) return snprintf(err, errlen, "study %s: out of memory", path), NULL;
    snprintf(st->path, sizeof st->path, "%s", path);
    st->space = s;
    if (gethostname(st->host, sizeof st->host - 1) != 0) snprintf(st->host, sizeof st->host, "?");
    bool fresh;
    char why[256];
    if (!precheck(path, &fresh, why, sizeof why)) {
        snprintf(err, errlen, "study %s: not a latbench study (%s)", path, why);
        return free(st), NULL;
    }
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "study %s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
        return search_study_close(st), NULL;
    }
    sqlite3_busy_timeout(st->db, SEARCH_BUSY_MS);
    if (!setup(st, err, errlen) || !exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", err, errlen) ||
        search_study_reap(st) < 0) {
        if (!*err) snprintf(err, errlen, "study %s: %s", path, sqlite3_errmsg(st->db));
        return search_study_close(st), NULL;
    }
    return st;
}

bool search_study_validation(search_study *st, const char *kind, char *err, size_t errlen) {
    if (!exec(st, "BEGIN IMMEDIATE", err, errlen)) return false;
    char have[32] = "";
    long long trials = 0;
    bool known = query1(st->db, "SELECT value FROM study WHERE key='validate'", NULL, have, sizeof have);
    /* a study begun before --validate existed validated on the training set's split */
    if (!known && query1(st->db, "SELECT count(*) FROM trials", &trials, NULL, 0) && trials > 0) snprintf(have, sizeof have, "train");
    if (!known) {
        sqlite3_stmt *q = NULL;
        bool ok = sqlite3_prepare_v2(st->db, "INSERT INTO study VALUES('validate', ?)", -1, &q, NULL) == SQLITE_OK;
        if (ok) sqlite3_bind_text(q, 1, *have ? have : kind, -1, SQLITE_TRANSIENT), ok = sqlite3_step(q) == SQLITE_DONE;
        if (!ok) snprintf(err, errlen, "study %s: %s", st->path, sqlite3_errmsg(st->db));
        sqlite3_finalize(q);
        if (!ok) return exec(st, "ROLLBACK", err, 0), false;
    }
    if (*have && strcmp(have, kind)) {
        exec(st, "ROLLBACK", err, 0);
        return snprintf(err, errlen, "study %s: its trials are scored with --validate %s, not %s (use another --study or --out for %s)", st->path,
                        have, kind, kind), false;
    }
    return exec(st, "COMMIT", err, errlen);
}

void search_study_close(search_study *st) {
    if (!st) return;
    sqlite3_close(st->db);
    free(st);
}

int search_study_reap(search_study *st) {
    sqlite3_stmt *q, *u;
    if (sqlite3_prepare_v2(st->db, "SELECT number, pid FROM trials WHERE state='running' AND host=?", -1, &q, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(st->db, "UPDATE trials SET state='failed', finished=? WHERE number=? AND state='running'", -1, &u,
                           NULL) != SQLITE_OK)
        return sqlite3_finalize(q), -1;
    sqlite3_bind_text(q, 1, st->host, -1, SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        long pid = (long)sqlite3_column_int64(q, 1);
        if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        sqlite3_bind_double(u, 1, wall_s()), sqlite3_bind_int64(u, 2, sqlite3_column_int64(q, 0));
        if (sqlite3_step(u) == SQLITE_DONE) n += sqlite3_changes(st->db);
        sqlite3_reset(u);
        fprintf(stderr, "search: trial %lld was left running by process %ld, which is gone: marked failed\n",
                (long long)sqlite3_column_int64(q, 0), pid);
    }
    sqlite3_finalize(q), sqlite3_finalize(u);
    return n;
}

/* A point as JSON {"name": value, ...} (malloc'd). */
static char *point_json(const search_space *s, const search_point *x) {
    json_t *o = json_object();
    for (int i = 0; i < s->n; i++)
        json_object_set_new(o, s->p[i].name, s->p[i].kind == SP_INT ? json_integer((json_int_t)llround(x->v[i])) : json_real(x->v[i]));
    char *t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(o);
    return t;
}

bool search_point_from_json(const search_space *s, const char *text, search_point *x, char *err, size_t errlen) {
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!json_is_object(o)) return json_decref(o), snprintf(err, errlen, "params: not a JSON object"), false;
    bool ok = true;
    for (int i = 0; ok && i < s->n; i++) {
        json_t *v = json_object_get(o, s->p[i].name);
        ok = json_is_number(v);
        if (ok) x->v[i] = json_number_value(v);
        ok = ok && isfinite(x->v[i]) && x->v[i] >= s->p[i].lo && x->v[i] <= s->p[i].hi;
        if (!ok) snprintf(err, errlen, "params: %s missing or out of range", s->p[i].name);
    }
    json_decref(o);
    return ok;
}

/* The finished trials, in number order (malloc'd). */
static bool load_finished(search_study *st, search_observed **obs, int *n, char *err, size_t errlen) {
    sqlite3_stmt *q;
    *obs = NULL, *n = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT number, state, params, value FROM trials WHERE state IN ('complete','pruned')"
                           " AND value IS NOT NULL ORDER BY number", -1, &q, NULL) != SQLITE_OK)
        return snprintf(err, errlen, "study %s: %s", st->path, sqlite3_errmsg(st->db)), false;
    int cap = 0;
    bool ok = true;
    while (ok && sqlite3_step(q) == SQLITE_ROW) {
        if (*n == cap) {
            search_observed *g = realloc(*obs, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *g);
            if (!g) { ok = false, snprintf(err, errlen, "out of memory"); break; }
            *obs = g;
        }
        search_observed *o = &(*obs)[*n];
        char e[200];
        ok = search_point_from_json(st->space, (const char *)sqlite3_column_text(q, 2), &o->x, e, sizeof e);
        if (!ok) snprintf(err, errlen, "study %s: trial %lld: %s", st->path, (long long)sqlite3_column_int64(q, 0), e);
        o->pruned = !strcmp((const char *)sqlite3_column_text(q, 1), "pruned");
        o->value = sqlite3_column_double(q, 3);
        (*n)++;
    }
    sqlite3_finalize(q);
    if (!ok) free(*obs), *obs = NULL;
    return ok;
}

bool search_study_begin(search_study *st, search_propose_fn propose, void *ctx, long *number, char *err, size_t errlen) {
    if (search_study_reap(st) < 0 || !exec(st, "BEGIN IMMEDIATE", err, errlen)) return false;
    long long next = 0;
    query1(st->db, "SELECT coalesce(max(number) + 1, 0) FROM trials", &next, NULL, 0);
    search_observed *obs;
    int n;
    if (!load_finished(st, &obs, &n, err, errlen)) return exec(st, "ROLLBACK", err, 0), false;
    search_point x;
    char spec[2048];
    uint64_t seed = 0;
    bool ok = propose(ctx, (long)next, obs, n, &x, spec, sizeof spec, &seed);
    free(obs);
    if (!ok) return exec(st, "ROLLBACK", err, 0), snprintf(err, errlen, "no point of the space fits the lattice and --max-params"), false;
    char *params = point_json(st->space, &x);
    sqlite3_stmt *q;
    ok = params && sqlite3_prepare_v2(st->db, "INSERT INTO trials(number, state, params, spec, seed, started, host, pid)"
                                      " VALUES(?, 'running', ?, ?, ?, ?, ?, ?)", -1, &q, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_int64(q, 1, next), sqlite3_bind_text(q, 2, params, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, spec, -1, SQLITE_STATIC), sqlite3_bind_int64(q, 4, (sqlite3_int64)seed);
        sqlite3_bind_double(q, 5, wall_s()), sqlite3_bind_text(q, 6, st->host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 7, (sqlite3_int64)getpid());
        ok = sqlite3_step(q) == SQLITE_DONE;
        sqlite3_finalize(q);
    }
    free(params);
    if (!ok) return snprintf(err, errlen, "study %s: %s", st->path, sqlite3_errmsg(st->db)), exec(st, "ROLLBACK", err, 0), false;
    *number = (long)next;
    return exec(st, "COMMIT", err, errlen);
}

bool search_study_report(search_study *st, long number, int epoch, double value) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO intermediate VALUES(?, ?, ?)", -1, &q, NULL) != SQLITE_OK) return false;
    sqlite3_bind_int64(q, 1, number), sqlite3_bind_int(q, 2, epoch), sqlite3_bind_double(q, 3, value);
    bool ok = sqlite3_step(q) == SQLITE_DONE;
    sqlite3_finalize(q);
    return ok;
}

bool search_study_median_at(search_study *st, int epoch, int min_trials, double *median) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT i.value FROM intermediate i JOIN trials t ON t.number = i.trial"
                           " WHERE t.state = 'complete' AND i.epoch = ?", -1, &q, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_int(q, 1, epoch);
    double *v = NULL;
    int n = 0, cap = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (n == cap) {
            double *g = realloc(v, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *v);
            if (!g) break;
            v = g;
        }
        v[n++] = sqlite3_column_double(q, 0);
    }
    sqlite3_finalize(q);
    bool ok = n >= min_trials && n > 0;
    if (ok) {
        double *scratch = malloc((size_t)n * sizeof *scratch);
        ok = scratch != NULL;
        if (ok) *median = stats_median(v, n, scratch);
        free(scratch);
    }
    free(v);
    return ok;
}

bool search_study_finish(search_study *st, long number, const char *state, double value, double seconds, long n_params,
                         char *err, size_t errlen) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "UPDATE trials SET state=?, value=?, finished=?, seconds=?, n_params=? WHERE number=?", -1,
                           &q, NULL) != SQLITE_OK)
        return snprintf(err, errlen, "study %s: %s", st->path, sqlite3_errmsg(st->db)), false;
    sqlite3_bind_text(q, 1, state, -1, SQLITE_STATIC);
    if (isfinite(value)) sqlite3_bind_double(q, 2, value);
    else sqlite3_bind_null(q, 2);
    sqlite3_bind_double(q, 3, wall_s()), sqlite3_bind_double(q, 4, seconds), sqlite3_bind_int64(q, 5, n_params);
    sqlite3_bind_int64(q, 6, number);
    bool ok = sqlite3_step(q) == SQLITE_DONE;
    if (!ok) snprintf(err, errlen, "study %s: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(q);
    return ok;
}

bool search_study_rows(search_study *st, search_trial_row **rows, int *n, char *err, size_t errlen) {
    sqlite3_stmt *q;
    *rows = NULL, *n = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT number, state, coalesce(value, 'NaN'), coalesce(seconds, 0), coalesce(n_params, 0),"
                           " seed, spec, params FROM trials ORDER BY number", -1, &q, NULL) != SQLITE_OK)
        return snprintf(err, errlen, "study %s: %s", st->path, sqlite3_errmsg(st->db)), false;
    int cap = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (*n == cap) {
            search_trial_row *g = realloc(*rows, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *g);
            if (!g) break;
            *rows = g;
        }
        search_trial_row *r = &(*rows)[(*n)++];
        r->number = (long)sqlite3_column_int64(q, 0);
        snprintf(r->state, sizeof r->state, "%s", (const char *)sqlite3_column_text(q, 1));
        r->value = sqlite3_column_type(q, 2) == SQLITE_TEXT ? NAN : sqlite3_column_double(q, 2);
        r->seconds = sqlite3_column_double(q, 3), r->n_params = (long)sqlite3_column_int64(q, 4);
        r->seed = (uint64_t)sqlite3_column_int64(q, 5);
        snprintf(r->spec, sizeof r->spec, "%s", (const char *)sqlite3_column_text(q, 6));
        search_point x;
        char e[200];
        const char *params = (const char *)sqlite3_column_text(q, 7);
        const bool ok = params && search_point_from_json(st->space, params, &x, e, sizeof e);
        r->lr = ok ? search_point_lr(st->space, &x) : NAN, r->batch = ok ? search_point_batch(st->space, &x) : 0;
    }
    sqlite3_finalize(q);
    return true;
}

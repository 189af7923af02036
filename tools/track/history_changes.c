/* Change points per series of the history (history.h, hist_changes): the runs are read once (date
 * order), each series' values through the records_series index (one range scan, no join), ordered
 * by their run's date, cut to --since and the newest `window`, and given to hist_changepoints. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/track/changepoint.h"
#include "tools/track/history.h"
#include "tools/track/history_db.h"

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), false)

/* The runs, by id: their date rank (-1: not selected), date and commit. */
typedef struct {
    sqlite3_int64 max_id;
    int *rank;              /* [max_id + 1] */
    int *below;             /* [max_id + 1]: the highest rank of the runs with a smaller id (-1: none) */
    char (*date)[40];       /* [max_id + 1] */
    char (*commit)[64];     /* [max_id + 1] */
    char (*profile)[64];    /* [max_id + 1]: the tuning profile the run ran with ("": not known) */
} run_table;

typedef struct {
    int rank;
    sqlite3_int64 run;
    double v[3];            /* median, ratio_onednn, ratio_scalar (NAN: absent) */
} point;

static const char *const quantity[3] = {"time_ns", "ratio_onednn", "ratio_scalar"};

static void runs_free(run_table *t) {
    free(t->rank), free(t->below), free(t->date), free(t->commit), free(t->profile);
}

typedef struct {
    sqlite3_int64 id;
    const char *date;
} run_key;

static int cmp_key(const void *a, const void *b) {
    const run_key *x = a, *y = b;
    int c = strcmp(x->date, y->date);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

/* Ranks the selected runs by (date, id). */
static bool rank_runs(run_table *t, char *err, size_t errlen) {
    size_t n = 0;
    for (sqlite3_int64 i = 0; i <= t->max_id; i++) n += t->rank[i] >= 0;
    run_key *k = malloc(sizeof *k * (n ? n : 1));
    if (!k) return FAIL("history: out of memory");
    n = 0;
    for (sqlite3_int64 i = 0; i <= t->max_id; i++)
        if (t->rank[i] >= 0) k[n++] = (run_key){i, t->date[i]};
    qsort(k, n, sizeof *k, cmp_key);
    for (size_t i = 0; i < n; i++) t->rank[k[i].id] = (int)i;
    free(k);
    int high = -1;
    for (sqlite3_int64 i = 0; i <= t->max_id; i++) {
        t->below[i] = high;
        if (t->rank[i] > high) high = t->rank[i];
    }
    return true;
}

/* Every run of machine (NULL: all) dated after since_date (strictly when strict; NULL: all). */
static bool load_runs(hist_db *db, const char *machine, const char *since_date, bool strict, run_table *t, char *err,
                      size_t errlen) {
    sqlite3_stmt *st;
    memset(t, 0, sizeof *t);
    if (!hist_prepare(db, "SELECT coalesce(max(id), 0) FROM runs", &st, err, errlen)) return false;
    if (sqlite3_step(st) == SQLITE_ROW) t->max_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    size_t n = (size_t)t->max_id + 1;
    t->rank = malloc(sizeof *t->rank * n), t->below = malloc(sizeof *t->below * n), t->date = malloc(sizeof *t->date * n), t->commit = malloc(sizeof *t->commit * n);
    t->profile = malloc(sizeof *t->profile * n);
    if (!t->rank || !t->below || !t->date || !t->commit || !t->profile) return FAIL("history: out of memory");
    for (size_t i = 0; i < n; i++) t->rank[i] = -1;
    if (!hist_prepare(db,
                      "SELECT id, date, git_commit, profile FROM runs WHERE (?1 IS NULL OR machine = ?1)"
                      " AND (?2 IS NULL OR date > ?2 OR (?3 AND date = ?2))",
                      &st, err, errlen))
        return false;
    if (machine) sqlite3_bind_text(st, 1, machine, -1, SQLITE_STATIC);
    if (since_date) sqlite3_bind_text(st, 2, since_date, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, !strict);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (id < 0 || id > t->max_id) continue;
        t->rank[id] = 0;
        snprintf(t->date[id], sizeof t->date[id], "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(t->commit[id], sizeof t->commit[id], "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(t->profile[id], sizeof t->profile[id], "%s", (const char *)sqlite3_column_text(st, 3));
    }
    bool ok = rc == SQLITE_DONE;
    if (!ok) snprintf(err, errlen, "history %s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    return ok && rank_runs(t, err, errlen);
}

/* --since REF: a date (YYYY-MM-DD...: runs from then on) or a commit (a prefix of at least 4
 * characters: the runs after its first run on the machine).  False with "--since ..." in err. */
static bool resolve_since(hist_db *db, const char *machine, const char *ref, char *date, size_t dlen, bool *strict,
                          char *err, size_t errlen) {
    if (strlen(ref) >= 10 && ref[4] == '-' && ref[7] == '-' && strspn(ref, "0123456789") == 4) {
        *strict = false;
        return snprintf(date, dlen, "%s", ref) < (int)dlen || FAIL("history --since %s: too long", ref);
    }
    if (strlen(ref) < 4) return FAIL("history --since %s: neither a date (YYYY-MM-DD) nor a commit of 4 or more characters", ref);
    sqlite3_stmt *st;
    if (!hist_prepare(db, "SELECT min(date) FROM runs WHERE (?1 IS NULL OR machine = ?1) AND substr(git_commit, 1, length(?2)) = ?2",
                      &st, err, errlen))
        return false;
    if (machine) sqlite3_bind_text(st, 1, machine, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    const char *d = sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    bool ok = d != NULL;
    if (ok) snprintf(date, dlen, "%s", d);
    sqlite3_finalize(st);
    *strict = true;
    return ok || FAIL("history --since %s: neither a date (YYYY-MM-DD) nor a commit of a run in the history%s%s", ref,
                      machine ? " of " : "", machine ? machine : "");
}

static int cmp_point(const void *a, const void *b) {
    const point *x = a, *y = b;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* Whether the window is complete: at least `window` of the points read have a rank above every run
 * still to come (ids below `run`), so that no later row can be among the newest. */
static bool window_full(const point *p, size_t n, int window, int above) {
    if (window <= 0 || n < (size_t)window) return false;
    size_t k = 0;
    for (size_t i = 0; i < n && k < (size_t)window; i++) k += p[i].rank > above;
    return k >= (size_t)window;
}

/* One series' points of selected runs, in date order; *np their count.  The rows come newest id
 * first and stop once the newest `window` runs are certain (runs are appended in date order, so
 * that is after `window` rows unless older runs were imported later). */
static bool series_points(hist_db *db, sqlite3_stmt *st, sqlite3_int64 sid, const run_table *t, int window, point **pts,
                          size_t *cap, size_t *np, char *err, size_t errlen) {
    sqlite3_bind_int64(st, 1, sid);
    size_t n = 0;
    sqlite3_int64 last = -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 run = sqlite3_column_int64(st, 0);
        if (run < 0 || run > t->max_id) continue;
        if (run != last && last >= 0 && window_full(*pts, n, window, t->below[last])) break;
        last = run;
        if (t->rank[run] < 0) continue;
        if (n == *cap) {
            size_t nc = *cap ? 2 * *cap : 256;
            point *p = realloc(*pts, sizeof *p * nc);
            if (!p) return sqlite3_reset(st), FAIL("history: out of memory");
            *pts = p, *cap = nc;
        }
        point *p = &(*pts)[n++];
        p->rank = t->rank[run], p->run = run;
        for (int c = 0; c < 3; c++)
            p->v[c] = sqlite3_column_type(st, 1 + c) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 1 + c);
    }
    bool ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
    if (!ok) snprintf(err, errlen, "history %s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_reset(st);
    qsort(*pts, n, sizeof **pts, cmp_point);
    *np = n;
    return ok;
}

/* The quantity of a series: the median time where its records have one, else a ratio (the column
 * with the most values, time first on a tie). */
static int pick_quantity(const hist_obs *p, int n) {
    size_t have[3] = {0, 0, 0};
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) have[c] += isfinite(p[i].v[c]) && (c || p[i].v[c] > 0);
    int q = 0;
    for (int c = 1; c < 3; c++)
        if (have[c] > have[q]) q = c;
    return have[q] ? q : -1;
}

/* The known breaks of the values idx[0..m) (hist_verdict.breaks). */
static void profile_breaks(const hist_obs *obs, const int *idx, int m, hist_verdict *v) {
    const char *known = "";
    v->n_breaks = 0, v->profile = "";
    for (int i = 0; i < m; i++) {
        const char *p = obs[idx[i]].profile;
        if (!p || !p[0]) continue;
        if (known[0] && strcmp(p, known)) {
            if (v->n_breaks == HIST_BREAK_MAX) memmove(v->breaks, v->breaks + 1, sizeof v->breaks - sizeof v->breaks[0]), v->n_breaks--;
            v->breaks[v->n_breaks++] = i;
        }
        v->profile = known = p;
    }
}

bool hist_judge(const hist_obs *obs, int n, const hist_changes_opts *o, bool find, int *idx, double *x, hist_verdict *v) {
    memset(v, 0, sizeof *v);
    v->profile = "";
    if ((v->quantity = pick_quantity(obs, n)) < 0) return true;
    const int q = v->quantity;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(obs[i].v[q])) x[m] = obs[i].v[q], idx[m++] = i;
    v->n_values = m;
    int from = o->window > 0 && m > o->window ? m - o->window : 0;
    profile_breaks(obs, idx, m, v);
    const int cut = v->n_breaks ? v->breaks[v->n_breaks - 1] : 0;
    v->dropped = cut > from ? cut - from : 0;
    v->from = from = cut > from ? cut : from;
    if (!find) return true;
    hist_cp_opts co = {o->alpha, o->perms, o->min_size, o->seed, o->tail, o->tail_alpha};
    v->k = hist_changepoints(x + from, m - from, &co, v->cp, HIST_CP_MAX);
    if (v->k < 0) return v->k = 0, false;
    const double lim = o->threshold / 100, step = v->k ? v->cp[v->k - 1].step : 0;
    v->regression = v->k > 0 && (q == 0 ? step > lim : step < -lim);
    return true;
}

/* The report of one series (text or a JSON object); *regression when its newest change point is one. */
typedef struct {
    const hist_changes_opts *o;
    FILE *f;
    json_t *arr;
    int series, with_cp, cps, regressions;
} report;

static json_t *num(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

/* v's series: runs[i] the run of obs[i]. */
static void report_series(report *rp, const char *machine, const char *name, const hist_verdict *v, const int *idx,
                          const double *x, const sqlite3_int64 *runs, const run_table *t) {
    const int q = v->quantity, n = v->n_values - v->from, k = v->k;
    const hist_cp *cp = v->cp;
    const int *at = idx + v->from;   /* the judged values' obs indices */
    rp->series++, rp->with_cp += k > 0, rp->cps += k, rp->regressions += v->regression;
    if (rp->arr) {
        json_t *o = json_object(), *a = json_array();
        json_object_set_new(o, "machine", json_string(machine));
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "quantity", json_string(quantity[q]));
        json_object_set_new(o, "higher_is", json_string(q == 0 ? "slower" : "faster"));
        json_object_set_new(o, "runs", json_integer(n));
        json_object_set_new(o, "profile", json_string(v->profile[0] ? v->profile : "unknown"));
        json_object_set_new(o, "runs_other_profile", json_integer(v->dropped));
        json_object_set_new(o, "last", num(n ? x[v->n_values - 1] : NAN));
        for (int i = 0; i < k; i++) {
            sqlite3_int64 r = runs[at[cp[i].index]];
            json_t *c = json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:o}", "index", cp[i].index, "date", t->date[r], "commit",
                                  t->commit[r], "before", num(cp[i].before), "after", num(cp[i].after), "step", num(cp[i].step),
                                  "p", num(cp[i].p));
            if (c) json_array_append_new(a, c);
        }
        json_object_set_new(o, "changepoints", a);
        json_object_set_new(o, "regression", json_boolean(v->regression));
        json_array_append_new(rp->arr, o);
        return;
    }
    if (k == 0 && !v->dropped) return;
    fprintf(rp->f, "%s  %s  %s (higher is %s), %d runs\n", machine, name, quantity[q], q == 0 ? "slower" : "faster", n);
    if (v->dropped)
        fprintf(rp->f, "  %s  %-18s profile changed to %s: the %d runs before, under another profile, left out\n",
                t->date[runs[at[0]]], t->commit[runs[at[0]]], v->profile, v->dropped);
    for (int i = 0; i < k; i++) {
        sqlite3_int64 r = runs[at[cp[i].index]];
        fprintf(rp->f, "  %s  %-18s %12.6g -> %-12.6g %+7.2f %%  p=%.3f%s\n", t->date[r], t->commit[r], cp[i].before,
                cp[i].after, 100 * cp[i].step, cp[i].p, i == k - 1 && v->regression ? "  REGRESSION" : "");
    }
}

/* One series: its points, judged (hist_judge), reported. */
static bool one_series(hist_db *db, sqlite3_stmt *pst, sqlite3_int64 sid, const char *machine, const char *name,
                       const run_table *t, report *rp, point **pts, size_t *cap, char *err, size_t errlen) {
    size_t n;
    if (!series_points(db, pst, sid, t, rp->o->window, pts, cap, &n, err, errlen)) return false;
    hist_obs *obs = malloc(sizeof *obs * (n ? n : 1));
    sqlite3_int64 *runs = malloc(sizeof *runs * (n ? n : 1));
    double *x = malloc(sizeof *x * (n ? n : 1));
    int *idx = malloc(sizeof *idx * (n ? n : 1));
    bool ok = obs && runs && x && idx;
    for (size_t i = 0; ok && i < n; i++) {
        const point *p = &(*pts)[i];
        obs[i] = (hist_obs){{p->v[0], p->v[1], p->v[2]}, t->profile[p->run]};
        runs[i] = p->run;
    }
    hist_verdict v;
    ok = ok && hist_judge(obs, (int)n, rp->o, !rp->o->visit, idx, x, &v);
    if (ok && v.quantity >= 0) {
        if (rp->o->visit) rp->o->visit(rp->o->visit_ctx, machine, name, v.quantity, x + v.from, v.n_values - v.from);
        else report_series(rp, machine, name, &v, idx, x, runs, t);
    }
    free(obs), free(runs), free(x), free(idx);
    return ok || FAIL("history: out of memory");
}

static bool each_series(hist_db *db, const hist_changes_opts *o, const run_table *t, report *rp, char *err, size_t errlen) {
    sqlite3_stmt *ser, *pst;
    if (!hist_prepare(db,
                      "SELECT id, machine, name FROM series WHERE (?1 IS NULL OR machine = ?1)"
                      " AND (?2 IS NULL OR instr(name, ?2) > 0) ORDER BY machine, name",
                      &ser, err, errlen))
        return false;
    if (!hist_prepare(db, "SELECT run_id, median, ratio_onednn, ratio_scalar FROM records WHERE series_id = ? ORDER BY run_id DESC", &pst, err, errlen))
        return sqlite3_finalize(ser), false;
    if (o->machine) sqlite3_bind_text(ser, 1, o->machine, -1, SQLITE_STATIC);
    if (o->filter) sqlite3_bind_text(ser, 2, o->filter, -1, SQLITE_STATIC);
    point *pts = NULL;
    size_t cap = 0;
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(ser)) == SQLITE_ROW)
        ok = one_series(db, pst, sqlite3_column_int64(ser, 0), (const char *)sqlite3_column_text(ser, 1),
                        (const char *)sqlite3_column_text(ser, 2), t, rp, &pts, &cap, err, errlen);
    if (ok && rc != SQLITE_DONE) ok = FAIL("history %s: %s", db->path, sqlite3_errmsg(db->db));
    free(pts);
    sqlite3_finalize(ser), sqlite3_finalize(pst);
    return ok;
}

bool hist_changes(hist_db *db, const hist_changes_opts *o, FILE *f, int *regressions, char *err, size_t errlen) {
    char since[64];
    bool strict = false;
    if (o->since && !resolve_since(db, o->machine, o->since, since, sizeof since, &strict, err, errlen)) return false;
    run_table t;
    bool ok = load_runs(db, o->machine, o->since ? since : NULL, strict, &t, err, errlen);
    report rp = {.o = o, .f = f, .arr = o->json ? json_array() : NULL};
    if (ok) ok = each_series(db, o, &t, &rp, err, errlen);
    if (ok && rp.arr) {
        json_t *root = json_pack("{s:f, s:i, s:f, s:i, s:i, s:o}", "threshold_pct", o->threshold, "window", o->window,
                                 "alpha", o->alpha, "perms", o->perms, "regressions", rp.regressions, "series", rp.arr);
        rp.arr = NULL;
        json_dumpf(root, f, JSON_INDENT(1));
        fputc('\n', f);
        json_decref(root);
    } else if (ok && !o->visit) {
        fprintf(f, "history: %d change point%s in %d of %d series%s; newest change point a regression beyond %g %%: %d series\n",
                rp.cps, rp.cps == 1 ? "" : "s", rp.with_cp, rp.series, o->window > 0 ? " (their newest runs)" : "",
                o->threshold, rp.regressions);
    }
    json_decref(rp.arr);
    runs_free(&t);
    *regressions = rp.regressions;
    return ok;
}

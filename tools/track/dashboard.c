/* `latbench dashboard` (dashboard.h): reads the history into series, finds their change points and
 * writes the page (dashboard_html.c) atomically.
 *
 * Change points, alarms and known breaks: each series judged as `latbench history` judges it, by the
 * same function on the same values (hist_judge with history's defaults: its quantity, its newest 200
 * runs since the newest tuning-profile break, E-Divisive and the newest-runs test), so that the page
 * and `latbench history` never disagree; the window also bounds E-Divisive's O(n^2) per permutation. */
#define _GNU_SOURCE   /* qsort_r */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tools/track/dashboard_data.h"
#include "tools/opts/opts.h"
#include "tools/track/history_db.h"
#include "lib/io/atomic.h"

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), false)

static double clock_s(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The time since t0 and the CPU time since c0, for the progress lines (a shared machine's wall time
 * says little alone). */
static void progress(const char *what, double t0, double c0) {
    fprintf(stderr, "dashboard: %s (%.2f s, %.2f s of CPU)\n", what, clock_s(CLOCK_MONOTONIC) - t0,
            clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
}

/* ---- reading: a series per (machine, name) ---- */

typedef struct {
    int *slot;           /* series index + 1, 0 empty */
    size_t cap;
} dash_map;

static uint64_t key_hash(int machine, const char *name) {
    uint64_t h = 1469598103934665603ull ^ (uint64_t)machine;
    for (; *name; name++) h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return h;
}

/* op and pass from a name: "conv2d_bwd_data/..." is conv2d / bwd_data, "pipeline/train/..." pipeline /
 * train, anything else its first part and "-". */
static void op_pass(const char *name, char *op, char *pass, size_t len) {
    size_t n = strcspn(name, "/");
    snprintf(op, len, "%.*s", (int)n, name);
    snprintf(pass, len, "-");
    char *u = strstr(op, "_fwd");
    if (!u) u = strstr(op, "_bwd");
    if (u) {
        snprintf(pass, len, "%s", u + 1);
        *u = 0;
    } else if (!strcmp(op, "pipeline") && name[n] == '/') {
        snprintf(pass, len, "%.*s", (int)strcspn(name + n + 1, "/"), name + n + 1);
    }
}

static bool map_grow(dash_map *m, const dash_data *d) {
    size_t cap = m->cap ? 2 * m->cap : 1024;
    int *slot = calloc(cap, sizeof *slot);
    if (!slot) return false;
    for (int i = 0; i < d->n_series; i++) {
        size_t h = (size_t)key_hash(d->series[i].machine, d->series[i].name) & (cap - 1);
        while (slot[h]) h = (h + 1) & (cap - 1);
        slot[h] = i + 1;
    }
    free(m->slot);
    m->slot = slot, m->cap = cap;
    return true;
}

/* The series of (machine, name), added when new; NULL when memory runs out. */
static dash_series *series_of(dash_data *d, dash_map *m, int machine, const char *name) {
    if ((size_t)d->n_series * 2 >= m->cap && !map_grow(m, d)) return NULL;
    size_t h = (size_t)key_hash(machine, name) & (m->cap - 1);
    for (; m->slot[h]; h = (h + 1) & (m->cap - 1)) {
        dash_series *s = &d->series[m->slot[h] - 1];
        if (s->machine == machine && !strcmp(s->name, name)) return s;
    }
    if (d->n_series == d->cap_series) {
        int cap = d->cap_series ? 2 * d->cap_series : 256;
        dash_series *ns = realloc(d->series, (size_t)cap * sizeof *ns);
        if (!ns) return NULL;
        d->series = ns, d->cap_series = cap;
    }
    dash_series *s = &d->series[d->n_series];
    memset(s, 0, sizeof *s);
    s->machine = machine;
    if (!(s->name = strdup(name))) return NULL;
    op_pass(name, s->op, s->pass, sizeof s->op);
    m->slot[h] = ++d->n_series;
    return s;
}

/* samples/s of a pipeline record with a batch (".../mb<N>/..."): N per median time. */
static double samples_per_s(const char *name, double median_ns) {
    if (strncmp(name, "pipeline/", 9) != 0 || !(median_ns > 0)) return NAN;
    const char *p = strstr(name, "/mb");
    if (!p) return NAN;
    char *end;
    long n = strtol(p + 3, &end, 10);
    return n > 0 && (*end == '/' || !*end) ? (double)n * 1e9 / median_ns : NAN;
}

static bool add_point(dash_series *s, int run, const double *v) {
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        dash_point *np = realloc(s->pts, (size_t)cap * sizeof *np);
        if (!np) return false;
        s->pts = np, s->cap = cap;
    }
    dash_point *p = &s->pts[s->n++];
    p->run = run;
    for (int k = 0; k < DASH_METRICS; k++) {
        p->v[k] = v[k];
        s->has[k] |= isfinite(v[k]);
    }
    return true;
}

/* The index of s in the distinct strings (*list)[0..*n), added when new; -1 when memory runs out. */
static int intern(char ***list, int *n, const char *s) {
    for (int i = 0; i < *n; i++)
        if (!strcmp((*list)[i], s)) return i;
    char **nl = realloc(*list, (size_t)(*n + 1) * sizeof *nl);
    if (!nl) return -1;
    *list = nl;
    return (nl[*n] = strdup(s)) ? (*n)++ : -1;
}

static double col_num(sqlite3_stmt *st, int c) {
    return sqlite3_column_type(st, c) == SQLITE_NULL ? NAN : sqlite3_column_double(st, c);
}

static int cmp_id(const void *a, const void *b) {
    const sqlite3_int64 *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* The one place that knows the schema: runs in date order, then every record in storage order
 * (sequential), each appended to its series (sorted by date afterwards). */
static bool load(hist_db *db, const hist_dash_opts *o, dash_data *d, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    sqlite3_int64 *ids = NULL;   /* (id, index) pairs, sorted by id */
    dash_map map = {0};
    bool ok = intern(&d->profiles, &d->n_profiles, "") == 0 && hist_prepare(db, "SELECT id, machine, date, git_commit, profile FROM runs WHERE ?1 IS NULL OR machine = ?1"
                               " ORDER BY date, id", &st, err, errlen);
    if (ok && o->machine) sqlite3_bind_text(st, 1, o->machine, -1, SQLITE_STATIC);
    long cap = 0;
    int rc = SQLITE_DONE;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (d->n_runs == cap) {
            cap = cap ? 2 * cap : 1024;
            dash_run *nr = realloc(d->runs, (size_t)cap * sizeof *nr);
            sqlite3_int64 *ni = realloc(ids, (size_t)cap * 2 * sizeof *ni);
            if (nr) d->runs = nr;
            if (ni) ids = ni;
            if (!nr || !ni) { ok = FAIL("history %s: out of memory", db->path); break; }
        }
        dash_run *r = &d->runs[d->n_runs];
        snprintf(r->date, sizeof r->date, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(r->commit, sizeof r->commit, "%.12s", (const char *)sqlite3_column_text(st, 3));
        r->machine = intern(&d->machines, &d->n_machines, (const char *)sqlite3_column_text(st, 1));
        r->profile = intern(&d->profiles, &d->n_profiles, (const char *)sqlite3_column_text(st, 4));
        if (r->machine < 0 || r->profile < 0) { ok = FAIL("history %s: out of memory", db->path); break; }
        ids[2 * d->n_runs] = sqlite3_column_int64(st, 0), ids[2 * d->n_runs + 1] = d->n_runs;
        d->n_runs++;
    }
    if (ok && rc != SQLITE_DONE) ok = FAIL("history %s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    st = NULL;
    if (ok && d->n_runs) qsort(ids, (size_t)d->n_runs, 2 * sizeof *ids, cmp_id);
    ok = ok && hist_prepare(db, "SELECT run_id, name, median, ratio_onednn, ratio_scalar, gflops FROM records"
                                " WHERE ?1 IS NULL OR instr(name, ?1) > 0", &st, err, errlen);
    if (ok && o->filter) sqlite3_bind_text(st, 1, o->filter, -1, SQLITE_STATIC);
    sqlite3_int64 last_id = -1, *hit = NULL;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 id = sqlite3_column_int64(st, 0);
        if (id != last_id) hit = d->n_runs ? bsearch(&id, ids, (size_t)d->n_runs, 2 * sizeof *ids, cmp_id) : NULL;
        last_id = id;
        if (!hit) continue;   /* another machine's run */
        const char *name = (const char *)sqlite3_column_text(st, 1);
        double v[DASH_METRICS] = {col_num(st, 2), col_num(st, 3), col_num(st, 4), col_num(st, 5), NAN};
        v[DASH_SAMPLES] = samples_per_s(name, v[DASH_TIME]);
        int run = (int)hit[1];
        dash_series *s = series_of(d, &map, d->runs[run].machine, name);
        if (!s || !add_point(s, run, v)) { ok = FAIL("history %s: out of memory", db->path); break; }
        d->n_records++;
    }
    if (ok && rc != SQLITE_DONE) ok = FAIL("history %s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    free(ids);
    free(map.slot);
    return ok;
}

static void free_data(dash_data *d) {
    for (int i = 0; i < d->n_series; i++)
        free(d->series[i].name), free(d->series[i].pts), free(d->series[i].cps), free(d->series[i].breaks);
    for (int i = 0; i < d->n_machines; i++) free(d->machines[i]);
    for (int i = 0; i < d->n_profiles; i++) free(d->profiles[i]);
    free(d->series), free(d->machines), free(d->profiles), free(d->runs);
    memset(d, 0, sizeof *d);
}

static int cmp_point(const void *a, const void *b) {
    const dash_point *x = a, *y = b;
    return (x->run > y->run) - (x->run < y->run);
}

/* qsort_r's order of series: by machine name, then benchmark name (ctx: the dash_data). */
static int cmp_series(const void *a, const void *b, void *ctx) {
    const dash_series *x = a, *y = b;
    const dash_data *d = ctx;
    int c = strcmp(d->machines[x->machine], d->machines[y->machine]);
    return c ? c : strcmp(x->name, y->name);
}

/* ---- change points ---- */

/* Sorts a series by date and judges it as `latbench history` does (hist_judge, its defaults). */
static bool prepare_series(const dash_data *d, dash_series *s) {
    bool sorted = true;   /* runs are usually stored in date order already */
    for (int i = 1; sorted && i < s->n; i++) sorted = s->pts[i - 1].run <= s->pts[i].run;
    if (!sorted) qsort(s->pts, (size_t)s->n, sizeof *s->pts, cmp_point);
    const size_t n = s->n ? (size_t)s->n : 1;
    hist_obs *obs = malloc(n * sizeof *obs);
    double *x = malloc(n * sizeof *x);
    int *idx = malloc(n * sizeof *idx);
    hist_verdict *v = malloc(sizeof *v);
    bool ok = obs && x && idx && v;
    for (int i = 0; ok && i < s->n; i++) {
        const dash_point *p = &s->pts[i];
        obs[i] = (hist_obs){{p->v[DASH_TIME], p->v[DASH_ONEDNN], p->v[DASH_SCALAR]}, d->profiles[d->runs[p->run].profile]};
    }
    const hist_changes_opts o = {HIST_CHANGES_DEFAULTS};
    ok = ok && hist_judge(obs, s->n, &o, true, idx, x, v);
    s->quantity = ok ? v->quantity : -1;
    if (ok && v->quantity >= 0) {
        s->cps = malloc((v->k ? (size_t)v->k : 1) * sizeof *s->cps);
        s->breaks = malloc((v->n_breaks ? (size_t)v->n_breaks : 1) * sizeof *s->breaks);
        ok = s->cps && s->breaks;
        for (int i = 0; ok && i < v->k; i++) s->cps[i] = v->cp[i], s->cps[i].index = idx[v->from + v->cp[i].index];
        for (int i = 0; ok && i < v->n_breaks; i++) s->breaks[i] = idx[v->breaks[i]];
        if (ok) s->n_cps = v->k, s->n_breaks = v->n_breaks, s->regression = v->regression;
    }
    free(obs), free(x), free(idx), free(v);
    return ok;
}

/* ---- the page ---- */

static bool write_page(const char *dir, const dash_data *d, const hist_dash_opts *o, long *bytes, char *err, size_t errlen) {
    char path[4096];
    if (!io_mkdirs(dir)) return FAIL("%s: cannot make the folder: %s", dir, strerror(errno));
    if (snprintf(path, sizeof path, "%s/index.html", dir) >= (int)sizeof path) return FAIL("%s: path too long", dir);
    io_atomic_file af;
    if (!io_atomic_open(&af, path, 0, err, errlen)) return false;
    int fd = dup(af.fd);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    bool ok = f && dash_write_html(f, d, o);
    if (f) {
        ok = fflush(f) == 0 && !ferror(f) && ok;
        *bytes = ftell(f);
        fclose(f);
    } else if (fd >= 0) {
        close(fd);
    }
    if (!ok) {
        io_atomic_abort(&af);
        return FAIL("%s: %s", path, errno ? strerror(errno) : "write failed");
    }
    return io_atomic_commit(&af, err, errlen);
}

bool hist_dashboard(hist_db *db, const char *dir, const hist_dash_opts *opts, hist_dash_stats *st, char *err, size_t errlen) {
    hist_dash_opts oo = *opts;
    const hist_dash_opts *o = &oo;
    if (oo.points < 10) oo.points = oo.points <= 0 ? 160 : 10;   /* 0: the default */
    dash_data d = {0};
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    char what[160];
    memset(st, 0, sizeof *st);
    bool ok = load(db, o, &d, err, errlen);
    if (ok && o->progress) {
        snprintf(what, sizeof what, "%ld runs, %ld records, %d series read", d.n_runs, d.n_records, d.n_series);
        progress(what, t0, c0);
    }
    if (ok) qsort_r(d.series, (size_t)d.n_series, sizeof *d.series, cmp_series, &d);
    for (int i = 0; ok && i < d.n_series; i++) {
        if (!(ok = prepare_series(&d, &d.series[i]))) snprintf(err, errlen, "history %s: out of memory", db->path);
        st->changes += d.series[i].n_cps;
        if (o->progress && (i + 1) % 50 == 0) fprintf(stderr, "dashboard: change points of %d/%d series\n", i + 1, d.n_series);
    }
    if (ok && o->progress) snprintf(what, sizeof what, "%d change points found", st->changes), progress(what, t0, c0);
    ok = ok && write_page(dir, &d, o, &st->bytes, err, errlen);
    st->runs = d.n_runs, st->records = d.n_records, st->series = d.n_series;
    if (ok && o->progress) progress("page written", t0, c0);
    free_data(&d);
    return ok;
}

/* ---- the command ---- */

static int usage(FILE *f) {
    fprintf(f,
            "usage: latbench dashboard [--out DIR] [--points N] [--machine M] [--filter S]\n"
            "The history (latbench history --help) as one static HTML page, DIR/index.html (default DIR ./dashboard),\n"
            "which works offline: per benchmark and machine the median time, the ratios vs oneDNN and vs the scalar\n"
            "reference, GFLOP/s and pipeline samples/s per run; the change points and alarms `latbench history` reports\n"
            "(the same method on the same runs) marked with their step, tuning-profile changes marked as known breaks;\n"
            "hover for commit, date, profile and values; filters by op, pass and machine.\n"
            "  --out DIR     where index.html goes (made when missing; the file is replaced atomically)\n"
            "  --points N    buckets drawn per series at most (default 160, 10..2000); change points stay exact\n"
            "  --machine M   only that machine slug   --filter S  only benchmark names containing S\n"
            "exit: 0 written, 1 the store or the output failed, 2 a usage error, no history or a file that is not one\n");
    return f == stdout ? 0 : 2;
}

int cmd_dashboard(int argc, char **argv) {
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'}, {"points", required_argument, NULL, 'p'},
                                             {"machine", required_argument, NULL, 'm'}, {"filter", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    hist_dash_opts o = {.points = 160, .progress = true};
    const char *out = "dashboard";
    opts_parser p;
    opts_init(&p, "dashboard", argc, argv, longopts, "o:p:m:f:", false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return usage(stdout);
        if (c == OPTS_ERR) return 2;
        if (c == 'o') out = p.arg;
        if (c == 'm') o.machine = p.arg;
        if (c == 'f') o.filter = p.arg;
        if (c == 'p' && !opts_int(&p, 10, 2000, "a count", &o.points)) return 2;
    }
    if (opts_first_operand(&p) < argc)
        return opts_fail(&p, "unexpected '%s' (try latbench dashboard --help)", argv[opts_first_operand(&p)]);
    if (!*out) return opts_fail(&p, "--out needs a folder");
    char path[1024], err[1400];
    hist_db *db = NULL;
    if (hist_default_path(path, sizeof path, err, sizeof err)) db = hist_open(path, false, err, sizeof err);
    if (!db) return fprintf(stderr, "latbench: %s\n", err), 2;
    hist_dash_stats st;
    bool ok = hist_dashboard(db, out, &o, &st, err, sizeof err);
    hist_close(db);
    if (!ok) return fprintf(stderr, "latbench: %s\n", err), 1;
    printf("%s/index.html: %d series of %ld runs, %d change points, %ld bytes\n", out, st.series, st.runs, st.changes, st.bytes);
    return 0;
}

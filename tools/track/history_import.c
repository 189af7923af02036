/* Runs into the history (history.h): a bench / bench --gbench JSON file, or the export text
 * (its format: history_list.c). */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/track/history.h"
#include "tools/track/history_db.h"
#include "tools/stats/stats.h"

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), false)
#define HIST_MAX_REPS 1000000

/* The records of one run while they are read. */
typedef struct {
    hist_record *recs;
    char **names;
    double **reps;
    int *cap;
    size_t n, alloc;
} rec_list;

static void recs_free(rec_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->names[i]), free(l->reps[i]);
    free(l->recs), free(l->names), free(l->reps), free(l->cap);
    memset(l, 0, sizeof *l);
}

/* A new record named name (NULL: out of memory). */
static hist_record *recs_add(rec_list *l, const char *name) {
    if (l->n == l->alloc) {
        size_t a = l->alloc ? 2 * l->alloc : 64;
        hist_record *r = realloc(l->recs, a * sizeof *r);
        if (r) l->recs = r;
        char **nm = realloc(l->names, a * sizeof *nm);
        if (nm) l->names = nm;
        double **rp = realloc(l->reps, a * sizeof *rp);
        if (rp) l->reps = rp;
        int *cp = realloc(l->cap, a * sizeof *cp);
        if (cp) l->cap = cp;
        if (!r || !nm || !rp || !cp) return NULL;
        l->alloc = a;
    }
    if (!(l->names[l->n] = strdup(name))) return NULL;
    l->reps[l->n] = NULL;
    l->cap[l->n] = 0;
    hist_record *c = &l->recs[l->n];
    *c = (hist_record){.name = l->names[l->n], .median = NAN, .q1 = NAN, .q3 = NAN, .ratio_onednn = NAN,
                       .ratio_scalar = NAN, .gflops = NAN};
    l->n++;
    return c;
}

static bool recs_push_rep(rec_list *l, size_t i, double v) {
    hist_record *c = &l->recs[i];
    if (c->n_reps >= HIST_MAX_REPS) return false;
    if (c->n_reps == l->cap[i]) {
        int cap = l->cap[i] ? 2 * l->cap[i] : 16;
        double *nr = realloc(l->reps[i], (size_t)cap * sizeof *nr);
        if (!nr) return false;
        l->reps[i] = nr, l->cap[i] = cap;
    }
    l->reps[i][c->n_reps++] = v;
    c->reps = l->reps[i];
    return true;
}

/* ---- bench / google-benchmark JSON ---- */

/* A context string: key, else google-benchmark's "latbench_" + key. */
static json_t *ctx_get(json_t *ctx, const char *key) {
    json_t *v = json_object_get(ctx, key);
    if (v) return v;
    char k[96];
    snprintf(k, sizeof k, "latbench_%s", key);
    return json_object_get(ctx, k);
}

static const char *ctx_str(json_t *ctx, const char *key) {
    const char *s = json_string_value(ctx_get(ctx, key));
    return s ? s : "";
}

static void threads_text(json_t *t, char *out, size_t len) {
    out[0] = 0;
    if (json_is_string(t)) snprintf(out, len, "%s", json_string_value(t));
    size_t i, used = 0;
    json_t *v;
    json_array_foreach(t, i, v) if (json_is_integer(v) && used < len)
        used += (size_t)snprintf(out + used, len - used, "%s%lld", i ? "," : "", (long long)json_integer_value(v));
}

static bool run_from_context(json_t *ctx, hist_run *r, char *why, size_t wl) {
    memset(r, 0, sizeof *r);
    if (!json_is_object(ctx)) return snprintf(why, wl, "no \"context\" object"), false;
    snprintf(r->machine, sizeof r->machine, "%s", ctx_str(ctx, "machine_slug"));
    snprintf(r->date, sizeof r->date, "%s", ctx_str(ctx, "date"));
    if (!r->machine[0] || !r->date[0]) return snprintf(why, wl, "its context has no machine_slug or no date"), false;
    snprintf(r->cpu, sizeof r->cpu, "%s %s family %lld model %lld %s", ctx_str(ctx, "cpu_vendor"), ctx_str(ctx, "cpu_model"),
             (long long)json_integer_value(ctx_get(ctx, "cpu_family")), (long long)json_integer_value(ctx_get(ctx, "cpu_model_id")),
             ctx_str(ctx, "cpu_uarch"));
    snprintf(r->commit, sizeof r->commit, "%s", ctx_str(ctx, "git_commit"));
    snprintf(r->flags, sizeof r->flags, "%s", ctx_str(ctx, "compiler_flags"));
    snprintf(r->compiler, sizeof r->compiler, "%s", ctx_str(ctx, "compiler"));
    const char *exe = json_string_value(json_object_get(ctx, "executable"));
    const char *cmd = json_object_get(ctx, "latbench_machine_slug") ? "gbench" : exe && strstr(exe, "gate") ? "gate" : "bench";
    snprintf(r->command, sizeof r->command, "%s", cmd);
    threads_text(ctx_get(ctx, "threads"), r->threads, sizeof r->threads);
    return true;
}

static double ns_per_unit(json_t *b) {
    const char *u = json_string_value(json_object_get(b, "time_unit"));
    return !u || !strcmp(u, "ns") ? 1 : !strcmp(u, "us") ? 1e3 : !strcmp(u, "ms") ? 1e6 : !strcmp(u, "s") ? 1e9 : NAN;
}

static double num(json_t *b, const char *key) {
    json_t *v = json_object_get(b, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The record a row belongs to (its run_name, with the thread count when the name lacks it, in
 * today's grammar: hist_name_upgrade). */
static bool row_record(rec_list *l, json_t *map, json_t *b, size_t *idx) {
    const char *name = json_string_value(json_object_get(b, "run_name"));
    if (!name) name = json_string_value(json_object_get(b, "name"));
    if (!name) return false;
    char raw[512], key[512];
    json_t *t = json_object_get(b, "threads");
    static const char rt[] = "/real_time";
    size_t n = strlen(name);
    if (n > sizeof rt - 1 && !strcmp(name + n - (sizeof rt - 1), rt)) n -= sizeof rt - 1;
    if (json_is_integer(t) && !strstr(name, "threads:"))
        snprintf(raw, sizeof raw, "%.*s/threads:%lld", (int)n, name, (long long)json_integer_value(t));
    else snprintf(raw, sizeof raw, "%.*s", (int)n, name);
    if (!hist_name_upgrade(raw, key, sizeof key)) snprintf(key, sizeof key, "%s", raw);
    json_t *i = json_object_get(map, key);
    if (i) return *idx = (size_t)json_integer_value(i), true;
    if (!recs_add(l, key)) return false;
    *idx = l->n - 1;
    json_object_set_new(map, key, json_integer((json_int_t)*idx));
    return true;
}

/* One row of "benchmarks": iteration rows add a repetition, the median aggregate (latbench's own
 * rows) the statistics, the samples and the ratios; other aggregates are skipped. */
static bool add_row(rec_list *l, json_t *map, json_t *b) {
    const char *type = json_string_value(json_object_get(b, "run_type"));
    const char *agg = json_string_value(json_object_get(b, "aggregate_name"));
    if (type && !strcmp(type, "aggregate") && (!agg || strcmp(agg, "median"))) return true;
    size_t i;
    if (!row_record(l, map, b, &i)) return false;
    double u = ns_per_unit(b);
    if (type && !strcmp(type, "iteration")) return recs_push_rep(l, i, num(b, "real_time") * u);
    hist_record *c = &l->recs[i];
    if (isnan(c->median)) c->median = num(b, "real_time") * u;
    if (isnan(c->q1)) c->q1 = num(b, "q1_time") * u;
    if (isnan(c->q3)) c->q3 = num(b, "q3_time") * u;
    if (isnan(c->ratio_onednn)) c->ratio_onednn = num(b, "ratio_vs_onednn");
    if (isnan(c->ratio_scalar)) c->ratio_scalar = num(b, "ratio_vs_scalar");
    if (isnan(c->gflops)) c->gflops = num(b, "GFLOPS");
    json_t *s = json_object_get(b, "samples"), *v;
    size_t k;
    if (c->n_reps == 0) json_array_foreach(s, k, v) if (json_is_number(v) && !recs_push_rep(l, i, json_number_value(v) * u)) return false;
    return true;
}

/* A record with repetitions but no median aggregate (google-benchmark without aggregates) gets theirs. */
static void fill_medians(rec_list *l) {
    for (size_t i = 0; i < l->n; i++) {
        hist_record *c = &l->recs[i];
        if (!isnan(c->median) || c->n_reps == 0) continue;
        double *s = malloc((size_t)c->n_reps * sizeof *s);
        if (!s) continue;
        c->median = stats_median(c->reps, c->n_reps, s);
        free(s);
    }
}

bool hist_import_json(hist_db *db, const char *path, int *n_recs, bool *added, char *err, size_t errlen) {
    json_error_t je;
    *n_recs = 0;
    *added = false;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) return FAIL("%s:%d: %s", path, je.line, je.text);
    hist_run run;
    char why[200];
    json_t *benches = json_object_get(root, "benchmarks"), *map = json_object(), *b;
    rec_list l = {0};
    bool ok = run_from_context(json_object_get(root, "context"), &run, why, sizeof why);
    if (!ok) snprintf(err, errlen, "%s: not a bench result: %s", path, why);
    else if (!json_is_array(benches)) ok = FAIL("%s: not a bench result: no \"benchmarks\" array", path);
    size_t i;
    if (ok) json_array_foreach(benches, i, b) if (ok && json_is_object(b) && !add_row(&l, map, b))
        ok = FAIL("%s: benchmarks[%zu]: no name, or out of memory", path, i);
    if (ok) {
        fill_medians(&l);
        ok = hist_append(db, &run, l.recs, l.n, added, err, errlen);
        if (ok && *added) *n_recs = (int)l.n;
    }
    recs_free(&l);
    json_decref(map);
    json_decref(root);
    return ok;
}

/* ---- the export text ---- */

/* Splits line (NUL-terminated, changed in place) at tabs and undoes the escapes; the field count. */
static int split_fields(char *line, char **f, int max) {
    int n = 0;
    char *w = line;
    f[n++] = w;
    for (char *s = line; *s; s++) {
        if (*s == '\t') {
            *w++ = 0;
            if (n == max) return max + 1;
            f[n++] = w;
        } else if (*s == '\\' && s[1]) {
            s++;
            *w++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
        } else {
            *w++ = *s;
        }
    }
    *w = 0;
    return n;
}

static bool parse_num(const char *s, double *v) {
    if (!strcmp(s, "-")) return *v = NAN, true;
    char *end;
    *v = strtod(s, &end);
    return end != s && !*end && isfinite(*v);
}

/* Up to 40 bytes of s for a message, control characters as '?' (a message is one line). */
static const char *shown(const char *s, char *buf) {
    size_t i = 0;
    for (; s[i] && i < 40; i++) buf[i] = (unsigned char)s[i] < 32 || s[i] == 127 ? '?' : s[i];
    buf[i] = 0;
    return buf;
}

static bool parse_rec(rec_list *l, char **f, char *why, size_t wl) {
    char b[48];
    hist_record *c = recs_add(l, f[1]);
    if (!c) return snprintf(why, wl, "out of memory"), false;
    double *dst[] = {&c->median, &c->q1, &c->q3, &c->ratio_onednn, &c->ratio_scalar, &c->gflops};
    for (int k = 0; k < 6; k++)
        if (!parse_num(f[2 + k], dst[k])) return snprintf(why, wl, "field %d: not a number: '%s'", 3 + k, shown(f[2 + k], b)), false;
    if (!strcmp(f[8], "-")) return true;
    for (char *s = f[8], *tok; (tok = strsep(&s, " "));) {
        double v;
        if (!parse_num(tok, &v) || isnan(v)) return snprintf(why, wl, "repetitions: not a number: '%s'", shown(tok, b)), false;
        if (!recs_push_rep(l, l->n - 1, v)) return snprintf(why, wl, "too many repetitions"), false;
    }
    return true;
}

/* A run's tuning profile as gate runs record it (hist_run.profile): "", "none", "off" or
 * "profile:" and 16 hex digits. */
static bool profile_ok(const char *p) {
    static const char pre[] = "profile:";
    if (!*p || !strcmp(p, "none") || !strcmp(p, "off")) return true;
    const char *h = p + sizeof pre - 1;
    return !strncmp(p, pre, sizeof pre - 1) && strlen(h) == 16 && strspn(h, "0123456789abcdef") == 16;
}

/* f[1..n_fields): the run line's fields (9 of version 1, 10 with the profile). */
static bool parse_run(hist_run *r, char **f, int n_fields, char *why, size_t wl) {
    memset(r, 0, sizeof *r);
    char *dst[] = {r->machine, r->cpu, r->commit, r->flags, r->compiler, r->date, r->command, r->threads, r->profile};
    size_t len[] = {sizeof r->machine, sizeof r->cpu, sizeof r->commit, sizeof r->flags, sizeof r->compiler,
                    sizeof r->date, sizeof r->command, sizeof r->threads, sizeof r->profile};
    for (int k = 0; k < n_fields - 1; k++) {
        if (strlen(f[1 + k]) >= len[k]) return snprintf(why, wl, "field %d longer than %zu bytes", 2 + k, len[k] - 1), false;
        strcpy(dst[k], f[1 + k]);
    }
    if (!r->machine[0] || !r->date[0]) return snprintf(why, wl, "a run without machine or date"), false;
    char b[48];
    if (!profile_ok(r->profile))
        return snprintf(why, wl, "field 10: not a tuning profile (none, off or profile:<16 hex digits>): '%s'", shown(r->profile, b)), false;
    return true;
}

typedef struct {
    hist_db *db;
    int run_fields;         /* a run line's fields: 9 in version 1, 10 from version 2 (the profile) */
    hist_run run;
    bool have_run;
    rec_list recs;
    int added;
} text_state;

static bool flush_run(text_state *t, char *err, size_t errlen) {
    bool added = false;
    if (t->have_run && !hist_append(t->db, &t->run, t->recs.recs, t->recs.n, &added, err, errlen)) return false;
    t->added += added;
    recs_free(&t->recs);
    t->have_run = false;
    return true;
}

/* One line after the first; false with the reason in why (or err, for the store's failures). */
static bool text_line(text_state *t, char *line, char *why, size_t wl, char *err, size_t errlen, bool *store_failed) {
    char *f[11];
    int n = split_fields(line, f, 10);
    if (!strcmp(f[0], "run")) {
        if (n != t->run_fields) return snprintf(why, wl, "a run line has %d fields, not %d", t->run_fields, n), false;
        if (!flush_run(t, err, errlen)) return *store_failed = true, false;
        return t->have_run = parse_run(&t->run, f, n, why, wl);
    }
    if (!strcmp(f[0], "rec")) {
        if (n != 9) return snprintf(why, wl, "a rec line has 9 fields, not %d", n), false;
        if (!t->have_run) return snprintf(why, wl, "a rec line before any run line"), false;
        return parse_rec(&t->recs, f, why, wl);
    }
    return snprintf(why, wl, "neither a run nor a rec line"), false;
}

bool hist_import_text(hist_db *db, const char *buf, size_t len, const char *name, int *n_runs, char *err, size_t errlen) {
    *n_runs = 0;
    char *copy = malloc(len + 1);
    if (!copy) return FAIL("%s: out of memory", name);
    memcpy(copy, buf, len);
    copy[len] = 0;
    text_state t = {.db = db};
    char why[160];
    int lineno = 1;
    long version = 0;
    char *s = copy, *line = strsep(&s, "\n"), *end = NULL;
    const size_t ml = strlen(HIST_TEXT_MAGIC);
    bool ok = strlen(line) == (size_t)(s ? s - 1 - copy : (ptrdiff_t)len);   /* no NUL byte inside */
    if (ok && !strncmp(line, HIST_TEXT_MAGIC " ", ml + 1) && line[ml + 1] >= '0' && line[ml + 1] <= '9')
        version = strtol(line + ml + 1, &end, 10);
    if (!ok || !end || *end || version < 1)
        ok = FAIL("%s:1: not a latbench history export (it starts with \"%s %d\")", name, HIST_TEXT_MAGIC, HIST_TEXT_VERSION);
    else if (version > HIST_TEXT_VERSION)
        ok = FAIL("%s:1: export version %ld is newer than this latbench's %d", name, version, HIST_TEXT_VERSION);
    t.run_fields = version >= 2 ? 10 : 9;
    bool store_failed = false;
    while (ok && (line = strsep(&s, "\n"))) {
        lineno++;
        if (!*line && !s) break;   /* the final newline */
        if (strlen(line) != (size_t)(s ? s - 1 - line : copy + len - line)) ok = FAIL("%s:%d: a NUL byte", name, lineno);
        else if (!text_line(&t, line, why, sizeof why, err, errlen, &store_failed) && !store_failed)
            ok = FAIL("%s:%d: %s", name, lineno, why);
        if (store_failed) ok = false;
    }
    if (ok) ok = flush_run(&t, err, errlen);
    recs_free(&t.recs);
    free(copy);
    *n_runs = t.added;
    return ok;
}

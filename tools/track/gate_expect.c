/* latbench gate's expectation files (results/gate/<isa>.json): read and checked so that a gate run
 * never passes without checking something, and written by `gate --write [--runs N]` with each
 * ratio's median over the runs and its run-to-run spread (gate.c's head says how the check uses it). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tools/track/gate_internal.h"
#include "lib/io/atomic.h"
#include "lib/io/outdir.h"
#include "tools/stats/stats.h"

/* Several runs of the whole gate (--runs): the median of each ratio over them and the robust
 * standard deviation of its logarithm (NAN with fewer than 3 runs). */
typedef struct {
    double vs_scalar, vs_onednn, sigma_scalar, sigma_onednn;
} gate_summary;

/* median and 1.4826 x MAD of log(x) over the finite x[0..n). */
static void log_spread(const double *x, int n, double *med, double *sigma) {
    double v[GATE_MAX_RUNS], d[GATE_MAX_RUNS];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && x[i] > 0) v[m++] = log(x[i]);
    *med = *sigma = NAN;
    if (!m) return;
    const double lm = stats_median(v, m, v);
    *med = exp(lm);
    if (m < 3) return;
    for (int i = 0; i < m; i++) d[i] = fabs(v[i] - lm);
    *sigma = 1.4826 * stats_median(d, m, d);
}

static void summarize(const gate_ctx *runs, int nruns, int i, gate_summary *s) {
    double a[GATE_MAX_RUNS], b[GATE_MAX_RUNS];
    for (int r = 0; r < nruns; r++) a[r] = runs[r].res[i].vs_scalar[0], b[r] = runs[r].res[i].vs_onednn[0];
    log_spread(a, nruns, &s->vs_scalar, &s->sigma_scalar);
    log_spread(b, nruns, &s->vs_onednn, &s->sigma_onednn);
}

/* One ratio of an entry: absent is fine only when not required; present, it must be a positive
 * finite number. */
static bool check_ratio(const char *path, const char *name, json_t *entry, const char *key, bool required, char *err,
                        size_t errlen) {
    json_t *v = json_object_get(entry, key);
    if (!v && !required) return true;
    if (!v) return snprintf(err, errlen, "%s: \"%s\" has no \"%s\" ratio", path, name, key), false;
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    if (!(isfinite(x) && x > 0))
        return snprintf(err, errlen, "%s: \"%s\": \"%s\" is not a positive number", path, name, key), false;
    return true;
}

/* A recorded run-to-run spread: optional, and when present a finite number >= 0. */
static bool check_sigma(const char *path, const char *name, json_t *entry, const char *key, char *err, size_t errlen) {
    json_t *v = json_object_get(entry, key);
    if (!v) return true;
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    if (!(isfinite(x) && x >= 0 && x < 10))
        return snprintf(err, errlen, "%s: \"%s\": \"%s\" is not a spread in [0, 10)", path, name, key), false;
    return true;
}

/* Loads and checks an expectation file: a "ratios" object whose every entry is an object of
 * positive numbers, with an entry (and its "vs_scalar", and "vs_onednn" when oneDNN is built in)
 * for every gated problem, so a gate run never passes without checking something. */
bool gate_load_expect(const char *path, gate_expect *e, char *err, size_t errlen) {
    json_error_t je;
    e->root = json_load_file(path, 0, &je);
    e->uarch = NULL;
    if (!e->root) {
        if (je.line > 0) snprintf(err, errlen, "%s: not valid JSON (line %d: %s)", path, je.line, je.text);
        else snprintf(err, errlen, "%s: %s", path, je.text);
        return false;
    }
    json_t *ratios = json_object_get(e->root, "ratios");
    const char *k;
    json_t *entry;
    char names[GATE_N_ALL][GATE_NAME_LEN];
    bool ok = false;
    if (!json_is_object(ratios)) {
        snprintf(err, errlen, "%s: no \"ratios\" object (not a gate expectation file)", path);
    } else if (json_object_size(ratios) == 0) {
        snprintf(err, errlen, "%s: the \"ratios\" object is empty (record it with `latbench gate --write`)", path);
    } else if (gate_problem_names(names, err, errlen)) {
        ok = true;
        json_object_foreach(ratios, k, entry) {
            if (!json_is_object(entry)) {
                snprintf(err, errlen, "%s: \"%s\" is not an object of ratios", path, k);
                ok = false;
            } else if (!check_ratio(path, k, entry, "vs_scalar", false, err, errlen) ||
                       !check_ratio(path, k, entry, "vs_onednn", false, err, errlen) ||
                       !check_ratio(path, k, entry, "vs_unfused", false, err, errlen) ||
                       !check_sigma(path, k, entry, "vs_scalar_sigma", err, errlen) ||
                       !check_sigma(path, k, entry, "vs_onednn_sigma", err, errlen) ||
                       !check_sigma(path, k, entry, "vs_unfused_sigma", err, errlen)) {
                ok = false;
            }
            if (!ok) break;
        }
        for (int i = 0; ok && i < GATE_N_ALL; i++) {
            entry = json_object_get(ratios, names[i]);
            if (!entry) {
                snprintf(err, errlen, "%s: no expectation for the gated problem \"%s\"", path, names[i]);
                ok = false;
            } else {
                ok = check_ratio(path, names[i], entry, "vs_scalar", true, err, errlen) &&
                     check_ratio(path, names[i], entry, gate_ratio_key(1, i >= GATE_N_PROBLEMS, false),
                                 i < GATE_N_PROBLEMS ? GATE_HAS_ONEDNN : true, err, errlen);
            }
        }
    }
    json_t *uarch = json_object_get(json_object_get(e->root, "machine"), "uarch");
    if (ok && uarch && !json_is_string(uarch)) {
        snprintf(err, errlen, "%s: \"machine\": \"uarch\" is not a string", path);
        ok = false;
    }
    if (!ok) {
        json_decref(e->root);
        e->root = NULL;
        return false;
    }
    e->uarch = json_string_value(uarch);
    return true;
}

void gate_expect_free(gate_expect *e) {
    if (e->root) json_decref(e->root);
    e->root = NULL;
    e->uarch = NULL;
}

double gate_expect_of(const gate_expect *e, const char *name, const char *key) {
    json_t *v = json_object_get(json_object_get(json_object_get(e->root, "ratios"), name), key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

bool gate_write_expect(const char *path, const bench_run *r, const gate_ctx *runs, int nruns, int reps) {
    const gate_ctx *g = &runs[0];
    json_t *root = json_object(), *mach = json_object(), *ratios = json_object();
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    json_object_set_new(mach, "model", json_string(r->mach.model));
    json_object_set_new(mach, "uarch", json_string(r->mach.uarch));
    json_object_set_new(mach, "slug", json_string(r->mach.slug));
    json_object_set_new(mach, "conv2d", json_string(r->disp->conv2d->name));
    json_object_set_new(mach, "pool", json_string(r->disp->pool->name));
    json_object_set_new(root, "machine", mach);
    json_object_set_new(root, "date", json_string(date));
    json_object_set_new(root, "reps", json_integer(reps));
    json_object_set_new(root, "runs", json_integer(nruns));
    json_object_set_new(root, "note", json_string("ratios of the lower quartiles of the per-call times, ours/scalar and "
                                                  "ours/oneDNN (its faster path) or, for a fused chain, ours/unfused, 1 thread, median over the runs; *_sigma: "
                                                  "1.4826 x MAD of log(ratio) over the runs; written by `latbench gate --write`"));
    for (int i = 0; i < g->n; i++) {
        json_t *o = json_object();
        gate_summary s;
        summarize(runs, nruns, i, &s);
        if (isfinite(s.vs_scalar)) json_object_set_new(o, "vs_scalar", json_real(s.vs_scalar));
        if (isfinite(s.sigma_scalar)) json_object_set_new(o, "vs_scalar_sigma", json_real(s.sigma_scalar));
        const bool chain = g->res[i].chain;
        if (isfinite(s.vs_onednn)) json_object_set_new(o, gate_ratio_key(1, chain, false), json_real(s.vs_onednn));
        if (isfinite(s.sigma_onednn)) json_object_set_new(o, gate_ratio_key(1, chain, true), json_real(s.sigma_onednn));
        json_object_set_new(ratios, g->res[i].name, o);
    }
    json_object_set_new(root, "ratios", ratios);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text) return false;
    char dir[1024], err[256];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        if (!io_mkdirs(dir)) {
            fprintf(stderr, "latbench gate: cannot create %s: %s\n", dir, strerror(errno));
            free(text);
            return false;
        }
    }
    size_t n = strlen(text);
    text[n] = '\n';   /* json_dumps leaves the terminator; the file ends with a newline instead */
    bool ok = io_write_file_atomic(path, text, n + 1, err, sizeof err);
    if (!ok) fprintf(stderr, "latbench gate: %s\n", err);
    free(text);
    return ok;
}

/* latbench compare: see compare.h. */
#include "tools/track/compare.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/timing/timing.h"
#include "tools/stats/stats.h"
#include "tools/opts/opts.h"
#include "tools/track/history.h"

/* ---- result files ---- */

static compare_series *series_get(compare_series_set *set, const char *name) {
    for (int i = 0; i < set->n; i++)
        if (!strcmp(set->v[i].name, name)) return &set->v[i];
    if (set->n == set->cap) {
        int cap = set->cap ? 2 * set->cap : 64;
        compare_series *nv = realloc(set->v, sizeof *nv * (size_t)cap);
        if (!nv) return NULL;
        set->v = nv;
        set->cap = cap;
    }
    compare_series *s = &set->v[set->n];
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    if (!s->name) return NULL;
    set->n++;
    return s;
}

/* The series of a benchmark by its name in the file, read in today's grammar (hist_name_upgrade:
 * a file of an earlier latbench compares with a new one). */
static compare_series *series_named(compare_series_set *set, const char *raw) {
    char name[600];
    if (!hist_name_upgrade(raw, name, sizeof name)) snprintf(name, sizeof name, "%s", raw);
    return series_get(set, name);
}

void compare_series_free(compare_series_set *set) {
    for (int i = 0; i < set->n; i++) free(set->v[i].name);
    free(set->v);
    memset(set, 0, sizeof *set);
}

/* Seconds per unit of a record's times: google-benchmark's time_unit (latbench writes "ns"); absent
 * means ns; 0 for a unit this reader does not know. */
static double unit_seconds(json_t *rec) {
    json_t *v = json_object_get(rec, "time_unit");
    if (!v) return 1e-9;
    const char *u = json_string_value(v);
    if (!u) return 0;
    if (!strcmp(u, "ns")) return 1e-9;
    if (!strcmp(u, "us")) return 1e-6;
    if (!strcmp(u, "ms")) return 1e-3;
    if (!strcmp(u, "s")) return 1;
    return 0;
}

/* A time of record `name`: a number in [1e-15 s, 1e6 s] (a zero, negative or overflowing time would
 * turn the statistics into inf or nan, and a verdict on it would be silent garbage; the bounds
 * leave room for any real time per call and keep every ratio of two times finite). */
#define TIME_MIN_S 1e-15
#define TIME_MAX_S 1e6
static bool time_ok(const char *path, const char *name, const char *what, json_t *x, double unit, char *err, size_t errlen) {
    double v = json_is_number(x) ? json_number_value(x) * unit : NAN;
    if (v >= TIME_MIN_S && v <= TIME_MAX_S) return true;
    if (json_is_number(x))
        snprintf(err, errlen, "%.300s: benchmark \"%.300s\": %s %.17g is not a time in [%g s, %g s]", path, name, what,
                 json_number_value(x), TIME_MIN_S, TIME_MAX_S);
    else snprintf(err, errlen, "%.300s: benchmark \"%.300s\": %s is not a number", path, name, what);
    return false;
}

/* Every time of a record (its "samples", its "real_time") and its unit; false with the message. */
static bool check_record(const char *path, json_t *rec, char *err, size_t errlen) {
    const char *name = json_string_value(json_object_get(rec, "name"));
    if (!name) return true;   /* not a benchmark record: skipped */
    json_t *samples = json_object_get(rec, "samples"), *rt = json_object_get(rec, "real_time");
    if (!samples && !rt) return true;   /* a rate, no time */
    const char *agg = json_string_value(json_object_get(rec, "aggregate_name"));
    if (agg && strcmp(agg, "median")) return true;   /* mean, stddev, cv: not read (cv is not a time) */
    double unit = unit_seconds(rec);
    if (unit == 0) {
        json_t *u = json_object_get(rec, "time_unit");
        snprintf(err, errlen, "%.300s: benchmark \"%.300s\": unknown time_unit \"%.40s\" (ns, us, ms or s)", path, name,
                 json_is_string(u) ? json_string_value(u) : "(not a string)");
        return false;
    }
    if (samples && !json_is_array(samples))
        return snprintf(err, errlen, "%.300s: benchmark \"%.300s\": \"samples\" is not an array", path, name), false;
    size_t k;
    json_t *x;
    json_array_foreach(samples, k, x) if (!time_ok(path, name, "a sample", x, unit, err, errlen)) return false;
    if (rt && !time_ok(path, name, "real_time", rt, unit, err, errlen)) return false;
    return true;
}

/* The record of the benchmark `name` (its run_name, or its name without one) that holds its
 * "samples" (latbench's median row), or NULL. */
static json_t *find_record(json_t *benchmarks, const char *name) {
    size_t i;
    json_t *rec;
    json_array_foreach(benchmarks, i, rec) {
        const char *n = json_string_value(json_object_get(rec, "run_name"));
        if (!n) n = json_string_value(json_object_get(rec, "name"));
        if (n && !strcmp(n, name) && json_object_get(rec, "samples")) return rec;
    }
    return NULL;
}

/* Ours per repetition over the lower quartile of oneDNN's best path of the same problem and thread
 * count, measured interleaved in the same run.  The normalizer is a low quantile because the noise
 * of a shared machine comes in bursts that only ever add time: its fastest repetitions are the
 * clean ones (pairing repetition by repetition would mix bursts of either side into the ratio). */
static bool ratio_samples(json_t *benchmarks, json_t *rec, compare_series *s) {
    const char *impl = json_string_value(json_object_get(rec, "impl"));
    const char *path = json_string_value(json_object_get(rec, "onednn_best_path"));
    const char *problem = json_string_value(json_object_get(rec, "problem"));
    json_t *thr = json_object_get(rec, "threads");
    if (!impl || strcmp(impl, "ours") || !path || !problem || !json_is_integer(thr)) return false;
    char other[256];
    snprintf(other, sizeof other, "%s/onednn_%s/threads:%lld", problem, path, (long long)json_integer_value(thr));
    json_t *o = find_record(benchmarks, other);
    json_t *a = json_object_get(rec, "samples"), *b = o ? json_object_get(o, "samples") : NULL;
    if (!json_is_array(a) || !json_is_array(b) || json_array_size(b) == 0) return false;
    double ref[COMPARE_MAX_SAMPLES];
    int nb = 0;
    for (size_t i = 0; i < json_array_size(b) && nb < COMPARE_MAX_SAMPLES; i++) ref[nb++] = json_number_value(json_array_get(b, i)) * unit_seconds(o);
    double norm = timing_order_stats(ref, nb).q1;
    if (!(norm > 0)) return false;
    for (size_t i = 0; i < json_array_size(a) && s->n < COMPARE_MAX_SAMPLES; i++) {
        double x = json_number_value(json_array_get(a, i)) * unit_seconds(rec) / norm;
        if (isfinite(x) && x > 0) s->s[s->n++] = x;
    }
    return s->n > 0;
}

/* See compare.h. */
bool compare_load_results(const char *path, const compare_opts *o, compare_series_set *set, char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        if (je.line <= 0) snprintf(err, errlen, "%s: cannot read: %s", path, je.text);
        else snprintf(err, errlen, "%s: not valid JSON (line %d: %s)", path, je.line, je.text);
        return false;
    }
    json_t *benchmarks = json_object_get(root, "benchmarks");
    if (!json_is_array(benchmarks)) {
        snprintf(err, errlen, "%s: no \"benchmarks\" array (not a latbench bench or google-benchmark result)", path);
        json_decref(root);
        return false;
    }
    size_t i;
    json_t *rec;
    json_array_foreach(benchmarks, i, rec) {
        if (!check_record(path, rec, err, errlen)) {
            json_decref(root);
            return false;
        }
    }
    json_array_foreach(benchmarks, i, rec) {
        const char *name = json_string_value(json_object_get(rec, "name"));
        const char *run_name = json_string_value(json_object_get(rec, "run_name"));
        const char *type = json_string_value(json_object_get(rec, "run_type"));
        if (!name) continue;
        if (o->filter && !strstr(name, o->filter)) continue;
        json_t *samples = json_object_get(rec, "samples");
        json_t *rt = json_object_get(rec, "real_time");
        if (o->ratio) {
            compare_series tmp;
            memset(&tmp, 0, sizeof tmp);
            if (!ratio_samples(benchmarks, rec, &tmp)) continue;
            compare_series *s = series_named(set, run_name ? run_name : name);
            if (!s) goto oom;
            memcpy(s->s, tmp.s, sizeof tmp.s);
            s->n = tmp.n;
        } else if (json_is_array(samples)) {
            compare_series *s = series_named(set, run_name ? run_name : name);
            if (!s) goto oom;
            if (s->from_iterations) continue;   /* the same repetitions, read from their rows */
            double unit = unit_seconds(rec);
            size_t k;
            json_t *x;
            s->n = 0;
            json_array_foreach(samples, k, x) if (json_is_number(x) && s->n < COMPARE_MAX_SAMPLES) s->s[s->n++] = json_number_value(x) * unit;
        } else if (type && !strcmp(type, "iteration") && json_is_number(rt)) {
            compare_series *s = series_named(set, run_name ? run_name : name);
            if (!s) goto oom;
            if (!s->from_iterations) s->n = 0;   /* iterations win over an aggregate seen first */
            s->from_iterations = true;
            if (s->n < COMPARE_MAX_SAMPLES) s->s[s->n++] = json_number_value(rt) * unit_seconds(rec);
        } else if (type && !strcmp(type, "aggregate") && json_is_number(rt)) {
            const char *agg = json_string_value(json_object_get(rec, "aggregate_name"));
            if (!agg || strcmp(agg, "median")) continue;
            compare_series *s = series_named(set, run_name ? run_name : name);
            if (!s) goto oom;
            if (!s->from_iterations && s->n == 0) s->s[s->n++] = json_number_value(rt) * unit_seconds(rec);
        } else {
            set->not_timed++;
        }
    }
    json_decref(root);
    return true;
oom:
    snprintf(err, errlen, "%s: out of memory", path);
    json_decref(root);
    return false;
}

/* Median and quartiles (for the row; the verdict is stats_ratio_ci's). */
static double median_of(const double *v, int n, double *q1, double *q3) {
    double t[COMPARE_MAX_SAMPLES];
    memcpy(t, v, sizeof(double) * (size_t)n);
    timing_stats st = timing_order_stats(t, n);
    *q1 = st.q1;
    *q3 = st.q3;
    return st.median;
}

static void fmt_value(char *buf, size_t len, double v, bool ratio) {
    if (ratio) snprintf(buf, len, "%.3f", v);
    else if (v >= 1e-3) snprintf(buf, len, "%.3f ms", v * 1e3);
    else snprintf(buf, len, "%.2f us", v * 1e6);
}

/* ---- CLI ---- */

/* COMPARE_RULE with the options' numbers. */
static void rule_text(char *buf, size_t len, const compare_opts *o) {
    int k = stats_min_reps(o->alpha), t = (int)lround(100 * o->threshold);
    int q = snprintf(buf, len, COMPARE_RULE, 100 * (1 - 2 * o->alpha), (double)t, stats_sign_min_n(o->alpha), (double)t, (double)t, k, k);
    if (!o->ratio && q > 0 && (size_t)q + 2 < len) {
        snprintf(buf + q, len - (size_t)q, ". ");
        snprintf(buf + q + 2, len - (size_t)q - 2, COMPARE_RULE_MACHINE, 100 * o->machine_drift);
    }
}

/* text on lines of at most ~104 columns, each after indent, broken at spaces. */
static void print_wrapped(FILE *f, const char *indent, const char *text) {
    const int width = 104 - (int)strlen(indent);
    while (*text) {
        int len = (int)strlen(text), cut = len;
        if (len > width) {
            for (cut = width; cut > 0 && text[cut] != ' '; cut--) {}
            if (cut == 0) cut = width;
        }
        fprintf(f, "%s%.*s\n", indent, cut, text);
        text += cut;
        while (*text == ' ') text++;
    }
}

static void usage(FILE *f) {
    compare_opts d = {COMPARE_DEFAULT_THRESHOLD, COMPARE_DEFAULT_ALPHA, false, NULL, false, COMPARE_DEFAULT_MACHINE_DRIFT};
    char rule[2048];
    rule_text(rule, sizeof rule, &d);
    fprintf(f,
            "usage: latbench compare OLD.json NEW.json [--threshold PCT] [--alpha A] [--ratio] [--machine-drift PCT]\n"
            "                        [--filter SUBSTR] [--all]\n"
            "  Per benchmark present in both files: median OLD and NEW, the spread (half the interquartile range\n"
            "  over the median), the ratio NEW/OLD and its confidence interval [lo, hi] (tools/stats/stats.h), and\n"
            "  the verdict.  With the defaults (--threshold %.0f, --alpha %g, --machine-drift %.0f):\n",
            100 * d.threshold, d.alpha, 100 * d.machine_drift);
    print_wrapped(f, "    ", rule);
    fprintf(f,
            "  --alpha A: the error of each bound (an interval of confidence 1 - 2A).  Exit 1 when there is a regression,\n"
            "  0 otherwise (also when some rows have too few repetitions to decide: they are listed), 2 on bad input.\n"
            "  --ratio compares ours per repetition over the lower quartile of oneDNN's times in the same run\n"
            "  (measured side by side: insensitive to how loaded the machine was) instead of times; --all\n"
            "  prints unchanged rows too.\n"
            "  Reads `latbench bench --json` files and google-benchmark JSON (--benchmark_repetitions >= %d).\n",
            stats_min_reps(d.alpha));
}

/* The options and the two file names: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, compare_opts *o, const char *files[2]) {
    static const struct option longopts[] = {{"threshold", required_argument, NULL, 256}, {"alpha", required_argument, NULL, 257},
                                             {"filter", required_argument, NULL, 258},    {"ratio", no_argument, NULL, 259},
                                             {"all", no_argument, NULL, 260},             {"machine-drift", required_argument, NULL, 261},
                                             {0}};
    opts_parser p;
    opts_init(&p, "compare", argc, argv, longopts, NULL, false);
    double x;
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return usage(stdout), 0;
        if (c == OPTS_ERR) return 2;
        if (c == 256 && !opts_parse_double(p.arg, 0, 1e6, &x))
            return opts_fail(&p, "--threshold: '%s' is not a percentage >= 0", p.arg);
        if (c == 256) o->threshold = x / 100;
        if (c == 257 && !opts_parse_double(p.arg, 1e-12, 0.49, &o->alpha))
            return opts_fail(&p, "--alpha: '%s' is not an error level in (0, 0.49]", p.arg);
        if (c == 258) o->filter = p.arg;
        if (c == 259) o->ratio = true;
        if (c == 260) o->all = true;
        if (c == 261 && !opts_parse_double(p.arg, 0, 1e6, &x))
            return opts_fail(&p, "--machine-drift: '%s' is not a percentage >= 0", p.arg);
        if (c == 261) o->machine_drift = x / 100;
    }
    int first = opts_first_operand(&p);
    if (argc - first > 2) return opts_fail(&p, "expected two result files, got a third: '%s'", argv[first + 2]);
    if (argc - first != 2) return opts_fail(&p, "expected two result files: OLD.json NEW.json (try --help)");
    files[0] = argv[first], files[1] = argv[first + 1];
    return -1;
}

/* The tallies of a comparison. */
typedef struct {
    int compared, slower, faster, only_old, undecided;   /* benchmarks */
    int kernels, regressions, kernels_faster, kernels_undecided;
    int baseline_moved;   /* oneDNN kernels beyond the threshold: reported, never a regression */
    int with_machine;     /* kernels of ours that moved with oneDNN (COMPARE_RULE_MACHINE): never a regression */
} compare_counts;

/* One benchmark in both files: its interval. */
typedef struct {
    const char *name;
    stats_shift sh;
} compare_row;

/* The verdict on one benchmark's interval, counted into *n; *show when the row must be printed. */
static const char *verdict_of(const compare_opts *o, const stats_shift *sh, compare_counts *n, bool *show) {
    static char few[96];
    double t = o->threshold;
    *show = true;
    if (!sh->decidable) {
        snprintf(few, sizeof few, "too few repetitions to decide (%d vs %d; need >= %d)", sh->na, sh->nb, stats_min_reps(o->alpha));
        n->undecided++;
        return few;
    }
    if (sh->lo > 1 + t) return n->slower++, "slower (interval above)";
    if (sh->hi < 1 - t) return n->faster++, "faster (interval below)";
    if (sh->ratio > 1 + t) return "slower (not significant)";
    if (sh->ratio < 1 - t) return "faster (not significant)";
    *show = o->all;
    return "same";
}

/* One benchmark in both files: its interval into *row, its row printed when it is not "same". */
/* The benchmark of set named name, or NULL (the last of that name, as the files are read). */
static const compare_series *series_find(const compare_series_set *set, const char *name) {
    const compare_series *b = NULL;
    for (int k = 0; k < set->n; k++)
        if (!strcmp(set->v[k].name, name)) b = &set->v[k];
    return b;
}

/* A benchmark's row: the interval of NEW (b) over OLD (a). */
static void row_of(const compare_opts *o, const compare_series *a, const compare_series *b, compare_row *row) {
    row->name = a->name;
    if (!stats_ratio_ci(a->s, a->n, b->s, b->n, o->alpha, &row->sh)) row->sh.decidable = false;   /* values were checked */
}

static void compare_one(const compare_opts *o, const compare_series *a, const compare_series *b, compare_counts *n, compare_row *row) {
    n->compared++;
    row_of(o, a, b, row);
    bool show;
    const char *verdict = verdict_of(o, &row->sh, n, &show);
    if (!show) return;
    double q1a, q3a, q1b, q3b;
    double ma = median_of(a->s, a->n, &q1a, &q3a), mb = median_of(b->s, b->n, &q1b, &q3b);
    char sa[24], sb[24], spread[24], ci[32];
    fmt_value(sa, sizeof sa, ma, o->ratio);
    fmt_value(sb, sizeof sb, mb, o->ratio);
    snprintf(spread, sizeof spread, "%.0f%%/%.0f%%", 50 * (q3a - q1a) / ma, 50 * (q3b - q1b) / mb);
    if (row->sh.decidable) snprintf(ci, sizeof ci, "[%.3f, %.3f]", row->sh.lo, row->sh.hi);
    else snprintf(ci, sizeof ci, "-");
    printf("%-72s %11s %11s %7.3f %17s %11s  %s\n", a->name, sa, sb, row->sh.ratio, ci, spread, verdict);
}

/* The kernel of a benchmark name: its second /-part replaced by "*" (the whole name when it has
 * fewer than three parts: google-benchmark's "BM_x/8" is a kernel of its own). */
static void kernel_of(const char *name, char *buf, size_t len) {
    const char *s1 = strchr(name, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s2) snprintf(buf, len, "%s", name);
    else snprintf(buf, len, "%.*s/*%s", (int)(s1 - name), name, s2);
}

/* The direction of a kernel's benchmarks from their rows: the sign test over their ratios (own =
 * true), or, for fewer than stats_sign_min_n, every benchmark's own interval. */
typedef enum { KERNEL_SAME, KERNEL_UNDECIDED, KERNEL_SLOWER, KERNEL_FASTER } kernel_dir;
typedef struct {
    int members;
    double med, lo, hi;
    bool own;
    kernel_dir dir;
} kernel_verdict;

static kernel_verdict kernel_verdict_of(const compare_opts *o, const compare_row *rows, int nrows, const char *key) {
    kernel_verdict v = {0};
    double *r = calloc((size_t)nrows + 1, sizeof *r);
    if (!r) return v.dir = KERNEL_UNDECIDED, v;
    int dec = 0, above = 0, below = 0;
    for (int i = 0; i < nrows; i++) {
        char k[512];
        kernel_of(rows[i].name, k, sizeof k);
        if (strcmp(k, key)) continue;
        v.members++;
        if (!rows[i].sh.decidable) continue;
        r[dec++] = rows[i].sh.ratio;
        above += rows[i].sh.lo > 1 + o->threshold;
        below += rows[i].sh.hi < 1 - o->threshold;
    }
    double t = o->threshold;
    v.own = stats_median_ci(r, dec, o->alpha, &v.med, &v.lo, &v.hi);
    if (dec == 0 || (!v.own && dec < v.members)) v.dir = KERNEL_UNDECIDED;
    else if (v.own ? v.lo > 1 + t : above == dec) v.dir = KERNEL_SLOWER;
    else if (v.own ? v.hi < 1 - t : below == dec) v.dir = KERNEL_FASTER;
    else v.dir = KERNEL_SAME;
    if (!v.own && !dec) v.med = NAN;
    free(r);
    return v;
}

/* The move of oneDNN on the problems of kernel `key`: the median over its benchmarks that have a
 * ratio row of (NEW/OLD of ours) / (NEW/OLD of ours over oneDNN); 0 when none has one. */
static double baseline_move(const compare_row *rows, int nrows, const compare_row *rrows, int nr, const char *key) {
    double m[COMPARE_MAX_SAMPLES];
    int n = 0;
    for (int i = 0; i < nrows && n < COMPARE_MAX_SAMPLES; i++) {
        char k[512];
        kernel_of(rows[i].name, k, sizeof k);
        if (strcmp(k, key) || !rows[i].sh.decidable) continue;
        for (int j = 0; j < nr; j++)
            if (!strcmp(rrows[j].name, rows[i].name) && rrows[j].sh.decidable && rrows[j].sh.ratio > 0) {
                m[n++] = rows[i].sh.ratio / rrows[j].sh.ratio;
                break;
            }
    }
    return n ? stats_median(m, n, m) : 0;
}

/* The verdict on the kernel `key` from its benchmarks among rows[0..nrows), counted into *n;
 * rrows[0..nr): the same benchmarks as ours over oneDNN (time mode; nr = 0 otherwise), for
 * COMPARE_RULE_MACHINE. */
static void compare_kernel(const compare_opts *o, const compare_row *rows, int nrows, const compare_row *rrows, int nr,
                           const char *key, compare_counts *n) {
    kernel_verdict v = kernel_verdict_of(o, rows, nrows, key);
    const char *verdict = "same", *how = v.own ? "sign test" : "every benchmark's own interval";
    char with[160] = "";
    n->kernels++;
    bool moved = v.dir == KERNEL_SLOWER || v.dir == KERNEL_FASTER;
    if (v.dir == KERNEL_UNDECIDED) verdict = "too few repetitions to decide", n->kernels_undecided++;
    /* the baseline is not latbench's code: its move is the machine's speed between the runs (load, clock) */
    else if (moved && strstr(key, "/onednn")) verdict = "baseline moved (oneDNN: not counted)", n->baseline_moved++;
    else if (moved) {
        double m = nr ? baseline_move(rows, nrows, rrows, nr, key) : 0;
        bool slower = v.dir == KERNEL_SLOWER, counts = true;
        if (m > 0) {
            kernel_verdict rv = kernel_verdict_of(o, rrows, nr, key);
            bool beyond = slower ? m > 1 + o->machine_drift : m < 1 / (1 + o->machine_drift);
            if (rv.dir == v.dir) snprintf(with, sizeof with, "; against oneDNN too: x%.3f", rv.med);
            else if (beyond) snprintf(with, sizeof with, "; oneDNN moved x%.3f too, beyond --machine-drift", m);
            else {
                snprintf(with, sizeof with, "; against oneDNN x%.3f: oneDNN moved x%.3f with it", rv.med, m);
                verdict = slower ? "slower with oneDNN (the machine: not counted)" : "faster with oneDNN (the machine: not counted)";
                n->with_machine++;
                counts = false;
            }
        }
        if (counts && slower) verdict = "REGRESSION", n->regressions++;
        else if (counts) verdict = "faster", n->kernels_faster++;
    }
    if (strcmp(verdict, "same") || o->all) {
        char ci[40] = "-";
        if (v.own) snprintf(ci, sizeof ci, "[%.3f, %.3f]", v.lo, v.hi);
        printf("kernel %-65s %3d benchmark%s %7.3f %17s  %s (%s%s)\n", key, v.members, v.members == 1 ? " " : "s", v.med, ci,
               verdict, how, with);
    }
}

/* Every kernel among rows[0..nrows), in the order of their first benchmark. */
static void compare_kernels(const compare_opts *o, const compare_row *rows, int nrows, const compare_row *rrows, int nr,
                            compare_counts *n) {
    for (int i = 0; i < nrows; i++) {
        char key[512], prev[512];
        kernel_of(rows[i].name, key, sizeof key);
        int j;
        for (j = 0; j < i; j++) {
            kernel_of(rows[j].name, prev, sizeof prev);
            if (!strcmp(prev, key)) break;
        }
        if (j == i) compare_kernel(o, rows, nrows, rrows, nr, key, n);
    }
}

/* The summary line after the rows. */
static void print_summary(const compare_opts *o, const compare_series_set *old, const compare_series_set *neu,
                          const compare_counts *n) {
    int only_new = 0;
    for (int k = 0; k < neu->n; k++) {
        int i;
        for (i = 0; i < old->n; i++)
            if (!strcmp(old->v[i].name, neu->v[k].name)) break;
        if (i == old->n) only_new++;
    }
    printf("%d kernels: %d regression%s, %d faster, %d too few repetitions to decide; %d benchmark%s compared: %d slower and %d "
           "faster beyond %.0f%% on their own interval, %d too few repetitions to decide",
           n->kernels, n->regressions, n->regressions == 1 ? "" : "s", n->kernels_faster, n->kernels_undecided, n->compared,
           n->compared == 1 ? "" : "s", n->slower, n->faster, 100 * o->threshold, n->undecided);
    if (n->baseline_moved)
        printf("; %d oneDNN baseline kernel%s moved (the machine, not latbench: not counted)", n->baseline_moved,
               n->baseline_moved == 1 ? "" : "s");
    if (n->with_machine)
        printf("; %d kernel%s of ours moved with oneDNN (the machine: not counted)", n->with_machine, n->with_machine == 1 ? "" : "s");
    if (n->only_old || only_new) printf("; %d only in OLD, %d only in NEW", n->only_old, only_new);
    if (old->not_timed || neu->not_timed) printf("; %d records without a time skipped", old->not_timed + neu->not_timed);
    printf("\n");
}

int cmd_compare(int argc, char **argv) {
    compare_opts o = {COMPARE_DEFAULT_THRESHOLD, COMPARE_DEFAULT_ALPHA, false, NULL, false, COMPARE_DEFAULT_MACHINE_DRIFT};
    const char *files[2] = {NULL, NULL};
    int rc = parse_args(argc, argv, &o, files);
    if (rc >= 0) return rc;
    compare_series_set old = {0}, neu = {0};
    char err[512];
    if (!compare_load_results(files[0], &o, &old, err, sizeof err) || !compare_load_results(files[1], &o, &neu, err, sizeof err)) {
        fprintf(stderr, "latbench compare: %s\n", err);
        compare_series_free(&old);
        compare_series_free(&neu);
        return 2;
    }
    char rule[2048];
    rule_text(rule, sizeof rule, &o);
    printf("%s: OLD %s, NEW %s\n", o.ratio ? "ours / oneDNN (its q1 in the same run) per repetition" : "time per call", files[0],
           files[1]);
    print_wrapped(stdout, "", rule);
    printf("%-72s %11s %11s %7s %17s %11s  %s\n", "benchmark", "old median", "new median", "new/old", "confidence", "spread o/n",
           "verdict");
    compare_counts n = {0};
    compare_row *rows = calloc((size_t)old.n + 1, sizeof *rows);
    if (!rows) {
        fprintf(stderr, "latbench compare: out of memory\n");
        compare_series_free(&old);
        compare_series_free(&neu);
        return 2;
    }
    for (int i = 0; i < old.n; i++) {
        const compare_series *a = &old.v[i], *b = series_find(&neu, a->name);
        if (!b) n.only_old++;
        else if (a->n && b->n) compare_one(&o, a, b, &n, &rows[n.compared]);
    }
    /* time mode: the same benchmarks as ours over oneDNN in the same run, for COMPARE_RULE_MACHINE */
    compare_row *rrows = NULL;
    int nr = 0;
    compare_series_set rold = {0}, rnew = {0};
    compare_opts ro = o;
    ro.ratio = true;
    if (!o.ratio && compare_load_results(files[0], &ro, &rold, err, sizeof err) && compare_load_results(files[1], &ro, &rnew, err, sizeof err) &&
        (rrows = calloc((size_t)rold.n + 1, sizeof *rrows)))
        for (int i = 0; i < rold.n; i++) {
            const compare_series *a = &rold.v[i], *b = series_find(&rnew, a->name);
            if (b && a->n && b->n) row_of(&o, a, b, &rrows[nr++]);
        }
    compare_kernels(&o, rows, n.compared, rrows, nr, &n);
    free(rows);
    free(rrows);
    compare_series_free(&rold);
    compare_series_free(&rnew);
    print_summary(&o, &old, &neu, &n);
    if (n.compared == 0) {
        fprintf(stderr, "latbench compare: no benchmark is in both files%s\n", o.filter ? " (after --filter)" : "");
        rc = 2;
    } else {
        rc = n.regressions ? 1 : 0;
    }
    compare_series_free(&old);
    compare_series_free(&neu);
    return rc;
}

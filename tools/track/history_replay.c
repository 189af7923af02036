/* latbench history replay: how well the change-point rule of `latbench history` catches a step, on
 * this machine's own recorded series (README "History", "How well change points catch a step").
 *
 * CI runs `history` after every landing; a series alarms when its newest change point is a
 * regression beyond the threshold.  The replay plays that back run by run:
 *   detection: for each series and each start s (at least 2 x min_size runs in, at most the largest
 *     --within before the end), the values from s on are made worse by the step (a time times
 *     1 + PCT/100, a ratio divided by it) - the same effect as LATBENCH_TEST_SLOWDOWN=OP.PASS:1.PCT on
 *     that kernel - and `history` is asked after each run s+1, s+2, ...: detected within N runs when
 *     it flags a regression change point at s (+-1) by run s+N.
 *   false alarms: the series as recorded (an unchanged build), asked after every run from
 *     2 x min_size on; an alarm is counted when a regression change point appears that the run
 *     before did not have (a change point stays the newest for later runs: counted once).
 * Same options as `history` (alpha, permutations, window, the newest-runs test) and the same seed
 * (--seed another one: the permutation tests' randomness, the replay's only one). */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/track/changepoint.h"
#include "tools/track/history.h"
#include "tools/opts/opts.h"

#define MAX_LIST 8
#define CP_MAX 64

typedef struct {
    hist_changes_opts o;
    double steps[MAX_LIST];
    int n_steps, within[MAX_LIST], n_within, max_within;
    /* detected[k][w]: replays of step k flagged within within[w] runs; replays[k] */
    long detected[MAX_LIST][MAX_LIST], replays[MAX_LIST];
    long alarms, asked, series;
    bool oom;
} replay;

/* The newest change point of x[0..n) if it is a regression beyond the threshold: its index, else -1. */
static int newest_regression(const replay *r, const double *x, int n, int q) {
    hist_cp cp[CP_MAX];
    hist_cp_opts co = {r->o.alpha, r->o.perms, r->o.min_size, r->o.seed, r->o.tail, r->o.tail_alpha};
    int k = hist_changepoints(x, n, &co, cp, CP_MAX);
    if (k <= 0) return -1;
    const double lim = r->o.threshold / 100, step = cp[k - 1].step;
    return (q == 0 ? step > lim : step < -lim) ? cp[k - 1].index : -1;
}

static void false_alarms(replay *r, const double *x, int n, int q) {
    int prev = -1;
    for (int j = 2 * r->o.min_size; j <= n; j++) {
        const int now = newest_regression(r, x, j, q);
        r->asked++;
        if (now >= 0 && now != prev) r->alarms++;
        prev = now;
    }
}

static void detections(replay *r, const double *x, int n, int q, double *y) {
    for (int k = 0; k < r->n_steps; k++) {
        const double f = 1 + r->steps[k] / 100;
        for (int s = 2 * r->o.min_size; s + r->max_within <= n; s++) {
            for (int i = 0; i < n; i++) y[i] = i < s ? x[i] : q == 0 ? x[i] * f : x[i] / f;
            int found = 0;   /* runs after the step until flagged; 0: not within max_within */
            for (int j = s + 1; j <= s + r->max_within && !found; j++) {
                const int at = newest_regression(r, y, j, q);
                if (at >= s - 1 && at <= s + 1) found = j - s;
            }
            r->replays[k]++;
            for (int w = 0; w < r->n_within; w++) r->detected[k][w] += found > 0 && found <= r->within[w];
        }
    }
}

static void visit(void *ctx, const char *machine, const char *name, int q, const double *x, int n) {
    (void)machine, (void)name;
    replay *r = ctx;
    if (n < 2 * r->o.min_size + r->max_within) return;   /* too short to replay */
    double *y = malloc(sizeof *y * (size_t)n);
    if (!y) {
        r->oom = true;
        return;
    }
    r->series++;
    false_alarms(r, x, n, q);
    detections(r, x, n, q, y);
    free(y);
}

/* "5,10" into v (at most MAX_LIST numbers in [lo, hi]). */
static bool parse_list(const char *name, const char *s, double lo, double hi, double *v, int *n) {
    char *end;
    *n = 0;
    for (const char *p = s;; p = end + 1) {
        const double x = strtod(p, &end);
        if (end == p || !(x >= lo && x <= hi) || *n == MAX_LIST || (*end && *end != ',')) {
            fprintf(stderr, "latbench: history replay: %s '%s': a comma list of at most %d numbers in %g..%g\n", name, s,
                    MAX_LIST, lo, hi);
            return false;
        }
        v[(*n)++] = x;
        if (!*end) return true;
    }
}

static void print_table(const replay *r, bool json) {
    const int tail = r->o.tail ? r->o.tail : HIST_CP_TAIL;
    const double tail_alpha = r->o.tail_alpha > 0 ? r->o.tail_alpha : HIST_CP_TAIL_ALPHA;
    const double fa = r->asked ? 100.0 * (double)r->alarms / (double)r->asked : NAN;
    if (json) {
        json_t *rows = json_array();
        for (int k = 0; k < r->n_steps; k++)
            for (int w = 0; w < r->n_within; w++)
                json_array_append_new(rows, json_pack("{s:f, s:i, s:I, s:I}", "step_pct", r->steps[k], "within_runs",
                                                      r->within[w], "replays", (json_int_t)r->replays[k], "detected",
                                                      (json_int_t)r->detected[k][w]));
        json_t *root = json_pack("{s:I, s:f, s:f, s:i, s:i, s:I, s:i, s:f, s:I, s:I, s:o}", "series", (json_int_t)r->series,
                                 "threshold_pct", r->o.threshold, "alpha", r->o.alpha, "perms", r->o.perms, "min_size",
                                 r->o.min_size, "seed", (json_int_t)r->o.seed, "tail", tail, "tail_alpha", tail_alpha,
                                 "runs_asked", (json_int_t)r->asked, "false_alarms", (json_int_t)r->alarms, "detection", rows);
        json_dumpf(root, stdout, JSON_INDENT(1));
        putchar('\n');
        json_decref(root);
        return;
    }
    printf("history replay: %ld series; change points as `history` finds them: E-Divisive (alpha %g, %d permutations,\n"
           "segments of %d, seed %llu), then the newest-runs test (", r->series, r->o.alpha, r->o.perms, r->o.min_size, r->o.seed);
    if (tail < 0) printf("off");
    else printf("the newest %d..%d runs all beyond the noise, p <= %g", r->o.min_size, tail, tail_alpha);
    printf("); a regression beyond %g %%\n", r->o.threshold);
    printf("%8s %8s %9s %10s\n", "step", "within", "replays", "detected");
    for (int k = 0; k < r->n_steps; k++)
        for (int w = 0; w < r->n_within; w++)
            printf("%+7.1f%% %5d runs %9ld %9.1f%%\n", r->steps[k], r->within[w], r->replays[k],
                   r->replays[k] ? 100.0 * (double)r->detected[k][w] / (double)r->replays[k] : NAN);
    printf("false alarms on the series as recorded: %ld in %ld runs asked (%.2f per 100 runs)\n", r->alarms, r->asked, fa);
}

int hist_replay_main(int argc, char **argv) {
    static const struct option longopts[] = {{"machine", required_argument, NULL, 'm'}, {"filter", required_argument, NULL, 'f'},
                                             {"steps", required_argument, NULL, 's'}, {"within", required_argument, NULL, 'n'},
                                             {"threshold", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
                                             {"alpha", required_argument, NULL, 'a'}, {"perms", required_argument, NULL, 'p'},
                                             {"tail", required_argument, NULL, 'k'}, {"tail-alpha", required_argument, NULL, 'A'},
                                             {"seed", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'}, {0}};
    replay *r = calloc(1, sizeof *r);
    if (!r) return fprintf(stderr, "latbench: history replay: out of memory\n"), 1;
    r->o = (hist_changes_opts){HIST_CHANGES_DEFAULTS};
    r->o.window = 0;   /* the whole recorded series is replayed */
    r->steps[0] = 5, r->steps[1] = 10, r->n_steps = 2;
    r->within[0] = 5, r->within[1] = 10, r->n_within = 2;
    int rc = 0, seed = 1;
    opts_parser p;
    opts_init(&p, "history replay", argc, argv, longopts, "m:f:s:n:t:ja:p:k:A:S:", false);
    for (int c; !rc && (c = opts_next(&p)) != OPTS_END;) {
        if (c == 'm') r->o.machine = p.arg;
        else if (c == 'f') r->o.filter = p.arg;
        else if (c == 'j') r->o.json = true;
        else if (c == 's') rc = parse_list("--steps", p.arg, 0.1, 1000, r->steps, &r->n_steps) ? 0 : 2;
        else if (c == 't') rc = opts_double(&p, 0, 1000, "a percentage", &r->o.threshold) ? 0 : 2;
        else if (c == 'a') rc = opts_double(&p, 1e-6, 0.5, "a significance level", &r->o.alpha) ? 0 : 2;
        else if (c == 'p') rc = opts_int(&p, 9, 100000, "a permutation count", &r->o.perms) ? 0 : 2;
        else if (c == 'k') rc = opts_int(&p, -1, 50, "a run count (-1: no newest-runs test)", &r->o.tail) ? 0 : 2;
        else if (c == 'A') rc = opts_double(&p, 1e-9, 0.5, "a significance level", &r->o.tail_alpha) ? 0 : 2;
        else if (c == 'S') rc = opts_int(&p, 0, 1000000000, "a seed", &seed) ? 0 : 2;
        else if (c == 'n') rc = opts_int_list(&p, 1, 100, MAX_LIST, r->within, &r->n_within) ? 0 : 2; else if (c == OPTS_HELP) {
            printf("usage: latbench history replay [--machine M] [--filter S] [--steps PCT,...] [--within N,...] "
                   "[--threshold PCT] [--alpha A] [--perms N] [--tail K] [--tail-alpha A] [--seed S] [--json]\n"
                   "  --tail K: the newest-runs test over up to K runs (default 5; -1: E-Divisive alone)\n"
                   "  --tail-alpha A: its significance (default 0.001)\n"
                   "  --seed S: the permutations' seed (default 1, as history's): replay at several to see the spread\n"
                   "  (latbench history --help)\n");
            rc = -1;
        } else rc = 2;
    }
    if (!rc && opts_first_operand(&p) < argc) rc = opts_fail(&p, "unexpected '%s'", argv[opts_first_operand(&p)]);
    r->o.seed = (unsigned long long)seed;
    for (int i = 0; i < r->n_within; i++) r->max_within = r->within[i] > r->max_within ? r->within[i] : r->max_within;
    char path[1024], err[1400];
    hist_db *db = NULL;
    if (!rc && (!hist_default_path(path, sizeof path, err, sizeof err) || !(db = hist_open(path, false, err, sizeof err))))
        rc = 2, fprintf(stderr, "latbench: %s\n", err);
    if (!rc) {
        int regressions;
        const bool json = r->o.json;
        r->o.json = false;
        r->o.visit = visit, r->o.visit_ctx = r;
        if (!hist_changes(db, &r->o, stdout, &regressions, err, sizeof err)) rc = 1, fprintf(stderr, "latbench: %s\n", err);
        else if (r->oom) rc = 1, fprintf(stderr, "latbench: history replay: out of memory\n");
        else print_table(r, json);
    }
    hist_close(db);
    free(r);
    return rc < 0 ? 0 : rc;
}

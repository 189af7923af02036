/* latbench bisect: see bisect.h.
 *
 * The measured quantity is the gate's: per gated problem, ours over oneDNN's best path, the ratio of
 * the lower quartiles of the per-call times of one `latbench gate --json` run (compare's --ratio
 * reader of that JSON, then its lower quartile).  One gate run gives one such ratio per problem; R
 * runs of a commit give R of them, and a commit is compared with GOOD by stats_ratio_ci over the two
 * sets of R (Hodges-Lehmann, exact Mann-Whitney bounds).  A commit has moved when, for some problem,
 * the interval lies entirely above 1 + threshold or entirely below 1 - threshold (compare's rule).
 *
 * The search: GOOD is measured first (the reference), then the middle of the commits still in
 * question, assuming BAD has moved; BAD itself is measured only when the search ends on it (or first,
 * with --bad-first), so a step inside n commits costs 1 + ceil(log2 n) builds.  The answer is a commit
 * that moved whose first parent did not. */
#include "tools/track/bisect.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tools/stats/stats.h"
#include "tools/timing/timing.h"
#include "tools/track/compare.h"
#include "tools/opts/opts.h"

#define BISECT_MAX_PROBLEMS 64
#define BISECT_MAX_REPS 64
#define BISECT_MAX_MEAS 64
#define BISECT_MAX_COMMITS 1000000
#define BISECT_DEFAULT_REPS 10
#define BISECT_DEFAULT_THRESHOLD 0.05
#define BISECT_DEFAULT_BUILD "make -j$(nproc) latbench"
#define BISECT_DEFAULT_MEASURE \
    "./latbench gate --no-history --tolerance 100 --json \"$LATBENCH_BISECT_JSON\" >/dev/null"

typedef struct {
    char name[160];
    double v[BISECT_MAX_REPS];   /* one gate ratio per measurement run */
    int n;
} bisect_series;

typedef struct {
    int idx;                     /* in the commit list: 0 GOOD .. n BAD */
    int np;
    int moved;                   /* 1 slower, -1 faster, 0 neither (the first problem that moved) */
    bisect_series s[BISECT_MAX_PROBLEMS];
} bisect_meas;

typedef struct {
    const char *good, *bad, *filter, *build, *measure;
    double threshold, alpha;
    int reps;
    bool bad_first;
} bisect_args;

typedef struct {
    bisect_args a;
    char repo[1024], tmp[1100], wt[1200], log[1200], json[1200];
    char (*sha)[41];
    int n;                       /* commits after GOOD; sha[0] GOOD, sha[n] BAD */
    bisect_meas *m[BISECT_MAX_MEAS];
    int nm, builds, step, steps;
    bool have_wt;
    double t0, first_build_s;    /* the first build is the full one: left out of the ETA */
} bisect_ctx;

/* ---- children, signals and the worktree's removal ---- */

static volatile sig_atomic_t g_stop;
static volatile pid_t g_child;

static void on_signal(int sig) {
    g_stop = sig;
    pid_t c = g_child;
    if (c > 0) kill(-c, SIGTERM);
}

static void set_handlers(void (*fn)(int)) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

/* cmd through /bin/sh in dir (NULL: here), its output appended to log (NULL: /dev/null), in its own
 * process group (a signal to bisect stops it and everything it started).  The exit status, 128 + a
 * signal, or -1 when it could not be started. */
static int run_cmd(const char *cmd, const char *dir, const char *log) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        set_handlers(SIG_DFL);
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644), in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0 || (dir && chdir(dir) != 0)) _exit(127);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    g_child = pid;
    if (g_stop) kill(-pid, SIGTERM);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            g_child = 0;
            return -1;
        }
    g_child = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* s in single quotes for the shell. */
static void shq(char *dst, size_t len, const char *s) {
    size_t k = 0;
    if (len < 3) return;
    dst[k++] = '\'';
    for (; *s && k + 6 < len; s++) {
        if (*s == '\'') {
            memcpy(dst + k, "'\\''", 4);
            k += 4;
        } else {
            dst[k++] = *s;
        }
    }
    dst[k++] = '\'';
    dst[k] = 0;
}

/* Removes the worktree (git worktree remove --force), the temporary directory that holds it, then
 * prunes: a worktree whose removal failed has no directory left by then, so the prune drops its
 * entry.  Signals are held off meanwhile, and run_cmd must not pass a signal that came before to
 * these commands (g_stop cleared while they run: a SIGTERM left pending in git once cost the entry). */
static void cleanup(bisect_ctx *c) {
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    const sig_atomic_t stop = g_stop;
    g_stop = 0;
    char q[1100], q2[1300], cmd[4096];
    shq(q, sizeof q, c->repo);
    if (c->have_wt) {
        shq(q2, sizeof q2, c->wt);
        snprintf(cmd, sizeof cmd, "git -C %s worktree remove --force %s", q, q2);
        run_cmd(cmd, NULL, NULL);
    }
    if (c->tmp[0]) {
        shq(q2, sizeof q2, c->tmp);
        snprintf(cmd, sizeof cmd, "rm -rf %s", q2);
        run_cmd(cmd, NULL, NULL);
        c->tmp[0] = 0;
    }
    if (c->have_wt) {
        snprintf(cmd, sizeof cmd, "git -C %s worktree prune", q);
        run_cmd(cmd, NULL, NULL);
        c->have_wt = false;
    }
    g_stop = stop;
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/* After a signal: clean up, then end with the signal's status. */
static void stop_if_signalled(bisect_ctx *c) {
    if (!g_stop) return;
    int sig = g_stop;
    fprintf(stderr, "latbench bisect: interrupted (signal %d): worktree removed\n", sig);
    cleanup(c);
    set_handlers(SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

/* The first line a git command prints (trailing newline cut); false when it fails or prints none. */
static bool git_line(const bisect_ctx *c, const char *args, char *out, size_t len) {
    char q[1100], cmd[4096];
    shq(q, sizeof q, c->repo[0] ? c->repo : ".");
    snprintf(cmd, sizeof cmd, "git -C %s %s 2>/dev/null", q, args);
    FILE *p = popen(cmd, "r");
    if (!p) return false;
    bool got = fgets(out, (int)len, p) != NULL;
    while (fgetc(p) != EOF) {
    }
    int st = pclose(p);
    if (!got || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return false;
    out[strcspn(out, "\n")] = 0;
    return out[0] != 0;
}

/* ---- the commits ---- */

static bool resolve(const bisect_ctx *c, const char *ref, char sha[41]) {
    char q[600], args[700], line[128];
    snprintf(args, sizeof args, "%s^{commit}", ref);
    shq(q, sizeof q, args);
    snprintf(args, sizeof args, "rev-parse --verify --quiet %s", q);
    if (!git_line(c, args, line, sizeof line) || strlen(line) != 40) {
        fprintf(stderr, "latbench bisect: '%s' is not a commit of %s\n", ref, c->repo);
        return false;
    }
    memcpy(sha, line, 41);
    return true;
}

/* sha[0] = GOOD, sha[1..n] the first-parent line from GOOD (exclusive) to BAD; false (reported)
 * when GOOD is not on BAD's first-parent line or the range is empty. */
static bool list_commits(bisect_ctx *c) {
    char good[41], bad[41], q[1100], cmd[1400], line[128];
    if (!resolve(c, c->a.good, good) || !resolve(c, c->a.bad, bad)) return false;
    shq(q, sizeof q, c->repo);
    snprintf(cmd, sizeof cmd, "git -C %s rev-list --first-parent --reverse %s..%s", q, good, bad);
    FILE *p = popen(cmd, "r");
    if (!p) return false;
    int cap = 64;
    c->sha = malloc(sizeof *c->sha * (size_t)cap);
    c->n = 0;
    memcpy(c->sha[0], good, 41);
    while (c->sha && fgets(line, sizeof line, p) && c->n < BISECT_MAX_COMMITS) {
        line[strcspn(line, "\n")] = 0;
        if (c->n + 1 == cap) {
            cap *= 2;
            char(*nv)[41] = realloc(c->sha, sizeof *c->sha * (size_t)cap);
            if (!nv) break;
            c->sha = nv;
        }
        snprintf(c->sha[++c->n], 41, "%.40s", line);
    }
    pclose(p);
    char args[200], parent[128];
    snprintf(args, sizeof args, "rev-parse %s^1", c->n ? c->sha[1] : bad);
    if (c->n == 0 || !git_line(c, args, parent, sizeof parent) || strcmp(parent, good) != 0) {
        fprintf(stderr, "latbench bisect: %s is not an ancestor of %s on its first-parent line (%d commits between)\n",
                c->a.good, c->a.bad, c->n);
        return false;
    }
    return true;
}

/* ---- measuring a commit ---- */

/* The gate ratios of one measurement run (compare's --ratio reader, then each series' lower
 * quartile: the gate's statistic) appended to m. */
static bool add_run(bisect_ctx *c, bisect_meas *m, char *err, size_t errlen) {
    compare_opts o = {.threshold = c->a.threshold, .alpha = c->a.alpha, .ratio = true, .filter = c->a.filter};
    compare_series_set set;
    memset(&set, 0, sizeof set);
    bool ok = compare_load_results(c->json, &o, &set, err, errlen);
    for (int i = 0; ok && i < set.n; i++) {
        double q1 = timing_order_stats(set.v[i].s, set.v[i].n).q1;
        int k = 0;
        while (k < m->np && strcmp(m->s[k].name, set.v[i].name)) k++;
        if (k == BISECT_MAX_PROBLEMS) continue;
        if (k == m->np) snprintf(m->s[m->np++].name, sizeof m->s[0].name, "%s", set.v[i].name);
        if (m->s[k].n < BISECT_MAX_REPS) m->s[k].v[m->s[k].n++] = q1;
    }
    if (ok && set.n == 0) {
        snprintf(err, errlen, "%s: no gated ratio (ours over oneDNN)%s%s", c->json, c->a.filter ? " matches --filter " : "",
                 c->a.filter ? c->a.filter : "");
        ok = false;
    }
    compare_series_free(&set);
    return ok;
}

/* A command of the tested commit; false (reported, with the log's tail) when it fails. */
static bool step_cmd(bisect_ctx *c, const char *what, const char *cmd, int idx) {
    FILE *lf = fopen(c->log, "a");
    if (lf) fprintf(lf, "\n==== %s of %s: %s\n", what, c->sha[idx], cmd), fclose(lf);
    int rc = run_cmd(cmd, c->wt, c->log);
    stop_if_signalled(c);
    if (rc == 0) return true;
    fprintf(stderr, "latbench bisect: the %s of %.12s failed (exit %d: %s); the end of its log:\n", what, c->sha[idx], rc, cmd);
    char q[1300], tail[1400];
    shq(q, sizeof q, c->log);
    snprintf(tail, sizeof tail, "tail -n 15 %s >&2", q);
    fflush(stderr);
    if (system(tail) != 0) fprintf(stderr, "(no log)\n");
    return false;
}

static bool tree_dirty(const bisect_ctx *c, int idx) {
    char q[1300], cmd[1500], line[512];
    shq(q, sizeof q, c->wt);
    snprintf(cmd, sizeof cmd, "git -C %s status --porcelain --untracked-files=no", q);
    FILE *p = popen(cmd, "r");
    bool dirty = !p || fgets(line, sizeof line, p) != NULL;
    if (p) pclose(p);
    if (dirty)
        fprintf(stderr, "latbench bisect: the build of %.12s modified tracked files (%s): a build must leave the tree "
                "clean\n", c->sha[idx], p ? strtok(line, "\n") : "git status failed");
    return dirty;
}

/* Checks out, builds and measures commit idx (reps runs); NULL on a failure (reported). */
static bisect_meas *measure_commit(bisect_ctx *c, int idx) {
    char cmd[200], err[1600];
    double t = timing_now();
    c->step++;
    fprintf(stderr, "bisect: step %d of ~%d: commit %.12s (%d of %d after GOOD)", c->step, c->steps, c->sha[idx], idx, c->n);
    if (c->step > 1)   /* later builds are incremental: the ETA leaves the first (full) build out */
        fprintf(stderr, ", ETA %.0f s", (t - c->t0 - c->first_build_s) / (c->step - 1) * (c->steps - c->step + 1));
    fprintf(stderr, ": building\n");
    snprintf(cmd, sizeof cmd, "git checkout -q --detach %s", c->sha[idx]);
    if (!step_cmd(c, "checkout", cmd, idx) || !step_cmd(c, "build", c->a.build, idx) || (c->builds++, tree_dirty(c, idx)))
        return NULL;
    if (c->builds == 1) c->first_build_s = timing_now() - t;
    bisect_meas *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->idx = idx;
    for (int r = 0; r < c->a.reps; r++) {
        fprintf(stderr, "bisect:   %.12s: measurement %d of %d\n", c->sha[idx], r + 1, c->a.reps);
        unlink(c->json);
        if (!step_cmd(c, "measurement", c->a.measure, idx)) return free(m), NULL;
        if (!add_run(c, m, err, sizeof err)) {
            fprintf(stderr, "latbench bisect: the measurement of %.12s: %s\n", c->sha[idx], err);
            return free(m), NULL;
        }
    }
    c->m[c->nm++] = m;
    fprintf(stderr, "bisect:   %.12s: %d problems measured in %.0f s\n", c->sha[idx], m->np, timing_now() - t);
    return m;
}

/* ---- the verdict and the evidence ---- */

static const bisect_series *find_series(const bisect_meas *m, const char *name) {
    for (int i = 0; i < m->np; i++)
        if (!strcmp(m->s[i].name, name)) return &m->s[i];
    return NULL;
}

/* 1: b's ratio over a's lies above 1 + threshold, -1: below 1 - threshold, 0 neither or undecidable. */
static int shift_of(const bisect_series *a, const bisect_series *b, const bisect_args *o, stats_shift *sh) {
    memset(sh, 0, sizeof *sh);
    if (!stats_ratio_ci(a->v, a->n, b->v, b->n, o->alpha, sh) || !sh->decidable) return 0;
    return sh->lo > 1 + o->threshold ? 1 : sh->hi < 1 - o->threshold ? -1 : 0;
}

static int moved(const bisect_ctx *c, bisect_meas *m) {
    const bisect_meas *g = c->m[0];
    stats_shift sh;
    m->moved = 0;
    for (int i = 0; i < g->np && !m->moved; i++) {
        const bisect_series *b = find_series(m, g->s[i].name);
        if (b) m->moved = shift_of(&g->s[i], b, &c->a, &sh);
    }
    return m->moved;
}

static void print_meas(const bisect_ctx *c, const bisect_meas *m) {
    char args[128], subject[200] = "";
    snprintf(args, sizeof args, "log -1 --format=%%s %s", c->sha[m->idx]);
    git_line(c, args, subject, sizeof subject);
    const char *role = m->idx == 0 ? "GOOD" : m->idx == c->n ? "BAD" : "";
    printf("\n%.12s %-4s (%d of %d) %s: %s\n", c->sha[m->idx], role, m->idx, c->n, subject,
           m->idx == 0 ? "the reference" : m->moved > 0 ? "SLOWER" : m->moved < 0 ? "FASTER" : "not moved");
    for (int i = 0; i < m->np; i++) {
        const bisect_series *s = &m->s[i], *g = find_series(c->m[0], s->name);
        double v[BISECT_MAX_REPS];
        memcpy(v, s->v, sizeof(double) * (size_t)s->n);
        timing_stats t = timing_order_stats(v, s->n);
        printf("  %-64.64s %8.4f  %5.1f%%", s->name, t.median, 100 * (t.q3 - t.q1) / t.median);
        stats_shift sh;
        int d = g && m->idx ? shift_of(g, s, &c->a, &sh) : 0;
        if (g && m->idx && sh.decidable)
            printf("  x%.4f [%.4f, %.4f] %s", sh.ratio, sh.lo, sh.hi, d > 0 ? "SLOWER" : d < 0 ? "FASTER" : "");
        else if (m->idx)
            printf("  (cannot decide)");
        printf("\n");
    }
}

/* Every measured commit in commit order, then the verdict line. */
static void report(const bisect_ctx *c, int found) {
    printf("bisect: per problem the gate ratio ours/oneDNN (lower quartiles), median of %d runs, spread = IQR/median,\n"
           "  and vs GOOD: the Hodges-Lehmann ratio with its %.1f%% bounds (exact Mann-Whitney); moved = an interval\n"
           "  entirely above 1 + %.1f%% (SLOWER) or below 1 - %.1f%% (FASTER)\n",
           c->a.reps, 100 * (1 - 2 * c->a.alpha), 100 * c->a.threshold, 100 * c->a.threshold);
    for (int i = 0; i <= c->n; i++)
        for (int k = 0; k < c->nm; k++)
            if (c->m[k]->idx == i) print_meas(c, c->m[k]);
    printf("\nbisect: %d builds, %d measurement runs, %.0f s\n", c->builds, c->builds * c->a.reps, timing_now() - c->t0);
    if (found > 0)
        printf("bisect: first moved commit: %s (%d of %d after GOOD); its first parent did not move\n", c->sha[found],
               found, c->n);
    else
        printf("bisect: nothing moved beyond %.1f%% between %.12s and %.12s\n", 100 * c->a.threshold, c->sha[0],
               c->sha[c->n]);
}

/* ---- the search ---- */

/* -1 on a failure (reported), else the index of the first moved commit, 0 when none. */
static int search(bisect_ctx *c) {
    int lo = 0, hi = c->n, bad_moved = -1;
    for (int s = 1; s < c->n; s *= 2) c->steps++;
    c->steps += 1 + c->a.bad_first;
    if (!measure_commit(c, 0)) return -1;
    if (c->a.bad_first) {
        bisect_meas *b = measure_commit(c, c->n);
        if (!b) return -1;
        if (!(bad_moved = moved(c, b) != 0)) return 0;
    }
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        bisect_meas *m = measure_commit(c, mid);
        if (!m) return -1;
        if (moved(c, m)) hi = mid;
        else lo = mid;
    }
    if (hi == c->n && bad_moved < 0) {
        bisect_meas *b = measure_commit(c, c->n);
        if (!b) return -1;
        bad_moved = moved(c, b) != 0;
    }
    return hi == c->n && !bad_moved ? 0 : hi;
}

/* The temporary directory and the detached worktree at GOOD. */
static bool make_worktree(bisect_ctx *c) {
    const char *t = getenv("TMPDIR");
    snprintf(c->tmp, sizeof c->tmp, "%s/latbench-bisect-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(c->tmp)) {
        fprintf(stderr, "latbench bisect: cannot create a temporary directory %s: %s\n", c->tmp, strerror(errno));
        c->tmp[0] = 0;
        return false;
    }
    snprintf(c->wt, sizeof c->wt, "%s/wt", c->tmp);
    snprintf(c->log, sizeof c->log, "%s/log", c->tmp);
    snprintf(c->json, sizeof c->json, "%s/gate.json", c->tmp);
    setenv("LATBENCH_BISECT_JSON", c->json, 1);
    char q[1100], q2[1300], cmd[4096];
    shq(q, sizeof q, c->repo);
    shq(q2, sizeof q2, c->wt);
    snprintf(cmd, sizeof cmd, "git -C %s worktree add -q --detach %s %s", q, q2, c->sha[0]);
    c->have_wt = true;   /* from here on, removal is attempted whatever happens */
    if (run_cmd(cmd, NULL, c->log) == 0) return true;
    fprintf(stderr, "latbench bisect: git worktree add %s failed (see git worktree list)\n", c->wt);
    return false;
}

/* ---- CLI ---- */

static void usage(FILE *f) {
    fprintf(f,
            "usage: latbench bisect GOOD BAD [--threshold PCT] [--filter S] [--reps N] [--alpha A] [--bad-first]\n"
            "                       [--build CMD] [--measure CMD]\n"
            "  The first commit on BAD's first-parent line after GOOD whose gated speed ratios (ours/oneDNN, as\n"
            "  `latbench gate` measures them) moved by more than PCT %% (default %.0f) relative to GOOD, by binary\n"
            "  search in one temporary git worktree of the repository of the working directory (removed at the end,\n"
            "  also on Ctrl-C or SIGTERM).  Each tested commit is built with CMD (default: %s) and measured N times\n"
            "  (default %d) with the --measure command (default: %s), which must write a gate JSON to\n"
            "  $LATBENCH_BISECT_JSON.  A commit moved when, for some problem matching S, the confidence interval of\n"
            "  the Hodges-Lehmann ratio of its N runs over GOOD's (exact Mann-Whitney bounds, each of error A,\n"
            "  default %.3f) lies entirely above 1 + PCT %% or below 1 - PCT %%.  BAD is measured only when the\n"
            "  search ends on it (--bad-first: first, to stop early when it did not move).  Progress on stderr; the\n"
            "  evidence of every tested commit on stdout.  Exit 0: a moved commit found, 1: nothing moved, 2: bad\n"
            "  usage, a bad ref, GOOD not on BAD's first-parent line, a failed build or measurement, or a build that\n"
            "  modifies tracked files.\n",
            100 * BISECT_DEFAULT_THRESHOLD, BISECT_DEFAULT_BUILD, BISECT_DEFAULT_REPS, BISECT_DEFAULT_MEASURE,
            COMPARE_DEFAULT_ALPHA);
}

/* 0: parsed, -1: --help printed, 2: bad usage (reported). */
static int parse_args(int argc, char **argv, bisect_args *a) {
    static const struct option longopts[] = {{"bad-first", no_argument, NULL, 256},     {"filter", required_argument, NULL, 257},
                                             {"build", required_argument, NULL, 258},   {"measure", required_argument, NULL, 259},
                                             {"threshold", required_argument, NULL, 260}, {"alpha", required_argument, NULL, 261},
                                             {"reps", required_argument, NULL, 262},    {0}};
    *a = (bisect_args){.threshold = BISECT_DEFAULT_THRESHOLD, .alpha = COMPARE_DEFAULT_ALPHA, .reps = BISECT_DEFAULT_REPS,
                       .build = BISECT_DEFAULT_BUILD, .measure = BISECT_DEFAULT_MEASURE};
    opts_parser p;
    opts_init(&p, "bisect", argc, argv, longopts, NULL, false);
    double pct;
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return usage(stdout), -1;
        if (c == OPTS_ERR) return 2;
        if (c == 256) a->bad_first = true;
        if (c == 257) a->filter = p.arg;
        if (c == 258) a->build = p.arg;
        if (c == 259) a->measure = p.arg;
        if (c == 260 && !(opts_parse_double(p.arg, 0, 100, &pct) && pct > 0 && pct < 100))
            return opts_fail(&p, "--threshold: '%s' is not a percentage in (0, 100)", p.arg);
        if (c == 260) a->threshold = pct / 100;
        if (c == 261 && !(opts_parse_double(p.arg, 0, 0.5, &a->alpha) && a->alpha > 0 && a->alpha < 0.5))
            return opts_fail(&p, "--alpha: '%s' is not in (0, 0.5)", p.arg);
        if (c == 262 && !opts_int(&p, 2, BISECT_MAX_REPS, "a count", &a->reps)) return 2;
    }
    int first = opts_first_operand(&p);
    if (argc - first > 2) return opts_fail(&p, "one GOOD and one BAD commit, not '%s' too", argv[first + 2]);
    if (argc - first < 2) return opts_fail(&p, "needs GOOD and BAD commits (try latbench bisect --help)");
    a->good = argv[first], a->bad = argv[first + 1];
    if (a->reps < stats_min_reps(a->alpha))
        return opts_fail(&p, "--reps %d cannot reach a bound at --alpha %g (at least %d)", a->reps, a->alpha,
                         stats_min_reps(a->alpha));
    return 0;
}

int cmd_bisect(int argc, char **argv) {
    static bisect_ctx c;
    memset(&c, 0, sizeof c);
    int rc = parse_args(argc, argv, &c.a);
    if (rc) return rc < 0 ? 0 : rc;
    c.t0 = timing_now();
    if (!git_line(&c, "rev-parse --show-toplevel", c.repo, sizeof c.repo)) {
        fprintf(stderr, "latbench bisect: the working directory is not in a git repository\n");
        return 2;
    }
    if (!list_commits(&c)) return free(c.sha), 2;
    fprintf(stderr, "bisect: %d commits after GOOD %.12s up to BAD %.12s; %d measurement runs per tested commit\n", c.n,
            c.sha[0], c.sha[c.n], c.a.reps);
    set_handlers(on_signal);
    int found = make_worktree(&c) ? search(&c) : -1;
    stop_if_signalled(&c);
    cleanup(&c);
    set_handlers(SIG_DFL);
    if (found >= 0) report(&c, found);
    for (int i = 0; i < c.nm; i++) free(c.m[i]);
    free(c.sha);
    return found < 0 ? 2 : found > 0 ? 0 : 1;
}

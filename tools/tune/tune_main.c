/* `latbench tune`: options, the list of problems (largest first), the budget, progress on stderr,
 * and the profile written atomically (tune.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "arch/registry.h"
#include "lib/lattice/params.h"
#include "lib/lattice/sampler.h"
#include "tools/problems/lists.h"
#include "tools/tune/tune.h"

#define MAX_LIST 16
#define MAX_JOBS 1024

static const char *const usage_text =
    "usage: latbench tune [--op worm] [--lattice LIST] [--chains LIST] [--mu LIST] [--threads LIST]\n"
    "                     [--level quick|measure|patient] [--budget DURATION] [--out FILE]\n"
    "Measures every kernel variant this CPU runs under the cap (LATBENCH_ISA) for each problem and keeps\n"
    "the winners in the tuning profile (README, \"Tuning profile\").  Per problem: each variant is first\n"
    "checked against the scalar reference (the worm: every chain bit for bit after a short run; a wrong\n"
    "variant is never chosen), then timed interleaved with the dispatch default, pruned by successive\n"
    "halving (the faster half by lower quartile stays), and the last one timed against the default again.\n"
    "Rule: a variant is kept only if q1(default) / q1(variant) > 1 + spread, spread = the larger relative\n"
    "interquartile range (q3 - q1) / median of the two; else the default is recorded.\n"
    "  --op LIST         ops to tune (default worm; the layer ops come later)\n"
    "  --lattice LIST    worm lattices NTxNX (default 60x4,8x8,16x16,32x32: the seed's)\n"
    "  --chains LIST     chains per point (default 2,4,8,16)\n"
    "  --mu LIST         chemical potentials (default 1)\n"
    "  --threads LIST    thread counts (default 1)\n"
    "  --level L         quick (default; the default set in about a minute), measure, patient\n"
    "  --budget D        stop starting problems after D (e.g. 90, 90s, 5m, 1h); the largest come first\n"
    "                    and the untuned ones are listed\n"
    "  --out FILE        the profile to write (default: this CPU's, arch/profile.h); entries of an\n"
    "                    existing profile of this machine and build there are kept unless retuned\n";

typedef struct {
    int nlat, lt[MAX_LIST], lx[MAX_LIST], nch, ch[MAX_LIST], nthr, thr[MAX_LIST], nmu;
    double mu[MAX_LIST];
    tune_level level;
    double budget_s;   /* 0: none */
    const char *out;
} tune_opts;

static int bad(const char *what, const char *v) {
    fprintf(stderr, "latbench tune: %s '%s' (try --help)\n", what, v);
    return 2;
}

/* "90", "90s", "5m", "1h" -> seconds > 0. */
static bool parse_duration(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0 || *s == '+' || *s == '-') return false;
    const double unit = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : 0;
    *out = v * unit;
    return unit > 0;
}

static int parse_option(tune_opts *o, const char *k, const char *v) {
    if (!strcmp(k, "--op")) {
        if (strcmp(v, "worm")) return bad("--op: only worm is tunable so far, not", v);
    } else if (!strcmp(k, "--lattice")) {
        if (!lb_parse_lattice_list(v, MAX_LIST, o->lt, o->lx, &o->nlat)) return bad("--lattice is not a list of NTxNX", v);
        for (int i = 0; i < o->nlat; i++)
            if (o->lt[i] < 2 || o->lx[i] < 2) return bad("--lattice: every side must be >= 2 in", v);
    } else if (!strcmp(k, "--chains")) {
        if (!lb_parse_int_list(v, 1, 1 << 16, MAX_LIST, o->ch, &o->nch)) return bad("--chains is not a list of 1..65536", v);
    } else if (!strcmp(k, "--threads")) {
        if (!lb_parse_int_list(v, 1, LB_MAX_THREADS, MAX_LIST, o->thr, &o->nthr))
            return bad("--threads is not a list of counts >= 1", v);
    } else if (!strcmp(k, "--mu")) {
        double *m = NULL;
        int n = 0;
        char e[256];
        if (!lb_parse_values(v, &m, &n, e, sizeof e) || n > MAX_LIST) return free(m), bad("--mu is not a list of up to 16 values", v);
        for (int i = 0; i < n; i++) o->mu[i] = m[i];
        o->nmu = n;
        free(m);
        for (int i = 0; i < n; i++)
            if (!(fabs(o->mu[i]) <= LB_MU_MAX)) return bad("--mu out of range", v);
    } else if (!strcmp(k, "--level")) {
        if (!strcmp(v, "quick")) o->level = TUNE_QUICK;
        else if (!strcmp(v, "measure")) o->level = TUNE_MEASURE;
        else if (!strcmp(v, "patient")) o->level = TUNE_PATIENT;
        else return bad("--level is not quick, measure or patient", v);
    } else if (!strcmp(k, "--budget")) {
        if (!parse_duration(v, &o->budget_s)) return bad("--budget is not a duration (90, 90s, 5m, 1h)", v);
    } else if (!strcmp(k, "--out")) {
        if (!*v) return bad("--out is empty", v);
        o->out = v;
    } else {
        fprintf(stderr, "latbench tune: unknown option '%s' (try --help)\n", k);
        return 2;
    }
    return 0;
}

static int parse_opts(int argc, char **argv, tune_opts *o) {
    *o = (tune_opts){.nlat = 4, .lt = {60, 8, 16, 32}, .lx = {4, 8, 16, 32}, .nch = 4, .ch = {2, 4, 8, 16},
                     .nthr = 1, .thr = {1}, .nmu = 1, .mu = {1.0}, .level = TUNE_QUICK};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return fputs(usage_text, stdout), -1;
        if (strncmp(argv[i], "--", 2)) return bad("unexpected argument", argv[i]);
        if (i + 1 >= argc) return bad("missing value after", argv[i]);
        const int rc = parse_option(o, argv[i], argv[i + 1]);
        if (rc) return rc;
        i++;
    }
    return 0;
}

/* The problems, largest first (sites x chains: the share of a sampler's time). */
static int cmp_size(const void *a, const void *b) {
    const tune_worm_problem *x = a, *y = b;
    const long long sx = (long long)x->nt * x->nx * x->chains, sy = (long long)y->nt * y->nx * y->chains;
    return (sx < sy) - (sx > sy);
}

static int make_jobs(const tune_opts *o, tune_worm_problem *jobs) {
    int n = 0;
    for (int t = 0; t < o->nthr; t++)
        for (int l = 0; l < o->nlat; l++)
            for (int c = 0; c < o->nch; c++)
                for (int m = 0; m < o->nmu && n < MAX_JOBS; m++)
                    jobs[n++] = (tune_worm_problem){.nt = o->lt[l], .nx = o->lx[l], .chains = o->ch[c],
                                                    .threads = o->thr[t], .mu = o->mu[m]};
    qsort(jobs, (size_t)n, sizeof *jobs, cmp_size);
    return n;
}

/* mkdir -p of the folder holding path. */
static void make_parent(const char *path) {
    char d[4096];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) return;
    *slash = 0;
    for (char *p = d + 1; *p; p++)
        if (*p == '/') *p = 0, mkdir(d, 0755), *p = '/';
    mkdir(d, 0755);
}

/* Adds e to p, replacing an entry of the same key. */
static bool profile_put(lb_profile *p, const lb_profile_entry *e) {
    for (int i = 0; i < p->n; i++) {
        const lb_profile_entry *x = &p->entries[i];
        if (!strcmp(x->op, e->op) && x->pass == e->pass && !strcmp(x->problem, e->problem) && x->isa == e->isa &&
            x->threads == e->threads)
            return p->entries[i] = *e, true;
    }
    if (p->n >= LB_PROFILE_MAX_ENTRIES) return false;
    lb_profile_entry *n = realloc(p->entries, sizeof *n * (size_t)(p->n + 1));
    if (!n) return false;
    p->entries = n;
    p->entries[p->n++] = *e;
    return true;
}

/* The profile to extend: an existing one at path made here (else a fresh one with this identity). */
static void profile_start(const char *path, lb_profile *p) {
    lb_profile_identity here;
    lb_profile_identity_here(&here, &lb_dispatch_get()->cpu, lb_cpu_cores());
    char err[512];
    memset(p, 0, sizeof *p);
    if (lb_profile_load(path, &here, p, err, sizeof err) == LB_PROFILE_OK) {
        fprintf(stderr, "latbench tune: extending %s (%d entries)\n", path, p->n);
        return;
    }
    memset(p, 0, sizeof *p);
    p->id = here;
}

/* One line per problem: the choice, the final round (the challenger, or the default kept: q1 and
 * median per call of both), what verification rejected, the best speedup so far, the time left. */
static void progress(int i, int n, const tune_worm_problem *j, const lb_profile_entry *e, const tune_outcome *o,
                     const char *rejected, double t0, double best) {
    const double el = lb_now() - t0, eta = i + 1 < n ? el / (i + 1) * (n - i - 1) : 0;
    fprintf(stderr, "tune: [%d/%d] worm %s threads %d: %s (%.2fx the default %s, spread %.0f%%; q1/median us: "
            "chosen %.1f/%.1f, default %.1f/%.1f)%s%s; best so far %.2fx; %.0f s, ETA %.0f s\n", i + 1, n, e->problem,
            j->threads, e->variant, e->speedup, lb_dispatch_get()->worm->name, 100 * e->spread, 1e6 * o->chosen.q1,
            1e6 * o->chosen.median, 1e6 * o->def.q1, 1e6 * o->def.median, *rejected ? "; rejected: " : "", rejected,
            best, el, eta);
}

static int run_jobs(const tune_opts *o, const tune_worm_problem *jobs, int n, lb_profile *p) {
    const double t0 = lb_now();
    double best = 1.0;
    int done = 0;
    for (; done < n; done++) {
        if (o->budget_s > 0 && lb_now() - t0 >= o->budget_s) break;
        lb_profile_entry e;
        tune_outcome oc;
        char rejected[128], err[512];
        if (!tune_worm(&jobs[done], o->level, &e, &oc, rejected, sizeof rejected, err, sizeof err)) {
            fprintf(stderr, "latbench tune: worm nt%d_nx%d chains %d: %s\n", jobs[done].nt, jobs[done].nx,
                    jobs[done].chains, err);
            return 1;
        }
        if (e.speedup > best) best = e.speedup;
        if (!profile_put(p, &e)) return fprintf(stderr, "latbench tune: too many profile entries\n"), 1;
        progress(done, n, &jobs[done], &e, &oc, rejected, t0, best);
    }
    if (done < n) {
        fprintf(stderr, "latbench tune: budget of %g s spent: %d of %d problems left untuned:", o->budget_s, n - done, n);
        for (int i = done; i < n; i++) {
            char d[128];
            lb_worm_problem_str(jobs[i].nt, jobs[i].nx, jobs[i].mu, jobs[i].chains, d, sizeof d);
            fprintf(stderr, " %s/t%d", d, jobs[i].threads);
        }
        fprintf(stderr, "\n");
    }
    return 0;
}

int cmd_tune(int argc, char **argv) {
    tune_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    char path[4096];
    if (o.out) snprintf(path, sizeof path, "%s", o.out);
    else {
        lb_profile_identity here;
        lb_profile_identity_here(&here, &lb_dispatch_get()->cpu, lb_cpu_cores());
        if (!lb_profile_default_path(here.slug, path, sizeof path))
            return fprintf(stderr, "latbench tune: no profile location (neither XDG_CACHE_HOME nor HOME): use --out\n"), 2;
    }
    static tune_worm_problem jobs[MAX_JOBS];
    const int n = make_jobs(&o, jobs);
    lb_profile p;
    profile_start(path, &p);
    fprintf(stderr, "latbench tune: %d worm problems at cap %s, level %s, into %s\n", n,
            lb_isa_name(lb_dispatch_get()->cap), o.level == TUNE_QUICK ? "quick" : o.level == TUNE_MEASURE ? "measure" : "patient",
            path);
    rc = run_jobs(&o, jobs, n, &p);
    char err[4200];
    make_parent(path);
    if (!rc && !lb_profile_save(path, &p, err, sizeof err)) {
        fprintf(stderr, "latbench tune: %s\n", err);
        rc = 1;
    }
    if (!rc) printf("tuning profile: %s (%d entries)\n", path, p.n);
    lb_profile_free(&p);
    return rc;
}

/* latbench observe: thermalize, measure and print <n>, <|phi|^2> (and |phi|^4, the charge) with
 * errors, tau_int and acceptance rates for one parameter point or a scan (docs/design.md §2.5, §6). */
#include <jansson.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/registry.h"
#include "tools/cli/cli.h"
#include "tools/mpi/ranks.h"
#include "tools/opts/opts.h"
#include "lib/lattice/params.h"
#include "lib/lattice/sampler.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: latbench observe --lattice NTxNX --eta E --lambda L --mu M [options]\n"
            "  E, L, M: a number, a comma list or a range A:B:STEP (every combination runs; a scan)\n"
            "  --sweeps N          measured sweeps per chain (default 10000)\n"
            "  --therm N           thermalization sweeps per chain (default 1000)\n"
            "  --chains C          independent chains per point (default 16)\n"
            "  --seed S            (default 1)\n"
            "  --threads T         (default: all cores; results do not depend on it)\n"
            "  --worms-per-sweep N|auto   (default auto: ~4V head proposals per sweep, docs/worm.md)\n"
            "  --fmax F            W(f) table size (default %d)\n"
            "  --json              print a JSON object (a list of them for a scan)\n"
            "  --ranks-log FILE    under mpirun: every rank's progress lines into FILE, a section per rank\n"
            "                      (without it only rank 0 shows progress)\n"
            "  --progress=auto|bar|lines|none  on stderr: auto (default) a live bar on a terminal, else a line per\n"
            "                      10 %% with the rate and the time left; --quiet = --progress=none\n",
            LAT_FMAX_DEFAULT);
}

static int fail(const char *msg) {
    fprintf(stderr, "latbench observe: %s\n", msg);
    return 2;
}

static json_t *stats_json(const lat_series_stats *s) {
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:i}", "mean", s->mean, "err", s->err, "err_jackknife", s->err_jk, "tau_int",
                     s->tau, "tau_int_err", s->tau_err, "window", s->window);
}

/* The options of a run. */
typedef struct {
    const char *lat, *seta, *slam, *smu, *ranks_log;
    long sweeps, therm, chains, threads, fmax, wps;
    uint64_t seed;
    bool json;
    opts_progress progress;
} obs_args;

/* An integer option in [lo, hi] into *out; false after the one line. */
static bool long_in(opts_parser *p, long lo, long hi, long *out) {
    if (lat_parse_long(p->arg, lo, hi, out)) return true;
    opts_fail(p, "%s %s: expected an integer in %ld..%ld", p->name, p->arg, lo, hi);
    return false;
}

/* The options into x: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, obs_args *x) {
    enum { LAT = 256, ETA, LAM, MU, SEED, WPS, SWEEPS, THERM, CHAINS, THREADS, FMAX, JSON, PROGRESS, QUIET, RLOG };
    static const struct option longopts[] = {
        {"lattice", required_argument, NULL, LAT},    {"eta", required_argument, NULL, ETA},
        {"lambda", required_argument, NULL, LAM},     {"mu", required_argument, NULL, MU},
        {"seed", required_argument, NULL, SEED},      {"worms-per-sweep", required_argument, NULL, WPS},
        {"sweeps", required_argument, NULL, SWEEPS},  {"therm", required_argument, NULL, THERM},
        {"chains", required_argument, NULL, CHAINS},  {"threads", required_argument, NULL, THREADS},
        {"fmax", required_argument, NULL, FMAX},      {"json", no_argument, NULL, JSON},
        {"ranks-log", required_argument, NULL, RLOG}, OPTS_PROGRESS_LONGOPTS(PROGRESS, QUIET), {0}};
    *x = (obs_args){.sweeps = 10000, .therm = 1000, .chains = 16, .fmax = LAT_FMAX_DEFAULT, .seed = 1, .progress = OPTS_PROGRESS_AUTO};
    char err[400];
    opts_parser p;
    opts_init(&p, "observe", argc, argv, longopts, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        const char *v = p.arg;
        bool ok = c != OPTS_ERR;
        if (c == OPTS_HELP) return usage(stdout), 0;
        if (c == LAT) x->lat = v;
        if (c == ETA) x->seta = v;
        if (c == LAM) x->slam = v;
        if (c == MU) x->smu = v;
        if (c == RLOG) x->ranks_log = v;
        if (c == SEED && !lat_parse_u64(v, &x->seed)) ok = false, opts_fail(&p, "--seed %s: expected an unsigned integer", v);
        if (c == WPS && !lat_parse_worms_per_sweep(v, &x->wps, err, sizeof err)) ok = false, opts_fail(&p, "%s", err);
        if (c == SWEEPS) ok = long_in(&p, 2, 1L << 30, &x->sweeps);
        if (c == THERM) ok = long_in(&p, 0, 1L << 30, &x->therm);
        if (c == CHAINS) ok = long_in(&p, 1, 1 << 16, &x->chains);
        if (c == THREADS) ok = long_in(&p, 1, 4096, &x->threads);
        if (c == FMAX) ok = long_in(&p, 8, LAT_FMAX_MAX, &x->fmax);
        if (c == JSON) x->json = true;
        if (c == PROGRESS) ok = opts_progress_parse(&p, &x->progress);
        if (c == QUIET) x->progress = OPTS_PROGRESS_NONE;
        if (!ok) return 2;
    }
    if (opts_first_operand(&p) < argc) return opts_fail(&p, "unexpected argument '%s' (try --help)", argv[opts_first_operand(&p)]);
    if (!x->lat || !x->seta || !x->slam || !x->smu) return fail("--lattice, --eta, --lambda and --mu are required (try --help)");
    return -1;
}

/* The grid eta x lambda x mu as validated points: -1 when made, else the exit status. */
static int make_points(const obs_args *x, lat_point_cfg **pts, int *np) {
    char err[400];
    int nt, nx, ne, nl, nm;
    double *eta = NULL, *lam = NULL, *mu = NULL;
    if (!lat_parse_lattice(x->lat, &nt, &nx, err, sizeof err)) return fail(err);
    int rc = -1;
    if (!lat_parse_values(x->seta, &eta, &ne, err, sizeof err) || !lat_parse_values(x->slam, &lam, &nl, err, sizeof err) ||
        !lat_parse_values(x->smu, &mu, &nm, err, sizeof err)) {
        free(eta), free(lam);
        return fail(err);
    }
    const int n3[3] = {ne, nl, nm};
    if (!lat_grid_points(n3, 3, np, err, sizeof err)) rc = fail(err);
    else if (!(*pts = calloc(*np, sizeof **pts))) rc = fail("out of memory");
    for (int a = 0, p = 0; rc < 0 && a < ne; a++)
        for (int b = 0; rc < 0 && b < nl; b++)
            for (int c = 0; rc < 0 && c < nm; c++, p++) {
                (*pts)[p] = (lat_point_cfg){.nt = nt, .nx = nx, .eta = eta[a], .lambda = lam[b], .mu = mu[c],
                                           .worms_per_sweep = (int)x->wps, .fmax = (int)x->fmax,
                                           .nchains = (int)x->chains, .seed = x->seed, .point = p, .ops = NULL};
                if (!lat_point_validate(&(*pts)[p], err, sizeof err)) rc = fail(err);
            }
    free(eta), free(lam), free(mu);
    return rc;
}

static void print_json(const obs_args *x, const lat_point_cfg *pts, const lat_measure_result *res, int np,
                       const char *kernel) {
    const int nt = pts[0].nt, nx = pts[0].nx;
    const long chains = x->chains, sweeps = x->sweeps, therm = x->therm;
    const uint64_t seed = x->seed;
    json_t *list = json_array();
    for (int p = 0; p < np; p++) {
        const lat_measure_result *m = &res[p];
        double cpu = m->seconds > 0 ? m->seconds : 1e-9;
        char lt[32];
        snprintf(lt, sizeof lt, "%dx%d", nt, nx);
        json_t *o1 = json_pack(
            "{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:{s:f, s:f}, s:f, s:f, "
            "s:i, s:i, s:i, s:i, s:I, s:s, s:o, s:o, s:f, s:f, s:f}",
            "lattice", lt, "eta", pts[p].eta, "lambda", pts[p].lambda, "mu", pts[p].mu, "n", m->n.mean, "n_err",
            m->n.err, "phi2", m->phi2.mean, "phi2_err", m->phi2.err, "phi4", m->phi4.mean, "phi4_err", m->phi4.err,
            "charge", m->charge.mean, "charge_err", m->charge.err, "tau_int", m->tau_int, "tau_int_n", m->n.tau,
            "tau_int_phi2", m->phi2.tau, "tau_int_err", m->n.tau > m->phi2.tau ? m->n.tau_err : m->phi2.tau_err,
            "acceptance", "worm", m->acc_worm, "l", m->acc_l, "worm_length", m->worm_len, "head_steps_per_worm",
            m->head_per_worm, "worms_per_sweep", m->worms_per_sweep, "chains", (int)chains, "sweeps", (int)sweeps,
            "therm", (int)therm, "seed", (json_int_t)seed, "kernel", kernel, "n_stats", stats_json(&m->n),
            "phi2_stats", stats_json(&m->phi2), "seconds_cpu", m->seconds, "head_moves_per_s_per_core",
            m->head_prop / cpu, "l_updates_per_s_per_core", m->l_prop / cpu);
        json_array_append_new(list, o1);
    }
    json_t *top = np == 1 ? json_incref(json_array_get(list, 0)) : json_incref(list);
    char *s = json_dumps(top, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    if (s) puts(s);
    free(s);
    json_decref(top);
    json_decref(list);
}

static void print_table(const lat_point_cfg *pts, const lat_measure_result *res, int np, double wall) {
    printf("%7s %7s %7s %22s %22s %14s %6s %6s %6s %8s\n", "eta", "lambda", "mu", "<n>", "<|phi|^2>", "tau_int",
           "acc_w", "acc_l", "worms", "wormlen");
    for (int p = 0; p < np; p++) {
        const lat_measure_result *m = &res[p];
        const lat_series_stats *tm = m->n.tau > m->phi2.tau ? &m->n : &m->phi2;
        printf("%7g %7g %7.4g %11.6f +- %8.6f %11.6f +- %8.6f %6.1f +- %5.1f %6.3f %6.3f %6d %8.1f\n", pts[p].eta,
               pts[p].lambda, pts[p].mu, m->n.mean, m->n.err, m->phi2.mean, m->phi2.err, tm->tau, tm->tau_err,
               m->acc_worm, m->acc_l, m->worms_per_sweep, m->worm_len);
    }
    printf("(errors: Gamma method with Madras-Sokal window; tau_int in sweeps, the larger of n and |phi|^2; %.1f s)\n",
           wall);
}

/* ---- the points over the ranks of an MPI run ---- */

/* One point's result as a rank sends it to rank 0. */
typedef struct {
    int p;
    lat_measure_result m;
} obs_part;

/* Every rank measures the points it draws from the counter (point order: every point has the same
 * chains and sweeps, no better estimate of its cost), one lat_measure each with the point's own
 * index (its streams), so its figures are the 1-rank run's; rank 0 gets them all into res.  A
 * failure ends the run. */
static void measure_ranks(const lat_point_cfg *pts, int np, const lat_measure_opts *o, lat_measure_result *res) {
    char err[400];
    ranks_counter *c = ranks_counter_open();
    obs_part *mine = calloc((size_t)np, sizeof *mine);
    if (!c || !mine) ranks_abort("observe", "out of memory");
    const char *hook = getenv("LATBENCH_TEST_FAIL_RANK"); /* the tests' failing rank */
    if (hook && atoi(hook) == ranks_world()->rank)
        ranks_abort("observe", "LATBENCH_TEST_FAIL_RANK: this rank fails before its first point");
    int n = 0;
    lat_measure_opts one = *o; /* one W table per (eta, lambda), as the 1-rank run builds it, not one per point */
    lat_wtable_cache cache = {.threads = o->threads > 0 ? o->threads : omp_get_max_threads()};
    one.cache = &cache;
    for (long p; (p = ranks_counter_next(c)) < np; n++) {
        mine[n].p = (int)p;
        if (!lat_measure(&pts[p], 1, &one, &mine[n].m, err, sizeof err)) ranks_abort("observe", err);
    }
    lat_wtable_cache_free(&cache);
    ranks_counter_close(c);
    char *all = NULL;
    size_t total = 0;
    if (!ranks_gather_bytes(mine, sizeof *mine * (size_t)n, &all, &total, err, sizeof err)) ranks_abort("observe", err);
    free(mine);
    int got = 0;
    for (size_t at = 0; all && at + sizeof(obs_part) <= total; at += sizeof(obs_part), got++) {
        obs_part q;
        memcpy(&q, all + at, sizeof q);
        res[q.p] = q.m;
    }
    free(all);
    if (ranks_world()->rank == 0 && got != np) ranks_abort("observe", "a point's figures did not come back from its rank");
}

int cmd_observe(int argc, char **argv) {
    obs_args x;
    int rc = parse_args(argc, argv, &x);
    if (rc >= 0) return rc;
    char err[400];
    lat_point_cfg *pts = NULL;
    int np = 0;
    if ((rc = make_points(&x, &pts, &np)) >= 0) return free(pts), rc;
    rc = 0;
    lat_measure_result *res = calloc(np, sizeof *res);
    lat_measure_opts o = {.therm = (int)x.therm, .sweeps = (int)x.sweeps, .threads = (int)x.threads, .check = false,
                         .progress = (int)x.progress, .series = NULL};
    if (!res) rc = fail("out of memory");
    else if (!lat_measure_check(pts, np, &o, err, sizeof err)) rc = fail(err);
    if (rc) return free(pts), free(res), rc;
    int nthreads = x.threads > 0 ? (int)x.threads : omp_get_max_threads();
    /* the tuning profile may choose per point (lattice, mu, chains): the first point's, and a note if others differ */
    const char *kernel = lat_point_worm(&pts[0])->name;
    bool mixed = false;
    for (int p = 1; p < np; p++) mixed |= lat_point_worm(&pts[p]) != lat_point_worm(&pts[0]);
    const ranks_ctx *rk = ranks_world();
    if (rk->size > 1 && rk->rank != 0 && !x.ranks_log) o.progress = LAT_PROGRESS_NONE; /* rank 0's alone */
    if (!x.json && rk->rank == 0)
        printf("latbench observe: %dx%d, %ld chains x %ld sweeps (+%ld thermalization), seed %llu, %d threads, worm kernel %s%s\n",
               pts[0].nt, pts[0].nx, x.chains, x.sweeps, x.therm, (unsigned long long)x.seed, nthreads, kernel,
               mixed ? " (first point; the tuning profile chooses per point)" : "");
    fflush(stdout); /* the header shows at once, also through a pipe: a long run has started */
    double t0 = lat_now();
    if (rk->size > 1) {
        if (x.ranks_log) ranks_log_begin();
        measure_ranks(pts, np, &o, res);
        if (x.ranks_log && !ranks_log_end(x.ranks_log, err, sizeof err)) fprintf(stderr, "latbench observe: %s\n", err);
        if (rk->rank != 0) return free(pts), free(res), 0;
    }
    if (rk->size <= 1 && !lat_measure(pts, np, &o, res, err, sizeof err)) {
        fprintf(stderr, "latbench observe: %s\n", err);
        rc = 1;
    } else if (x.json) {
        print_json(&x, pts, res, np, kernel);
    } else {
        print_table(pts, res, np, lat_now() - t0);
    }
    free(pts), free(res);
    return rc;
}

#include "lib/lattice/sampler.h"
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "arch/profile.h"
#include "arch/registry.h"
#include "lib/lattice/params.h"

double lat_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

bool lat_point_validate(const lat_point_cfg *c, char *err, size_t errlen) {
    if (c->nt < 2 || c->nx < 2) {
        snprintf(err, errlen, "lattice %dx%d: every dimension must be >= 2 (with 1 a link would join a site to itself)",
                 c->nt, c->nx);
        return false;
    }
    if (!isfinite(c->eta) || !isfinite(c->lambda) || !isfinite(c->mu)) {
        snprintf(err, errlen, "eta, lambda and mu must be finite numbers");
        return false;
    }
    if (fabs(c->mu) > LAT_MU_MAX) {
        snprintf(err, errlen, "mu %g is outside -%g..%g (e^-|mu| must stay a normal float32 in the worm acceptance)",
                 c->mu, LAT_MU_MAX, LAT_MU_MAX);
        return false;
    }
    if (c->lambda < 0) {
        snprintf(err, errlen, "lambda must be >= 0 (got %g)", c->lambda);
        return false;
    }
    if (c->lambda == 0 && !(c->eta > 0)) {
        snprintf(err, errlen, "eta must be > 0 when lambda = 0 (got eta = %g)", c->eta);
        return false;
    }
    /* the Gaussian action is bounded below only for η > 2 + 2 cosh μ (the p = 0 mode) */
    if (c->lambda == 0 && !(c->eta > 2 + 2 * cosh(c->mu))) {
        snprintf(err, errlen, "lambda = 0 needs eta > 2 + 2 cosh(mu) = %.6g for mu = %g (got eta = %g): the Gaussian model is unstable",
                 2 + 2 * cosh(c->mu), c->mu, c->eta);
        return false;
    }
    if (c->nchains < 1) {
        snprintf(err, errlen, "need at least one chain (got %d)", c->nchains);
        return false;
    }
    if (c->worms_per_sweep < 0 || c->fmax < 0) {
        snprintf(err, errlen, "worms per sweep and fmax must not be negative");
        return false;
    }
    const int64_t v = (int64_t)c->nt * c->nx;
    if (c->worms_per_sweep > LAT_WPS_MAX_PER_SITE * v) {
        snprintf(err, errlen, "--worms-per-sweep %d is more than %d per site of the %dx%d lattice (at most %lld; auto uses <= 4 per site)",
                 c->worms_per_sweep, LAT_WPS_MAX_PER_SITE, c->nt, c->nx, (long long)(LAT_WPS_MAX_PER_SITE * v));
        return false;
    }
    int64_t b;
    if (!lat_point_state_bytes(c, &b) || b > LAT_MAX_RUN_BYTES) {
        snprintf(err, errlen, "%d chains on %dx%d need more than %lld GiB of chain state", c->nchains, c->nt, c->nx,
                 LAT_MAX_RUN_BYTES >> 30);
        return false;
    }
    return true;
}

/* The worm variant and parameters of a point with ops NULL (lat_point_worm_params; verbose: say so). */
static const worm_ops *point_worm(const lat_point_cfg *c, lb_params *params, bool verbose);

bool lat_point_state_bytes(const lat_point_cfg *c, int64_t *bytes) {
    /* per chain: k, l (2 links per site), f (one per site), int32 each, plus the rng and counters;
     * blocks are rounded up to 16 lanes (the widest variant), or more with fewer chains per block */
    int64_t chains = ((int64_t)c->nchains + 15) / 16 * 16;
    lb_params pp = c->params;
    const worm_ops *o = c->ops ? c->ops : point_worm(c, &pp, false);
    const int inuse = worm_chains_per_block(o, &pp);
    if (inuse < o->lanes && ((int64_t)c->nchains + inuse - 1) / inuse * o->lanes > chains)
        chains = ((int64_t)c->nchains + inuse - 1) / inuse * o->lanes;
    int64_t per, b;
    if (__builtin_mul_overflow((int64_t)c->nt, (int64_t)c->nx, &per) || __builtin_mul_overflow(per, (int64_t)20, &per) ||
        __builtin_add_overflow(per, (int64_t)(16 + 8 * WORM_NSTAT + 128), &per) || __builtin_mul_overflow(per, chains, &b))
        return false;
    *bytes = b;
    return true;
}

bool lat_run_bytes_add(int64_t *total, int64_t b, char *err, size_t errlen) {
    if (b < 0 || __builtin_add_overflow(*total, b, total) || *total > LAT_MAX_RUN_BYTES) {
        snprintf(err, errlen, "the run needs more than %lld GiB of memory (chain states, series and labels together); "
                 "use fewer points, chains, sweeps or configurations", LAT_MAX_RUN_BYTES >> 30);
        return false;
    }
    return true;
}

void lat_worm_problem_str(int nt, int nx, double mu, int nchains, char *buf, size_t len) {
    snprintf(buf, len, "nt%d_nx%d_mu%g_chains%d", nt, nx, mu, nchains);
}

/* The applied profile's entry for this point's problem at the dispatch cap and OpenMP's thread
 * count names a variant; it is used when it runs under the cap (one above it, or an unknown name,
 * leaves the dispatched one).  The dispatched table itself is kept when the names agree, so what
 * dispatch wrapped around its variant (the test slowdown) stays. */
static const worm_ops *point_worm(const lat_point_cfg *c, lb_params *params, bool verbose) {
    const lb_dispatch *d = lb_dispatch_get();
    const lb_profile *p = lb_profile_active();
    memset(params, 0, sizeof *params);
    if (!p) return d->worm;
    char prob[128];
    lat_worm_problem_str(c->nt, c->nx, c->mu, c->nchains, prob, sizeof prob);
    const lb_profile_entry *e = lb_profile_choice(p, "worm", LB_PASS_FWD, prob, d->cap, omp_get_max_threads());
    const worm_ops *chosen = d->worm;
    int n;
    const worm_ops *v = lb_worm_variants(&n);
    for (int i = 0; e && i < n; i++)
        if (!strcmp(v[i].name, e->variant) && strcmp(v[i].name, d->worm->name) && lb_isa_usable(&d->cpu, d->cap, v[i].isa))
            chosen = &v[i];
    if (e && !strcmp(chosen->name, e->variant)) *params = e->params;
    if (e && verbose && lb_verbose())
        fprintf(stderr, "latbench: profile: worm %s uses %s, %d chains per block (entry %s, threads %d: %s)\n", prob,
                chosen->name, worm_chains_per_block(chosen, params), e->problem, e->threads, e->variant);
    return chosen;
}

const worm_ops *lat_point_worm_params(const lat_point_cfg *c, lb_params *params) { return point_worm(c, params, true); }

const worm_ops *lat_point_worm(const lat_point_cfg *c) {
    lb_params ignored;
    return lat_point_worm_params(c, &ignored);
}

bool lat_sampler_init(lat_sampler *s, const lat_point_cfg *cfg, const lat_wtable *wt, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (!lat_point_validate(cfg, err, errlen)) return false;
    s->cfg = *cfg;
    if (!s->cfg.ops) s->cfg.ops = lat_point_worm_params(cfg, &s->cfg.params);
    s->wt = wt;
    if (!lat_lattice_init(&s->g, cfg->nt, cfg->nx, err, errlen)) return false;
    uint64_t stream0 = LAT_STREAM_CHAIN | (uint64_t)cfg->point << 24;
    const int per = worm_chains_per_block(s->cfg.ops, &s->cfg.params);
    if (!lat_ensemble_init_per(&s->ens, &s->g, cfg->nchains, s->cfg.ops->lanes, per, cfg->seed, stream0, err, errlen)) {
        lat_lattice_free(&s->g);
        return false;
    }
    s->desc = (worm_desc){.nt = cfg->nt, .nx = cfg->nx, .v = s->g.v, .nbr = s->g.nbr, .tab = &wt->kt,
                          .emu = {(float)exp(-cfg->mu), (float)exp(cfg->mu), 1.0f, 1.0f},
                          .worms_per_sweep = cfg->worms_per_sweep ? cfg->worms_per_sweep : LAT_WPS_CALIBRATION};
    return true;
}

bool lat_hook_go_on(lat_hook_state *h) {
    int fl;
#pragma omp atomic read
    fl = *h->failed;
    if (h->bad || fl) h->stopped = true;
    return !h->stopped;
}

bool lat_hook_result(const lat_hook_state *h, bool good, char *e, size_t elen) {
    if (h->bad) return snprintf(e, elen, "%s", h->err), false;
    if (good && h->stopped) return snprintf(e, elen, "stopped: another block failed"), false;
    return good;
}

int lat_sampler_calibration_sweeps(const lat_sampler *s, int therm) {
    return s->cfg.worms_per_sweep || therm <= 0 ? 0 : (therm + 3) / 4;
}

void lat_sampler_calibrate(lat_sampler *s) {
    if (s->cfg.worms_per_sweep) return;
    uint64_t prop = 0, worms = 0;
    for (int c = 0; c < s->cfg.nchains; c++) {
        lat_chain ch = lat_ensemble_chain(&s->ens, c);
        prop += ch.stat[WORM_STAT_HEAD_PROP * ch.stride];
        worms += ch.stat[WORM_STAT_WORMS * ch.stride];
    }
    if (!worms || !prop) return;
    double w = 4.0 * s->g.v * (double)worms / (double)prop;
    int n = (int)(w + 0.5);
    s->desc.worms_per_sweep = n < 1 ? 1 : n > 4 * s->g.v ? 4 * s->g.v : n;
}

void lat_sampler_free(lat_sampler *s) {
    lat_ensemble_free(&s->ens);
    lat_lattice_free(&s->g);
}

bool lat_sampler_sweeps(lat_sampler *s, int b, int nsweeps, const worm_hook *hook, char *err, size_t errlen) {
    worm_block *B = &s->ens.blocks[b];
    s->cfg.ops->sweep(&s->desc, B, nsweeps, hook);
    for (int c = 0; c < B->active; c++)
        if (B->stat[WORM_STAT_FMAX_HIT * B->lanes + c]) {
            snprintf(err, errlen, "chain %d: f_x exceeded F_max = %d at eta = %g, lambda = %g, mu = %g (rerun with a larger --fmax)",
                     b * s->ens.per + c, s->wt->fmax, s->cfg.eta, s->cfg.lambda, s->cfg.mu);
            return false;
        }
    return true;
}

const lat_wtable *lat_wtable_get(lat_wtable_cache *c, double eta, double lambda, int fmax, char *err, size_t errlen) {
    if (fmax <= 0) fmax = LAT_FMAX_DEFAULT;
    for (int i = 0; i < c->n; i++)
        if (c->t[i]->eta == eta && c->t[i]->lambda == lambda && c->t[i]->fmax == fmax) return c->t[i];
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        lat_wtable **t = realloc(c->t, sizeof *t * cap);
        if (!t) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        c->t = t, c->cap = cap;
    }
    /* tables are held by pointer: samplers keep pointers into them while the cache grows */
    lat_wtable *w = malloc(sizeof *w);
    if (!w || !lat_wtable_build_threads(w, eta, lambda, fmax, c->threads, err, errlen)) {
        if (!w) snprintf(err, errlen, "out of memory");
        free(w);
        return NULL;
    }
    return c->t[c->n++] = w;
}

void lat_wtable_cache_free(lat_wtable_cache *c) {
    for (int i = 0; i < c->n; i++) lat_wtable_free(c->t[i]), free(c->t[i]);
    free(c->t);
    memset(c, 0, sizeof *c);
}

void lat_progress_start(lat_progress *p, long total, const char *label, int mode) {
    p->total = total, p->done = 0, p->label = label, p->t0 = p->last = lat_now();
    /* lines asked for: every 10 % mark; lines by default (auto, not a terminal): marks after 2 s */
    if (mode == LAT_PROGRESS_AUTO) mode = isatty(STDERR_FILENO) ? LAT_PROGRESS_BAR : LAT_PROGRESS_AUTO;
    p->enabled = total <= 0 || mode == LAT_PROGRESS_NONE ? 0 : mode == LAT_PROGRESS_BAR ? 1 : mode == LAT_PROGRESS_AUTO ? 2 : 3;
}

/* Lines mode: one line when a 10 % mark is crossed or 10 s passed since the last one (checked at
 * every 1/10000 of the work, by the thread that crosses it; 10 % marks only once 2 s have passed). */
static void progress_line(lat_progress *p, long before, long after) {
    if (after * 10000 / p->total == before * 10000 / p->total) return;
    const double now = lat_now(), el = now - p->t0, frac = (double)after / p->total;
    /* 10 % marks once the run has taken 2 s (a short run stays quiet) */
    const bool mark = after * 10 / p->total != before * 10 / p->total && (el >= 2 || p->enabled == 3);
    double last;
#pragma omp atomic read
    last = p->last;
    if (!mark && now - last < 10) return;
#pragma omp atomic write
    p->last = now;
    fprintf(stderr, "%s: %ld/%ld sweeps (%.0f%%), %.3g sweeps/s, %.0f s elapsed, ~%.0f s left\n", p->label, after, p->total,
            100 * frac, el > 0 ? after / el : 0.0, el, frac > 0 ? el * (1 - frac) / frac : 0.0);
}

/* Bar mode: only the thread that crosses a 1/200 step redraws, so the bar costs nothing in the sweeps. */
void lat_progress_add(lat_progress *p, long n) {
    if (!p->enabled) return;
    long before, after;
#pragma omp atomic capture
    {
        before = p->done;
        p->done += n;
    }
    after = before + n;
    if (p->enabled >= 2) return progress_line(p, before, after);
    if (after * 200 / p->total == before * 200 / p->total) return;
    double frac = (double)after / p->total, el = lat_now() - p->t0;
    int w = 30, fill = (int)(frac * w + 0.5);
    char bar[64];
    for (int i = 0; i < w; i++) bar[i] = i < fill ? '#' : '.';
    bar[w] = 0;
    double eta = frac > 0 ? el * (1 - frac) / frac : 0;
    fprintf(stderr, "\r%s [%s] %5.1f%%  %.0fs elapsed, ~%.0fs left ", p->label, bar, 100 * frac, el, eta);
    fflush(stderr);
}

void lat_progress_end(lat_progress *p) {
    if (p->enabled == 1) fprintf(stderr, "\r\033[K");
}

/* ---- measurement runs ---- */

typedef struct {
    lat_sampler s;
    double *series;     /* [4][nchains][sweeps] */
    uint64_t (*stat0)[WORM_NSTAT]; /* per chain, at the end of thermalization */
    double seconds;
} point_run;

static void chain_stats(const lat_sampler *s, int c, uint64_t out[WORM_NSTAT]) {
    lat_chain ch = lat_ensemble_chain(&s->ens, c);
    for (int i = 0; i < WORM_NSTAT; i++) out[i] = ch.stat[i * ch.stride];
}

/* The per-chain hook of a measurement run (one block). */
typedef struct {
    point_run *r;
    const lat_measure_opts *o;
    lat_progress *prog;
    lat_hook_state hs;
    int block;
    bool measure;      /* thermalization (false) or measurement sweeps */
} measure_ctx;

static bool measure_hook(void *ctx, const worm_block *B, int lane, int n) {
    measure_ctx *m = ctx;
    const lat_sampler *s = &m->r->s;
    const int cc = m->block * s->ens.per + lane, C = s->cfg.nchains, S = m->o->sweeps;
    const lat_chain ch = lat_ensemble_chain(&s->ens, cc);
    if (!lat_hook_go_on(&m->hs)) return false;
    if (m->o->check && !lat_chain_check(&s->g, ch, true, 0, m->hs.err, sizeof m->hs.err)) return m->hs.bad = true, false;
    if (m->measure) {
        lat_obs ob;
        lat_chain_measure(&s->g, s->wt, ch, &ob);
        double *series = m->r->series;
        series[(0L * C + cc) * S + n - 1] = ob.n;
        series[(1L * C + cc) * S + n - 1] = ob.phi2;
        series[(2L * C + cc) * S + n - 1] = ob.phi4;
        series[(3L * C + cc) * S + n - 1] = ob.charge;
    }
    lat_progress_add(m->prog, 1);
    return true;
}

bool lat_measure_check(const lat_point_cfg *pts, int npts, const lat_measure_opts *o, char *err, size_t errlen) {
    if (o->therm < 0 || o->sweeps < 2 || o->therm > LAT_MAX_SWEEPS || o->sweeps > LAT_MAX_SWEEPS) {
        snprintf(err, errlen, "need --therm in 0..%ld and --sweeps in 2..%ld (got %d, %d)", LAT_MAX_SWEEPS, LAT_MAX_SWEEPS,
                 o->therm, o->sweeps);
        return false;
    }
    if (npts < 1 || npts > LAT_MAX_POINTS) {
        snprintf(err, errlen, "need 1..%d parameter points (got %d)", LAT_MAX_POINTS, npts);
        return false;
    }
    int64_t total = 0;
    for (int p = 0; p < npts; p++) {
        int64_t state, series;
        if (!lat_point_validate(&pts[p], err, errlen)) return false;
        /* 4 series of doubles per chain and measured sweep */
        if (!lat_point_state_bytes(&pts[p], &state) ||
            __builtin_mul_overflow((int64_t)32 * pts[p].nchains, (int64_t)o->sweeps, &series))
            state = series = -1; /* reported as too large below */
        if (!lat_run_bytes_add(&total, state, err, errlen) || !lat_run_bytes_add(&total, series, err, errlen)) return false;
    }
    return true;
}

/* The samplers and series buffers of every point, and the work units: (point, block) pairs into
 * *unit_p (malloc'ed), their number into *nunits. */
static bool measure_setup(const lat_point_cfg *pts, int npts, const lat_measure_opts *o, lat_wtable_cache *cache,
                          point_run *pr, int **unit_p, int *nunits, char *err, size_t errlen) {
    *nunits = 0;
    for (int p = 0; p < npts; p++) {
        if (!lat_point_validate(&pts[p], err, errlen)) return false;
        const lat_wtable *wt = lat_wtable_get(cache, pts[p].eta, pts[p].lambda, pts[p].fmax, err, errlen);
        if (!wt || !lat_sampler_init(&pr[p].s, &pts[p], wt, err, errlen)) return false;
        size_t ns = (size_t)4 * pts[p].nchains * o->sweeps;
        pr[p].series = malloc(sizeof(double) * ns);
        pr[p].stat0 = calloc(pts[p].nchains, sizeof *pr[p].stat0);
        if (!pr[p].series || !pr[p].stat0) return snprintf(err, errlen, "out of memory for %zu measurements", ns), false;
        *nunits += pr[p].s.ens.nblocks;
    }
    *unit_p = malloc(sizeof(int) * 2 * *nunits);
    if (!*unit_p) return snprintf(err, errlen, "out of memory"), false;
    int u = 0;
    for (int p = 0; p < npts; p++)
        for (int b = 0; b < pr[p].s.ens.nblocks; b++) (*unit_p)[2 * u] = p, (*unit_p)[2 * u + 1] = b, u++;
    return true;
}

/* One block of one point in one phase (called by one thread of lat_measure's team): phase 0 the
 * calibration sweeps, phase 1 the rest of the thermalization and the measurement sweeps.  The
 * first failure of the run into ferr (failed set). */
static void measure_unit(point_run *r, int b, int phase, const lat_measure_opts *o, lat_progress *prog, int *failed,
                         char *ferr, size_t ferrlen) {
    lat_sampler *s = &r->s;
    worm_block *B = &s->ens.blocks[b];
    const int ncal = lat_sampler_calibration_sweeps(s, o->therm);
    /* one kernel call per phase (the lanes stay busy); the hook checks, measures and
     * reports progress at every sweep end of every chain */
    measure_ctx m = {.r = r, .o = o, .prog = prog, .hs = {.failed = failed}, .block = b};
    const worm_hook hook = {1, measure_hook, &m};
    double t0 = lat_now();
    char e[256] = "";
    bool good = lat_sampler_sweeps(s, b, phase ? o->therm - ncal : ncal, &hook, e, sizeof e);
    if (good && phase == 1 && !m.hs.bad) {
        for (int c = 0; c < B->active; c++) chain_stats(s, b * s->ens.per + c, r->stat0[b * s->ens.per + c]);
        m.measure = true;
        good = lat_sampler_sweeps(s, b, o->sweeps, &hook, e, sizeof e);
    }
    good = lat_hook_result(&m.hs, good, e, sizeof e);
    double dt = lat_now() - t0;
#pragma omp atomic
    r->seconds += dt;
    if (!good) {
#pragma omp critical(lb_measure_err)
        if (!*failed) {
            snprintf(ferr, ferrlen, "mu = %g: %s", s->cfg.mu, e);
            *failed = 1;
        }
    }
}

/* A point's result from its series and the chains' statistics since thermalization; hands the
 * series to o->series when asked. */
static void measure_result(point_run *r, const lat_point_cfg *pt, int p, const lat_measure_opts *o, lat_measure_result *m) {
    const int C = pt->nchains, S = o->sweeps;
    memset(m, 0, sizeof *m);
    lat_series_analyze(r->series, C, S, &m->n);
    lat_series_analyze(r->series + (size_t)C * S, C, S, &m->phi2);
    lat_series_analyze(r->series + (size_t)2 * C * S, C, S, &m->phi4);
    lat_series_analyze(r->series + (size_t)3 * C * S, C, S, &m->charge);
    m->tau_int = m->n.tau > m->phi2.tau ? m->n.tau : m->phi2.tau;
    m->worms_per_sweep = r->s.desc.worms_per_sweep;
    uint64_t d[WORM_NSTAT] = {0}, tot[WORM_NSTAT] = {0};
    for (int c = 0; c < C; c++) {
        uint64_t now[WORM_NSTAT];
        chain_stats(&r->s, c, now);
        for (int i = 0; i < WORM_NSTAT; i++) d[i] += now[i] - r->stat0[c][i], tot[i] += now[i];
    }
    m->acc_worm = d[WORM_STAT_HEAD_PROP] ? (double)d[WORM_STAT_HEAD_ACC] / d[WORM_STAT_HEAD_PROP] : 0;
    m->acc_l = d[WORM_STAT_L_PROP] ? (double)d[WORM_STAT_L_ACC] / d[WORM_STAT_L_PROP] : 0;
    m->worm_len = d[WORM_STAT_WORMS] ? (double)d[WORM_STAT_HEAD_ACC] / d[WORM_STAT_WORMS] : 0;
    m->head_per_worm = d[WORM_STAT_WORMS] ? (double)d[WORM_STAT_HEAD_PROP] / d[WORM_STAT_WORMS] : 0;
    m->head_prop = tot[WORM_STAT_HEAD_PROP];
    m->l_prop = tot[WORM_STAT_L_PROP];
    m->seconds = r->seconds;
    if (o->series) {
        o->series[p] = r->series;
        r->series = NULL;
    }
}

bool lat_measure(const lat_point_cfg *pts, int npts, const lat_measure_opts *o, lat_measure_result *res, char *err,
                size_t errlen) {
    if (!lat_measure_check(pts, npts, o, err, errlen)) return false;
    lat_wtable_cache own = {.threads = o->threads > 0 ? o->threads : omp_get_max_threads()};
    point_run *pr = calloc(npts, sizeof *pr);
    int *unit_p = NULL, nunits = 0;
    bool ok = pr != NULL;
    if (!ok) snprintf(err, errlen, "out of memory");
    if (ok) ok = measure_setup(pts, npts, o, o->cache ? o->cache : &own, pr, &unit_p, &nunits, err, errlen);
    lat_progress prog;
    long total = 0;
    for (int p = 0; ok && p < npts; p++) total += (long)pts[p].nchains * (o->therm + o->sweeps);
    lat_progress_start(&prog, total, "observe", o->progress);
    int failed = 0;
    char ferr[320] = "";
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    /* phase 0: the calibration sweeps of auto points; phase 1: the rest of the thermalization and
     * the measurements (the worm count is set between the two, from all chains of a point) */
    for (int phase = 0; ok && phase < 2; phase++) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int u = 0; u < nunits; u++)
            measure_unit(&pr[unit_p[2 * u]], unit_p[2 * u + 1], phase, o, &prog, &failed, ferr, sizeof ferr);
        if (failed) {
            ok = false;
            snprintf(err, errlen, "%s", ferr);
        }
        if (phase == 0)
            for (int p = 0; p < npts; p++) lat_sampler_calibrate(&pr[p].s);
    }
    lat_progress_end(&prog);
    for (int p = 0; ok && p < npts; p++) measure_result(&pr[p], &pts[p], p, o, &res[p]);
    for (int p = 0; pr && p < npts; p++) {
        free(pr[p].series);
        free(pr[p].stat0);
        lat_sampler_free(&pr[p].s);
    }
    free(pr);
    free(unit_p);
    lat_wtable_cache_free(&own);
    return ok;
}

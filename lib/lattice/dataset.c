#include "lib/lattice/dataset.h"
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/lattice/params.h"
#include "lib/lattice/violations.h"

const char *lat_task_name(lat_task t) {
    return t == LAT_TASK_REGRESSION ? "regression" : t == LAT_TASK_DETECT ? "detect" : t == LAT_TASK_COUNT ? "count" : "?";
}
int lat_task_outputs(lat_task t) { return t == LAT_TASK_REGRESSION ? 2 : 1; }

static lat_point_cfg point_cfg(const lat_gen_opts *o, int p, int chains) {
    return (lat_point_cfg){.nt = o->nt, .nx = o->nx, .eta = o->eta[p], .lambda = o->lambda[p], .mu = o->mu[p],
                          .worms_per_sweep = o->worms_per_sweep, .fmax = o->fmax, .nchains = chains,
                          .seed = o->seed, .point = p, .ops = o->ops, .params = o->params};
}

static long point_count(const lat_gen_opts *o, int p) { return o->count / o->npoints + (p < o->count % o->npoints); }
void lat_generate_point_rows(const lat_gen_opts *o, int p, long *offset, long *count) {
    *offset = 0;
    for (int q = 0; q < p; q++) *offset += point_count(o, q);
    *count = point_count(o, p);
}

/* Whether point p is sampled in this run (lat_gen_opts.only). */
static bool point_on(const lat_gen_opts *o, int p) { return !o->only || o->only[p]; }

/* Sampling sweeps of a chain that takes `samples` samples `spacing` apart; false past LAT_MAX_SWEEPS. */
static bool sampling_sweeps_fit(long samples, long spacing) {
    long n;
    return !__builtin_mul_overflow(samples, spacing, &n) && n <= LAT_MAX_SWEEPS;
}

/* The sizes of the run, in 64 bits: x.npy, the memory held at once (chain states, τ series,
 * labels, y) and, with a fixed spacing, the sampling sweeps of each chain. */
static bool check_sizes(const lat_gen_opts *o, char *err, size_t errlen) {
    int64_t xbytes, total = 0, ybytes;
    if (__builtin_mul_overflow((int64_t)o->count, (int64_t)8 * o->nt * o->nx, &xbytes) || xbytes > LAT_GEN_MAX_X_BYTES)
        return snprintf(err, errlen, "--count %ld configurations of %dx%d make x.npy larger than %lld GiB", o->count,
                        o->nt, o->nx, LAT_GEN_MAX_X_BYTES >> 30),
               false;
    ybytes = (int64_t)o->count * (4 * lat_task_outputs(o->task) + (int64_t)sizeof(int)); /* y and the labels */
    if (!lat_run_bytes_add(&total, ybytes, err, errlen)) return false;
    const int64_t len = o->therm - o->therm / 2;
    for (int p = 0; p < o->npoints; p++) {
        const long n = point_count(o, p);
        const int chains = o->chains < n ? o->chains : (int)n;
        lat_point_cfg c = point_cfg(o, p, chains);
        int64_t state;
        if (!lat_point_state_bytes(&c, &state)) state = -1;
        if (!lat_run_bytes_add(&total, state, err, errlen) ||
            !lat_run_bytes_add(&total, 16 * chains * len, err, errlen)) /* n and |phi|^2, double */
            return false;
        /* an auto spacing is at least 1 sweep (it is checked again once known) */
        const int sp = o->spacing > 0 ? o->spacing : 1;
        if (!sampling_sweeps_fit((n + chains - 1) / chains, sp))
            return snprintf(err, errlen, "spacing %d x %ld samples per chain is more than %ld sweeps; use more --chains "
                            "or a smaller --spacing or --count", sp, (n + chains - 1) / chains, LAT_MAX_SWEEPS),
                   false;
    }
    return true;
}

bool lat_generate_check(const lat_gen_opts *o, char *err, size_t errlen) {
    if (o->task < LAT_TASK_REGRESSION || o->task > LAT_TASK_COUNT) return snprintf(err, errlen, "unknown task"), false;
    if (o->npoints < 1 || o->npoints > LAT_MAX_POINTS)
        return snprintf(err, errlen, "need 1..%d parameter points (got %d)", LAT_MAX_POINTS, o->npoints), false;
    if (o->count < o->npoints)
        return snprintf(err, errlen, "--count %ld is less than the number of parameter points (%d)", o->count, o->npoints),
               false;
    if (o->chains < 1) return snprintf(err, errlen, "--chains must be >= 1 (got %d)", o->chains), false;
    if (o->therm < 8 || o->therm > LAT_MAX_SWEEPS)
        return snprintf(err, errlen, "--therm must be in 8..%ld (got %d): tau_int is measured there", LAT_MAX_SWEEPS, o->therm),
               false;
    if (o->spacing < 0 || o->spacing > LAT_MAX_SWEEPS)
        return snprintf(err, errlen, "--spacing must be in 0..%ld (got %d)", LAT_MAX_SWEEPS, o->spacing), false;
    if (!(o->tau_factor > 0) || o->tau_factor > 1000) return snprintf(err, errlen, "--tau-factor must be in (0, 1000]"), false;
    if (o->viol_steps < 0) return snprintf(err, errlen, "--viol-steps must be >= 0"), false;
    if (o->task != LAT_TASK_REGRESSION) {
        if (o->nworms < 1) return snprintf(err, errlen, "--worms needs at least one value"), false;
        for (int i = 0; i < o->nworms; i++) {
            int K = o->worms[i], lo = o->task == LAT_TASK_DETECT ? 1 : 0;
            if (K < lo || K > LAT_GEN_MAX_K)
                return snprintf(err, errlen, "--worms %d: must be in %d..%d for task %s", K, lo, LAT_GEN_MAX_K,
                                lat_task_name(o->task)),
                       false;
            if (2 * K > o->nt * o->nx)
                return snprintf(err, errlen, "--worms %d: %d open worms need %d distinct end sites, the %dx%d lattice has %d",
                                K, K, 2 * K, o->nt, o->nx, o->nt * o->nx),
                       false;
        }
    }
    for (int p = 0; p < o->npoints; p++) {
        lat_point_cfg c = point_cfg(o, p, o->chains);
        if (!lat_point_validate(&c, err, errlen)) return false;
    }
    return check_sizes(o, err, errlen);
}

typedef struct {
    lat_sampler s;
    long count;
    int *label;          /* [count] K per configuration */
    double *series;      /* [2][chains][len]: n, phi2 over the second half of thermalization */
    int len;
    uint64_t (*stat0)[WORM_NSTAT]; /* per chain, when sampling starts */
    double seconds;
} gen_point;

static void shuffle(int *a, long n, uint64_t seed, int p) {
    uint32_t st[4];
    worm_rng_seed(st, 1, seed, LAT_STREAM_LABEL | (uint64_t)p << 24);
    worm_rng g = worm_rng_load(st, 1);
    for (long i = n - 1; i > 0; i--) {
        long j = (long)(((uint64_t)worm_rng_draw(&g) * (uint64_t)(i + 1)) >> 32);
        int t = a[i];
        a[i] = a[j], a[j] = t;
    }
}

static void make_labels(const lat_gen_opts *o, int p, int *lab, long n) {
    long nv = o->task == LAT_TASK_DETECT ? n / 2 : o->task == LAT_TASK_COUNT ? n : 0;
    for (long j = 0; j < n; j++) lab[j] = j < nv ? o->worms[j % o->nworms] : 0;
    shuffle(lab, n, o->seed, p);
}

static void chain_stats(const lat_sampler *s, int c, uint64_t out[WORM_NSTAT]) {
    lat_chain ch = lat_ensemble_chain(&s->ens, c);
    for (int i = 0; i < WORM_NSTAT; i++) out[i] = ch.stat[i * ch.stride];
}

/* The per-chain hooks of one block's kernel calls. */
typedef struct {
    const lat_gen_opts *o;
    gen_point *g;
    const lat_gen_point *q;
    lat_progress *prog;
    lat_hook_state hs;
    int block;
    int every;         /* sampling: the hook's period, a divisor of the spacing (progress, go-on checks) */
    int32_t *ck;       /* sampling: a chain copy for flux violations, the int16 export, site marks */
    int16_t *xb;
    uint8_t *mark;
    worm_rng vr[64];   /* sampling: each chain's violation stream */
} gen_ctx;

static bool gen_progress_hook(void *ctx, const worm_block *B, int lane, int n) {
    gen_ctx *x = ctx;
    lat_progress_add(x->prog, 1);
    return lat_hook_go_on(&x->hs);
}

/* The τ window (the last half of the thermalization): n and |φ|² after every sweep. */
static bool gen_tau_hook(void *ctx, const worm_block *B, int lane, int n) {
    gen_ctx *x = ctx;
    const gen_point *g = x->g;
    const int cc = x->block * g->s.ens.per + lane, C = g->s.cfg.nchains;
    lat_obs ob;
    lat_chain_measure(&g->s.g, g->s.wt, lat_ensemble_chain(&g->s.ens, cc), &ob);
    g->series[(size_t)cc * g->len + n - 1] = ob.n;
    g->series[((size_t)C + cc) * g->len + n - 1] = ob.phi2;
    lat_progress_add(x->prog, 1);
    return lat_hook_go_on(&x->hs);
}

/* Called every x->every sweeps (progress, and a stop when another block failed); at a multiple of
 * the spacing, sample i = n / spacing - 1 of a chain: configuration j = i*C + chain of the point, its
 * label and (with K > 0) its open worms, exported and stored.  Stops the chain after its last sample. */
static bool gen_sample_hook(void *ctx, const worm_block *B, int lane, int n) {
    gen_ctx *x = ctx;
    const lat_gen_opts *o = x->o;
    const gen_point *g = x->g;
    const lat_sampler *s = &g->s;
    const int C = s->cfg.nchains, V = s->g.v, outs = lat_task_outputs(o->task), cc = x->block * s->ens.per + lane;
    lat_progress_add(x->prog, x->every);
    if (n % x->q->spacing) return lat_hook_go_on(&x->hs);
    const long j = (long)(n / x->q->spacing - 1) * C + cc;
    if (!lat_hook_go_on(&x->hs) || j >= g->count) return false;
    const lat_chain ch = lat_ensemble_chain(&s->ens, cc);
    const int K = g->label[j];
    float *y = o->y + (x->q->offset + j) * outs;
    if (o->task == LAT_TASK_REGRESSION) {
        lat_obs ob;
        lat_chain_measure(&s->g, s->wt, ch, &ob);
        y[0] = (float)ob.n, y[1] = (float)ob.phi2;
    } else
        y[0] = o->task == LAT_TASK_DETECT ? (K > 0) : (float)K;
    bool good;
    if (K == 0) {
        good = lat_chain_check(&s->g, ch, true, 0, x->hs.err, sizeof x->hs.err) &&
               lat_chain_export_i16(&s->g, ch, x->xb, x->hs.err, sizeof x->hs.err);
    } else {
        int32_t *kk = x->ck, *ll = x->ck + 2 * V, *ff = x->ck + 4 * V;
        lat_chain_copy(&s->g, ch, kk, ll, ff);
        lat_chain one = {kk, ll, ff, NULL, NULL, 1};
        good = lat_insert_open_worms(&s->desc, kk, ll, ff, K, x->q->viol_steps, &x->vr[lane], x->mark, x->hs.err,
                                    sizeof x->hs.err) &&
               lat_chain_check(&s->g, one, false, K, x->hs.err, sizeof x->hs.err) &&
               lat_chain_export_i16(&s->g, one, x->xb, x->hs.err, sizeof x->hs.err);
    }
    if (good) good = o->store(o->ctx, x->q->offset + j, x->xb, x->hs.err, sizeof x->hs.err);
    if (!good) x->hs.bad = true;
    return good && j + C < g->count;
}

/* Per point: its sampler, labels and series, and what out[p] knows before sampling.  *nunits: the
 * blocks of all points (the units of parallel work). */
static bool setup_points(const lat_gen_opts *o, gen_point *gp, lat_gen_point *out, lat_wtable_cache *cache, int *nunits,
                         char *err, size_t errlen) {
    const int V = o->nt * o->nx;
    long offset = 0;
    *nunits = 0;
    for (int p = 0; p < o->npoints; p++) {
        gen_point *g = &gp[p];
        if (!point_on(o, p)) {
            offset += point_count(o, p);
            continue;
        }
        g->count = point_count(o, p);
        int chains = o->chains < g->count ? o->chains : (int)g->count;
        lat_point_cfg c = point_cfg(o, p, chains);
        const lat_wtable *wt = lat_wtable_get(cache, c.eta, c.lambda, c.fmax, err, errlen);
        if (!wt || !lat_sampler_init(&g->s, &c, wt, err, errlen)) return false;
        g->len = o->therm - o->therm / 2;
        g->label = malloc(sizeof(int) * g->count);
        g->series = malloc(sizeof(double) * 2 * chains * g->len);
        g->stat0 = calloc(chains, sizeof *g->stat0);
        if (!g->label || !g->series || !g->stat0) return snprintf(err, errlen, "out of memory"), false;
        make_labels(o, p, g->label, g->count);
        memset(&out[p], 0, sizeof out[p]);
        out[p].eta = c.eta, out[p].lambda = c.lambda, out[p].mu = c.mu;
        out[p].count = g->count, out[p].offset = offset, out[p].chains = chains;
        out[p].viol_steps = o->viol_steps > 0 ? o->viol_steps : lat_viol_steps_default(V);
        for (long j = 0; j < g->count; j++) out[p].kcount[g->label[j]]++;
        offset += g->count;
        *nunits += g->s.ens.nblocks;
    }
    return true;
}

/* After the thermalization: τ_int of each point and the spacing of its samples; *total: the
 * sampling sweeps of all chains (for the progress line). */
static bool plan_sampling(const lat_gen_opts *o, gen_point *gp, lat_gen_point *out, long *total, char *err,
                          size_t errlen) {
    *total = 0;
    for (int p = 0; p < o->npoints; p++) {
        if (!point_on(o, p)) continue;
        gen_point *g = &gp[p];
        lat_gen_point *q = &out[p];
        const int C = g->s.cfg.nchains;
        lat_series_analyze(g->series, C, g->len, &q->n);
        lat_series_analyze(g->series + (size_t)C * g->len, C, g->len, &q->phi2);
        q->tau_int = q->n.tau > q->phi2.tau ? q->n.tau : q->phi2.tau;
        const double sp = o->spacing > 0 ? o->spacing : ceil(o->tau_factor * q->tau_int);
        q->spacing = sp >= 1 && sp <= LAT_MAX_SWEEPS ? (int)sp : 1; /* NaN too: refused below */
        q->worms_per_sweep = g->s.desc.worms_per_sweep;
        if (!(sp <= LAT_MAX_SWEEPS) || !sampling_sweeps_fit((g->count + C - 1) / C, q->spacing))
            return snprintf(err, errlen, "eta = %g, mu = %g: spacing %g sweeps (tau_int %g) x %ld samples per chain is "
                            "more than %ld sweeps; use more --chains, a smaller --count or a fixed --spacing",
                            g->s.cfg.eta, g->s.cfg.mu, sp, q->tau_int, (long)((g->count + C - 1) / C), LAT_MAX_SWEEPS),
                   false;
        *total += (long)C * q->spacing * ((g->count + C - 1) / C);
    }
    return true;
}

/* Thermalization of block b: phase 0 the calibration sweeps, phase 1 the rest with the τ series. */
static bool block_therm(gen_ctx *x, int phase, char *e, size_t elen) {
    const lat_gen_opts *o = x->o;
    lat_sampler *s = &x->g->s;
    const int ncal = lat_sampler_calibration_sweeps(s, o->therm), half = o->therm / 2;
    const worm_hook progress = {1, gen_progress_hook, x}, tau = {1, gen_tau_hook, x};
    if (phase == 0) return lat_sampler_sweeps(s, x->block, ncal, &progress, e, elen);
    return lat_sampler_sweeps(s, x->block, half - ncal, &progress, e, elen) &&
           lat_sampler_sweeps(s, x->block, o->therm - half, &tau, e, elen);
}

/* Sampling of block b: each chain's violation stream and counters at the start, then its samples. */
static bool block_sample(gen_ctx *x, int p, char *e, size_t elen) {
    const lat_gen_opts *o = x->o;
    gen_point *g = x->g;
    lat_sampler *s = &g->s;
    const int b = x->block, V = o->nt * o->nx;
    worm_block *B = &s->ens.blocks[b];
    const int W = s->ens.per, C = s->cfg.nchains; /* the block's first chain is b * W */
    x->ck = malloc(sizeof(int32_t) * 5 * V);
    x->xb = malloc(sizeof(int16_t) * 4 * V);
    x->mark = malloc((size_t)V);
    bool good = x->ck && x->xb && x->mark && B->active <= 64;
    if (!good) snprintf(e, elen, "out of memory");
    for (int c = 0; good && c < B->active; c++) {
        uint32_t st[4];
        worm_rng_seed(st, 1, o->seed, LAT_STREAM_VIOL | (uint64_t)p << 24 | (uint64_t)(b * W + c));
        x->vr[c] = worm_rng_load(st, 1);
        chain_stats(s, b * W + c, g->stat0[b * W + c]);
    }
    /* every chain stops at its last sample (the hook says so), so its counters at the end are
     * those of its sampling sweeps, whatever the block width */
    const long nmax = (g->count - b * W + C - 1) / C; /* samples of the block's first chain */
    /* a long spacing is cut into hook periods of at most 1024 sweeps (a divisor of it), so progress
     * and a failure elsewhere are seen between samples; the samples are the same */
    x->every = x->q->spacing;
    for (int d = 1024; x->every > 1024 && d >= 1; d--)
        if (x->q->spacing % d == 0) x->every = d;
    const worm_hook sample = {x->every, gen_sample_hook, x};
    if (good) good = lat_sampler_sweeps(s, b, (int)(nmax * x->q->spacing), &sample, e, elen);
    free(x->ck), free(x->xb), free(x->mark);
    return good;
}

/* One phase over every (point, block) unit in parallel; false with the first failure in err. */
static bool run_phase(const lat_gen_opts *o, gen_point *gp, lat_gen_point *out, const int *units, int nunits, int phase,
                      lat_progress *prog, char *err, size_t errlen) {
    const int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    int failed = 0;
    char ferr[320] = "";
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int u = 0; u < nunits; u++) {
        const int p = units[2 * u], b = units[2 * u + 1];
        gen_point *g = &gp[p];
        char e[256] = "";
        double t0 = lat_now();
        /* one kernel call per stretch of sweeps (the lanes stay busy); the hook does the
         * per-sweep work of every chain */
        gen_ctx x = {.o = o, .g = g, .q = &out[p], .prog = prog, .hs = {.failed = &failed}, .block = b};
        bool good = phase < 2 ? block_therm(&x, phase, e, sizeof e) : block_sample(&x, p, e, sizeof e);
        good = lat_hook_result(&x.hs, good, e, sizeof e);
        double dt = lat_now() - t0;
#pragma omp atomic
        g->seconds += dt;
        if (!good) {
#pragma omp critical(lb_generate_err)
            if (!failed) {
                snprintf(ferr, sizeof ferr, "eta = %g, mu = %g: %s", g->s.cfg.eta, g->s.cfg.mu, e);
                failed = 1;
            }
        }
    }
    if (failed) snprintf(err, errlen, "%s", ferr);
    return !failed;
}

/* Acceptance rates and worm length of each point over its sampling sweeps. */
static void finish_points(const lat_gen_opts *o, gen_point *gp, lat_gen_point *out) {
    for (int p = 0; p < o->npoints; p++) {
        if (!point_on(o, p)) continue;
        gen_point *g = &gp[p];
        uint64_t d[WORM_NSTAT] = {0};
        for (int c = 0; c < g->s.cfg.nchains; c++) {
            uint64_t now[WORM_NSTAT];
            chain_stats(&g->s, c, now);
            for (int i = 0; i < WORM_NSTAT; i++) d[i] += now[i] - g->stat0[c][i];
        }
        out[p].acc_worm = d[WORM_STAT_HEAD_PROP] ? (double)d[WORM_STAT_HEAD_ACC] / d[WORM_STAT_HEAD_PROP] : 0;
        out[p].acc_l = d[WORM_STAT_L_PROP] ? (double)d[WORM_STAT_L_ACC] / d[WORM_STAT_L_PROP] : 0;
        out[p].worm_len = d[WORM_STAT_WORMS] ? (double)d[WORM_STAT_HEAD_ACC] / d[WORM_STAT_WORMS] : 0;
        out[p].seconds = g->seconds;
    }
}

/* The three phases: calibration (0), the rest of the thermalization with the τ series (1), and
 * sampling (2). */
static bool run_phases(const lat_gen_opts *o, gen_point *gp, lat_gen_point *out, const int *units, int nunits,
                       char *err, size_t errlen) {
    lat_progress prog;
    long total = 0;
    for (int p = 0; p < o->npoints; p++) total += (long)gp[p].s.cfg.nchains * o->therm;
    lat_progress_start(&prog, total, "thermalizing", o->progress);
    bool ok = run_phase(o, gp, out, units, nunits, 0, &prog, err, errlen);
    if (ok)
        for (int p = 0; p < o->npoints; p++)
            if (point_on(o, p)) lat_sampler_calibrate(&gp[p].s);
    ok = ok && run_phase(o, gp, out, units, nunits, 1, &prog, err, errlen);
    lat_progress_end(&prog);
    if (!ok || !plan_sampling(o, gp, out, &total, err, errlen)) return false;
    lat_progress_start(&prog, total, "sampling", o->progress);
    ok = run_phase(o, gp, out, units, nunits, 2, &prog, err, errlen);
    lat_progress_end(&prog);
    return ok;
}

bool lat_generate(const lat_gen_opts *o, lat_gen_point *out, char *err, size_t errlen) {
    if (!lat_generate_check(o, err, errlen)) return false;
    const int P = o->npoints;
    lat_wtable_cache own = {.threads = o->threads > 0 ? o->threads : omp_get_max_threads()};
    lat_wtable_cache *cache = o->cache ? o->cache : &own;
    gen_point *gp = calloc(P, sizeof *gp);
    int nunits = 0, *units = NULL;
    bool ok = gp != NULL;
    if (!ok) snprintf(err, errlen, "out of memory");
    ok = ok && setup_points(o, gp, out, cache, &nunits, err, errlen);
    if (ok) {
        units = malloc(sizeof(int) * 2 * (nunits ? nunits : 1));
        if (!units) ok = false, snprintf(err, errlen, "out of memory");
    }
    for (int p = 0, u = 0; ok && p < P; p++)
        for (int b = 0; b < gp[p].s.ens.nblocks; b++) units[2 * u] = p, units[2 * u + 1] = b, u++;
    ok = ok && run_phases(o, gp, out, units, nunits, err, errlen);
    if (ok) finish_points(o, gp, out);
    for (int p = 0; gp && p < P; p++) {
        free(gp[p].label), free(gp[p].series), free(gp[p].stat0);
        if (point_on(o, p)) lat_sampler_free(&gp[p].s);
    }
    free(gp);
    free(units);
    lat_wtable_cache_free(&own);
    return ok;
}

/* The worm's problems for `latbench tune` (tune.h): every variant under the cap runs the same chains
 * (a sampler per variant, the same seed and streams), is thermalized as a real run is (sweeps,
 * calibration of the worms per sweep, sweeps), and must then hold every chain bit for bit as the
 * scalar reference does (k, l, f, random state, counters) to be a candidate.  A call of a timed
 * candidate is sweeps_per_call(level) sweeps of every chain, blocks shared among the threads as
 * lat_measure does.
 * A variant with a parameter table (kernels/worm/worm.h) is also tried at half and a quarter of
 * its lanes per block (chains_per_block: more, smaller blocks for the threads to share). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arch/registry.h"
#include "lib/lattice/lattice.h"
#include "lib/lattice/sampler.h"
#include "lib/lattice/wtable.h"
#include "tools/tune/tune.h"

#define TUNE_ETA 4.01
#define TUNE_LAMBDA 1.0
#define TUNE_SEED 20261207u
#define MAX_VARIANTS 8
#define MAX_CANDS (3 * MAX_VARIANTS)

typedef struct {
    lat_sampler s;
    int threads, sweeps; /* sweeps per timed call */
    bool live;
    const worm_ops *ops;
    lb_params params;
    char label[64];   /* "avx512" or "avx512 chains_per_block=8" */
} worm_cand;

/* Sweeps per timed kernel call, by level.  A SIMD block's lanes all wait for its slowest chain at the
 * end of a call, so short calls charge the SIMD variants a wait that real runs (generate and observe
 * call the kernel for 1000-10000 sweeps at a time) hardly pay: at 60x4, mu 1, the AVX-512 lanes do
 * work 19 % of the time in 1-sweep calls, 66 % in 32-sweep, 90 % in 1024-sweep ones (`latbench
 * bench`'s lane_efficiency_*), and 1-sweep timing chose the scalar worm for 16 chains where it is
 * 2.2x slower end to end.  Longer calls are closer to real runs and cost tuning time in proportion:
 * quick keeps its two minutes with 32, measure takes 256, patient 1024. */
static int sweeps_per_call(tune_level level) { return level == TUNE_QUICK ? 32 : level == TUNE_MEASURE ? 256 : 1024; }

static void sweep_all(void *ctx) {
    worm_cand *w = ctx;
    lat_sampler *s = &w->s;
#pragma omp parallel for schedule(dynamic, 1) num_threads(w->threads)
    for (int b = 0; b < s->ens.nblocks; b++) s->cfg.ops->sweep(&s->desc, &s->ens.blocks[b], w->sweeps, NULL);
}

/* Thermalization of one candidate: as lat_measure does it, shortened. */
static void thermalize(worm_cand *w, tune_level level) {
    lat_sampler *s = &w->s;
    const int n = level == TUNE_QUICK ? 60 : level == TUNE_MEASURE ? 200 : 400;
    for (int b = 0; b < s->ens.nblocks; b++) s->cfg.ops->sweep(&s->desc, &s->ens.blocks[b], n, NULL);
    lat_sampler_calibrate(s);
    for (int b = 0; b < s->ens.nblocks; b++) s->cfg.ops->sweep(&s->desc, &s->ens.blocks[b], n, NULL);
}

/* Whether every chain of a equals the same chain of ref bit for bit. */
static bool same_chains(const lat_sampler *a, const lat_sampler *ref) {
    const int v = a->g.v;
    for (int c = 0; c < a->cfg.nchains; c++) {
        const lat_chain x = lat_ensemble_chain(&a->ens, c), y = lat_ensemble_chain(&ref->ens, c);
        for (int i = 0; i < 2 * v; i++)
            if (x.k[i * x.stride] != y.k[i * y.stride] || x.l[i * x.stride] != y.l[i * y.stride]) return false;
        for (int i = 0; i < v; i++)
            if (x.f[i * x.stride] != y.f[i * y.stride]) return false;
        for (int i = 0; i < 4; i++)
            if (x.rng[i * x.stride] != y.rng[i * y.stride]) return false;
        for (int i = 0; i < WORM_NSTAT; i++)
            if (x.stat[i * x.stride] != y.stat[i * y.stride]) return false;
    }
    return true;
}

/* The candidates: every variant usable under the cap, the dispatched table in place of its own row
 * (so the test slowdown applies); def = the dispatch default's index, ref = the scalar's. */
static int list_variants(const worm_ops **ops, int *def, int *ref) {
    const lb_dispatch *d = lb_dispatch_get();
    int n, k = 0;
    const worm_ops *v = lb_worm_variants(&n);
    *def = *ref = -1;
    for (int i = 0; i < n && k < MAX_VARIANTS; i++) {
        if (!lb_isa_usable(&d->cpu, d->cap, v[i].isa)) continue;
        const bool is_def = !strcmp(v[i].name, d->worm->name);
        if (is_def) *def = k;
        if (v[i].isa == LB_ISA_SCALAR) *ref = k;
        ops[k++] = is_def ? d->worm : &v[i];
    }
    return k;
}

static void put_name(char *buf, size_t len, const char *name) {
    const size_t at = strlen(buf);
    if (at < len) snprintf(buf + at, len - at, "%s%s", at ? "," : "", name);
}

/* Every variant at its defaults, then those with a chains_per_block parameter at lanes/2 and
 * lanes/4 (when that is a new value >= 1): the candidates' ops, params and labels into w. */
static int list_cands(const worm_ops *const *ops, int n, worm_cand *w) {
    int k = 0;
    for (int i = 0; i < n; i++) w[k].ops = ops[i], snprintf(w[k].label, sizeof w[k].label, "%s", ops[i]->name), k++;
    for (int i = 0; i < n; i++) {
        if (ops[i]->nparams <= WORM_CHAINS_PER_BLOCK) continue;
        for (int d = 2; d <= 4; d *= 2) {
            const int per = ops[i]->lanes / d;
            if (per < 1 || per >= ops[i]->lanes || (d == 4 && per == ops[i]->lanes / 2)) continue;
            w[k].ops = ops[i];
            w[k].params.v[WORM_CHAINS_PER_BLOCK] = per;
            snprintf(w[k].label, sizeof w[k].label, "%s %s=%d", ops[i]->name, ops[i]->params[WORM_CHAINS_PER_BLOCK].name, per);
            k++;
        }
    }
    return k;
}

bool tune_worm(const tune_worm_problem *p, tune_level level, lb_profile_entry *e, tune_outcome *out, char *rejected,
               size_t rlen, char *err, size_t errlen) {
    const worm_ops *ops[MAX_VARIANTS];
    int def, ref;
    const int nv = list_variants(ops, &def, &ref);
    rejected[0] = 0;
    if (def < 0 || ref < 0) return snprintf(err, errlen, "no default or scalar worm variant under the cap"), false;
    lat_wtable wt;
    if (!lat_wtable_build(&wt, TUNE_ETA, TUNE_LAMBDA, LAT_FMAX_DEFAULT, err, errlen)) return false;
    worm_cand *w = calloc(MAX_CANDS, sizeof *w);
    const int n = w ? list_cands(ops, nv, w) : 0;
    tune_cand *c = calloc((size_t)n, sizeof *c);
    int *map = calloc((size_t)n, sizeof *map);
    bool ok = w && c && map;
    if (!ok) snprintf(err, errlen, "out of memory");
    for (int i = 0; ok && i < n; i++) {
        const lat_point_cfg pc = {.nt = p->nt, .nx = p->nx, .eta = TUNE_ETA, .lambda = TUNE_LAMBDA, .mu = p->mu,
                                 .nchains = p->chains, .seed = TUNE_SEED, .ops = w[i].ops, .params = w[i].params};
        ok = lat_sampler_init(&w[i].s, &pc, &wt, err, errlen);
        if (!ok) break;
        w[i].live = true;
        w[i].threads = p->threads, w[i].sweeps = sweeps_per_call(level);
        thermalize(&w[i], level);
    }
    int nc = 0, cdef = 0;
    for (int i = 0; ok && i < n; i++) {
        if (i != ref && !same_chains(&w[i].s, &w[ref].s)) {   /* a wrong variant is never a candidate */
            put_name(rejected, rlen, w[i].label);
            if (i == def) ok = false, snprintf(err, errlen, "the default %s differs from the scalar reference", w[i].label);
            continue;
        }
        if (i == def) cdef = nc;
        map[nc] = i;
        c[nc].name = w[i].label;
        c[nc].seq = (timing_seq){.name = w[i].label};
        timing_seq_add(&c[nc].seq, w[i].label, STEP_COMPUTE, sweep_all, &w[i]);
        nc++;
    }
    tune_outcome o = {0};
    if (ok && !(ok = tune_halving(c, nc, cdef, NULL, level, &o))) snprintf(err, errlen, "out of memory timing the candidates");
    if (ok) {
        memset(e, 0, sizeof *e);
        snprintf(e->op, sizeof e->op, "worm");
        e->pass = LB_PASS_FWD;
        lat_worm_problem_str(p->nt, p->nx, p->mu, p->chains, e->problem, sizeof e->problem);
        e->isa = lb_dispatch_get()->cap;
        e->threads = p->threads;
        snprintf(e->variant, sizeof e->variant, "%s", w[map[o.winner]].ops->name);
        e->params = w[map[o.winner]].params;
        e->time_s = o.chosen.q1;
        e->default_time_s = o.def.q1;
        e->speedup = e->time_s > 0 ? e->default_time_s / e->time_s : 1.0;
        e->spread = o.spread;
        *out = o;
        if (o.challenger >= 0) snprintf(out->chal_label, sizeof out->chal_label, "%s", w[map[o.challenger]].label);
        out->chal_name = o.challenger >= 0 ? out->chal_label : NULL;
    }
    for (int i = 0; w && i < n; i++)
        if (w[i].live) lat_sampler_free(&w[i].s);
    free(w);
    free(c);
    free(map);
    lat_wtable_free(&wt);
    return ok;
}

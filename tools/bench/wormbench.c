#include "tools/bench/wormbench.h"
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "arch/registry.h"
#include "lib/lattice/sampler.h"

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static uint64_t stat_sum(const lat_sampler *s, int which) {
    uint64_t t = 0;
    for (int c = 0; c < s->cfg.nchains; c++) {
        lat_chain ch = lat_ensemble_chain(&s->ens, c);
        t += ch.stat[which * ch.stride];
    }
    return t;
}

/* Runs sweeps on every block (threads over blocks) until `seconds` of wall time; returns the
 * sweeps per chain done, the summed CPU time and the wall time. */
static long timed(lat_sampler *s, int threads, double seconds, double *cpu, double *wall) {
    long sweeps = 0;
    int chunk = 1;
    double w0 = lat_now(), csum = 0;
    while (lat_now() - w0 < seconds) {
        double c = 0;
#pragma omp parallel for schedule(static) num_threads(threads) reduction(+ : c)
        for (int b = 0; b < s->ens.nblocks; b++) {
            double t0 = cpu_now();
            s->cfg.ops->sweep(&s->desc, &s->ens.blocks[b], chunk, NULL);
            c += cpu_now() - t0;
        }
        csum += c;
        sweeps += chunk;
        if (lat_now() - w0 < seconds / 20) chunk *= 2;
    }
    *wall = lat_now() - w0;
    *cpu = csum;
    return sweeps;
}

/* Lane efficiency: the share of lane-updates doing work.  A call first runs the l pass of every lane
 * in lock step (no idle lane); after it each lane makes its own updates (head steps and, in later
 * sweeps of the call, its own l updates) and the call lasts as long as its busiest lane, so per
 * call and block it is sum(u + 2V) / (lanes * (max u + 2V)), u = a lane's updates after the first
 * pass.  Measured (untimed) on `n` calls of `chunk` sweeps; 1 for one lane. */
static double lane_efficiency(lat_sampler *s, int n, int chunk) {
    if (s->cfg.ops->lanes == 1) return 1.0;
    const double pass = 2.0 * s->g.v;
    double used = 0, slots = 0;
    for (int b = 0; b < s->ens.nblocks; b++) {
        worm_block *B = &s->ens.blocks[b];
        const int W = B->lanes, A = B->active < 64 ? B->active : 64;
        for (int i = 0; i < n; i++) {
            uint64_t before[64];
            double mx = 0;
            for (int c = 0; c < A; c++)
                before[c] = B->stat[WORM_STAT_HEAD_PROP * W + c] + B->stat[WORM_STAT_L_PROP * W + c];
            s->cfg.ops->sweep(&s->desc, B, chunk, NULL);
            for (int c = 0; c < A; c++) {
                double u = (double)(B->stat[WORM_STAT_HEAD_PROP * W + c] + B->stat[WORM_STAT_L_PROP * W + c] - before[c]) - pass;
                used += u + pass;
                if (u > mx) mx = u;
            }
            slots += (mx + pass) * W;
        }
    }
    return slots > 0 ? used / slots : 1.0;
}

bool bench_worm_setup(const bench_worm_cfg *c, bench_worm_sampler *w, char *err, size_t errlen) {
    const worm_ops *ops = c->ops ? c->ops : lb_dispatch_get()->worm;
    const int threads = c->threads > 0 ? c->threads : 1, bpt = c->blocks_per_thread > 0 ? c->blocks_per_thread : 1;
    if (!lat_wtable_build(&w->wt, c->eta, c->lambda, LAT_FMAX_DEFAULT, err, errlen)) return false;
    lat_point_cfg p = {.nt = c->nt, .nx = c->nx, .eta = c->eta, .lambda = c->lambda, .mu = c->mu,
                      .nchains = threads * bpt * ops->lanes, .seed = 12345, .ops = ops};
    lat_sampler *s = &w->s;
    if (!lat_sampler_init(s, &p, &w->wt, err, errlen)) {
        lat_wtable_free(&w->wt);
        return false;
    }
    for (int b = 0; b < s->ens.nblocks; b++) s->cfg.ops->sweep(&s->desc, &s->ens.blocks[b], 200, NULL);
    lat_sampler_calibrate(s);
    for (int b = 0; b < s->ens.nblocks; b++) s->cfg.ops->sweep(&s->desc, &s->ens.blocks[b], 300, NULL);
    return true;
}

void bench_worm_free(bench_worm_sampler *w) {
    lat_sampler_free(&w->s);
    lat_wtable_free(&w->wt);
}

bool bench_worm_throughput(const bench_worm_cfg *c, bench_worm_result *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    const int threads = c->threads > 0 ? c->threads : 1;
    bench_worm_sampler w;
    if (!bench_worm_setup(c, &w, err, errlen)) return false;
    lat_sampler *s = &w.s;
    const int wps = s->desc.worms_per_sweep;
    const int C = s->cfg.nchains;
    double cpu_l, wall_l, cpu_f, wall_f;
    s->desc.worms_per_sweep = 0;
    long n_l = timed(s, threads, c->seconds, &cpu_l, &wall_l);
    s->desc.worms_per_sweep = wps;
    uint64_t h0 = stat_sum(s, WORM_STAT_HEAD_PROP);
    long n_f = timed(s, threads, c->seconds, &cpu_f, &wall_f);
    uint64_t heads = stat_sum(s, WORM_STAT_HEAD_PROP) - h0;
    const double lper = 2.0 * s->g.v;
    const double l_time_per_sweep = cpu_l / ((double)n_l * C); /* CPU seconds per chain-sweep of the l pass */
    const double worm_cpu = cpu_f - l_time_per_sweep * (double)n_f * C;
    r->l_per_s_core = lper / l_time_per_sweep;
    r->sweeps_per_s_core = (double)n_f * C / cpu_f;
    r->head_per_s_core = worm_cpu > 0 ? heads / worm_cpu : 0;
    r->updates_per_s_core = ((double)heads + lper * (double)n_f * C) / cpu_f;
    r->sweeps_per_s_wall = (double)n_f * C / wall_f;
    r->head_per_sweep = (double)heads / ((double)n_f * C);
    r->worms_per_sweep = wps;
    r->lane_efficiency = lane_efficiency(s, 100, 1);
    r->lane_efficiency_32 = lane_efficiency(s, 8, 32);
    r->lane_efficiency_1024 = lane_efficiency(s, 2, 1024);
    r->chains = C;
    r->sweeps = n_f;
    r->wall_s = wall_f;
    r->cpu_s = cpu_f;
    r->kernel = s->cfg.ops->name;
    bench_worm_free(&w);
    return true;
}

/* Throughput of a worm kernel variant (for `latbench bench` and the notes): sweeps, worm head
 * moves and l-link updates per second.  Chains: `threads` x `blocks_per_thread` blocks of the
 * variant's lane width; each thread updates its own blocks.  Rates per core use each thread's CPU
 * time (robust on a shared machine); the wall-clock rate is the aggregate.  The l rate is timed on
 * sweeps without worms; the head-move rate on the remaining time of full sweeps. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "kernels/worm/worm.h"
#include "lib/lattice/sampler.h"

typedef struct {
    int nt, nx;
    double eta, lambda, mu;
    int threads, blocks_per_thread;
    double seconds;          /* target duration of each timed phase */
    const worm_ops *ops;     /* NULL: dispatched */
} bench_worm_cfg;

typedef struct {
    double sweeps_per_s_core, head_per_s_core, l_per_s_core; /* per core (CPU time) */
    double sweeps_per_s_wall;                                /* all threads together */
    double updates_per_s_core; /* head proposals + l proposals of full sweeps per CPU second: the
                                * end-to-end rate of elementary updates, whatever the worm count */
    double head_per_sweep;                                   /* head proposals per sweep per chain */
    /* busy lane-updates / all, in calls of 1, 32 and 1024 sweeps (observe and generate make one
     * call per phase: thousands of sweeps) */
    double lane_efficiency, lane_efficiency_32, lane_efficiency_1024;
    int worms_per_sweep, chains;
    /* the timed full sweeps: how many (each a sweep of every chain), their wall time and their CPU
     * time summed over the team's threads, in seconds */
    long sweeps;
    double wall_s, cpu_s;
    const char *kernel;
} bench_worm_result;

bool bench_worm_throughput(const bench_worm_cfg *c, bench_worm_result *r, char *err, size_t errlen);

/* A sampler ready to be timed, set up one way for bench and bench --gbench: the weight table of
 * (eta, lambda), threads x blocks_per_thread blocks of chains of the point (seed 12345), thermalized
 * with the automatic worms per sweep as a real run is (200 sweeps, calibrate, 300 sweeps).  False
 * with the reason in err (nothing left to free); else free with bench_worm_free. */
typedef struct {
    lat_wtable wt;
    lat_sampler s;
} bench_worm_sampler;

bool bench_worm_setup(const bench_worm_cfg *c, bench_worm_sampler *w, char *err, size_t errlen);
void bench_worm_free(bench_worm_sampler *w);

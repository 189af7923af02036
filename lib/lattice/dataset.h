/* Datasets of the three tasks (docs/design.md §3, §7), sampled in memory and handed to a store callback.
 *
 * Points: (eta_p, lambda_p, mu_p), p = 0..npoints-1; `count` configurations in all, split evenly
 * (the first count % npoints points get one more).  At each point, `chains` chains (at most its
 * count) run: `therm` thermalization sweeps (the first quarter calibrates an auto worm count), the
 * last half of which measure τ_int of n and |φ|²; stored configurations are then spaced by
 * spacing = max(1, ceil(tau_factor · max(τ_int(n), τ_int(|φ|²)))) sweeps (or the fixed --spacing).
 * Configuration j of a point (index offset_p + j in the dataset) is sample j / C of chain j % C,
 * taken after therm + (j / C + 1) · spacing sweeps of that chain.
 *
 * Labels (lib/lattice/violations.h defines a violation):
 *   regression  y = [n, |φ|²] of the configuration (its own estimators), no violations
 *   detect      half the configurations of each point (floor) get K ≥ 1 open worms, K taken in
 *               turn from `worms`; y = [K > 0]
 *   count       K taken in turn from `worms` (0 allowed); y = [K]
 * The K of each configuration is assigned by a seeded shuffle per point, so labels do not follow
 * chains.  Everything depends only on (seed, point index, chain index): the same seed gives the same
 * dataset for any thread count and any kernel variant.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/lattice/sampler.h"

#define LB_GEN_MAX_K 64
/* x.npy (int16 [N,4,NT,NX]) of at most this many bytes. */
#define LB_GEN_MAX_X_BYTES (1LL << 40)

typedef enum { LB_TASK_REGRESSION = 1, LB_TASK_DETECT = 2, LB_TASK_COUNT = 3 } lb_task;
const char *lb_task_name(lb_task t);
int lb_task_outputs(lb_task t);

typedef struct {
    lb_task task;
    int nt, nx;
    int npoints;
    const double *eta, *lambda, *mu; /* [npoints] */
    int nworms;
    const int *worms;                /* K values (detect: 1..; count: 0..), at most LB_GEN_MAX_K */
    long count;
    int chains, threads, therm, spacing, worms_per_sweep, fmax, viol_steps;
    double tau_factor;
    uint64_t seed;
    const worm_ops *ops;             /* NULL: dispatched */
    bool progress;
    /* output: x through the callback (called concurrently, distinct indices), y into memory */
    bool (*store)(void *ctx, long index, const int16_t *x, char *err, size_t errlen);
    void *ctx;
    float *y;                        /* [count][lb_task_outputs(task)] */
} lb_gen_opts;

typedef struct {
    double eta, lambda, mu;
    long count, offset;
    int chains, spacing, worms_per_sweep, viol_steps;
    lb_series_stats n, phi2;         /* over the second half of the thermalization */
    double tau_int;
    double acc_worm, acc_l, worm_len; /* over the sampling sweeps */
    long kcount[LB_GEN_MAX_K + 1];   /* configurations per K */
    double seconds;
} lb_gen_point;

/* Validates the options (one-line reason in err, nothing sampled). */
bool lb_generate_check(const lb_gen_opts *o, char *err, size_t errlen);
/* out: [npoints]. */
bool lb_generate(const lb_gen_opts *o, lb_gen_point *out, char *err, size_t errlen);

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

#define LAT_GEN_MAX_K 64
/* x.npy (int16 [N,4,NT,NX]) of at most this many bytes. */
#define LAT_GEN_MAX_X_BYTES (1LL << 40)

typedef enum { LAT_TASK_REGRESSION = 1, LAT_TASK_DETECT = 2, LAT_TASK_COUNT = 3 } lat_task;
const char *lat_task_name(lat_task t);
int lat_task_outputs(lat_task t);

typedef struct {
    lat_task task;
    int nt, nx;
    int npoints;
    const double *eta, *lambda, *mu; /* [npoints] */
    int nworms;
    const int *worms;                /* K values (detect: 1..; count: 0..), at most LAT_GEN_MAX_K */
    long count;
    int chains, threads, therm, spacing, worms_per_sweep, fmax, viol_steps;
    double tau_factor;
    uint64_t seed;
    const worm_ops *ops;             /* NULL: dispatched */
    lb_params params;                /* ops' tuning parameters (lat_point_cfg.params; all 0: defaults) */
    int progress;   /* a lat_progress_mode (lib/lattice/sampler.h; true: auto) */
    /* output: x through the callback (called concurrently, distinct indices), y into memory */
    bool (*store)(void *ctx, long index, const int16_t *x, char *err, size_t errlen);
    void *ctx;
    float *y;                        /* [count][lat_task_outputs(task)] */
    /* a part of the dataset (the ranks of an MPI run): only the points p with only[p] != 0 are
     * sampled (their configurations stored, their y rows and out[p] set; the other points' out[p]
     * are left as they are); NULL: every point.  A point's bytes do not depend on the others. */
    const unsigned char *only;       /* [npoints] or NULL */
    lat_wtable_cache *cache;         /* W tables kept across runs (parts of one dataset); NULL: the run's own */
} lat_gen_opts;

/* The bytes of one configuration in x.npy (int16 [4][nt][nx]). */
static inline size_t lat_gen_config_bytes(const lat_gen_opts *o) { return sizeof(int16_t) * 4 * (size_t)o->nt * o->nx; }

typedef struct {
    double eta, lambda, mu;
    long count, offset;
    int chains, spacing, worms_per_sweep, viol_steps;
    lat_series_stats n, phi2;         /* over the second half of the thermalization */
    double tau_int;
    double acc_worm, acc_l, worm_len; /* over the sampling sweeps */
    long kcount[LAT_GEN_MAX_K + 1];   /* configurations per K */
    double seconds;
} lat_gen_point;

/* Validates the options (one-line reason in err, nothing sampled). */
bool lat_generate_check(const lat_gen_opts *o, char *err, size_t errlen);
/* The rows of point p in the dataset: configurations offset .. offset + count - 1. */
void lat_generate_point_rows(const lat_gen_opts *o, int p, long *offset, long *count);
/* out: [npoints]. */
bool lat_generate(const lat_gen_opts *o, lat_gen_point *out, char *err, size_t errlen);

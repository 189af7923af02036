/* The sampler driver: one parameter point = one lattice, (η, λ, μ), and nchains independent chains
 * updated by a worm kernel variant (kernels/worm/worm.h).  Chains of a point are grouped in blocks
 * of the variant's lane width (chains_per_block of them in use, a tuning parameter); threads
 * (OpenMP) take whole blocks, so results never depend on the
 * thread count.  Chain c of point p uses the random stream (seed, LAT_STREAM_CHAIN | p << 24 | c).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/lattice/lattice.h"
#include "lib/lattice/stats.h"
#include "lib/lattice/wtable.h"

/* Stream namespaces (bits 56..63 of the stream id): the chains' own streams, the flux-violation
 * inserter's, and the dataset label shuffle's never coincide. */
#define LAT_STREAM_CHAIN (0ull << 56)
#define LAT_STREAM_VIOL (1ull << 56)
#define LAT_STREAM_LABEL (2ull << 56)

/* Worms per sweep.  "auto" (worms_per_sweep = 0, the default): the first quarter of the
 * thermalization runs LAT_WPS_CALIBRATION worms per sweep and measures the mean head proposals per
 * worm h over all chains of the point; from then on a sweep has round(4V / h) worms (1 .. 4V), so
 * the worms propose about 4V head moves per sweep (the l pass makes 2V proposals, each about half
 * as costly).  That rule is within ~20% of the best cost per independent configuration on 8x8,
 * 60x4 and 32x32 at mu = 0.5 .. 1.5 (docs/worm.md).
 * With no thermalization, auto means LAT_WPS_CALIBRATION. */
#define LAT_WPS_CALIBRATION 8

typedef struct {
    int nt, nx;
    double eta, lambda, mu;
    int worms_per_sweep;   /* 0: auto (above) */
    int fmax;              /* <= 0: LAT_FMAX_DEFAULT */
    int nchains;
    uint64_t seed;
    int point;             /* index of the point in its run (selects the random streams) */
    const worm_ops *ops;   /* NULL: lat_point_worm (the tuning profile's, else the dispatched) */
    lb_params params;      /* ops' tuning parameters (kernels/worm/worm.h; all 0: its defaults); with ops
                              NULL the profile entry's.  They never change a chain, only the speed */
} lat_point_cfg;

/* |mu| above this makes e^-|mu| underflow the normal float32 range of the kernel's acceptance
 * (worm_desc.emu): every larger mu would give the same chain, so it is refused. */
#define LAT_MU_MAX 87.0
/* An explicit worms_per_sweep above this many per site is refused: the auto rule uses at most 4
 * per site, so more only makes a run that never ends. */
#define LAT_WPS_MAX_PER_SITE 16
/* Sweeps in one phase of one chain (the kernels take an int; also bounds the run time). */
#define LAT_MAX_SWEEPS (1L << 30)
/* The chain states and measurement series of a run are held in memory at once: at most this. */
#define LAT_MAX_RUN_BYTES (16LL << 30)

/* Checks a configuration for bad input (lattice, λ = 0 stability, |mu|, worms per sweep, counts);
 * one-line reason. */
bool lat_point_validate(const lat_point_cfg *c, char *err, size_t errlen);

typedef struct {
    lat_point_cfg cfg;
    lat_lattice g;
    const lat_wtable *wt;   /* shared, not owned */
    lat_ensemble ens;
    worm_desc desc;
} lat_sampler;

/* Bytes of the chain state of one point (its ensemble blocks), in 64 bits; false on overflow. */
bool lat_point_state_bytes(const lat_point_cfg *c, int64_t *bytes);
/* Adds b to *total; false with a one-line reason in err past LAT_MAX_RUN_BYTES. */
bool lat_run_bytes_add(int64_t *total, int64_t b, char *err, size_t errlen);

/* The worm's problem descriptor in the tuning profile (arch/profile.h): "nt60_nx4_mu1_chains2". */
void lat_worm_problem_str(int nt, int nx, double mu, int nchains, char *buf, size_t len);
/* The worm variant a point with ops NULL runs: the applied tuning profile's choice for its problem
 * (nearest tuned shape, arch/profile.h) under the dispatch cap, else the dispatched variant.  Every
 * variant gives the same chains bit for bit, so this changes speed only. */
const worm_ops *lat_point_worm(const lat_point_cfg *c);
/* The same, and the chosen entry's tuning parameters into *params (all 0 without one). */
const worm_ops *lat_point_worm_params(const lat_point_cfg *c, lb_params *params);
bool lat_sampler_init(lat_sampler *s, const lat_point_cfg *cfg, const lat_wtable *wt, char *err, size_t errlen);
void lat_sampler_free(lat_sampler *s);
/* nsweeps sweeps on block b in one kernel call, with the optional per-chain hook of
 * kernels/worm/worm.h; false (err set) if a chain ran past the W table (fatal). */
bool lat_sampler_sweeps(lat_sampler *s, int b, int nsweeps, const worm_hook *hook, char *err, size_t errlen);
/* What the hooks of one block's kernel calls share (lat_measure, lat_generate): a hook that fails
 * sets bad and err; every chain stops once this block or another one (`failed`) has failed. */
typedef struct {
    const int *failed; /* set when another block failed */
    bool bad, stopped;
    char err[256];
} lat_hook_state;
/* In a hook: false (the chain stops) once this block or another one has failed. */
bool lat_hook_go_on(lat_hook_state *h);
/* After the calls: good unless a hook failed (its message into e) or the block was stopped. */
bool lat_hook_result(const lat_hook_state *h, bool good, char *e, size_t elen);

/* Sweeps of the calibration phase for `therm` thermalization sweeps (0 for a fixed worm count). */
int lat_sampler_calibration_sweeps(const lat_sampler *s, int therm);
/* Ends the calibration: sets the worms per sweep from every chain's counters (auto only). */
void lat_sampler_calibrate(lat_sampler *s);

/* A cache of W tables by (η, λ, fmax), so a scan builds each table once. */
typedef struct {
    int n, cap;
    lat_wtable **t;
    int threads;   /* builds a table on this many threads (lat_wtable_build_threads; 0: one) */
} lat_wtable_cache;
const lat_wtable *lat_wtable_get(lat_wtable_cache *c, double eta, double lambda, int fmax, char *err, size_t errlen);
void lat_wtable_cache_free(lat_wtable_cache *c);

/* Progress of a long run on stderr (shared by threads): a live bar on a terminal; otherwise (a log
 * file, a pipe) a line at every 10 % (after the first 2 s) and at least every 10 s, with the rate
 * and the time left, so a long run is never silent.  Work is counted at the callers' hooks. */
typedef struct {
    long total, done;      /* in sweeps x chains */
    int enabled;           /* 0 off, 1 bar, 2 lines (10 % marks after 2 s), 3 lines (every 10 % mark) */
    double t0, last;       /* start, last line printed (lines mode) */
    const char *label;
} lat_progress;
/* How progress shows: none (0, false), auto (1, true: a bar on a terminal, else lines), bar, lines. */
typedef enum { LAT_PROGRESS_NONE, LAT_PROGRESS_AUTO, LAT_PROGRESS_BAR, LAT_PROGRESS_LINES } lat_progress_mode;
void lat_progress_start(lat_progress *p, long total, const char *label, int mode);
void lat_progress_add(lat_progress *p, long n);
void lat_progress_end(lat_progress *p);
double lat_now(void);

/* ---- measurement runs (latbench observe, the tests) ---- */

typedef struct {
    lat_series_stats n, phi2, phi4, charge;
    double acc_worm, acc_l;  /* accepted / proposed head steps and l updates (measurement sweeps) */
    double worm_len;         /* mean accepted head moves per worm */
    double head_per_worm;    /* mean head proposals per worm */
    double tau_int;          /* max(τ_int(n), τ_int(|φ|²)), in sweeps */
    int worms_per_sweep;     /* the number used (after calibration) */
    uint64_t head_prop, l_prop; /* totals over every sweep of the run */
    double seconds;          /* wall time of this point's sweeps, summed over its blocks */
} lat_measure_result;

typedef struct {
    int therm, sweeps;     /* thermalization sweeps (discarded), measured sweeps (one measurement each) */
    int threads;           /* <= 0: OpenMP's default */
    bool check;            /* check the invariants after every sweep (tests) */
    int progress;          /* a lat_progress_mode (true: auto) */
    double **series;       /* optional: series[p] receives [4][nchains][sweeps] (n, phi2, phi4, charge) */
    lat_wtable_cache *cache; /* W tables kept across calls (one point per call); NULL: the call's own */
} lat_measure_opts;

/* Validates a measurement run (every point, the sweep counts, the memory of the chain states and
 * series together) without allocating; one-line reason in err. */
bool lat_measure_check(const lat_point_cfg *pts, int npts, const lat_measure_opts *o, char *err, size_t errlen);
bool lat_measure(const lat_point_cfg *pts, int npts, const lat_measure_opts *o, lat_measure_result *res, char *err,
                size_t errlen);

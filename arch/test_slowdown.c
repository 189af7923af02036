/* LATBENCH_TEST_SLOWDOWN=OP.PASS:F (read test_slowdown.h).  F in [1, 1000], integer or decimal:
 * the wrapped kernel runs floor(F) times per call (each run overwrites its outputs, so results
 * stay right), then, for a fractional part, busy-waits until the call has taken F times the mean
 * time of those runs: conv2d.fwd:1.10 is one run plus a spin of 10% of that run's measured time. */
#include "arch/test_slowdown.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The copies of the ops tables and the originals, set once with the dispatch table. */
static conv2d_ops g_slow_conv2d;
static pool_ops g_slow_pool;
static const conv2d_ops *g_orig_conv2d;
static const pool_ops *g_orig_pool;
static worm_ops g_slow_worm;
static const worm_ops *g_orig_worm;
static chain1x1_ops g_slow_chain1x1;
static const chain1x1_ops *g_orig_chain1x1;
static double g_factor;
static int g_runs;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs CALL floor(F) times, then spins out the fractional part of F. */
#define SLOWED(CALL)                                                                               \
    do {                                                                                           \
        const double t0 = now_s();                                                                 \
        for (int i = 0; i < g_runs; i++) CALL;                                                     \
        if (g_factor > g_runs) {                                                                   \
            const double end = t0 + (now_s() - t0) * g_factor / g_runs;                            \
            while (now_s() < end) {                                                                \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void slow_conv2d_fwd(const conv2d_desc *d, const float *in, const float *w, const float *bias, float *out) {
    SLOWED(g_orig_conv2d->fwd(d, in, w, bias, out));
}
static void slow_conv2d_bwd_data(const conv2d_desc *d, const float *gout, const float *wt, float *gin) {
    SLOWED(g_orig_conv2d->bwd_data(d, gout, wt, gin));
}
static void slow_conv2d_bwd_weights(const conv2d_desc *d, const float *in, const float *gout, float *gw, float *gb) {
    SLOWED(g_orig_conv2d->bwd_weights(d, in, gout, gw, gb));
}
static void slow_pool_fwd(const pool_desc *d, const float *in, float *out) { SLOWED(g_orig_pool->fwd(d, in, out)); }
static void slow_pool_bwd(const pool_desc *d, const float *in, const float *gout, float *gin) {
    SLOWED(g_orig_pool->bwd(d, in, gout, gin));
}

static void slow_chain1x1_fwd(const chain1x1_desc *d, const float *in, const float *const *w, const float *const *b,
                              float *out, const chain1x1_keep *keep) {
    SLOWED(g_orig_chain1x1->fwd(d, in, w, b, out, keep));
}

/* The worm's chains advance at every call, so its sweep runs once and the rest of F is spun. */
static void slow_worm_sweep(const worm_desc *d, worm_block *b, int nsweeps, const worm_hook *hook) {
    const double t0 = now_s();
    g_orig_worm->sweep(d, b, nsweeps, hook);
    const double end = t0 + (now_s() - t0) * g_factor;
    while (now_s() < end) {
    }
}

/* F: digits with at most one '.', at least one digit, 1 <= F <= 1000 (no signs, exponents, nan). */
static bool parse_factor(const char *s, double *f) {
    size_t digits = 0, dots = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9') digits++;
        else if (*p == '.') dots++;
        else return false;
    }
    if (!digits || dots > 1) return false;
    *f = strtod(s, NULL);
    return isfinite(*f) && *f >= 1.0 && *f <= 1000.0;
}

void lb_test_slowdown_apply(lb_dispatch *d) {
    const char *spec = getenv("LATBENCH_TEST_SLOWDOWN");
    if (!spec || !*spec) return;
    char what[32];
    int used = 0;
    double f = 0;
    if (sscanf(spec, "%31[a-z0-9_.]:%n", what, &used) != 1 || !used || !parse_factor(spec + used, &f)) {
        fprintf(stderr,
                "latbench: LATBENCH_TEST_SLOWDOWN=%s is not OP.PASS:N (e.g. conv2d.fwd:3 or conv2d.fwd:1.10, N in "
                "1..1000)\n",
                spec);
        exit(2);
    }
    g_factor = f;
    g_runs = (int)floor(f);
    g_orig_conv2d = d->conv2d;
    g_orig_pool = d->pool;
    g_slow_conv2d = *d->conv2d;
    g_slow_pool = *d->pool;
    g_orig_worm = d->worm;
    g_slow_worm = *d->worm;
    g_orig_chain1x1 = d->chain1x1;
    g_slow_chain1x1 = *d->chain1x1;
    if (!strcmp(what, "conv2d.fwd")) g_slow_conv2d.fwd = slow_conv2d_fwd;
    else if (!strcmp(what, "conv2d.bwd_data")) g_slow_conv2d.bwd_data = slow_conv2d_bwd_data;
    else if (!strcmp(what, "conv2d.bwd_weights")) g_slow_conv2d.bwd_weights = slow_conv2d_bwd_weights;
    else if (!strcmp(what, "pool.fwd")) g_slow_pool.fwd = slow_pool_fwd;
    else if (!strcmp(what, "pool.bwd")) g_slow_pool.bwd = slow_pool_bwd;
    else if (!strcmp(what, "worm.fwd")) g_slow_worm.sweep = slow_worm_sweep;
    else if (!strcmp(what, "chain1x1.fwd")) g_slow_chain1x1.fwd = slow_chain1x1_fwd;
    else {
        fprintf(stderr, "latbench: LATBENCH_TEST_SLOWDOWN: '%s' is not one of conv2d.fwd, conv2d.bwd_data, "
                        "conv2d.bwd_weights, pool.fwd, pool.bwd, worm.fwd, chain1x1.fwd\n", what);
        exit(2);
    }
    d->conv2d = &g_slow_conv2d;
    d->pool = &g_slow_pool;
    d->worm = &g_slow_worm;
    d->chain1x1 = &g_slow_chain1x1;
    fprintf(stderr, "latbench: test slowdown: %s of %s takes %g times its time per call\n", what,
            !strncmp(what, "conv2d", 6) ? g_orig_conv2d->name : !strncmp(what, "worm", 4) ? g_orig_worm->name
                                              : !strncmp(what, "chain1x1", 8) ? g_orig_chain1x1->name
                                                                                    : g_orig_pool->name, f);
}

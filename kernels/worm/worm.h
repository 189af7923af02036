/* The worm update of the charged scalar field in dual variables (docs/design.md §2.4; derivation of every
 * acceptance ratio in docs/worm.md).
 *
 * Many independent Markov chains are updated by one call.  Chains are grouped in blocks of `lanes`
 * chains (1 for the scalar reference's own layout; 8 or 16 for SIMD variants: one chain per lane).
 * Within a block the state is stored lane-innermost so that the same link of every chain is one
 * contiguous vector:
 *   k[(site*2 + nu)*lanes + lane]   int32  k_{x,nu},  nu = 0 (t), 1 (x);  site = t*NX + x
 *   l[(site*2 + nu)*lanes + lane]   int32  l_{x,nu} >= 0
 *   f[site*lanes + lane]            int32  f_x, kept incrementally (even on closed configurations)
 *   rng[w*lanes + lane], w = 0..3   xoshiro128** state of each chain
 *   stat[s*lanes + lane]            uint64 counters, s = WORM_STAT_* (accumulated, never reset here)
 * A chain's evolution depends only on its own state and random stream, never on `lanes` or on the
 * other lanes, so every variant and every block layout gives the same chain bit for bit.
 *
 * One sweep of one chain, in this order (the random-number consumption is part of the contract):
 *   1. l pass: links in index order 0 .. 2V-1 (link = site*2 + nu).  One draw r per link:
 *        up = r & 1;  u = (r >> 8) * 2^-24 (float);  a = |k| + l;  fx, fy = f at both ends
 *        up:   rho = ((inv[a+1] * inv[l+1]) * w2[1][fx]) * w2[1][fy]
 *        down: rho = ((float)(a*l)         * w2[0][fx]) * w2[0][fy]     (l = 0 gives rho = 0)
 *      accept iff u < rho: l += up ? 1 : -1, f at both ends += up ? 2 : -2.
 *   2. worms_per_sweep worms.  Start: draw r, x0 = (r * V) >> 32 (32x32->64 multiply); draw r,
 *      delta = (r & 1) ? +1 : -1; head = x0.  Then repeat head steps until head == x0 (a rejected
 *      first step ends the worm at once, which detailed balance requires; docs/worm.md):
 *        r = draw; dir = r & 3 (0 +t, 1 -t, 2 +x, 3 -x); u = (r >> 8) * 2^-24
 *        y = nbr[head*4 + dir]; nu = dir >> 1; forward = !(dir & 1)
 *        link = (forward ? head : y)*2 + nu;  s = forward ? delta : -delta;  k' = k + s
 *        g = (k*s >= 0) (|k| grows by one), else it shrinks by one
 *        lf  = g ? inv[|k'| + l] : (float)(|k| + l)
 *        em  = emu[nu*2 + (s > 0)]     ({e^-mu, e^mu, 1, 1})
 *        rho = ((lf * em) * w1[g][f_head]) * w1[g][f_y]
 *      accept iff u < rho: k = k', f_head and f_y += g ? 1 : -1, head = y.
 * All ratios are float32 products in exactly this order (no fused operations: there is no add), so a
 * vectorized kernel doing the same operations is bit-identical.
 *
 * Table range: f <= fmax everywhere.  w1[1][fmax] = 0 and w2[1][f] = 0 for f + 2 > fmax, so a move
 * beyond the table is rejected AND raises WORM_STAT_FMAX_HIT for that chain; the harness treats a
 * raised flag as a fatal error (the chain is no longer exact), and the kernel stops that chain's
 * worm early and runs no further sweeps on it (its state is then unspecified: discard it).
 */
#pragma once
#include <stdbool.h>
#include "kernels/common.h"

enum {
    WORM_STAT_HEAD_PROP = 0, /* head steps proposed */
    WORM_STAT_HEAD_ACC,      /* head steps accepted */
    WORM_STAT_WORMS,         /* worms completed */
    WORM_STAT_L_PROP,        /* l proposals */
    WORM_STAT_L_ACC,         /* l proposals accepted */
    WORM_STAT_FMAX_HIT,      /* nonzero: a move needed f > fmax (fatal) */
    WORM_NSTAT
};

/* Acceptance tables (float32), built by the harness (lib/lattice/wtable.h) for one (eta, lambda). */
typedef struct {
    int fmax;
    const float *w1;  /* [2][fmax+1]: w1[0][f] = W(f-1)/W(f) (0 at f = 0), w1[1][f] = W(f+1)/W(f) (0 at fmax) */
    const float *w2;  /* [2][fmax+1]: W(f-2)/W(f) (0 for f < 2), W(f+2)/W(f) (0 for f + 2 > fmax) */
    const float *inv; /* [fmax+2]: inv[n] = (float)(1.0/n), inv[0] = 0 */
} worm_tables;

typedef struct {
    int nt, nx, v;         /* lattice NT x NX (both >= 2), v = NT*NX */
    const int32_t *nbr;    /* [v][4]: neighbour of site in direction +t, -t, +x, -x */
    const worm_tables *tab;
    float emu[4];          /* {e^-mu, e^mu, 1, 1}, float32 of the double exp */
    int worms_per_sweep;
} worm_desc;

typedef struct {
    int lanes;             /* layout stride: chains per block */
    int active;            /* chains 0 .. active-1 are updated (active <= lanes) */
    int32_t *k, *l, *f;
    uint32_t *rng;
    uint64_t *stat;
} worm_block;

/* An optional per-chain callback at sweep ends, so that one call can run a whole measurement or
 * sampling phase: a call ends with its slowest lane, so long calls keep the lanes busy.  When
 * chain `lane` has completed its n-th sweep of the call and n is a multiple of `every`, the kernel
 * calls fn(ctx, b, lane, n).  The chain's k, l and f in the block then hold its closed
 * configuration after those n sweeps (its rng and stat are written back only when the call
 * returns); other chains of the block may be in mid-sweep, so fn reads chain `lane` only.  fn
 * returns false to stop that chain for the rest of the call.  Per chain the calls come in order;
 * across chains in no fixed order (the scalar kernel runs the chains one after another). */
typedef struct {
    int every; /* >= 1 */
    bool (*fn)(void *ctx, const worm_block *b, int lane, int n);
    void *ctx;
} worm_hook;

/* Runs nsweeps sweeps on every active chain of the block (hook: NULL or as above). */
typedef void worm_sweep_fn(const worm_desc *d, worm_block *b, int nsweeps, const worm_hook *hook);

typedef struct {
    const char *name;
    lb_isa isa;
    int lanes;             /* the block width this variant wants (the scalar reference takes any) */
    worm_sweep_fn *sweep;
    const lb_param_info *params;   /* the parameters this variant accepts (NULL when nparams is 0) */
    int nparams;
} worm_ops;

/* Tuning parameters of a variant (kernels/common.h: 0 = the default, the sampler as before).  They
 * act on how the harness lays chains out and hands them to the kernel, never on a chain: every
 * value gives every chain bit for bit (the contract above), so test_worm_simd and `latbench tune`
 * check each value against the scalar reference.  A variant with a table is listed in worm.inc as
 * KERNEL_P(isa, sfx, lanes) and its table is worm_params__<sfx> here.
 *   chains_per_block  1..lanes  chains in use per block of the variant's layout (lanes in use);
 *                     0: all `lanes`.  Fewer chains per block make more blocks, and the blocks
 *                     are what threads share (lib/lattice/sampler.h): this is also the chains per
 *                     thread's unit of work, e.g. 32 chains at 8 per block are 4 blocks for 2
 *                     or 4 threads instead of 2.
 * Sweeps per call are not a parameter: a call's hook may stop a chain for the rest of the call,
 * so splitting a phase into calls would change which sweeps run (the callers choose the calls). */
enum { WORM_CHAINS_PER_BLOCK, WORM_NPARAMS };
LB_UNUSED static const lb_param_info worm_params__avx512[WORM_NPARAMS] = {
    {"chains_per_block", 1, 16, "chains in use per 16-lane block (the threads' unit of work); 0: 16"},
};
LB_UNUSED static const lb_param_info worm_params__avx2[WORM_NPARAMS] = {
    {"chains_per_block", 1, 8, "chains in use per 8-lane block (the threads' unit of work); 0: 8"},
};
LB_UNUSED static const lb_param_info worm_params__neon[WORM_NPARAMS] = {
    {"chains_per_block", 1, 4, "chains in use per 4-lane block (the threads' unit of work); 0: 4"},
};

/* The chains in use per block of a variant's layout for params (0 or out of range: all lanes). */
static inline int worm_chains_per_block(const worm_ops *o, const lb_params *p) {
    const int v = o->nparams > WORM_CHAINS_PER_BLOCK && p ? p->v[WORM_CHAINS_PER_BLOCK] : 0;
    return v >= 1 && v <= o->lanes ? v : o->lanes;
}

/* Work per call: l-link updates are fixed; head moves are data-dependent (WORM_STAT_HEAD_PROP). */
static inline double worm_l_updates(const worm_desc *d, const worm_block *b, int nsweeps) {
    return 2.0 * d->v * b->active * (double)nsweeps;
}

/* ---- the per-chain random stream (32-bit operations only, so SIMD lanes reproduce it) ---- */

static inline uint32_t worm_rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

/* xoshiro128** on a local copy of the state (keeps it in registers inside the loops). */
typedef struct {
    uint32_t s0, s1, s2, s3;
} worm_rng;
static inline worm_rng worm_rng_load(const uint32_t *s, int stride) {
    return (worm_rng){s[0], s[stride], s[2 * stride], s[3 * stride]};
}
static inline void worm_rng_store(worm_rng r, uint32_t *s, int stride) {
    s[0] = r.s0, s[stride] = r.s1, s[2 * stride] = r.s2, s[3 * stride] = r.s3;
}
static inline uint32_t worm_rng_draw(worm_rng *g) {
    uint32_t r = worm_rotl32(g->s1 * 5u, 7) * 9u;
    uint32_t t = g->s1 << 9;
    g->s2 ^= g->s0;
    g->s3 ^= g->s1;
    g->s1 ^= g->s2;
    g->s0 ^= g->s3;
    g->s2 ^= t;
    g->s3 = worm_rotl32(g->s3, 11);
    return r;
}

/* The same generator stepped in place on the state words s[0], s[stride], s[2*stride], s[3*stride]. */
static inline uint32_t worm_rng_next(uint32_t *s, int stride) {
    worm_rng g = worm_rng_load(s, stride);
    uint32_t r = worm_rng_draw(&g);
    worm_rng_store(g, s, stride);
    return r;
}

static inline float worm_uniform(uint32_t r) { return (float)(r >> 8) * 0x1p-24f; }

static inline uint64_t worm_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Seeds one chain's xoshiro128** state from (seed, stream): splitmix64 started at
 * mix64(seed) ^ mix64(stream + golden), two outputs split into four words (never all zero). */
static inline void worm_rng_seed(uint32_t *s, int stride, uint64_t seed, uint64_t stream) {
    uint64_t sm = worm_mix64(seed + 0x9E3779B97F4A7C15ull) ^ worm_mix64(stream + 0x3C6EF372FE94F82Bull);
    uint64_t a = worm_mix64(sm += 0x9E3779B97F4A7C15ull);
    uint64_t b = worm_mix64(sm += 0x9E3779B97F4A7C15ull);
    if ((a | b) == 0) a = 1;
    s[0] = (uint32_t)a, s[stride] = (uint32_t)(a >> 32), s[2 * stride] = (uint32_t)b, s[3 * stride] = (uint32_t)(b >> 32);
}

/* Chain `lane` has completed sweep n of the call: runs the hook if it is due; true when it stops
 * the chain. */
static inline bool worm_hook_stops(const worm_hook *h, const worm_block *b, int lane, int n) {
    return n % h->every == 0 && !h->fn(h->ctx, b, lane, n);
}

/* For the SIMD kernels: the lanes in `ended` have just completed sweep done[lane] of the call;
 * returns the lanes the hook stops. */
static inline unsigned worm_hook_run(const worm_hook *h, const worm_block *b, unsigned ended, const int32_t *done) {
    unsigned stop = 0;
    for (; ended; ended &= ended - 1) {
        const int c = __builtin_ctz(ended);
        if (worm_hook_stops(h, b, c, done[c])) stop |= 1u << c;
    }
    return stop;
}

static inline int32_t worm_iabs(int32_t a) { return a < 0 ? -a : a; }

/* c ? a : b on the bits, so the compiler cannot turn a 50/50 data-dependent choice into a branch. */
static inline float worm_selectf(int c, float a, float b) {
    uint32_t ua, ub, m = (uint32_t)0 - (uint32_t)(c != 0);
    __builtin_memcpy(&ua, &a, 4);
    __builtin_memcpy(&ub, &b, 4);
    ua = (ua & m) | (ub & ~m);
    __builtin_memcpy(&a, &ua, 4);
    return a;
}

/* One head step of one chain (arrays already offset to the lane, stride W) with the draw r:
 * returns the new head (the old one when rejected); *hit |= table overflow.  Shared by the scalar
 * kernel and the flux-violation inserter (lib/lattice/violations.c), so both use one acceptance. */
static inline int worm_head_step(const worm_desc *d, int32_t *LB_RESTRICT k, const int32_t *LB_RESTRICT l,
                                 int32_t *LB_RESTRICT f, int W, int head, int32_t delta, uint32_t r, int *hit) {
    const int fmax = d->tab->fmax;
    const int dir = (int)(r & 3u);
    const float u = worm_uniform(r);
    const int y = d->nbr[head * 4 + dir];
    const int nu = dir >> 1, fwd = !(dir & 1);
    const int link = (fwd ? head : y) * 2 + nu;
    const int32_t s = fwd ? delta : -delta;
    const int32_t kv = k[link * W], kn = kv + s;
    const int g = kv * s >= 0;
    const int32_t lv = l[link * W];
    const int32_t fx = f[head * W], fy = f[y * W];
    const float lf = worm_selectf(g, d->tab->inv[worm_iabs(kn) + lv], (float)(worm_iabs(kv) + lv));
    const float em = d->emu[nu * 2 + (s > 0)];
    const float *wt = d->tab->w1 + g * (fmax + 1);
    const float rho = ((lf * em) * wt[fx]) * wt[fy];
    *hit |= g & ((fx + 1 > fmax) | (fy + 1 > fmax));
    if (u < rho) {
        const int32_t df = g ? 1 : -1;
        k[link * W] = kn;
        f[head * W] = fx + df;
        f[y * W] = fy + df;
        return y;
    }
    return head;
}

#define KERNEL(isa, sfx, lanes) worm_sweep_fn worm_sweep__##sfx;
#define KERNEL_P(isa, sfx, lanes) KERNEL(isa, sfx, lanes)
#include "kernels/worm/worm.inc"
#undef KERNEL
#undef KERNEL_P

#define WORM_ROW(isa, sfx, lanes) { #sfx, isa, lanes, worm_sweep__##sfx, NULL, 0 },
#define WORM_ROW_P(isa, sfx, lanes) \
    { #sfx, isa, lanes, worm_sweep__##sfx, worm_params__##sfx, (int)(sizeof worm_params__##sfx / sizeof worm_params__##sfx[0]) },

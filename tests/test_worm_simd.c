/* The vectorized worm kernels against the scalar reference (docs/worm.md §4): every variant the CPU runs
 * evolves every chain bit for bit like worm-scalar.c — k, l, f, the generator state and all
 * counters — from the same seeds, over hundreds of sweeps, at (eta, mu) below the Silver Blaze
 * onset, at it and far above it, on 8x8, 60x4, 5x7, 2x6 and 3x2, with auto and fixed worm counts,
 * partial blocks, and chains stopped by a table overflow; the sweep-end hook is called at the same
 * sweeps on the same configurations and stops chains alike.  Then `latbench generate` under
 * LATBENCH_ISA=scalar, avx2 and the default writes byte-identical datasets.
 * Variants this CPU cannot run are reported as "SKIP worm/<name>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <jansson.h>
#include "tests/test_util.h"
#include "arch/registry.h"
#include "lib/lattice/dataset.h"
#include "lib/lattice/sampler.h"

#if defined(__SANITIZE_ADDRESS__)
#define SCALE 4
#else
#define SCALE 1
#endif

static const worm_ops scalar1 = {"scalar", LB_ISA_SCALAR, 1, worm_sweep__scalar, NULL, 0};

/* Chain by chain, the whole state; returns the number of chains that stopped on F_max. */
static int compare(const lat_sampler *a, const lat_sampler *b, const char *what) {
    const int V = a->g.v;
    int stopped = 0;
    for (int ch = 0; ch < a->cfg.nchains; ch++) {
        lat_chain x = lat_ensemble_chain(&a->ens, ch), y = lat_ensemble_chain(&b->ens, ch);
        for (int j = 0; j < WORM_NSTAT; j++)
            if (x.stat[j * x.stride] != y.stat[j * y.stride])
                fail_msg("%s: chain %d counter %d: scalar %llu, %s %llu", what, ch, j,
                         (unsigned long long)x.stat[j * x.stride], b->cfg.ops->name,
                         (unsigned long long)y.stat[j * y.stride]);
        for (int j = 0; j < 4; j++)
            if (x.rng[j * x.stride] != y.rng[j * y.stride]) fail_msg("%s: chain %d generator word %d differs", what, ch, j);
        for (int j = 0; j < 2 * V; j++)
            if (x.k[j * x.stride] != y.k[j * y.stride] || x.l[j * x.stride] != y.l[j * y.stride])
                fail_msg("%s: chain %d link %d: (k, l) scalar (%d, %d), %s (%d, %d)", what, ch, j, x.k[j * x.stride],
                         x.l[j * x.stride], b->cfg.ops->name, y.k[j * y.stride], y.l[j * y.stride]);
        for (int j = 0; j < V; j++)
            if (x.f[j * x.stride] != y.f[j * y.stride]) fail_msg("%s: chain %d site %d: f differs", what, ch, j);
        stopped += x.stat[WORM_STAT_FMAX_HIT * x.stride] != 0;
    }
    return stopped;
}

/* Three blocks, the last one partial (3 chains; with per chains in use per block, per - 1). */
static int chains_for(const worm_ops *v) { return 2 * v->lanes + 3; }
static int chains_for_per(const worm_ops *v, int per) { return !per ? chains_for(v) : per == 1 ? 3 : 3 * per - 1; }

/* Runs the same point with the scalar reference (one chain per block) and with `v`, in rounds of
 * `chunk` sweeps per call, comparing after every round; auto worm counts (wps 0) calibrate after
 * round 0; wps < 0: no worms at all (the l pass alone, as bench_worm_throughput times it). */
static int run_pair_per(const worm_ops *v, int per, const lat_wtable *wt, int nt, int nx, double eta, double mu, int wps,
                        int rounds, int chunk, uint64_t seed) {
    char err[300], what[160];
    lat_point_cfg p = {.nt = nt, .nx = nx, .eta = eta, .lambda = wt->lambda, .mu = mu, .worms_per_sweep = wps < 0 ? 1 : wps,
                      .fmax = wt->fmax, .nchains = chains_for_per(v, per), .seed = seed, .point = 3};
    lat_sampler a, b;
    p.ops = &scalar1;
    assert_true(lat_sampler_init(&a, &p, wt, err, sizeof err));
    p.ops = v;
    p.params.v[WORM_CHAINS_PER_BLOCK] = per;
    assert_true(lat_sampler_init(&b, &p, wt, err, sizeof err));
    assert_int_equal(b.ens.per, per ? per : v->lanes);
    assert_int_equal(b.ens.nblocks, 3);
    if (wps < 0) a.desc.worms_per_sweep = b.desc.worms_per_sweep = 0;
    int stopped = 0;
    for (int r = 0; r < rounds; r++) {
        /* the kernels directly: a chain stopped by F_max must stop identically too */
        for (int k = 0; k < a.ens.nblocks; k++) a.cfg.ops->sweep(&a.desc, &a.ens.blocks[k], chunk, NULL);
        for (int k = 0; k < b.ens.nblocks; k++) b.cfg.ops->sweep(&b.desc, &b.ens.blocks[k], chunk, NULL);
        if (r == 0) lat_sampler_calibrate(&a), lat_sampler_calibrate(&b);
        assert_int_equal(a.desc.worms_per_sweep, b.desc.worms_per_sweep);
        snprintf(what, sizeof what, "%s %dx%d eta %g mu %g wps %d fmax %d after %d sweeps", v->name, nt, nx, eta, mu,
                 a.desc.worms_per_sweep, wt->fmax, (r + 1) * chunk);
        stopped = compare(&a, &b, what);
    }
    lat_chain c0 = lat_ensemble_chain(&b.ens, 0);
    assert_true(stopped || wps < 0 || c0.stat[WORM_STAT_HEAD_ACC * c0.stride] > 0);
    assert_true(c0.stat[WORM_STAT_L_ACC * c0.stride] > 0);
    lat_sampler_free(&a), lat_sampler_free(&b);
    return stopped;
}

static int run_pair(const worm_ops *v, const lat_wtable *wt, int nt, int nx, double eta, double mu, int wps, int rounds,
                    int chunk, uint64_t seed) {
    return run_pair_per(v, 0, wt, nt, nx, eta, mu, wps, rounds, chunk, seed);
}

static void test_bit_identical(void **state) {
    (void)state;
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    int nvar = 0, ran = 0;
    const worm_ops *vars = lb_worm_variants(&nvar);
    char err[300];
    lat_wtable t401, t425, tsmall, ttiny;
    assert_true(lat_wtable_build(&t401, 4.01, 1.0, LAT_FMAX_DEFAULT, err, sizeof err));
    assert_true(lat_wtable_build(&t425, 4.25, 1.0, LAT_FMAX_DEFAULT, err, sizeof err));
    assert_true(lat_wtable_build(&tsmall, 4.01, 1.0, 32, err, sizeof err));
    assert_true(lat_wtable_build(&ttiny, 4.01, 1.0, 12, err, sizeof err));
    static const struct { int nt, nx; } lat[] = {{8, 8}, {60, 4}, {5, 7}, {2, 6}, {3, 2}};
    static const struct { double eta, mu; } par[] = {{4.01, 0.5}, {4.01, 0.95}, {4.01, 1.5}, {4.25, 1.0}};
    for (int i = 0; i < nvar; i++) {
        const worm_ops *v = &vars[i];
        if (v->isa == LB_ISA_SCALAR) continue;
        if (!lb_cpu_supports(&cpu, v->isa)) {
            printf("SKIP worm/%s: this CPU lacks %s\n", v->name, lb_isa_name(v->isa));
            continue;
        }
        long sweeps = 0;
        for (size_t li = 0; li < sizeof lat / sizeof lat[0]; li++)
            for (size_t pi = 0; pi < sizeof par / sizeof par[0]; pi++) {
                const lat_wtable *wt = par[pi].eta == 4.25 ? &t425 : &t401;
                run_pair(v, wt, lat[li].nt, lat[li].nx, par[pi].eta, par[pi].mu, 0, 6, 40 / SCALE, 7 + li * 10 + pi);
                sweeps += 6 * (40 / SCALE);
            }
        /* fixed worm counts, one sweep per call, and no worms (the l pass alone) */
        run_pair(v, &t401, 8, 8, 4.01, 1.25, 1, 50 / SCALE, 1, 99);
        run_pair(v, &t401, 60, 4, 4.01, 1.0, 3, 5, 7, 98);
        run_pair(v, &t401, 5, 7, 4.01, 0.7, -1, 3, 10, 97);
        run_pair(v, &t401, 2, 6, 4.01, 1.2, -1, 10, 1, 95);
        /* a table of f <= 32: some chains stop on F_max at different sweeps, in the l pass or in a worm */
        int stopped = run_pair(v, &tsmall, 8, 8, 4.01, 1.5, 0, 8, 5, 96);
        assert_true(stopped > 0);
        /* and one too short for the in-register table windows (gathers only) */
        run_pair(v, &ttiny, 5, 7, 4.01, 1.0, 0, 4, 5, 94);
        printf("NOTE worm/%s: bit-identical to scalar on 5 lattices x 4 (eta, mu), %ld sweeps each, "
               "%d of %d chains stopped on F_max identically\n", v->name, sweeps / 20, stopped, chains_for(v));
        ran++;
    }
    printf("NOTE worm: %d vectorized variant(s) checked\n", ran);
    lat_wtable_free(&t401), lat_wtable_free(&t425), lat_wtable_free(&tsmall), lat_wtable_free(&ttiny);
}

/* ---- tuning parameters (kernels/worm/worm.h): every value gives every chain bit for bit ---- */

typedef struct {
    int16_t *x;
    size_t per_cfg;
} mem_store;

static bool store_mem(void *ctx, long index, const int16_t *x, char *err, size_t errlen) {
    (void)err, (void)errlen;
    const mem_store *m = ctx;
    memcpy(m->x + (size_t)index * m->per_cfg, x, m->per_cfg * sizeof(int16_t));
    return true;
}

/* lat_generate (the hooks: τ series, samples, open worms) with v at `per` chains per block against
 * the scalar reference: the same configurations, labels and per-point statistics. */
static void generate_pair(const worm_ops *v, int per, lat_task task) {
    double eta[2] = {4.01, 4.25}, lam[2] = {1.0, 1.0}, mu[2] = {1.0, 1.5};
    int worms[3] = {0, 1, 3};
    const int count = 40 / SCALE, nt = 5, nx = 7;
    lat_gen_opts o = {.task = task, .nt = nt, .nx = nx, .npoints = 2, .eta = eta, .lambda = lam, .mu = mu, .nworms = 3,
                      .worms = worms, .count = count, .chains = 2 * per + 3, .threads = 2, .therm = 40, .tau_factor = 2.0,
                      .seed = 11, .store = store_mem};
    int16_t *x[2];
    float *y[2];
    lat_gen_point pt[2][2];
    char err[300];
    for (int k = 0; k < 2; k++) {
        mem_store m = {.x = calloc((size_t)count * 4 * nt * nx, sizeof(int16_t)), .per_cfg = (size_t)4 * nt * nx};
        x[k] = m.x, y[k] = calloc((size_t)count * 2, sizeof(float));
        o.ops = k ? v : &scalar1, o.ctx = &m, o.y = y[k];
        memset(&o.params, 0, sizeof o.params);
        if (k) o.params.v[WORM_CHAINS_PER_BLOCK] = per;
        if (!lat_generate(&o, pt[k], err, sizeof err)) fail_msg("generate with %s, %d per block: %s", v->name, per, err);
    }
    assert_memory_equal(x[0], x[1], (size_t)count * 4 * nt * nx * sizeof(int16_t));
    assert_memory_equal(y[0], y[1], (size_t)count * lat_task_outputs(task) * sizeof(float));
    for (int p = 0; p < 2; p++) {
        assert_true(pt[0][p].acc_worm == pt[1][p].acc_worm && pt[0][p].acc_l == pt[1][p].acc_l);
        assert_true(pt[0][p].tau_int == pt[1][p].tau_int && pt[0][p].worm_len == pt[1][p].worm_len);
        assert_int_equal(pt[0][p].spacing, pt[1][p].spacing);
    }
    for (int k = 0; k < 2; k++) free(x[k]), free(y[k]);
}

static void test_params(void **state) {
    (void)state;
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    int nvar = 0, ran = 0;
    const worm_ops *vars = lb_worm_variants(&nvar);
    char err[300];
    lat_wtable t401;
    assert_true(lat_wtable_build(&t401, 4.01, 1.0, LAT_FMAX_DEFAULT, err, sizeof err));
    for (int i = 0; i < nvar; i++) {
        const worm_ops *v = &vars[i];
        if (!v->nparams) continue;
        assert_string_equal(v->params[WORM_CHAINS_PER_BLOCK].name, "chains_per_block");
        assert_int_equal(v->params[WORM_CHAINS_PER_BLOCK].max, v->lanes);
        if (!lb_cpu_supports(&cpu, v->isa)) {
            printf("SKIP worm/%s params: this CPU lacks %s\n", v->name, lb_isa_name(v->isa));
            continue;
        }
        /* every value of chains_per_block, through the kernels and through lat_generate's hooks */
        for (int per = 1; per <= v->lanes; per++) {
            run_pair_per(v, per, &t401, 5, 7, 4.01, 1.1, 0, 3, 12 / SCALE, 200 + per);
            if (per == 1 || per == 3 || per == v->lanes - 1) generate_pair(v, per, per == 3 ? LAT_TASK_COUNT : LAT_TASK_REGRESSION);
        }
        printf("NOTE worm/%s: chains_per_block 1..%d bit-identical to scalar (kernels; generate at 1, 3, %d)\n", v->name,
               v->lanes, v->lanes - 1);
        ran++;
    }
    printf("NOTE worm: %d variant(s) with parameters checked\n", ran);
    lat_wtable_free(&t401);
}

/* ---- the per-chain sweep-end hook (kernels/worm/worm.h) ---- */

#define HOOK_MAX 64

typedef struct {
    const lat_sampler *s;
    int block, stop_mod;
    uint64_t *rec;   /* [chain][HOOK_MAX]: a hash of the chain's configuration at each call */
    int *calls;      /* [chain] */
    int every, bad_n;
} hook_rec;

static uint64_t config_hash(const lat_sampler *s, int chain) {
    lat_chain c = lat_ensemble_chain(&s->ens, chain);
    uint64_t h = 1469598103934665603ull;
    for (int j = 0; j < 2 * s->g.v; j++) h = (h ^ (uint32_t)c.k[j * c.stride]) * 1099511628211ull, h = (h ^ (uint32_t)c.l[j * c.stride]) * 1099511628211ull;
    for (int j = 0; j < s->g.v; j++) h = (h ^ (uint32_t)c.f[j * c.stride]) * 1099511628211ull;
    return h;
}

/* Records the configuration; chain c stops after (c % stop_mod) + 2 calls (never with stop_mod 0). */
static bool record_hook(void *ctx, const worm_block *b, int lane, int n) {
    hook_rec *r = ctx;
    const int chain = r->block * b->lanes + lane, i = r->calls[chain]++;
    if (n != (i + 1) * r->every) r->bad_n++;
    if (i < HOOK_MAX) r->rec[chain * HOOK_MAX + i] = config_hash(r->s, chain);
    return !r->stop_mod || r->calls[chain] < chain % r->stop_mod + 2;
}

/* One call of `sweeps` sweeps per block with the recording hook; returns the records. */
static void run_hooked(lat_sampler *s, int sweeps, int every, int stop_mod, uint64_t *rec, int *calls) {
    memset(rec, 0, sizeof(uint64_t) * s->cfg.nchains * HOOK_MAX);
    memset(calls, 0, sizeof(int) * s->cfg.nchains);
    for (int k = 0; k < s->ens.nblocks; k++) {
        hook_rec r = {s, k, stop_mod, rec, calls, every, 0};
        const worm_hook h = {every, record_hook, &r};
        s->cfg.ops->sweep(&s->desc, &s->ens.blocks[k], sweeps, &h);
        assert_int_equal(r.bad_n, 0);
    }
}

/* Every variant calls the hook at the same sweeps of every chain, on the same configurations, and
 * a chain the hook stops ends exactly there (its state and counters equal the scalar ones); a hook
 * that stops nothing leaves the evolution as without a hook.  Worm counts: auto (the lanes run on
 * independently), 120 per sweep (AVX2 keeps its lanes in step) and none (lock-step l passes). */
static void test_hook(void **state) {
    (void)state;
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    int nvar = 0;
    const worm_ops *vars = lb_worm_variants(&nvar);
    char err[300], what[160];
    lat_wtable wt;
    assert_true(lat_wtable_build(&wt, 4.01, 1.0, LAT_FMAX_DEFAULT, err, sizeof err));
    static const int wpss[] = {0, 120, -1};
    for (int i = 0; i < nvar; i++) {
        const worm_ops *v = &vars[i];
        if (v->isa == LB_ISA_SCALAR) continue;
        if (!lb_cpu_supports(&cpu, v->isa)) {
            printf("SKIP worm/%s hook: this CPU lacks %s\n", v->name, lb_isa_name(v->isa));
            continue;
        }
        for (int w = 0; w < 3; w++) {
            lat_point_cfg p = {.nt = 5, .nx = 7, .eta = 4.01, .lambda = 1.0, .mu = 1.1, .worms_per_sweep = wpss[w] < 0 ? 1 : wpss[w],
                              .nchains = v->lanes + 5, .seed = 31 + w, .point = 1};
            lat_sampler a, b, c;
            p.ops = &scalar1;
            assert_true(lat_sampler_init(&a, &p, &wt, err, sizeof err));
            assert_true(lat_sampler_init(&c, &p, &wt, err, sizeof err));
            p.ops = v;
            assert_true(lat_sampler_init(&b, &p, &wt, err, sizeof err));
            if (wpss[w] < 0) a.desc.worms_per_sweep = b.desc.worms_per_sweep = c.desc.worms_per_sweep = 0;
            const int C = p.nchains;
            uint64_t *ra = calloc((size_t)C * HOOK_MAX, 8), *rb = calloc((size_t)C * HOOK_MAX, 8);
            int *ca = calloc(C, sizeof(int)), *cb = calloc(C, sizeof(int));
            /* a hook that stops nothing: the same as no hook (c) */
            run_hooked(&a, 30, 1, 0, ra, ca);
            run_hooked(&b, 30, 1, 0, rb, cb);
            for (int k = 0; k < c.ens.nblocks; k++) c.cfg.ops->sweep(&c.desc, &c.ens.blocks[k], 30, NULL);
            snprintf(what, sizeof what, "%s hook wps %d, 30 sweeps", v->name, wpss[w]);
            compare(&a, &b, what);
            compare(&c, &b, what);
            for (int ch = 0; ch < C; ch++) {
                assert_int_equal(ca[ch], 30);
                assert_int_equal(cb[ch], 30);
                assert_memory_equal(ra + ch * HOOK_MAX, rb + ch * HOOK_MAX, 30 * 8);
            }
            /* every 4th sweep, chain c stopped after c % 5 + 2 calls */
            run_hooked(&a, 40, 4, 5, ra, ca);
            run_hooked(&b, 40, 4, 5, rb, cb);
            snprintf(what, sizeof what, "%s hook wps %d, stopped chains", v->name, wpss[w]);
            compare(&a, &b, what);
            for (int ch = 0; ch < C; ch++) {
                assert_int_equal(ca[ch], ch % 5 + 2);
                assert_int_equal(cb[ch], ch % 5 + 2);
                assert_memory_equal(ra + ch * HOOK_MAX, rb + ch * HOOK_MAX, (size_t)(ch % 5 + 2) * 8);
                lat_chain x = lat_ensemble_chain(&b.ens, ch);
                assert_true(lat_chain_check(&b.g, x, true, 0, err, sizeof err));
            }
            free(ra), free(rb), free(ca), free(cb);
            lat_sampler_free(&a), lat_sampler_free(&b), lat_sampler_free(&c);
        }
        printf("NOTE worm/%s: the sweep-end hook is called and stops chains as in the scalar kernel "
               "(auto, 120 and no worms per sweep)\n", v->name);
    }
    lat_wtable_free(&wt);
}

/* ---- the CLI: datasets do not depend on the kernel variant ---- */

static char tmpdir[256];

static int sh(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int same_file(const char *a, const char *b) {
    FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
    int same = x && y;
    while (same) {
        int c = fgetc(x), d = fgetc(y);
        if (c != d) same = 0;
        if (c == EOF || d == EOF) break;
    }
    if (x) fclose(x);
    if (y) fclose(y);
    return same;
}

static void test_datasets_independent_of_isa(void **state) {
    (void)state;
    const char *bin = getenv("LATBENCH_BIN");
    if (!bin) bin = "./latbench";
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    static const char *isa[] = {"scalar", "avx2", ""};
    static const char *args[] = {
        "--task regression --lattice 60x4 --eta 4.01 --lambda 1 --mu 0.9,1.0,1.5 --count 96 --therm 120 --chains 21",
        "--task count --lattice 5x7 --points 4.25:1,4.01:1.5 --lambda 1 --count 60 --worms 0:4 --therm 80 --chains 18",
    };
    /* under qemu (tests/run.sh: LATBENCH_RUNNER) the same shapes, fewer configurations: minutes less */
    static const char *args_emulated[] = {
        "--task regression --lattice 60x4 --eta 4.01 --lambda 1 --mu 0.9,1.5 --count 12 --therm 10 --chains 9",
        "--task count --lattice 5x7 --points 4.25:1,4.01:1.5 --lambda 1 --count 12 --worms 0:4 --therm 10 --chains 6",
    };
    const char *const *used = cli_emulated() ? args_emulated : args;
    if (cli_emulated()) printf("NOTE worm: emulated run: datasets of 12 configurations (96 and 60 natively)\n");
    for (int a = 0; a < 2; a++) {
        int made = 0;
        for (int i = 0; i < 3; i++) {
            if (i == 1 && !lb_cpu_supports(&cpu, LB_ISA_AVX2)) continue;
            char cmd[1200];
            snprintf(cmd, sizeof cmd, "LATBENCH_ISA=%s %s generate %s --seed 5 --threads 2 --out %s/d%d-%d >/dev/null 2>&1",
                     isa[i], bin, used[a], tmpdir, a, i);
            if (sh(cmd) != 0) fail_msg("failed: %s", cmd);
            static const char *files[] = {"x.npy", "y.npy", "meta.json"};
            for (int j = 0; j < 3 && made; j++) {
                char p0[400], p1[400];
                snprintf(p0, sizeof p0, "%s/d%d-0/%s", tmpdir, a, files[j]);
                snprintf(p1, sizeof p1, "%s/d%d-%d/%s", tmpdir, a, i, files[j]);
                if (!same_file(p0, p1)) fail_msg("%s differs between LATBENCH_ISA=scalar and '%s' (%s)", files[j], isa[i], used[a]);
            }
            made++;
        }
    }
}

/* `latbench bench`'s worm rows: every variant this CPU runs, with the rates, the ratios to the
 * scalar reference and the lane efficiencies in the JSON record. */
static void test_bench_worm_rows(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("bench worm rows");
    const char *bin = getenv("LATBENCH_BIN");
    if (!bin) bin = "./latbench";
    char cmd[1200], path[400];
    snprintf(path, sizeof path, "%s/worm-bench.json", tmpdir);
    snprintf(cmd, sizeof cmd, "%s bench --filter worm/8x8_eta4.01_lambda1_mu1.00 --threads 1 --no-pipelines --json %s >/dev/null 2>&1",
             bin, path);
    if (sh(cmd) != 0) fail_msg("failed: %s", cmd);
    json_error_t je;
    json_t *r = json_load_file(path, 0, &je), *bs = json_object_get(r, "benchmarks");
    assert_non_null(bs);
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    int nvar = 0, rows = 0;
    const worm_ops *vars = lb_worm_variants(&nvar);
    for (size_t i = 0; i < json_array_size(bs); i++) {
        json_t *b = json_array_get(bs, i);
        if (!json_object_get(b, "worm")) continue;   /* the median aggregate of a worm benchmark */
        rows++;
        const char *v = json_string_value(json_object_get(b, "variant"));
        const double upd = json_number_value(json_object_get(b, "updates_per_s_core"));
        const double le = json_number_value(json_object_get(b, "lane_efficiency_1024sweeps"));
        assert_true(upd > 0 && le > 0 && le <= 1);
        assert_true(json_number_value(json_object_get(b, "lane_efficiency_1sweep")) <= le + 0.05);
        if (strcmp(v, "scalar")) assert_true(json_number_value(json_object_get(b, "ratio_updates_vs_scalar")) > 0);
    }
    int want = 0;
    for (int i = 0; i < nvar; i++) want += lb_cpu_supports(&cpu, vars[i].isa);
    assert_int_equal(rows, want);
    json_decref(r);
}

static int setup(void **state) {
    (void)state;
    return test_tmpdir_make(tmpdir, sizeof tmpdir, "latbench-test-worm-simd-");
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_identical),
        cmocka_unit_test(test_hook),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_datasets_independent_of_isa),
        cmocka_unit_test(test_bench_worm_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

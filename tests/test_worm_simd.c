/* The vectorized worm kernels against the scalar reference (issue 5): every variant the CPU runs
 * evolves every chain bit for bit like worm-scalar.c — k, l, f, the generator state and all
 * counters — from the same seeds, over hundreds of sweeps, at (eta, mu) below the Silver Blaze
 * onset, at it and far above it, on 8x8, 60x4, 5x7, 2x6 and 3x2, with auto and fixed worm counts,
 * partial blocks, and chains stopped by a table overflow.  Then `latbench generate` under
 * LATBENCH_ISA=scalar, avx2 and the default writes byte-identical datasets.
 * Variants this CPU cannot run are reported as "SKIP worm/<name>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "tests/test_util.h"
#include "arch/registry.h"
#include "harness/lattice/sampler.h"

#if defined(__SANITIZE_ADDRESS__)
#define SCALE 4
#else
#define SCALE 1
#endif

static const worm_ops scalar1 = {"scalar", LB_ISA_SCALAR, 1, worm_sweep__scalar};

/* Chain by chain, the whole state; returns the number of chains that stopped on F_max. */
static int compare(const lb_sampler *a, const lb_sampler *b, const char *what) {
    const int V = a->g.v;
    int stopped = 0;
    for (int ch = 0; ch < a->cfg.nchains; ch++) {
        lb_chain x = lb_ensemble_chain(&a->ens, ch), y = lb_ensemble_chain(&b->ens, ch);
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

/* Runs the same point with the scalar reference (one chain per block) and with `v`, in rounds of
 * `chunk` sweeps per call, comparing after every round; auto worm counts (wps 0) calibrate after
 * round 0; wps < 0: no worms at all (the l pass alone, as lb_wormbench times it). */
static int run_pair(const worm_ops *v, const lb_wtable *wt, int nt, int nx, double eta, double mu, int wps,
                    int rounds, int chunk, uint64_t seed) {
    char err[300], what[160];
    lb_point_cfg p = {.nt = nt, .nx = nx, .eta = eta, .lambda = wt->lambda, .mu = mu, .worms_per_sweep = wps < 0 ? 1 : wps,
                      .fmax = wt->fmax, .nchains = 2 * v->lanes + 3, .seed = seed, .point = 3};
    lb_sampler a, b;
    p.ops = &scalar1;
    assert_true(lb_sampler_init(&a, &p, wt, err, sizeof err));
    p.ops = v;
    assert_true(lb_sampler_init(&b, &p, wt, err, sizeof err));
    assert_int_equal(b.ens.nblocks, 3);
    if (wps < 0) a.desc.worms_per_sweep = b.desc.worms_per_sweep = 0;
    int stopped = 0;
    for (int r = 0; r < rounds; r++) {
        /* the kernels directly: a chain stopped by F_max must stop identically too */
        for (int k = 0; k < a.ens.nblocks; k++) a.cfg.ops->sweep(&a.desc, &a.ens.blocks[k], chunk);
        for (int k = 0; k < b.ens.nblocks; k++) b.cfg.ops->sweep(&b.desc, &b.ens.blocks[k], chunk);
        if (r == 0) lb_sampler_calibrate(&a), lb_sampler_calibrate(&b);
        assert_int_equal(a.desc.worms_per_sweep, b.desc.worms_per_sweep);
        snprintf(what, sizeof what, "%s %dx%d eta %g mu %g wps %d fmax %d after %d sweeps", v->name, nt, nx, eta, mu,
                 a.desc.worms_per_sweep, wt->fmax, (r + 1) * chunk);
        stopped = compare(&a, &b, what);
    }
    lb_chain c0 = lb_ensemble_chain(&b.ens, 0);
    assert_true(stopped || wps < 0 || c0.stat[WORM_STAT_HEAD_ACC * c0.stride] > 0);
    assert_true(c0.stat[WORM_STAT_L_ACC * c0.stride] > 0);
    lb_sampler_free(&a), lb_sampler_free(&b);
    return stopped;
}

static void test_bit_identical(void **state) {
    (void)state;
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    int nvar = 0, ran = 0;
    const worm_ops *vars = lb_worm_variants(&nvar);
    char err[300];
    lb_wtable t401, t425, tsmall, ttiny;
    assert_true(lb_wtable_build(&t401, 4.01, 1.0, LB_FMAX_DEFAULT, err, sizeof err));
    assert_true(lb_wtable_build(&t425, 4.25, 1.0, LB_FMAX_DEFAULT, err, sizeof err));
    assert_true(lb_wtable_build(&tsmall, 4.01, 1.0, 32, err, sizeof err));
    assert_true(lb_wtable_build(&ttiny, 4.01, 1.0, 12, err, sizeof err));
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
                const lb_wtable *wt = par[pi].eta == 4.25 ? &t425 : &t401;
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
               "%d of %d chains stopped on F_max identically\n", v->name, sweeps / 20, stopped, 2 * v->lanes + 3);
        ran++;
    }
    printf("NOTE worm: %d vectorized variant(s) checked\n", ran);
    lb_wtable_free(&t401), lb_wtable_free(&t425), lb_wtable_free(&tsmall), lb_wtable_free(&ttiny);
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

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/latbench-test-worm-simd-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bit_identical),
        cmocka_unit_test(test_datasets_independent_of_isa),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

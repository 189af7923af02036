/* The keep-or-default rule of `latbench tune` (tools/tune/tune.h: tune_keeps, the Hodges-Lehmann
 * ratio default / winner with exact Mann-Whitney bounds, kept only when the lower bound exceeds
 * 1 + TUNE_MIN_EFFECT).  Identical kernels under heavy load (relative spreads 50-150 %, the case
 * where the former rule "q1 ratio > 1 + spread" kept a 3.5x "win") are not kept beyond the rule's
 * error rate, and never when both sides hold the same repetitions; a real 2x gain under the same
 * load is kept; too few repetitions keep the default; four identical candidates timed by
 * tune_halving leave the default as the choice (a bound on the error, not a certainty: each
 * decision errs at most TUNE_ALPHA of the time); the halving's early drop of a clearly slower
 * candidate errs about as rarely. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/test_util.h"
#include "tools/tune/tune.h"

/* A deterministic generator (xorshift64*) of uniform (0, 1) values. */
static double unif(unsigned long long *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return ((double)((*s * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}

/* One repetition of a kernel of time base on a loaded machine: small jitter, and with probability p
 * a burst of other work adding up to `burst` times its time (load only ever adds time).  p 0.75,
 * burst 6: relative spreads of 50-150 % and q1 ratios up to 3.6 between identical kernels, as seen
 * on the shared machine. */
typedef struct {
    double p, burst;
} load;
static const load MODERATE = {0.4, 3.0}, HEAVY = {0.75, 6.0};
static double loaded(unsigned long long *s, double base, load l) {
    double t = base * (1.0 + 0.03 * unif(s));
    if (unif(s) < l.p) t += base * l.burst * unif(s);
    return t;
}

static double q(double *x, int n, double p) {
    /* order statistic (the timing module's interpolation is not needed for the comparison) */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && x[j - 1] > x[j]; j--) {
            const double t = x[j];
            x[j] = x[j - 1], x[j - 1] = t;
        }
    return x[(int)(p * (n - 1) + 0.5)];
}

/* The former rule, for the record of how often it kept noise. */
static bool former_rule(const double *def, const double *chal, int n) {
    double a[TIMING_MAX_SAMPLES], b[TIMING_MAX_SAMPLES], r[TIMING_MAX_SAMPLES];
    for (int i = 0; i < n; i++) a[i] = def[i], b[i] = chal[i], r[i] = def[i] / chal[i];
    const double q1a = q(a, n, 0.25), q1b = q(b, n, 0.25);
    const double med = q(r, n, 0.5), spread = (q(r, n, 0.75) - q(r, n, 0.25)) / med;
    return med > 1.0 && q1a / q1b > 1.0 + spread;
}

static void test_noise_not_kept(void **state) {
    (void)state;
    enum { TRIALS = 2000, N = 18 };   /* N: the quick level's final round */
    unsigned long long seed = 0x9e3779b97f4a7c15ULL;
    int kept = 0, former = 0;
    double max_ratio = 0;
    for (int t = 0; t < TRIALS; t++) {
        double def[N], chal[N];
        for (int i = 0; i < N; i++) def[i] = loaded(&seed, 1e-3, HEAVY), chal[i] = loaded(&seed, 1e-3, HEAVY);
        stats_shift ci;
        if (tune_keeps(def, N, chal, N, &ci)) kept++;
        assert_true(ci.decidable);
        if (former_rule(def, chal, N)) former++;
        double a[N], b[N];
        memcpy(a, def, sizeof a), memcpy(b, chal, sizeof b);
        const double r = q(a, N, 0.25) / q(b, N, 0.25);
        if (r > max_ratio) max_ratio = r;
    }
    printf("identical kernels under load, %d trials of %d vs %d: kept %d (former rule %d); largest q1 ratio %.2f\n",
           TRIALS, N, N, kept, former, max_ratio);
    /* each bound holds with probability >= 1 - TUNE_ALPHA, and the minimum effect lowers that further */
    assert_true(kept <= TRIALS * TUNE_ALPHA);
    assert_true(max_ratio > 3.0 && former > 2 * kept);   /* the load model is the one the former rule failed */
}

static void test_same_repetitions_never_kept(void **state) {
    (void)state;
    unsigned long long seed = 12345;
    for (int t = 0; t < 200; t++) {
        const int n = 5 + t % 40;
        double def[TIMING_MAX_SAMPLES], chal[TIMING_MAX_SAMPLES];
        for (int i = 0; i < n; i++) def[i] = loaded(&seed, 1e-3, HEAVY);
        /* the same values in another order: the interval holds 1 whatever the spread */
        for (int i = 0; i < n; i++) chal[i] = def[n - 1 - i];
        stats_shift ci;
        assert_false(tune_keeps(def, n, chal, n, &ci));
        assert_true(ci.lo <= 1.0 && ci.hi >= 1.0);
    }
}

static void test_real_gain_kept(void **state) {
    (void)state;
    unsigned long long seed = 777;
    for (int h = 0; h < 2; h++) {
        int kept = 0;
        for (int t = 0; t < 200; t++) {
            double def[30], chal[30];   /* the measure level's final round */
            const load l = h ? HEAVY : MODERATE;
            for (int i = 0; i < 30; i++) def[i] = loaded(&seed, 2e-3, l), chal[i] = loaded(&seed, 1e-3, l);
            stats_shift ci;
            if (tune_keeps(def, 30, chal, 30, &ci)) kept++;
            assert_true(ci.ratio > 1.2);
        }
        printf("a 2x faster kernel under %s load: kept %d of 200\n", h ? "heavy" : "moderate", kept);
        assert_true(kept >= (h ? 100 : 180));
    }
    /* quiet machine: 1 % jitter, a 5 % gain is kept, a 1 % one (under the minimum effect) is not */
    double def[30], fast[30], near[30];
    for (int i = 0; i < 30; i++) {
        const double j = 1.0 + 0.01 * unif(&seed);
        def[i] = 1e-3 * j, fast[i] = 1e-3 / 1.05 * (1.0 + 0.01 * unif(&seed)), near[i] = 1e-3 / 1.01 * j;
    }
    stats_shift ci;
    assert_true(tune_keeps(def, 30, fast, 30, &ci));
    assert_false(tune_keeps(def, 30, near, 30, &ci));
}

static void test_too_few_keep_default(void **state) {
    (void)state;
    const double def[2] = {2e-3, 2e-3}, chal[2] = {1e-3, 1e-3}, bad[2] = {1e-3, NAN};
    stats_shift ci;
    assert_false(tune_keeps(def, 2, chal, 2, &ci));   /* a 2x gain, but 2 vs 2 gives no bound */
    assert_false(ci.decidable);
    assert_false(tune_keeps(def, 1, chal, 1, &ci));   /* a sequence dropped as far too slow: one sample */
    assert_false(tune_keeps(def, 2, bad, 2, &ci));
}

/* The halving's early drop (tune_drops) at quick's first rounds, 5 vs 5: identical kernels under
 * heavy load are dropped about 1 / C(10, 5) = 0.4 % of the time (a complete separation by chance),
 * a 2x slower one under moderate load about a fifth of the time (the drop is cautious: the rest go
 * on to the next round), a 1.2x slower one on a quiet machine (1 % jitter) always; the same
 * repetitions in another order, or a single one, never. */
static void test_early_drop(void **state) {
    (void)state;
    enum { TRIALS = 2000, N = 5 };
    unsigned long long seed = 4242;
    int same = 0, slower = 0;
    for (int t = 0; t < TRIALS; t++) {
        double f[N], c[N], s2[N];
        for (int i = 0; i < N; i++) f[i] = loaded(&seed, 1e-3, HEAVY), c[i] = loaded(&seed, 1e-3, HEAVY);
        same += tune_drops(f, N, c, N);
        for (int i = 0; i < N; i++) f[i] = loaded(&seed, 1e-3, MODERATE), s2[i] = loaded(&seed, 2e-3, MODERATE);
        slower += tune_drops(f, N, s2, N);
        for (int i = 0; i < N; i++) c[i] = f[N - 1 - i];
        assert_false(tune_drops(f, N, c, N));
        for (int i = 0; i < N; i++) c[i] = 1.2e-3 * (1.0 + 0.01 * unif(&seed)), f[i] = 1e-3 * (1.0 + 0.01 * unif(&seed));
        assert_true(tune_drops(f, N, c, N));
        assert_false(tune_drops(c, N, f, N));   /* the faster one is never dropped */
    }
    printf("early drop, %d trials of 5 vs 5: identical kernels under heavy load dropped %d, a 2x slower one under "
           "moderate load %d\n", TRIALS, same, slower);
    assert_true(same <= 2 * TRIALS * TUNE_ALPHA);
    assert_true(slower >= TRIALS / 10);
    const double one = 1e-3, three = 3e-3;
    assert_false(tune_drops(&one, 1, &three, 1));   /* one sample each: no interval */
}

/* A kernel of a fixed amount of work; every candidate the same one. */
static volatile double sink;
static void spin(void *ctx) {
    const int n = *(const int *)ctx;
    double x = 1.0;
    for (int i = 0; i < n; i++) x = x * 1.0000001 + 1e-9;
    sink = x;
}

static void test_identical_candidates_default(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("timing identical candidates");
    static int work = 20000;
    tune_cand c[4];
    static const char *const names[4] = {"default", "same1", "same2", "same3"};
    for (int i = 0; i < 4; i++)
        c[i] = (tune_cand){.name = names[i], .seq = {.name = names[i], .n_steps = 1,
                                                    .steps = {{.name = "spin", .kind = STEP_COMPUTE, .fn = spin, .ctx = &work}}}};
    for (int def = 0; def < 2; def++) {
        tune_outcome o;
        assert_true(tune_halving(c, 4, def, NULL, TUNE_QUICK, &o));
        printf("4 identical candidates, default %d: challenger %d, default/it %.3f [%.3f, %.3f], chosen %d\n", def,
               o.challenger, o.ci.ratio, o.ci.lo, o.ci.hi, o.winner);
        assert_true(o.challenger >= 0 && o.ci.decidable);
        assert_int_equal(o.winner, def);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise_not_kept),
        cmocka_unit_test(test_same_repetitions_never_kept),
        cmocka_unit_test(test_real_gain_kept),
        cmocka_unit_test(test_too_few_keep_default),
        cmocka_unit_test(test_early_drop),
        cmocka_unit_test(test_identical_candidates_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "arch/registry.h"
#include "arch/profile.h"
#include "arch/test_slowdown.h"
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The enumerators are expanded with KERNEL bound to each op's row macro. */
#define KERNEL(isa, sfx) CONV2D_ROW(isa, sfx)
#define KERNEL_P(isa, sfx) CONV2D_ROW_P(isa, sfx)
static const conv2d_ops conv2d_variants[] = {
#include "kernels/conv2d/conv2d.inc"
};
#undef KERNEL
#undef KERNEL_P
#define KERNEL(isa, sfx) POOL_ROW(isa, sfx)
static const pool_ops pool_variants[] = {
#include "kernels/pool/pool.inc"
};
#undef KERNEL
#define KERNEL(isa, sfx) GPOOL_ROW(isa, sfx)
static const gpool_ops gpool_variants[] = {
#include "kernels/gpool/gpool.inc"
};
#undef KERNEL
#define KERNEL(isa, sfx) ACT_ROW(isa, sfx)
static const act_ops act_variants[] = {
#include "kernels/act/act.inc"
};
#undef KERNEL
#define KERNEL(isa, sfx) DENSE_ROW(isa, sfx)
static const dense_ops dense_variants[] = {
#include "kernels/dense/dense.inc"
};
#undef KERNEL
#define KERNEL(isa, sfx) LOSS_ROW(isa, sfx)
static const loss_ops loss_variants[] = {
#include "kernels/loss/loss.inc"
};
#undef KERNEL
#define KERNEL(isa, sfx) OPTIM_ROW(isa, sfx)
static const optim_ops optim_variants[] = {
#include "kernels/optim/optim.inc"
};
#undef KERNEL
#define KERNEL(isa, sfx) CHAIN1X1_ROW(isa, sfx)
#define KERNEL_P(isa, sfx) CHAIN1X1_ROW_P(isa, sfx)
static const chain1x1_ops chain1x1_variants[] = {
#include "kernels/chain1x1/chain1x1.inc"
};
#undef KERNEL
#undef KERNEL_P
#define KERNEL(isa, sfx, lanes) WORM_ROW(isa, sfx, lanes)
#define KERNEL_P(isa, sfx, lanes) WORM_ROW_P(isa, sfx, lanes)
static const worm_ops worm_variants[] = {
#include "kernels/worm/worm.inc"
};
#undef KERNEL
#undef KERNEL_P

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define ACCESSOR(OP)                                                       \
    const OP##_ops *lb_##OP##_variants(int *count) {                       \
        *count = N_OF(OP##_variants);                                      \
        return OP##_variants;                                              \
    }
ACCESSOR(conv2d)
ACCESSOR(pool)
ACCESSOR(gpool)
ACCESSOR(act)
ACCESSOR(dense)
ACCESSOR(loss)
ACCESSOR(optim)
ACCESSOR(worm)
ACCESSOR(chain1x1)

bool lb_isa_usable(const lb_cpu *cpu, lb_isa cap, lb_isa isa) {
    return isa <= cap && lb_cpu_supports(cpu, isa);
}

/* Best variant: the highest usable ISA; the scalar reference is always usable. */
#define PICK(OP)                                                           \
    do {                                                                   \
        const OP##_ops *best = NULL;                                       \
        for (int i = 0; i < N_OF(OP##_variants); i++)                      \
            if (lb_isa_usable(cpu, cap, OP##_variants[i].isa) &&           \
                (!best || OP##_variants[i].isa > best->isa))               \
                best = &OP##_variants[i];                                  \
        out->OP = best;                                                    \
    } while (0)

bool lb_dispatch_build(lb_dispatch *out, const lb_cpu *cpu, lb_isa cap, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->cpu = *cpu;
    if (!lb_cpu_supports(cpu, cap)) {
        snprintf(err, errlen, "this CPU cannot run %s kernels", lb_isa_name(cap));
        return false;
    }
    out->cap = cap;
    PICK(conv2d);
    PICK(pool);
    PICK(gpool);
    PICK(act);
    PICK(dense);
    PICK(loss);
    PICK(optim);
    PICK(worm);
    PICK(chain1x1);
    return true;
}

static lb_dispatch g_dispatch;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* libgomp keeps per-thread team state on the caller's stack: OMP_NUM_THREADS=100000 overflowed it
 * (a SIGSEGV at the first parallel region of observe or generate).  Every command asks for the
 * dispatch before its first parallel region, so the check lives here, at the --threads bound. */
static void check_omp_threads(void) {
    const int n = omp_get_max_threads();
    if (n > LB_MAX_THREADS) {
        const char *env = getenv("OMP_NUM_THREADS");
        fprintf(stderr, "latbench: OMP_NUM_THREADS=%s asks for %d threads, more than %d\n", env ? env : "(unset)", n,
                LB_MAX_THREADS);
        exit(2);
    }
}

/* The tuning profile's worm entry (problem "any" at this cap and thread count, arch/profile.h) names
 * the variant measured fastest, which may be a lower ISA's (2 chains of 60x4 at mu 1: the scalar
 * worm 2.2x faster than the avx512 one on a Zen 5, the SIMD lanes mostly empty).  Every worm variant gives the same chains bit for bit (kernels/worm/worm.h),
 * so the choice changes speed only.  A variant above the cap (LATBENCH_ISA) is not used. */
static void apply_profile_worm(lb_dispatch *d, bool verbose) {
    const lb_profile_entry *e = lb_profile_choice(lb_profile_active(), "worm", LB_PASS_FWD, LB_PROFILE_ANY, d->cap,
                                                  omp_get_max_threads());
    if (!e) return;
    for (int i = 0; i < N_OF(worm_variants); i++) {
        const worm_ops *v = &worm_variants[i];
        if (strcmp(v->name, e->variant)) continue;
        if (!lb_isa_usable(&d->cpu, d->cap, v->isa)) {
            if (verbose)
                fprintf(stderr, "latbench: profile: worm variant %s is above the cap %s: not used\n", v->name,
                        lb_isa_name(d->cap));
            return;
        }
        d->worm = v;
        if (verbose)
            fprintf(stderr, "latbench: profile: worm uses %s (tuned at isa %s, %d thread%s: %.2fx the default)\n", v->name,
                    lb_isa_name(e->isa), e->threads, e->threads == 1 ? "" : "s", e->speedup);
        return;
    }
}

static void dispatch_init(void) {
    check_omp_threads();
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    lb_isa cap = lb_cpu_best_isa(&cpu);
    const char *env = getenv("LATBENCH_ISA");
    if (env && *env) {
        int isa = lb_isa_parse(env);
        if (isa < 0) {
            fprintf(stderr, "latbench: LATBENCH_ISA=%s is not one of scalar, avx2, avx512, neon\n", env);
            exit(2);
        }
        cap = (lb_isa)isa;
    }
    char err[128];
    if (!lb_dispatch_build(&g_dispatch, &cpu, cap, err, sizeof err)) {
        fprintf(stderr, "latbench: LATBENCH_ISA=%s: %s\n", env, err);
        exit(2);
    }
    const bool verbose = lb_verbose();
    apply_profile_worm(&g_dispatch, verbose);
    lb_test_slowdown_apply(&g_dispatch); /* test only; nothing unless LATBENCH_TEST_SLOWDOWN is set */
    if (verbose) {
        fprintf(stderr, "latbench: kernel dispatch (cap %s%s):\n", lb_isa_name(cap), env && *env ? ", from LATBENCH_ISA" : "");
        lb_dispatch_print(&g_dispatch, stderr);
    }
}

const lb_dispatch *lb_dispatch_get(void) {
    pthread_once(&g_once, dispatch_init);
    return &g_dispatch;
}

void lb_dispatch_print(const lb_dispatch *d, void *file) {
    FILE *f = file;
    fprintf(f, "  conv2d  %s\n  pool    %s\n  gpool   %s\n  act     %s\n  dense   %s\n  loss    %s\n  optim   %s\n",
            d->conv2d->name, d->pool->name, d->gpool->name, d->act->name, d->dense->name, d->loss->name,
            d->optim->name);
    fprintf(f, "  worm    %s\n", d->worm->name);
    fprintf(f, "  chain1x1 %s\n", d->chain1x1->name);
}

void lb_variants_print(const lb_cpu *c, void *file) {
    FILE *f = file;
#define LIST(OP)                                                                                      \
    do {                                                                                              \
        int n;                                                                                        \
        const OP##_ops *v = lb_##OP##_variants(&n);                                                   \
        fprintf(f, "  %-7s", #OP);                                                                    \
        for (int i = 0; i < n; i++) fprintf(f, " %c%s", lb_cpu_supports(c, v[i].isa) ? '+' : '-', v[i].name); \
        fprintf(f, "\n");                                                                             \
    } while (0)
    LIST(conv2d);
    LIST(pool);
    LIST(gpool);
    LIST(act);
    LIST(dense);
    LIST(loss);
    LIST(optim);
    LIST(worm);
    LIST(chain1x1);
#undef LIST
}

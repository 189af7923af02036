#include "tools/machine/peak.h"
#include <omp.h>
#include "tools/timing/timing.h"

double machine_fma_loop_flops(lb_isa isa) {
    switch (isa) {
    case LB_ISA_AVX512: return 12 * 16 * 2;
    case LB_ISA_AVX2: return 12 * 8 * 2;
    case LB_ISA_NEON: return 12 * 4 * 2;
    default: return 0;
    }
}

static float run_loop(lb_isa isa, long iters) {
#if LB_X86
    if (isa == LB_ISA_AVX512) return machine_fma_loop_avx512(iters);
    if (isa == LB_ISA_AVX2) return machine_fma_loop_avx2(iters);
#elif LB_ARM64
    if (isa == LB_ISA_NEON) return machine_fma_loop_neon(iters);
#endif
    (void)isa;
    (void)iters;
    return 0;
}

/* Each thread times its own loop; returns the slowest thread's time.  Per-thread clocks, not the
 * wall time of the region: a thread the OS starts late (the cores are shared) then does not count
 * as slow FMAs, while a loop slowed by its neighbour (shared core, lower all-core clock) does. */
static double timed_parallel_loop(lb_isa isa, int threads, long iters, int *granted) {
    volatile float sink = 0;
    double slowest = 0;
#pragma omp parallel num_threads(threads)
    {
#pragma omp master
        *granted = omp_get_num_threads();
#pragma omp barrier
        double t0 = timing_now();
        float r = run_loop(isa, iters);
        double t = timing_now() - t0;
#pragma omp critical
        {
            sink += r;
            if (t > slowest) slowest = t;
        }
    }
    (void)sink;
    return slowest;
}

double machine_peak_gflops(const lb_cpu *cpu, lb_isa isa, int threads) {
    double flops_per_iter = machine_fma_loop_flops(isa);
    if (flops_per_iter == 0 || !lb_cpu_supports(cpu, isa) || threads < 1) return 0;
    long iters = 1L << 14;
    int granted = threads;
    timed_parallel_loop(isa, threads, iters, &granted);   /* creates and wakes the threads */
    double t = timed_parallel_loop(isa, threads, iters, &granted);
    while (t < 5e-3 && iters < (1L << 40)) {
        iters *= 2;
        t = timed_parallel_loop(isa, threads, iters, &granted);
    }
    if (t < 10e-3) iters = (long)(iters * (10e-3 / t)) + 1;
    /* best of many short runs: on a shared machine noise only ever slows a run down */
    double best = 1e300;
    for (int rep = 0; rep < 20; rep++) {
        t = timed_parallel_loop(isa, threads, iters, &granted);
        if (t < best) best = t;
    }
    return flops_per_iter * (double)iters * granted / best * 1e-9;
}

lb_isa machine_peak_isa_for(const lb_cpu *cpu, lb_isa isa) {
    if (isa != LB_ISA_SCALAR) return isa;
#if LB_X86
    if (lb_cpu_supports(cpu, LB_ISA_AVX512)) return LB_ISA_AVX512;
    if (lb_cpu_supports(cpu, LB_ISA_AVX2)) return LB_ISA_AVX2;
#elif LB_ARM64
    if (lb_cpu_supports(cpu, LB_ISA_NEON)) return LB_ISA_NEON;
#endif
    return isa;
}

void machine_peak_sweep(const lb_cpu *cpu, lb_isa isa, const int *threads, int n, int cores, double *peaks) {
    for (int i = 0; i < n; i++) {
        const int t = threads[i];
        peaks[i] = machine_peak_gflops(cpu, isa, t);
        const double want = 0.85 * t * peaks[0] / threads[0];
        for (int retry = 0; retry < 3 && i > 0 && t <= cores && peaks[i] < want; retry++) {
            const double again = machine_peak_gflops(cpu, isa, t);
            if (again > peaks[i]) peaks[i] = again;
        }
    }
}

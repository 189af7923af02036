/* FMA peak of this machine, measured: a register-resident loop of 12 independent FMA chains
 * (enough to cover latency x throughput on current x86 and Arm cores), per ISA, on 1..T threads.
 * The loops live in per-ISA files (peak-avx512.c, peak-avx2.c, peak-neon.c) compiled with that
 * ISA's flags; they are only called when the CPU runs the ISA.
 */
#pragma once
#include "arch/cpu.h"

/* One thread's loop: iters iterations of 12 vector FMAs; returns a value derived from the
 * accumulators so that the work cannot be optimized away. */
float machine_fma_loop_avx512(long iters);
float machine_fma_loop_avx2(long iters);
float machine_fma_loop_neon(long iters);

/* FLOPs one iteration of that ISA's loop performs (12 chains x lanes x 2); 0 for none. */
double machine_fma_loop_flops(lb_isa isa);

/* The loop on `threads` OpenMP threads at once, in GFLOP/s: threads x one thread's FLOPs over the
 * slowest thread's own loop time, best of 20 runs of ~10 ms; 0 when the CPU cannot run the ISA or
 * it has no FMA loop (scalar). */
double machine_peak_gflops(const lb_cpu *cpu, lb_isa isa, int threads);

/* machine_peak_gflops of `isa` at each of threads[0..n) into peaks[i], for bench and bench --gbench
 * alike.  A count well below threads[i]/threads[0] times the first one, on no more threads than the
 * machine's `cores`, is measured again (up to 3 times, the best kept): another process or the
 * hypervisor held a core for the whole measurement (seen on a 2-vCPU VM: 254, then 504 GFLOP/s at
 * 2 threads). */
void machine_peak_sweep(const lb_cpu *cpu, lb_isa isa, const int *threads, int n, int cores, double *peaks);

/* The ISA whose peak a kernel of ISA `isa` is measured against: its own, except scalar, which is
 * held against the best vector ISA of the CPU (what the machine could do). */
lb_isa machine_peak_isa_for(const lb_cpu *cpu, lb_isa isa);

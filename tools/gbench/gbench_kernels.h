/* `latbench bench --gbench [options] [google-benchmark flags]`: every kernel variant of every
 * enumerator (those this CPU runs under the LATBENCH_ISA cap) and the oneDNN baselines, registered
 * with google-benchmark over the layer shapes of the preset networks (gbench.h: gbench_problems.c,
 * gbench_run.c, gbench_main.c).
 *
 * argv[0] is "--gbench" (or any program name); the options latbench consumes itself are
 *   --threads LIST   OpenMP thread counts (default 1); names end in /threads:T
 *   --nets LIST      networks whose layers give the shapes (default task1-eq,task1-st,task3-eq1,task2-fl)
 *   --lattice LIST   lattices (default 8x8,64x64)      --batch LIST   batch sizes (default 1,32)
 *   --cpu-time       time the calling thread's CPU time, not wall time (one thread only)
 * and everything else goes to google-benchmark (--benchmark_filter=RE, --benchmark_list_tests,
 * --benchmark_repetitions=N, --benchmark_min_time=S, --benchmark_out=FILE,
 * --benchmark_out_format=json, --benchmark_enable_random_interleaving=true, ...).  The
 * --benchmark_out file is written atomically (a temporary file renamed when the run succeeds).
 * Returns the exit status: 0, 1 when nothing matched or the output could not be written, 2 on a
 * bad option. */
#pragma once

int cmd_gbench(int argc, char **argv);

/* Memory bandwidth of this machine, measured by the harness (for the roofline of the kernel
 * benchmarks): a STREAM-style triad a[i] = b[i] + s*c[i] on three double arrays, the element range
 * split statically over OpenMP threads (each thread first-touches the pages it then streams).
 *
 * Counting convention (STREAM's): 24 bytes per element, i.e. two 8-byte loads and one 8-byte store.
 * The write-allocate read of a[] (the cache line is fetched before it is overwritten) is NOT counted,
 * so the memory traffic actually moved is up to 4/3 of the figure reported.  The result is the best
 * (shortest) of several timed passes, wall time of the whole parallel loop: noise from other work
 * on the machine only ever lowers it.
 */
#pragma once
#include <stddef.h>

/* One bandwidth measurement: the best pass (the figure used as a roof: noise only ever lowers a pass)
 * and the spread of the passes, so that a reader can tell a quiet measurement from a disturbed one. */
typedef struct {
    double best, median, worst;   /* GB/s over the timed passes (0: not measured) */
    int passes;
} machine_bw;

/* The same measurements as below with the passes' spread. */
machine_bw machine_stream_bw(int threads, size_t bytes_per_array);
machine_bw machine_cache_bw(int threads, size_t bytes_per_array);

/* DRAM bandwidth in GB/s (1e9 bytes/s) on `threads` threads.  bytes_per_array: the size of each of
 * the three arrays; 0 picks the default, 4x the last-level cache and at least 256 MiB for the
 * three arrays together (at most a quarter of physical memory).  0 on allocation failure. */
double machine_stream_gbps(int threads, size_t bytes_per_array);

/* The same triad on arrays resident in the L2 caches: bytes_per_array 0 sizes the three arrays
 * together at half of one core's L2 per thread, and repeats the triad enough to time it.  Code
 * compiled for the x86-64 baseline (SSE2), so on the widest cores it is a lower bound. */
double machine_cache_gbps(int threads, size_t bytes_per_array);

/* Sizes of the largest cache level and of one core's L2 (hwloc, else sysconf), 0 when unknown. */
size_t machine_llc_bytes(void);
size_t machine_l2_bytes(void);

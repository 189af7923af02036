#include "tools/machine/bandwidth.h"
#include <hwloc.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "tools/timing/timing.h"
#include "tools/stats/stats.h"

/* Size of one instance of a cache level: hwloc first (the kernel's view of the topology); sysconf's
 * figure comes from cpuid and is wrong under some hypervisors (320 MiB of "L3" on a 32 MiB VM). */
static size_t cache_bytes(hwloc_obj_type_t type, int sc_name) {
    size_t size = 0;
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) == 0) {
        if (hwloc_topology_load(topo) == 0) {
            hwloc_obj_t o = hwloc_get_obj_by_type(topo, type, 0);
            if (o && o->attr) size = (size_t)o->attr->cache.size;
        }
        hwloc_topology_destroy(topo);
    }
    if (!size) {
        long v = sysconf(sc_name);
        if (v > 0) size = (size_t)v;
    }
    return size;
}

size_t machine_llc_bytes(void) {
    size_t s = cache_bytes(HWLOC_OBJ_L3CACHE, _SC_LEVEL3_CACHE_SIZE);
    return s ? s : machine_l2_bytes();
}

size_t machine_l2_bytes(void) { return cache_bytes(HWLOC_OBJ_L2CACHE, _SC_LEVEL2_CACHE_SIZE); }

/* reps triads over n elements on `threads` threads, the same static split as the first touch; wall
 * seconds of the region. */
static double timed_triad(double *restrict a, const double *restrict b, const double *restrict c, size_t n, int threads,
                          int reps) {
    const double s = 3.0;
    double t0 = timing_now();
#pragma omp parallel num_threads(threads)
    for (int r = 0; r < reps; r++) {
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
    }
    return timing_now() - t0;
}

#define MAX_PASSES 32

/* Bandwidth of `reps` triads per pass over arrays of n doubles: the best, median and worst of
 * `passes` passes (at most MAX_PASSES). */
static machine_bw triad_bw(int threads, size_t n, int reps, int passes) {
    machine_bw bw = {0, 0, 0, 0};
    if (threads < 1 || n == 0) return bw;
    if (passes > MAX_PASSES) passes = MAX_PASSES;
    size_t bytes = (n * sizeof(double) + 63) & ~(size_t)63;
    double *a = NULL, *b = NULL, *c = NULL;
    if (posix_memalign((void **)&a, 64, bytes) || posix_memalign((void **)&b, 64, bytes) ||
        posix_memalign((void **)&c, 64, bytes)) {
        free(a);
        free(b);
        free(c);
        return bw;
    }
    /* first touch by the thread that streams each part (pages land on its NUMA node) */
#pragma omp parallel for schedule(static) num_threads(threads)
    for (size_t i = 0; i < n; i++) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    timed_triad(a, b, c, n, threads, 1);   /* warm-up: threads created, TLBs and caches primed */
    double t[MAX_PASSES];
    for (int p = 0; p < passes; p++) t[p] = timed_triad(a, b, c, n, threads, reps);
    const double med_t = stats_median(t, passes, t);   /* t sorted in place */
    /* a[] must hold 1 + 3*2 everywhere: checks the loop ran (and keeps it from being elided) */
    volatile double check = a[n / 2] + a[n - 1];
    free(a);
    free(b);
    free(c);
    if (check != 14.0) return bw;
    const double bytes_moved = 24.0 * (double)n * reps * 1e-9;
    bw.best = bytes_moved / t[0];
    bw.median = bytes_moved / med_t;
    bw.worst = bytes_moved / t[passes - 1];
    bw.passes = passes;
    return bw;
}

machine_bw machine_stream_bw(int threads, size_t bytes_per_array) {
    if (!bytes_per_array) {
        size_t total = 4 * machine_llc_bytes();
        if (total < ((size_t)256 << 20)) total = (size_t)256 << 20;
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        if (pages > 0 && page > 0 && total > (size_t)pages * (size_t)page / 4) total = (size_t)pages * (size_t)page / 4;
        /* LATBENCH_STREAM_MB caps the three arrays' total (the test suite: tests/run.sh; its tests check
         * the roofs' plumbing, not their size): 4x a large LLC is GiBs, 10 CPU-s a thread count */
        const char *cap = getenv("LATBENCH_STREAM_MB");
        char *end = NULL;
        long mb = cap ? strtol(cap, &end, 10) : 0;
        if (cap && (end == cap || *end || mb <= 0 || mb > (1L << 20)))
            fprintf(stderr, "latbench: LATBENCH_STREAM_MB=%s is not a size in MiB (1..1048576): ignored\n", cap);
        else if (cap && total > ((size_t)mb << 20))
            total = (size_t)mb << 20;
        bytes_per_array = total / 3;
    }
    return triad_bw(threads, bytes_per_array / sizeof(double), 1, 10);
}

machine_bw machine_cache_bw(int threads, size_t bytes_per_array) {
    if (threads < 1) return (machine_bw){0, 0, 0, 0};
    if (!bytes_per_array) {
        size_t l2 = machine_l2_bytes();
        if (!l2) l2 = (size_t)256 << 10;
        bytes_per_array = (size_t)threads * (l2 / 2) / 3;
    }
    size_t n = bytes_per_array / sizeof(double);
    /* about 2 ms per pass at ~100 GB/s per thread */
    double per_rep = 24.0 * (double)n / (100e9 * threads);
    int reps = per_rep > 0 ? (int)(2e-3 / per_rep) + 1 : 1;
    if (reps > 100000) reps = 100000;
    return triad_bw(threads, n, reps, 20);
}

double machine_stream_gbps(int threads, size_t bytes_per_array) { return machine_stream_bw(threads, bytes_per_array).best; }
double machine_cache_gbps(int threads, size_t bytes_per_array) { return machine_cache_bw(threads, bytes_per_array).best; }

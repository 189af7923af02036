/* Machine topology (hwloc) and the pinning of OpenMP worker threads.
 *
 * machine_topology_detect() records, once, what the machine has (packages, cores, PUs, NUMA nodes,
 * caches) and which of it this process may use: hwloc's allowed set (the container's cgroup
 * cpuset) intersected with the calling thread's affinity mask (taskset, numactl).  Call it at
 * start-up, before any pinning: thread 0 of a pinned team is the calling thread, whose affinity
 * the pinning narrows.
 *
 * Pinning policy "cores" (MACHINE_PIN_CORES): OpenMP thread i of a `#pragma omp parallel
 * num_threads(T)` team is bound to the i-th allowed core (hwloc's logical order, so one package's
 * cores are filled before the next, and NUMA nodes with them), on one PU of that core: the core's
 * SMT siblings stay idle.  With more threads than allowed cores the list wraps: the second round
 * uses each core's second PU where the core has one, and after that PUs are shared (the
 * description says so).  Policy "none" (MACHINE_PIN_NONE) touches no affinity at all (it does not undo
 * an earlier pinning).  When the user set OMP_PROC_BIND (other than "false"), OMP_PLACES,
 * GOMP_CPU_AFFINITY or KMP_AFFINITY (other than "disabled"/"none"), the OpenMP runtime binds, and
 * under likwid-pin / likwid-perfctr -C (LIKWID_PIN set) likwid does: machine_pin_threads then does not
 * re-pin (it says so).
 *
 * Why the binding lasts: libgomp keeps its pool threads between parallel regions and gives
 * thread number i of a later team of the same (or smaller) size the same OS thread, so a binding
 * made inside one region holds in the next (tests/test_topology.c reads it back with
 * sched_getcpu()).  A team of a different size may get new threads: pin again after changing T.
 *
 * Linux only (sched_setaffinity).  Nothing here is global state: machine_topology is plain data. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "lib/io/jsonfile.h"

#define MACHINE_TOPO_MAX_CORES 1024

typedef struct {
    int level;                  /* 1, 2, 3 */
    unsigned long long size;    /* bytes of one instance; 0 when hwloc does not report the level */
    unsigned linesize;          /* bytes, 0 when unknown */
    int count;                  /* instances on the machine */
    int cores_sharing;          /* cores under one instance */
} machine_cache_info;

typedef struct {
    bool from_hwloc;            /* false: hwloc failed, counts come from sysconf (source says why) */
    char source[96];            /* "hwloc 2.9.0" or "sysconf (hwloc: ...)" */
    int packages, cores, pus, numa_nodes;
    int smt;                    /* PUs per core (the largest) */
    int allowed_cores, allowed_pus;   /* usable by this process (cpuset and affinity) */
    machine_cache_info cache[3];     /* L1d, L2, L3 (unified or data) */
    /* OS index of the PU that policy "cores" uses for each allowed core (second: its SMT sibling
     * or -1), in hwloc logical order; at most MACHINE_TOPO_MAX_CORES. */
    int n_core_pu;
    int core_pu[MACHINE_TOPO_MAX_CORES];
    int core_pu2[MACHINE_TOPO_MAX_CORES];
    /* The ranks of an MPI run that share this node (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED),
     * ranks_world(); with MPI not initialized, the launcher's OMPI_COMM_WORLD_LOCAL_RANK/_LOCAL_SIZE or
     * MPI_LOCALRANKID/MPI_LOCALNRANKS; 0 of 1 without a launcher) and this rank's slice of the node's allowed cores
     * (machine_rank_slice): core_pu, core_pu2, n_core_pu and allowed_cores then hold the slice alone. */
    int local_rank, local_size;
    bool launcher_bound;        /* the affinity mask was narrower than the allowed set (mpirun --bind-to, taskset) */
    bool slice_unpinned;        /* several ranks and no slice (more ranks than cores): nobody pins */
    char slice[200];            /* "local rank 1 of 2: cores 2-3 of 4 (PU 2,3)", or why not pinned; "" for one rank */
} machine_topology;

typedef enum { MACHINE_PIN_NONE, MACHINE_PIN_CORES } machine_pin_policy;
#define MACHINE_PIN_DEFAULT MACHINE_PIN_CORES   /* what benchmarks use unless told otherwise */

/* Fills t; never fails (falls back to sysconf, with the reason in t->source). */
void machine_topology_detect(machine_topology *t);

const char *machine_pin_policy_name(machine_pin_policy p);              /* "none", "cores" */
bool machine_pin_policy_parse(const char *s, machine_pin_policy *out);  /* false on an unknown name */

/* The variables that make machine_pin_threads leave binding to the OpenMP runtime or likwid, as
 * "OMP_PROC_BIND=close" (the first one set), or NULL when none is set. */
const char *machine_pin_user_binding(char *buf, size_t len);

/* What machine_pin_threads(t, threads, policy) would do, without doing it: "cores: 0->PU0 1->PU1",
 * "none: threads not pinned", "not pinned: OMP_PROC_BIND=close set (the OpenMP runtime binds)",
 * with a note appended when threads wrap around the allowed cores.  Returns the number of
 * threads that would be bound (0 when none). */
int machine_pin_plan(const machine_topology *t, int threads, machine_pin_policy policy, char *desc, size_t len);

/* Binds each thread of a `#pragma omp parallel num_threads(threads)` team per the policy and
 * writes the description (as machine_pin_plan, plus a note for any thread whose binding failed).
 * Returns the number of threads bound. */
int machine_pin_threads(const machine_topology *t, int threads, machine_pin_policy policy, char *desc, size_t len);

/* The topology as a new JSON object (source, counts, caches). */
json_t *machine_topology_json(const machine_topology *t);

/* The calling thread's affinity mask, saved before pinning and given back to a whole team after
 * the benchmark: pinning must not outlive it (`latbench run` trains afterwards, and a pinned
 * master thread makes omp_get_num_procs() report 1, so the experiment ran on one thread). */
typedef struct {
    bool ok;
    unsigned char set[128]; /* a cpu_set_t (1024 CPUs), kept opaque so that this header needs no _GNU_SOURCE */
} machine_affinity;
void machine_affinity_save(machine_affinity *a);
/* Every thread of a `threads` team (and so the pool machine_pin_threads bound) gets the saved mask. */
void machine_affinity_restore(const machine_affinity *a, int threads);

/* The slice of a node's cores that local rank local_rank of local_size takes: the local_rank-th of
 * local_size nearly equal runs of the list cores[0..n) (the first n % local_size ranks get one core
 * more), so the ranks of a node never share a core.  bound (the launcher already bound this rank to
 * these cores): the whole list, not sliced again.  Writes the slice's cores to out (room for n) and a
 * line to why; returns how many, or 0 when the ranks cannot get a core each (oversubscribed: nobody
 * pins, why says so).  Pure: no environment, no system call (tests/test_pin_slice.c). */
int machine_rank_slice(const int *cores, int n, int local_rank, int local_size, bool bound, int *out, char *why, size_t len);

/* One line: "1 package, 2 cores (2 allowed), 2 PUs, SMT 1, 1 NUMA node; L1d 32 KiB x2, ..." */
void machine_topology_format(const machine_topology *t, char *buf, size_t len);

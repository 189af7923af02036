#define _GNU_SOURCE
#include "tools/machine/textbuf.h"
#include "tools/machine/topology.h"
#include "tools/mpi/ranks.h"
#include <errno.h>
#include <hwloc.h>
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void apply_rank_slice(machine_topology *t);

static void detect_sysconf(machine_topology *t, const char *why) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    t->pus = t->cores = n > 0 ? (int)n : 1;
    t->packages = t->numa_nodes = t->smt = 1;
    cpu_set_t mask;
    CPU_ZERO(&mask);
    t->allowed_pus = sched_getaffinity(0, sizeof mask, &mask) == 0 ? CPU_COUNT(&mask) : t->pus;
    t->allowed_cores = t->allowed_pus;
    t->n_core_pu = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && t->n_core_pu < MACHINE_TOPO_MAX_CORES; cpu++)
        if (CPU_ISSET(cpu, &mask)) {
            t->core_pu[t->n_core_pu] = cpu;
            t->core_pu2[t->n_core_pu++] = -1;
        }
    snprintf(t->source, sizeof t->source, "sysconf (hwloc: %s)", why);
    t->launcher_bound = t->allowed_pus < t->pus;
}

/* The calling thread's affinity as an hwloc bitmap; NULL on failure. */
static hwloc_bitmap_t thread_affinity(hwloc_topology_t topo) {
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set && hwloc_get_cpubind(topo, set, HWLOC_CPUBIND_THREAD) != 0) {
        hwloc_bitmap_free(set);
        return NULL;
    }
    return set;
}

static void detect_caches(machine_topology *t, hwloc_topology_t topo) {
    static const hwloc_obj_type_t types[3] = {HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE};
    for (int i = 0; i < 3; i++) {
        machine_cache_info *c = &t->cache[i];
        c->level = i + 1;
        int n = hwloc_get_nbobjs_by_type(topo, types[i]);
        hwloc_obj_t o = n > 0 ? hwloc_get_obj_by_type(topo, types[i], 0) : NULL;
        if (!o || o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION) continue;
        c->size = (unsigned long long)o->attr->cache.size;
        c->linesize = o->attr->cache.linesize;
        c->count = n;
        c->cores_sharing = hwloc_get_nbobjs_inside_cpuset_by_type(topo, o->cpuset, HWLOC_OBJ_CORE);
    }
}

void machine_topology_detect(machine_topology *t) {
    memset(t, 0, sizeof *t);
    for (int i = 0; i < 3; i++) t->cache[i].level = i + 1;
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0) {
        detect_sysconf(t, "hwloc_topology_init failed");
        apply_rank_slice(t);
        return;
    }
    if (hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        detect_sysconf(t, "hwloc_topology_load failed");
        apply_rank_slice(t);
        return;
    }
#ifdef HWLOC_VERSION
    snprintf(t->source, sizeof t->source, "hwloc %s", HWLOC_VERSION);
#else
    unsigned v = hwloc_get_api_version();
    snprintf(t->source, sizeof t->source, "hwloc API %u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
#endif
    t->from_hwloc = true;
    t->packages = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    t->cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    t->pus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    t->numa_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    if (t->packages < 1) t->packages = 1;
    if (t->numa_nodes < 1) t->numa_nodes = 1;
    if (t->pus < 1) t->pus = 1;
    if (t->cores < 1) t->cores = t->pus;   /* hwloc without core objects: one PU per core */
    detect_caches(t, topo);

    /* Usable PUs: hwloc's allowed set (cgroup cpuset) and this thread's affinity mask (taskset),
     * unless OpenMP or likwid binds: then the mask is the runtime's place for thread 0. */
    char user[160];
    hwloc_bitmap_t allowed = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topo));
    hwloc_bitmap_t aff = machine_pin_user_binding(user, sizeof user) ? NULL : thread_affinity(topo);
    if (allowed && aff) {
        const int before = hwloc_bitmap_weight(allowed);
        hwloc_bitmap_and(allowed, allowed, aff);
        t->launcher_bound = hwloc_bitmap_weight(allowed) < before;
    }
    hwloc_bitmap_t in_core = hwloc_bitmap_alloc();
    t->allowed_pus = allowed ? hwloc_bitmap_weight(allowed) : t->pus;
    int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    for (int i = 0; i < ncores && allowed && in_core; i++) {
        hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)i);
        hwloc_bitmap_and(in_core, core->cpuset, allowed);
        int first = hwloc_bitmap_first(in_core);
        if (first < 0) continue;
        t->allowed_cores++;
        int pus_here = hwloc_bitmap_weight(core->cpuset);
        if (pus_here > t->smt) t->smt = pus_here;
        if (t->n_core_pu < MACHINE_TOPO_MAX_CORES) {
            t->core_pu[t->n_core_pu] = first;
            t->core_pu2[t->n_core_pu++] = hwloc_bitmap_next(in_core, first);
        }
    }
    if (ncores <= 0 && allowed) {   /* no core objects: every allowed PU is a core */
        int pu;
        hwloc_bitmap_foreach_begin(pu, allowed) {
            t->allowed_cores++;
            if (t->n_core_pu < MACHINE_TOPO_MAX_CORES) {
                t->core_pu[t->n_core_pu] = pu;
                t->core_pu2[t->n_core_pu++] = -1;
            }
        }
        hwloc_bitmap_foreach_end();
    }
    if (t->smt < 1) t->smt = 1;
    if (t->allowed_pus < 1 || t->allowed_cores < 1) {   /* affinity unreadable: trust hwloc's counts */
        t->allowed_pus = t->pus;
        t->allowed_cores = t->cores;
    }
    hwloc_bitmap_free(in_core);
    hwloc_bitmap_free(aff);
    hwloc_bitmap_free(allowed);
    hwloc_topology_destroy(topo);
    apply_rank_slice(t);
}

/* ---- ranks x threads: each rank of a node on its own cores ---- */

int machine_rank_slice(const int *cores, int n, int local_rank, int local_size, bool bound, int *out, char *why, size_t len) {
    size_t pos = 0;
    if (len) why[0] = 0;
    if (local_size < 1) local_size = 1;
    int first = 0, count = n;
    if (!bound && local_size > 1) {
        if (n < local_size || local_rank < 0 || local_rank >= local_size) {
            machine_textf(why, len, &pos, "local rank %d of %d: not pinned: %d ranks on this node's %d allowed cores "
                          "(oversubscribed: the ranks share cores whatever the pinning)", local_rank, local_size, local_size, n);
            return 0;
        }
        const int base = n / local_size, extra = n % local_size;
        first = local_rank * base + (local_rank < extra ? local_rank : extra);
        count = base + (local_rank < extra);
    }
    for (int i = 0; i < count; i++) out[i] = cores[first + i];
    machine_textf(why, len, &pos, "local rank %d of %d: ", local_rank, local_size);
    if (bound) machine_textf(why, len, &pos, "the %d core%s the launcher bound it to (not sliced again), PU", count, count == 1 ? "" : "s");
    else machine_textf(why, len, &pos, "cores %d-%d of %d, PU", first, first + count - 1, n);
    for (int i = 0; i < count; i++) machine_textf(why, len, &pos, "%s%d", i ? "," : " ", out[i]);
    return count;
}

/* Under mpirun with several ranks on this node: core_pu and core_pu2 narrowed to this rank's slice. */
static void apply_rank_slice(machine_topology *t) {
    const ranks_ctx *rk = ranks_world();
    if (rk->active) { /* MPI's own count of the ranks on this node (MPI_COMM_TYPE_SHARED): any launcher */
        t->local_rank = rk->local_rank, t->local_size = rk->local_size;
    } else { /* MPI not initialized (a build without it, a unit test): the launcher's variables */
        const char *lr = getenv("OMPI_COMM_WORLD_LOCAL_RANK"), *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        if (!lr || !ls) lr = getenv("MPI_LOCALRANKID"), ls = getenv("MPI_LOCALNRANKS"); /* MPICH, Intel MPI (Hydra) */
        t->local_rank = lr && ls ? atoi(lr) : 0;
        t->local_size = lr && ls && atoi(ls) > 0 ? atoi(ls) : 1;
    }
    t->slice[0] = 0;
    t->slice_unpinned = false;
    if (t->local_size <= 1) return;
    int got[MACHINE_TOPO_MAX_CORES], pu2[MACHINE_TOPO_MAX_CORES];
    const int n = machine_rank_slice(t->core_pu, t->n_core_pu, t->local_rank, t->local_size, t->launcher_bound, got, t->slice,
                                     sizeof t->slice);
    if (n == 0) {
        t->slice_unpinned = true;
        return;
    }
    int first = 0;   /* the slice is a run of the list: where it starts (PUs are unique) */
    while (first < t->n_core_pu && t->core_pu[first] != got[0]) first++;
    t->allowed_pus = n;
    for (int i = 0; i < n; i++) pu2[i] = t->core_pu2[first + i], t->allowed_pus += pu2[i] >= 0;
    memcpy(t->core_pu, got, sizeof(int) * (size_t)n);
    memcpy(t->core_pu2, pu2, sizeof(int) * (size_t)n);
    t->n_core_pu = t->allowed_cores = n;
}

const char *machine_pin_policy_name(machine_pin_policy p) { return p == MACHINE_PIN_CORES ? "cores" : "none"; }

bool machine_pin_policy_parse(const char *s, machine_pin_policy *out) {
    if (!strcmp(s, "cores")) *out = MACHINE_PIN_CORES;
    else if (!strcmp(s, "none")) *out = MACHINE_PIN_NONE;
    else return false;
    return true;
}

const char *machine_pin_user_binding(char *buf, size_t len) {
    /* LIKWID_PIN: likwid-pin and likwid-perfctr -C pin the threads themselves (LD_PRELOAD). */
    static const char *vars[] = {"OMP_PROC_BIND", "OMP_PLACES", "GOMP_CPU_AFFINITY", "KMP_AFFINITY", "LIKWID_PIN"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (!v || !*v) continue;
        if (!strcmp(vars[i], "OMP_PROC_BIND") && !strcasecmp(v, "false")) continue;   /* nobody binds */
        if (!strcmp(vars[i], "KMP_AFFINITY") && (strstr(v, "disabled") || strstr(v, "none")))
            continue;   /* likwid-perfctr sets KMP_AFFINITY=disabled */
        snprintf(buf, len, "%s=%s", vars[i], v);
        return buf;
    }
    return NULL;
}

/* The PU of thread i under policy "cores"; *shared is set when the PU is already used by an
 * earlier thread (more threads than allowed PUs). */
static int pu_of_thread(const machine_topology *t, int i, bool *shared) {
    int n = t->n_core_pu;
    int round = i / n, core = i % n;
    *shared = false;
    if (round == 1 && t->core_pu2[core] >= 0) return t->core_pu2[core];
    if (round >= 1) *shared = true;
    return t->core_pu[core];
}

int machine_pin_plan(const machine_topology *t, int threads, machine_pin_policy policy, char *desc, size_t len) {
    size_t pos = 0;
    char user[160];
    if (len) desc[0] = 0;
    if (threads < 1) threads = 1;
    if (policy == MACHINE_PIN_NONE) {
        machine_textf(desc, len, &pos, "none: threads not pinned");
        return 0;
    }
    if (machine_pin_user_binding(user, sizeof user)) {
        machine_textf(desc, len, &pos, "not pinned: %s set (%s binds the threads)", user,
               !strncmp(user, "LIKWID", 6) ? "likwid" : "the OpenMP runtime");
        return 0;
    }
    if (t->slice_unpinned) {
        machine_textf(desc, len, &pos, "%s", t->slice);
        return 0;
    }
    if (t->n_core_pu < 1) {
        machine_textf(desc, len, &pos, "not pinned: no usable core found");
        return 0;
    }
    machine_textf(desc, len, &pos, "cores:");
    int shared = 0, siblings = 0;
    for (int i = 0; i < threads; i++) {
        bool sh;
        int pu = pu_of_thread(t, i, &sh);
        shared += sh;
        siblings += i >= t->n_core_pu && !sh;
        machine_textf(desc, len, &pos, " %d->PU%d", i, pu);
    }
    if (siblings) machine_textf(desc, len, &pos, " (note: %d threads on %d allowed cores: %d on SMT siblings)", threads, t->n_core_pu, siblings);
    if (shared)
        machine_textf(desc, len, &pos, " (note: %d threads on %d allowed PUs: wrapped, %d share a PU)", threads,
               t->allowed_pus, shared);
    return threads;
}

int machine_pin_threads(const machine_topology *t, int threads, machine_pin_policy policy, char *desc, size_t len) {
    int planned = machine_pin_plan(t, threads, policy, desc, len);
    if (planned == 0) return 0;
    int bound = 0, failed_thread = -1, failed_errno = 0;
#pragma omp parallel num_threads(threads) reduction(+ : bound)
    {
        int i = omp_get_thread_num();
        bool sh;
        int pu = pu_of_thread(t, i, &sh);
        cpu_set_t *set = CPU_ALLOC((size_t)pu + 1);
        size_t sz = CPU_ALLOC_SIZE((size_t)pu + 1);
        int err = ENOMEM;
        if (set) {
            CPU_ZERO_S(sz, set);
            CPU_SET_S((size_t)pu, sz, set);
            err = sched_setaffinity(0, sz, set) == 0 ? 0 : errno;   /* 0: the calling thread */
            CPU_FREE(set);
        }
        if (err == 0) bound++;
        else {
#pragma omp critical(lb_pin_report)
            if (failed_thread < 0) {
                failed_thread = i;
                failed_errno = err;
            }
        }
    }
    if (bound < threads) {
        size_t pos = strlen(desc);
        machine_textf(desc, len, &pos, " (binding failed for %d of %d threads, first thread %d: %s)", threads - bound, threads,
               failed_thread, failed_thread >= 0 ? strerror(failed_errno) : "the team was smaller than asked");
    }
    return bound;
}

json_t *machine_topology_json(const machine_topology *t) {
    json_t *o = json_object(), *caches = json_array();
    io_json_set_str(o, "source", t->source);
    io_json_set_int(o, "packages", t->packages);
    io_json_set_int(o, "cores", t->cores);
    io_json_set_int(o, "pus", t->pus);
    io_json_set_int(o, "numa_nodes", t->numa_nodes);
    io_json_set_int(o, "smt", t->smt);
    io_json_set_int(o, "allowed_cores", t->allowed_cores);
    io_json_set_int(o, "allowed_pus", t->allowed_pus);
    for (int i = 0; i < 3; i++) {
        const machine_cache_info *c = &t->cache[i];
        if (!c->size) continue;
        json_t *ci = json_object();
        io_json_set_int(ci, "level", c->level);
        io_json_set_int(ci, "size_bytes", (long long)c->size);
        io_json_set_int(ci, "line_bytes", c->linesize);
        io_json_set_int(ci, "instances", c->count);
        io_json_set_int(ci, "cores_sharing", c->cores_sharing);
        json_array_append_new(caches, ci);
    }
    json_object_set_new(o, "caches", caches);
    /* the ranks of the run: how many, how many share this node, this rank's cores (PUs it pins to) */
    json_t *rk = json_object(), *cores = json_array();
    io_json_set_int(rk, "ranks", ranks_world()->size);
    io_json_set_int(rk, "rank", ranks_world()->rank);
    io_json_set_int(rk, "ranks_per_node", t->local_size);
    io_json_set_int(rk, "local_rank", t->local_rank);
    for (int i = 0; i < t->n_core_pu && !t->slice_unpinned; i++) json_array_append_new(cores, json_integer(t->core_pu[i]));
    json_object_set_new(rk, "cores", cores);
    io_json_set_str(rk, "slice", t->slice[0] ? t->slice : NULL);
    json_object_set_new(o, "ranks", rk);
    return o;
}

static void format_size(char *buf, size_t len, unsigned long long b) {
    if (b >= (1ull << 20) && b % (1ull << 20) == 0) snprintf(buf, len, "%llu MiB", b >> 20);
    else snprintf(buf, len, "%llu KiB", b >> 10);
}

void machine_topology_format(const machine_topology *t, char *buf, size_t len) {
    size_t pos = 0;
    if (len) buf[0] = 0;
    machine_textf(buf, len, &pos, "%d package%s, %d core%s (%d allowed), %d PU%s (%d allowed), SMT %d, %d NUMA node%s",
           t->packages, t->packages == 1 ? "" : "s", t->cores, t->cores == 1 ? "" : "s", t->allowed_cores, t->pus,
           t->pus == 1 ? "" : "s", t->allowed_pus, t->smt, t->numa_nodes, t->numa_nodes == 1 ? "" : "s");
    for (int i = 0; i < 3; i++) {
        const machine_cache_info *c = &t->cache[i];
        if (!c->size) continue;
        char s[32];
        format_size(s, sizeof s, c->size);
        machine_textf(buf, len, &pos, "%s L%d%s %s x%d (%d core%s each)", i ? "," : ";", c->level, i == 0 ? "d" : "", s, c->count,
               c->cores_sharing, c->cores_sharing == 1 ? "" : "s");
    }
}

_Static_assert(sizeof(cpu_set_t) <= sizeof(((machine_affinity *)0)->set), "machine_affinity holds a cpu_set_t");

void machine_affinity_save(machine_affinity *a) {
    cpu_set_t m;
    CPU_ZERO(&m);
    a->ok = sched_getaffinity(0, sizeof m, &m) == 0;
    memcpy(a->set, &m, sizeof m);
}

void machine_affinity_restore(const machine_affinity *a, int threads) {
    if (!a->ok || threads < 1) return;
    cpu_set_t m;
    memcpy(&m, a->set, sizeof m);
#pragma omp parallel num_threads(threads)
    sched_setaffinity(0, sizeof m, &m);
}

/* Hardware counters around a region (a benchmark's timed calls, a pipeline phase), through
 * perf_event_open, with a software fallback; and the likwid marker API (make LIKWID=1).
 *
 * Backends, chosen once by machine_counters_open:
 *   "perf_event:hw"  a group of cycles, instructions, cache-references, cache-misses,
 *                    branch-instructions, branch-misses (members the PMU lacks are left out and
 *                    named in `note`), plus the software group below;
 *   "perf_event:sw"  task-clock, page-faults, context-switches, cpu-migrations; `reason` says why
 *                    the hardware group did not open (event, errno, perf_event_paranoid);
 *   "none"           nothing counts; `reason` says why.  Values are then absent, never zero.
 * Each group is read with PERF_FORMAT_GROUP | TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING; a group
 * that got the PMU only part of the time (multiplexing) is scaled by enabled/running and the
 * values say `multiplexed`; a group that never got it gives no values.
 *
 * Threads: a perf_event opened with pid 0 counts only the thread that opened it, so
 * machine_counters_open opens one group per thread inside `#pragma omp parallel num_threads(threads)`.
 * libgomp keeps its pool threads between parallel regions (thread number i of a later team of the
 * same or smaller size is the same OS thread), so those groups count every worker of the later
 * regions that use at most `threads` threads, including oneDNN's (same OpenMP runtime).  Open with
 * the largest team the region will use; a region that runs more threads than that is undercounted
 * (threads_active tells how many counted anything).  Values are sums over the threads.
 *
 * Privileges: perf_event_paranoid >= 2 without CAP_PERFMON/CAP_SYS_ADMIN allows only user-space
 * counting of the own process, so open retries with exclude_kernel = 1 after EACCES and says
 * `user_only`: hardware events and page faults then count user mode only (task-clock still counts
 * all CPU time), and context switches and CPU migrations (which the kernel records in kernel
 * mode, so exclude_kernel would make them read 0) are not counted at all rather than shown as 0.
 *
 * Cost: start and stop are one ioctl per group and thread plus (start) one read per group and
 * thread for the baseline; callable from the main thread, outside parallel regions.
 * No global state: everything lives in machine_counters.  A zero-initialized machine_counters (or one whose
 * open failed, or was closed) is valid for start/stop/read/close: it reads as backend "none". */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/io/jsonfile.h"

typedef enum {
    /* hardware (PERF_TYPE_HARDWARE) */
    MACHINE_CTR_CYCLES,
    MACHINE_CTR_INSTRUCTIONS,
    MACHINE_CTR_CACHE_REFERENCES,
    MACHINE_CTR_CACHE_MISSES,
    MACHINE_CTR_BRANCHES,
    MACHINE_CTR_BRANCH_MISSES,
    /* software (PERF_TYPE_SOFTWARE) */
    MACHINE_CTR_TASK_CLOCK,   /* nanoseconds */
    MACHINE_CTR_PAGE_FAULTS,
    MACHINE_CTR_CONTEXT_SWITCHES,
    MACHINE_CTR_CPU_MIGRATIONS,
    MACHINE_CTR_COUNT
} machine_counter_id;
#define MACHINE_CTR_FIRST_SW MACHINE_CTR_TASK_CLOCK

typedef enum { MACHINE_BACKEND_NONE, MACHINE_BACKEND_PERF_SW, MACHINE_BACKEND_PERF_HW } machine_counter_backend;

typedef enum {
    MACHINE_COUNTERS_AUTO,       /* hardware if it opens, else software, else none */
    MACHINE_COUNTERS_SOFTWARE,   /* software only (cheaper to read; no PMU needed) */
    MACHINE_COUNTERS_OFF         /* backend "none", reason "counters turned off" */
} machine_counters_mode;

typedef struct {
    machine_counter_backend backend;
    int threads;            /* threads with open groups */
    int n_hw, n_sw;         /* members of the hardware and the software group */
    machine_counter_id hw_ids[MACHINE_CTR_FIRST_SW], sw_ids[MACHINE_CTR_COUNT - MACHINE_CTR_FIRST_SW];
    bool user_only;         /* opened with exclude_kernel (perf_event_paranoid) */
    int paranoid;           /* perf_event_paranoid at open; -100 when unreadable */
    bool running;
    int *fds;               /* [threads][n_hw + n_sw], group leaders first; owned */
    uint64_t *base;         /* [threads][2][3 + MACHINE_CTR_COUNT] raw group reads at start; owned */
    double start_ns, wall_ns;
    char reason[384];       /* why the backend is not perf_event:hw ("" when it is) */
    char note[512];         /* other remarks: members left out, user-space only, smaller team */
} machine_counters;

typedef struct {
    const char *backend;    /* "perf_event:hw", "perf_event:sw", "none" */
    char reason[384];
    char note[640];         /* machine_counters' note plus what this read found (multiplexing, unscheduled) */
    int threads, threads_active;
    bool user_only, multiplexed;
    double wall_ns;         /* start..stop (or ..read while running) */
    bool valid[MACHINE_CTR_COUNT];
    double value[MACHINE_CTR_COUNT];   /* summed over threads, scaled for multiplexing */
    /* derived; NAN where an input is missing */
    double ipc, cache_miss_rate, branch_miss_rate, cpus_utilized;
} machine_counter_values;

/* "cycles", "instructions", "cache-references", "cache-misses", "branch-instructions",
 * "branch-misses", "task-clock", "page-faults", "context-switches", "cpu-migrations" (perf's names). */
const char *machine_counter_name(machine_counter_id id);
const char *machine_counter_backend_name(machine_counter_backend b);

/* Chooses the backend and opens the groups for `threads` OpenMP threads (see above).  Returns the
 * backend; never fails harder than "none" (reason set).  Call outside any parallel region. */
machine_counter_backend machine_counters_open(machine_counters *c, int threads, machine_counters_mode mode);
void machine_counters_start(machine_counters *c);   /* baseline and enable */
void machine_counters_stop(machine_counters *c);    /* disable */
/* Values since the last start (up to stop, or up to now while running). */
void machine_counters_read(const machine_counters *c, machine_counter_values *v);
void machine_counters_close(machine_counters *c);   /* closes everything; c then reads as "none" */

/* The values as a new JSON object: backend, reason, note, threads, user_only, multiplexed, wall_ns,
 * one field per counted event (perf's names, task-clock in ns) and the derived ratios that exist. */
json_t *machine_counters_json(const machine_counter_values *v);
/* One short line: "ipc 2.31 cache-miss 1.2% br-miss 0.4%" (hw),
 * "task-clock 12.1 ms, 0 faults, 3 cs" (sw), "no counters" (none). */
void machine_counters_format(const machine_counter_values *v, char *buf, size_t len);

/* What this process may open, event by event (for `latbench info`). */
typedef struct {
    int paranoid;                  /* -100 when unreadable */
    bool opened[MACHINE_CTR_COUNT];
    bool user_only[MACHINE_CTR_COUNT];  /* opened only with exclude_kernel */
    int err[MACHINE_CTR_COUNT];         /* errno of the failed open (0 when it opened) */
} machine_counters_probe_result;
void machine_counters_probe(machine_counters_probe_result *p);
/* "ENOENT: No such file or directory (no PMU exposes this event: a VM without a virtual PMU?)" */
void machine_counters_errno_text(int err, int paranoid, char *buf, size_t len);

/* ---- likwid marker API (make LIKWID=1 defines LATBENCH_LIKWID and links -llikwid; counters_likwid.c) ----
 * machine_region_begin/end run LIKWID_MARKER_START/STOP in every thread of a
 * `#pragma omp parallel num_threads(threads)` team (so per-thread counts land on the threads that
 * do the work; threads <= 1: the calling thread only).  Use the same name and thread count for
 * begin and end, around the same region as machine_counters_start/stop; machine_likwid_init once at
 * start-up (LIKWID_MARKER_INIT, THREADINIT in each of `threads` threads), machine_likwid_close before
 * exit (LIKWID_MARKER_CLOSE writes the file likwid-perfctr -m reads).  Without LATBENCH_LIKWID
 * they compile to nothing. */
#ifdef LATBENCH_LIKWID
void machine_likwid_init(int threads);
void machine_likwid_close(void);
void machine_region_begin(const char *name, int threads);
void machine_region_end(const char *name, int threads);
#define MACHINE_LIKWID_BUILT 1
#else
static inline void machine_likwid_init(int threads) { (void)threads; }
static inline void machine_likwid_close(void) {}
static inline void machine_region_begin(const char *name, int threads) { (void)name, (void)threads; }
static inline void machine_region_end(const char *name, int threads) { (void)name, (void)threads; }
#define MACHINE_LIKWID_BUILT 0
#endif

#define _GNU_SOURCE
#include "tools/machine/textbuf.h"
#include "tools/machine/counters.h"
#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PARANOID_UNKNOWN (-100)
#define GROUP_WORDS (3 + MACHINE_CTR_COUNT)   /* nr, time_enabled, time_running, values */

static const struct {
    const char *name;
    uint32_t type;
    uint64_t config;
} EVENTS[MACHINE_CTR_COUNT] = {
    [MACHINE_CTR_CYCLES] = {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    [MACHINE_CTR_INSTRUCTIONS] = {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    [MACHINE_CTR_CACHE_REFERENCES] = {"cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES},
    [MACHINE_CTR_CACHE_MISSES] = {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    [MACHINE_CTR_BRANCHES] = {"branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
    [MACHINE_CTR_BRANCH_MISSES] = {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
    [MACHINE_CTR_TASK_CLOCK] = {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    [MACHINE_CTR_PAGE_FAULTS] = {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    [MACHINE_CTR_CONTEXT_SWITCHES] = {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    [MACHINE_CTR_CPU_MIGRATIONS] = {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
};

const char *machine_counter_name(machine_counter_id id) { return (unsigned)id < MACHINE_CTR_COUNT ? EVENTS[id].name : "?"; }

const char *machine_counter_backend_name(machine_counter_backend b) {
    return b == MACHINE_BACKEND_PERF_HW ? "perf_event:hw" : b == MACHINE_BACKEND_PERF_SW ? "perf_event:sw" : "none";
}


static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int read_paranoid(void) {
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int v = PARANOID_UNKNOWN;
    if (f) {
        if (fscanf(f, "%d", &v) != 1) v = PARANOID_UNKNOWN;
        fclose(f);
    }
    return v;
}

/* Opens one event for the calling thread; returns the fd or -errno. */
static int open_event(machine_counter_id id, bool leader, int group_fd, bool exclude_kernel) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = EVENTS[id].type;
    a.config = EVENTS[id].config;
    a.disabled = leader;   /* members follow their leader's enable/disable */
    a.exclude_kernel = exclude_kernel;
    a.exclude_hv = 1;
    a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    long fd = syscall(SYS_perf_event_open, &a, 0 /* this thread */, -1 /* any CPU */, leader ? -1 : group_fd,
                      PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : (int)fd;
}

static const char *errno_name(int err) {
    switch (err) {
    case ENOENT: return "ENOENT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENODEV: return "ENODEV";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EBUSY: return "EBUSY";
    case E2BIG: return "E2BIG";
    case ENOSPC: return "ENOSPC";
    default: return "errno";
    }
}

void machine_counters_errno_text(int err, int paranoid, char *buf, size_t len) {
    const char *why = "";
    char tmp[160];
    switch (err) {
    case ENOENT:
    case EOPNOTSUPP:
    case ENODEV: why = "no PMU exposes this event: a VM without a virtual PMU?"; break;
    case EACCES:
    case EPERM:
        if (paranoid != PARANOID_UNKNOWN)
            snprintf(tmp, sizeof tmp, "perf_event_paranoid=%d%s, or a seccomp filter", paranoid,
                     paranoid >= 3 ? " forbids perf_event_open to unprivileged processes" : "");
        else snprintf(tmp, sizeof tmp, "perf_event_paranoid unreadable, or a seccomp filter");
        why = tmp;
        break;
    case ENOSYS: why = "kernel without perf events"; break;
    case EMFILE:
    case ENFILE: why = "too many open files: raise ulimit -n"; break;
    case ENOSPC: why = "no free counter"; break;
    default: break;
    }
    snprintf(buf, len, "%s: %s%s%s%s", errno_name(err), strerror(err), *why ? " (" : "", why, *why ? ")" : "");
}

/* ---- probing (main thread) ---- */

void machine_counters_probe(machine_counters_probe_result *p) {
    memset(p, 0, sizeof *p);
    p->paranoid = read_paranoid();
    for (int id = 0; id < MACHINE_CTR_COUNT; id++) {
        int fd = open_event((machine_counter_id)id, true, -1, false);
        if (fd == -EACCES) {   /* paranoid >= 2: user space only */
            fd = open_event((machine_counter_id)id, true, -1, true);
            p->user_only[id] = fd >= 0;
            if (fd < 0 && fd != -EACCES) p->err[id] = -fd;
            else if (fd < 0) p->err[id] = EACCES;
        } else if (fd < 0) p->err[id] = -fd;
        p->opened[id] = fd >= 0;
        if (fd >= 0) close(fd);
    }
}

/* ---- opening ---- */

/* Opens the group ids[0..n) on the calling thread, counts a short busy loop and tells whether
 * the group got the PMU at all: 1 yes, 0 never scheduled (more events than free counters, e.g.
 * the NMI watchdog holds one), or -errno when it does not open. */
static int group_schedules(const machine_counter_id *ids, int n, bool exclude_kernel) {
    int fds[MACHINE_CTR_COUNT], opened = 0, rc = 1;
    for (; opened < n; opened++) {
        fds[opened] = open_event(ids[opened], opened == 0, opened ? fds[0] : -1, exclude_kernel);
        if (fds[opened] < 0) {
            rc = fds[opened];
            break;
        }
    }
    if (rc == 1) {
        ioctl(fds[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
        uint64_t x = 0;
        for (int i = 0; i < 200000; i++) {
            x += (uint64_t)i;
            __asm__ volatile("" : "+r"(x));   /* keeps the loop: it is what gets counted */
        }
        ioctl(fds[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
        uint64_t buf[GROUP_WORDS];
        ssize_t want = (ssize_t)((3 + (size_t)n) * sizeof buf[0]);
        rc = read(fds[0], buf, (size_t)want) == want && buf[2] > 0 ? 1 : 0;
    }
    for (int m = 0; m < opened; m++) close(fds[m]);
    return rc;
}

static int *fd_at(const machine_counters *c, int thread, int member) { return &c->fds[thread * (c->n_hw + c->n_sw) + member]; }

static void close_thread_fds(machine_counters *c, int thread, int first, int count) {
    for (int m = first; m < first + count; m++) {
        int *fd = fd_at(c, thread, m);
        if (*fd >= 0) close(*fd);
        *fd = -1;
    }
}

/* Opens the hw group (members 0..n_hw-1) and the sw group (n_hw..) of the calling thread into
 * slot `thread`; returns 0, or the negative errno of the first failure with *failed its event
 * (the thread's fds of the failing group are closed, the other group's kept). */
static int open_thread_group(machine_counters *c, int thread, bool hw, machine_counter_id *failed) {
    int first = hw ? 0 : c->n_hw, n = hw ? c->n_hw : c->n_sw;
    const machine_counter_id *ids = hw ? c->hw_ids : c->sw_ids;
    int leader = -1;
    for (int m = 0; m < n; m++) {
        int fd = open_event(ids[m], m == 0, leader, c->user_only);
        if (fd < 0) {
            *failed = ids[m];
            close_thread_fds(c, thread, first, n);
            return fd;
        }
        if (m == 0) leader = fd;
        *fd_at(c, thread, first + m) = fd;
    }
    return 0;
}

static void set_none(machine_counters *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_none(machine_counters *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    c->backend = MACHINE_BACKEND_NONE;
    c->n_hw = c->n_sw = 0;
}

/* 1. Privileges, on task-clock: the whole process, else user space only.  False (backend "none",
 * the reason set) when not even task-clock opens. */
static bool probe_privileges(machine_counters *c, size_t *npos) {
    char etext[256];
    int fd = open_event(MACHINE_CTR_TASK_CLOCK, true, -1, false);
    if (fd == -EACCES) {
        fd = open_event(MACHINE_CTR_TASK_CLOCK, true, -1, true);
        c->user_only = fd >= 0;
    }
    if (fd < 0) {
        machine_counters_errno_text(-fd, c->paranoid, etext, sizeof etext);
        set_none(c, "perf_event_open(task-clock) failed: %s; perf_event_paranoid=%d", etext, c->paranoid);
        return false;
    }
    close(fd);
    if (c->user_only)
        machine_textf(c->note, sizeof c->note, npos,
               "user space only (perf_event_paranoid=%d, no CAP_PERFMON): hardware events and page faults count "
               "user mode only, context switches and migrations are not counted; ",
               c->paranoid);
    return true;
}

/* 2. The software group: every event that opens alone (context switches and migrations are
 * counted in kernel mode, so exclude_kernel would make them read 0: leave them out).  Each one
 * left out is named in the note with its errno. */
static void probe_software_group(machine_counters *c, size_t *npos) {
    char etext[256];
    for (int id = MACHINE_CTR_FIRST_SW; id < MACHINE_CTR_COUNT; id++) {
        if (c->user_only && (id == MACHINE_CTR_CONTEXT_SWITCHES || id == MACHINE_CTR_CPU_MIGRATIONS)) continue;
        int fd = open_event((machine_counter_id)id, true, -1, c->user_only);
        if (fd < 0) {
            machine_counters_errno_text(-fd, c->paranoid, etext, sizeof etext);
            machine_textf(c->note, sizeof c->note, npos, "%s left out (%s); ", EVENTS[id].name, etext);
            continue;
        }
        close(fd);
        c->sw_ids[c->n_sw++] = (machine_counter_id)id;
    }
}

/* 3. The hardware group: cycles leads; members the PMU refuses are left out (named in the note).
 * When cycles does not open, or the group never gets a PMU counter, n_hw is 0 and the reason
 * says why (the software group then stands alone). */
static void probe_hardware_group(machine_counters *c, size_t *npos) {
    char etext[256];
    int leader = open_event(MACHINE_CTR_CYCLES, true, -1, c->user_only);
    if (leader < 0) {
        machine_counters_errno_text(-leader, c->paranoid, etext, sizeof etext);
        snprintf(c->reason, sizeof c->reason, "hardware event cycles did not open: %s; perf_event_paranoid=%d%s", etext,
                 c->paranoid, c->user_only ? " (user space only)" : "");
        return;
    }
    c->hw_ids[c->n_hw++] = MACHINE_CTR_CYCLES;
    int members[MACHINE_CTR_FIRST_SW];
    int nm = 0;
    for (int id = MACHINE_CTR_CYCLES + 1; id < MACHINE_CTR_FIRST_SW; id++) {
        int fd = open_event((machine_counter_id)id, false, leader, c->user_only);
        if (fd < 0) {
            machine_counters_errno_text(-fd, c->paranoid, etext, sizeof etext);
            machine_textf(c->note, sizeof c->note, npos, "%s left out (%s); ", EVENTS[id].name, etext);
            continue;
        }
        members[nm++] = fd;
        c->hw_ids[c->n_hw++] = (machine_counter_id)id;
    }
    for (int m = 0; m < nm; m++) close(members[m]);
    close(leader);
    /* A group larger than the free counters opens but never counts: drop members from the end
     * (branch-misses first) until it does. */
    int sched;
    while ((sched = group_schedules(c->hw_ids, c->n_hw, c->user_only)) == 0 && c->n_hw > 1) {
        c->n_hw--;
        machine_textf(c->note, sizeof c->note, npos, "%s left out (the group did not fit the free PMU counters); ",
               EVENTS[c->hw_ids[c->n_hw]].name);
    }
    if (sched != 1) {
        if (sched < 0) machine_counters_errno_text(-sched, c->paranoid, etext, sizeof etext);
        snprintf(c->reason, sizeof c->reason, "hardware group %s; perf_event_paranoid=%d",
                 sched < 0 ? etext : "never got a PMU counter (all in use: NMI watchdog, another perf user?)", c->paranoid);
        c->n_hw = 0;
    }
}

/* The first failure of each group over the team's threads. */
typedef struct {
    int team, hw_err, sw_err, hw_thread, sw_thread;
    machine_counter_id hw_failed, sw_failed;
} open_result;

/* 4. Every thread opens its own groups (a perf_event counts only the thread that opened it). */
static bool open_per_thread(machine_counters *c, int threads, open_result *o) {
    int per = c->n_hw + c->n_sw;
    c->fds = malloc((size_t)threads * (size_t)(per ? per : 1) * sizeof *c->fds);
    c->base = calloc((size_t)threads * 2 * GROUP_WORDS, sizeof *c->base);
    if (!c->fds || !c->base) {
        free(c->fds);
        free(c->base);
        c->fds = NULL;
        c->base = NULL;
        set_none(c, "out of memory");
        return false;
    }
    for (int i = 0; i < threads * per; i++) c->fds[i] = -1;
    *o = (open_result){0, 0, 0, -1, -1, MACHINE_CTR_CYCLES, MACHINE_CTR_TASK_CLOCK};
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        int t = omp_get_thread_num();
        machine_counter_id fh = MACHINE_CTR_CYCLES, fs = MACHINE_CTR_TASK_CLOCK;
        int eh = c->n_hw ? open_thread_group(c, t, true, &fh) : 0;
        int es = c->n_sw ? open_thread_group(c, t, false, &fs) : 0;
#pragma omp critical(machine_counters_open)
        {
            if (t == 0) o->team = omp_get_num_threads();
            if (eh && !o->hw_err) o->hw_err = -eh, o->hw_thread = t, o->hw_failed = fh;
            if (es && !o->sw_err) o->sw_err = -es, o->sw_thread = t, o->sw_failed = fs;
        }
    }
    return true;
}

/* The per-thread failures into the reason (the hardware group's; the software group's when the
 * backend ends up "none") or the note. */
static void report_thread_failures(machine_counters *c, const open_result *o, size_t *npos) {
    char etext[256];
    if (o->hw_err) {
        machine_counters_errno_text(o->hw_err, c->paranoid, etext, sizeof etext);
        snprintf(c->reason, sizeof c->reason, "hardware group: %s did not open on thread %d: %s", EVENTS[o->hw_failed].name,
                 o->hw_thread, etext);
    }
    if (o->sw_err) {
        machine_counters_errno_text(o->sw_err, c->paranoid, etext, sizeof etext);
        bool hw_stays = c->n_hw && !o->hw_err;
        char *dst = hw_stays ? c->note : c->reason;
        size_t dlen = hw_stays ? sizeof c->note : sizeof c->reason, dpos = hw_stays ? *npos : strlen(c->reason);
        machine_textf(dst, dlen, &dpos, "%ssoftware group: %s did not open on thread %d: %s%s", !hw_stays && dpos ? "; " : "",
               EVENTS[o->sw_failed].name, o->sw_thread, etext, hw_stays ? "; " : "");
        if (hw_stays) *npos = dpos;
    }
}

/* 5. A group that failed on any thread is dropped on every thread, so the sums cover all; the fd
 * table is compacted to the groups kept (fd_at depends on n_hw/n_sw).  False: none kept. */
static bool keep_opened_groups(machine_counters *c, const open_result *o) {
    const int per = c->n_hw + c->n_sw;
    bool keep_hw = c->n_hw && !o->hw_err, keep_sw = c->n_sw && !o->sw_err;
    for (int t = 0; t < o->team; t++) {
        if (!keep_hw) close_thread_fds(c, t, 0, c->n_hw);
        if (!keep_sw) close_thread_fds(c, t, c->n_hw, c->n_sw);
    }
    if (!keep_hw && !keep_sw) {
        free(c->fds);
        free(c->base);
        c->fds = NULL;
        c->base = NULL;
        c->threads = 0;
        c->n_hw = c->n_sw = 0;
        c->backend = MACHINE_BACKEND_NONE;
        if (!c->reason[0]) snprintf(c->reason, sizeof c->reason, "no perf event opened");
        return false;
    }
    int new_hw = keep_hw ? c->n_hw : 0, new_sw = keep_sw ? c->n_sw : 0;
    if (new_hw + new_sw != per) {
        int *compact = c->fds;   /* in place: the new rows are never longer than the old */
        for (int t = 0; t < o->team; t++) {
            int old_row = t * per, new_row = t * (new_hw + new_sw);
            int src = keep_hw ? 0 : c->n_hw;
            for (int m = 0; m < new_hw + new_sw; m++) compact[new_row + m] = c->fds[old_row + src + m];
        }
        c->n_hw = new_hw;
        c->n_sw = new_sw;
    }
    return true;
}

machine_counter_backend machine_counters_open(machine_counters *c, int threads, machine_counters_mode mode) {
    memset(c, 0, sizeof *c);
    c->paranoid = read_paranoid();
    if (threads < 1) threads = 1;
    if (mode == MACHINE_COUNTERS_OFF) {
        set_none(c, "counters turned off");
        return c->backend;
    }
    size_t npos = 0;   /* the note's end: every probe appends "...; " */
    if (!probe_privileges(c, &npos)) return c->backend;
    probe_software_group(c, &npos);
    if (mode == MACHINE_COUNTERS_AUTO) probe_hardware_group(c, &npos);
    else snprintf(c->reason, sizeof c->reason, "software counters asked for");
    open_result o;
    if (!open_per_thread(c, threads, &o)) return c->backend;
    c->threads = o.team;
    if (o.team < threads) machine_textf(c->note, sizeof c->note, &npos, "OpenMP gave %d of %d threads; ", o.team, threads);
    report_thread_failures(c, &o, &npos);
    if (!keep_opened_groups(c, &o)) return c->backend;
    c->backend = c->n_hw ? MACHINE_BACKEND_PERF_HW : MACHINE_BACKEND_PERF_SW;
    if (c->backend == MACHINE_BACKEND_PERF_HW) c->reason[0] = 0;
    if (npos >= 2 && npos < sizeof c->note) c->note[npos - 2] = 0;   /* the trailing "; " */
    return c->backend;
}

/* ---- counting ---- */

/* Reads group g (0 hw, 1 sw) of thread t into buf (GROUP_WORDS); false on failure. */
static bool read_group(const machine_counters *c, int t, int g, uint64_t *buf) {
    int n = g ? c->n_sw : c->n_hw;
    if (!n) return false;
    int fd = *fd_at(c, t, g ? c->n_hw : 0);
    memset(buf, 0, GROUP_WORDS * sizeof *buf);
    ssize_t want = (ssize_t)((3 + (size_t)n) * sizeof *buf);
    return fd >= 0 && read(fd, buf, (size_t)want) == want && buf[0] == (uint64_t)n;
}

static void group_ioctl(const machine_counters *c, unsigned long req) {
    for (int t = 0; t < c->threads; t++) {
        if (c->n_hw) ioctl(*fd_at(c, t, 0), req, PERF_IOC_FLAG_GROUP);
        if (c->n_sw) ioctl(*fd_at(c, t, c->n_hw), req, PERF_IOC_FLAG_GROUP);
    }
}

void machine_counters_start(machine_counters *c) {
    if (!c->fds || c->backend == MACHINE_BACKEND_NONE) return;
    for (int t = 0; t < c->threads; t++)
        for (int g = 0; g < 2; g++) {
            uint64_t *b = &c->base[((size_t)t * 2 + (size_t)g) * GROUP_WORDS];
            if (!read_group(c, t, g, b)) memset(b, 0, GROUP_WORDS * sizeof *b);
        }
    c->start_ns = now_ns();
    group_ioctl(c, PERF_EVENT_IOC_ENABLE);
    c->running = true;
}

void machine_counters_stop(machine_counters *c) {
    if (!c->fds || c->backend == MACHINE_BACKEND_NONE || !c->running) return;
    group_ioctl(c, PERF_EVENT_IOC_DISABLE);
    c->wall_ns = now_ns() - c->start_ns;
    c->running = false;
}

void machine_counters_read(const machine_counters *c, machine_counter_values *v) {
    memset(v, 0, sizeof *v);
    v->backend = machine_counter_backend_name(c->fds ? c->backend : MACHINE_BACKEND_NONE);
    v->ipc = v->cache_miss_rate = v->branch_miss_rate = v->cpus_utilized = NAN;
    if (!c->fds || c->backend == MACHINE_BACKEND_NONE) {
        snprintf(v->reason, sizeof v->reason, "%s", c->reason[0] ? c->reason : "counters not opened");
        return;
    }
    snprintf(v->reason, sizeof v->reason, "%s", c->reason);
    size_t npos = strlen(c->note);
    snprintf(v->note, sizeof v->note, "%s", c->note);
    v->threads = c->threads;
    v->user_only = c->user_only;
    if (c->start_ns <= 0) {   /* opened, never started: nothing was counted */
        machine_textf(v->note, sizeof v->note, &npos, "%snot started", npos ? "; " : "");
        return;
    }
    v->wall_ns = c->running ? now_ns() - c->start_ns : c->wall_ns;
    bool group_ok[2] = {c->n_hw > 0, c->n_sw > 0};
    int unscheduled[2] = {0, 0}, unreadable[2] = {0, 0};
    double sum[MACHINE_CTR_COUNT] = {0};
    for (int t = 0; t < c->threads; t++) {
        bool thread_active = false;
        for (int g = 0; g < 2; g++) {
            if (!group_ok[g]) continue;
            uint64_t now[GROUP_WORDS];
            const uint64_t *b = &c->base[((size_t)t * 2 + (size_t)g) * GROUP_WORDS];
            if (b[0] == 0 || !read_group(c, t, g, now)) {   /* b[0] == 0: no baseline from start */
                unreadable[g]++;
                continue;
            }
            uint64_t en = now[1] - b[1], run = now[2] - b[2];
            int n = g ? c->n_sw : c->n_hw;
            const machine_counter_id *ids = g ? c->sw_ids : c->hw_ids;
            if (run == 0) {
                if (en > 0) unscheduled[g]++;   /* enabled, runnable, but never on the PMU */
                continue;
            }
            double scale = run < en ? (double)en / (double)run : 1.0;
            if (run < en && g == 0) v->multiplexed = true;
            for (int m = 0; m < n; m++) sum[ids[m]] += (double)(now[3 + m] - b[3 + m]) * scale;
            thread_active |= now[3] != b[3];
        }
        v->threads_active += thread_active;
    }
    for (int g = 0; g < 2; g++) {
        if (!group_ok[g]) continue;
        const char *what = g ? "software" : "hardware";
        if (unreadable[g]) {   /* a partial sum would be a made-up number: report none */
            machine_textf(v->note, sizeof v->note, &npos, "%s%s group unreadable on %d thread(s): values dropped",
                   npos ? "; " : "", what, unreadable[g]);
            continue;
        }
        if (unscheduled[g] && unscheduled[g] == c->threads) {
            machine_textf(v->note, sizeof v->note, &npos,
                   "%s%s group never got the PMU (more events than free counters: NMI watchdog, another perf user?)",
                   npos ? "; " : "", what);
            continue;
        }
        if (unscheduled[g]) {
            machine_textf(v->note, sizeof v->note, &npos, "%s%s group never scheduled on %d of %d threads: values dropped",
                   npos ? "; " : "", what, unscheduled[g], c->threads);
            continue;
        }
        int n = g ? c->n_sw : c->n_hw;
        const machine_counter_id *ids = g ? c->sw_ids : c->hw_ids;
        for (int m = 0; m < n; m++) {
            v->valid[ids[m]] = true;
            v->value[ids[m]] = sum[ids[m]];
        }
    }
    if (v->multiplexed) machine_textf(v->note, sizeof v->note, &npos, "%shardware counts scaled (multiplexed)", npos ? "; " : "");
    if (v->valid[MACHINE_CTR_CYCLES] && v->valid[MACHINE_CTR_INSTRUCTIONS] && v->value[MACHINE_CTR_CYCLES] > 0)
        v->ipc = v->value[MACHINE_CTR_INSTRUCTIONS] / v->value[MACHINE_CTR_CYCLES];
    if (v->valid[MACHINE_CTR_CACHE_REFERENCES] && v->valid[MACHINE_CTR_CACHE_MISSES] && v->value[MACHINE_CTR_CACHE_REFERENCES] > 0)
        v->cache_miss_rate = v->value[MACHINE_CTR_CACHE_MISSES] / v->value[MACHINE_CTR_CACHE_REFERENCES];
    if (v->valid[MACHINE_CTR_BRANCHES] && v->valid[MACHINE_CTR_BRANCH_MISSES] && v->value[MACHINE_CTR_BRANCHES] > 0)
        v->branch_miss_rate = v->value[MACHINE_CTR_BRANCH_MISSES] / v->value[MACHINE_CTR_BRANCHES];
    if (v->valid[MACHINE_CTR_TASK_CLOCK] && v->wall_ns > 0) v->cpus_utilized = v->value[MACHINE_CTR_TASK_CLOCK] / v->wall_ns;
}

void machine_counters_close(machine_counters *c) {
    if (c->fds)
        for (int t = 0; t < c->threads; t++) close_thread_fds(c, t, 0, c->n_hw + c->n_sw);
    free(c->fds);
    free(c->base);
    char reason[sizeof c->reason];
    snprintf(reason, sizeof reason, "%s", "counters closed");
    memset(c, 0, sizeof *c);
    snprintf(c->reason, sizeof c->reason, "%s", reason);
}

/* ---- output ---- */

json_t *machine_counters_json(const machine_counter_values *v) {
    json_t *o = json_object();
    io_json_set_str(o, "backend", v->backend);
    if (v->reason[0]) io_json_set_str(o, "reason", v->reason);
    if (v->note[0]) io_json_set_str(o, "note", v->note);
    io_json_set_int(o, "threads", v->threads);
    io_json_set_int(o, "threads_active", v->threads_active);
    io_json_set_bool(o, "user_only", v->user_only);
    io_json_set_bool(o, "multiplexed", v->multiplexed);
    io_json_set_num(o, "wall_ns", v->wall_ns);
    for (int id = 0; id < MACHINE_CTR_COUNT; id++)
        if (v->valid[id]) io_json_set_num(o, EVENTS[id].name, v->value[id]);
    if (isfinite(v->ipc)) io_json_set_num(o, "ipc", v->ipc);
    if (isfinite(v->cache_miss_rate)) io_json_set_num(o, "cache_miss_rate", v->cache_miss_rate);
    if (isfinite(v->branch_miss_rate)) io_json_set_num(o, "branch_miss_rate", v->branch_miss_rate);
    if (isfinite(v->cpus_utilized)) io_json_set_num(o, "cpus_utilized", v->cpus_utilized);
    return o;
}

void machine_counters_format(const machine_counter_values *v, char *buf, size_t len) {
    size_t pos = 0;
    if (len) buf[0] = 0;
    if (isfinite(v->ipc)) machine_textf(buf, len, &pos, "ipc %.2f", v->ipc);
    if (isfinite(v->cache_miss_rate)) machine_textf(buf, len, &pos, "%scache-miss %.1f%%", pos ? " " : "", 100 * v->cache_miss_rate);
    if (isfinite(v->branch_miss_rate)) machine_textf(buf, len, &pos, "%sbr-miss %.1f%%", pos ? " " : "", 100 * v->branch_miss_rate);
    if (pos) {
        if (v->multiplexed) machine_textf(buf, len, &pos, " (multiplexed)");
        return;
    }
    if (v->valid[MACHINE_CTR_TASK_CLOCK]) machine_textf(buf, len, &pos, "task-clock %.1f ms", v->value[MACHINE_CTR_TASK_CLOCK] * 1e-6);
    if (v->valid[MACHINE_CTR_PAGE_FAULTS]) machine_textf(buf, len, &pos, "%s%.0f faults", pos ? ", " : "", v->value[MACHINE_CTR_PAGE_FAULTS]);
    if (v->valid[MACHINE_CTR_CONTEXT_SWITCHES])
        machine_textf(buf, len, &pos, "%s%.0f cs", pos ? ", " : "", v->value[MACHINE_CTR_CONTEXT_SWITCHES]);
    if (!pos) machine_textf(buf, len, &pos, "no counters");
}

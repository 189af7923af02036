/* tools/machine/counters.c: backend choice, values of regions doing known work, the per-thread
 * groups of an OpenMP team, the fallback reasons, and use without a successful open. */
#define _GNU_SOURCE
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "tools/machine/counters.h"

/* Spins until this thread's CPU time reaches until_ms (CPU, not wall time: the machine is
 * shared, and task-clock counts CPU time). */
static void burn_cpu_until_ms(double until_ms) {
    struct timespec ts;
    volatile double x = 1.0;
    for (;;) {
        for (int i = 0; i < 10000; i++) x = x * 1.0000001 + 1e-9;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        if ((double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6 >= until_ms) break;
    }
}

static double thread_cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Touches `pages` fresh anonymous pages: one minor fault each. */
static void touch_new_pages(size_t pages) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, pages * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    madvise(p, pages * pg, MADV_NOHUGEPAGE);   /* one fault per 4 KiB page, not one per huge page */
    for (size_t i = 0; i < pages; i++) ((volatile char *)p)[i * pg] = 1;
    munmap(p, pages * pg);
}

static void note_backend(const machine_counters *c, const char *what) {
    printf("NOTE counters (%s): backend %s%s%s%s%s\n", what, machine_counter_backend_name(c->backend), c->reason[0] ? "; reason: " : "",
           c->reason, c->note[0] ? "; note: " : "", c->note);
}

static void test_zero_initialized_is_none(void **state) {
    (void)state;
    machine_counters c;
    memset(&c, 0, sizeof c);
    machine_counter_values v;
    machine_counters_start(&c);
    machine_counters_stop(&c);
    machine_counters_read(&c, &v);
    assert_string_equal(v.backend, "none");
    assert_true(v.reason[0] != 0);
    for (int id = 0; id < MACHINE_CTR_COUNT; id++) assert_false(v.valid[id]);
    assert_true(isnan(v.ipc));
    machine_counters_close(&c);
    machine_counters_close(&c);   /* twice: still fine */
    machine_counters_read(&c, &v);
    assert_string_equal(v.backend, "none");
    char line[128];
    machine_counters_format(&v, line, sizeof line);
    assert_string_equal(line, "no counters");
}

static void test_off_mode(void **state) {
    (void)state;
    machine_counters c;
    assert_int_equal(machine_counters_open(&c, 2, MACHINE_COUNTERS_OFF), MACHINE_BACKEND_NONE);
    assert_non_null(strstr(c.reason, "turned off"));
    machine_counters_start(&c);
    machine_counters_stop(&c);
    machine_counter_values v;
    machine_counters_read(&c, &v);
    assert_string_equal(v.backend, "none");
    for (int id = 0; id < MACHINE_CTR_COUNT; id++) assert_false(v.valid[id]);
    machine_counters_close(&c);
}

/* The backend that opened and its reason agree with what the probe found. */
static void test_backend_matches_probe(void **state) {
    (void)state;
    machine_counters_probe_result p;
    machine_counters_probe(&p);
    machine_counters c;
    machine_counter_backend b = machine_counters_open(&c, 1, MACHINE_COUNTERS_AUTO);
    note_backend(&c, "1 thread");
    if (p.opened[MACHINE_CTR_CYCLES]) assert_int_equal(b, MACHINE_BACKEND_PERF_HW);
    else {
        assert_int_not_equal(b, MACHINE_BACKEND_PERF_HW);
        assert_true(strlen(c.reason) > 10);   /* the fallback says why */
        /* names the event, or (qemu-user: no perf_event_open at all) the missing system call */
        assert_true(strstr(c.reason, "cycles") || strstr(c.reason, "ENOSYS"));
    }
    if (b == MACHINE_BACKEND_PERF_HW) assert_string_equal(c.reason, "");
    if (!p.opened[MACHINE_CTR_TASK_CLOCK]) assert_int_equal(b, MACHINE_BACKEND_NONE);
    if (b == MACHINE_BACKEND_NONE) assert_true(c.reason[0] != 0);
    machine_counters_close(&c);
    for (int id = 0; id < MACHINE_CTR_COUNT; id++) {
        if (p.opened[id]) assert_int_equal(p.err[id], 0);
        else assert_int_not_equal(p.err[id], 0);
    }
    char t[256];
    machine_counters_errno_text(2 /* ENOENT */, 2, t, sizeof t);
    assert_non_null(strstr(t, "ENOENT"));
    assert_non_null(strstr(t, "PMU"));
}

/* One thread: a page-touching region and a CPU-burning one give plausible values. */
static void test_one_thread_known_work(void **state) {
    (void)state;
    machine_counters c;
    machine_counter_backend b = machine_counters_open(&c, 1, MACHINE_COUNTERS_AUTO);
    if (b == MACHINE_BACKEND_NONE) {
        printf("NOTE counters: no perf_event backend here (%s); value checks not run\n", c.reason);
        machine_counters_close(&c);
        return;
    }
    assert_int_equal(c.threads, 1);
    machine_counter_values v;
    machine_counters_read(&c, &v);   /* before any start: no values, and says so */
    for (int id = 0; id < MACHINE_CTR_COUNT; id++) assert_false(v.valid[id]);
    assert_non_null(strstr(v.note, "not started"));
    machine_counters_stop(&c);       /* stop without start: harmless */

    const size_t pages = 512;
    machine_counters_start(&c);
    touch_new_pages(pages);
    machine_counters_stop(&c);
    machine_counters_read(&c, &v);
    assert_true(v.valid[MACHINE_CTR_TASK_CLOCK]);
    assert_true(v.valid[MACHINE_CTR_PAGE_FAULTS]);
    assert_true(v.value[MACHINE_CTR_PAGE_FAULTS] >= (double)pages / 2);
    assert_true(v.value[MACHINE_CTR_PAGE_FAULTS] < (double)pages * 4);
    assert_true(v.wall_ns > 0);

    /* A new start counts from zero again: the second region touches nothing. */
    double t0 = thread_cpu_ms();
    machine_counters_start(&c);
    burn_cpu_until_ms(t0 + 20);
    machine_counters_stop(&c);
    machine_counters_read(&c, &v);
    printf("NOTE counters: 20 ms of CPU on 1 thread read task-clock %.1f ms, %.0f page faults\n",
           v.value[MACHINE_CTR_TASK_CLOCK] * 1e-6, v.value[MACHINE_CTR_PAGE_FAULTS]);
    assert_true(v.value[MACHINE_CTR_PAGE_FAULTS] < (double)pages / 4);
    assert_true(v.value[MACHINE_CTR_TASK_CLOCK] >= 10e6 && v.value[MACHINE_CTR_TASK_CLOCK] <= 200e6);
    assert_true(isfinite(v.cpus_utilized) && v.cpus_utilized > 0 && v.cpus_utilized <= 1.5);
    assert_int_equal(v.threads_active, 1);
    if (v.user_only) {   /* kernel-mode events are left out, never reported as 0 */
        assert_false(v.valid[MACHINE_CTR_CONTEXT_SWITCHES]);
        assert_false(v.valid[MACHINE_CTR_CPU_MIGRATIONS]);
    }
    if (b == MACHINE_BACKEND_PERF_HW) {
        assert_true(v.valid[MACHINE_CTR_CYCLES] && v.value[MACHINE_CTR_CYCLES] > 0);
        if (v.valid[MACHINE_CTR_INSTRUCTIONS]) {
            assert_true(v.value[MACHINE_CTR_INSTRUCTIONS] > 0);
            assert_true(isfinite(v.ipc) && v.ipc > 0);
        }
    } else {
        for (int id = 0; id < MACHINE_CTR_FIRST_SW; id++) assert_false(v.valid[id]);
        assert_true(isnan(v.ipc));
        assert_true(v.reason[0] != 0);
    }

    /* Reading while running gives the counts so far. */
    machine_counters_start(&c);
    t0 = thread_cpu_ms();
    burn_cpu_until_ms(t0 + 5);
    machine_counters_read(&c, &v);
    assert_true(v.value[MACHINE_CTR_TASK_CLOCK] >= 2.5e6);
    machine_counters_stop(&c);

    char line[160];
    machine_counters_format(&v, line, sizeof line);
    printf("NOTE counters: one-line text \"%s\"\n", line);
    assert_non_null(strstr(line, b == MACHINE_BACKEND_PERF_HW ? "ipc" : "task-clock"));

    json_t *root = json_object();
    json_object_set_new(root, "counters", machine_counters_json(&v));
    char *buf = json_dumps(root, IO_JSON_DUMP_FLAGS);
    json_decref(root);
    assert_non_null(buf);
    assert_non_null(strstr(buf, "\"counters\": {"));
    assert_non_null(strstr(buf, b == MACHINE_BACKEND_PERF_HW ? "\"backend\": \"perf_event:hw\"" : "\"backend\": \"perf_event:sw\""));
    assert_non_null(strstr(buf, "\"task-clock\": "));
    if (b != MACHINE_BACKEND_PERF_HW) {
        assert_non_null(strstr(buf, "\"reason\": "));
        assert_null(strstr(buf, "\"cycles\""));   /* absent, not 0 */
    }
    free(buf);
    machine_counters_close(&c);
}

/* Two threads: groups opened inside one parallel region count the same pool threads in a later
 * region; the sum covers both. */
static void test_two_threads_sum(void **state) {
    (void)state;
    machine_counters c;
    machine_counter_backend b = machine_counters_open(&c, 2, MACHINE_COUNTERS_AUTO);
    note_backend(&c, "2 threads");
    if (b == MACHINE_BACKEND_NONE) {
        printf("NOTE counters: no perf_event backend here; 2-thread checks not run\n");
        machine_counters_close(&c);
        return;
    }
    assert_int_equal(c.threads, 2);
    machine_counters_start(&c);
    int team = 0;
#pragma omp parallel num_threads(2)
    {
        if (omp_get_thread_num() == 0) team = omp_get_num_threads();
        double t0 = thread_cpu_ms();
        burn_cpu_until_ms(t0 + 20);
        touch_new_pages(256);
    }
    machine_counters_stop(&c);
    machine_counter_values v;
    machine_counters_read(&c, &v);
    printf("NOTE counters: 2 x 20 ms of CPU read task-clock %.1f ms, %.0f page faults, %d threads active\n",
           v.value[MACHINE_CTR_TASK_CLOCK] * 1e-6, v.value[MACHINE_CTR_PAGE_FAULTS], v.threads_active);
    assert_int_equal(team, 2);
    assert_int_equal(v.threads, 2);
    assert_int_equal(v.threads_active, 2);
    assert_true(v.value[MACHINE_CTR_TASK_CLOCK] >= 30e6 && v.value[MACHINE_CTR_TASK_CLOCK] <= 400e6);
    assert_true(v.value[MACHINE_CTR_PAGE_FAULTS] >= 256);
    if (b == MACHINE_BACKEND_PERF_HW) assert_true(v.value[MACHINE_CTR_CYCLES] > 0);
    machine_counters_close(&c);
}

static void test_software_mode(void **state) {
    (void)state;
    machine_counters c;
    machine_counter_backend b = machine_counters_open(&c, 1, MACHINE_COUNTERS_SOFTWARE);
    if (b == MACHINE_BACKEND_NONE) {
        printf("NOTE counters: software events do not open here (%s)\n", c.reason);
        assert_true(c.reason[0] != 0);
    } else {
        assert_int_equal(b, MACHINE_BACKEND_PERF_SW);
        assert_int_equal(c.n_hw, 0);
        assert_non_null(strstr(c.reason, "software"));
    }
    machine_counters_close(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_initialized_is_none),
        cmocka_unit_test(test_off_mode),
        cmocka_unit_test(test_backend_matches_probe),
        cmocka_unit_test(test_one_thread_known_work),
        cmocka_unit_test(test_two_threads_sum),
        cmocka_unit_test(test_software_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

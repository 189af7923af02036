/* tools/machine/topology.c: counts consistent with sysconf and the affinity mask, caches, and
 * the pinning of an OpenMP team read back in a later region. */
#define _GNU_SOURCE
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "tools/machine/topology.h"

#define TEAM 2

static machine_topology T;   /* detected once, before any pinning (as the harness must) */

static int setup(void **state) {
    (void)state;
    machine_topology_detect(&T);
    char line[512];
    machine_topology_format(&T, line, sizeof line);
    printf("NOTE topology (%s): %s\n", T.source, line);
    return 0;
}

static void test_counts_consistent(void **state) {
    (void)state;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t mask;
    CPU_ZERO(&mask);
    assert_int_equal(sched_getaffinity(0, sizeof mask, &mask), 0);
    assert_true(T.packages >= 1 && T.numa_nodes >= 1 && T.smt >= 1);
    assert_true(T.cores >= 1 && T.pus >= T.cores);
    assert_true(T.pus <= online);   /* hwloc lists the allowed (cgroup) PUs, never more than online */
    assert_true(T.allowed_cores >= 1 && T.allowed_cores <= T.cores);
    assert_true(T.allowed_pus >= T.allowed_cores && T.allowed_pus <= T.pus);
    char user[160];
    if (!machine_pin_user_binding(user, sizeof user)) assert_int_equal(T.allowed_pus, CPU_COUNT(&mask));
    else assert_true(T.allowed_pus >= CPU_COUNT(&mask));   /* the runtime narrowed this thread's mask */
    assert_int_equal(T.n_core_pu, T.allowed_cores < MACHINE_TOPO_MAX_CORES ? T.allowed_cores : MACHINE_TOPO_MAX_CORES);
    for (int i = 0; i < T.n_core_pu; i++) {
        assert_true(T.core_pu[i] >= 0 && T.core_pu[i] < online);
        for (int k = 0; k < i; k++) assert_int_not_equal(T.core_pu[i], T.core_pu[k]);
        if (!machine_pin_user_binding(user, sizeof user)) {
            assert_true(CPU_ISSET(T.core_pu[i], &mask));
            if (T.core_pu2[i] >= 0) assert_true(CPU_ISSET(T.core_pu2[i], &mask));
        }
    }
    if (!T.from_hwloc) printf("NOTE topology: hwloc failed, counts from sysconf: %s\n", T.source);
}

static void test_caches(void **state) {
    (void)state;
    int reported = 0;
    for (int i = 0; i < 3; i++) {
        const machine_cache_info *c = &T.cache[i];
        assert_int_equal(c->level, i + 1);
        if (!c->size) continue;
        reported++;
        assert_true(c->size >= 4096);
        assert_true(c->count >= 1 && c->cores_sharing >= 1);
        assert_true(c->cores_sharing <= T.cores);
        assert_true(c->linesize == 0 || (c->linesize >= 16 && c->linesize <= 512));
        if (i > 0 && T.cache[i - 1].size) assert_true(c->size * (unsigned long long)c->count >= T.cache[i - 1].size);
    }
    if (!reported) printf("NOTE topology: hwloc reports no cache sizes here\n");
    else if (T.cache[0].size) assert_true(T.cache[0].cores_sharing == 1 || T.smt == 1);

    json_t *root = json_object();
    json_object_set_new(root, "topology", machine_topology_json(&T));
    char *buf = json_dumps(root, IO_JSON_DUMP_FLAGS);
    json_decref(root);
    assert_non_null(buf);
    assert_non_null(strstr(buf, "\"topology\": {"));
    assert_non_null(strstr(buf, "\"allowed_cores\": "));
    if (reported) assert_non_null(strstr(buf, "\"size_bytes\": "));
    free(buf);
}

/* Each team thread's affinity mask, by thread number. */
static void team_masks(cpu_set_t masks[TEAM]) {
    int rc[TEAM] = {0}, team = 0;
#pragma omp parallel num_threads(TEAM)
    {   /* no cmocka asserts in worker threads: collect, then check */
        int i = omp_get_thread_num();
        if (i == 0) team = omp_get_num_threads();
        CPU_ZERO(&masks[i]);
        rc[i] = sched_getaffinity(0, sizeof masks[i], &masks[i]);
    }
    assert_int_equal(team, TEAM);
    for (int i = 0; i < TEAM; i++) assert_int_equal(rc[i], 0);
}

static void test_policy_none_leaves_affinity(void **state) {
    (void)state;
    cpu_set_t before[TEAM], after[TEAM];
    team_masks(before);
    char desc[256];
    assert_int_equal(machine_pin_threads(&T, TEAM, MACHINE_PIN_NONE, desc, sizeof desc), 0);
    assert_string_equal(desc, "none: threads not pinned");
    team_masks(after);
    for (int i = 0; i < TEAM; i++) assert_true(CPU_EQUAL(&before[i], &after[i]));
}

static void test_plan_text(void **state) {
    (void)state;
    char desc[512], user[160];
    machine_pin_policy p;
    assert_true(machine_pin_policy_parse("cores", &p) && p == MACHINE_PIN_CORES);
    assert_true(machine_pin_policy_parse("none", &p) && p == MACHINE_PIN_NONE);
    assert_false(machine_pin_policy_parse("scatter", &p));
    if (machine_pin_user_binding(user, sizeof user)) {
        assert_int_equal(machine_pin_plan(&T, 2, MACHINE_PIN_CORES, desc, sizeof desc), 0);
        assert_non_null(strstr(desc, "not pinned"));
        printf("NOTE topology: %s is set, pinning plans not checked\n", user);
        return;
    }
    assert_int_equal(machine_pin_plan(&T, 1, MACHINE_PIN_CORES, desc, sizeof desc), 1);
    char want[64];
    snprintf(want, sizeof want, "cores: 0->PU%d", T.core_pu[0]);
    assert_string_equal(desc, want);
    /* More threads than allowed PUs: wraps, and says so. */
    int many = T.allowed_pus + 1;
    assert_int_equal(machine_pin_plan(&T, many, MACHINE_PIN_CORES, desc, sizeof desc), many);
    assert_non_null(strstr(desc, "note:"));
    assert_non_null(strstr(desc, "wrapped"));
    /* A binding the user asked OpenMP for wins. */
    setenv("OMP_PROC_BIND", "spread", 1);
    assert_int_equal(machine_pin_plan(&T, 2, MACHINE_PIN_CORES, desc, sizeof desc), 0);
    assert_non_null(strstr(desc, "OMP_PROC_BIND=spread"));
    setenv("OMP_PROC_BIND", "false", 1);   /* "false": nobody binds, so we may */
    assert_int_equal(machine_pin_plan(&T, 2, MACHINE_PIN_CORES, desc, sizeof desc), 2);
    unsetenv("OMP_PROC_BIND");
}

/* Policy "cores" with TEAM threads: each thread lands on its own PU, and stays there in a later
 * parallel region of the same size (libgomp reuses its pool threads). */
static void test_pin_cores_sticks(void **state) {
    (void)state;
    char desc[512], user[160];
    if (machine_pin_user_binding(user, sizeof user)) {
        printf("NOTE topology: %s is set, binding left to the OpenMP runtime or likwid, not checked\n", user);
        return;
    }
    if (T.allowed_cores < TEAM) {
        printf("NOTE topology: %d allowed core(s), distinct-PU pinning of %d threads not checked\n", T.allowed_cores, TEAM);
        return;
    }
    cpu_set_t orig[TEAM];
    team_masks(orig);
    assert_int_equal(machine_pin_threads(&T, TEAM, MACHINE_PIN_CORES, desc, sizeof desc), TEAM);
    printf("NOTE topology: pinned %s\n", desc);
    int cpu[TEAM], count[TEAM];
    for (int round = 0; round < 3; round++) {   /* several later regions */
#pragma omp parallel num_threads(TEAM)
        {
            int i = omp_get_thread_num();
            cpu_set_t m;
            CPU_ZERO(&m);
            sched_getaffinity(0, sizeof m, &m);
            count[i] = CPU_COUNT(&m);
            cpu[i] = sched_getcpu();
        }
        for (int i = 0; i < TEAM; i++) {
            assert_int_equal(count[i], 1);
            assert_int_equal(cpu[i], T.core_pu[i]);
        }
        assert_int_not_equal(cpu[0], cpu[1]);
    }
    /* machine_affinity_restore gives the whole team the mask saved before pinning: omp_get_num_procs()
     * (what `latbench experiment` sizes its team by) and every thread's mask are as before */
    machine_affinity a;
    a.ok = true;
    memcpy(a.set, &orig[0], sizeof orig[0]);
    assert_int_equal(omp_get_num_procs(), 1);
    machine_affinity_restore(&a, TEAM);
    assert_int_equal(omp_get_num_procs(), CPU_COUNT(&orig[0]));
    cpu_set_t now[TEAM];
    team_masks(now);
    for (int i = 0; i < TEAM; i++) assert_true(CPU_EQUAL(&now[i], &orig[0]));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_consistent),
        cmocka_unit_test(test_caches),
        cmocka_unit_test(test_policy_none_leaves_affinity),
        cmocka_unit_test(test_plan_text),
        cmocka_unit_test(test_pin_cores_sticks),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

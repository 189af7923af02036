/* machine_rank_slice (tools/machine/topology.c): the ranks of one node get disjoint slices of its
 * cores covering them all, the first n % L ranks one core more; a launcher's binding is kept as it
 * is; more ranks than cores pin nothing and say why.  And machine_topology_detect under Open MPI's
 * local rank variables (no mpirun needed: set in this process) narrows the pinning to the slice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/test_util.h"
#include "tools/machine/topology.h"

static void test_slices_disjoint_and_cover(void **state) {
    int cores[10], out[10], seen[10];
    char why[200];
    for (int i = 0; i < 10; i++) cores[i] = 100 + 2 * i;   /* PU numbers, not positions */
    for (int L = 1; L <= 10; L++) {
        memset(seen, 0, sizeof seen);
        int total = 0;
        for (int r = 0; r < L; r++) {
            int n = machine_rank_slice(cores, 10, r, L, false, out, why, sizeof why);
            assert_true(n == 10 / L || n == 10 / L + 1);
            assert_int_equal(n, 10 / L + (r < 10 % L));
            for (int i = 0; i < n; i++) {
                int k = (out[i] - 100) / 2;
                assert_true(k >= 0 && k < 10);
                assert_int_equal(seen[k], 0);   /* no core in two slices */
                seen[k] = 1;
                if (i) assert_int_equal(out[i], out[i - 1] + 2);   /* a contiguous run of the list */
            }
            total += n;
        }
        assert_int_equal(total, 10);
    }
    int n = machine_rank_slice(cores, 10, 1, 4, false, out, why, sizeof why);
    assert_int_equal(n, 3);   /* 10 = 3 + 3 + 2 + 2: rank 1 gets positions 3-5 */
    assert_int_equal(out[0], 106);
    assert_int_equal(out[2], 110);
    assert_non_null(strstr(why, "local rank 1 of 4: cores 3-5 of 10, PU 106,108,110"));
}

static void test_bound_and_oversubscribed(void **state) {
    int cores[3] = {4, 5, 6}, out[3];
    char why[200];
    int n = machine_rank_slice(cores, 3, 1, 2, true, out, why, sizeof why);
    assert_int_equal(n, 3);   /* mpirun bound the rank to these: pinned inside them, not sliced again */
    assert_int_equal(out[2], 6);
    assert_non_null(strstr(why, "launcher bound"));
    n = machine_rank_slice(cores, 3, 2, 4, false, out, why, sizeof why);
    assert_int_equal(n, 0);
    assert_non_null(strstr(why, "not pinned: 4 ranks on this node's 3 allowed cores"));
    n = machine_rank_slice(cores, 3, 0, 1, false, out, why, sizeof why);
    assert_int_equal(n, 3);   /* one rank: every core */
}

/* Detection under OMPI_COMM_WORLD_LOCAL_RANK/SIZE: each local rank's pinning plan uses its own cores. */
static void test_detect_under_local_ranks(void **state) {
    machine_topology all, t;
    unsetenv("OMPI_COMM_WORLD_LOCAL_RANK"), unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    machine_topology_detect(&all);
    assert_int_equal(all.local_size, 1);
    assert_string_equal(all.slice, "");
    char desc[512];
    if (all.n_core_pu >= 2 && !all.launcher_bound) {
        setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2", 1);
        setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1);
        machine_topology_detect(&t);
        assert_int_equal(t.local_rank, 1);
        assert_int_equal(t.n_core_pu, all.n_core_pu / 2);
        assert_int_equal(t.core_pu[0], all.core_pu[all.n_core_pu - t.n_core_pu]);
        assert_int_equal(machine_pin_plan(&t, 1, MACHINE_PIN_CORES, desc, sizeof desc), 1);
        char want[32];
        snprintf(want, sizeof want, "0->PU%d", all.core_pu[all.n_core_pu - t.n_core_pu]);
        assert_non_null(strstr(desc, want));
    } else {
        print_message("NOTE slice of detection: %d allowed core(s)%s: the 2-rank slice is not checked here\n", all.n_core_pu,
                      all.launcher_bound ? ", affinity narrowed by a launcher" : "");
    }
    char n[16];
    snprintf(n, sizeof n, "%d", all.n_core_pu + 1);   /* more ranks than cores: nobody pins */
    setenv("OMPI_COMM_WORLD_LOCAL_SIZE", n, 1);
    setenv("OMPI_COMM_WORLD_LOCAL_RANK", "0", 1);
    machine_topology_detect(&t);
    if (!t.launcher_bound) {
        assert_true(t.slice_unpinned);
        assert_int_equal(machine_pin_plan(&t, 2, MACHINE_PIN_CORES, desc, sizeof desc), 0);
        assert_non_null(strstr(desc, "oversubscribed"));
    }
    unsetenv("OMPI_COMM_WORLD_LOCAL_RANK"), unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slices_disjoint_and_cover),
        cmocka_unit_test(test_bound_and_oversubscribed),
        cmocka_unit_test(test_detect_under_local_ranks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The cold-cache rotation of tools/timing/cold.h: the number of copies by the rule (enough other
 * copies between two uses of one to cover the target, within the cap, one for a set larger than
 * the target), every buffer copied that many times with its initial contents, the copies disjoint
 * and aligned, and the rotation visiting every copy once per cycle. */
#include <stdint.h>
#include <string.h>
#include "tests/test_util.h"
#include "tools/timing/cold.h"

#define MiB ((size_t)1 << 20)

static void test_copies_rule(void **state) {
    (void)state;
    assert_int_equal(timing_cold_copies(10 * MiB, 100 * MiB, TIMING_COLD_CAP_BYTES), 11);   /* 10 others cover 100 MiB */
    assert_int_equal(timing_cold_copies(30 * MiB, 100 * MiB, TIMING_COLD_CAP_BYTES), 5);    /* ceil(100/30) + 1 */
    assert_int_equal(timing_cold_copies(100 * MiB, 100 * MiB, TIMING_COLD_CAP_BYTES), 1);   /* evicts itself */
    assert_int_equal(timing_cold_copies(300 * MiB, 100 * MiB, TIMING_COLD_CAP_BYTES), 1);
    assert_int_equal(timing_cold_copies(10 * MiB, 964 * MiB, TIMING_COLD_CAP_BYTES), 25);   /* the cap: 256 / 10 */
    assert_int_equal(timing_cold_copies(200 * MiB, 964 * MiB, TIMING_COLD_CAP_BYTES), 1);   /* two would exceed it */
    assert_int_equal(timing_cold_copies(0, 100 * MiB, 1000), 1000);                  /* an empty set: the cap */
    /* the target: twice L2 + L3; 64 MiB where neither is reported */
    assert_int_equal(timing_cold_target_bytes(2 * (long long)MiB, 30 * (long long)MiB), 64 * MiB);
    assert_int_equal(timing_cold_target_bytes(0, 0), 64 * MiB);
    assert_int_equal(timing_cold_target_bytes(1 * (long long)MiB, 0), 2 * MiB);
}

static void test_rotation_covers_every_buffer(void **state) {
    (void)state;
    enum { NB = 3 };
    const size_t bytes[NB] = {1000, 4096, 0};
    static unsigned char a[1000], b[4096];
    for (size_t i = 0; i < sizeof a; i++) a[i] = (unsigned char)(i * 7 + 1);
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(i * 13 + 5);
    const void *init[NB] = {a, b, NULL};
    timing_cold r;
    /* a set of 1024 + 4096 + 64 bytes, a target of 40000: 1 + ceil(40000 / 5184) = 9 copies */
    assert_true(timing_cold_init(&r, NB, bytes, init, 40000, TIMING_COLD_CAP_BYTES));
    assert_int_equal(r.copies, 9);
    assert_int_equal(timing_cold_total_bytes(&r), 9 * (1024 + 4096 + 64));
    assert_true(timing_cold_total_bytes(&r) - timing_cold_total_bytes(&r) / r.copies >= 40000);
    for (int c = 0; c < r.copies; c++) {
        assert_int_equal((uintptr_t)timing_cold_buf(&r, 0, c) % 64, 0);
        assert_memory_equal(timing_cold_buf(&r, 0, c), a, sizeof a);
        assert_memory_equal(timing_cold_buf(&r, 1, c), b, sizeof b);
        const unsigned char *z = timing_cold_buf(&r, 2, c);
        for (int i = 0; i < 64; i++) assert_int_equal(z[i], 0);
        if (c) {   /* disjoint: copy c starts past the end of copy c - 1 */
            for (int i = 0; i < NB; i++)
                assert_true((char *)timing_cold_buf(&r, i, c) >= (char *)timing_cold_buf(&r, i, c - 1) + (bytes[i] ? bytes[i] : 64));
        }
    }
    /* writing one copy leaves the others alone */
    memset(timing_cold_buf(&r, 1, 4), 0xff, sizeof b);
    assert_memory_equal(timing_cold_buf(&r, 1, 3), b, sizeof b);
    assert_memory_equal(timing_cold_buf(&r, 1, 5), b, sizeof b);
    /* two cycles: each copy once per cycle, in order */
    int seen[9] = {0};
    for (int k = 0; k < 2 * r.copies; k++) {
        const int c = timing_cold_next(&r);
        assert_int_equal(c, k % r.copies);
        seen[c]++;
    }
    for (int c = 0; c < r.copies; c++) assert_int_equal(seen[c], 2);
    timing_cold_free(&r);
    assert_int_equal(r.copies, 0);
    /* too many buffers: refused, nothing allocated */
    size_t many[TIMING_COLD_MAX_BUFS + 1] = {0};
    assert_false(timing_cold_init(&r, TIMING_COLD_MAX_BUFS + 1, many, NULL, 100, TIMING_COLD_CAP_BYTES));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copies_rule),
        cmocka_unit_test(test_rotation_covers_every_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

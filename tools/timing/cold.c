/* Cold-cache timing by rotating over copies of a call's operands (cold.h). */
#include "tools/timing/cold.h"
#include <stdlib.h>
#include <string.h>

size_t timing_cold_target_bytes(long long l2, long long l3) {
    const long long c = (l2 > 0 ? l2 : 0) + (l3 > 0 ? l3 : 0);
    return c > 0 ? 2 * (size_t)c : (size_t)64 << 20;
}

int timing_cold_copies(size_t set_bytes, size_t target, size_t cap) {
    if (!set_bytes) set_bytes = 1;
    if (set_bytes >= target) return 1;
    size_t k = 1 + (target + set_bytes - 1) / set_bytes;
    const size_t most = cap / set_bytes;
    if (k > most) k = most;
    return k < 1 ? 1 : k > (1u << 20) ? 1 << 20 : (int)k;
}

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

bool timing_cold_init(timing_cold *r, int nbufs, const size_t *bytes, const void *const *init, size_t target,
                        size_t cap) {
    memset(r, 0, sizeof *r);
    if (nbufs < 1 || nbufs > TIMING_COLD_MAX_BUFS) return false;
    size_t set = 0;
    for (int i = 0; i < nbufs; i++) set += round64(bytes[i] ? bytes[i] : 64);
    r->nbufs = nbufs;
    r->copies = timing_cold_copies(set, target, cap);
    for (int i = 0; i < nbufs; i++) {
        r->bytes[i] = bytes[i];
        r->stride[i] = round64(bytes[i] ? bytes[i] : 64);
        r->copy[i] = aligned_alloc(64, r->stride[i] * (size_t)r->copies);
        if (!r->copy[i]) return timing_cold_free(r), false;
        for (int c = 0; c < r->copies; c++) {
            char *p = (char *)r->copy[i] + r->stride[i] * (size_t)c;
            if (init && init[i]) memcpy(p, init[i], bytes[i]);
            else memset(p, 0, r->stride[i]);
        }
    }
    return true;
}

void timing_cold_free(timing_cold *r) {
    for (int i = 0; i < TIMING_COLD_MAX_BUFS; i++) free(r->copy[i]);
    memset(r, 0, sizeof *r);
}

void *timing_cold_buf(const timing_cold *r, int i, int c) { return (char *)r->copy[i] + r->stride[i] * (size_t)c; }

int timing_cold_next(timing_cold *r) {
    const int c = r->next;
    r->next = c + 1 == r->copies ? 0 : c + 1;
    return c;
}

size_t timing_cold_total_bytes(const timing_cold *r) {
    size_t t = 0;
    for (int i = 0; i < r->nbufs; i++) t += r->stride[i] * (size_t)r->copies;
    return t;
}

/* Cold-cache timing: the operands of a timed call live in memory not touched recently, as in a
 * real training step (each layer's activations of a 60x4 batch of 128 are 4-10 MB, so between
 * layers and steps they come from L3 or DRAM), not in the caches the previous repetition of the
 * same call left them in (the way oneDNN's benchdnn --cold-cache=all does it).
 *
 * A timing_cold holds `copies` copies of a set of buffers (a call's inputs, weights, outputs and
 * gradients); each timed call takes the next copy (timing_cold_next), so between two uses of one copy the
 * other copies - at least the target's bytes - pass through the caches and evict it.  The target
 * is twice the detected L2 + L3 (timing_cold_target_bytes), the copies' total capped at TIMING_COLD_CAP_BYTES: on
 * a CPU whose L3 is larger than the cap (a big Xeon reports its socket's whole L3 in a VM) the
 * copies cycle within the cap, and part of them may still be in L3 - said by timing_cold_init's
 * caller where it matters.  A set larger than the target alone evicts itself: one copy. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define TIMING_COLD_MAX_BUFS 8
#define TIMING_COLD_CAP_BYTES ((size_t)256 << 20)

typedef struct {
    int nbufs, copies, next;
    size_t bytes[TIMING_COLD_MAX_BUFS];       /* one copy of each buffer */
    void *copy[TIMING_COLD_MAX_BUFS];         /* buffer i's copies, back to back, 64-byte aligned each */
    size_t stride[TIMING_COLD_MAX_BUFS];      /* bytes from one copy of buffer i to the next */
} timing_cold;

/* Twice l2 + l3 (bytes; 0 where not reported), at least 64 MiB when neither is reported. */
size_t timing_cold_target_bytes(long long l2, long long l3);

/* The copies of a set of set_bytes so that the other copies between two uses of one cover target:
 * the smallest k with (k - 1) * set_bytes >= target, 1 when set_bytes >= target, and no more than
 * cap / set_bytes (at least 1). */
int timing_cold_copies(size_t set_bytes, size_t target, size_t cap);

/* Allocates the copies of nbufs buffers of bytes[i] (<= TIMING_COLD_MAX_BUFS; a 0-byte buffer gets a
 * 64-byte one) and fills every copy of buffer i from init[i] (NULL: zeros).  False on allocation
 * failure or too many buffers (nothing left allocated). */
bool timing_cold_init(timing_cold *r, int nbufs, const size_t *bytes, const void *const *init, size_t target,
                        size_t cap);
void timing_cold_free(timing_cold *r);

/* Copy c (0..copies) of buffer i. */
void *timing_cold_buf(const timing_cold *r, int i, int c);
/* The copy the next call uses; advances the rotation. */
int timing_cold_next(timing_cold *r);
/* The total bytes of all copies. */
size_t timing_cold_total_bytes(const timing_cold *r);

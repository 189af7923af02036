/* Flux violations (tasks 2 and 3 of docs/design.md §3).
 *
 * A flux violation is a site where the divergence of k, div_x = Σ_nu (k_{x,nu} - k_{x-nu,nu}), is
 * not zero.  A sampled configuration has none.  An open worm is the state of the worm algorithm
 * between its start and its return: the tail site x0 carries div = +delta and the head site
 * div = -delta (delta = ±1), every other site div = 0.  Inserting K open worms with 2K distinct
 * end sites gives exactly 2K sites with |div| = 1 and Σ_x |div_x| = 2K; the labels are
 *   detection: y = 1 if K > 0 else 0          counting: y = K = Σ_x |div_x| / 2,
 * so both can be recomputed from k alone (tests/test_generate.c does, on the written x.npy).
 *
 * How an open worm is made: the configuration is continued in the extended (open-worm) ensemble
 * of the worm algorithm with exactly the sampler's head-step acceptance (worm_head_step): a start
 * x0 (uniform over sites that are not yet an end of an earlier worm), delta = ±1, then T head
 * proposals, T uniform in 1..steps_max.  A worm that closes before T is a closed-loop update and
 * a new worm starts from a fresh x0 (as in the sampler).  After T proposals the worm stops at the
 * first step on which the head is neither at x0 nor on an earlier worm's end site.  Counting
 * proposals, not accepted steps, stops the walk at a uniformly random time of the extended chain,
 * which is how that ensemble weights its open configurations.  Earlier worms stay in place, so the
 * k-th worm moves in the ensemble with k-1 open worms already present (their odd f included).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernels/worm/worm.h"

/* steps_max for steps_max <= 0: 4V head proposals. */
int lat_viol_steps_default(int v);

/* Inserts K open worms into one configuration (k, l, f with stride 1; f is kept consistent).
 * mark: scratch of V bytes.  False (err set) when 2K > V or the walk cannot find free end sites. */
bool lat_insert_open_worms(const worm_desc *d, int32_t *k, const int32_t *l, int32_t *f, int K, int steps_max,
                          worm_rng *rng, uint8_t *mark, char *err, size_t errlen);

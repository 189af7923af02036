/* Test only: LATBENCH_TEST_SLOWDOWN=OP.PASS:F slows one dispatched kernel by the factor F, to prove
 * that `latbench gate` and `latbench compare` catch a slowed kernel.  Kept out of the dispatcher:
 * registry.c makes the one call below and knows nothing else of it. */
#pragma once
#include "arch/registry.h"

/* When LATBENCH_TEST_SLOWDOWN is set, points d's conv2d, pool, worm or chain1x1 table at a copy whose chosen pass
 * is wrapped; a malformed value prints one line and exits with status 2. */
void lb_test_slowdown_apply(lb_dispatch *d);

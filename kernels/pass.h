/* The passes of a layer, the one enum for every part that names them (the nn runtime's profile,
 * the benchmarks, the verifiers): every <op>.h contract offers fwd, and bwd_data / bwd_weights
 * where the op has an input gradient / parameters.  Ops with a single backward (pool, activations)
 * call it LB_PASS_BWD_DATA: it is the gradient of their input.  A header of its own (not
 * common.h): the kernels themselves never branch on a pass. */
#pragma once

typedef enum { LB_PASS_FWD = 0, LB_PASS_BWD_DATA, LB_PASS_BWD_WEIGHTS, LB_N_PASSES } lb_pass;

/* "fwd", "bwd_data", "bwd_weights": the suffix of result and descriptor names ("conv2d_bwd_data"). */
static inline const char *lb_pass_name(lb_pass p) {
    return p == LB_PASS_FWD ? "fwd" : p == LB_PASS_BWD_DATA ? "bwd_data" : "bwd_weights";
}

/* "fwd", "bwd": the names of an op whose backward is not split (pool, activations). */
static inline const char *lb_pass_name_unsplit(lb_pass p) { return p == LB_PASS_FWD ? "fwd" : "bwd"; }

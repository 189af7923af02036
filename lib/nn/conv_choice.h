/* The tuning profile applied to one conv layer: the variant and parameters the active profile
 * (arch/profile.h) names for a layer's problem and pass at the dispatch cap and a thread count,
 * by lb_profile_choice's rule for untuned shapes, else the dispatched default.  The model runtime
 * stores one choice per conv layer and pass (nn_model_set_profile); info reports the coverage. */
#pragma once
#include "arch/profile.h"
#include "arch/registry.h"

typedef enum {
    NN_TUNED_DEFAULT = 0, /* no entry, or its variant is above the cap: the dispatched default */
    NN_TUNED_EXACT,       /* an entry for this very problem */
    NN_TUNED_NEAREST,     /* the nearest tuned shape (or an entry for "any") */
} nn_tuned;

typedef struct {
    const conv2d_ops *ops;          /* never NULL: d->conv2d when the default runs */
    lb_params params;               /* the entry's parameters when its variant runs, else all 0 */
    const lb_profile_entry *entry;  /* the entry applied, or NULL */
    nn_tuned how;
} nn_conv_choice;

/* The choice for conv problem desc (its params ignored) and pass under profile p (NULL: none) and
 * dispatch d, at `threads` threads.  A variant equal to the default keeps d->conv2d itself (what
 * dispatch wrapped around it, the test slowdown, stays). */
nn_conv_choice nn_conv_choose(const lb_profile *p, const lb_dispatch *d, const conv2d_desc *desc, lb_pass pass,
                              int threads);
const char *nn_tuned_name(nn_tuned how);   /* "tuned exactly", "by nearest shape", "default" */

/* ---- a chain of 1x1 conv + lrelu layers (kernels/chain1x1) ---- */

/* How an inference chain runs: fused by ops (with params), or layer by layer (ops NULL). */
typedef struct {
    const chain1x1_ops *ops;        /* NULL: unfused, the layers one by one */
    lb_params params;               /* the entry's parameters when a variant runs, else all 0 */
    const lb_profile_entry *entry;  /* the entry applied, or NULL (the default rule) */
    nn_tuned how;
} nn_chain_choice;

/* The default without a profile entry: fused with d->chain1x1 where it is a SIMD variant at the
 * conv2d dispatch's ISA and that dispatch a registry row (not wrapped by LATBENCH_TEST_SLOWDOWN);
 * never for a training model (its keep mode also writes every intermediate: no faster). */
bool nn_chain_default_fused(const lb_dispatch *d, bool train);
/* The choice for chain desc (its params ignored) of an inference model at `threads` threads:
 * profile p's chain1x1 fwd entry (exact, nearest, "any": lb_profile_choice), its variant where it
 * runs under the cap ("unfused": ops NULL), else the default rule. */
nn_chain_choice nn_chain_choose(const lb_profile *p, const lb_dispatch *d, const chain1x1_desc *desc, int threads);

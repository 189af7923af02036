/* The model runtime: a net_spec instantiated for one lattice (h x w) and a maximum batch, with
 * every activation, gradient and workspace buffer allocated once in one arena (no allocation per
 * step; docs/design.md §5).  Forward and backward run the dispatched kernels: conv and pool through the
 * threaded batch-split wrappers (lib/nn/parallel.h), the rest single-threaded; each conv layer and
 * pass the tuning profile's variant and parameters where one applies (nn_model_set_profile).  On
 * more than one slice the per-sample layers from the input (conv, lrelu, pools, global pools, up
 * to the first linear, flatten, sigmoid or fused chain) run slice by slice in one OpenMP region per
 * pass (nn_slices_run) rather than one per op: the same bits, fewer forks, joins and barriers.
 *
 * Parameters live in one flat array (so AdamW is one kernel call), layer by layer in spec order,
 * weight then bias, in latbench's layout: conv [kh][kw][cin][cout], linear [in][out].
 * Input: int16 NCHW configurations [n][4][h][w] (the dataset's x.npy), converted to float NHWC once
 * per batch.
 * A final Sigmoid is fused with the loss: training uses BCE on the logits (loss_bce_logits);
 * nn_model_forward still returns the sigmoid outputs.  Nets without a final Sigmoid use MSE.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/nn/netspec.h"
#include "kernels/pass.h"
#include "lib/nn/conv_choice.h"

typedef struct nn_model nn_model;

/* Per-layer parameter location in the flat array (count 0 when absent). */
typedef struct {
    size_t w_off, w_count, b_off, b_count;
} nn_param_slot;

/* train = false allocates no gradient buffers (evaluation only).  NULL with a one-line reason in
 * err when the net does not fit the lattice. */
nn_model *nn_model_create(const net_spec *spec, int h, int w, int batch, int threads, bool train, char *err,
                          size_t errlen);
void nn_model_free(nn_model *m);
/* The tuning profile applied per conv layer and pass (lib/nn/conv_choice.h): nn_model_create takes
 * the active one (lb_profile_active) at the model's batch and thread count; this re-chooses under
 * p (NULL: the dispatched default for every layer), e.g. to time tuned against default. */
void nn_model_set_profile(nn_model *m, const lb_profile *p);
/* The variant and parameters layer `layer` runs for `pass` (the default for a layer that is no conv). */
nn_conv_choice nn_model_conv_choice(const nn_model *m, int layer, lb_pass pass);

int nn_model_outputs(const nn_model *m);
int nn_model_batch(const nn_model *m);
bool nn_model_bce(const nn_model *m); /* final sigmoid: BCE on logits, else MSE */
size_t nn_model_param_count(const nn_model *m);
float *nn_model_params(nn_model *m);
const float *nn_model_grads(const nn_model *m); /* NULL for an evaluation model */
nn_param_slot nn_model_slot(const nn_model *m, int layer);
/* FLOPs of one sample's forward pass (conv, dense and pools; elementwise ops excluded). */
double nn_model_flops_fwd(const nn_model *m);

/* PyTorch's default initialization from a seeded generator: every conv/linear weight and bias
 * uniform in ±1/sqrt(fan_in) (kaiming-uniform with a = sqrt(5) gives exactly that bound). */
void nn_model_init(nn_model *m, uint64_t seed);

/* Gathers samples idx[0..n-1] (or 0..n-1 when idx is NULL) of x [N][4][h][w] into the input. */
void nn_model_set_input(nn_model *m, const int16_t *x, const long *idx, int n);
/* Runs the forward pass on the first n samples of the input; returns the outputs [n][outputs]
 * (after the final sigmoid, if any). */
const float *nn_model_forward(nn_model *m, int n);
/* Whether the forward runs each chain of 2..4 (1x1 stride-1 conv + lrelu) layer pairs as one
 * fused pass (kernels/chain1x1: a tile of sites through every layer in L1) instead of layer by
 * layer: mode 1 on, 0 off, -1 the default: an inference model's chain as the tuning profile's
 * chain1x1 entry for it says (a variant and tile, or "unfused"; lib/nn/conv_choice.h), else on
 * where its dispatch has a SIMD chain1x1 at the conv2d's ISA (nn_chain_default_fused), whatever the
 * profile's conv2d entries for the chain's layers (timed layer by layer, their best gain 1.07x is
 * far below the fusion's 0.55-0.64x of the time on AVX-512); a training model only when asked (its
 * forward also writes every intermediate, no faster than the layers).  The results agree within verify's tolerances
 * (on AVX-512 bit for bit with the default conv2d + act).  Never while a profile
 * (nn_model_attach_profile) times the layers one by one.  Returns the number of chains the net has. */
int nn_model_set_chain(nn_model *m, int mode);
/* How many chains the next forward runs as one fused pass (after the mode, the default rule, profiling). */
int nn_model_chains_on(const nn_model *m);
/* Whether a chain starts at layer; then its descriptor at the model's batch (d) and how it runs
 * under the default mode (c: the profile's chain1x1 entry or the default rule); either may be NULL. */
bool nn_model_chain_at(const nn_model *m, int layer, chain1x1_desc *d, nn_chain_choice *c);
/* The loss of the last forward pass against y [n][outputs] (mean over all n*outputs values). */
float nn_model_loss(nn_model *m, int n, const float *y);
/* Loss of the last forward pass, and its gradient with respect to every parameter (overwrites the
 * gradient array).  Needs a training model. */
float nn_model_backward(nn_model *m, int n, const float *y);

/* Conversions to and from PyTorch's layout (conv [cout][cin][kh][kw], linear [out][in]) for one
 * layer's weight; biases are the same in both. */
void nn_weight_to_torch(const layer_spec *L, const float *ours, float *torch);
void nn_weight_from_torch(const layer_spec *L, const float *torch, float *ours);

/* ---- optional per-layer profile ----
 * Attached to a model, it accumulates per layer and per pass the wall time, the call count and
 * the FLOPs of every kernel call the runtime makes; nothing is kept (and one branch per layer is
 * the only cost) when none is attached.  It only reads the clock: results are bit for bit those of
 * an unprofiled run.  Conv/pool calls are timed around the threaded wrapper, so a cell's time
 * includes OpenMP's fork and join: a profiled model runs every layer op by op (one region per op),
 * which an unprofiled one on several threads does not (see above), so the cells may add up to more
 * than an unprofiled step.  No allocation; the caller owns the struct.  Passes are
 * kernels/pass.h's lb_pass. */
typedef struct {
    double seconds; /* wall time, summed over calls */
    double flops;   /* nn_model_layer_flops of each call, summed */
    long calls;
} nn_prof_cell;

typedef struct {
    nn_prof_cell layer[NETSPEC_MAX_LAYERS][LB_N_PASSES];
    /* bwd_data of a conv includes the weight transpose it needs (conv2d_weights_transpose). */
    nn_prof_cell input; /* nn_model_set_input: int16 NCHW -> float NHWC (harness code, no kernel) */
    nn_prof_cell loss;  /* the loss kernel, with its gradient in nn_model_backward */
    nn_prof_cell optim; /* the optimizer: not run by the model; its caller adds it (nn_prof_add) */
} nn_profile;

/* Attaches p (not cleared: clear it with memset to start afresh); NULL detaches. */
void nn_model_attach_profile(nn_model *m, nn_profile *p);
nn_profile *nn_model_profile(const nn_model *m); /* the attached profile, or NULL */
/* Adds one call of `seconds` and `flops` to a cell (for work done outside the model). */
void nn_prof_add(nn_prof_cell *c, double seconds, double flops);
/* Seconds in kernels: every layer cell, the loss and the optimizer (input conversion excluded). */
double nn_profile_kernel_seconds(const nn_profile *p, int n_layers);
int nn_model_layers(const nn_model *m);
/* Whether the runtime runs this layer inside the one before it (a lrelu after a conv): its time
 * is then profiled as the conv's. */
bool nn_model_layer_fused(const nn_model *m, int layer);
const layer_spec *nn_model_layer(const nn_model *m, int layer);

/* FLOPs of one call of a layer's pass on n samples, the one count behind every FLOP figure:
 * conv and linear 2*MACs for each of the three passes; avg/max pool their window reads
 * (pool_flops) for fwd and bwd_data; elementwise layers, global pools and flatten 0.  0 as well
 * for a pass the runtime does not run (bwd_data of layer 0: the input needs no gradient;
 * bwd_weights of a layer without weights). */
double nn_model_layer_flops(const nn_model *m, int layer, lb_pass pass, int n);
/* FLOPs of one training sample: forward, backward-data and backward-weights as the runtime runs
 * them (the sum of nn_model_layer_flops over layers and passes for n = 1). */
double nn_model_flops_train(const nn_model *m);

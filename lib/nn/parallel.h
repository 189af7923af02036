/* Threaded wrappers of the conv2d and pool kernels: the batch is split into contiguous slices,
 * one per OpenMP thread, and each slice is one kernel call on a sub-descriptor (n = slice size).
 *
 * Slices: parts = nn_batch_parts(threads, n) = clamp(threads, 1, n); slice p holds samples
 * [p*(n/parts) + min(p, n%parts), ...), sizes differing by at most one.  A batch of 1 therefore
 * runs on one thread whatever `threads` says: callers that report thread counts should report
 * nn_batch_parts(), not `threads`.
 *
 * Results: fwd, bwd_data and pool fwd/bwd are per-sample computations, so they equal a single
 * whole-batch call bit for bit.  bwd_weights sums per-slice partial gradients (slice 0 writes gw/gb
 * directly, slices 1.. write into the caller's workspace) in slice order, so its result depends on
 * `parts` (float rounding) but never on thread scheduling: the same inputs and thread count give
 * the same bits every time.
 *
 * Nothing here allocates; the only scratch memory is the bwd_weights workspace, sized by
 * nn_conv2d_bwd_weights_workspace().  threads <= 1 (or a batch of 0/1) calls the kernel directly,
 * without an OpenMP region.  The kernels' own contracts (kernels/conv2d/conv2d.h,
 * kernels/pool/pool.h) apply unchanged.
 */
#pragma once
#include <stddef.h>
#include "kernels/act/act.h"
#include "kernels/chain1x1/chain1x1.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/gpool/gpool.h"
#include "kernels/pool/pool.h"

/* How many slices (= threads actually used) a batch of n is split into for `threads` threads. */
int nn_batch_parts(int threads, int n);
/* Slice p of n samples cut into `parts`: its first sample and its count (the first n % parts slices hold one more). */
void nn_batch_slice(int n, int parts, int p, int *start, int *count);

void nn_conv2d_fwd(const conv2d_ops *k, int threads, const conv2d_desc *d, const float *in, const float *w,
                   const float *bias, float *out);

/* wt is the [kh][kw][cout][cin] weight layout (conv2d_weights_transpose). */
void nn_conv2d_bwd_data(const conv2d_ops *k, int threads, const conv2d_desc *d, const float *gout, const float *wt,
                        float *gin);

/* Floats of workspace nn_conv2d_bwd_weights needs for this descriptor and thread count (0 when it
 * runs on one slice).  Each partial buffer starts at a multiple of 16 floats from the workspace
 * start, so a 64-byte aligned workspace gives 64-byte aligned partials. */
size_t nn_conv2d_bwd_weights_workspace(int threads, const conv2d_desc *d);

/* Overwrites gw and, when d->bias and gb != NULL, gb.  workspace: at least
 * nn_conv2d_bwd_weights_workspace(threads, d) floats (may be NULL when that is 0). */
void nn_conv2d_bwd_weights(const conv2d_ops *k, int threads, const conv2d_desc *d, const float *in, const float *gout,
                           float *gw, float *gb, float *workspace);

/* nn_conv2d_bwd_weights in two steps, for a caller that runs its own OpenMP region over the
 * slices (nn_slices_run): slice p of `parts` writes its partial (d: the whole batch; in, gout the
 * slice's first sample; workspace as above), then, after a barrier, thread tid of nt sums its share of the
 * elements in slice order.  The same bits as nn_conv2d_bwd_weights with nn_batch_parts() == parts. */
void nn_conv2d_bwd_weights_part(const conv2d_ops *k, const conv2d_desc *d, int parts, int p, const float *in,
                                const float *gout, float *gw, float *gb, float *workspace);
void nn_conv2d_bwd_weights_reduce(const conv2d_desc *d, int parts, float *gw, float *gb, const float *workspace,
                                  int tid, int nt);

/* One OpenMP region over the slices of n samples (nn_batch_parts(threads, n) of them): fn for each
 * slice (its index p, first sample s0, count cnt), on whichever thread owns it; then, when after is
 * not NULL, a barrier and after on every thread (tid of nt).  One slice: fn on the caller's thread,
 * no region.  Lets a caller run several per-sample ops on a slice with one fork and join instead
 * of one per op. */
typedef void nn_slice_fn(void *ctx, int parts, int p, int s0, int cnt);
typedef void nn_slices_after_fn(void *ctx, int parts, int tid, int nt);
void nn_slices_run(int threads, int n, nn_slice_fn *fn, nn_slices_after_fn *after, void *ctx);

void nn_pool_fwd(const pool_ops *k, int threads, const pool_desc *d, const float *in, float *out);

/* in may be NULL for average pooling (as for the kernel). */
void nn_pool_bwd(const pool_ops *k, int threads, const pool_desc *d, const float *in, const float *gout, float *gin);

/* ---- a conv followed by LeakyReLU, fused at the slice level ----
 * The kernels stay separate; each thread's slice runs in chunks of a few samples (about 256 KB of
 * conv input and output), the activation right after the conv on the chunk the conv just wrote,
 * so that it reads from L2 instead of memory.  Elementwise and per-sample: the same bits as the
 * conv over the whole batch followed by one lrelu call. */

/* out = conv(in) (kept: the lrelu backward reads it), act = lrelu(out). */
void nn_conv2d_fwd_lrelu(const conv2d_ops *k, const act_ops *a, float slope, int threads, const conv2d_desc *d,
                         const float *in, const float *w, const float *bias, float *out, float *act);

/* The backward of that pair, but for the weights: gy = lrelu_bwd(out, gact) and, when gin is not
 * NULL, gin = conv backward-data of gy (wt: conv2d_weights_transpose).  The caller then runs
 * nn_conv2d_bwd_weights on gy. */
void nn_lrelu_bwd_conv2d_bwd_data(const conv2d_ops *k, const act_ops *a, float slope, int threads,
                                  const conv2d_desc *d, const float *out, const float *gact, float *gy,
                                  const float *wt, float *gin);

/* A fused chain of 1x1 conv + lrelu layers (kernels/chain1x1) on n samples of ps sites each
 * (d->sites = n * ps), samples split over the threads; keep as in chain1x1.h (NULL: inference). */
void nn_chain1x1_fwd(const chain1x1_ops *k, int threads, int n, size_t ps, const chain1x1_desc *d, const float *in,
                     const float *const *w, const float *const *b, float *out, const chain1x1_keep *keep);

/* Elementwise LeakyReLU on n samples of ps floats each, samples split over the threads. */
void nn_lrelu_fwd(const act_ops *a, float slope, int threads, int n, size_t ps, const float *x, float *y);
void nn_lrelu_bwd(const act_ops *a, float slope, int threads, int n, size_t ps, const float *x, const float *gy,
                  float *gx);

/* Global pooling, the batch split over the threads (per sample: the same bits as one call). */
void nn_gpool_fwd(const gpool_ops *k, int threads, const gpool_desc *d, const float *in, float *out);
void nn_gpool_bwd(const gpool_ops *k, int threads, const gpool_desc *d, const float *in, const float *gout, float *gin);

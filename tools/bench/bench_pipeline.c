/* The full pipelines of `latbench bench`, timed end to end (the workload as it runs, not just its
 * kernels), each beside a baseline measured in the same run:
 *
 *   train     training steps (gather a batch, int16 -> float input, forward, loss, backward,
 *             AdamW amsgrad) of task1-eq/task1-st on 8x8 and 60x4 and task3-eq1 on 8x8, batch 128,
 *             vs PyTorch doing the same steps (tools/bench/torch_pipeline.py); plus a per-layer,
 *             per-pass breakdown (lib/nn/model.h's profile) and the share of the step spent
 *             outside kernels;
 *   infer     forward passes of task1-eq on 64x64, vs PyTorch;
 *   generate  the worm sampler producing 1024 configurations of the task-1 setup (60x4, eta 4.01,
 *             lambda 1, mu 1.0; `latbench generate`'s 2000 thermalization sweeps and spacing of
 *             2 tau_int, but 32 chains: two 16-lane blocks, so that 2 threads both have work),
 *             dispatched variant vs the scalar reference, alternating;
 *   eval      the forward pass and loss over that generated set (held out: the model never saw
 *             it) with task1-eq, batch 128.
 * --quick: the 8x8 training steps, inference at batch 16, 128 configurations after 200 sweeps,
 * 3 repetitions of ~50 ms (about 20 s on an idle 2-core machine; the default section ~2 min).
 * bench_opts.pipe_batch (--pipeline-batch) replaces the batch of 128.
 *
 * Records (JSON, google-benchmark style): pipeline/<phase>/<net>/<lattice>/mb<batch>/threads:<T>
 * (generate: pipeline/generate/60x4_eta4.01_lambda1_mu1.00/<variant>/threads:<T>); real_time is
 * per step (per pass over the set for eval, per dataset for generate) and `samples` the
 * per-repetition times, both in ns; plus samples_per_s, GFLOPS, pct_fma_peak, torch_* and
 * ratio_vs_torch (ours / PyTorch in samples/s), a `layers` array (per-pass ns and FLOPs per
 * step) and outside_kernels_share (the step minus its kernels: layers, loss, optimizer).
 *
 * FLOPs (for GFLOP/s and % of the FMA peak): nn_model_layer_flops, i.e. 2*MACs of every conv and
 * linear for each pass the runtime runs (forward, backward-data of all layers but the first,
 * backward-weights), plus pools' window reads (under 1%); activations, the loss and AdamW count 0.
 *
 * PyTorch runs as a co-process (tools/bench/torch_client.h) so that its repetitions alternate with
 * ours, block by block, and both see the same machine noise; medians over the repetitions of each.
 * Without python3 or torch one line says so and ours are reported alone.  This file runs the
 * section; the phases are in bench_pipeline_nn.c (train, infer) and bench_pipeline_gen.c (generate,
 * eval), and what they share (timing, records, the table's header) in bench_pipeline_common.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/bench/bench_pipeline.h"

static pipe_cfg pipe_config(const bench_opts *o) {
    int batch = pipe_batch(o);
    if (o->quick)
        return (pipe_cfg){3, 3, 0.05, 0.6, batch < 16 ? batch : 16, 128, 32, 200, 1};
    return (pipe_cfg){7, 3, 0.2, 3.0, batch, 1024, 32, 2000, 2};
}

void bench_pipelines(bench_run *r) {
    const pipe_cfg cfg = pipe_config(r->opt);
    bool header = false;
    torch_client t;
    memset(&t, 0, sizeof t);
    if (pipe_nn_wanted(r, &cfg)) torch_client_open(&t);
    pipe_nn(r, &cfg, &t, &header);
    torch_client_close(&t);
    size_t per = (size_t)4 * 60 * 4;
    int16_t *x = malloc((size_t)cfg.gen_count * per * sizeof(int16_t));
    float *y = malloc((size_t)cfg.gen_count * 2 * sizeof(float));
    if (!x || !y) {
        fprintf(r->out, "pipelines: out of memory for %ld configurations\n", cfg.gen_count);
    } else {
        bool have = pipe_generate(r, &cfg, &t, x, y, &header);
        pipe_eval(r, &cfg, &t, x, y, have, &header);
    }
    free(x);
    free(y);
    if (header)
        fprintf(r->out, "    (*: fewer threads used than asked: the batch is split per sample.  outside kernels: the step's\n"
                        "    wall time minus its kernels' (layers, loss, optimizer), in a profiled block; its ms per step)\n");
}

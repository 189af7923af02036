/* `latbench bench`: per-layer kernel timings against oneDNN, and the conv chain of a network.
 * bench_run.c opens and closes a run and holds the helpers the op files share, bench_report.c
 * prints a measurement's row and writes its JSON records; the op files (bench_ops.c: one conv or
 * pool problem, bench_chain.c: a network's conv chain, bench_worm.c, bench_pipeline*.c with
 * torch_client.c, gbench_kernels.c) use those two and bench_ops.c's step functions, never bench_main.c, which
 * (cmd_bench: options, the problem sweep) calls them.
 */
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include "arch/registry.h"
#include "lib/io/jsonfile.h"
#include "tools/machine/counters.h"
#include "tools/machine/topology.h"
#include "tools/baseline/halo.h"
#include "tools/machine/bandwidth.h"
#include "tools/machine/machine.h"
#include "tools/baseline/onednn_ops.h"
#include "tools/timing/timing.h"
#include "kernels/pass.h"

#define BENCH_MAX_LIST 16

typedef struct {
    const char *filter;                 /* substring of the problem name or layer label */
    const char *desc;                   /* --desc: only this problem (tools/problems/problem.h) */
    int threads[BENCH_MAX_LIST], n_threads;
    int batches[BENCH_MAX_LIST], n_batches;
    int lat_h[BENCH_MAX_LIST], lat_w[BENCH_MAX_LIST], n_lattices;
    const char *nets[BENCH_MAX_LIST];
    int n_nets;
    bool nets_given;                    /* --nets given: it also picks the pipelines (their net) */
    const char *chain_net;              /* network whose conv chain is timed (NULL: none) */
    int chain_h, chain_w, chain_batch;
    bool onednn;                        /* --baseline onednn (default) or none */
    bool scalar;                        /* --scalar: time the scalar reference too (r_scl) */
    bool quick;
    const char *json_path;              /* NULL: the results store (see bench_run_open) */
    bool no_json;
    bool no_bandwidth;                  /* skip the memory-bandwidth measurement (the gate) */
    bool no_tuned;                      /* time no tuned path beside ours (the gate) */
    bool ours_tuned;                    /* ours runs the applied profile's choice, not the default (the gate:
                                           it judges what users of the machine run) */
    timing_cfg timing;
    /* ---- pipelines (bench_pipeline.c) ---- */
    int pipelines;                      /* 0: default (run them), 1: --pipelines, -1: --no-pipelines */
    int pipe_batch;                     /* training/eval batch of the pipelines (0: 128) */
    /* ---- end pipelines ---- */
} bench_opts;

typedef struct bench_measure bench_measure;

/* Everything one run needs; no globals. */
/* Called by bench_run_close with the JSON file it wrote.  The front end passes one to append the run to
 * the history (tools/track/history.h, a room above bench) - a parameter, not global state. */
typedef void bench_json_hook(const char *json_path);

typedef struct bench_run {
    const bench_opts *opt;
    const lb_dispatch *disp;
    machine_info mach;
    /* measured FMA peak, GFLOP/s: peak[isa][i] at opt->threads[i] threads */
    double peak[LB_ISA_NEON + 1][BENCH_MAX_LIST];
    /* measured STREAM-triad memory bandwidth, GB/s, at opt->threads[i] threads (0: not measured) */
    double stream_gbps[BENCH_MAX_LIST];
    double l2_gbps[BENCH_MAX_LIST];     /* the same triad resident in L2 (a second roof) */
    machine_bw stream_bw[BENCH_MAX_LIST], l2_bw[BENCH_MAX_LIST];   /* the same with the passes' spread */
    machine_topology topo;
    char pin_desc[1024];                /* how the worker threads were pinned */
    machine_affinity affinity0;              /* the master thread's mask before pinning (given back at close) */
    int pinned_threads;
    machine_counters ctr;                    /* opened for the largest thread count of the run */
    odnn_env env;
    bool have_onednn;
    /* The JSON results: the tree built in memory, its "benchmarks" array that records go into, and
     * the temporary (lib/io/atomic.h) opened with the run and committed by bench_run_close. */
    json_t *json;
    json_t *json_benchmarks;
    bool json_on;
    char json_path[1024];
    io_atomic_file json_af;
    char dnnl_ver[64];
    double t_start;
    FILE *out;
    double loadavg[3];                  /* before the run */
    bool any_lone;                      /* some path was timed once only (too slow) */
    bool any_contended;                 /* some row ran far slower on more threads */
    int n_rows;
    int json_families;                  /* benchmarks written to the JSON (their family_index) */
    /* called for every measurement after it is printed (the CI gate collects ratios here) */
    void (*on_measure)(struct bench_run *r, const bench_measure *m);
    bench_json_hook *on_json_written;   /* NULL: none (see bench_command) */
    void *hook_ctx;
    /* under mpirun, on a rank other than 0: its table, written to memory and gathered at the close */
    FILE *rank_mem;
    char *rank_text;
    size_t rank_text_len;
} bench_run;

/* One measured problem at one thread count, as reported. */
struct bench_measure {
    char name[112];          /* "conv2d_fwd/mb32_ic4oc64_..." or "chain/task1-eq/..." */
    const char *layers;      /* "task1-eq:L1 task3-eq1:L1" */
    const char *op, *pass;
    int threads;             /* asked for (oneDNN's) */
    int threads_ours;        /* ours actually used (batch split) */
    double ours_time_first_threads;   /* ours at the first --threads count (0 for that row) */
    double flops, bytes;
    bool fma_bound;          /* % of FMA peak is meaningful (conv) */
    lb_isa isa;              /* ours' variant ISA */
    const char *variant;     /* ours' variant name */
    const timing_seq *seq_ours, *seq_any, *seq_plain, *seq_scalar;   /* NULL when not measured */
    const timing_seq_result *ours, *any, *plain, *scalar;
    /* the tuning profile's choice for this problem, timed beside ours (the default) when a profile
     * applies (conv2d; NULL otherwise): its variant, how it was found ("tuned exactly", "by nearest
     * shape", "default") and the entry's problem ("" for the default) */
    const timing_seq *seq_tuned;
    const timing_seq_result *tuned;
    const char *tuned_variant, *tuned_how, *tuned_entry;
    lb_isa tuned_isa;
    const char *impl_any, *impl_plain, *layouts_any;
    /* counters over one extra repetition's calls of ours (after the timing) */
    long counter_calls;
    machine_counter_values counters;
};

/* ---- the run and its shared helpers (bench_run.c) ---- */
double bench_peak_for(const bench_run *r, lb_isa isa, int threads);
/* Sets up a run whose r->disp and r->mach are filled: the JSON file (opt->json_path, else
 * results/<machine>/runs/<kind>-<date>-<time>.json unless opt->no_json), oneDNN, the FMA peaks, the
 * context printed and written.  Returns 0, or an exit status after a message. */
int bench_run_open(bench_run *r, const bench_opts *opt, const char *kind);
/* Writes the JSON and commits it atomically; releases oneDNN.  Returns 0, or 1 when writing failed. */
int bench_run_close(bench_run *r);
/* Drops the JSON results and their temporary (a run that measured nothing writes no file). */
void bench_run_discard_json(bench_run *r);
/* Runs fn(ctx) `calls` times with the run's counters on (and the likwid region `name` around it, on
 * `threads` threads): the hardware/software counters of a benchmark or a pipeline phase, counted
 * apart from the timed repetitions. */
void bench_count_calls(bench_run *r, const char *name, int threads, void (*fn)(void *), void *ctx, long calls,
                       machine_counter_values *out);
/* Calls for counting a sequence: one repetition's, and at least ~5 ms worth. */
long bench_counter_calls(const timing_seq_result *res);
/* fn for bench_count_calls: one call of a sequence (ctx: a timing_seq), all of its steps. */
void bench_seq_run_once(void *seq);
/* The scalar reference variants (always compiled in). */
const conv2d_ops *bench_scalar_conv2d(void);
const pool_ops *bench_scalar_pool(void);
const chain1x1_ops *bench_scalar_chain1x1(void);
bool bench_wanted(const bench_run *r, const char *name, const char *layers);
/* Whether a pipeline of network `net` is wanted: --nets not given, or net among them. */
bool bench_net_wanted(const bench_run *r, const char *net);
/* The seed nets' fused 1x1 chains vs their unfused layers (bench_chain1x1.c; printed, no record;
 * only when --filter names chain1x1). */
void bench_chain1x1(bench_run *r);
/* The gate's view of the same chains (latbench gate): seed net `net`'s chain on h x w at `batch`, 1
 * thread, three paths interleaved repetition by repetition with cfg: res[0] ours (the dispatched
 * chain1x1, inference: only the output written), res[1] the scalar chain1x1, res[2] the unfused
 * layers (our dispatched conv2d + lrelu).  0, or -1 when net has no chain here or timing failed. */
enum { BENCH_C1_OURS, BENCH_C1_SCALAR, BENCH_C1_UNFUSED, BENCH_C1_GATE_NSEQ };
int bench_chain1x1_gate(const bench_run *r, const char *net, int h, int w, int batch, const timing_cfg *cfg,
                        timing_seq_result res[BENCH_C1_GATE_NSEQ]);
/* The <impl> part of a benchmark name (README "Benchmark names") for a variant of a kernel op:
 * "ours" for the one the dispatcher picked (dispatched), "scalar" for the scalar reference,
 * "variant:<name>" for any other.  bench and bench --gbench name their rows through it. */
void bench_impl_name(const char *variant, lb_isa isa, bool dispatched, char *buf, size_t len);
/* 64-byte aligned buffer of n floats filled with uniform values in [-1, 1); NULL on failure. */
float *bench_alloc_filled(size_t n, unsigned seed);
/* The synthetic training data of the pipelines (and of tune's step profile): configurations with
 * integers in [-2, 2] into x[0..nx), then labels in [0, 1) into y[0..ny), one fixed stream. */
void bench_synthetic_batch(int16_t *x, size_t nx, float *y, size_t ny);

/* ---- the report (bench_report.c) ---- */
/* The table's column names (before a section's first row). */
void bench_print_header(FILE *f);
/* Prints m's row, writes its JSON records (when the run writes JSON), calls r->on_measure. */
void bench_report(bench_run *r, const bench_measure *m);
/* The per-repetition times (seconds in, ns out) under `key`, in run order. */
void bench_json_samples(json_t *rec, const char *key, const double *sec, int n);
/* One measured benchmark, as bench_json_rows writes it. */
typedef struct {
    const char *name;      /* the run_name: <problem>/<impl>/threads:<N>, unique in the run */
    int threads;
    long iterations;       /* calls per repetition */
    int n;                 /* repetitions (n >= 1) */
    const double *wall;    /* wall seconds per call of each repetition, in run order */
    const double *cpu;     /* the process's CPU seconds per call of each, or NULL: not measured (= wall) */
    const timing_stats *wall_st;   /* the wall statistics reported, or NULL: computed from wall[] */
} bench_json_bm;
/* Appends b's rows in google-benchmark 1.7's layout: one "iteration" row per repetition, then the
 * aggregates mean, median, stddev and cv (cv's unit "percentage", a fraction).  Returns the median
 * aggregate, owned by the run's array, for latbench's own fields (it carries min/max/q1/q3_time
 * and "samples" too); NULL when the run writes no JSON. */
json_t *bench_json_rows(bench_run *r, const bench_json_bm *b);
/* Appends a record to the run's "benchmarks" (taking it; dropped when the run writes no JSON). */
void bench_json_add(bench_run *r, json_t *rec);


/* Step contexts and functions (timing.h steps) shared by bench_ops.c and bench_chain.c. */
typedef struct {
    const conv2d_ops *k;
    int threads;
    conv2d_desc d;
    const float *in, *w, *bias, *gout, *wt;
    float *out, *gin, *gw, *gb, *ws;
} bench_conv_ctx;

typedef struct {
    const pool_ops *k;
    int threads;
    pool_desc d;
    const float *in, *gout;
    float *out, *gin;
} bench_pool_ctx;

void bench_step_conv_fwd(void *ctx);
void bench_step_conv_bwd_data(void *ctx);
void bench_step_conv_bwd_weights(void *ctx);
void bench_step_pool_fwd(void *ctx);
void bench_step_pool_bwd(void *ctx);

/* Times one conv pass (ours vs oneDNN) at every thread count of the options; reports rows.
 * Returns false when buffers could not be allocated (the problem is skipped with a message). */
bool bench_conv_problem(bench_run *r, const conv2d_desc *d, lb_pass pass, const char *name, const char *layers);
/* pass: LB_PASS_FWD, or LB_PASS_BWD_DATA for the backward. */
bool bench_pool_problem(bench_run *r, const pool_desc *d, lb_pass pass, const char *name, const char *layers);
/* The conv chain of a network, forward + backward (weights of every layer, data of all but the
 * first), ours vs oneDNN with its copies. */
bool bench_chain(bench_run *r, const char *net, int h, int w, int batch);
/* Worm update throughput per variant (bench_worm.c). */
void bench_worm(bench_run *r);

/* ---- pipelines (bench_pipeline.c; its parts: bench_pipeline.h) ---- */
/* The full pipelines, each beside its baseline in the same run: training steps of task1-eq/st on
 * 8x8 and 60x4 and task3-eq1 on 8x8 and inference of task1-eq on 64x64 vs PyTorch (per-layer
 * breakdown, share outside kernels), worm sample generation vs the scalar variant, evaluation over
 * the generated set.  Names "pipeline/<phase>/...", so --filter pipeline/ selects them alone. */
void bench_pipelines(bench_run *r);
/* ---- end pipelines ---- */

/* `latbench bench` (tools/bench/bench_main.c): the process exit status. */
int cmd_bench(int argc, char **argv);
/* cmd_bench with on_json_written called after the run's JSON file is committed (NULL: none). */
int bench_command(int argc, char **argv, bench_json_hook *on_json_written);

/* ---- runs over MPI ranks (bench_ranks.c) ---- */

/* Whether this run has more than one rank (mpirun -n R, R > 1). */
bool bench_ranks_many(void);
/* At the open: a rank other than 0 writes its table to memory; each rank's table starts with its host. */
void bench_ranks_open(bench_run *r);
/* At the close, before the file is written (collective): rank 0 prints the other ranks' tables and
 * adds "nodes" (each rank's host, context and rows) and "context"."mpi" to its tree. */
void bench_ranks_merge(bench_run *r);

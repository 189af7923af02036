/* The pipelines section's parts (bench.h's bench_pipelines): bench_pipeline.c runs the section and
 * holds what its phases share (the configuration, the one timing primitive, the table and the
 * record head); bench_pipeline_nn.c times the training and inference steps beside PyTorch
 * (torch_client.h); bench_pipeline_gen.c the worm generation beside the scalar variant and the
 * evaluation over the generated set. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include "tools/bench/bench.h"
#include "tools/bench/torch_client.h"

#define PIPE_BATCH_DEFAULT 128
#define PIPE_MAX_REPS 64

typedef struct {
    int reps, min_reps;
    double block_s;     /* one repetition of one side lasts about this long (at least one step) */
    double budget_s;    /* both sides of one job together spend about this long (min_reps wins) */
    int infer_batch;    /* the 64x64 inference batch */
    long gen_count;     /* configurations generated */
    int gen_chains, gen_therm, gen_reps;
} pipe_cfg;

/* The training and evaluation batch: --pipeline-batch, else PIPE_BATCH_DEFAULT. */
int pipe_batch(const bench_opts *o);
/* Runs fn(ctx) `calls` times and returns the wall time (the process's CPU time in *cpu unless
 * cpu is NULL).  Every timed block of ours (each phase
 * and repetition) goes through here: the hook for per-phase hardware counters
 * (tools/machine/counters.h), keyed by `phase` ("train", "infer", "generate", "eval") and `name`
 * (the record name). */
double pipe_time_block(const char *phase, const char *name, void (*fn)(void *), void *ctx, long calls, double *cpu);
/* Calls per timed block for a step of step_s seconds (at least one). */
long pipe_block_calls(const pipe_cfg *cfg, double step_s);
/* Repetitions within the budget for repetitions of per_rep_s seconds (min_reps..PIPE_MAX_REPS). */
int pipe_reps(const pipe_cfg *cfg, double per_rep_s);
/* Statistics of n samples without reordering them. */
timing_stats pipe_stats(const double *sec, int n);
/* A new record with the fields every pipeline record starts with. */
json_t *pipe_record_json(bench_run *r, const char *name, const char *phase, int threads, int reps, long iters,
                         const double *sec, const double *cpu, const timing_stats *st);
/* Milliseconds with three decimals, "-" for none. */
void pipe_fmt_ms(char *buf, size_t len, double s);

#define PIPE_ROW "%-46s %4s %9s %4s %10s %8s %6s | %9s %10s %6s | %s\n"
/* The section's title and column names, once (*printed). */
void pipe_header(bench_run *r, bool *printed, const torch_client *t);

/* bench_pipeline_nn.c: whether a training or inference record is wanted (PyTorch is started only
 * then: it takes seconds), and the jobs at each thread count. */
bool pipe_nn_wanted(const bench_run *r, const pipe_cfg *cfg);
void pipe_nn(bench_run *r, const pipe_cfg *cfg, torch_client *t, bool *header);

/* bench_pipeline_gen.c: generation at each thread count into x/y (returns whether any run
 * completed), then the evaluation over that set (made untimed when generation was filtered out). */
bool pipe_generate(bench_run *r, const pipe_cfg *cfg, const torch_client *t, int16_t *x, float *y, bool *header);
void pipe_eval(bench_run *r, const pipe_cfg *cfg, const torch_client *t, int16_t *x, float *y, bool have_data,
               bool *header);

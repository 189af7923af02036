/* What the phases of bench's pipeline section share (bench_pipeline.h): the batch, the timing of a
 * block of steps, repetition counts, statistics, the JSON record, the table's header.  Below the
 * phases (bench_pipeline_nn.c, bench_pipeline_gen.c) and the section (bench_pipeline.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/bench/bench_pipeline.h"

int pipe_batch(const bench_opts *o) { return o->pipe_batch > 0 ? o->pipe_batch : PIPE_BATCH_DEFAULT; }

double pipe_time_block(const char *phase, const char *name, void (*fn)(void *), void *ctx, long calls, double *cpu) {
    (void)phase, (void)name;
    double c0 = timing_cpu_now();
    double t0 = timing_now();
    for (long c = 0; c < calls; c++) fn(ctx);
    double t = timing_now() - t0;
    if (cpu) *cpu = timing_cpu_now() - c0;
    return t;
}

long pipe_block_calls(const pipe_cfg *cfg, double step_s) {
    long calls = (long)(cfg->block_s / (step_s > 1e-9 ? step_s : 1e-9));
    return calls < 1 ? 1 : calls;
}

int pipe_reps(const pipe_cfg *cfg, double per_rep_s) {
    int reps = cfg->reps;
    if (per_rep_s * reps > cfg->budget_s) reps = (int)(cfg->budget_s / per_rep_s);
    if (reps < cfg->min_reps) reps = cfg->min_reps;
    if (reps > PIPE_MAX_REPS) reps = PIPE_MAX_REPS;
    return reps;
}

timing_stats pipe_stats(const double *sec, int n) {
    double tmp[PIPE_MAX_REPS];
    memcpy(tmp, sec, (size_t)n * sizeof *sec);
    return timing_stats_of(tmp, n);
}

json_t *pipe_record_json(bench_run *r, const char *name, const char *phase, int threads, int reps, long iters,
                         const double *sec, const double *cpu, const timing_stats *st) {
    const bench_json_bm bm = {name, threads, iters, reps, sec, cpu, st};
    json_t *j = bench_json_rows(r, &bm);
    if (j) io_json_set_str(j, "pipeline", phase);
    return j;
}

void pipe_fmt_ms(char *buf, size_t len, double s) {
    if (!(s > 0) || !isfinite(s)) snprintf(buf, len, "-");
    else snprintf(buf, len, "%.3f", s * 1e3);
}

void pipe_header(bench_run *r, bool *printed, const torch_client *t) {
    if (*printed) return;
    *printed = true;
    fprintf(r->out, "\n== pipelines: training steps, inference, sample generation, evaluation (median over repetitions;\n"
                    "   ours and the baseline alternate block by block)\n");
    if (t->ok) fprintf(r->out, "   baseline: PyTorch %s, same net, lattice, batch, threads and per-step work\n", t->version);
    else if (t->tried) fprintf(r->out, "   baseline: no PyTorch (%s); ours alone\n", t->why);
    fprintf(r->out, "   generation's baseline: the scalar worm variant; evaluation: none\n");
    fprintf(r->out, PIPE_ROW, "pipeline", "thr", "ours_ms", "+-%", "samples/s", "GFLOP/s", "%peak", "base_ms", "base_smp/s",
            "ratio", "outside kernels / notes");
}

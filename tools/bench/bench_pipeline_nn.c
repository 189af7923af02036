/* The training and inference pipelines of `latbench bench` (bench_pipeline.c describes them): a
 * model's whole steps timed beside PyTorch's, then a profiled breakdown per layer and pass, the
 * counters over one block, a row with the layer table, and a record. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/bench/bench_pipeline.h"
#include "lib/nn/model.h"
#include "lib/nn/netspec.h"
#include "lib/nn/parallel.h"
#include "lib/nn/train.h"

#define PIPE_POOL_BATCHES 4      /* a job's input pool holds this many batches of samples */
#define PIPE_PROFILE_BLOCKS 3    /* profiled blocks per job; the fastest gives the breakdown */

/* ---- ours: training and inference steps ---- */

typedef struct {
    nn_model *m;
    bool train;
    int batch;
    long pool_n, next;
    const int16_t *x;   /* [pool_n][4][h][w] */
    const float *y;     /* [pool_n][outs] */
    long *idx;          /* [batch] */
    float *yb;          /* [batch][outs] */
    optim_adamw_params hp;
    const optim_ops *opt;
    float *am, *av, *avmax;
} nn_step_ctx;

/* One step: the next batch of the pool gathered and converted, forward, and for training the
 * loss, backward and the AdamW step (timed into the profile's optimizer cell when one is on). */
static void nn_step(void *vctx) {
    nn_step_ctx *c = vctx;
    const int outs = nn_model_outputs(c->m);
    for (int b = 0; b < c->batch; b++) {
        c->idx[b] = (c->next + b) % c->pool_n;
        memcpy(c->yb + (size_t)b * outs, c->y + c->idx[b] * outs, outs * sizeof(float));
    }
    c->next = (c->next + c->batch) % c->pool_n;
    nn_model_set_input(c->m, c->x, c->idx, c->batch);
    nn_model_forward(c->m, c->batch);
    if (!c->train) return;
    nn_model_backward(c->m, c->batch, c->yb);
    c->hp.step++;
    nn_profile *prof = nn_model_profile(c->m);
    double t0 = prof ? timing_now() : 0;
    c->opt->adamw_step(&c->hp, nn_model_param_count(c->m), nn_model_params(c->m), nn_model_grads(c->m), c->am, c->av,
                       c->avmax);
    if (prof) nn_prof_add(&prof->optim, timing_now() - t0, 0);
}

typedef struct {
    nn_step_ctx c;
    int16_t *x;
    float *y, *yb, *opt_state;
    long *idx;
} nn_job;

static void nn_job_free(nn_job *j) {
    nn_model_free(j->c.m);
    free(j->x), free(j->y), free(j->yb), free(j->idx), free(j->opt_state);
    memset(j, 0, sizeof *j);
}

/* A model of net on h x w at this batch and thread count with a pool of random configurations
 * (integers in [-2, 2], as the PyTorch side) and labels in [0, 1). */
static bool nn_job_init(nn_job *j, const net_spec *spec, int h, int w, int batch, int threads, bool train, char *err,
                        size_t errlen) {
    memset(j, 0, sizeof *j);
    nn_model *m = nn_model_create(spec, h, w, batch, threads, train, err, errlen);
    if (!m) return false;
    nn_model_init(m, 1);
    const int outs = nn_model_outputs(m);
    const long pool = (long)PIPE_POOL_BATCHES * batch;
    const size_t V = (size_t)h * w, np = nn_model_param_count(m);
    j->c.m = m;
    j->x = malloc((size_t)pool * 4 * V * sizeof(int16_t));
    j->y = malloc((size_t)pool * outs * sizeof(float));
    j->yb = malloc((size_t)batch * outs * sizeof(float));
    j->idx = malloc((size_t)batch * sizeof(long));
    j->opt_state = train ? calloc(3 * np, sizeof(float)) : NULL;
    if (!j->x || !j->y || !j->yb || !j->idx || (train && !j->opt_state)) {
        nn_job_free(j);
        return snprintf(err, errlen, "out of memory"), false;
    }
    bench_synthetic_batch(j->x, (size_t)pool * 4 * V, j->y, (size_t)pool * outs);
    j->c.train = train;
    j->c.batch = batch;
    j->c.pool_n = pool;
    j->c.x = j->x, j->c.y = j->y, j->c.idx = j->idx, j->c.yb = j->yb;
    if (train) {
        j->c.hp = optim_adamw_defaults();
        j->c.hp.lr = 1e-2f, j->c.hp.weight_decay = 0.0f, j->c.hp.amsgrad = 1, j->c.hp.step = 0;
        j->c.opt = lb_dispatch_get()->optim;
        j->c.am = j->opt_state, j->c.av = j->opt_state + np, j->c.avmax = j->opt_state + 2 * np;
    }
    return true;
}

/* "conv 2x2 80->80", "lrelu", "avgpool 2x2/2", "linear* 8->1" */
static void layer_label(const layer_spec *L, char *buf, size_t len) {
    switch (L->kind) {
    case LAYER_CONV:
        snprintf(buf, len, "conv%s %dx%d %d->%d%s", L->bias ? "" : "*", L->kh, L->kw, L->cin, L->cout,
                 L->stride > 1 ? " /2" : "");
        break;
    case LAYER_LINEAR: snprintf(buf, len, "linear%s %d->%d", L->bias ? "" : "*", L->cin, L->cout); break;
    case LAYER_AVGPOOL:
    case LAYER_MAXPOOL:
        snprintf(buf, len, "%s %dx%d/%d", L->kind == LAYER_AVGPOOL ? "avgpool" : "maxpool", L->k, L->k, L->s);
        break;
    case LAYER_LRELU: snprintf(buf, len, "lrelu"); break;
    case LAYER_SIGMOID: snprintf(buf, len, "sigmoid"); break;
    case LAYER_GAVGPOOL: snprintf(buf, len, "gavgpool"); break;
    case LAYER_GMAXPOOL: snprintf(buf, len, "gmaxpool"); break;
    case LAYER_GSUMPOOL: snprintf(buf, len, "gsumpool"); break;
    case LAYER_FLATTEN: snprintf(buf, len, "flatten"); break;
    }
}

/* ---- train and infer jobs ---- */

typedef struct {
    bool train;
    const char *net;
    int h, w;
    bool quick; /* also run by --quick (the 60x4 training steps take 4x longer than 8x8's) */
} pipe_nn_job;

static const pipe_nn_job nn_jobs[] = {
    {true, "task1-eq", 8, 8, true},    {true, "task1-st", 8, 8, true},    {true, "task1-eq", 60, 4, false},
    {true, "task1-st", 60, 4, false},  {true, "task3-eq1", 8, 8, true},   {false, "task1-eq", 64, 64, true},
};


/* One job at one thread count, measured: what its row and record report. */
typedef struct {
    const pipe_nn_job *job;
    char name[160];
    const char *phase;       /* "train" or "infer" */
    int batch, threads, used, reps, nbase;
    long calls, tcalls;      /* steps per block: ours, PyTorch's */
    double ours[PIPE_MAX_REPS], base[PIPE_MAX_REPS];   /* seconds per step, per repetition */
    double ours_cpu[PIPE_MAX_REPS];                     /* the process's CPU seconds per step of ours */
    timing_stats st, bst;
    /* with a tuning profile applied: ours under it, a block after each of ours (which runs the
     * default), so both see the same noise; tuned_n 0 without a profile */
    const lb_profile *profile;
    double tuned[PIPE_MAX_REPS];
    int tuned_n, tuned_layers;   /* repetitions; conv layer passes the profile changes */
    timing_stats tst;
    nn_profile prof;         /* the fastest profiled block's */
    double pwall;            /* its seconds per step */
    machine_counter_values cv;
    double kernel_s, outside_s, outside_share, flops, gf, peak, sps, bsps;
    bool first;              /* at the first --threads count */
} nn_result;

/* Ours and PyTorch alternating block by block, after a warm-up (first touch, OpenMP team start)
 * and one step of each to size the blocks. */
static void nn_time(const pipe_cfg *cfg, torch_client *t, nn_job *nj, const char *spec_text, nn_result *res) {
    const pipe_nn_job *job = res->job;
    pipe_time_block(res->phase, res->name, nn_step, &nj->c, 2, NULL);
    double t1 = pipe_time_block(res->phase, res->name, nn_step, &nj->c, 1, NULL);
    res->calls = pipe_block_calls(cfg, t1);
    double tt1 = torch_client_job(t, job->train, spec_text, res->batch, res->threads, job->h, job->w);
    res->tcalls = tt1 > 0 ? (long)(cfg->block_s / tt1) : 0;
    if (tt1 > 0 && res->tcalls < 1) res->tcalls = 1;
    res->reps = pipe_reps(cfg, res->calls * t1 * (res->profile ? 2 : 1) + res->tcalls * tt1);
    res->nbase = 0;
    res->tuned_n = 0;
    for (int k = 0; k < res->reps; k++) {
        /* default and tuned take turns going first: on a memory-bound step the block after the other
         * one ran up to 26 % faster (inference at 64x64), which a fixed order reads as the profile's gain */
        const bool tuned_first = res->profile && (k & 1);
        for (int turn = 0; turn < 2; turn++) {
            if ((turn == 0) != tuned_first) {
                res->ours[k] = pipe_time_block(res->phase, res->name, nn_step, &nj->c, res->calls, &res->ours_cpu[k]) / res->calls;
                res->ours_cpu[k] /= res->calls;
            } else if (res->profile) {
                nn_model_set_profile(nj->c.m, res->profile);
                res->tuned[res->tuned_n++] = pipe_time_block(res->phase, res->name, nn_step, &nj->c, res->calls, NULL) / res->calls;
                nn_model_set_profile(nj->c.m, NULL);
            }
        }
        if (res->tcalls > 0 && t->ok) {
            double s = torch_client_run(t, res->tcalls, res->tcalls * tt1);
            if (s > 0) res->base[res->nbase++] = s / res->tcalls;
        }
    }
    res->st = pipe_stats(res->ours, res->reps);
    if (res->tuned_n) res->tst = pipe_stats(res->tuned, res->tuned_n);
    memset(&res->bst, 0, sizeof res->bst);
    if (res->nbase > 0) res->bst = pipe_stats(res->base, res->nbase);
}

/* The breakdown: PIPE_PROFILE_BLOCKS more blocks with the profile on (it only reads the clock);
 * the fastest is kept whole (the least disturbed by other work, and its cells add up to it).  Then
 * the counters over one more block, and the figures derived for the row and the record. */
static void nn_profile_and_count(bench_run *r, nn_job *nj, nn_result *res) {
    nn_model *m = nj->c.m;
    nn_profile cur;
    res->pwall = INFINITY;
    for (int k = 0; k < PIPE_PROFILE_BLOCKS; k++) {
        memset(&cur, 0, sizeof cur);
        nn_model_attach_profile(m, &cur);
        double w = pipe_time_block(res->phase, res->name, nn_step, &nj->c, res->calls, NULL) / res->calls;
        nn_model_attach_profile(m, NULL);
        if (w < res->pwall) res->pwall = w, res->prof = cur;
    }
    bench_count_calls(r, res->name, res->threads, nn_step, &nj->c, res->calls, &res->cv);
    res->kernel_s = nn_profile_kernel_seconds(&res->prof, nn_model_layers(m)) / res->calls;
    res->outside_s = res->pwall - res->kernel_s;
    res->outside_share = res->pwall > 0 ? res->outside_s / res->pwall : 0;
    res->flops = (res->job->train ? nn_model_flops_train(m) : nn_model_flops_fwd(m)) * res->batch;
    res->used = nn_batch_parts(res->threads, res->batch);
    res->gf = res->flops / res->st.median * 1e-9;
    res->peak = bench_peak_for(r, r->disp->conv2d->isa, res->threads);
    res->sps = res->batch / res->st.median;
    res->bsps = res->nbase ? res->batch / res->bst.median : 0;
}

/* The row; first_t: the step time at the first thread count (the others compare with it). */
static void nn_print_row(bench_run *r, const nn_result *res, double first_t) {
    const double tm = res->st.median;
    char thr[16], o_ms[24], spread[16], sp[24], gfs[24], pct[16], b_ms[24], b_sps[24], ratio[16], note[128];
    snprintf(thr, sizeof thr, "%d%s", res->threads, res->used < res->threads ? "*" : "");
    pipe_fmt_ms(o_ms, sizeof o_ms, tm);
    snprintf(spread, sizeof spread, "%.0f", tm > 0 ? 50 * (res->st.q3 - res->st.q1) / tm : 0);
    snprintf(sp, sizeof sp, "%.0f", res->sps);
    snprintf(gfs, sizeof gfs, "%.2f", res->gf);
    if (res->peak > 0) snprintf(pct, sizeof pct, "%.1f", 100 * res->gf / res->peak);
    else snprintf(pct, sizeof pct, "-");
    pipe_fmt_ms(b_ms, sizeof b_ms, res->nbase ? res->bst.median : 0);
    if (res->nbase) snprintf(b_sps, sizeof b_sps, "%.0f", res->bsps), snprintf(ratio, sizeof ratio, "%.2f", res->sps / res->bsps);
    else snprintf(b_sps, sizeof b_sps, "-"), snprintf(ratio, sizeof ratio, "-");
    /* the fastest repetition too: on a shared machine noise only adds time */
    int nn = snprintf(note, sizeof note, "%.1f%% (%.3f ms); best %.0f/s", 100 * res->outside_share, res->outside_s * 1e3,
                      res->batch / res->st.min);
    if (!res->first && first_t > 0)
        snprintf(note + nn, sizeof note - nn, "; %.2fx the %d-thread rate%s", first_t / tm, r->opt->threads[0],
                 /* more threads slower than fewer: other work held the cores (shared machine) */
                 first_t / tm < 0.9 ? " (busy cores)" : "");
    fprintf(r->out, PIPE_ROW, res->name, thr, o_ms, spread, sp, gfs, pct, b_ms, b_sps, ratio, note);
}

/* Under the row: per layer, per pass, ms per step (the profiled block), then the rest of the step
 * and the counters. */
static void nn_print_breakdown(bench_run *r, const nn_model *m, const nn_result *res) {
    const nn_profile *prof = &res->prof;
    const long pcalls = res->calls;
    const int nl = nn_model_layers(m);
    fprintf(r->out, "    %-3s %-20s %9s %9s %9s %8s\n", "#", "layer", "fwd_ms", "bwd_d_ms", "bwd_w_ms", "GFLOP/s");
    for (int i = 0; i < nl; i++) {
        const nn_prof_cell *c = prof->layer[i];
        double sec = 0, fl = 0;
        for (int p = 0; p < LB_N_PASSES; p++) sec += c[p].seconds, fl += c[p].flops;
        if (sec <= 0) continue;
        char lab[48], a[24], b[24], d[24], g[24];
        layer_label(nn_model_layer(m, i), lab, sizeof lab);
        if (i + 1 < nl && nn_model_layer_fused(m, i + 1)) strncat(lab, " +lrelu", sizeof lab - strlen(lab) - 1);
        pipe_fmt_ms(a, sizeof a, c[LB_PASS_FWD].seconds / pcalls);
        pipe_fmt_ms(b, sizeof b, c[LB_PASS_BWD_DATA].seconds / pcalls);
        pipe_fmt_ms(d, sizeof d, c[LB_PASS_BWD_WEIGHTS].seconds / pcalls);
        if (fl > 0) snprintf(g, sizeof g, "%.2f", fl / sec * 1e-9);
        else snprintf(g, sizeof g, "-");
        fprintf(r->out, "    %-3d %-20s %9s %9s %9s %8s\n", i, lab, a, b, d, g);
    }
    fprintf(r->out, "    loss %.3f ms, optimizer %.3f ms, input gather+convert %.3f ms, other %.3f ms; "
                    "profiled step %.3f ms (%+.1f%% vs the fastest unprofiled)\n",
            prof->loss.seconds / pcalls * 1e3, prof->optim.seconds / pcalls * 1e3, prof->input.seconds / pcalls * 1e3,
            (res->outside_s - prof->input.seconds / pcalls) * 1e3, res->pwall * 1e3, 100 * (res->pwall / res->st.min - 1));
    char ctr[160];
    machine_counters_format(&res->cv, ctr, sizeof ctr);
    fprintf(r->out, "    counters (%s) over %ld steps: %s\n", res->cv.backend, res->calls, ctr);
}

/* The record's "layers": per pass, ns and FLOPs per step, for the passes the runtime runs. */
static json_t *nn_layers_json(const nn_model *m, const nn_result *res) {
    static const char *const keys[LB_N_PASSES][2] = {
        {"fwd_time", "fwd_flops"}, {"bwd_data_time", "bwd_data_flops"}, {"bwd_weights_time", "bwd_weights_flops"}};
    json_t *layers = json_array();
    for (int i = 0; i < nn_model_layers(m); i++) {
        const nn_prof_cell *c = res->prof.layer[i];
        char lab[48];
        layer_label(nn_model_layer(m, i), lab, sizeof lab);
        json_t *lj = json_object();
        io_json_set_int(lj, "index", i);
        io_json_set_str(lj, "layer", lab);
        if (nn_model_layer_fused(m, i)) io_json_set_str(lj, "fused_into", "the layer before (its time is that layer's)");
        for (int p = 0; p < LB_N_PASSES; p++) {
            if (!c[p].calls) continue; /* a pass the runtime does not run */
            io_json_set_num(lj, keys[p][0], c[p].seconds / res->calls * 1e9);
            io_json_set_num(lj, keys[p][1], c[p].flops / res->calls);
        }
        json_array_append_new(layers, lj);
    }
    return layers;
}

/* The PyTorch side of the record (only when it ran). */
static void nn_torch_json(json_t *j, const torch_client *t, const nn_result *res) {
    io_json_set_str(j, "torch_version", t->version[0] ? t->version : NULL);
    io_json_set_num(j, "torch_time", res->bst.median * 1e9);
    io_json_set_num(j, "torch_min_time", res->bst.min * 1e9);
    io_json_set_int(j, "torch_repetitions", res->nbase);
    io_json_set_int(j, "torch_iterations", res->tcalls);
    bench_json_samples(j, "torch_samples", res->base, res->nbase);
    io_json_set_num(j, "torch_samples_per_s", res->bsps);
    io_json_set_num(j, "ratio_vs_torch", res->sps / res->bsps);
    /* on the fastest repetition of each side (noise only adds time) */
    io_json_set_num(j, "ratio_vs_torch_best", res->bst.min / res->st.min);
}

static void nn_record(bench_run *r, const torch_client *t, const nn_model *m, const nn_result *res, double first_t) {
    const pipe_nn_job *job = res->job;
    json_t *j = pipe_record_json(r, res->name, res->phase, res->threads, res->reps, res->calls, res->ours, res->ours_cpu, &res->st);
    if (!j) return;
    io_json_set_str(j, "net", job->net);
    char lat[32];
    snprintf(lat, sizeof lat, "%dx%d", job->h, job->w);
    io_json_set_str(j, "lattice", lat);
    io_json_set_int(j, "batch", res->batch);
    io_json_set_int(j, "threads_used", res->used);
    io_json_set_str(j, "conv2d_variant", r->disp->conv2d->name);
    io_json_set_num(j, "flops", res->flops);
    io_json_set_str(j, "flops_counted", job->train ? "2*MACs of conv/linear for fwd, bwd_data (not layer 0) and bwd_weights, plus pool window reads"
                                                   : "2*MACs of conv/linear for fwd, plus pool window reads");
    io_json_set_num(j, "samples_per_s", res->sps);
    io_json_set_num(j, "samples_per_s_best", res->batch / res->st.min);
    io_json_set_num(j, "GFLOPS", res->gf);
    if (res->peak > 0) io_json_set_num(j, "pct_fma_peak", 100 * res->gf / res->peak);
    if (res->nbase) nn_torch_json(j, t, res);
    if (res->tuned_n) {   /* the profile's choices, timed alternating with ours (the default) */
        io_json_set_num(j, "tuned_time", res->tst.median * 1e9);
        bench_json_samples(j, "tuned_samples", res->tuned, res->tuned_n);
        io_json_set_int(j, "tuned_layer_passes", res->tuned_layers);
        io_json_set_num(j, "ratio_tuned_vs_default", res->tst.median / res->st.median);
        if (res->nbase) io_json_set_num(j, "ratio_tuned_vs_torch", res->tst.median / res->bst.median);
    }
    if (!res->first && first_t > 0) {
        io_json_set_int(j, "first_threads", r->opt->threads[0]);
        io_json_set_num(j, "speedup_vs_first_threads", first_t / res->st.median);
    }
    io_json_set_int(j, "counter_calls", res->calls);
    json_object_set_new(j, "counters", machine_counters_json(&res->cv));
    io_json_set_num(j, "profiled_step_time", res->pwall * 1e9);
    io_json_set_num(j, "kernel_time", res->kernel_s * 1e9);
    io_json_set_num(j, "outside_kernels_time", res->outside_s * 1e9);
    io_json_set_num(j, "outside_kernels_share", res->outside_share);
    io_json_set_num(j, "input_time", res->prof.input.seconds / res->calls * 1e9);
    io_json_set_num(j, "loss_time", res->prof.loss.seconds / res->calls * 1e9);
    io_json_set_num(j, "optimizer_time", res->prof.optim.seconds / res->calls * 1e9);
    json_object_set_new(j, "layers", nn_layers_json(m, res));
}

static void nn_job_name(const pipe_nn_job *job, int batch, int threads, char *name, size_t len) {
    snprintf(name, len, "pipeline/%s/%s/%dx%d/mb%d/threads:%d", job->train ? "train" : "infer", job->net, job->h, job->w,
             batch, threads);
}

/* first_t: the step time at the first thread count (set there, read at the others). */
static void pipe_nn_job_run(bench_run *r, const pipe_cfg *cfg, torch_client *t, const pipe_nn_job *job, int threads,
                            double *first_t, bool *header) {
    nn_result *res = calloc(1, sizeof *res);
    if (!res) return;
    res->job = job;
    res->phase = job->train ? "train" : "infer";
    res->batch = job->train ? pipe_batch(r->opt) : cfg->infer_batch;
    res->threads = threads;
    res->first = threads == r->opt->threads[0];
    nn_job_name(job, res->batch, threads, res->name, sizeof res->name);
    if ((r->opt->quick && !job->quick) || !bench_wanted(r, res->name, "pipeline") || !bench_net_wanted(r, job->net)) {
        free(res);
        return;
    }
    pipe_header(r, header, t);
    const char *text = netspec_preset(job->net);
    net_spec spec;
    char err[256];
    nn_job nj;
    if (!text || !netspec_parse(text, &spec, err, sizeof err) ||
        !nn_job_init(&nj, &spec, job->h, job->w, res->batch, threads, job->train, err, sizeof err)) {
        fprintf(r->out, "%-46s %4d  skipped: %s\n", res->name, threads, text ? err : "no such preset");
        free(res);
        return;
    }
    /* ours is the default (every conv layer the dispatched variant); the profile's choice, when one
     * applies, is timed beside it */
    res->profile = lb_profile_active();
    nn_model_set_profile(nj.c.m, res->profile);
    for (int i = 0; res->profile && i < nn_model_layers(nj.c.m); i++)
        for (int pass = 0; pass < LB_N_PASSES; pass++) {
            nn_conv_choice c = nn_model_conv_choice(nj.c.m, i, (lb_pass)pass);
            res->tuned_layers += c.ops != r->disp->conv2d || memcmp(&c.params, &(lb_params){{0}}, sizeof c.params);
        }
    nn_model_set_profile(nj.c.m, NULL);
    nn_time(cfg, t, &nj, text, res);
    if (res->tcalls > 0 && !t->ok) fprintf(r->out, "  (PyTorch baseline stopped: %s)\n", t->why);
    nn_profile_and_count(r, &nj, res);
    if (res->first) *first_t = res->st.median;
    nn_print_row(r, res, *first_t);
    if (res->tuned_n) {
        char vs_torch[48] = "";
        if (res->nbase) snprintf(vs_torch, sizeof vs_torch, ", tuned/PyTorch %.2f", res->tst.median / res->bst.median);
        fprintf(r->out, "    tuned  %.3f ms +-%.0f%% (%d conv layer passes changed by the profile): tuned/default %.3f%s\n",
                res->tst.median * 1e3, res->tst.median > 0 ? 50 * (res->tst.q3 - res->tst.q1) / res->tst.median : 0,
                res->tuned_layers, res->tst.median / res->st.median, vs_torch);
    }
    nn_print_breakdown(r, nj.c.m, res);
    fflush(r->out);
    r->n_rows++;
    if (r->json_on) nn_record(r, t, nj.c.m, res, *first_t);
    nn_job_free(&nj);
    free(res);
}

bool pipe_nn_wanted(const bench_run *r, const pipe_cfg *cfg) {
    for (size_t ji = 0; ji < sizeof nn_jobs / sizeof nn_jobs[0]; ji++)
        for (int ti = 0; ti < r->opt->n_threads; ti++) {
            char name[160];
            nn_job_name(&nn_jobs[ji], nn_jobs[ji].train ? pipe_batch(r->opt) : cfg->infer_batch, r->opt->threads[ti], name,
                        sizeof name);
            if ((!r->opt->quick || nn_jobs[ji].quick) && bench_wanted(r, name, "pipeline") && bench_net_wanted(r, nn_jobs[ji].net))
                return true;
        }
    return false;
}

void pipe_nn(bench_run *r, const pipe_cfg *cfg, torch_client *t, bool *header) {
    for (size_t ji = 0; ji < sizeof nn_jobs / sizeof nn_jobs[0]; ji++) {
        double first_t = 0;
        for (int ti = 0; ti < r->opt->n_threads; ti++)
            pipe_nn_job_run(r, cfg, t, &nn_jobs[ji], r->opt->threads[ti], &first_t, header);
    }
}

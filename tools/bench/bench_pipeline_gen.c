/* The generation and evaluation pipelines of `latbench bench` (bench_pipeline.c describes them):
 * the worm sampler making the task-1 set, the dispatched variant beside the scalar reference, then
 * a task1-eq model's forward pass and loss over that set. */
#include <stdlib.h>
#include <string.h>
#include "tools/bench/bench_pipeline.h"
#include "lib/lattice/dataset.h"
#include "lib/nn/model.h"
#include "lib/nn/netspec.h"
#include "lib/nn/train.h"

/* ---- generation ---- */

typedef struct {
    lat_gen_opts o;
    lat_gen_point pt;
    double eta, lambda, mu;
    int16_t *x;     /* [count][4][60][4] */
    bool ok;
    char err[256];
} gen_ctx;

static bool gen_store(void *ctx, long index, const int16_t *x, char *err, size_t errlen) {
    (void)err, (void)errlen;
    gen_ctx *g = ctx;
    memcpy(g->x + (size_t)index * 4 * 60 * 4, x, (size_t)4 * 60 * 4 * sizeof(int16_t));
    return true;
}

static void gen_step(void *vctx) {
    gen_ctx *g = vctx;
    g->ok = lat_generate(&g->o, &g->pt, g->err, sizeof g->err);
}

/* The task-1 setup (docs/design.md §3): 60x4, eta 4.01, lambda 1, mu 1.0 (the Silver Blaze onset). */
static void gen_setup(gen_ctx *g, const pipe_cfg *cfg, int threads, const worm_ops *ops, int16_t *x, float *y) {
    memset(g, 0, sizeof *g);
    g->eta = 4.01, g->lambda = 1.0, g->mu = 1.0;
    g->x = x;
    g->o = (lat_gen_opts){.task = LAT_TASK_REGRESSION, .nt = 60, .nx = 4, .npoints = 1, .eta = &g->eta,
                         .lambda = &g->lambda, .mu = &g->mu, .count = cfg->gen_count, .chains = cfg->gen_chains,
                         .threads = threads, .therm = cfg->gen_therm, .spacing = 0, .worms_per_sweep = 0, .fmax = 0,
                         .viol_steps = 0, .tau_factor = 2.0, .seed = 1, .ops = ops, .progress = false,
                         .store = gen_store, .ctx = g, .y = y};
}

/* Sweeps the chains of the point ran: thermalization, then `spacing` per stored sample. */
static double gen_sweeps(const gen_ctx *g) {
    const lat_gen_point *p = &g->pt;
    long per_chain = (p->count + p->chains - 1) / p->chains;
    return (double)p->chains * (g->o.therm + (double)p->spacing * per_chain);
}

static const worm_ops *scalar_worm(void) {
    int n;
    const worm_ops *v = lb_worm_variants(&n);
    for (int i = 0; i < n; i++)
        if (v[i].isa == LB_ISA_SCALAR) return &v[i];
    return NULL;
}

/* One thread count's generation: both variants' runs and their statistics. */
typedef struct {
    const worm_ops *vars[2];
    int nvar, threads;
    char names[2][160];
    bool ok[2];                 /* wanted, and no run failed */
    double sec[2][PIPE_MAX_REPS], cpu[2][PIPE_MAX_REPS];   /* wall and the process's CPU seconds */
    gen_ctx g[2];
    timing_stats st[2];
} gen_runs;

/* The repetitions, the variants alternating run by run; returns whether any run completed. */
static bool gen_time(bench_run *r, const pipe_cfg *cfg, const torch_client *t, gen_runs *gr, int16_t *x, float *y,
                     bool *header) {
    bool have = false;
    for (int v = 0; v < gr->nvar; v++) {
        snprintf(gr->names[v], sizeof gr->names[v], "pipeline/generate/60x4_eta4.01_lambda1_mu1.00/%s/threads:%d",
                 gr->vars[v]->name, gr->threads);
        gr->ok[v] = bench_wanted(r, gr->names[v], "pipeline");
    }
    for (int k = 0; k < cfg->gen_reps; k++)
        for (int v = 0; v < gr->nvar; v++) {
            if (!gr->ok[v]) continue;
            gen_setup(&gr->g[v], cfg, gr->threads, gr->vars[v], x, y);
            gr->sec[v][k] = pipe_time_block("generate", gr->names[v], gen_step, &gr->g[v], 1, &gr->cpu[v][k]);
            if (!gr->g[v].ok) {
                pipe_header(r, header, t);
                fprintf(r->out, "%-46s %4d  failed: %s\n", gr->names[v], gr->threads, gr->g[v].err);
                gr->ok[v] = false;
            }
            have |= gr->g[v].ok;
        }
    for (int v = 0; v < gr->nvar; v++)
        if (gr->ok[v]) gr->st[v] = pipe_stats(gr->sec[v], cfg->gen_reps);
    return have;
}

static void gen_record(bench_run *r, const pipe_cfg *cfg, const gen_runs *gr, int v, bool with_base) {
    const gen_ctx *g = &gr->g[v];
    const double cps = cfg->gen_count / gr->st[v].median;
    json_t *j = pipe_record_json(r, gr->names[v], "generate", gr->threads, cfg->gen_reps, 1, gr->sec[v], gr->cpu[v], &gr->st[v]);
    if (!j) return;
    io_json_set_str(j, "variant", gr->vars[v]->name);
    io_json_set_str(j, "isa", lb_isa_name(gr->vars[v]->isa));
    io_json_set_str(j, "lattice", "60x4");
    io_json_set_num(j, "eta", 4.01);
    io_json_set_num(j, "lambda", 1.0);
    io_json_set_num(j, "mu", 1.0);
    io_json_set_int(j, "configurations", cfg->gen_count);
    io_json_set_int(j, "chains", g->pt.chains);
    io_json_set_int(j, "therm", cfg->gen_therm);
    io_json_set_int(j, "spacing", g->pt.spacing);
    io_json_set_num(j, "tau_int", g->pt.tau_int);
    io_json_set_num(j, "sweeps", gen_sweeps(g));
    io_json_set_num(j, "configs_per_s", cps);
    io_json_set_num(j, "sweeps_per_s", gen_sweeps(g) / gr->st[v].median);
    io_json_set_num(j, "samples_per_s", cps);
    if (with_base) {
        io_json_set_num(j, "scalar_configs_per_s", cfg->gen_count / gr->st[1].median);
        io_json_set_num(j, "ratio_vs_scalar", gr->st[1].median / gr->st[v].median);
    }
}

/* Variant v's row and record; the dispatched variant's baseline is the scalar reference. */
static void gen_report(bench_run *r, const pipe_cfg *cfg, const gen_runs *gr, int v) {
    const gen_ctx *g = &gr->g[v];
    const timing_stats *st = gr->st;
    const double cps = cfg->gen_count / st[v].median, sws = gen_sweeps(g) / st[v].median;
    const bool with_base = v == 0 && gr->nvar == 2 && gr->ok[1];
    char note[160], ms[24], spread[16], cs[24], bms[24], bcs[24], ratio[16], thr[16];
    pipe_fmt_ms(ms, sizeof ms, st[v].median);
    snprintf(spread, sizeof spread, "%.0f", 50 * (st[v].q3 - st[v].q1) / st[v].median);
    snprintf(cs, sizeof cs, "%.0f", cps);
    pipe_fmt_ms(bms, sizeof bms, with_base ? st[1].median : 0);
    if (with_base)
        snprintf(bcs, sizeof bcs, "%.0f", cfg->gen_count / st[1].median),
            snprintf(ratio, sizeof ratio, "%.2f", st[1].median / st[v].median);
    else snprintf(bcs, sizeof bcs, "-"), snprintf(ratio, sizeof ratio, "-");
    snprintf(note, sizeof note, "configs/s; %.0f sweeps/s (%d chains, %d therm, spacing %d)%s", sws, g->pt.chains,
             cfg->gen_therm, g->pt.spacing, with_base ? "; base: scalar" : "");
    snprintf(thr, sizeof thr, "%d", gr->threads);
    fprintf(r->out, PIPE_ROW, gr->names[v], thr, ms, spread, cs, "-", "-", bms, bcs, ratio, note);
    r->n_rows++;
    if (r->json_on) gen_record(r, cfg, gr, v, with_base);
}

/* Generation at each thread count, the dispatched variant and the scalar reference alternating
 * run by run.  Every run writes the same configurations into x/y (a seed gives the same dataset
 * whatever the variant and thread count); returns whether any run completed. */
bool pipe_generate(bench_run *r, const pipe_cfg *cfg, const torch_client *t, int16_t *x, float *y, bool *header) {
    gen_runs *gr = malloc(sizeof *gr);
    if (!gr) return false;
    bool have = false;
    for (int ti = 0; ti < r->opt->n_threads; ti++) {
        memset(gr, 0, sizeof *gr);
        gr->vars[0] = r->disp->worm;
        gr->vars[1] = scalar_worm();
        gr->nvar = gr->vars[1] && gr->vars[1] != gr->vars[0] ? 2 : 1;
        gr->threads = r->opt->threads[ti];
        have |= gen_time(r, cfg, t, gr, x, y, header);
        for (int v = 0; v < gr->nvar; v++) {
            if (!gr->ok[v]) continue;
            pipe_header(r, header, t);
            gen_report(r, cfg, gr, v);
        }
        fflush(r->out);
    }
    free(gr);
    return have;
}

/* ---- evaluation ---- */

typedef struct {
    nn_model *m;
    const nn_dataset *d;
    double loss;
} eval_ctx;

static void eval_step(void *vctx) {
    eval_ctx *e = vctx;
    e->loss = nn_eval_loss(e->m, e->d, NULL, e->d->n, NULL);
}

/* One thread count: the model made, warmed up, timed in blocks; its row and record. */
static void eval_one(bench_run *r, const pipe_cfg *cfg, const nn_dataset *d, int threads) {
    const int batch = pipe_batch(r->opt);
    char name[160], err[256];
    snprintf(name, sizeof name, "pipeline/eval/task1-eq/60x4/mb%d/threads:%d", batch, threads);
    if (!bench_wanted(r, name, "pipeline") || !bench_net_wanted(r, "task1-eq")) return;
    net_spec spec;
    nn_model *m = NULL;
    if (netspec_parse(netspec_preset("task1-eq"), &spec, err, sizeof err))
        m = nn_model_create(&spec, 60, 4, batch, threads, false, err, sizeof err);
    if (!m) {
        fprintf(r->out, "%-46s %4d  skipped: %s\n", name, threads, err);
        return;
    }
    nn_model_init(m, 1);
    eval_ctx e = {m, d, 0};
    pipe_time_block("eval", name, eval_step, &e, 1, NULL);
    double t1 = pipe_time_block("eval", name, eval_step, &e, 1, NULL);
    long calls = pipe_block_calls(cfg, t1);
    int reps = pipe_reps(cfg, calls * t1);
    double s[PIPE_MAX_REPS], cpu[PIPE_MAX_REPS];
    for (int k = 0; k < reps; k++) {
        s[k] = pipe_time_block("eval", name, eval_step, &e, calls, &cpu[k]) / calls;
        cpu[k] /= calls;
    }
    timing_stats st = pipe_stats(s, reps);
    double sps = d->n / st.median, flops = nn_model_flops_fwd(m) * d->n, gf = flops / st.median * 1e-9;
    double peak = bench_peak_for(r, r->disp->conv2d->isa, threads);
    char ms[24], spread[16], sp[24], gfs[24], pct[16], note[128], thr[16];
    pipe_fmt_ms(ms, sizeof ms, st.median);
    snprintf(spread, sizeof spread, "%.0f", 50 * (st.q3 - st.q1) / st.median);
    snprintf(sp, sizeof sp, "%.0f", sps);
    snprintf(gfs, sizeof gfs, "%.2f", gf);
    if (peak > 0) snprintf(pct, sizeof pct, "%.1f", 100 * gf / peak);
    else snprintf(pct, sizeof pct, "-");
    snprintf(note, sizeof note, "%ld generated configs per pass, loss %.4g", d->n, e.loss);
    snprintf(thr, sizeof thr, "%d", threads);
    fprintf(r->out, PIPE_ROW, name, thr, ms, spread, sp, gfs, pct, "-", "-", "-", note);
    fflush(r->out);
    r->n_rows++;
    if (r->json_on) {
        json_t *j = pipe_record_json(r, name, "eval", threads, reps, calls, s, cpu, &st);
        io_json_set_str(j, "net", "task1-eq");
        io_json_set_str(j, "lattice", "60x4");
        io_json_set_int(j, "batch", batch);
        io_json_set_int(j, "configurations", d->n);
        io_json_set_num(j, "flops", flops);
        io_json_set_num(j, "samples_per_s", sps);
        io_json_set_num(j, "GFLOPS", gf);
        if (peak > 0) io_json_set_num(j, "pct_fma_peak", 100 * gf / peak);
    }
    nn_model_free(m);
}

void pipe_eval(bench_run *r, const pipe_cfg *cfg, const torch_client *t, int16_t *x, float *y, bool have_data,
               bool *header) {
    const int batch = pipe_batch(r->opt);
    bool any = false;
    for (int ti = 0; ti < r->opt->n_threads; ti++) {
        char name[160];
        snprintf(name, sizeof name, "pipeline/eval/task1-eq/60x4/mb%d/threads:%d", batch, r->opt->threads[ti]);
        any |= bench_wanted(r, name, "pipeline") && bench_net_wanted(r, "task1-eq");
    }
    if (!any) return;
    pipe_header(r, header, t);
    if (!have_data) {
        /* generation was filtered out: the held-out set is made here, untimed */
        gen_ctx g;
        gen_setup(&g, cfg, r->opt->threads[r->opt->n_threads - 1], NULL, x, y);
        gen_step(&g);
        if (!g.ok) {
            fprintf(r->out, "pipeline/eval: no data: %s\n", g.err);
            return;
        }
    }
    nn_dataset d = {.n = cfg->gen_count, .nt = 60, .nx = 4, .outs = 2, .x = x, .y = y};
    snprintf(d.task, sizeof d.task, "regression");
    for (int ti = 0; ti < r->opt->n_threads; ti++) eval_one(r, cfg, &d, r->opt->threads[ti]);
}

/* The fused 1x1 chains (kernels/chain1x1) of the seed nets task1-eq (4-64-48-80) and task1-st
 * (4-80-80-48; task1-fl has no two 1x1 layers in a row) at 60x4 and 8x8, batch 128 and 1, against the layers as the model runs them unfused (per layer
 * nn_conv2d_fwd_lrelu: the conv output kept, the lrelu output written), interleaved repetition by
 * repetition (timing_interleaved): fused inference (only the output written), fused keep (every
 * intermediate written, what a training forward needs), and the tile parameter at 16 and 32 beside
 * the default (64).  One line per net and thread count: medians with their quartiles, and the median
 * and quartiles of the per-repetition ratio fused/unfused (< 1: the fused pass is faster).
 * Printed only (no JSON record yet); run only when --filter names it (latbench bench --filter chain1x1). */
#include <stdlib.h>
#include <string.h>
#include "tools/bench/bench.h"
#include "lib/nn/parallel.h"

#define C1_SLOPE 0.01f
/* C1_SCALAR: the scalar chain1x1 (the gate's reference; not in bench's table). */
enum { C1_UNFUSED, C1_FUSED, C1_KEEP, C1_TILE16, C1_TILE32, C1_NSEQ, C1_SCALAR = C1_NSEQ };
static const char *const c1_names[C1_NSEQ] = {"unfused", "fused", "fused keep", "fused tile 16", "fused tile 32"};

typedef struct {
    const bench_run *r;
    int threads, batch;
    size_t ps;
    chain1x1_desc d;
    conv2d_desc cd[CHAIN1X1_MAX_LAYERS];
    float *x[CHAIN1X1_MAX_LAYERS + 1], *p[CHAIN1X1_MAX_LAYERS], *w[CHAIN1X1_MAX_LAYERS], *b[CHAIN1X1_MAX_LAYERS], *out;
} c1_ctx;

typedef struct {
    c1_ctx *c;
    int seq;
} c1_step_ctx;

static void c1_step(void *v) {
    const c1_step_ctx *s = v;
    c1_ctx *c = s->c;
    const float *const *w = (const float *const *)c->w, *const *b = (const float *const *)c->b;
    if (s->seq == C1_UNFUSED) {
        for (int l = 0; l < c->d.layers; l++)
            nn_conv2d_fwd_lrelu(c->r->disp->conv2d, c->r->disp->act, C1_SLOPE, c->threads, &c->cd[l], c->x[l], c->w[l],
                                c->b[l], c->p[l], c->x[l + 1]);
        return;
    }
    chain1x1_desc d = c->d;
    if (s->seq == C1_TILE16 || s->seq == C1_TILE32) d.params.v[0] = s->seq == C1_TILE16 ? 16 : 32;
    chain1x1_keep keep;
    for (int l = 0; l < d.layers; l++) keep.pre[l] = c->p[l];
    for (int l = 0; l + 1 < d.layers; l++) keep.post[l] = c->x[l + 1];
    nn_chain1x1_fwd(s->seq == C1_SCALAR ? bench_scalar_chain1x1() : c->r->disp->chain1x1, c->threads, c->batch, c->ps, &d, c->x[0], w, b,
                    s->seq == C1_KEEP ? c->x[d.layers] : c->out, s->seq == C1_KEEP ? &keep : NULL);
}

static void c1_alloc(c1_ctx *c, const int *ch, int layers, int h, int w) {
    c->ps = (size_t)h * w;
    c->d = (chain1x1_desc){.sites = c->ps * c->batch, .layers = layers, .slope = C1_SLOPE};
    c->x[0] = calloc(c->d.sites * ch[0], sizeof(float));
    for (size_t i = 0; i < c->d.sites * ch[0]; i++) c->x[0][i] = (float)((int)(i * 7 % 5) - 2);
    for (int l = 0; l < layers; l++) {
        c->d.c[l] = ch[l], c->d.c[l + 1] = ch[l + 1], c->d.bias[l] = 1;
        c->cd[l] = (conv2d_desc){c->batch, h, w, ch[l], ch[l + 1], 1, 1, 1, 1, 1, {{0}}};
        c->w[l] = malloc(chain1x1_w_size(&c->d, l) * sizeof(float));
        for (size_t i = 0; i < chain1x1_w_size(&c->d, l); i++) c->w[l][i] = (float)((int)(i * 13 % 17) - 8) / (8.0f * ch[l]);
        c->b[l] = calloc((size_t)ch[l + 1], sizeof(float));
        c->x[l + 1] = calloc(c->d.sites * ch[l + 1], sizeof(float));
        c->p[l] = calloc(c->d.sites * ch[l + 1], sizeof(float));
    }
    c->out = calloc(c->d.sites * ch[layers], sizeof(float));
}

static void c1_free(c1_ctx *c) {
    free(c->x[0]), free(c->out);
    for (int l = 0; l < c->d.layers; l++) free(c->w[l]), free(c->b[l]), free(c->x[l + 1]), free(c->p[l]);
}

/* Wall time, and the process's CPU time (less disturbed by other work on a shared machine, which
 * takes cores away but does not bill its time to us). */
static void c1_print(bench_run *r, const char *name, const timing_seq_result *res) {
    fprintf(r->out, "%s\n", name);
    for (int s = 0; s < C1_NSEQ; s++) {
        fprintf(r->out, "  %-14s wall %8.3f ms [%.3f..%.3f]  cpu %8.3f ms [%.3f..%.3f]", c1_names[s],
                res[s].total.median * 1e3, res[s].total.q1 * 1e3, res[s].total.q3 * 1e3, res[s].cpu.median * 1e3,
                res[s].cpu.q1 * 1e3, res[s].cpu.q3 * 1e3);
        const int n = res[s].n_samples < res[0].n_samples ? res[s].n_samples : res[0].n_samples;
        if (s == 0 || n < 1) {
            fprintf(r->out, "\n");
            continue;
        }
        const timing_stats w = timing_ratio_stats(res[s].samples, res[0].samples, n);
        const timing_stats c = timing_ratio_stats(res[s].cpu_samples, res[0].cpu_samples, n);
        fprintf(r->out, "  /unfused: wall %.3f [%.3f..%.3f] cpu %.3f [%.3f..%.3f] (%d reps)\n", w.median, w.q1, w.q3,
                c.median, c.q1, c.q3, n);
    }
}

/* The paths seq_of[0..n) (C1_*) of c timed interleaved repetition by repetition under cfg, named
 * names[]; timing_interleaved's status. */
static int c1_time(c1_ctx *c, const int *seq_of, const char *const *names, int n, const timing_cfg *cfg,
                   timing_seq_result *res) {
    timing_seq seqs[C1_NSEQ + 1];
    c1_step_ctx sc[C1_NSEQ + 1];
    for (int s = 0; s < n; s++) {
        sc[s] = (c1_step_ctx){c, seq_of[s]};
        seqs[s] = (timing_seq){.name = names[s]};
        timing_seq_add(&seqs[s], names[s], STEP_COMPUTE, c1_step, &sc[s]);
    }
    return timing_interleaved(seqs, n, cfg, res);
}

/* The seed nets' chains of 1x1 layers (task1-fl has none). */
static const struct {
    const char *net;
    int ch[4];
} c1_nets[] = {{"task1-eq", {4, 64, 48, 80}}, {"task1-st", {4, 80, 80, 48}}};
enum { C1_NNETS = sizeof c1_nets / sizeof c1_nets[0] };

static void c1_run(bench_run *r, int k, int h, int w, int batch, int threads) {
    char name[112];
    snprintf(name, sizeof name, "chain1x1/%s/mb%d_ih%diw%d/threads:%d", c1_nets[k].net, batch, h, w, threads);
    if (!bench_wanted(r, name, c1_nets[k].net)) return;
    c1_ctx c = {.r = r, .threads = threads, .batch = batch};
    c1_alloc(&c, c1_nets[k].ch, 3, h, w);
    static const int all[C1_NSEQ] = {C1_UNFUSED, C1_FUSED, C1_KEEP, C1_TILE16, C1_TILE32};
    timing_seq_result res[C1_NSEQ];
    timing_cfg cfg = r->opt->timing;
    cfg.drop_factor = 0; /* every path repeated: the ratios are per repetition */
    if (c1_time(&c, all, c1_names, C1_NSEQ, &cfg, res) == 0) {
        c1_print(r, name, res);
        r->n_rows++;
    }
    c1_free(&c);
}

int bench_chain1x1_gate(const bench_run *r, const char *net, int h, int w, int batch, const timing_cfg *cfg,
                        timing_seq_result res[BENCH_C1_GATE_NSEQ]) {
    int k = 0;
    while (k < C1_NNETS && strcmp(net, c1_nets[k].net)) k++;
    if (k == C1_NNETS) return -1;
    static const int seq_of[BENCH_C1_GATE_NSEQ] = {C1_FUSED, C1_SCALAR, C1_UNFUSED};
    static const char *const names[BENCH_C1_GATE_NSEQ] = {"ours", "scalar", "unfused"};
    c1_ctx c = {.r = r, .threads = 1, .batch = batch};
    c1_alloc(&c, c1_nets[k].ch, 3, h, w);
    const int rc = c1_time(&c, seq_of, names, BENCH_C1_GATE_NSEQ, cfg, res) == 0 ? 0 : -1;
    c1_free(&c);
    return rc;
}

void bench_chain1x1(bench_run *r) {
    static const int shapes[][3] = {{60, 4, 128}, {60, 4, 1}, {8, 8, 128}, {8, 8, 1}};   /* h, w, batch */
    bool header = false;
    /* opt-in (--filter chain1x1...): five paths of two nets per thread count would lengthen every
     * default and --quick run, and CI's */
    if (!r->opt->filter || !strstr(r->opt->filter, "chain1x1")) return;
    for (int ti = 0; ti < r->opt->n_threads; ti++)
        for (int sh = 0; sh < 4; sh++)
            for (int k = 0; k < C1_NNETS; k++) {
                if (!header && bench_wanted(r, "chain1x1/", c1_nets[k].net))
                    fprintf(r->out, "\n== fused 1x1 chains (chain1x1) vs unfused layers (%s)\n", r->disp->chain1x1->name),
                        header = true;
                c1_run(r, k, shapes[sh][0], shapes[sh][1], shapes[sh][2], r->opt->threads[ti]);
            }
}

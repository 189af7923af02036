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
 * PyTorch runs as a co-process (`torch_pipeline.py --serve`, Debian's /usr/bin/python3 unless
 * LATBENCH_PYTHON says otherwise) so that its repetitions alternate with ours, block by block,
 * and both see the same machine noise; medians over the repetitions of each.  Without python3 or
 * torch one line says so and ours are reported alone.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/io/srcfile.h"
#include "tools/bench/bench.h"
#include "lib/lattice/dataset.h"
#include "lib/nn/model.h"
#include "lib/nn/netspec.h"
#include "lib/nn/nnio.h"
#include "lib/nn/parallel.h"
#include "lib/nn/train.h"

extern char **environ;

#define PIPE_BATCH_DEFAULT 128
#define PIPE_POOL_BATCHES 4      /* a job's input pool holds this many batches of samples */
#define PIPE_MAX_REPS 64
#define PIPE_PROFILE_BLOCKS 3    /* profiled blocks per job; the fastest gives the breakdown */

typedef struct {
    int reps, min_reps;
    double block_s;     /* one repetition of one side lasts about this long (at least one step) */
    double budget_s;    /* both sides of one job together spend about this long (min_reps wins) */
    int infer_batch;    /* the 64x64 inference batch */
    long gen_count;     /* configurations generated */
    int gen_chains, gen_therm, gen_reps;
} pipe_cfg;

static pipe_cfg pipe_config(const bench_opts *o) {
    int batch = o->pipe_batch > 0 ? o->pipe_batch : PIPE_BATCH_DEFAULT;
    if (o->quick)
        return (pipe_cfg){3, 3, 0.05, 0.6, batch < 16 ? batch : 16, 128, 32, 200, 1};
    return (pipe_cfg){7, 3, 0.2, 3.0, batch, 1024, 32, 2000, 2};
}

/* ---- PyTorch co-process ---- */

typedef struct {
    bool tried;              /* torch_open was called (a training or inference pipeline is wanted) */
    bool ok;                 /* ready for commands */
    pid_t pid;
    int fd;                  /* our end of the socket pair (its stdin and stdout) */
    char buf[4096];          /* received, not yet consumed */
    size_t have;
    char version[64];
    char why[320];           /* why there is no PyTorch baseline (when !ok) */
} torch_proc;

/* tools/bench/torch_pipeline.py next to the binary or one of its parents (build/<x>/latbench,
 * ./latbench), else under the working directory; LATBENCH_TORCH_SCRIPT overrides. */
static bool find_torch_script(char *out, size_t len) {
    const char *env = getenv("LATBENCH_TORCH_SCRIPT");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return access(out, R_OK) == 0;
    }
    if (lb_find_near_binary("tools/bench/torch_pipeline.py", out, len) == 1 && access(out, R_OK) == 0) return true;
    snprintf(out, len, "tools/bench/torch_pipeline.py");
    return access(out, R_OK) == 0;
}

/* One reply line (without the newline) within timeout_s; false on EOF, error or timeout. */
static bool torch_read_line(torch_proc *t, char *line, size_t len, double timeout_s) {
    double deadline = bench_now() + timeout_s;
    for (;;) {
        char *nl = memchr(t->buf, '\n', t->have);
        if (nl) {
            size_t n = (size_t)(nl - t->buf);
            snprintf(line, len, "%.*s", (int)n, t->buf);
            t->have -= n + 1;
            memmove(t->buf, nl + 1, t->have);
            return true;
        }
        if (t->have == sizeof t->buf) return snprintf(t->why, sizeof t->why, "reply line too long"), false;
        double left = deadline - bench_now();
        if (left <= 0) return snprintf(t->why, sizeof t->why, "no reply within %.0f s", timeout_s), false;
        struct pollfd p = {t->fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        ssize_t got = read(t->fd, t->buf + t->have, sizeof t->buf - t->have);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return snprintf(t->why, sizeof t->why, "the python process ended"), false;
        t->have += (size_t)got;
    }
}

static void torch_close(torch_proc *t) {
    if (t->pid > 0) {
        if (t->ok) (void)!send(t->fd, "quit\n", 5, MSG_NOSIGNAL);
        close(t->fd);
        /* the script exits on quit or EOF; a hung one is killed after ~2 s */
        int st;
        for (int i = 0; i < 200 && waitpid(t->pid, &st, WNOHANG) == 0; i++) usleep(10000);
        if (waitpid(t->pid, &st, WNOHANG) == 0) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &st, 0);
        }
    }
    t->pid = 0;
    t->ok = false;
}

/* Sends cmd (one line) and reads the reply; on failure the co-process is shut down (t->why). */
static bool torch_cmd(torch_proc *t, const char *cmd, char *reply, size_t len, double timeout_s) {
    if (!t->ok) return false;
    size_t n = strlen(cmd), off = 0;
    while (off < n) {
        ssize_t w = send(t->fd, cmd + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(t->why, sizeof t->why, "the python process ended");
            torch_close(t);
            return false;
        }
        off += (size_t)w;
    }
    if (!torch_read_line(t, reply, len, timeout_s)) {
        torch_close(t);
        return false;
    }
    return true;
}

static void torch_open(torch_proc *t) {
    memset(t, 0, sizeof *t);
    t->tried = true;
    t->fd = -1;
    const char *py = getenv("LATBENCH_PYTHON");
    if (!py || !*py) py = "/usr/bin/python3";
    char script[PATH_MAX + 64];
    if (!find_torch_script(script, sizeof script)) {
        snprintf(t->why, sizeof t->why, "%.280s not found", script);
        return;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(t->why, sizeof t->why, "socketpair: %s", strerror(errno));
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
    char *argv[] = {(char *)py, script, (char *)"--serve", NULL};
    int rc = posix_spawnp(&t->pid, py, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        t->pid = 0;
        snprintf(t->why, sizeof t->why, "cannot run %s: %s", py, strerror(rc));
        return;
    }
    t->fd = sv[0];
    t->ok = true;
    char line[512];
    /* importing torch takes seconds, more on a busy machine */
    if (!torch_read_line(t, line, sizeof line, 180)) {
        char why[320];
        snprintf(why, sizeof why, "%s", t->why);
        t->ok = false;
        torch_close(t);
        snprintf(t->why, sizeof t->why, "%.60s %.100s --serve: %.140s", py, script, why);
        return;
    }
    if (strncmp(line, "ready torch ", 12) != 0) {
        snprintf(t->why, sizeof t->why, "%.300s", strncmp(line, "error ", 6) ? line : line + 6);
        t->ok = false;
        torch_close(t);
        return;
    }
    snprintf(t->version, sizeof t->version, "%.60s", line + 12);
}

/* ---- the one timing primitive of every phase ---- */

/* Runs fn(ctx) `calls` times and returns the wall time.  Every timed block of ours (each phase
 * and repetition) goes through here: the hook for per-phase hardware counters
 * (tools/machine/counters.h): start them before the loop and stop them after it, keyed by
 * `phase` ("train", "infer", "generate", "eval") and `name` (the record name). */
static double pipe_time_block(const char *phase, const char *name, void (*fn)(void *), void *ctx, long calls) {
    (void)phase, (void)name;
    double t0 = bench_now();
    for (long c = 0; c < calls; c++) fn(ctx);
    return bench_now() - t0;
}

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
    adamw_params hp;
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
    double t0 = prof ? bench_now() : 0;
    c->opt->adamw_step(&c->hp, nn_model_param_count(c->m), nn_model_params(c->m), nn_model_grads(c->m), c->am, c->av,
                       c->avmax);
    if (prof) nn_prof_add(&prof->optim, bench_now() - t0, 0);
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
    uint32_t s = 12345u;
    for (size_t i = 0; i < (size_t)pool * 4 * V; i++) {
        s = s * 1664525u + 1013904223u;
        j->x[i] = (int16_t)((s >> 16) % 5) - 2;
    }
    for (size_t i = 0; i < (size_t)pool * outs; i++) {
        s = s * 1664525u + 1013904223u;
        j->y[i] = (float)(s >> 8) * (1.0f / 16777216.0f);
    }
    j->c.train = train;
    j->c.batch = batch;
    j->c.pool_n = pool;
    j->c.x = j->x, j->c.y = j->y, j->c.idx = j->idx, j->c.yb = j->yb;
    if (train) {
        j->c.hp = adamw_defaults();
        j->c.hp.lr = 1e-2f, j->c.hp.weight_decay = 0.0f, j->c.hp.amsgrad = 1, j->c.hp.step = 0;
        j->c.opt = lb_dispatch_get()->optim;
        j->c.am = j->opt_state, j->c.av = j->opt_state + np, j->c.avmax = j->opt_state + 2 * np;
    }
    return true;
}

/* ---- output helpers ---- */

/* Statistics of n samples without reordering them. */
static bench_stats stats_of(const double *sec, int n) {
    double tmp[PIPE_MAX_REPS];
    memcpy(tmp, sec, (size_t)n * sizeof *sec);
    return bench_stats_of(tmp, n);
}

/* A new record with the fields every pipeline record starts with. */
static json_t *record_head_json(const char *name, const char *phase, int threads, int reps, long iters) {
    json_t *j = json_object();
    lb_json_set_str(j, "name", name);
    lb_json_set_str(j, "run_name", name);
    lb_json_set_str(j, "run_type", "aggregate");
    lb_json_set_str(j, "aggregate_name", "median");
    lb_json_set_str(j, "pipeline", phase);
    lb_json_set_int(j, "repetitions", reps);
    lb_json_set_int(j, "iterations", iters);
    lb_json_set_int(j, "threads", threads);
    return j;
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

static void fmt_ms(char *buf, size_t len, double s) {
    if (!(s > 0) || !isfinite(s)) snprintf(buf, len, "-");
    else snprintf(buf, len, "%.3f", s * 1e3);
}

#define PIPE_ROW "%-46s %4s %9s %4s %10s %8s %6s | %9s %10s %6s | %s\n"

static void pipe_header(bench_run *r, bool *printed, const torch_proc *t) {
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

/* A PyTorch job for the current model; returns its seconds per step (0: no baseline). */
static double torch_setup(torch_proc *t, bool train, const char *spec_text, int batch, int threads, int h, int w) {
    if (!t->ok) return 0;
    char cmd[2048], reply[512];
    int n = snprintf(cmd, sizeof cmd, "job %s %d %d %d %d ", train ? "train" : "infer", batch, threads, h, w);
    for (const char *p = spec_text; *p && n < (int)sizeof cmd - 2; p++) cmd[n++] = *p == '\n' ? ';' : *p;
    cmd[n++] = '\n';
    cmd[n] = 0;
    if (!torch_cmd(t, cmd, reply, sizeof reply, 600)) return 0;
    double s;
    if (sscanf(reply, "ok %lf", &s) != 1 || !(s > 0)) {
        fprintf(stderr, "latbench bench: PyTorch job %s %dx%d: %s\n", train ? "train" : "infer", h, w,
                strncmp(reply, "error ", 6) ? reply : reply + 6);
        return 0;
    }
    return s;
}

static double torch_run(torch_proc *t, long steps, double expect_s) {
    char cmd[64], reply[512];
    snprintf(cmd, sizeof cmd, "run %ld\n", steps);
    if (!torch_cmd(t, cmd, reply, sizeof reply, 60 + 20 * expect_s)) return 0;
    double s;
    return sscanf(reply, "time %lf", &s) == 1 && s > 0 ? s : 0;
}

/* first_t: the step time at the first thread count (set there, read at the others). */
static void pipe_nn_job_run(bench_run *r, const pipe_cfg *cfg, torch_proc *t, const pipe_nn_job *job, int threads,
                            double *first_t, bool *header) {
    const int batch = job->train ? (r->opt->pipe_batch > 0 ? r->opt->pipe_batch : PIPE_BATCH_DEFAULT) : cfg->infer_batch;
    char name[160];
    snprintf(name, sizeof name, "pipeline/%s/%s/%dx%d/mb%d/threads:%d", job->train ? "train" : "infer", job->net, job->h,
             job->w, batch, threads);
    if ((r->opt->quick && !job->quick) || !bench_wanted(r, name, "pipeline")) return;
    pipe_header(r, header, t);
    const char *text = netspec_preset(job->net);
    net_spec spec;
    char err[256];
    nn_job nj;
    if (!text || !netspec_parse(text, &spec, err, sizeof err) ||
        !nn_job_init(&nj, &spec, job->h, job->w, batch, threads, job->train, err, sizeof err)) {
        fprintf(r->out, "%-46s %4d  skipped: %s\n", name, threads, text ? err : "no such preset");
        return;
    }
    nn_model *m = nj.c.m;
    const char *phase = job->train ? "train" : "infer";
    /* warm-up (first touch, OpenMP team start), then one step to size the blocks */
    pipe_time_block(phase, name, nn_step, &nj.c, 2);
    double t1 = pipe_time_block(phase, name, nn_step, &nj.c, 1);
    long calls = (long)(cfg->block_s / (t1 > 1e-9 ? t1 : 1e-9));
    if (calls < 1) calls = 1;
    double tt1 = torch_setup(t, job->train, text, batch, threads, job->h, job->w);
    long tcalls = tt1 > 0 ? (long)(cfg->block_s / tt1) : 0;
    if (tt1 > 0 && tcalls < 1) tcalls = 1;
    int reps = cfg->reps;
    double per_rep = calls * t1 + tcalls * tt1;
    if (per_rep * reps > cfg->budget_s) reps = (int)(cfg->budget_s / per_rep);
    if (reps < cfg->min_reps) reps = cfg->min_reps;
    if (reps > PIPE_MAX_REPS) reps = PIPE_MAX_REPS;
    double ours[PIPE_MAX_REPS], base[PIPE_MAX_REPS];
    int nbase = 0;
    for (int k = 0; k < reps; k++) {
        ours[k] = pipe_time_block(phase, name, nn_step, &nj.c, calls) / calls;
        if (tcalls > 0 && t->ok) {
            double s = torch_run(t, tcalls, tcalls * tt1);
            if (s > 0) base[nbase++] = s / tcalls;
        }
    }
    if (tt1 > 0 && !t->ok) fprintf(r->out, "  (PyTorch baseline stopped: %s)\n", t->why);
    bench_stats st = stats_of(ours, reps);
    bench_stats bst = {0};
    if (nbase > 0) bst = stats_of(base, nbase);

    /* The breakdown: PIPE_PROFILE_BLOCKS more blocks with the profile on (it only reads the clock);
     * the fastest is kept whole (the least disturbed by other work, and its cells add up to it). */
    nn_profile prof, cur;
    double pwall = INFINITY;
    const long pcalls = calls;
    for (int k = 0; k < PIPE_PROFILE_BLOCKS; k++) {
        memset(&cur, 0, sizeof cur);
        nn_model_attach_profile(m, &cur);
        double w = pipe_time_block(phase, name, nn_step, &nj.c, pcalls) / pcalls;
        nn_model_attach_profile(m, NULL);
        if (w < pwall) pwall = w, prof = cur;
    }
    lb_counter_values cv;
    bench_count_calls(r, name, threads, nn_step, &nj.c, calls, &cv);
    const int nl = nn_model_layers(m);
    double kernel_s = nn_profile_kernel_seconds(&prof, nl) / pcalls;
    double outside_s = pwall - kernel_s;
    double outside_share = pwall > 0 ? outside_s / pwall : 0;

    const double flops = (job->train ? nn_model_flops_train(m) : nn_model_flops_fwd(m)) * batch;
    const int used = nn_batch_parts(threads, batch);
    const double tm = st.median, gf = flops / tm * 1e-9;
    const double peak = bench_peak_for(r, r->disp->conv2d->isa, threads);
    const double sps = batch / tm, bsps = nbase ? batch / bst.median : 0;
    char thr[16], o_ms[24], spread[16], sp[24], gfs[24], pct[16], b_ms[24], b_sps[24], ratio[16], note[128];
    snprintf(thr, sizeof thr, "%d%s", threads, used < threads ? "*" : "");
    fmt_ms(o_ms, sizeof o_ms, tm);
    snprintf(spread, sizeof spread, "%.0f", tm > 0 ? 50 * (st.q3 - st.q1) / tm : 0);
    snprintf(sp, sizeof sp, "%.0f", sps);
    snprintf(gfs, sizeof gfs, "%.2f", gf);
    if (peak > 0) snprintf(pct, sizeof pct, "%.1f", 100 * gf / peak);
    else snprintf(pct, sizeof pct, "-");
    fmt_ms(b_ms, sizeof b_ms, nbase ? bst.median : 0);
    if (nbase) snprintf(b_sps, sizeof b_sps, "%.0f", bsps), snprintf(ratio, sizeof ratio, "%.2f", sps / bsps);
    else snprintf(b_sps, sizeof b_sps, "-"), snprintf(ratio, sizeof ratio, "-");
    const bool first = threads == r->opt->threads[0];
    if (first) *first_t = tm;
    /* the fastest repetition too: on a shared machine noise only adds time */
    int nn = snprintf(note, sizeof note, "%.1f%% (%.3f ms); best %.0f/s", 100 * outside_share, outside_s * 1e3,
                      batch / st.min);
    if (!first && *first_t > 0)
        snprintf(note + nn, sizeof note - nn, "; %.2fx the %d-thread rate%s", *first_t / tm, r->opt->threads[0],
                 /* more threads slower than fewer: other work held the cores (shared machine) */
                 *first_t / tm < 0.9 ? " (busy cores)" : "");
    fprintf(r->out, PIPE_ROW, name, thr, o_ms, spread, sp, gfs, pct, b_ms, b_sps, ratio, note);
    /* per layer, per pass: ms per step (profiled block) */
    fprintf(r->out, "    %-3s %-20s %9s %9s %9s %8s\n", "#", "layer", "fwd_ms", "bwd_d_ms", "bwd_w_ms", "GFLOP/s");
    for (int i = 0; i < nl; i++) {
        const nn_prof_cell *c = prof.layer[i];
        double sec = 0, fl = 0;
        for (int p = 0; p < LB_N_PASSES; p++) sec += c[p].seconds, fl += c[p].flops;
        if (sec <= 0) continue;
        char lab[48], a[24], b[24], d[24], g[24];
        layer_label(nn_model_layer(m, i), lab, sizeof lab);
        if (i + 1 < nl && nn_model_layer_fused(m, i + 1)) strncat(lab, " +lrelu", sizeof lab - strlen(lab) - 1);
        fmt_ms(a, sizeof a, c[LB_PASS_FWD].seconds / pcalls);
        fmt_ms(b, sizeof b, c[LB_PASS_BWD_DATA].seconds / pcalls);
        fmt_ms(d, sizeof d, c[LB_PASS_BWD_WEIGHTS].seconds / pcalls);
        if (fl > 0) snprintf(g, sizeof g, "%.2f", fl / sec * 1e-9);
        else snprintf(g, sizeof g, "-");
        fprintf(r->out, "    %-3d %-20s %9s %9s %9s %8s\n", i, lab, a, b, d, g);
    }
    fprintf(r->out, "    loss %.3f ms, optimizer %.3f ms, input gather+convert %.3f ms, other %.3f ms; "
                    "profiled step %.3f ms (%+.1f%% vs the fastest unprofiled)\n",
            prof.loss.seconds / pcalls * 1e3, prof.optim.seconds / pcalls * 1e3, prof.input.seconds / pcalls * 1e3,
            (outside_s - prof.input.seconds / pcalls) * 1e3, pwall * 1e3, 100 * (pwall / st.min - 1));
    char ctr[160];
    lb_counters_format(&cv, ctr, sizeof ctr);
    fprintf(r->out, "    counters (%s) over %ld steps: %s\n", cv.backend, calls, ctr);
    fflush(r->out);
    r->n_rows++;

    if (r->json_on) {
        json_t *j = record_head_json(name, phase, threads, reps, calls);
        bench_json_time_stats(j, &st);
        bench_json_samples(j, "samples", ours, reps);
        lb_json_set_str(j, "net", job->net);
        char lat[32];
        snprintf(lat, sizeof lat, "%dx%d", job->h, job->w);
        lb_json_set_str(j, "lattice", lat);
        lb_json_set_int(j, "batch", batch);
        lb_json_set_int(j, "threads_used", used);
        lb_json_set_str(j, "conv2d_variant", r->disp->conv2d->name);
        lb_json_set_num(j, "flops", flops);
        lb_json_set_str(j, "flops_counted", job->train ? "2*MACs of conv/linear for fwd, bwd_data (not layer 0) and bwd_weights, plus pool window reads"
                                                : "2*MACs of conv/linear for fwd, plus pool window reads");
        lb_json_set_num(j, "samples_per_s", sps);
        lb_json_set_num(j, "samples_per_s_best", batch / st.min);
        lb_json_set_num(j, "GFLOPS", gf);
        if (peak > 0) lb_json_set_num(j, "pct_fma_peak", 100 * gf / peak);
        if (nbase) {
            lb_json_set_str(j, "torch_version", t->version[0] ? t->version : NULL);
            lb_json_set_num(j, "torch_time", bst.median * 1e9);
            lb_json_set_num(j, "torch_min_time", bst.min * 1e9);
            lb_json_set_int(j, "torch_repetitions", nbase);
            lb_json_set_int(j, "torch_iterations", tcalls);
            bench_json_samples(j, "torch_samples", base, nbase);
            lb_json_set_num(j, "torch_samples_per_s", bsps);
            lb_json_set_num(j, "ratio_vs_torch", sps / bsps);
            /* on the fastest repetition of each side (noise only adds time) */
            lb_json_set_num(j, "ratio_vs_torch_best", bst.min / st.min);
        }
        if (!first && *first_t > 0) {
            lb_json_set_int(j, "first_threads", r->opt->threads[0]);
            lb_json_set_num(j, "speedup_vs_first_threads", *first_t / tm);
        }
        lb_json_set_int(j, "counter_calls", calls);
        json_object_set_new(j, "counters", lb_counters_json(&cv));
        lb_json_set_num(j, "profiled_step_time", pwall * 1e9);
        lb_json_set_num(j, "kernel_time", kernel_s * 1e9);
        lb_json_set_num(j, "outside_kernels_time", outside_s * 1e9);
        lb_json_set_num(j, "outside_kernels_share", outside_share);
        lb_json_set_num(j, "input_time", prof.input.seconds / pcalls * 1e9);
        lb_json_set_num(j, "loss_time", prof.loss.seconds / pcalls * 1e9);
        lb_json_set_num(j, "optimizer_time", prof.optim.seconds / pcalls * 1e9);
        json_t *layers = json_array();
        for (int i = 0; i < nl; i++) {
            const nn_prof_cell *c = prof.layer[i];
            char lab[48];
            layer_label(nn_model_layer(m, i), lab, sizeof lab);
            json_t *lj = json_object();
            lb_json_set_int(lj, "index", i);
            lb_json_set_str(lj, "layer", lab);
            if (nn_model_layer_fused(m, i)) lb_json_set_str(lj, "fused_into", "the layer before (its time is that layer's)");
            static const char *const keys[LB_N_PASSES][2] = {
                {"fwd_time", "fwd_flops"}, {"bwd_data_time", "bwd_data_flops"}, {"bwd_weights_time", "bwd_weights_flops"}};
            for (int p = 0; p < LB_N_PASSES; p++) {
                if (!c[p].calls) continue; /* a pass the runtime does not run */
                lb_json_set_num(lj, keys[p][0], c[p].seconds / pcalls * 1e9);
                lb_json_set_num(lj, keys[p][1], c[p].flops / pcalls);
            }
            json_array_append_new(layers, lj);
        }
        json_object_set_new(j, "layers", layers);
        bench_json_add(r, j);
    }
    nn_job_free(&nj);
}

/* ---- generation and evaluation ---- */

typedef struct {
    lb_gen_opts o;
    lb_gen_point pt;
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
    g->ok = lb_generate(&g->o, &g->pt, g->err, sizeof g->err);
}

/* The task-1 setup (docs/design.md §3): 60x4, eta 4.01, lambda 1, mu 1.0 (the Silver Blaze onset). */
static void gen_setup(gen_ctx *g, const pipe_cfg *cfg, int threads, const worm_ops *ops, int16_t *x, float *y) {
    memset(g, 0, sizeof *g);
    g->eta = 4.01, g->lambda = 1.0, g->mu = 1.0;
    g->x = x;
    g->o = (lb_gen_opts){.task = LB_TASK_REGRESSION, .nt = 60, .nx = 4, .npoints = 1, .eta = &g->eta,
                         .lambda = &g->lambda, .mu = &g->mu, .count = cfg->gen_count, .chains = cfg->gen_chains,
                         .threads = threads, .therm = cfg->gen_therm, .spacing = 0, .worms_per_sweep = 0, .fmax = 0,
                         .viol_steps = 0, .tau_factor = 2.0, .seed = 1, .ops = ops, .progress = false,
                         .store = gen_store, .ctx = g, .y = y};
}

/* Sweeps the chains of the point ran: thermalization, then `spacing` per stored sample. */
static double gen_sweeps(const gen_ctx *g) {
    const lb_gen_point *p = &g->pt;
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

/* Generation at each thread count, the dispatched variant and the scalar reference alternating
 * run by run.  Every run writes the same configurations into x/y (a seed gives the same dataset
 * whatever the variant and thread count); returns whether any run completed. */
static bool pipe_generate(bench_run *r, const pipe_cfg *cfg, const torch_proc *t, int16_t *x, float *y, bool *header) {
    const worm_ops *vars[2] = {r->disp->worm, scalar_worm()};
    const int nvar = vars[1] && vars[1] != vars[0] ? 2 : 1;
    bool have = false;
    for (int ti = 0; ti < r->opt->n_threads; ti++) {
        const int threads = r->opt->threads[ti];
        char names[2][160];
        bool ok[2] = {false, false}; /* wanted, and no run failed */
        double sec[2][PIPE_MAX_REPS];
        gen_ctx g[2];
        for (int v = 0; v < nvar; v++) {
            snprintf(names[v], sizeof names[v], "pipeline/generate/60x4_eta4.01_lambda1_mu1.00/%s/threads:%d",
                     vars[v]->name, threads);
            ok[v] = bench_wanted(r, names[v], "pipeline");
        }
        for (int k = 0; k < cfg->gen_reps; k++)
            for (int v = 0; v < nvar; v++) {
                if (!ok[v]) continue;
                gen_setup(&g[v], cfg, threads, vars[v], x, y);
                sec[v][k] = pipe_time_block("generate", names[v], gen_step, &g[v], 1);
                if (!g[v].ok) {
                    pipe_header(r, header, t);
                    fprintf(r->out, "%-46s %4d  failed: %s\n", names[v], threads, g[v].err);
                    ok[v] = false;
                }
                have |= g[v].ok;
            }
        bench_stats st[2];
        for (int v = 0; v < nvar; v++)
            if (ok[v]) st[v] = stats_of(sec[v], cfg->gen_reps);
        for (int v = 0; v < nvar; v++) {
            if (!ok[v]) continue;
            pipe_header(r, header, t);
            const double cps = cfg->gen_count / st[v].median, sws = gen_sweeps(&g[v]) / st[v].median;
            /* the dispatched variant's baseline is the scalar reference */
            const bool with_base = v == 0 && nvar == 2 && ok[1];
            char note[160], ms[24], spread[16], cs[24], bms[24], bcs[24], ratio[16];
            fmt_ms(ms, sizeof ms, st[v].median);
            snprintf(spread, sizeof spread, "%.0f", 50 * (st[v].q3 - st[v].q1) / st[v].median);
            snprintf(cs, sizeof cs, "%.0f", cps);
            fmt_ms(bms, sizeof bms, with_base ? st[1].median : 0);
            if (with_base)
                snprintf(bcs, sizeof bcs, "%.0f", cfg->gen_count / st[1].median),
                    snprintf(ratio, sizeof ratio, "%.2f", st[1].median / st[v].median);
            else snprintf(bcs, sizeof bcs, "-"), snprintf(ratio, sizeof ratio, "-");
            snprintf(note, sizeof note, "configs/s; %.0f sweeps/s (%d chains, %d therm, spacing %d)%s", sws,
                     g[v].pt.chains, cfg->gen_therm, g[v].pt.spacing, with_base ? "; base: scalar" : "");
            char thr[16];
            snprintf(thr, sizeof thr, "%d", threads);
            fprintf(r->out, PIPE_ROW, names[v], thr, ms, spread, cs, "-", "-", bms, bcs, ratio, note);
            r->n_rows++;
            if (r->json_on) {
                json_t *j = record_head_json(names[v], "generate", threads, cfg->gen_reps, 1);
                bench_json_time_stats(j, &st[v]);
                bench_json_samples(j, "samples", sec[v], cfg->gen_reps);
                lb_json_set_str(j, "variant", vars[v]->name);
                lb_json_set_str(j, "isa", lb_isa_name(vars[v]->isa));
                lb_json_set_str(j, "lattice", "60x4");
                lb_json_set_num(j, "eta", 4.01);
                lb_json_set_num(j, "lambda", 1.0);
                lb_json_set_num(j, "mu", 1.0);
                lb_json_set_int(j, "configurations", cfg->gen_count);
                lb_json_set_int(j, "chains", g[v].pt.chains);
                lb_json_set_int(j, "therm", cfg->gen_therm);
                lb_json_set_int(j, "spacing", g[v].pt.spacing);
                lb_json_set_num(j, "tau_int", g[v].pt.tau_int);
                lb_json_set_num(j, "sweeps", gen_sweeps(&g[v]));
                lb_json_set_num(j, "configs_per_s", cps);
                lb_json_set_num(j, "sweeps_per_s", sws);
                lb_json_set_num(j, "samples_per_s", cps);
                if (with_base) {
                    lb_json_set_num(j, "scalar_configs_per_s", cfg->gen_count / st[1].median);
                    lb_json_set_num(j, "ratio_vs_scalar", st[1].median / st[v].median);
                }
                bench_json_add(r, j);
            }
        }
        fflush(r->out);
    }
    return have;
}

typedef struct {
    nn_model *m;
    const nn_dataset *d;
    double loss;
} eval_ctx;

static void eval_step(void *vctx) {
    eval_ctx *e = vctx;
    e->loss = nn_eval_loss(e->m, e->d, NULL, e->d->n, NULL);
}

static void pipe_eval(bench_run *r, const pipe_cfg *cfg, const torch_proc *t, int16_t *x, float *y, bool have_data,
                      bool *header) {
    const int batch = r->opt->pipe_batch > 0 ? r->opt->pipe_batch : PIPE_BATCH_DEFAULT;
    bool any = false;
    for (int ti = 0; ti < r->opt->n_threads; ti++) {
        char name[160];
        snprintf(name, sizeof name, "pipeline/eval/task1-eq/60x4/mb%d/threads:%d", batch, r->opt->threads[ti]);
        any |= bench_wanted(r, name, "pipeline");
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
    for (int ti = 0; ti < r->opt->n_threads; ti++) {
        int threads = r->opt->threads[ti];
        char name[160], err[256];
        snprintf(name, sizeof name, "pipeline/eval/task1-eq/60x4/mb%d/threads:%d", batch, threads);
        if (!bench_wanted(r, name, "pipeline")) continue;
        net_spec spec;
        nn_model *m = NULL;
        if (netspec_parse(netspec_preset("task1-eq"), &spec, err, sizeof err))
            m = nn_model_create(&spec, 60, 4, batch, threads, false, err, sizeof err);
        if (!m) {
            fprintf(r->out, "%-46s %4d  skipped: %s\n", name, threads, err);
            continue;
        }
        nn_model_init(m, 1);
        eval_ctx e = {m, &d, 0};
        pipe_time_block("eval", name, eval_step, &e, 1);
        double t1 = pipe_time_block("eval", name, eval_step, &e, 1);
        long calls = (long)(cfg->block_s / (t1 > 1e-9 ? t1 : 1e-9));
        if (calls < 1) calls = 1;
        int reps = cfg->reps;
        if (calls * t1 * reps > cfg->budget_s) reps = (int)(cfg->budget_s / (calls * t1));
        if (reps < cfg->min_reps) reps = cfg->min_reps;
        if (reps > PIPE_MAX_REPS) reps = PIPE_MAX_REPS;
        double s[PIPE_MAX_REPS];
        for (int k = 0; k < reps; k++) s[k] = pipe_time_block("eval", name, eval_step, &e, calls) / calls;
        bench_stats st = stats_of(s, reps);
        double sps = d.n / st.median, flops = nn_model_flops_fwd(m) * d.n, gf = flops / st.median * 1e-9;
        double peak = bench_peak_for(r, r->disp->conv2d->isa, threads);
        char ms[24], spread[16], sp[24], gfs[24], pct[16], note[128];
        fmt_ms(ms, sizeof ms, st.median);
        snprintf(spread, sizeof spread, "%.0f", 50 * (st.q3 - st.q1) / st.median);
        snprintf(sp, sizeof sp, "%.0f", sps);
        snprintf(gfs, sizeof gfs, "%.2f", gf);
        if (peak > 0) snprintf(pct, sizeof pct, "%.1f", 100 * gf / peak);
        else snprintf(pct, sizeof pct, "-");
        snprintf(note, sizeof note, "%ld generated configs per pass, loss %.4g", d.n, e.loss);
        char thr[16];
        snprintf(thr, sizeof thr, "%d", threads);
        fprintf(r->out, PIPE_ROW, name, thr, ms, spread, sp, gfs, pct, "-", "-", "-", note);
        fflush(r->out);
        r->n_rows++;
        if (r->json_on) {
            json_t *j = record_head_json(name, "eval", threads, reps, calls);
            bench_json_time_stats(j, &st);
            bench_json_samples(j, "samples", s, reps);
            lb_json_set_str(j, "net", "task1-eq");
            lb_json_set_str(j, "lattice", "60x4");
            lb_json_set_int(j, "batch", batch);
            lb_json_set_int(j, "configurations", d.n);
            lb_json_set_num(j, "flops", flops);
            lb_json_set_num(j, "samples_per_s", sps);
            lb_json_set_num(j, "GFLOPS", gf);
            if (peak > 0) lb_json_set_num(j, "pct_fma_peak", 100 * gf / peak);
            bench_json_add(r, j);
        }
        nn_model_free(m);
    }
}

/* ---- the section ---- */

void bench_pipelines(bench_run *r) {
    const pipe_cfg cfg = pipe_config(r->opt);
    bool header = false;
    /* PyTorch takes seconds to start: only when a training or inference pipeline is wanted */
    bool any_nn = false;
    const int batch = r->opt->pipe_batch > 0 ? r->opt->pipe_batch : PIPE_BATCH_DEFAULT;
    for (size_t ji = 0; ji < sizeof nn_jobs / sizeof nn_jobs[0]; ji++)
        for (int ti = 0; ti < r->opt->n_threads; ti++) {
            char name[160];
            snprintf(name, sizeof name, "pipeline/%s/%s/%dx%d/mb%d/threads:%d", nn_jobs[ji].train ? "train" : "infer",
                     nn_jobs[ji].net, nn_jobs[ji].h, nn_jobs[ji].w, nn_jobs[ji].train ? batch : cfg.infer_batch,
                     r->opt->threads[ti]);
            any_nn |= (!r->opt->quick || nn_jobs[ji].quick) && bench_wanted(r, name, "pipeline");
        }
    torch_proc t;
    memset(&t, 0, sizeof t);
    if (any_nn) torch_open(&t);
    for (size_t ji = 0; ji < sizeof nn_jobs / sizeof nn_jobs[0]; ji++) {
        double first_t = 0;
        for (int ti = 0; ti < r->opt->n_threads; ti++)
            pipe_nn_job_run(r, &cfg, &t, &nn_jobs[ji], r->opt->threads[ti], &first_t, &header);
    }
    torch_close(&t);
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

/* latbench bench: every conv/pool layer of the chosen networks on each lattice, batch and thread
 * count, ours vs oneDNN (best layout with its halo copy and reorders shown separately, and plain
 * nhwc), plus the conv chain of task1-eq; a table on stdout and google-benchmark-style JSON. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "harness/bench/bench.h"
#include "harness/io/atomic.h"
#include "harness/bench/gbench_kernels.h"
#include "harness/nn/layer_desc.h"
#include "harness/bench/peak.h"
#include "harness/cli/cli.h"
#include "harness/nn/netspec.h"
#include "harness/nn/parallel.h"
#include "harness/io/outdir.h"
#include "harness/bench/build_info.h"
#include "harness/bench/bandwidth.h"
#include "harness/problems/lists.h"
#include "harness/problems/problem.h"
#include "harness/verify/verify_ops.h"

static const char *const default_nets[] = {"task1-eq", "task1-st", "task3-eq1"};

static void usage(FILE *f) {
    fprintf(f,
            "usage: latbench bench [--quick] [--filter SUBSTR | --desc NAME] [--threads LIST] [--batch LIST] [--lattice LIST]\n"
            "                      [--nets LIST] [--reps N] [--baseline onednn|none] [--scalar] [--json FILE | --no-json]\n"
            "  Times the conv and pool layers of the networks (default task1-eq,task1-st,task3-eq1) on each\n"
            "  lattice (default 8x8,64x64), batch (default 1,32,256) and thread count (default 1,2, capped at\n"
            "  the core count): ours vs oneDNN, and the task1-eq conv chain (fwd+bwd, 8x8, batch 32).\n"
            "  --quick: 8x8, batches 1,32, 7 repetitions (what `make run` calls).  --filter matches the\n"
            "  problem name (conv2d_fwd/mb32_...) or the layer label (task1-st:conv4).  --scalar also times the\n"
            "  scalar reference (column r_scl = ours / scalar).  Results go to --json FILE, by default to\n"
            "  results/<machine>/runs/bench-<date>-<time>.json (google-benchmark-style JSON with the context).\n"
            "  --desc NAME: only that conv2d or pool problem, any shape (conv2d/mb1_ic3oc5_ih9iw9_kh3kw3_sh1sw1_b1:\n"
            "  its three passes; conv2d_fwd/...: that pass), on each --threads count; the name fixes the shape.\n"
            "  --pipelines: only the pipeline section (training/inference vs PyTorch, worm generation vs scalar,\n"
            "  evaluation); --no-pipelines skips it; --pipeline-batch N (default 128).\n"
            "  latbench bench --gbench [--threads LIST] [--benchmark_* flags]: every kernel variant and oneDNN\n"
            "  through google-benchmark (latbench bench --gbench --help).\n");
}

/* ---- problems ---- */

static void print_header(FILE *f); /* the table (below, with the reporter) */

typedef struct {
    bool is_pool;
    conv2d_desc conv;
    pool_desc pool;
    char desc[96];
    char layers[160];
} bench_problem;

#define MAX_PROBLEMS 64

static void add_label(bench_problem *p, const char *label) {
    size_t n = strlen(p->layers);
    snprintf(p->layers + n, sizeof p->layers - n, "%s%s", n ? " " : "", label);
}

/* The conv and pool layers of the networks on an h x w lattice at this batch, duplicates merged. */
static int collect_problems(bench_run *r, int h, int w, int batch, bench_problem *out) {
    int n = 0;
    for (int ni = 0; ni < r->opt->n_nets; ni++) {
        const char *net = r->opt->nets[ni];
        net_spec spec;
        act_shape shapes[NETSPEC_MAX_LAYERS + 1];
        char err[160];
        if (!netspec_parse(netspec_preset(net), &spec, err, sizeof err) || !netspec_shapes(&spec, h, w, shapes, err, sizeof err)) {
            fprintf(r->out, "%s on %dx%d: skipped: %s\n", net, h, w, err);
            continue;
        }
        int nconv = 0, npool = 0;
        for (int i = 0; i < spec.n_layers; i++) {
            const layer_spec *l = &spec.layers[i];
            bench_problem p;
            char label[64];
            memset(&p, 0, sizeof p);
            if (l->kind == LAYER_CONV) {
                p.conv = layer_conv_desc(l, shapes[i], batch);
                conv2d_desc_str(&p.conv, p.desc, sizeof p.desc);
                snprintf(label, sizeof label, "%s:conv%d", net, ++nconv);
            } else if (l->kind == LAYER_AVGPOOL || l->kind == LAYER_MAXPOOL) {
                p.is_pool = true;
                p.pool = layer_pool_desc(l, shapes[i], batch);
                pool_desc_str(&p.pool, p.desc, sizeof p.desc);
                snprintf(label, sizeof label, "%s:%s%d", net, l->kind == LAYER_MAXPOOL ? "maxpool" : "avgpool", ++npool);
            } else {
                continue;
            }
            int k;
            for (k = 0; k < n; k++)
                if (out[k].is_pool == p.is_pool && !strcmp(out[k].desc, p.desc) &&
                    (p.is_pool ? !memcmp(&out[k].pool, &p.pool, sizeof p.pool) : !memcmp(&out[k].conv, &p.conv, sizeof p.conv)))
                    break;
            if (k == n) {
                if (n == MAX_PROBLEMS) continue;
                out[n++] = p;
            }
            add_label(&out[k], label);
        }
    }
    return n;
}

/* The problem --desc names, as collect_problems would have made it; sel->filter then selects its
 * pass when one is named.  Only conv2d and pool problems are timed per layer. */
static bool desc_problem(const char *name, bench_problem *out, lb_problem_sel *sel, char *err, size_t len) {
    lb_problem p;
    if (!lb_problem_parse(name, &p, sel, err, len)) return false;
    memset(out, 0, sizeof *out);
    if (p.kind == LB_PROB_CONV2D) {
        out->conv = p.u.conv;
        conv2d_desc_str(&out->conv, out->desc, sizeof out->desc);
    } else if (p.kind == LB_PROB_POOL) {
        out->is_pool = true;
        out->pool = p.u.pool;
        pool_desc_str(&out->pool, out->desc, sizeof out->desc);
    } else {
        snprintf(err, len, "'%.100s': bench times conv2d and pool problems (verify checks every kind)", name);
        return false;
    }
    if (strchr(strchr(name, '/') + 1, '/')) {
        snprintf(err, len, "'%.100s': bench times every variant of a pass; name the problem or the pass, not a variant", name);
        return false;
    }
    snprintf(out->layers, sizeof out->layers, "--desc");
    return true;
}

/* Times the passes of one problem that the filter selects, on every thread count; prints the
 * section header before the first row.  Returns whether a batch smaller than a thread count ran. */
static bool bench_problem_passes(bench_run *r, const bench_problem *p, int h, int w, int batch, bool *header) {
    bool unsplit = false;
    int npass = p->is_pool ? 2 : 3;
    for (int pass = 0; pass < npass; pass++) {
        static const char *conv_ops[] = {"conv2d_fwd", "conv2d_bwd_data", "conv2d_bwd_weights"};
        static const char *pool_ops_[] = {"pool_fwd", "pool_bwd"};
        char name[128];
        snprintf(name, sizeof name, "%s/%s", p->is_pool ? pool_ops_[pass] : conv_ops[pass], p->desc);
        if (!bench_wanted(r, name, p->layers)) continue;
        if (!*header) {
            fprintf(r->out, "\n== lattice %dx%d, batch %d\n", h, w, batch);
            print_header(r->out);
            *header = true;
        }
        for (int ti = 0; ti < r->opt->n_threads; ti++) unsplit |= nn_batch_parts(r->opt->threads[ti], batch) < r->opt->threads[ti];
        if (p->is_pool) bench_pool_problem(r, &p->pool, pass, name, p->layers);
        else bench_conv_problem(r, &p->conv, (lb_pass)pass, name, p->layers);
    }
    return unsplit;
}

/* ---- options ---- */

#define BENCH_MAX_BATCH_SITES (1 << 24)

/* Splits a comma list of preset names in place (the strings point into buf). */
static bool parse_net_list(char *buf, bench_opts *o, const char **bad) {
    o->n_nets = 0;
    if (lb_list_has_empty_item(buf)) {
        *bad = "(an empty item)";
        return false;
    }
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!netspec_preset(tok)) {
            *bad = tok;
            return false;
        }
        if (o->n_nets == BENCH_MAX_LIST) return false;
        o->nets[o->n_nets++] = tok;
    }
    return o->n_nets > 0;
}

#define BAD(...)                                      \
    do {                                              \
        fprintf(stderr, "latbench bench: " __VA_ARGS__); \
        fputc('\n', stderr);                          \
        return 2;                                     \
    } while (0)

/* Returns 0 to go on, 1 when help was printed, 2 on a bad option. */
static int parse_opts(int argc, char **argv, bench_opts *o, char *nets_buf, size_t nets_len, int cores) {
    memset(o, 0, sizeof *o);
    bool set_threads = false, set_batch = false, set_lattice = false, set_reps = false;
    int reps = 0;
    o->onednn = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--quick")) {
            o->quick = true;
        } else if (!strcmp(a, "--scalar")) {
            o->scalar = true;
        } else if (!strcmp(a, "--no-json")) {
            o->no_json = true;
        } else if (!strcmp(a, "--filter") || !strcmp(a, "--desc") || !strcmp(a, "--threads") || !strcmp(a, "--batch") || !strcmp(a, "--lattice") ||
                   !strcmp(a, "--reps") || !strcmp(a, "--json") || !strcmp(a, "--baseline") || !strcmp(a, "--nets")) {
            if (!has_value) BAD("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--filter")) {
                o->filter = v;
            } else if (!strcmp(a, "--desc")) {
                o->desc = v;
            } else if (!strcmp(a, "--threads")) {
                if (!lb_parse_int_list(v, 1, 1024, BENCH_MAX_LIST, o->threads, &o->n_threads)) BAD("--threads: '%s' is not a list of thread counts (1..1024)", v);
                set_threads = true;
            } else if (!strcmp(a, "--batch")) {
                if (!lb_parse_int_list(v, 1, 1 << 16, BENCH_MAX_LIST, o->batches, &o->n_batches)) BAD("--batch: '%s' is not a list of batch sizes (1..65536)", v);
                set_batch = true;
            } else if (!strcmp(a, "--lattice")) {
                if (!lb_parse_lattice_list(v, BENCH_MAX_LIST, o->lat_h, o->lat_w, &o->n_lattices)) BAD("--lattice: '%s' is not a list of NTxNX lattices (e.g. 8x8,64x64)", v);
                set_lattice = true;
            } else if (!strcmp(a, "--reps")) {
                if (!lb_parse_int_in(v, 1, 10000, &reps)) BAD("--reps: '%s' is not a repetition count (1..10000)", v);
                set_reps = true;
            } else if (!strcmp(a, "--json")) {
                /* "--json --quick" wrote a file named --quick */
                if (!*v || *v == '-') BAD("--json needs a file name (got '%s')", v);
                char why[512];
                if (!lb_atomic_check_target(v, why, sizeof why)) BAD("--json: %s", why);
                o->json_path = v;
            } else if (!strcmp(a, "--baseline")) {
                if (!strcmp(v, "onednn")) o->onednn = true;
                else if (!strcmp(v, "none")) o->onednn = false;
                else BAD("--baseline: '%s' is not one of onednn, none", v);
            } else {
                const char *bad = NULL;
                if (strlen(v) >= nets_len) BAD("--nets: list too long");
                strcpy(nets_buf, v);
                if (!parse_net_list(nets_buf, o, &bad)) BAD("--nets: '%s' is not a network preset (see latbench model)", bad ? bad : v);
            }
        /* ---- pipelines (bench_pipeline.c): --pipelines (only them, unless --filter says otherwise),
         * --no-pipelines, --pipeline-batch N ---- */
        } else if (!strcmp(a, "--pipelines")) {
            o->pipelines = 1;
            if (!o->filter) o->filter = "pipeline/";
        } else if (!strcmp(a, "--no-pipelines")) {
            o->pipelines = -1;
        } else if (!strcmp(a, "--pipeline-batch")) {
            if (!has_value || !lb_parse_int_in(argv[++i], 1, 1 << 14, &o->pipe_batch))
                BAD("--pipeline-batch needs a batch size (1..16384)");
        /* ---- end pipelines ---- */
        } else {
            BAD("unknown option '%s' (try latbench bench --help)", a);
        }
    }
    if (o->desc) {
        bench_problem p;
        lb_problem_sel sel;
        char err[256];
        if (o->pipelines > 0) BAD("--desc and --pipelines do not go together (--desc names one problem)");
        if (o->filter) BAD("--desc and --filter do not go together (--desc names one problem)");
        if (set_batch || set_lattice || o->n_nets) BAD("--desc fixes the shape: no --batch, --lattice or --nets with it");
        if (!desc_problem(o->desc, &p, &sel, err, sizeof err)) BAD("--desc %s", err);
        if (!sel.whole) o->filter = o->desc; /* one pass: bench_wanted selects it */
    }
    if (!set_threads) {
        int defaults[2] = {1, 2};
        for (int i = 0; i < 2; i++)
            if (defaults[i] <= cores || i == 0) o->threads[o->n_threads++] = defaults[i];
    }
    if (!set_batch) {
        int q[2] = {1, 32}, f[3] = {1, 32, 256};
        o->n_batches = o->quick ? 2 : 3;
        memcpy(o->batches, o->quick ? q : f, sizeof(int) * o->n_batches);
    }
    if (!set_lattice) {
        o->n_lattices = o->quick ? 1 : 2;
        o->lat_h[0] = o->lat_w[0] = 8;
        o->lat_h[1] = o->lat_w[1] = 64;
    }
    /* every layer's buffers are batch x channels x NT x NX floats (in size_t there): bound the
     * samples x sites so that the largest (64 channels) stays within 4 GiB */
    for (int li = 0; li < o->n_lattices; li++)
        for (int bi = 0; bi < o->n_batches; bi++) {
            const int64_t sites = (int64_t)o->batches[bi] * o->lat_h[li] * o->lat_w[li];
            if (sites > BENCH_MAX_BATCH_SITES)
                BAD("--batch %d on lattice %dx%d is %lld sample sites, more than %d (the layer buffers would not fit)",
                    o->batches[bi], o->lat_h[li], o->lat_w[li], (long long)sites, BENCH_MAX_BATCH_SITES);
        }
    if (!o->n_nets) {
        o->n_nets = (int)(sizeof default_nets / sizeof default_nets[0]);
        for (int i = 0; i < o->n_nets; i++) o->nets[i] = default_nets[i];
    }
    o->chain_net = "task1-eq";
    o->chain_h = o->chain_w = 8;
    o->chain_batch = 32;
    o->timing.reps = set_reps ? reps : o->quick ? 7 : 11;
    /* --reps N: exactly N (however slow); by default slow problems get fewer, but at least 3 */
    o->timing.min_reps = set_reps ? reps : o->timing.reps < 3 ? o->timing.reps : 3;
    o->timing.rep_s = o->quick ? 1e-3 : 2e-3;
    /* slow problems (64x64, batch 256) get min_reps: the full run stays within minutes */
    o->timing.budget_s = o->quick ? 0.05 : 0.4;
    o->timing.drop_factor = 8;
    if (set_reps && o->timing.budget_s < reps * o->timing.rep_s) o->timing.budget_s = reps * o->timing.rep_s;
    return 0;
}

/* ---- shared helpers (bench.h) ---- */

float *bench_alloc_filled(size_t n, unsigned seed) {
    void *p = NULL;
    size_t bytes = (n ? n : 1) * sizeof(float);
    bytes = (bytes + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    float *x = p;
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
    return x;
}

bool bench_wanted(const bench_run *r, const char *name, const char *layers) {
    const char *f = r->opt->filter;
    return !f || strstr(name, f) || (layers && strstr(layers, f));
}

long bench_counter_calls(const bench_seq_result *res) {
    long calls = res->calls > 0 ? res->calls : 1;
    double t = res->total.median;
    if (t > 0 && calls * t < 5e-3) calls = (long)ceil(5e-3 / t);
    return calls;
}

void bench_seq_run_once(void *seq) {
    const bench_seq *s = seq;
    for (int k = 0; k < s->n_steps; k++) s->steps[k].fn(s->steps[k].ctx);
}

void bench_count_calls(bench_run *r, const char *name, int threads, void (*fn)(void *), void *ctx, long calls,
                       lb_counter_values *out) {
    lb_region_begin(name, threads);
    lb_counters_start(&r->ctr);
    for (long c = 0; c < calls; c++) fn(ctx);
    lb_counters_stop(&r->ctr);
    lb_region_end(name, threads);
    lb_counters_read(&r->ctr, out);
}

/* The scalar reference of an op: the row of its enumerator with ISA scalar (always compiled in). */
#define SCALAR_OF(OP)                                   \
    const OP##_ops *bench_scalar_##OP(void) {           \
        int n;                                          \
        const OP##_ops *v = lb_##OP##_variants(&n);     \
        for (int i = 0; i < n; i++)                     \
            if (v[i].isa == LB_ISA_SCALAR) return &v[i]; \
        return NULL;                                    \
    }
SCALAR_OF(conv2d)
SCALAR_OF(pool)

double bench_peak_for(const bench_run *r, lb_isa isa, int threads) {
    lb_isa p = bench_peak_isa_for(&r->disp->cpu, isa);
    for (int i = 0; i < r->opt->n_threads; i++)
        if (r->opt->threads[i] == threads) return r->peak[p][i];
    return 0;
}

static double kind_or_zero(const bench_seq_result *s, bench_step_kind k) {
    return s && s->has_kind[k] ? s->kind[k].median : 0;
}

/* oneDNN's best: fastest whole path (with copies), and fastest compute alone. */
static void onednn_best(const bench_measure *m, double *all, const char **path, double *compute) {
    *all = INFINITY;
    *compute = INFINITY;
    *path = NULL;
    if (m->any) {
        *all = m->any->total.median;
        *path = "any";
        *compute = kind_or_zero(m->any, STEP_COMPUTE);
    }
    if (m->plain) {
        if (m->plain->total.median < *all) {
            *all = m->plain->total.median;
            *path = "nhwc";
        }
        double c = kind_or_zero(m->plain, STEP_COMPUTE);
        if (c < *compute) *compute = c;
    }
}

/* The fastest single repetition of any oneDNN path (with its copies). */
static double onednn_best_min(const bench_measure *m) {
    double best = INFINITY;
    if (m->any && m->any->total.min < best) best = m->any->total.min;
    if (m->plain && m->plain->total.min < best) best = m->plain->total.min;
    return best;
}

static const char *kind_name(bench_step_kind k) {
    switch (k) {
    case STEP_COMPUTE: return "compute";
    case STEP_HALO: return "halo";
    case STEP_REORDER: return "reorder";
    default: return "other";
    }
}

void bench_json_time_stats(json_writer *j, const bench_stats *s) {
    json_num(j, "real_time", s->median * 1e9);
    json_num(j, "cpu_time", s->median * 1e9);   /* wall time: the harness does not measure CPU time */
    json_str(j, "time_unit", "ns");
    json_num(j, "min_time", s->min * 1e9);
    json_num(j, "max_time", s->max * 1e9);
    json_num(j, "q1_time", s->q1 * 1e9);
    json_num(j, "q3_time", s->q3 * 1e9);
}

void bench_json_samples(json_writer *j, const char *key, const double *sec, int n) {
    json_begin_array(j, key);
    for (int i = 0; i < n; i++) json_num(j, NULL, sec[i] * 1e9);
    json_end_array(j);
}

static void json_record(bench_run *r, const bench_measure *m, const char *who, const bench_seq *seq,
                        const bench_seq_result *res, double peak) {
    json_writer *j = &r->json;
    char name[192];
    snprintf(name, sizeof name, "%s/%s/threads:%d", m->name, who, m->threads);
    json_begin_object(j, NULL);
    json_str(j, "name", name);
    json_str(j, "run_name", name);
    json_str(j, "run_type", "aggregate");
    json_str(j, "aggregate_name", "median");
    json_int(j, "repetitions", res->reps);
    json_int(j, "iterations", res->calls);
    json_int(j, "threads", m->threads);
    bench_json_time_stats(j, &res->total);
    bench_json_samples(j, "samples", res->samples, res->n_samples);
    json_str(j, "problem", m->name);
    json_str(j, "op", m->op);
    json_str(j, "pass", m->pass);
    json_str(j, "layers", m->layers);
    json_str(j, "impl", who);
    json_num(j, "flops", m->flops);
    json_num(j, "bytes", m->bytes);
    double t = res->total.median;
    json_num(j, "GFLOPS", m->flops / t * 1e-9);
    json_num(j, "GBps", m->bytes / t * 1e-9);
    if (m->fma_bound && peak > 0) json_num(j, "pct_fma_peak", 100 * m->flops / t * 1e-9 / peak);
    if (!strcmp(who, "ours")) {
        json_str(j, "variant", m->variant);
        json_str(j, "isa", lb_isa_name(m->isa));
        json_int(j, "threads_used", m->threads_ours);
        json_bool(j, "contended", m->ours_time_first_threads > 0 && t > 3 * m->ours_time_first_threads);
        double all, compute;
        const char *path;
        onednn_best(m, &all, &path, &compute);
        if (path) {
            json_str(j, "onednn_best_path", path);
            json_num(j, "onednn_best_time", all * 1e9);
            json_num(j, "onednn_best_compute_time", compute * 1e9);
            json_num(j, "ratio_vs_onednn", t / all);
            json_num(j, "ratio_vs_onednn_compute", t / compute);
            json_num(j, "ratio_vs_onednn_min", res->total.min / onednn_best_min(m));
        }
        if (m->scalar) json_num(j, "ratio_vs_scalar", t / m->scalar->total.median);
        if (m->counter_calls > 0) {
            json_int(j, "counter_calls", m->counter_calls);
            lb_counters_json(j, "counters", &m->counters);
        }
    } else if (!strcmp(who, "scalar")) {
        json_str(j, "variant", m->seq_scalar->steps[0].name);
        json_str(j, "isa", "scalar");
        json_int(j, "threads_used", m->threads_ours);
    } else {
        json_str(j, "onednn_impl", !strcmp(who, "onednn_nhwc") ? m->impl_plain : m->impl_any);
        if (!strcmp(who, "onednn_any") && m->layouts_any) json_str(j, "onednn_layouts", m->layouts_any);
        json_int(j, "threads_used", m->threads);
    }
    for (int k = 0; k < STEP_N_KINDS; k++)
        if (res->has_kind[k]) {
            char key[32];
            snprintf(key, sizeof key, "%s_time", kind_name((bench_step_kind)k));
            json_num(j, key, res->kind[k].median * 1e9);
        }
    if (seq->n_steps > 1) {
        json_begin_array(j, "steps");
        for (int k = 0; k < seq->n_steps; k++) {
            json_begin_object(j, NULL);
            json_str(j, "name", seq->steps[k].name);
            json_str(j, "kind", kind_name(seq->steps[k].kind));
            json_num(j, "median_time", res->step[k].median * 1e9);
            json_num(j, "min_time", res->step[k].min * 1e9);
            json_num(j, "max_time", res->step[k].max * 1e9);
            json_end_object(j);
        }
        json_end_array(j);
    }
    json_end_object(j);
}

#define ROW_FMT "%-60s %4s %10s %4s %8s %6s | %10s %9s %9s %10s | %6s %6s %6s %6s | %-34s | %s\n"

static void print_header(FILE *f) {
    fprintf(f, ROW_FMT, "problem", "thr", "ours_us", "+-%", "GFLOP/s", "%peak", "dnnl_us", "+halo_us", "+reord_us", "nhwc_us",
            "r_all", "r_cmp", "r_min", "r_scl", "ctr (ours)", "oneDNN impl (best layout)");
}

static void fmt_us(char *buf, size_t len, double s) {
    if (s <= 0 || !isfinite(s)) snprintf(buf, len, "-");
    else snprintf(buf, len, "%.2f", s * 1e6);
}

void bench_report(bench_run *r, const bench_measure *m) {
    double t = m->ours->total.median;
    double gf = m->flops / t * 1e-9;
    double peak = bench_peak_for(r, m->isa, m->threads);
    char thr[16], ours[24], spread[16], gfs[24], pct[16], dnnl[24], halo[24], reord[24], nhwc[24], rall[16], rcmp[16], rmin[16], rscl[16];
    /* More threads taking 3x longer than fewer: a thread waited for a core (shared machine) */
    bool contended = m->ours_time_first_threads > 0 && t > 3 * m->ours_time_first_threads;
    r->any_contended |= contended;
    snprintf(thr, sizeof thr, "%d%s%s", m->threads, m->threads_ours < m->threads ? "*" : "", contended ? "!" : "");
    fmt_us(ours, sizeof ours, t);
    /* half the interquartile range, relative: how much the repetitions disagreed */
    snprintf(spread, sizeof spread, "%.0f", t > 0 ? 50 * (m->ours->total.q3 - m->ours->total.q1) / t : 0);
    snprintf(gfs, sizeof gfs, "%.2f", gf);
    if (m->fma_bound && peak > 0) snprintf(pct, sizeof pct, "%.1f", 100 * gf / peak);
    else snprintf(pct, sizeof pct, "-");
    fmt_us(dnnl, sizeof dnnl, kind_or_zero(m->any, STEP_COMPUTE));
    fmt_us(halo, sizeof halo, kind_or_zero(m->any, STEP_HALO));
    fmt_us(reord, sizeof reord, kind_or_zero(m->any, STEP_REORDER));
    fmt_us(nhwc, sizeof nhwc, kind_or_zero(m->plain, STEP_COMPUTE));
    /* '^': a path timed once only, being many times slower than the fastest (timing.h) */
    if (m->any && m->any->reps == 1 && r->opt->timing.reps > 1) strcat(dnnl, "^");
    if (m->plain && m->plain->reps == 1 && r->opt->timing.reps > 1) strcat(nhwc, "^");
    r->any_lone |= (m->any && m->any->reps == 1) || (m->plain && m->plain->reps == 1);
    double all, compute;
    const char *path;
    onednn_best(m, &all, &path, &compute);
    if (path) {
        snprintf(rall, sizeof rall, "%.2f", t / all);
        snprintf(rcmp, sizeof rcmp, "%.2f", t / compute);
        snprintf(rmin, sizeof rmin, "%.2f", m->ours->total.min / onednn_best_min(m));
    } else {
        snprintf(rall, sizeof rall, "-");
        snprintf(rcmp, sizeof rcmp, "-");
        snprintf(rmin, sizeof rmin, "-");
    }
    if (m->scalar) snprintf(rscl, sizeof rscl, "%.3f", t / m->scalar->total.median);
    else snprintf(rscl, sizeof rscl, "-");
    char impl[160];
    if (path && !strcmp(path, "nhwc"))
        snprintf(impl, sizeof impl, "%s; nhwc path faster: %s", m->impl_any ? m->impl_any : "-", m->impl_plain ? m->impl_plain : "-");
    else
        snprintf(impl, sizeof impl, "%s", m->impl_any ? m->impl_any : "-");
    char ctr[96] = "-";
    if (m->counter_calls > 0) lb_counters_format(&m->counters, ctr, sizeof ctr);
    fprintf(r->out, ROW_FMT, m->name, thr, ours, spread, gfs, pct, dnnl, halo, reord, nhwc, rall, rcmp, rmin, rscl, ctr, impl);
    if (!strcmp(m->op, "chain")) {
        /* where the chain's time goes, per kind of step */
        for (int s = 0; s < 2; s++) {
            const bench_seq_result *res = s == 0 ? m->ours : m->any;
            if (!res) continue;
            fprintf(r->out, "    %-11s total %9.2f us:", s == 0 ? "ours" : "oneDNN any", res->total.median * 1e6);
            for (int k = 0; k < STEP_N_KINDS; k++)
                if (res->has_kind[k]) fprintf(r->out, "  %s %.2f", kind_name((bench_step_kind)k), res->kind[k].median * 1e6);
            fprintf(r->out, "  (%d steps)\n", (s == 0 ? m->seq_ours : m->seq_any)->n_steps);
        }
    }
    fflush(r->out);
    r->n_rows++;
    if (r->json_on) {
        json_record(r, m, "ours", m->seq_ours, m->ours, peak);
        if (m->any) json_record(r, m, "onednn_any", m->seq_any, m->any, peak);
        if (m->plain) json_record(r, m, "onednn_nhwc", m->seq_plain, m->plain, peak);
        if (m->scalar) json_record(r, m, "scalar", m->seq_scalar, m->scalar, bench_peak_for(r, LB_ISA_SCALAR, m->threads));
    }
    if (r->on_measure) r->on_measure(r, m);
}

/* ---- context ---- */


static void measure_peaks(bench_run *r) {
    memset(r->peak, 0, sizeof r->peak);
    for (int isa = LB_ISA_AVX2; isa <= LB_ISA_NEON; isa++)
        if (lb_cpu_supports(&r->disp->cpu, (lb_isa)isa) && bench_fma_loop_flops((lb_isa)isa) != 0)
            bench_peak_sweep(&r->disp->cpu, (lb_isa)isa, r->opt->threads, r->opt->n_threads, r->mach.cores, r->peak[isa]);
}

static void print_context(bench_run *r, const char *dnnl_ver) {
    const bench_opts *o = r->opt;
    const bench_machine *m = &r->mach;
    FILE *f = r->out;
    fprintf(f, "machine   %s%s%s%s, %d package(s), %d cores, %d PUs (slug %s)\n", m->model, m->uarch[0] ? " (" : "", m->uarch,
            m->uarch[0] ? ")" : "", m->packages, m->cores, m->pus, m->slug);
    fprintf(f, "features  %s\n", m->features);
    fprintf(f, "dispatch  conv2d %s, pool %s (cap %s%s)\n", r->disp->conv2d->name, r->disp->pool->name, lb_isa_name(r->disp->cap),
            getenv("LATBENCH_ISA") && *getenv("LATBENCH_ISA") ? ", from LATBENCH_ISA" : "");
    fprintf(f, "software  compiler %s; oneDNN %s (%s runtime, ISA %s)%s\n", lb_build_compiler(), dnnl_ver, odnn_runtime_name(),
            odnn_effective_isa_name(), r->have_onednn ? "" : " - baseline off");
    fprintf(f, "FMA peak ");
    bool low = false;
    for (int isa = LB_ISA_AVX2; isa <= LB_ISA_NEON; isa++) {
        if (r->peak[isa][0] <= 0) continue;
        fprintf(f, "  %s:", lb_isa_name((lb_isa)isa));
        for (int i = 0; i < o->n_threads; i++) {
            fprintf(f, " %.1f GFLOP/s @%d thr%s", r->peak[isa][i], o->threads[i], i + 1 < o->n_threads ? "," : "");
            /* t threads on t free cores reach ~t times one thread's peak */
            low |= o->threads[i] <= m->cores && r->peak[isa][i] < 0.85 * o->threads[i] * r->peak[isa][0] / o->threads[0];
        }
    }
    if (low) fprintf(f, "\n          (a multi-thread peak is well below the single-thread one times the threads: the cores were busy)");
    if (r->stream_gbps[0] > 0) {
        fprintf(f, "\nmemory    STREAM triad");
        for (int i = 0; i < o->n_threads; i++) fprintf(f, " %.1f GB/s @%d thr%s", r->stream_gbps[i], o->threads[i], i + 1 < o->n_threads ? "," : "");
        fprintf(f, " (harness/bench/bandwidth.h; the roofline's slope); in L2");
        for (int i = 0; i < o->n_threads; i++) fprintf(f, " %.1f GB/s @%d thr%s", r->l2_gbps[i], o->threads[i], i + 1 < o->n_threads ? "," : "");
    }
    char topo[512];
    lb_topology_format(&r->topo, topo, sizeof topo);
    fprintf(f, "\ntopology  %s", topo);
    fprintf(f, "\npinning   policy %s: %s", lb_pin_policy_name(LB_PIN_DEFAULT), r->pin_desc);
    fprintf(f, "\ncounters  %s%s%s\n          (column ctr: ours over one more repetition's calls; likwid markers %s)",
            lb_counter_backend_name(r->ctr.backend), r->ctr.reason[0] ? ": " : "", r->ctr.reason,
            LB_LIKWID_BUILT ? "built in" : "not built (make LIKWID=1)");
    if (r->ctr.note[0]) fprintf(f, "\n          note: %s", r->ctr.note);
    fprintf(f, "\ntiming    median over repetitions (up to %d, at least %d; each >= %.0f ms), ours and oneDNN interleaved; times in us per call\n",
            o->timing.reps, o->timing.min_reps, o->timing.rep_s * 1e3);
    fprintf(f, "columns   dnnl_us: oneDNN compute in its best layout (format_tag_any); +halo_us: its circular-halo copy\n"
               "          (fold-back for bwd_data); +reord_us: its reorders from/to NHWC/HWIO; nhwc_us: oneDNN compute on\n"
               "          plain nhwc/hwio; r_all = ours / fastest oneDNN path with its copies; r_cmp = ours / fastest\n"
               "          oneDNN compute alone (< 1: ours faster); r_min: the same as r_all on the fastest repetitions\n"
               "          (noise only adds time); +-%%: half the interquartile range of ours, relative; %%peak: of the\n"
               "          FMA peak at that thread count\n");
    if (r->loadavg[0] > 0.5)
        fprintf(f, "load      %.2f %.2f %.2f (1/5/15 min) before the run: other work shares the cores, expect noise\n",
                r->loadavg[0], r->loadavg[1], r->loadavg[2]);
}

static void json_context(bench_run *r, const char *dnnl_ver) {
    const bench_opts *o = r->opt;
    json_writer *j = &r->json;
    char date[64], host[128] = "";
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", &tm);
    gethostname(host, sizeof host - 1);
    json_begin_object(j, "context");
    json_str(j, "date", date);
    json_str(j, "host_name", host);
    json_str(j, "executable", "latbench bench");
    json_int(j, "num_cpus", r->mach.pus);
    json_str(j, "library_build_type",
#ifdef __OPTIMIZE__
             "release"
#else
             "debug"
#endif
    );
    json_str(j, "cpu_model", r->mach.model);
    json_str(j, "cpu_vendor", r->disp->cpu.vendor);
    json_str(j, "cpu_uarch", r->mach.uarch);
    json_int(j, "cpu_family", r->mach.family);
    json_int(j, "cpu_model_id", r->mach.model_id);
    json_str(j, "machine_slug", r->mach.slug);
    json_int(j, "packages", r->mach.packages);
    json_int(j, "cores", r->mach.cores);
    json_int(j, "pus", r->mach.pus);
    json_str(j, "isa_features", r->mach.features);
    json_str(j, "isa_cap", lb_isa_name(r->disp->cap));
    json_begin_object(j, "dispatch");
    json_str(j, "conv2d", r->disp->conv2d->name);
    json_str(j, "pool", r->disp->pool->name);
    json_end_object(j);
    json_begin_array(j, "threads");
    for (int i = 0; i < o->n_threads; i++) json_int(j, NULL, o->threads[i]);
    json_end_array(j);
    json_begin_array(j, "load_avg");
    for (int i = 0; i < 3; i++) json_num(j, NULL, r->loadavg[i]);
    json_end_array(j);
    lb_topology_json(j, "topology", &r->topo);
    json_str(j, "pin_policy", lb_pin_policy_name(LB_PIN_DEFAULT));
    json_str(j, "pinning", r->pin_desc);
    json_str(j, "counter_backend", lb_counter_backend_name(r->ctr.backend));
    json_str(j, "counter_reason", r->ctr.reason[0] ? r->ctr.reason : NULL);
    json_str(j, "counter_note", r->ctr.note[0] ? r->ctr.note : NULL);
    json_bool(j, "likwid_markers", LB_LIKWID_BUILT);
    json_str(j, "omp_proc_bind", getenv("OMP_PROC_BIND"));
    json_str(j, "omp_places", getenv("OMP_PLACES"));
    json_str(j, "compiler", lb_build_compiler());
    json_str(j, "compiler_flags", lb_build_flags());
    json_str(j, "git_commit", lb_build_commit());
    json_str(j, "onednn_version", dnnl_ver);
    json_str(j, "onednn_cpu_runtime", odnn_runtime_name());
    json_str(j, "onednn_cpu_isa", odnn_effective_isa_name());
    json_bool(j, "onednn_baseline", r->have_onednn);
    json_begin_object(j, "fma_peak_gflops");
    for (int isa = LB_ISA_AVX2; isa <= LB_ISA_NEON; isa++) {
        if (r->peak[isa][0] <= 0) continue;
        json_begin_object(j, lb_isa_name((lb_isa)isa));
        for (int i = 0; i < o->n_threads; i++) {
            char key[16];
            snprintf(key, sizeof key, "%d", o->threads[i]);
            json_num(j, key, r->peak[isa][i]);
        }
        json_end_object(j);
    }
    json_end_object(j);
    if (r->stream_gbps[0] > 0) {
        json_begin_object(j, "stream_gbps");
        for (int i = 0; i < o->n_threads; i++) {
            char key[16];
            snprintf(key, sizeof key, "%d", o->threads[i]);
            json_num(j, key, r->stream_gbps[i]);
        }
        json_end_object(j);
        json_begin_object(j, "l2_triad_gbps");
        for (int i = 0; i < o->n_threads; i++) {
            char key[16];
            snprintf(key, sizeof key, "%d", o->threads[i]);
            json_num(j, key, r->l2_gbps[i]);
        }
        json_end_object(j);
    }
    json_begin_object(j, "timing");
    json_str(j, "statistic", "median over repetitions of the per-call time; ours and oneDNN interleaved");
    json_int(j, "reps", o->timing.reps);
    json_int(j, "min_reps", o->timing.min_reps);
    json_num(j, "rep_seconds", o->timing.rep_s);
    json_num(j, "budget_seconds", o->timing.budget_s);
    json_end_object(j);
    json_bool(j, "quick", o->quick);
    json_begin_array(j, "nets");
    for (int i = 0; i < o->n_nets; i++) json_str(j, NULL, o->nets[i]);
    json_end_array(j);
    json_begin_array(j, "lattices");
    for (int i = 0; i < o->n_lattices; i++) {
        char s[32];
        snprintf(s, sizeof s, "%dx%d", o->lat_h[i], o->lat_w[i]);
        json_str(j, NULL, s);
    }
    json_end_array(j);
    json_begin_array(j, "batches");
    for (int i = 0; i < o->n_batches; i++) json_int(j, NULL, o->batches[i]);
    json_end_array(j);
    json_end_object(j);
}

/* The results store: results/<machine>/runs/<kind>-<date>-<time>-<microseconds>-<pid>.json (runs/ is
 * not tracked; copy a run up one level to commit it as reference data).  Two runs never pick the same
 * name (the pid), and the name is committed with RENAME_NOREPLACE (bench_run_open). */
static bool default_json_path(const bench_run *r, const char *kind, char *out, size_t len) {
    char date[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    strftime(date, sizeof date, "%Y%m%d-%H%M%S", &tm);
    char dir[512];
    snprintf(dir, sizeof dir, "results/%s/runs", r->mach.slug);
    if (!lb_mkdirs(dir)) {
        fprintf(stderr, "latbench %s: cannot create %s: %s (give --json FILE or --no-json)\n", kind, dir, strerror(errno));
        return false;
    }
    snprintf(out, len, "%s/%s-%s-%06ld-%ld.json", dir, kind, date, ts.tv_nsec / 1000, (long)getpid());
    return true;
}

int bench_run_open(bench_run *r, const bench_opts *opt, const char *kind) {
    r->opt = opt;
    if (!r->out) r->out = stdout;
    for (int i = 0; i < opt->n_threads; i++)
        if (opt->threads[i] > r->mach.cores)
            fprintf(stderr, "latbench %s: note: %d threads on %d cores oversubscribes the machine\n", kind, opt->threads[i], r->mach.cores);
    int json_flags = 0; /* --json FILE replaces FILE (atomically); the store never replaces a run */
    if (opt->json_path) {
        if (strlen(opt->json_path) >= sizeof r->json_path) {
            fprintf(stderr, "latbench %s: --json %.80s...: path too long (at most %zu bytes)\n", kind, opt->json_path,
                    sizeof r->json_path - 1);
            return 2;
        }
        snprintf(r->json_path, sizeof r->json_path, "%s", opt->json_path);
    } else if (!opt->no_json) {
        if (!default_json_path(r, kind, r->json_path, sizeof r->json_path)) return 1;
        json_flags = LB_ATOMIC_NOREPLACE;
    }
    if (r->json_path[0]) {
        r->json_file = json_file_open_tmp(r->json_path, &r->json_af, json_flags);
        if (!r->json_file) return 1;
        json_init(&r->json, r->json_file);
        r->json_on = true;
    }
    if (opt->onednn) odnn_match_isa(r->disp->cap);
    r->have_onednn = opt->onednn && odnn_env_init(&r->env);
    odnn_version_str(r->dnnl_ver, sizeof r->dnnl_ver);
    if (getloadavg(r->loadavg, 3) != 3) r->loadavg[0] = r->loadavg[1] = r->loadavg[2] = 0;
    r->t_start = bench_now();
    lb_topology_detect(&r->topo);
    int max_threads = 1;
    for (int i = 0; i < opt->n_threads; i++)
        if (opt->threads[i] > max_threads) max_threads = opt->threads[i];
    /* Pinned once for the largest team: libgomp keeps its pool threads, so thread i of every later,
     * smaller team is the same OS thread on the same core (topology.h). */
    lb_affinity_save(&r->affinity0);
    r->pinned_threads = max_threads;
    lb_pin_threads(&r->topo, max_threads, LB_PIN_DEFAULT, r->pin_desc, sizeof r->pin_desc);
    lb_counters_open(&r->ctr, max_threads, LB_COUNTERS_AUTO);
    lb_likwid_init(max_threads);
    measure_peaks(r);
    if (!opt->no_bandwidth)
        for (int i = 0; i < opt->n_threads; i++) {
            r->stream_gbps[i] = bench_stream_gbps(opt->threads[i], 0);
            r->l2_gbps[i] = bench_cache_gbps(opt->threads[i], 0);
        }
    print_context(r, r->dnnl_ver);
    if (r->json_on) {
        json_begin_object(&r->json, NULL);
        json_context(r, r->dnnl_ver);
        json_begin_array(&r->json, "benchmarks");
    }
    return 0;
}

int bench_run_close(bench_run *r) {
    int status = 0;
    if (r->json_on) {
        json_end_array(&r->json);
        json_end_object(&r->json);
        if (!json_file_commit(r->json_file, &r->json_af)) status = 1;
        else fprintf(r->out, "wrote %s\n", r->json_path);
        r->json_on = false;
    }
    if (r->have_onednn) odnn_env_fini(&r->env);
    r->have_onednn = false;
    lb_counters_close(&r->ctr);
    lb_likwid_close();
    lb_affinity_restore(&r->affinity0, r->pinned_threads);
    return status;
}

int cmd_bench(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--gbench")) return bench_gbench_main(argc - 1, argv + 1);   /* gbench_kernels.h */
    bench_opts opt;
    bench_run r;
    char nets_buf[512];
    memset(&r, 0, sizeof r);
    r.out = stdout;
    r.disp = lb_dispatch_get();
    bench_machine_detect(&r.mach, &r.disp->cpu);
    int rc = parse_opts(argc, argv, &opt, nets_buf, sizeof nets_buf, r.mach.cores);
    if (rc) return rc == 1 ? 0 : rc;
    if ((rc = bench_run_open(&r, &opt, "bench")) != 0) return rc;
    double t_start = r.t_start;

    bool any_unsplit = false;
    /* --desc: that problem alone (no networks, chain, worm or pipelines) */
    if (opt.desc) {
        bench_problem p;
        lb_problem_sel sel;
        char err[256];
        desc_problem(opt.desc, &p, &sel, err, sizeof err); /* checked by parse_opts */
        bool header = false;
        int h = p.is_pool ? p.pool.h : p.conv.h, w = p.is_pool ? p.pool.w : p.conv.w, batch = p.is_pool ? p.pool.n : p.conv.n;
        any_unsplit = bench_problem_passes(&r, &p, h, w, batch, &header);
        opt.n_lattices = 0, opt.chain_net = NULL, opt.pipelines = -1;
    }
    for (int li = 0; li < opt.n_lattices; li++)
        for (int bi = 0; bi < opt.n_batches; bi++) {
            int h = opt.lat_h[li], w = opt.lat_w[li], batch = opt.batches[bi];
            bench_problem probs[MAX_PROBLEMS];
            int np = collect_problems(&r, h, w, batch, probs);
            bool header = false;
            for (int pi = 0; pi < np; pi++) any_unsplit |= bench_problem_passes(&r, &probs[pi], h, w, batch, &header);
        }
    if (opt.chain_net) {
        char name[128];
        snprintf(name, sizeof name, "chain/%s/mb%d_ih%diw%d/fwd+bwd", opt.chain_net, opt.chain_batch, opt.chain_h, opt.chain_w);
        if (bench_wanted(&r, name, opt.chain_net)) {
            fprintf(r.out, "\n== conv chain of %s, forward + backward, lattice %dx%d, batch %d\n", opt.chain_net, opt.chain_h,
                    opt.chain_w, opt.chain_batch);
            print_header(r.out);
            bench_chain(&r, opt.chain_net, opt.chain_h, opt.chain_w, opt.chain_batch);
        }
    }
    if (!opt.desc) bench_worm(&r);
    if (opt.pipelines >= 0) bench_pipelines(&r); /* pipelines (bench_pipeline.c) */
    if (any_unsplit)
        fprintf(r.out, "\n* ours splits the batch over threads, so a batch smaller than the thread count runs on fewer\n"
                       "  threads (batch 1: one thread); oneDNN used all of them.  %%peak is of the full thread count.\n");
    if (r.any_contended)
        fprintf(r.out, "! ours took over 3x longer than on %d thread(s): its threads waited for busy cores; oneDNN's\n"
                       "  figures in that row were usually hit too (they ran interleaved), so compare r_min there\n",
                opt.threads[0]);
    if (r.any_lone && opt.timing.reps > 1)
        fprintf(r.out, "^ timed once: that oneDNN path was more than %.0fx slower than the fastest way to compute the row\n",
                opt.timing.drop_factor);
    if (!r.n_rows) {
        /* nothing measured: an input error, and no empty result file to mistake for a run */
        fprintf(stderr, "latbench bench: no benchmark matched%s%s\n", opt.filter ? " --filter " : "", opt.filter ? opt.filter : "");
        if (r.json_on) json_file_abort(r.json_file, &r.json_af), r.json_on = false;
        bench_run_close(&r);
        return 2;
    }
    double load_end[3] = {0, 0, 0};
    getloadavg(load_end, 3);
    fprintf(r.out, "\n%d measurements in %.1f s (load average at the end %.2f)\n", r.n_rows, bench_now() - t_start, load_end[0]);

    return bench_run_close(&r);
}

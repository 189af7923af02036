/* latbench bench: every conv/pool layer of the chosen networks on each lattice, batch and thread
 * count, ours vs oneDNN (best layout with its halo copy and reorders shown separately, and plain
 * nhwc), plus the conv chain of task1-eq; a table on stdout and google-benchmark-style JSON.
 * Here cmd_bench alone: the options, the problem sweep, and the calls of the op files; the run's
 * setup is in bench_run.c and the rows and records in bench_report.c. */
#include <stdlib.h>
#include <string.h>
#include "tools/bench/bench.h"
#include "lib/nn/netspec.h"
#include "lib/nn/parallel.h"
#include "tools/problems/lists.h"
#include "tools/problems/netproblems.h"
#include "tools/problems/problem.h"
#include "tools/opts/opts.h"
#include "tools/mpi/ranks.h"

/* the conv nets of the one default list (tools/problems/netproblems.h says why not task2-fl) */
static const char *const default_nets[] = {PROB_DEFAULT_CONV_NETS};

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
            "  evaluation); --no-pipelines skips it; --pipeline-batch N (default 128); --nets also picks the\n"
            "  training, inference and evaluation pipelines of those nets (generation is no net's: it always runs).\n"
            "  latbench bench --gbench [--threads LIST] [--benchmark_* flags]: every kernel variant and oneDNN\n"
            "  through google-benchmark (latbench bench --gbench --help).\n");
}

/* ---- problems ---- */


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

/* A conv2d or pool problem as bench times it (false for the other kinds). */
static bool bench_problem_of(const prob_record *p, bench_problem *out) {
    memset(out, 0, sizeof *out);
    if (p->kind == PROB_CONV2D) out->conv = p->u.conv;
    else if (p->kind == PROB_POOL) out->pool = p->u.pool, out->is_pool = true;
    else return false;
    prob_shape_str(p, out->desc, sizeof out->desc);
    return true;
}

/* The conv and pool layers of the networks (tools/problems/netproblems.h) on an h x w lattice at
 * this batch, duplicates merged. */
static int collect_problems(bench_run *r, int h, int w, int batch, bench_problem *out) {
    int n = 0;
    for (int ni = 0; ni < r->opt->n_nets; ni++) {
        const char *net = r->opt->nets[ni];
        prob_net_problem np[PROB_NET_MAX_PROBLEMS];
        char err[160];
        const int m = prob_net_problems(net, h, w, batch, np, err, sizeof err);
        if (m < 0) fprintf(r->out, "%s on %dx%d: skipped: %s\n", net, h, w, err);
        for (int i = 0; i < m; i++) {
            bench_problem p;
            if (!bench_problem_of(&np[i].prob, &p)) continue;
            int k;
            for (k = 0; k < n; k++)
                if (out[k].is_pool == p.is_pool && !strcmp(out[k].desc, p.desc) &&
                    (p.is_pool ? !memcmp(&out[k].pool, &p.pool, sizeof p.pool) : !memcmp(&out[k].conv, &p.conv, sizeof p.conv)))
                    break;
            if (k == n) {
                if (n == MAX_PROBLEMS) continue;
                out[n++] = p;
            }
            add_label(&out[k], np[i].label);
        }
    }
    return n;
}

/* The problem --desc names, as collect_problems would have made it; sel->filter then selects its
 * pass when one is named.  Only conv2d and pool problems are timed per layer. */
static bool desc_problem(const char *name, bench_problem *out, prob_sel *sel, char *err, size_t len) {
    prob_record p;
    if (!prob_parse(name, &p, sel, err, len)) return false;
    if (!bench_problem_of(&p, out)) {
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
            bench_print_header(r->out);
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
    if (prob_list_has_empty_item(buf)) {
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

/* Which list options the command line gave (the rest take their defaults), and --reps. */
typedef struct {
    bool threads, batch, lattice, reps;
    int reps_n;
} opts_given;

/* One option that takes a value (v): 0, or 2 on a bad value. */
static int parse_value_opt(const char *a, const char *v, bench_opts *o, opts_given *g, char *nets_buf, size_t nets_len) {
    if (!strcmp(a, "--filter")) {
        o->filter = v;
    } else if (!strcmp(a, "--desc")) {
        o->desc = v;
    } else if (!strcmp(a, "--threads")) {
        if (!prob_parse_int_list(v, 1, 1024, BENCH_MAX_LIST, o->threads, &o->n_threads)) BAD("--threads: '%s' is not a list of thread counts (1..1024)", v);
        g->threads = true;
    } else if (!strcmp(a, "--batch")) {
        if (!prob_parse_int_list(v, 1, 1 << 16, BENCH_MAX_LIST, o->batches, &o->n_batches)) BAD("--batch: '%s' is not a list of batch sizes (1..65536)", v);
        g->batch = true;
    } else if (!strcmp(a, "--lattice")) {
        if (!prob_parse_lattice_list(v, BENCH_MAX_LIST, o->lat_h, o->lat_w, &o->n_lattices)) BAD("--lattice: '%s' is not a list of NTxNX lattices (e.g. 8x8,64x64)", v);
        g->lattice = true;
    } else if (!strcmp(a, "--reps")) {
        if (!prob_parse_int_in(v, 1, 10000, &g->reps_n)) BAD("--reps: '%s' is not a repetition count (1..10000)", v);
        g->reps = true;
    } else if (!strcmp(a, "--json")) {
        /* "--json --quick" wrote a file named --quick */
        if (!*v || *v == '-') BAD("--json needs a file name (got '%s')", v);
        char why[512];
        if (!io_atomic_check_target(v, why, sizeof why)) BAD("--json: %s", why);
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
        o->nets_given = true;
    }
    return 0;
}

/* After the options: --desc's exclusions, the defaults of what was not given, the size bound and
 * the timing settings.  0, or 2 on a bad combination. */
static int finish_opts(bench_opts *o, const opts_given *g, int cores) {
    const int reps = g->reps_n;
    if (o->desc) {
        bench_problem p;
        prob_sel sel;
        char err[256];
        if (o->pipelines > 0) BAD("--desc and --pipelines do not go together (--desc names one problem)");
        if (o->filter) BAD("--desc and --filter do not go together (--desc names one problem)");
        if (g->batch || g->lattice || o->n_nets) BAD("--desc fixes the shape: no --batch, --lattice or --nets with it");
        if (!desc_problem(o->desc, &p, &sel, err, sizeof err)) BAD("--desc %s", err);
        if (!sel.whole) o->filter = o->desc; /* one pass: bench_wanted selects it */
    }
    if (!g->threads) {
        int defaults[2] = {1, 2};
        for (int i = 0; i < 2; i++)
            if (defaults[i] <= cores || i == 0) o->threads[o->n_threads++] = defaults[i];
    }
    if (!g->batch) {
        int q[2] = {1, 32}, f[3] = {1, 32, 256};
        o->n_batches = o->quick ? 2 : 3;
        memcpy(o->batches, o->quick ? q : f, sizeof(int) * o->n_batches);
    }
    if (!g->lattice) {
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
    o->timing.reps = g->reps ? reps : o->quick ? 7 : 11;
    /* --reps N: exactly N (however slow); by default slow problems get fewer, but at least 3 */
    o->timing.min_reps = g->reps ? reps : o->timing.reps < 3 ? o->timing.reps : 3;
    o->timing.rep_s = o->quick ? 1e-3 : 2e-3;
    /* slow problems (64x64, batch 256) get min_reps: the full run stays within minutes */
    o->timing.budget_s = o->quick ? 0.05 : 0.4;
    o->timing.drop_factor = 8;
    if (g->reps && o->timing.budget_s < reps * o->timing.rep_s) o->timing.budget_s = reps * o->timing.rep_s;
    return 0;
}

/* Returns 0 to go on, 1 when help was printed, 2 on a bad option. */
static int parse_opts(int argc, char **argv, bench_opts *o, char *nets_buf, size_t nets_len, int cores) {
    enum { QUICK = 256, SCALAR, NO_JSON, VALUE, PIPELINES, NO_PIPELINES, PIPELINE_BATCH };
    static const struct option longopts[] = {
        {"quick", no_argument, NULL, QUICK},       {"scalar", no_argument, NULL, SCALAR},        {"no-json", no_argument, NULL, NO_JSON},
        {"filter", required_argument, NULL, VALUE}, {"desc", required_argument, NULL, VALUE},    {"threads", required_argument, NULL, VALUE},
        {"batch", required_argument, NULL, VALUE},  {"lattice", required_argument, NULL, VALUE}, {"reps", required_argument, NULL, VALUE},
        {"json", required_argument, NULL, VALUE},   {"baseline", required_argument, NULL, VALUE}, {"nets", required_argument, NULL, VALUE},
        /* pipelines (bench_pipeline.c): --pipelines (only them, unless --filter says otherwise), --no-pipelines */
        {"pipelines", no_argument, NULL, PIPELINES}, {"no-pipelines", no_argument, NULL, NO_PIPELINES},
        {"pipeline-batch", required_argument, NULL, PIPELINE_BATCH}, {0}};
    memset(o, 0, sizeof *o);
    opts_given g = {0};
    o->onednn = true;
    opts_parser p;
    opts_init(&p, "bench", argc, argv, longopts, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return usage(stdout), 1;
        if (c == OPTS_ERR) return 2;
        if (c == QUICK) o->quick = true;
        if (c == SCALAR) o->scalar = true;
        if (c == NO_JSON) o->no_json = true;
        if (c == VALUE && parse_value_opt(p.name, p.arg, o, &g, nets_buf, nets_len)) return 2;
        if (c == PIPELINES) o->pipelines = 1, o->filter = o->filter ? o->filter : "pipeline/";
        if (c == NO_PIPELINES) o->pipelines = -1;
        if (c == PIPELINE_BATCH && !prob_parse_int_in(p.arg, 1, 1 << 14, &o->pipe_batch))
            BAD("--pipeline-batch needs a batch size (1..16384)");
    }
    if (opts_first_operand(&p) < argc) BAD("unexpected argument '%s' (try latbench bench --help)", argv[opts_first_operand(&p)]);
    return finish_opts(o, &g, cores);
}

int cmd_bench(int argc, char **argv) { return bench_command(argc, argv, NULL); }

int bench_command(int argc, char **argv, bench_json_hook *on_json_written) {
    bench_opts opt;
    bench_run r;
    char nets_buf[512];
    memset(&r, 0, sizeof r);
    r.out = stdout;
    r.on_json_written = on_json_written;
    r.disp = lb_dispatch_get();
    machine_detect(&r.mach, &r.disp->cpu);
    /* ranks sharing the node: the default thread counts are capped at this rank's slice of its cores */
    machine_topology_detect(&r.topo);
    const int cores = r.topo.local_size > 1 && !r.topo.slice_unpinned ? r.topo.allowed_cores : r.mach.cores;
    int rc = parse_opts(argc, argv, &opt, nets_buf, sizeof nets_buf, cores);
    if (rc) return rc == 1 ? 0 : rc;
    if ((rc = bench_run_open(&r, &opt, "bench")) != 0) {
        if (bench_ranks_many()) ranks_abort("bench", "its results could not be opened (the line above)");
        return rc;
    }
    double t_start = r.t_start;

    bool any_unsplit = false;
    /* --desc: that problem alone (no networks, chain, worm or pipelines) */
    if (opt.desc) {
        bench_problem p;
        prob_sel sel;
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
            bench_print_header(r.out);
            bench_chain(&r, opt.chain_net, opt.chain_h, opt.chain_w, opt.chain_batch);
        }
    }
    if (!opt.desc) bench_chain1x1(&r);
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
        bench_run_discard_json(&r);
        bench_run_close(&r);
        return 2;
    }
    double load_end[3] = {0, 0, 0};
    getloadavg(load_end, 3);
    fprintf(r.out, "\n%d measurements in %.1f s (load average at the end %.2f)\n", r.n_rows, timing_now() - t_start, load_end[0]);

    return bench_run_close(&r);
}

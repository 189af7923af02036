/* `latbench bench --gbench` (gbench_kernels.h): its options, the machine in the context (CPU,
 * dispatch, FMA peaks, STREAM bandwidth, oneDNN), and the run: the problems and benchmarks
 * (gbench_problems.c) registered with google-benchmark, timed by gbench_run.c. */
#include "tools/gbench/gbench_kernels.h"
#include "lib/io/atomic.h"
#include <stdio.h>

#ifdef LB_NO_GBENCH
int cmd_gbench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "latbench bench --gbench: not available in this build (built without google-benchmark)\n");
    return 2;
}
#else

#include <stdlib.h>
#include <string.h>
#include "arch/build_info.h"
#include "lib/nn/netspec.h"
#include "tools/gbench/gbench.h"
#include "tools/machine/bandwidth.h"
#include "tools/machine/machine.h"
#include "tools/machine/peak.h"
#include "tools/problems/lists.h"
#include "tools/problems/netproblems.h"
#include "tools/opts/opts.h"

/* ---- context ---- */

static void context_list(const char *key, const int *v, int n) {
    char buf[160];
    size_t p = 0;
    buf[0] = 0;
    for (int i = 0; i < n && p < sizeof buf; i++) p += (size_t)snprintf(buf + p, sizeof buf - p, "%s%d", i ? "," : "", v[i]);
    gb_add_context(key, buf);
}

/* The machine and the measured ceilings (FMA peaks of the ISAs the registry needs, STREAM triad). */
static void add_context(registry *R, const char *nets, const char *lattices, const char *batches, bool cpu_time) {
    const lb_dispatch *d = R->disp;
    char buf[512];
    gb_add_context("latbench_cpu_model", R->mach.model);
    gb_add_context("latbench_cpu_vendor", d->cpu.vendor);
    gb_add_context("latbench_cpu_uarch", R->mach.uarch);
    gb_add_context("latbench_machine_slug", R->mach.slug);
    snprintf(buf, sizeof buf, "%d packages, %d cores, %d PUs", R->mach.packages, R->mach.cores, R->mach.pus);
    gb_add_context("latbench_topology", buf);
    gb_add_context("latbench_isa_features", R->mach.features);
    snprintf(buf, sizeof buf, "%s%s", lb_isa_name(d->cap), getenv("LATBENCH_ISA") && *getenv("LATBENCH_ISA") ? " (LATBENCH_ISA)" : "");
    gb_add_context("latbench_isa_cap", buf);
    snprintf(buf, sizeof buf, "conv2d=%s pool=%s gpool=%s act=%s dense=%s loss=%s optim=%s worm=%s", d->conv2d->name, d->pool->name,
             d->gpool->name, d->act->name, d->dense->name, d->loss->name, d->optim->name, d->worm->name);
    gb_add_context("latbench_dispatch", buf);
    context_list("latbench_threads", R->threads, R->n_threads);
    gb_add_context("latbench_nets", nets);
    gb_add_context("latbench_lattices", lattices);
    gb_add_context("latbench_batches", batches);
    gb_add_context("latbench_compiler", lb_build_compiler());
    gb_add_context("latbench_compiler_flags", lb_build_flags());
    gb_add_context("latbench_git_commit", lb_build_commit());
    gb_add_context("latbench_time", cpu_time ? "CPU time of the calling thread (--cpu-time; one thread)"
                                             : "wall clock (UseRealTime): kernels run on OpenMP threads");
    gb_add_context("latbench_omp_proc_bind", getenv("OMP_PROC_BIND") ? getenv("OMP_PROC_BIND") : "");
    gb_add_context("latbench_omp_places", getenv("OMP_PLACES") ? getenv("OMP_PLACES") : "");
    for (int isa = LB_ISA_AVX2; isa <= LB_ISA_NEON; isa++)
        for (int i = 0; i < R->n_threads; i++)
            if (R->peak[isa][i] > 0) {
                char key[64], val[32];
                snprintf(key, sizeof key, "latbench_fma_peak_gflops_%s_t%d", lb_isa_name((lb_isa)isa), R->threads[i]);
                snprintf(val, sizeof val, "%.2f", R->peak[isa][i]);
                gb_add_context(key, val);
            }
    for (int i = 0; i < R->n_threads; i++) {
        char key[64], val[32];
        snprintf(key, sizeof key, "latbench_stream_triad_gbps_t%d", R->threads[i]);
        snprintf(val, sizeof val, "%.2f", machine_stream_gbps(R->threads[i], 0));
        gb_add_context(key, val);
        snprintf(key, sizeof key, "latbench_l2_triad_gbps_t%d", R->threads[i]);
        snprintf(val, sizeof val, "%.2f", machine_cache_gbps(R->threads[i], 0));
        gb_add_context(key, val);
    }
    snprintf(buf, sizeof buf, "STREAM triad a=b+s*c on doubles, 24 B/element (write-allocate not counted), best of 10 passes; "
             "the three arrays together 4x the last-level cache (%zu MiB), at least 256 MiB", machine_llc_bytes() >> 20);
    gb_add_context("latbench_stream_convention", buf);
#if GBK_ONEDNN
    odnn_version_str(buf, sizeof buf);
    gb_add_context("latbench_onednn_version", buf);
    gb_add_context("latbench_onednn_cpu_runtime", odnn_runtime_name());
    gb_add_context("latbench_onednn_cpu_isa", odnn_effective_isa_name());
    gb_add_context("latbench_onednn_baseline", R->have_onednn ? "conv (halo copy and reorders as counters halo_ns, reorder_ns) and pool"
                                                               : "off (no CPU engine)");
#else
    gb_add_context("latbench_onednn_baseline", "not available (built without oneDNN)");
#endif
}

/* FMA peaks of the ISAs some registered FMA-bound benchmark is held against, at every thread count. */
static void measure_peaks(registry *R) {
    bool need[LB_ISA_NEON + 1] = {false};
    for (int i = 0; i < R->n_benches; i++) {
        double f, b;
        bool fma;
        gbk_work_of(&R->benches[i], &R->problems[R->benches[i].problem], &f, &b, &fma);
        if (fma) need[machine_peak_isa_for(&R->disp->cpu, R->benches[i].isa)] = true;
    }
    for (int isa = 0; isa <= LB_ISA_NEON; isa++)
        if (need[isa]) machine_peak_sweep(&R->disp->cpu, (lb_isa)isa, R->threads, R->n_threads, R->mach.cores, R->peak[isa]);
}

/* ---- options ---- */

typedef struct {
    int batches[GBK_MAX_LIST], n_batches;
    int lat_h[GBK_MAX_LIST], lat_w[GBK_MAX_LIST], n_lattices;
    char nets[512];
    bool nets_given;          /* --nets: say which of them do not fit a lattice */
    bool cpu_time;            /* --cpu-time: the calling thread's CPU time instead of wall time */
    const char *out_path;     /* --benchmark_out=PATH, written through an atomic temporary (lib/io/atomic.h) */
    const char *out_format;   /* --benchmark_out_format=F (default json) */
    bool listing;             /* --benchmark_list_tests: no measurement of the machine */
} gbk_opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: latbench bench --gbench [--threads LIST | --cpu-time] [--nets LIST] [--lattice LIST] [--batch LIST]\n"
            "                                [google-benchmark flags]\n"
            "  Every kernel variant this CPU runs (under LATBENCH_ISA) and the oneDNN conv/pool baselines over the\n"
            "  layer shapes of the networks (default task1-eq,task1-st,task3-eq1,task2-fl) on each lattice (default\n"
            "  8x8,64x64) and batch (default 1,32), on each OpenMP thread count (default 1), plus the worm sweep.\n"
            "  Names: OP/PROBLEM/IMPL/threads:T as bench names its rows, IMPL = ours (the variant the dispatcher picks),\n"
            "  scalar, variant:NAME (any other variant), onednn_any or onednn_nhwc; e.g.\n"
            "  conv2d_fwd/mb32_ic4oc64_ih8iw8_kh1kw1_sh1sw1_b1/ours/threads:1 (the worm: worm/LATTICE/variant:NAME/threads:T).\n"
            "  --benchmark_list_tests (and --benchmark_filter) see google-benchmark's own /real_time at the end.\n"
            "  Counters: GFLOPS, GBps (compulsory bytes), pct_fma_peak (of the FMA peak measured at start-up),\n"
            "  threads_used; oneDNN rows also compute_ns, halo_ns, reorder_ns (untimed breakdown) and its\n"
            "  implementation as the label.  The machine (FMA peaks, STREAM bandwidth, oneDNN) is in the context.\n"
            "  Time is wall clock; --cpu-time times the calling thread's CPU time\n"
            "  instead (one thread only): steadier on a machine shared with other work.\n"
            "  google-benchmark flags: --benchmark_filter=RE --benchmark_list_tests --benchmark_min_time=S\n"
            "  --benchmark_repetitions=N --benchmark_enable_random_interleaving=true --benchmark_out=FILE\n"
            "  --benchmark_out_format=json|console|csv ... (google-benchmark's --help lists them all).\n");
}

#define BAD(...)                                                    \
    do {                                                            \
        fprintf(stderr, "latbench bench --gbench: " __VA_ARGS__);   \
        fputc('\n', stderr);                                        \
        return 2;                                                   \
    } while (0)

/* --nets LIST: every item a preset; false after saying which is not. */
static bool parse_nets(gbk_opts *o, const char *v) {
    char buf[512];
    if (strlen(v) >= sizeof o->nets) return fprintf(stderr, "latbench bench --gbench: --nets: list too long\n"), false;
    strcpy(buf, v);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (!netspec_preset(tok))
            return fprintf(stderr, "latbench bench --gbench: --nets: '%s' is not a network preset (see latbench model)\n", tok), false;
    strcpy(o->nets, v);
    o->nets_given = true;
    return true;
}

/* A google-benchmark flag (a): to gargv; --benchmark_out=FILE becomes the temporary's name. */
static bool pass_through(gbk_opts *o, const char *a, char **gargv, int *gargc, char *out_arg) {
    if (!strncmp(a, "--benchmark_out=", 16)) {
        if (!a[16]) return fprintf(stderr, "latbench bench --gbench: --benchmark_out needs a file name\n"), false;
        o->out_path = a + 16;
        gargv[(*gargc)++] = out_arg; /* "--benchmark_out=TEMPORARY", filled in once it exists */
        return true;
    }
    if (!strncmp(a, "--benchmark_out_format=", 23)) o->out_format = a + 23;
    if (!strcmp(a, "--benchmark_list_tests") ||
        (!strncmp(a, "--benchmark_list_tests=", 23) && strcmp(a + 23, "false") && strcmp(a + 23, "0")))
        o->listing = true;
    gargv[(*gargc)++] = (char *)a;
    return true;
}

/* Consumes latbench's own options; the rest goes to gargv (gargv[0] = "latbench").  Returns 0, 1
 * after help, 2 on a bad option. */
static int parse_opts(int argc, char **argv, registry *R, gbk_opts *o, char **gargv, int *gargc, char *out_arg) {
    memset(o, 0, sizeof *o);
    R->threads[0] = 1;
    R->n_threads = 1;
    o->batches[0] = 1;
    o->batches[1] = 32;
    o->n_batches = 2;
    o->lat_h[0] = o->lat_w[0] = 8;
    o->lat_h[1] = o->lat_w[1] = 64;
    o->n_lattices = 2;
    o->nets[0] = 0;
    static const char *const default_nets[] = {PROB_DEFAULT_NETS};
    for (size_t i = 0; i < sizeof default_nets / sizeof default_nets[0]; i++)
        snprintf(o->nets + strlen(o->nets), sizeof o->nets - strlen(o->nets), "%s%s", i ? "," : "", default_nets[i]);
    *gargc = 0;
    gargv[(*gargc)++] = "latbench";
    static const struct option longopts[] = {{"threads", required_argument, NULL, 256}, {"nets", required_argument, NULL, 257},
                                             {"lattice", required_argument, NULL, 258}, {"batch", required_argument, NULL, 259},
                                             {"cpu-time", no_argument, NULL, 260},      {0}};
    opts_parser p;
    opts_init(&p, "bench --gbench", argc, argv, longopts, NULL, false);
    p.pass_prefix = "--benchmark_";   /* google-benchmark's own flags go through to it */
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        const char *v = p.arg;
        if (c == OPTS_HELP) return usage(stdout), 1;
        if (c == OPTS_ERR) return 2;
        if (c == 256 && !prob_parse_int_list(v, 1, 1024, GBK_MAX_LIST, R->threads, &R->n_threads))
            BAD("--threads: '%s' is not a list of thread counts (1..1024)", v);
        if (c == 257 && !parse_nets(o, v)) return 2;
        if (c == 258 && !prob_parse_lattice_list(v, GBK_MAX_LIST, o->lat_h, o->lat_w, &o->n_lattices))
            BAD("--lattice: '%s' is not a list of NTxNX lattices (e.g. 8x8,64x64)", v);
        if (c == 259 && !prob_parse_int_list(v, 1, 1 << 16, GBK_MAX_LIST, o->batches, &o->n_batches))
            BAD("--batch: '%s' is not a list of batch sizes (1..65536)", v);
        if (c == 260) o->cpu_time = true;
        if (c == OPTS_PASS && !pass_through(o, v, gargv, gargc, out_arg)) return 2;
    }
    for (int i = opts_first_operand(&p); i < argc; i++) gargv[(*gargc)++] = argv[i];
    gargv[*gargc] = NULL;
    R->max_threads = 1;
    for (int i = 0; i < R->n_threads; i++)
        if (R->threads[i] > R->max_threads) R->max_threads = R->threads[i];
    if (o->cpu_time && R->max_threads > 1) BAD("--cpu-time needs --threads 1 (OpenMP workers' CPU time is not the calling thread's)");
    return 0;
}

/* The problems: every layer of every net on each lattice and batch, then the worm; the lists as
 * the context names them. */
static void collect(registry *R, const gbk_opts *o, char *lat_s, size_t lat_len, char *batch_s, size_t batch_len) {
    char nets[512];
    const char *net_names[GBK_MAX_LIST * 4];
    int n_nets = 0;
    strcpy(nets, o->nets);
    for (char *save = NULL, *net = strtok_r(nets, ",", &save); net && n_nets < GBK_MAX_LIST * 4; net = strtok_r(NULL, ",", &save))
        net_names[n_nets++] = net;
    lat_s[0] = batch_s[0] = 0;
    for (int li = 0; li < o->n_lattices; li++)
        snprintf(lat_s + strlen(lat_s), lat_len - strlen(lat_s), "%s%dx%d", li ? "," : "", o->lat_h[li], o->lat_w[li]);
    for (int bi = 0; bi < o->n_batches; bi++)
        snprintf(batch_s + strlen(batch_s), batch_len - strlen(batch_s), "%s%d", bi ? "," : "", o->batches[bi]);
    for (int li = 0; li < o->n_lattices; li++)
        for (int bi = 0; bi < o->n_batches; bi++)
            for (int ni = 0; ni < n_nets; ni++) {
                char why[160];
                /* FL nets fit only the lattice they were built for */
                if (!gbk_collect_net(R, net_names[ni], o->lat_h[li], o->lat_w[li], o->batches[bi], why, sizeof why) && bi == 0 &&
                    o->nets_given)
                    fprintf(stderr, "latbench bench --gbench: note: %s on %dx%d left out: %s\n", net_names[ni], o->lat_h[li],
                            o->lat_w[li], why);
            }
    gbk_collect_worm(R);
}

/* Registers every benchmark with google-benchmark; false when out of memory. */
static bool register_all(registry *R, const gbk_opts *o) {
    if (R->n_problems == 0 || !gbk_make_benches(R)) return false;
    for (int i = 0; i < R->n_benches; i++) {
        char name[320];
        gbk_bench_name(R, &R->benches[i], name, sizeof name);
        gb_benchmark *b = gb_register(name, gbk_run_bench, &R->benches[i]);
        if (!b) return false;
        if (!o->cpu_time) gb_opt_real_time(b);
    }
    return true;
}

/* Measures the machine (unless only listing), runs google-benchmark, commits or drops the output
 * file; the exit status. */
static int run_all(registry *R, const gbk_opts *o, const char *lat_s, const char *batch_s, io_atomic_file *af) {
    char err[600];
    if (!o->listing) {
        measure_peaks(R);
        add_context(R, o->nets, lat_s, batch_s, o->cpu_time);
    }
    int n_run = 0;
    int rc = gb_run(&n_run, o->out_path ? (o->out_format ? o->out_format : "json") : NULL);
    if (o->out_path && rc == 0) {
        if (!io_atomic_commit(af, err, sizeof err)) {
            fprintf(stderr, "latbench bench --gbench: %s\n", err);
            rc = 1;
        }
    } else {
        io_atomic_abort(af);
    }
    return rc;
}

/* The output file first (google-benchmark writes the temporary, renamed into place at the end:
 * whole or absent), then google-benchmark's flags: a bad one fails before any work.  0 to go on. */
static int open_output(const gbk_opts *o, io_atomic_file *af, char *out_arg, size_t out_len, int gargc, char **gargv) {
    char err[600];
    if (o->out_path) {
        if (!io_atomic_open(af, o->out_path, 0, err, sizeof err)) {
            fprintf(stderr, "latbench bench --gbench: %s\n", err);
            return 2;
        }
        snprintf(out_arg, out_len, "--benchmark_out=%s", af->tmp);
    }
    int rc = gb_init(gargc, gargv);
    if (rc) io_atomic_abort(af);
    return rc;
}

int cmd_gbench(int argc, char **argv) {
    registry R;
    memset(&R, 0, sizeof R);
    R.bufs.problem = -1;
    R.slot.bench = -1;
    R.last_bench = -1;
    R.disp = lb_dispatch_get();
    machine_detect(&R.mach, &R.disp->cpu);
    gbk_opts o;
    char **gargv = calloc((size_t)argc + 2, sizeof *gargv);
    char out_arg[4300];
    int gargc = 0;
    if (!gargv) BAD("out of memory");
    int rc = parse_opts(argc, argv, &R, &o, gargv, &gargc, out_arg);
    io_atomic_file af = {.fd = -1, .slot = -1};
    if (rc) {
        free(gargv);
        return rc == 1 ? 0 : rc;   /* 1: help was printed */
    }
    if ((rc = open_output(&o, &af, out_arg, sizeof out_arg, gargc, gargv)) != 0) {
        free(gargv);
        return rc;
    }
#if GBK_ONEDNN
    odnn_match_isa(R.disp->cap);
    R.have_onednn = odnn_env_init(&R.env);
#endif
    char lat_s[256], batch_s[160];
    collect(&R, &o, lat_s, sizeof lat_s, batch_s, sizeof batch_s);
    if (!register_all(&R, &o)) {
        fprintf(stderr, "latbench bench --gbench: cannot build the benchmark registry (out of memory)\n");
        io_atomic_abort(&af);
        rc = 1;
    } else {
        rc = run_all(&R, &o, lat_s, batch_s, &af);
    }
    gbk_release(&R);
#if GBK_ONEDNN
    if (R.have_onednn) odnn_env_fini(&R.env);
#endif
    free(R.benches);
    free(R.problems);
    free(gargv);
    return rc;
}
#endif /* LB_NO_GBENCH */

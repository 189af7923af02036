/* The run of `latbench bench` (and of the gate, through bench.h): its setup and close (the JSON file,
 * oneDNN, the FMA peaks and bandwidths, the pinned threads and counters, the context printed and
 * written) and the helpers the op files share (buffers, the filter, counting calls).  The op files
 * call these and bench_report.c; nothing here calls an op file. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tools/bench/bench.h"
#include "lib/io/atomic.h"
#include "tools/machine/peak.h"
#include "lib/io/outdir.h"
#include "arch/build_info.h"
#include "arch/profile.h"
#include "tools/machine/bandwidth.h"
#include "tools/mpi/ranks.h"

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

void bench_synthetic_batch(int16_t *x, size_t nx, float *y, size_t ny) {
    uint32_t s = 12345u;
    for (size_t i = 0; i < nx; i++) s = s * 1664525u + 1013904223u, x[i] = (int16_t)((int)((s >> 16) % 5) - 2);
    for (size_t i = 0; i < ny; i++) s = s * 1664525u + 1013904223u, y[i] = (float)(s >> 8) * (1.0f / 16777216.0f);
}

bool bench_wanted(const bench_run *r, const char *name, const char *layers) {
    const char *f = r->opt->filter;
    return !f || strstr(name, f) || (layers && strstr(layers, f));
}

bool bench_net_wanted(const bench_run *r, const char *net) {
    if (!r->opt->nets_given) return true;
    for (int i = 0; i < r->opt->n_nets; i++)
        if (!strcmp(r->opt->nets[i], net)) return true;
    return false;
}

void bench_impl_name(const char *variant, lb_isa isa, bool dispatched, char *buf, size_t len) {
    if (dispatched) snprintf(buf, len, "ours");
    else if (isa == LB_ISA_SCALAR && !strcmp(variant, "scalar")) snprintf(buf, len, "scalar");
    else snprintf(buf, len, "variant:%s", variant);
}

long bench_counter_calls(const timing_seq_result *res) {
    long calls = res->calls > 0 ? res->calls : 1;
    double t = res->total.median;
    if (t > 0 && calls * t < 5e-3) calls = (long)ceil(5e-3 / t);
    return calls;
}

void bench_seq_run_once(void *seq) {
    const timing_seq *s = seq;
    for (int k = 0; k < s->n_steps; k++) s->steps[k].fn(s->steps[k].ctx);
}

void bench_count_calls(bench_run *r, const char *name, int threads, void (*fn)(void *), void *ctx, long calls,
                       machine_counter_values *out) {
    machine_region_begin(name, threads);
    machine_counters_start(&r->ctr);
    for (long c = 0; c < calls; c++) fn(ctx);
    machine_counters_stop(&r->ctr);
    machine_region_end(name, threads);
    machine_counters_read(&r->ctr, out);
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
SCALAR_OF(chain1x1)

double bench_peak_for(const bench_run *r, lb_isa isa, int threads) {
    lb_isa p = machine_peak_isa_for(&r->disp->cpu, isa);
    for (int i = 0; i < r->opt->n_threads; i++)
        if (r->opt->threads[i] == threads) return r->peak[p][i];
    return 0;
}

/* ---- the run: its context, open and close ---- */

static void measure_peaks(bench_run *r) {
    memset(r->peak, 0, sizeof r->peak);
    for (int isa = LB_ISA_AVX2; isa <= LB_ISA_NEON; isa++)
        if (lb_cpu_supports(&r->disp->cpu, (lb_isa)isa) && machine_fma_loop_flops((lb_isa)isa) != 0)
            machine_peak_sweep(&r->disp->cpu, (lb_isa)isa, r->opt->threads, r->opt->n_threads, r->mach.cores, r->peak[isa]);
}

static void print_context(bench_run *r, const char *dnnl_ver) {
    const bench_opts *o = r->opt;
    const machine_info *m = &r->mach;
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
        for (int i = 0; i < o->n_threads; i++)
            fprintf(f, " %.1f GB/s @%d thr (median %.1f, worst %.1f of %d)%s", r->stream_gbps[i], o->threads[i], r->stream_bw[i].median,
                    r->stream_bw[i].worst, r->stream_bw[i].passes, i + 1 < o->n_threads ? "," : "");
        fprintf(f, " (best pass: the roofline's slope); in L2");
        for (int i = 0; i < o->n_threads; i++) fprintf(f, " %.1f GB/s @%d thr%s", r->l2_gbps[i], o->threads[i], i + 1 < o->n_threads ? "," : "");
    }
    char topo[512];
    machine_topology_format(&r->topo, topo, sizeof topo);
    fprintf(f, "\ntopology  %s", topo);
    fprintf(f, "\npinning   policy %s: %s", machine_pin_policy_name(MACHINE_PIN_DEFAULT), r->pin_desc);
    fprintf(f, "\ncounters  %s%s%s\n          (column ctr: ours over one more repetition's calls; likwid markers %s)",
            machine_counter_backend_name(r->ctr.backend), r->ctr.reason[0] ? ": " : "", r->ctr.reason,
            !MACHINE_LIKWID_BUILT ? "not built (make LIKWID=1)"
            /* likwid-perfctr -m exports these to the program it runs; without them the markers do nothing */
            : getenv("LIKWID_EVENTS") || getenv("LIKWID_FILEPATH") ? "built in, active (under likwid-perfctr -m)"
                                                                  : "built in, INACTIVE: run under likwid-perfctr -m -g GROUP");
    if (r->ctr.note[0]) fprintf(f, "\n          note: %s", r->ctr.note);
    fprintf(f, "\ntiming    median over repetitions (up to %d, at least %d; each >= %.0f ms), ours and oneDNN interleaved; times in us per call\n",
            o->timing.reps, o->timing.min_reps, o->timing.rep_s * 1e3);
    fprintf(f, "columns   dnnl_us: oneDNN compute in its best layout (format_tag_any); +halo_us: its circular-halo copy\n"
               "          (fold-back for bwd_data); +reord_us: its reorders from/to NHWC/HWIO; nhwc_us: oneDNN compute on\n"
               "          plain nhwc/hwio; r_all = ours / fastest oneDNN path with its copies; r_cmp = ours / fastest\n"
               "          oneDNN compute alone (< 1: ours faster); r_min: the same as r_all on the fastest repetitions\n"
               "          (noise only adds time); +-%%: half the interquartile range of ours, relative; %%peak: of the\n"
               "          FMA peak at that thread count\n");
    const lb_profile_state *ps = lb_profile_state_get();
    if (ps->applied)
        fprintf(f, "profile   %s (made on %s at commit %s, %d entries): each conv row's 'tuned' line times its choice\n"
                   "          interleaved with ours (the default) and oneDNN; LATBENCH_PROFILE=off: the default only\n",
                ps->path, ps->profile.id.slug, ps->profile.id.commit, ps->profile.n);
    else
        fprintf(f, "profile   none applied%s%s: the default only\n", ps->why[0] ? ": " : "", ps->why[0] ? ps->why : "");
    if (r->loadavg[0] > 0.5)
        fprintf(f, "load      %.2f %.2f %.2f (1/5/15 min) before the run: other work shares the cores, expect noise\n",
                r->loadavg[0], r->loadavg[1], r->loadavg[2]);
}

/* {"T": v[i], ...} keyed by the run's thread counts. */
static json_t *per_threads_json(const bench_opts *o, const double *v) {
    json_t *obj = json_object();
    for (int i = 0; i < o->n_threads; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", o->threads[i]);
        io_json_set_num(obj, key, v[i]);
    }
    return obj;
}

/* {"stream": {"<threads>": {best, median, worst, passes}}, "l2_triad": {...}}: how steady the roofs were. */
static json_t *bandwidth_spread_json(const bench_run *r) {
    json_t *out = json_object();
    const char *names[2] = {"stream", "l2_triad"};
    for (int k = 0; k < 2; k++) {
        json_t *per = json_object();
        for (int i = 0; i < r->opt->n_threads; i++) {
            const machine_bw *b = k ? &r->l2_bw[i] : &r->stream_bw[i];
            char key[16];
            snprintf(key, sizeof key, "%d", r->opt->threads[i]);
            json_object_set_new(per, key, json_pack("{s:f, s:f, s:f, s:i}", "best", b->best, "median", b->median, "worst",
                                                    b->worst, "passes", b->passes));
        }
        json_object_set_new(out, names[k], per);
    }
    return out;
}

static json_t *int_array_json(const int *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(v[i]));
    return a;
}

/* The context's first part: when, where, the machine, the dispatch and the thread counts. */
static void context_machine(json_t *c, const bench_run *r) {
    char date[64], host[128] = "";
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S%z", &tm);
    gethostname(host, sizeof host - 1);
    io_json_set_str(c, "date", date);
    io_json_set_str(c, "host_name", host);
    io_json_set_str(c, "executable", "latbench bench");
    io_json_set_int(c, "num_cpus", r->mach.pus);
#ifdef __OPTIMIZE__
    io_json_set_str(c, "library_build_type", "release");
#else
    io_json_set_str(c, "library_build_type", "debug");
#endif
    io_json_set_str(c, "cpu_model", r->mach.model);
    io_json_set_str(c, "cpu_vendor", r->disp->cpu.vendor);
    io_json_set_str(c, "cpu_uarch", r->mach.uarch);
    io_json_set_int(c, "cpu_family", r->mach.family);
    io_json_set_int(c, "cpu_model_id", r->mach.model_id);
    io_json_set_str(c, "machine_slug", r->mach.slug);
    io_json_set_int(c, "packages", r->mach.packages);
    io_json_set_int(c, "cores", r->mach.cores);
    io_json_set_int(c, "pus", r->mach.pus);
    io_json_set_str(c, "isa_features", r->mach.features);
    io_json_set_str(c, "isa_cap", lb_isa_name(r->disp->cap));
    json_t *disp = json_object();
    io_json_set_str(disp, "conv2d", r->disp->conv2d->name);
    io_json_set_str(disp, "pool", r->disp->pool->name);
    json_object_set_new(c, "dispatch", disp);
    json_object_set_new(c, "threads", int_array_json(r->opt->threads, r->opt->n_threads));
    json_t *load = json_array();
    for (int i = 0; i < 3; i++) json_array_append_new(load, io_json_num(r->loadavg[i]));
    json_object_set_new(c, "load_avg", load);
}

/* Then how the run measured: topology, pinning, counters, the builds of ours and oneDNN. */
static void context_software(json_t *c, const bench_run *r) {
    json_object_set_new(c, "topology", machine_topology_json(&r->topo));
    io_json_set_str(c, "pin_policy", machine_pin_policy_name(MACHINE_PIN_DEFAULT));
    io_json_set_str(c, "pinning", r->pin_desc);
    io_json_set_str(c, "counter_backend", machine_counter_backend_name(r->ctr.backend));
    io_json_set_str(c, "counter_reason", r->ctr.reason[0] ? r->ctr.reason : NULL);
    io_json_set_str(c, "counter_note", r->ctr.note[0] ? r->ctr.note : NULL);
    io_json_set_bool(c, "likwid_markers", MACHINE_LIKWID_BUILT);
    io_json_set_bool(c, "likwid_markers_active", MACHINE_LIKWID_BUILT && (getenv("LIKWID_EVENTS") || getenv("LIKWID_FILEPATH")));
    io_json_set_str(c, "omp_proc_bind", getenv("OMP_PROC_BIND"));
    io_json_set_str(c, "omp_places", getenv("OMP_PLACES"));
    io_json_set_str(c, "compiler", lb_build_compiler());
    io_json_set_str(c, "compiler_flags", lb_build_flags());
    io_json_set_str(c, "git_commit", lb_build_commit());
    io_json_set_str(c, "onednn_version", r->dnnl_ver);
    io_json_set_str(c, "onednn_cpu_runtime", odnn_runtime_name());
    io_json_set_str(c, "onednn_cpu_isa", odnn_effective_isa_name());
    io_json_set_bool(c, "onednn_baseline", r->have_onednn);
}

/* The tuning profile the run applied (path and identity), or null. */
static void context_profile(json_t *c) {
    const lb_profile_state *ps = lb_profile_state_get();
    if (!ps->applied) {
        json_object_set_new(c, "profile", json_null());
        return;
    }
    const lb_profile_identity *id = &ps->profile.id;
    json_t *p = json_object();
    io_json_set_str(p, "path", ps->path);
    io_json_set_str(p, "slug", id->slug);
    io_json_set_str(p, "commit", id->commit);
    io_json_set_str(p, "compiler", id->compiler);
    io_json_set_str(p, "isa_cap", lb_isa_name(id->isa_cap));
    io_json_set_int(p, "cores", id->cores);
    io_json_set_int(p, "entries", ps->profile.n);
    json_object_set_new(c, "profile", p);
}

/* Last the roofs measured and the options of the sweep. */
static void context_sweep(json_t *c, const bench_run *r) {
    const bench_opts *o = r->opt;
    json_t *peaks = json_object();
    for (int isa = LB_ISA_AVX2; isa <= LB_ISA_NEON; isa++)
        if (r->peak[isa][0] > 0) json_object_set_new(peaks, lb_isa_name((lb_isa)isa), per_threads_json(o, r->peak[isa]));
    json_object_set_new(c, "fma_peak_gflops", peaks);
    if (r->stream_gbps[0] > 0) {
        json_object_set_new(c, "stream_gbps", per_threads_json(o, r->stream_gbps));
        json_object_set_new(c, "l2_triad_gbps", per_threads_json(o, r->l2_gbps));
        json_object_set_new(c, "bandwidth_spread", bandwidth_spread_json(r));
    }
    json_t *timing = json_object();
    io_json_set_str(timing, "statistic", "median over repetitions of the per-call time; ours and oneDNN interleaved");
    io_json_set_int(timing, "reps", o->timing.reps);
    io_json_set_int(timing, "min_reps", o->timing.min_reps);
    io_json_set_num(timing, "rep_seconds", o->timing.rep_s);
    io_json_set_num(timing, "budget_seconds", o->timing.budget_s);
    json_object_set_new(c, "timing", timing);
    io_json_set_bool(c, "quick", o->quick);
    json_t *nets = json_array(), *lats = json_array();
    for (int i = 0; i < o->n_nets; i++) json_array_append_new(nets, json_string(o->nets[i]));
    json_object_set_new(c, "nets", nets);
    for (int i = 0; i < o->n_lattices; i++) {
        char s[32];
        snprintf(s, sizeof s, "%dx%d", o->lat_h[i], o->lat_w[i]);
        json_array_append_new(lats, json_string(s));
    }
    json_object_set_new(c, "lattices", lats);
    json_object_set_new(c, "batches", int_array_json(o->batches, o->n_batches));
}

/* The "context" object of the results (google-benchmark's name), in three parts. */
static json_t *context_json(const bench_run *r) {
    json_t *c = json_object();
    context_machine(c, r);
    context_software(c, r);
    context_profile(c);
    context_sweep(c, r);
    return c;
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
    if (!io_mkdirs(dir)) {
        fprintf(stderr, "latbench %s: cannot create %s: %s (give --json FILE or --no-json)\n", kind, dir, strerror(errno));
        return false;
    }
    snprintf(out, len, "%s/%s-%s-%06ld-%ld.json", dir, kind, date, ts.tv_nsec / 1000, (long)getpid());
    return true;
}

int bench_run_open(bench_run *r, const bench_opts *opt, const char *kind) {
    r->opt = opt;
    if (!r->out) r->out = stdout;
    bench_ranks_open(r);
    /* under mpirun only rank 0 writes a file; the others build their tree for it (bench_ranks.c) */
    const bool writer = ranks_world()->rank == 0;
    for (int i = 0; i < opt->n_threads; i++)
        if (opt->threads[i] > r->mach.cores)
            fprintf(stderr, "latbench %s: note: %d threads on %d cores oversubscribes the machine\n", kind, opt->threads[i], r->mach.cores);
    int json_flags = 0; /* --json FILE replaces FILE (atomically); the store never replaces a run */
    if (!writer) {
        r->json_on = opt->json_path || !opt->no_json;
    } else if (opt->json_path) {
        if (strlen(opt->json_path) >= sizeof r->json_path) {
            fprintf(stderr, "latbench %s: --json %.80s...: path too long (at most %zu bytes)\n", kind, opt->json_path,
                    sizeof r->json_path - 1);
            return 2;
        }
        snprintf(r->json_path, sizeof r->json_path, "%s", opt->json_path);
    } else if (!opt->no_json) {
        if (!default_json_path(r, kind, r->json_path, sizeof r->json_path)) return 1;
        json_flags = IO_ATOMIC_NOREPLACE;
    }
    if (r->json_path[0]) {
        /* The temporary is made now, the tree written into it at the close: an output that cannot
         * be made fails before the measurements, and an interrupted run leaves no file. */
        char err[600];
        if (!io_atomic_open(&r->json_af, r->json_path, json_flags, err, sizeof err)) {
            fprintf(stderr, "latbench: %s\n", err);
            return 1;
        }
        r->json_on = true;
    }
    if (opt->onednn) odnn_match_isa(r->disp->cap);
    r->have_onednn = opt->onednn && odnn_env_init(&r->env);
    odnn_version_str(r->dnnl_ver, sizeof r->dnnl_ver);
    if (getloadavg(r->loadavg, 3) != 3) r->loadavg[0] = r->loadavg[1] = r->loadavg[2] = 0;
    r->t_start = timing_now();
    machine_topology_detect(&r->topo);
    int max_threads = 1;
    for (int i = 0; i < opt->n_threads; i++)
        if (opt->threads[i] > max_threads) max_threads = opt->threads[i];
    /* Pinned once for the largest team: libgomp keeps its pool threads, so thread i of every later,
     * smaller team is the same OS thread on the same core (topology.h). */
    machine_affinity_save(&r->affinity0);
    r->pinned_threads = max_threads;
    machine_pin_threads(&r->topo, max_threads, MACHINE_PIN_DEFAULT, r->pin_desc, sizeof r->pin_desc);
    machine_counters_open(&r->ctr, max_threads, MACHINE_COUNTERS_AUTO);
    machine_likwid_init(max_threads);
    /* ~10 s before the first result: say what it is doing */
    fprintf(r->out, "measuring the roofs: FMA peak%s per thread count ...\n", opt->no_bandwidth ? "" : ", STREAM and L2 triad");
    fflush(r->out);
    measure_peaks(r);
    if (!opt->no_bandwidth)
        for (int i = 0; i < opt->n_threads; i++) {
            /* STREAM over 4x the last-level cache takes seconds a thread count: a line each, so a log is never silent long */
            fprintf(r->out, "  STREAM and L2 triad, %d thread%s ...\n", opt->threads[i], opt->threads[i] == 1 ? "" : "s");
            fflush(r->out);
            r->stream_bw[i] = machine_stream_bw(opt->threads[i], 0);
            r->l2_bw[i] = machine_cache_bw(opt->threads[i], 0);
            r->stream_gbps[i] = r->stream_bw[i].best;
            r->l2_gbps[i] = r->l2_bw[i].best;
        }
    print_context(r, r->dnnl_ver);
    if (r->json_on) {
        r->json = json_object();
        json_object_set_new(r->json, "context", context_json(r));
        r->json_benchmarks = json_array();
        json_object_set(r->json, "benchmarks", r->json_benchmarks); /* r keeps a reference */
    }
    return 0;
}

void bench_run_discard_json(bench_run *r) {
    if (r->json_on && r->json_path[0]) io_atomic_abort(&r->json_af); /* nothing left after a commit */
    r->json_on = false;
    json_decref(r->json_benchmarks);
    json_decref(r->json);
    r->json_benchmarks = r->json = NULL;
}

int bench_run_close(bench_run *r) {
    int status = 0;
    bench_ranks_merge(r);
    if (r->json_on && r->json_path[0]) {
        char err[600];
        if (!io_json_commit(r->json, &r->json_af, err, sizeof err)) {
            fprintf(stderr, "latbench: %s\n", err);
            status = 1;
        } else {
            fprintf(r->out, "wrote %s\n", r->json_path);
            if (r->on_json_written) r->on_json_written(r->json_path);
        }
    }
    bench_run_discard_json(r);
    if (r->have_onednn) odnn_env_fini(&r->env);
    r->have_onednn = false;
    machine_counters_close(&r->ctr);
    machine_likwid_close();
    machine_affinity_restore(&r->affinity0, r->pinned_threads);
    return status;
}

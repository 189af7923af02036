/* `latbench tune`: options, the list of problems (largest first), the budget, progress on stderr,
 * and the profile written atomically (tune.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "kernels/chain1x1/chain1x1_problem.h"
#include "arch/registry.h"
#include "lib/nn/model.h"
#include "lib/lattice/params.h"
#include "lib/lattice/sampler.h"
#include "tools/problems/lists.h"
#include "tools/problems/netproblems.h"
#include "tools/timing/cold.h"
#include "tools/tune/tune.h"
#include "tools/opts/opts.h"
#include "tools/verify/verify_ops.h"

#define MAX_LIST 16
#define MAX_JOBS 1024
#define MAX_MODELS 8

static const char *const usage_text =
    "usage: latbench tune [--op LIST] [--model NAME ...] [--lattice LIST] [--batch LIST] [--chains LIST]\n"
    "                     [--mu LIST] [--threads LIST] [--level quick|measure|patient] [--budget DURATION]\n"
    "                     [--timing auto|cold|warm] [--out FILE]\n"
    "Measures every kernel variant this CPU runs under the cap (LATBENCH_ISA) for each problem and keeps\n"
    "the winners in the tuning profile (README, \"Tuning profile\").  Per problem: each variant is first\n"
    "checked against the scalar reference (the worm: every chain bit for bit after a short run; conv2d:\n"
    "latbench verify's check of the pass at a batch <= 4; a wrong variant is never chosen), then timed interleaved with the dispatch default, pruned by successive\n"
    "halving (the faster half by lower quartile stays; one clearly slower than the fastest, the whole\n"
    "99 % interval of their ratio above 1, leaves at once), and the last one timed against the default again.\n"
    "Rule (compare's statistics): a variant is kept only if the whole 99 % confidence interval of\n"
    "default / variant (Hodges-Lehmann ratio, exact Mann-Whitney bounds over the final round's\n"
    "repetitions) lies above 1.02 (2 % minimum effect); else the default is recorded.\n"
    "  --op LIST         ops to tune, in this order (default worm,conv2d,chain1x1); each op's problems run\n"
    "                    largest first (worm: sites x chains; conv2d: by share of the real pipeline:\n"
    "                    one training step of each preset, batch --batch, default kernels, is first\n"
    "                    timed per conv layer and pass, and a problem's shares add up over the\n"
    "                    layers and presets that have it; the progress line shows it, \"23 % of the\n"
    "                    task1-eq step\"), so --budget goes where the time goes; chain1x1: the\n"
    "                    presets' chains of 1x1 conv + lrelu layers in inference, unfused against each\n"
    "                    fused variant x tile, largest first\n"
    "  --model NAME      a preset whose conv layers are tuned (repeatable; default task1-eq, task1-st,\n"
    "                    task3-eq1), all three passes, at each --threads count\n"
    "  --lattice LIST    lattices NTxNX (default: the worm 60x4,8x8,16x16,32x32; the nets their\n"
    "                    training lattice, 60x4 for task1-*, 8x8 for the others)\n"
    "  --batch LIST      batches of the layer problems (default 128)\n"
    "  --chains LIST     chains per point (default 2,4,8,16)\n"
    "  --mu LIST         chemical potentials (default 1)\n"
    "  --threads LIST    thread counts (default 1): the worm's blocks and conv2d's batch split among\n"
    "                    them as real runs do; entries are keyed by it (a model at T threads uses T's)\n"
    "  --level L         quick (default; the default set in about two minutes), measure, patient\n"
    "  --budget D        stop starting problems after D (e.g. 90, 90s, 5m, 1h); the largest come first\n"
    "                    and the untuned ones are listed\n"
    "  --timing M        conv2d's timing: cold runs each timed call on the next of enough copies of\n"
    "                    the operands its pass touches (2 x (L2 + L3), at most 256 MiB in all) that they\n"
    "                    come from L3 or memory, as in a training step; warm repeats the call on the same\n"
    "                    buffers (cached); auto (default): cold where the operands exceed this core's L2\n"
    "                    (a step streams them), warm where they fit (the layer before just wrote them).\n"
    "                    The entry's \"timing\" says which; the worm and chain1x1: warm\n"
    "  --out FILE        the profile to write (default: this CPU's, arch/profile.h); entries of an\n"
    "                    existing profile of this machine and build there are kept unless retuned\n"
    "  --progress=auto|bar|lines|none  a line per problem on stderr with its result, the time and the ETA\n"
    "                    (none: nothing); --quiet = --progress=none\n";

typedef struct {
    const char *ops[3];   /* "worm", "conv2d", "chain1x1" in tuning order */
    int nops, nmodels, nbatch, batch[MAX_LIST];
    const char *models[MAX_MODELS];
    bool lattice_given;
    int nlat, lt[MAX_LIST], lx[MAX_LIST], nch, ch[MAX_LIST], nthr, thr[MAX_LIST], nmu;
    double mu[MAX_LIST];
    tune_level level;
    tune_cache cache;   /* conv2d's timing (--timing) */
    double budget_s;   /* 0: none */
    opts_progress progress;   /* a line per problem on stderr unless none */
    const char *out;
} tune_opts;

static int bad(const char *what, const char *v) {
    fprintf(stderr, "latbench tune: %s '%s' (try --help)\n", what, v);
    return 2;
}

static int parse_option(tune_opts *o, const char *k, const char *v) {
    if (!strcmp(k, "--op")) {
        char buf[64];
        static const char *const known[] = {"worm", "conv2d", "chain1x1"};
        if (strlen(v) >= sizeof buf || prob_list_has_empty_item(v)) return bad("--op is not a list of worm, conv2d, chain1x1", v);
        strcpy(buf, v);
        o->nops = 0;
        for (char *sv = NULL, *t = strtok_r(buf, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
            const char *name = NULL;
            for (int i = 0; i < 3; i++) name = !strcmp(t, known[i]) ? known[i] : name;
            for (int i = 0; name && i < o->nops; i++) name = o->ops[i] == name ? NULL : name;
            if (!name || o->nops == 3) return bad("--op is not a list of worm, conv2d, chain1x1 (the tunable ops so far)", v);
            o->ops[o->nops++] = name;
        }
    } else if (!strcmp(k, "--model")) {
        if (o->nmodels == MAX_MODELS) return bad("--model: at most 8, one more", v);
        o->models[o->nmodels++] = v;
    } else if (!strcmp(k, "--batch")) {
        if (!prob_parse_int_list(v, 1, 65536, MAX_LIST, o->batch, &o->nbatch)) return bad("--batch is not a list of 1..65536", v);
    } else if (!strcmp(k, "--lattice")) {
        o->lattice_given = true;
        if (!prob_parse_lattice_list(v, MAX_LIST, o->lt, o->lx, &o->nlat)) return bad("--lattice is not a list of NTxNX", v);
        for (int i = 0; i < o->nlat; i++)
            if (o->lt[i] < 2 || o->lx[i] < 2) return bad("--lattice: every side must be >= 2 in", v);
    } else if (!strcmp(k, "--chains")) {
        if (!prob_parse_int_list(v, 1, 1 << 16, MAX_LIST, o->ch, &o->nch)) return bad("--chains is not a list of 1..65536", v);
    } else if (!strcmp(k, "--threads")) {
        if (!prob_parse_int_list(v, 1, LB_MAX_THREADS, MAX_LIST, o->thr, &o->nthr))
            return bad("--threads is not a list of counts >= 1", v);
    } else if (!strcmp(k, "--mu")) {
        double *m = NULL;
        int n = 0;
        char e[256];
        if (!lat_parse_values(v, &m, &n, e, sizeof e) || n > MAX_LIST) return free(m), bad("--mu is not a list of up to 16 values", v);
        for (int i = 0; i < n; i++) o->mu[i] = m[i];
        o->nmu = n;
        free(m);
        for (int i = 0; i < n; i++)
            if (!(fabs(o->mu[i]) <= LAT_MU_MAX)) return bad("--mu out of range", v);
    } else if (!strcmp(k, "--level")) {
        if (!strcmp(v, "quick")) o->level = TUNE_QUICK;
        else if (!strcmp(v, "measure")) o->level = TUNE_MEASURE;
        else if (!strcmp(v, "patient")) o->level = TUNE_PATIENT;
        else return bad("--level is not quick, measure or patient", v);
    } else if (!strcmp(k, "--timing")) {
        if (!strcmp(v, "auto")) o->cache = TUNE_CACHE_AUTO;
        else if (!strcmp(v, "cold")) o->cache = TUNE_CACHE_COLD;
        else if (!strcmp(v, "warm")) o->cache = TUNE_CACHE_WARM;
        else return bad("--timing is not auto, cold or warm", v);
    } else if (!strcmp(k, "--budget")) {
        if (!opts_parse_duration(v, &o->budget_s)) return bad("--budget is not a duration (90, 90s, 500ms, 5m, 1h)", v);
    } else if (!strcmp(k, "--out")) {
        if (!*v) return bad("--out is empty", v);
        o->out = v;
    } else {
        fprintf(stderr, "latbench tune: unknown option '%s' (try --help)\n", k);
        return 2;
    }
    return 0;
}

static int parse_opts(int argc, char **argv, tune_opts *o) {
    static const struct option longopts[] = {{"op", required_argument, NULL, 256},      {"model", required_argument, NULL, 256},
                                             {"batch", required_argument, NULL, 256},   {"lattice", required_argument, NULL, 256},
                                             {"chains", required_argument, NULL, 256},  {"threads", required_argument, NULL, 256},
                                             {"mu", required_argument, NULL, 256},      {"level", required_argument, NULL, 256},
                                             {"budget", required_argument, NULL, 256},  {"out", required_argument, NULL, 256},
                                             {"timing", required_argument, NULL, 256},
                                             OPTS_PROGRESS_LONGOPTS(257, 258),          {0}};
    *o = (tune_opts){.ops = {"worm", "conv2d", "chain1x1"}, .nops = 3, .nbatch = 1, .batch = {128}, .nlat = 4, .lt = {60, 8, 16, 32}, .lx = {4, 8, 16, 32}, .nch = 4, .ch = {2, 4, 8, 16},
                     .nthr = 1, .thr = {1}, .nmu = 1, .mu = {1.0}, .level = TUNE_QUICK, .cache = TUNE_CACHE_AUTO, .progress = OPTS_PROGRESS_AUTO};
    opts_parser p;
    opts_init(&p, "tune", argc, argv, longopts, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return fputs(usage_text, stdout), -1;
        if (c == OPTS_ERR) return 2;
        if (c == 257 && !opts_progress_parse(&p, &o->progress)) return 2;
        if (c == 258) o->progress = OPTS_PROGRESS_NONE;
        const int rc = c == 256 ? parse_option(o, p.name, p.arg) : 0;
        if (rc) return rc;
    }
    if (opts_first_operand(&p) < argc)
        return opts_fail(&p, "unexpected argument '%s' (try latbench tune --help)", argv[opts_first_operand(&p)]);
    if (!o->nmodels) {
        static const char *const nets[] = {PROB_DEFAULT_CONV_NETS};
        for (size_t k = 0; k < sizeof nets / sizeof nets[0]; k++) o->models[o->nmodels++] = nets[k];
    }
    return 0;
}

/* One problem: a worm point, a conv2d layer's pass or a chain; size orders the problems of an op. */
typedef struct {
    bool conv, chain;
    tune_worm_problem worm;
    tune_chain_problem ch;
    conv2d_desc d;
    lb_pass pass;
    int threads;     /* conv2d: timed and keyed at this thread count (the worm's: worm.threads) */
    double size;     /* the worm: sites x chains; conv2d: its share of the presets' steps (summed) */
    double flops;    /* conv2d: the tie-breaker */
    char label[160];
    char share[96];  /* conv2d: "23 % of the task1-eq step" (+ "5 % of task1-st" where shared) */
} tune_job;

static int cmp_size(const void *a, const void *b) {
    const tune_job *p = a, *q = b;
    if (p->size != q->size) return (p->size < q->size) - (p->size > q->size);
    return (p->flops < q->flops) - (p->flops > q->flops);
}

static int worm_jobs(const tune_opts *o, tune_job *jobs, int n) {
    for (int t = 0; t < o->nthr; t++)
        for (int l = 0; l < o->nlat; l++)
            for (int c = 0; c < o->nch; c++)
                for (int m = 0; m < o->nmu && n < MAX_JOBS; m++) {
                    tune_job *j = &jobs[n++];
                    j->conv = false;
                    j->worm = (tune_worm_problem){.nt = o->lt[l], .nx = o->lx[l], .chains = o->ch[c],
                                                  .threads = o->thr[t], .mu = o->mu[m]};
                    j->size = (double)o->lt[l] * o->lx[l] * o->ch[c];
                    char d[128];
                    lat_worm_problem_str(o->lt[l], o->lx[l], o->mu[m], o->ch[c], d, sizeof d);
                    snprintf(j->label, sizeof j->label, "worm %s threads %d", d, o->thr[t]);
                }
    return n;
}

/* Adds share (of net's step) to job j's. */
static void add_share(tune_job *j, double share, const char *net) {
    const size_t at = strlen(j->share);
    j->size += share;
    if (at < sizeof j->share)
        snprintf(j->share + at, sizeof j->share - at, at ? " + %.0f %% of %s" : "%.0f %% of the %s step", 100 * share, net);
}

/* Adds the three passes of desc once (several layers and nets share shapes: their shares add up);
 * share[pass]: of net's step. */
static int add_conv(tune_job *jobs, int n, int first, const conv2d_desc *d, int threads, const double *share,
                    const char *net) {
    static const lb_pass passes[] = {LB_PASS_FWD, LB_PASS_BWD_DATA, LB_PASS_BWD_WEIGHTS};
    for (int i = first; i < n; i++)
        if (!memcmp(&jobs[i].d, d, sizeof *d) && jobs[i].threads == threads) {
            for (int k = i; k < n && k < i + 3; k++) add_share(&jobs[k], share[jobs[k].pass], net);
            return n;
        }
    for (int p = 0; p < 3 && n < MAX_JOBS; p++) {
        tune_job *j = &jobs[n++];
        memset(j, 0, sizeof *j);
        j->conv = true, j->d = *d, j->pass = passes[p], j->threads = threads, j->flops = conv2d_flops(d);
        add_share(j, share[passes[p]], net);
        char desc[96];
        conv2d_desc_str(d, desc, sizeof desc);
        snprintf(j->label, sizeof j->label, "conv2d_%s %s threads %d", lb_pass_name(passes[p]), desc, threads);
    }
    return n;
}

/* The conv problems of one preset at one shape and thread count, with their shares of its step. */
static int net_jobs(const char *net, int h, int w, int batch, int threads, bool say, tune_job *jobs, int n, int first) {
    prob_net_problem *np = malloc(sizeof *np * PROB_NET_MAX_PROBLEMS);
    tune_step st;
    char err[256] = "out of memory";
    const int k = np ? prob_net_problems(net, h, w, batch, np, err, sizeof err) : -1;
    if (k < 0 || !tune_step_shares(net, h, w, batch, threads, &st, err, sizeof err)) {
        fprintf(stderr, "latbench tune: %s: %s\n", net, err);
        free(np);
        return -1;
    }
    if (say)
        fprintf(stderr, "latbench tune: %s %dx%d batch %d, %d thread%s: one training step %.1f ms (default kernels)\n", net,
            h, w, batch, threads, threads == 1 ? "" : "s", 1e3 * st.step_s);
    for (int i = 0; i < k; i++)
        if (np[i].prob.kind == PROB_CONV2D && np[i].layer >= 0 && np[i].layer < st.layers)
            n = add_conv(jobs, n, first, &np[i].prob.u.conv, threads, st.share[np[i].layer], net);
    free(np);
    return n;
}

static int conv_jobs(const tune_opts *o, tune_job *jobs, int n) {
    const int first = n;
    for (int m = 0; m < o->nmodels; m++) {
        const bool task1 = !strncmp(o->models[m], "task1", 5);
        const int nl = o->lattice_given ? o->nlat : 1;
        for (int l = 0; l < nl; l++)
            for (int b = 0; b < o->nbatch; b++)
                for (int t = 0; t < o->nthr && n >= 0; t++) {
                    const int h = o->lattice_given ? o->lt[l] : task1 ? 60 : 8, w = o->lattice_given ? o->lx[l] : task1 ? 4 : 8;
                    n = net_jobs(o->models[m], h, w, o->batch[b], o->thr[t], o->progress != OPTS_PROGRESS_NONE, jobs, n, first);
                }
    }
    return n;
}

/* The chains of one preset's inference model at one shape, batch and thread count (a chain shared
 * by several presets once); size: its FLOPs. */
static int chain_jobs_of(const char *net, int h, int w, int batch, int threads, tune_job *jobs, int n, int first) {
    net_spec spec;
    char err[256];
    const char *text = netspec_preset(net);
    nn_model *m = text && netspec_parse(text, &spec, err, sizeof err) ? nn_model_create(&spec, h, w, batch, threads, false, err, sizeof err) : NULL;
    if (!m) return fprintf(stderr, "latbench tune: %s: %s\n", net, text ? err : "not a network preset"), -1;
    chain1x1_desc d;
    for (int i = 0; i < nn_model_layers(m) && n < MAX_JOBS; i++) {
        if (!nn_model_chain_at(m, i, &d, NULL)) continue;
        bool seen = false;
        for (int k = first; k < n && !seen; k++)
            seen = !memcmp(&jobs[k].ch.d, &d, sizeof d) && jobs[k].ch.threads == threads;
        if (seen) continue;
        tune_job *j = &jobs[n++];
        memset(j, 0, sizeof *j);
        j->chain = true;
        j->ch = (tune_chain_problem){.d = d, .n = batch, .threads = threads, .ps = (size_t)h * w};
        j->size = j->flops = chain1x1_flops(&d);
        char desc[128];
        lb_chain1x1_problem_str(&d, desc, sizeof desc);
        snprintf(j->label, sizeof j->label, "chain1x1 %s threads %d", desc, threads);
        snprintf(j->share, sizeof j->share, "the %s chain at layer %d", net, i);
    }
    nn_model_free(m);
    return n;
}

static int chain_jobs(const tune_opts *o, tune_job *jobs, int n) {
    const int first = n;
    for (int m = 0; m < o->nmodels && n >= 0; m++) {
        const bool task1 = !strncmp(o->models[m], "task1", 5);
        const int nl = o->lattice_given ? o->nlat : 1;
        for (int l = 0; l < nl && n >= 0; l++)
            for (int b = 0; b < o->nbatch && n >= 0; b++)
                for (int t = 0; t < o->nthr && n >= 0; t++) {
                    const int h = o->lattice_given ? o->lt[l] : task1 ? 60 : 8, w = o->lattice_given ? o->lx[l] : task1 ? 4 : 8;
                    n = chain_jobs_of(o->models[m], h, w, o->batch[b], o->thr[t], jobs, n, first);
                }
    }
    return n;
}

/* Each op's problems in --op order, largest first within an op (the worm: sites x chains; conv2d:
 * the share of the presets' training steps, then FLOPs); -1 on a bad model. */
static int make_jobs(const tune_opts *o, tune_job *jobs) {
    int n = 0;
    for (int k = 0; k < o->nops; k++) {
        const int first = n;
        n = !strcmp(o->ops[k], "worm") ? worm_jobs(o, jobs, n) : !strcmp(o->ops[k], "conv2d") ? conv_jobs(o, jobs, n)
                                                               : chain_jobs(o, jobs, n);
        if (n < 0) return -1;
        qsort(jobs + first, (size_t)(n - first), sizeof *jobs, cmp_size);
    }
    return n;
}

/* mkdir -p of the folder holding path. */
static void make_parent(const char *path) {
    char d[4096];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) return;
    *slash = 0;
    for (char *p = d + 1; *p; p++)
        if (*p == '/') *p = 0, mkdir(d, 0755), *p = '/';
    mkdir(d, 0755);
}

/* Adds e to p, replacing an entry of the same key. */
static bool profile_put(lb_profile *p, const lb_profile_entry *e) {
    for (int i = 0; i < p->n; i++) {
        const lb_profile_entry *x = &p->entries[i];
        if (!strcmp(x->op, e->op) && x->pass == e->pass && !strcmp(x->problem, e->problem) && x->isa == e->isa &&
            x->threads == e->threads)
            return p->entries[i] = *e, true;
    }
    if (p->n >= LB_PROFILE_MAX_ENTRIES) return false;
    lb_profile_entry *n = realloc(p->entries, sizeof *n * (size_t)(p->n + 1));
    if (!n) return false;
    p->entries = n;
    p->entries[p->n++] = *e;
    return true;
}

/* The profile to extend: an existing one at path made here (else a fresh one with this identity). */
static void profile_start(const char *path, lb_profile *p) {
    lb_profile_identity here;
    lb_profile_identity_here(&here, &lb_dispatch_get()->cpu, lb_cpu_cores());
    char err[512];
    memset(p, 0, sizeof *p);
    if (lb_profile_load(path, &here, p, err, sizeof err) == LB_PROFILE_OK) {
        if (p->dropped[0]) fprintf(stderr, "latbench tune: %s: %s\n", path, p->dropped);
        fprintf(stderr, "latbench tune: extending %s (%d entries)\n", path, p->n);
        p->id = here;   /* the kept entries' kernels are this build's */
        return;
    }
    memset(p, 0, sizeof *p);
    p->id = here;
}

/* One line per problem: the choice, the final round (q1 and median per call of the default and of
 * the last challenger), what verification rejected, the best speedup so far, the time left. */
static void progress(int i, int n, const tune_job *j, const lb_profile_entry *e, const tune_outcome *o,
                     const char *rejected, double t0, double best) {
    const double el = lat_now() - t0, eta = i + 1 < n ? el / (i + 1) * (n - i - 1) : 0;
    const lb_dispatch *d = lb_dispatch_get();
    char chal[160] = "";
    if (o->chal_name) {
        int k = snprintf(chal, sizeof chal, ", %s %.1f/%.1f; default/it ", o->chal_name, 1e6 * o->chal.q1,
                         1e6 * o->chal.median);
        if (k > 0 && (size_t)k < sizeof chal)
            snprintf(chal + k, sizeof chal - (size_t)k, o->ci.decidable ? "%.2f [%.2f, %.2f]" : "undecidable",
                     o->ci.ratio, o->ci.lo, o->ci.hi);
    }
    char cold[64] = "";
    if (o->cold_copies)
        snprintf(cold, sizeof cold, "; cold: %d cop%s, %.0f MiB", o->cold_copies, o->cold_copies == 1 ? "y" : "ies",
                 o->cold_bytes / 1048576.0);
    fprintf(stderr, "tune: [%d/%d] %s%s%s%s: %s%s (%.2fx the default %s, spread %.0f%%; q1/median us: default %.1f/%.1f%s%s)%s%s; "
            "best so far %.2fx; %.0f s, ETA %.0f s\n", i + 1, n, j->label, j->share[0] ? " (" : "", j->share,
            j->share[0] ? ")" : "", e->variant, o->params, e->speedup,
            j->conv ? d->conv2d->name : j->chain ? (nn_chain_default_fused(d, false) ? d->chain1x1->name : "unfused") : d->worm->name, 100 * e->spread, 1e6 * o->def.q1, 1e6 * o->def.median, chal, cold,
            *rejected ? "; rejected: " : "", rejected, best, el, eta);
}

static int run_jobs(const tune_opts *o, const tune_job *jobs, int n, lb_profile *p) {
    const double t0 = lat_now();
    double best = 1.0;
    int done = 0;
    for (; done < n; done++) {
        if (o->budget_s > 0 && lat_now() - t0 >= o->budget_s) break;
        lb_profile_entry e;
        tune_outcome oc;
        char rejected[128], err[512];
        const tune_job *j = &jobs[done];
        const bool ok = j->conv    ? tune_conv(&j->d, j->pass, j->threads, o->level, o->cache, &e, &oc, rejected, sizeof rejected, err, sizeof err)
                        : j->chain ? tune_chain(&j->ch, o->level, &e, &oc, rejected, sizeof rejected, err, sizeof err)
                                   : tune_worm(&j->worm, o->level, &e, &oc, rejected, sizeof rejected, err, sizeof err);
        if (!ok) return fprintf(stderr, "latbench tune: %s: %s\n", j->label, err), 1;
        if (e.speedup > best) best = e.speedup;
        if (!profile_put(p, &e)) return fprintf(stderr, "latbench tune: too many profile entries\n"), 1;
        if (o->progress != OPTS_PROGRESS_NONE) progress(done, n, &jobs[done], &e, &oc, rejected, t0, best);
    }
    if (done < n) {
        fprintf(stderr, "latbench tune: budget of %g s spent: %d of %d problems left untuned:", o->budget_s, n - done, n);
        for (int i = done; i < n; i++) fprintf(stderr, "%s %s", i > done ? "," : "", jobs[i].label);
        fprintf(stderr, "\n");
    }
    return 0;
}

int cmd_tune(int argc, char **argv) {
    tune_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    char path[4096];
    if (o.out) snprintf(path, sizeof path, "%s", o.out);
    else {
        lb_profile_identity here;
        lb_profile_identity_here(&here, &lb_dispatch_get()->cpu, lb_cpu_cores());
        if (!lb_profile_default_path(here.slug, path, sizeof path))
            return fprintf(stderr, "latbench tune: no profile location (neither XDG_CACHE_HOME nor HOME): use --out\n"), 2;
    }
    static tune_job jobs[MAX_JOBS];
    const int n = make_jobs(&o, jobs);
    if (n < 0) return 2;
    lb_profile p;
    profile_start(path, &p);
    if (o.progress != OPTS_PROGRESS_NONE)
        fprintf(stderr, "latbench tune: %d problems at cap %s, level %s, into %s\n", n,
            lb_isa_name(lb_dispatch_get()->cap), o.level == TUNE_QUICK ? "quick" : o.level == TUNE_MEASURE ? "measure" : "patient",
            path);
    bool conv = false;
    for (int k = 0; k < o.nops; k++) conv |= !strcmp(o.ops[k], "conv2d");
    if (conv && o.cache != TUNE_CACHE_WARM && o.progress != OPTS_PROGRESS_NONE) {
        const lb_cpu *cpu = &lb_dispatch_get()->cpu;
        const size_t target = timing_cold_target_bytes(cpu->l2_bytes, cpu->l3_bytes);
        fprintf(stderr, "latbench tune: conv2d timed cold%s: each call on the next copy of its operands, the copies "
                "covering 2 x (L2 %.0f MiB + L3 %.0f MiB) = %.0f MiB%s\n",
                o.cache == TUNE_CACHE_AUTO ? " where a pass's operands exceed L2 (else warm)" : "", cpu->l2_bytes / 1048576.0,
                cpu->l3_bytes / 1048576.0, target / 1048576.0,
                target > TIMING_COLD_CAP_BYTES ? ", capped at 256 MiB in all (below the target: some copies may still come from L3)" : "");
    }
    rc = run_jobs(&o, jobs, n, &p);
    char err[4200];
    make_parent(path);
    if (!rc && !lb_profile_save(path, &p, err, sizeof err)) {
        fprintf(stderr, "latbench tune: %s\n", err);
        rc = 1;
    }
    if (!rc) printf("tuning profile: %s (%d entries)\n", path, p.n);
    lb_profile_free(&p);
    return rc;
}

/* latbench generate: the datasets of the three tasks (docs/design.md §3, §7) written atomically into a
 * new directory: x.npy (int16 [N,4,NT,NX]), y.npy (float32 [N,outputs]), meta.json.  All three
 * files depend only on the options and the seed (not on threads or the kernel variant), so they
 * are byte-identical across runs; timings and the kernel go to stdout instead. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch/registry.h"
#include "harness/cli/cli.h"
#include "harness/io/npy.h"
#include "harness/io/outdir.h"
#include "harness/lattice/dataset.h"
#include "harness/lattice/params.h"
#include "harness/lattice/violations.h"

#ifndef LATBENCH_VERSION
#define LATBENCH_VERSION "0.1.0"
#endif

static void usage(FILE *f) {
    fprintf(f,
            "usage: latbench generate --task regression|detect|count --lattice NTxNX --lambda L\n"
            "                         (--eta LIST --mu LIST | --points ETA:MU[,ETA:MU...]) --count N --out DIR [options]\n"
            "  LIST: a number, a comma list or a range A:B:STEP; --eta x --mu is a grid, --points lists pairs\n"
            "  --count N           configurations in all, split evenly over the points\n"
            "  --worms LIST        open worms per violated configuration (detect: default 1, half the\n"
            "                      configurations are clean; count: default 0:10, taken in turn)\n"
            "  --seed S            (default 1)\n"
            "  --chains C          chains per point (default 16)\n"
            "  --threads T         (default: all cores; the dataset does not depend on it)\n"
            "  --therm N           thermalization sweeps (default 2000; tau_int is measured on the last half)\n"
            "  --spacing N         sweeps between stored configurations (default: ceil(tau-factor * tau_int))\n"
            "  --tau-factor X      (default 2)\n"
            "  --worms-per-sweep N|auto, --fmax F, --viol-steps S (head proposals of an open worm: 1..S, default 4V)\n"
            "The dataset appears in DIR only when complete; an existing DIR is never overwritten.\n");
}

static int fail(const char *msg) {
    fprintf(stderr, "latbench generate: %s\n", msg);
    return 2;
}

typedef struct {
    int fd;
    long header;
    size_t bytes; /* per configuration */
} xstore;

static bool store_x(void *ctx, long index, const int16_t *x, char *err, size_t errlen) {
    const xstore *s = ctx;
    return lb_pwrite_all(s->fd, x, s->bytes, s->header + index * (long)s->bytes, err, errlen);
}

static json_t *values_json(const double *v, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++) seen |= v[j] == v[i];
        if (!seen) json_array_append_new(a, json_real(v[i]));
    }
    return a;
}

static json_t *meta_json(const lb_gen_opts *o, const lb_gen_point *pts, long wps_opt, int nt, int nx) {
    const int outs = lb_task_outputs(o->task);
    json_t *m = json_object();
    json_object_set_new(m, "format", json_string("latbench-dataset-1"));
    json_object_set_new(m, "program", json_string("latbench generate"));
    json_object_set_new(m, "version", json_string(LATBENCH_VERSION));
    json_object_set_new(m, "task", json_string(lb_task_name(o->task)));
    json_object_set_new(m, "lattice", json_pack("[i, i]", nt, nx));
    json_object_set_new(m, "count", json_integer(o->count));
    json_object_set_new(m, "x", json_pack("{s:s, s:s, s:[I, i, i, i], s:[s, s, s, s], s:s}", "file", "x.npy", "dtype", "int16",
                                          "shape", (json_int_t)o->count, 4, nt, nx, "channels", "k_t", "k_x", "l_t", "l_x",
                                          "layout", "x[i][channel][t][x]; link (t,x,nu) joins site (t,x) to its +nu neighbour"));
    json_t *cols = o->task == LB_TASK_REGRESSION ? json_pack("[s, s]", "n", "phi2")
                   : o->task == LB_TASK_DETECT   ? json_pack("[s]", "violation")
                                                 : json_pack("[s]", "open_worms");
    json_object_set_new(m, "y", json_pack("{s:s, s:s, s:[I, i], s:o}", "file", "y.npy", "dtype", "float32", "shape",
                                          (json_int_t)o->count, outs, "columns", cols));
    json_object_set_new(m, "eta", values_json(o->eta, o->npoints));
    json_object_set_new(m, "lambda", values_json(o->lambda, o->npoints));
    json_object_set_new(m, "mu", values_json(o->mu, o->npoints));
    json_object_set_new(m, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(m, "chains_per_point", json_integer(o->chains));
    json_object_set_new(m, "therm", json_integer(o->therm));
    json_object_set_new(m, "spacing_rule", o->spacing > 0 ? json_sprintf("fixed %d sweeps", o->spacing)
                                                          : json_sprintf("ceil(%g * tau_int), tau_int = max(tau_int(n), tau_int(phi2)) over the last %d thermalization sweeps",
                                                                         o->tau_factor, o->therm - o->therm / 2));
    json_object_set_new(m, "worms_per_sweep", wps_opt ? json_integer(wps_opt) : json_string("auto"));
    json_object_set_new(m, "fmax", json_integer(o->fmax));
    json_object_set_new(m, "sweep", json_string("l pass over all 2V links in index order (link = 2*(t*NX+x)+nu), then "
                                                "worms_per_sweep worms (docs/worm.md)"));
    if (o->task != LB_TASK_REGRESSION) {
        json_t *w = json_array();
        for (int i = 0; i < o->nworms; i++) json_array_append_new(w, json_integer(o->worms[i]));
        json_object_set_new(m, "worms", w);
        json_object_set_new(
            m, "violation",
            json_pack("{s:s, s:s, s:s}", "definition",
                      "a site x with div_x = sum_nu (k_{x,nu} - k_{x-nu,nu}) != 0; each open worm has 2 distinct end "
                      "sites with |div| = 1, so sum_x |div_x| = 2K",
                      "label", o->task == LB_TASK_DETECT ? "y = 1 if K > 0 else 0" : "y = K = sum_x |div_x| / 2",
                      "insertion",
                      "worm head steps with the sampler's acceptance from a random start, stopped after T head "
                      "proposals (T uniform in 1..viol_steps) at a site that is no other worm's end "
                      "(harness/lattice/violations.h)"));
    }
    json_t *pl = json_array();
    for (int p = 0; p < o->npoints; p++) {
        const lb_gen_point *q = &pts[p];
        json_t *lab = json_object();
        for (int k = 0; k <= LB_GEN_MAX_K; k++)
            if (q->kcount[k]) {
                char key[16];
                snprintf(key, sizeof key, "%d", k);
                json_object_set_new(lab, key, json_integer(q->kcount[k]));
            }
        json_t *pj = json_pack(
            "{s:f, s:f, s:f, s:I, s:I, s:i, s:f, s:f, s:f, s:f, s:i, s:i, s:{s:f, s:f}, s:f, s:{s:f, s:f}, s:{s:f, s:f}}",
            "eta", q->eta, "lambda", q->lambda, "mu", q->mu, "offset", (json_int_t)q->offset, "count",
            (json_int_t)q->count, "chains", q->chains, "tau_int", q->tau_int, "tau_int_err",
            q->n.tau > q->phi2.tau ? q->n.tau_err : q->phi2.tau_err, "tau_int_n", q->n.tau, "tau_int_phi2", q->phi2.tau,
            "spacing", q->spacing, "worms_per_sweep", q->worms_per_sweep, "acceptance", "worm", q->acc_worm, "l",
            q->acc_l, "worm_length", q->worm_len, "n_therm", "mean", q->n.mean, "err", q->n.err, "phi2_therm", "mean",
            q->phi2.mean, "err", q->phi2.err);
        if (o->task != LB_TASK_REGRESSION) {
            json_object_set_new(pj, "labels", lab);
            json_object_set_new(pj, "viol_steps", json_integer(q->viol_steps));
        } else
            json_decref(lab);
        json_array_append_new(pl, pj);
    }
    json_object_set_new(m, "points", pl);
    return m;
}

int cmd_generate(int argc, char **argv) {
    const char *stask = NULL, *lat = NULL, *seta = NULL, *slam = NULL, *smu = NULL, *spts = NULL, *sworms = NULL,
               *out = NULL;
    long count = -1, chains = 16, threads = 0, therm = 2000, spacing = 0, fmax = LB_FMAX_DEFAULT, wps = 0, vsteps = 0;
    double tau_factor = 2.0;
    uint64_t seed = 1;
    char err[400];
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout), 0;
#define OPT(NAME) ((r = lb_opt_value(argc, argv, &i, NAME, &v)) < 0 ? (snprintf(err, sizeof err, "%s needs a value", NAME), 1) : r)
#define STR(NAME, VAR)                   \
    if (OPT(NAME)) {                     \
        if (r < 0) return fail(err);     \
        VAR = v;                         \
        continue;                        \
    }
#define LONG_IN(NAME, VAR, LO, HI)                                                                                  \
    if (OPT(NAME)) {                                                                                                \
        if (r < 0) return fail(err);                                                                                \
        if (!lb_parse_long(v, LO, HI, &VAR))                                                                        \
            return snprintf(err, sizeof err, "%s %s: expected an integer in %ld..%ld", NAME, v, (long)(LO), (long)(HI)), \
                   fail(err);                                                                                       \
        continue;                                                                                                   \
    }
        STR("--task", stask)
        STR("--lattice", lat)
        STR("--eta", seta)
        STR("--lambda", slam)
        STR("--mu", smu)
        STR("--points", spts)
        STR("--worms", sworms)
        STR("--out", out)
        if (OPT("--seed")) {
            if (r < 0) return fail(err);
            if (!lb_parse_u64(v, &seed)) return snprintf(err, sizeof err, "--seed %s: expected an unsigned integer", v), fail(err);
            continue;
        }
        if (OPT("--tau-factor")) {
            if (r < 0) return fail(err);
            if (!lb_parse_double(v, &tau_factor) || !(tau_factor > 0) || tau_factor > 1000)
                return snprintf(err, sizeof err, "--tau-factor %s: expected a number in (0, 1000]", v), fail(err);
            continue;
        }
        if (OPT("--worms-per-sweep")) {
            if (r < 0 || !lb_parse_worms_per_sweep(v, &wps, err, sizeof err)) return fail(err);
            continue;
        }
        LONG_IN("--count", count, 1, 1L << 40)
        LONG_IN("--chains", chains, 1, 1 << 16)
        LONG_IN("--threads", threads, 1, 4096)
        LONG_IN("--therm", therm, 8, 1L << 30)
        LONG_IN("--spacing", spacing, 1, 1L << 30)
        LONG_IN("--fmax", fmax, 8, LB_FMAX_MAX)
        LONG_IN("--viol-steps", vsteps, 1, 1L << 30)
#undef LONG_IN
#undef STR
#undef OPT
        snprintf(err, sizeof err, "unknown option '%s' (try --help)", argv[i]);
        return fail(err);
    }
    if (!stask || !lat || !slam || count < 0 || !out)
        return fail("--task, --lattice, --lambda, --eta/--mu or --points, --count and --out are required (try --help)");
    lb_task task = !strcmp(stask, "regression") ? LB_TASK_REGRESSION
                   : !strcmp(stask, "detect")   ? LB_TASK_DETECT
                   : !strcmp(stask, "count")    ? LB_TASK_COUNT
                                                : 0;
    if (!task) return snprintf(err, sizeof err, "--task %s: expected regression, detect or count", stask), fail(err);
    if (spts && (seta || smu)) return fail("give either --points or --eta and --mu, not both");
    if (!spts && (!seta || !smu)) return fail("--eta and --mu (or --points) are required");
    if (task == LB_TASK_REGRESSION && sworms) return fail("--worms applies to the detect and count tasks only");
    int nt, nx;
    if (!lb_parse_lattice(lat, &nt, &nx, err, sizeof err)) return fail(err);

    int rc = 0, ne = 0, nl = 0, nm = 0, np = 0, nw = 0;
    double *eta = NULL, *lam = NULL, *mu = NULL, *pe = NULL, *pl = NULL, *pm = NULL;
    int *worms = NULL;
    float *y = NULL;
    lb_gen_point *res = NULL;
    lb_outdir od = {0};
    xstore xs = {.fd = -1};
    if (!lb_parse_values(slam, &lam, &nl, err, sizeof err)) goto bad;
    if (spts) {
        /* ETA:MU pairs: parsed as a list whose items hold one ':' each */
        char *copy = strdup(spts);
        int cap = 1;
        for (const char *c = spts; *c; c++) cap += *c == ',';
        eta = malloc(sizeof(double) * cap), mu = malloc(sizeof(double) * cap);
        bool good = copy && eta && mu;
        for (char *tok = good ? strtok(copy, ",") : NULL; good && tok; tok = strtok(NULL, ",")) {
            char *colon = strchr(tok, ':');
            if (!colon || strchr(colon + 1, ':')) good = false;
            else {
                *colon = 0;
                good = lb_parse_double(tok, &eta[ne]) && lb_parse_double(colon + 1, &mu[ne]);
                ne++;
            }
        }
        free(copy);
        if (!good || ne == 0) {
            snprintf(err, sizeof err, "--points %s: expected ETA:MU[,ETA:MU...]", spts);
            goto bad;
        }
        nm = 1;
    } else if (!lb_parse_values(seta, &eta, &ne, err, sizeof err) || !lb_parse_values(smu, &mu, &nm, err, sizeof err))
        goto bad;
    const int dims[3] = {ne, nl, nm};
    if (!lb_grid_points(dims, 3, &np, err, sizeof err)) goto bad;
    pe = malloc(sizeof(double) * np), pl = malloc(sizeof(double) * np), pm = malloc(sizeof(double) * np);
    if (!pe || !pl || !pm) {
        snprintf(err, sizeof err, "out of memory");
        goto bad;
    }
    for (int a = 0, p = 0; a < ne; a++)
        for (int b = 0; b < nl; b++)
            for (int c = 0; c < nm; c++, p++) pe[p] = eta[a], pl[p] = lam[b], pm[p] = spts ? mu[a] : mu[c];
    if (task != LB_TASK_REGRESSION &&
        !lb_parse_ints(sworms ? sworms : task == LB_TASK_DETECT ? "1" : "0:10", &worms, &nw, err, sizeof err))
        goto bad;
    lb_gen_opts o = {.task = task, .nt = nt, .nx = nx, .npoints = np, .eta = pe, .lambda = pl, .mu = pm,
                     .nworms = nw, .worms = worms, .count = count, .chains = (int)chains, .threads = (int)threads,
                     .therm = (int)therm, .spacing = (int)spacing, .worms_per_sweep = (int)wps, .fmax = (int)fmax,
                     .viol_steps = (int)vsteps, .tau_factor = tau_factor, .seed = seed, .ops = NULL,
                     .progress = true};
    if (!lb_generate_check(&o, err, sizeof err)) goto bad;
    const int outs = lb_task_outputs(task);
    y = calloc((size_t)count * outs, sizeof(float));
    res = calloc(np, sizeof *res);
    if (!y || !res) {
        snprintf(err, sizeof err, "out of memory for %ld configurations", count);
        goto bad;
    }
    if (!lb_outdir_begin(&od, out, err, sizeof err)) goto bad;

    /* from here on, failures are runtime errors (exit 1) and remove the temporary directory */
    char path[4300];
    long shape[4] = {count, 4, nt, nx};
    char hdr[LB_NPY_HEADER_MAX];
    size_t hl = lb_npy_header(hdr, lb_npy_descr_i16(), shape, 4);
    lb_outdir_file(&od, "x.npy", path, sizeof path);
    xs.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (xs.fd < 0) {
        snprintf(err, sizeof err, "cannot create %.300s: %s", path, strerror(errno));
        goto fail1;
    }
    xs.header = (long)hl, xs.bytes = sizeof(int16_t) * 4 * (size_t)nt * nx;
    if (!hl || !lb_pwrite_all(xs.fd, hdr, hl, 0, err, sizeof err)) goto fail1;
    o.store = store_x, o.ctx = &xs, o.y = y;
    int nthreads = threads > 0 ? (int)threads : omp_get_max_threads();
    double t0 = lb_now();
    if (!lb_generate(&o, res, err, sizeof err)) goto fail1;
    double dt = lb_now() - t0;
    if (fsync(xs.fd) != 0 || close(xs.fd) != 0) {
        xs.fd = -1;
        snprintf(err, sizeof err, "writing x.npy: %s", strerror(errno));
        goto fail1;
    }
    xs.fd = -1;
    long yshape[2] = {count, outs};
    lb_outdir_file(&od, "y.npy", path, sizeof path);
    int yfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    bool yok = yfd >= 0 &&
               lb_npy_write_fd(yfd, lb_npy_descr_f32(), yshape, 2, y, sizeof(float) * count * outs, err, sizeof err) &&
               fsync(yfd) == 0;
    if (yfd >= 0 && close(yfd) != 0) yok = false;
    if (!yok) {
        if (yfd < 0) snprintf(err, sizeof err, "cannot create %.300s: %s", path, strerror(errno));
        goto fail1;
    }
    json_t *meta = meta_json(&o, res, wps, nt, nx);
    char *text = json_dumps(meta, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    json_decref(meta);
    lb_outdir_file(&od, "meta.json", path, sizeof path);
    size_t tl = text ? strlen(text) : 0;
    char *buf = text ? malloc(tl + 2) : NULL;
    if (buf) memcpy(buf, text, tl), buf[tl] = '\n', buf[tl + 1] = 0;
    bool mok = buf && lb_write_file_atomic(path, buf, tl + 1, err, sizeof err);
    if (!buf) snprintf(err, sizeof err, "out of memory for meta.json");
    free(buf);
    free(text);
    if (!mok) goto fail1;
    if (!lb_outdir_commit(&od, err, sizeof err)) goto fail1;
    printf("latbench generate: wrote %s: task %s, %ld configurations of %dx%d at %d point(s), %.1f s on %d threads "
           "(worm kernel %s)\n",
           out, lb_task_name(task), count, nt, nx, np, dt, nthreads, lb_dispatch_get()->worm->name);
    for (int p = 0; p < np; p++)
        printf("  eta %g lambda %g mu %g: %ld configs, tau_int %.1f, spacing %d sweeps, %d worms/sweep, acceptance "
               "worm %.3f l %.3f\n",
               res[p].eta, res[p].lambda, res[p].mu, res[p].count, res[p].tau_int, res[p].spacing,
               res[p].worms_per_sweep, res[p].acc_worm, res[p].acc_l);
    goto done;
bad:
    rc = fail(err);
    goto done;
fail1:
    /* the message names the dataset, not its temporary directory (which is removed) */
    fprintf(stderr, "latbench generate: %s: %s\n", out, err);
    if (xs.fd >= 0) close(xs.fd);
    lb_outdir_abort(&od);
    rc = 1;
done:
    free(eta), free(lam), free(mu), free(pe), free(pl), free(pm), free(worms), free(y), free(res);
    return rc;
}

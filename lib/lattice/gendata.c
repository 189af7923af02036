#include "lib/lattice/gendata.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch/registry.h"
#include "lib/io/npy.h"
#include "lib/io/outdir.h"
#include "lib/lattice/params.h"
#include "lib/lattice/violations.h"

#ifndef LATBENCH_VERSION
#define LATBENCH_VERSION "0.1.0"
#endif

#define REQUIRED "--task, --lattice, --lambda, --eta/--mu or --points, --count and --out are required (try --help)"

lat_gen_settings lat_gen_settings_defaults(void) {
    return (lat_gen_settings){.count = -1, .chains = 16, .therm = 2000, .fmax = LAT_FMAX_DEFAULT, .tau_factor = 2.0,
                             .seed = 1, .progress = true};
}

const char *const lat_gen_option_names[] = {"--task", "--lattice", "--eta", "--lambda", "--mu", "--points", "--worms",
                                           "--out", "--seed", "--tau-factor", "--worms-per-sweep", "--count",
                                           "--chains", "--threads", "--therm", "--spacing", "--fmax", "--viol-steps",
                                           NULL};

/* The integer options: name, field, range. */
static bool set_long(lat_gen_settings *s, const char *name, const char *v, char *err, size_t errlen, int *taken) {
    static const struct {
        const char *name;
        size_t off;
        long lo, hi;
    } L[] = {{"--count", offsetof(lat_gen_settings, count), 1, 1L << 40},
             {"--chains", offsetof(lat_gen_settings, chains), 1, 1 << 16},
             {"--threads", offsetof(lat_gen_settings, threads), 1, 4096},
             {"--therm", offsetof(lat_gen_settings, therm), 8, 1L << 30},
             {"--spacing", offsetof(lat_gen_settings, spacing), 1, 1L << 30},
             {"--fmax", offsetof(lat_gen_settings, fmax), 8, LAT_FMAX_MAX},
             {"--viol-steps", offsetof(lat_gen_settings, viol_steps), 1, 1L << 30}};
    for (size_t k = 0; k < sizeof L / sizeof L[0]; k++) {
        if (strcmp(name, L[k].name)) continue;
        *taken = 1;
        if (lat_parse_long(v, L[k].lo, L[k].hi, (long *)((char *)s + L[k].off))) return true;
        return snprintf(err, errlen, "%s %s: expected an integer in %ld..%ld", name, v, L[k].lo, L[k].hi), false;
    }
    return true;
}

bool lat_gen_settings_set(lat_gen_settings *s, const char *name, const char *v, char *err, size_t errlen) {
    const char **str = !strcmp(name, "--task")      ? &s->task
                       : !strcmp(name, "--lattice") ? &s->lattice
                       : !strcmp(name, "--eta")     ? &s->eta
                       : !strcmp(name, "--lambda")  ? &s->lambda
                       : !strcmp(name, "--mu")      ? &s->mu
                       : !strcmp(name, "--points")  ? &s->points
                       : !strcmp(name, "--worms")   ? &s->worms
                       : !strcmp(name, "--out")     ? &s->out
                                                    : NULL;
    if (str) return *str = v, true;
    if (!strcmp(name, "--seed")) {
        if (!lat_parse_u64(v, &s->seed)) return snprintf(err, errlen, "--seed %s: expected an unsigned integer", v), false;
        return true;
    }
    if (!strcmp(name, "--tau-factor")) {
        if (!lat_parse_double(v, &s->tau_factor) || !(s->tau_factor > 0) || s->tau_factor > 1000)
            return snprintf(err, errlen, "--tau-factor %s: expected a number in (0, 1000]", v), false;
        return true;
    }
    if (!strcmp(name, "--worms-per-sweep")) return lat_parse_worms_per_sweep(v, &s->worms_per_sweep, err, errlen);
    int taken = 0;
    if (!set_long(s, name, v, err, errlen, &taken)) return false;
    if (!taken) return snprintf(err, errlen, "unknown option '%s' (try --help)", name), false;
    return true;
}

/* Appends " NAME VALUE" for a text option that is set. */
static void put_text(char *buf, size_t len, size_t *at, const char *name, const char *v) {
    if (!v) return;
    int n = snprintf(buf + (*at < len ? *at : len), *at < len ? len - *at : 0, " %s %s", name, v);
    *at += n > 0 ? (size_t)n : 0;
}

static void put_long(char *buf, size_t len, size_t *at, const char *name, long v) {
    char t[32];
    snprintf(t, sizeof t, "%ld", v);
    put_text(buf, len, at, name, t);
}

bool lat_gen_settings_text(const lat_gen_settings *s, const char *const *point_order, char *buf, size_t len) {
    static const char *const canonical[] = {"--points", "--eta", "--mu", "--lambda", "--worms", NULL};
    const lat_gen_settings d = lat_gen_settings_defaults();
    char t[64];
    size_t at = 0;
    put_text(buf, len, &at, "--task", s->task);
    for (const char *const *o = point_order ? point_order : canonical; *o; o++)
        put_text(buf, len, &at, *o,
                 !strcmp(*o, "--points") ? s->points
                 : !strcmp(*o, "--eta")  ? s->eta
                 : !strcmp(*o, "--mu")   ? s->mu
                 : !strcmp(*o, "--lambda") ? s->lambda
                 : !strcmp(*o, "--worms")  ? s->worms
                                           : NULL);
    put_text(buf, len, &at, "--lattice", s->lattice);
    put_long(buf, len, &at, "--count", s->count);
    snprintf(t, sizeof t, "%llu", (unsigned long long)s->seed);
    put_text(buf, len, &at, "--seed", t);
    put_long(buf, len, &at, "--therm", s->therm);
    put_long(buf, len, &at, "--chains", s->chains);
    snprintf(t, sizeof t, "%.17g", s->tau_factor);
    if (s->tau_factor != d.tau_factor) put_text(buf, len, &at, "--tau-factor", t);
    if (s->worms_per_sweep != d.worms_per_sweep) put_long(buf, len, &at, "--worms-per-sweep", s->worms_per_sweep);
    if (s->spacing != d.spacing) put_long(buf, len, &at, "--spacing", s->spacing);
    if (s->fmax != d.fmax) put_long(buf, len, &at, "--fmax", s->fmax);
    if (s->viol_steps != d.viol_steps) put_long(buf, len, &at, "--viol-steps", s->viol_steps);
    if (at >= len) return false;
    /* without the leading blank */
    if (at) memmove(buf, buf + 1, at);
    else if (len) buf[0] = 0;
    return true;
}

/* ETA:MU pairs: a list whose items hold one ':' each. */
static bool parse_pairs(const char *spts, double **eta, double **mu, int *ne, char *err, size_t errlen) {
    char *copy = strdup(spts), *save = NULL;
    int cap = 1;
    for (const char *c = spts; *c; c++) cap += *c == ',';
    *eta = malloc(sizeof(double) * cap), *mu = malloc(sizeof(double) * cap);
    bool good = copy && *eta && *mu;
    for (char *tok = good ? strtok_r(copy, ",", &save) : NULL; good && tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon || strchr(colon + 1, ':')) good = false;
        else {
            *colon = 0;
            good = lat_parse_double(tok, &(*eta)[*ne]) && lat_parse_double(colon + 1, &(*mu)[*ne]);
            ++*ne;
        }
    }
    free(copy);
    if (!good || *ne == 0) return snprintf(err, errlen, "--points %s: expected ETA:MU[,ETA:MU...]", spts), false;
    return true;
}

/* The grid eta x lambda x mu (or the --points pairs x lambda) into g's point arrays. */
static bool make_points(const lat_gen_settings *s, lat_gendata *g, char *err, size_t errlen) {
    int ne = 0, nl = 0, nm = 0, np = 0;
    double *eta = NULL, *lam = NULL, *mu = NULL;
    bool ok = lat_parse_values(s->lambda, &lam, &nl, err, errlen);
    if (ok && s->points) ok = parse_pairs(s->points, &eta, &mu, &ne, err, errlen), nm = 1;
    else if (ok) ok = lat_parse_values(s->eta, &eta, &ne, err, errlen) && lat_parse_values(s->mu, &mu, &nm, err, errlen);
    const int dims[3] = {ne, nl, nm};
    if (ok) ok = lat_grid_points(dims, 3, &np, err, errlen);
    if (ok) {
        g->eta = malloc(sizeof(double) * np), g->lambda = malloc(sizeof(double) * np), g->mu = malloc(sizeof(double) * np);
        ok = g->eta && g->lambda && g->mu;
        if (!ok) snprintf(err, errlen, "out of memory");
    }
    for (int a = 0, p = 0; ok && a < ne; a++)
        for (int b = 0; b < nl; b++)
            for (int c = 0; c < nm; c++, p++)
                g->eta[p] = eta[a], g->lambda[p] = lam[b], g->mu[p] = s->points ? mu[a] : mu[c];
    free(eta), free(lam), free(mu);
    g->o.npoints = np;
    return ok;
}

/* The settings into the generator's options (input errors only). */
static bool resolve(const lat_gen_settings *s, lat_gendata *g, char *err, size_t errlen) {
    if (!s->task || !s->lattice || !s->lambda || s->count < 0 || !s->out) return snprintf(err, errlen, REQUIRED), false;
    lat_task task = !strcmp(s->task, "regression") ? LAT_TASK_REGRESSION
                   : !strcmp(s->task, "detect")   ? LAT_TASK_DETECT
                   : !strcmp(s->task, "count")    ? LAT_TASK_COUNT
                                                  : 0;
    if (!task) return snprintf(err, errlen, "--task %s: expected regression, detect or count", s->task), false;
    if (s->points && (s->eta || s->mu)) return snprintf(err, errlen, "give either --points or --eta and --mu, not both"), false;
    if (!s->points && (!s->eta || !s->mu)) return snprintf(err, errlen, "--eta and --mu (or --points) are required"), false;
    if (task == LAT_TASK_REGRESSION && s->worms)
        return snprintf(err, errlen, "--worms applies to the detect and count tasks only"), false;
    int nt, nx, nw = 0;
    if (!lat_parse_lattice(s->lattice, &nt, &nx, err, errlen) || !make_points(s, g, err, errlen)) return false;
    if (task != LAT_TASK_REGRESSION &&
        !lat_parse_ints(s->worms ? s->worms : task == LAT_TASK_DETECT ? "1" : "0:10", &g->worms, &nw, err, errlen))
        return false;
    g->o = (lat_gen_opts){.task = task, .nt = nt, .nx = nx, .npoints = g->o.npoints, .eta = g->eta, .lambda = g->lambda,
                         .mu = g->mu, .nworms = nw, .worms = g->worms, .count = s->count, .chains = (int)s->chains,
                         .threads = (int)s->threads, .therm = (int)s->therm, .spacing = (int)s->spacing,
                         .worms_per_sweep = (int)s->worms_per_sweep, .fmax = (int)s->fmax,
                         .viol_steps = (int)s->viol_steps, .tau_factor = s->tau_factor, .seed = s->seed, .ops = NULL,
                         .progress = s->progress};
    return lat_generate_check(&g->o, err, errlen);
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

/* meta.json "points": one entry per parameter point. */
static json_t *points_json(const lat_gen_opts *o, const lat_gen_point *pts) {
    json_t *pl = json_array();
    for (int p = 0; p < o->npoints; p++) {
        const lat_gen_point *q = &pts[p];
        json_t *pj = json_pack(
            "{s:f, s:f, s:f, s:I, s:I, s:i, s:f, s:f, s:f, s:f, s:i, s:i, s:{s:f, s:f}, s:f, s:{s:f, s:f}, s:{s:f, s:f}}",
            "eta", q->eta, "lambda", q->lambda, "mu", q->mu, "offset", (json_int_t)q->offset, "count",
            (json_int_t)q->count, "chains", q->chains, "tau_int", q->tau_int, "tau_int_err",
            q->n.tau > q->phi2.tau ? q->n.tau_err : q->phi2.tau_err, "tau_int_n", q->n.tau, "tau_int_phi2", q->phi2.tau,
            "spacing", q->spacing, "worms_per_sweep", q->worms_per_sweep, "acceptance", "worm", q->acc_worm, "l",
            q->acc_l, "worm_length", q->worm_len, "n_therm", "mean", q->n.mean, "err", q->n.err, "phi2_therm", "mean",
            q->phi2.mean, "err", q->phi2.err);
        if (o->task != LAT_TASK_REGRESSION) {
            json_t *lab = json_object();
            for (int k = 0; k <= LAT_GEN_MAX_K; k++)
                if (q->kcount[k]) {
                    char key[16];
                    snprintf(key, sizeof key, "%d", k);
                    json_object_set_new(lab, key, json_integer(q->kcount[k]));
                }
            json_object_set_new(pj, "labels", lab);
            json_object_set_new(pj, "viol_steps", json_integer(q->viol_steps));
        }
        json_array_append_new(pl, pj);
    }
    return pl;
}

/* meta.json "worms" and "violation" (detect and count). */
static void violation_json(json_t *m, const lat_gen_opts *o) {
    json_t *w = json_array();
    for (int i = 0; i < o->nworms; i++) json_array_append_new(w, json_integer(o->worms[i]));
    json_object_set_new(m, "worms", w);
    json_object_set_new(
        m, "violation",
        json_pack("{s:s, s:s, s:s}", "definition",
                  "a site x with div_x = sum_nu (k_{x,nu} - k_{x-nu,nu}) != 0; each open worm has 2 distinct end "
                  "sites with |div| = 1, so sum_x |div_x| = 2K",
                  "label", o->task == LAT_TASK_DETECT ? "y = 1 if K > 0 else 0" : "y = K = sum_x |div_x| / 2",
                  "insertion",
                  "worm head steps with the sampler's acceptance from a random start, stopped after T head "
                  "proposals (T uniform in 1..viol_steps) at a site that is no other worm's end "
                  "(lib/lattice/violations.h)"));
}

static json_t *meta_json(const lat_gen_opts *o, const lat_gen_point *pts) {
    const int outs = lat_task_outputs(o->task), nt = o->nt, nx = o->nx;
    json_t *m = json_object();
    json_object_set_new(m, "format", json_string("latbench-dataset-1"));
    json_object_set_new(m, "program", json_string("latbench generate"));
    json_object_set_new(m, "version", json_string(LATBENCH_VERSION));
    json_object_set_new(m, "task", json_string(lat_task_name(o->task)));
    json_object_set_new(m, "lattice", json_pack("[i, i]", nt, nx));
    json_object_set_new(m, "count", json_integer(o->count));
    json_object_set_new(m, "x", json_pack("{s:s, s:s, s:[I, i, i, i], s:[s, s, s, s], s:s}", "file", "x.npy", "dtype", "int16",
                                          "shape", (json_int_t)o->count, 4, nt, nx, "channels", "k_t", "k_x", "l_t", "l_x",
                                          "layout", "x[i][channel][t][x]; link (t,x,nu) joins site (t,x) to its +nu neighbour"));
    json_t *cols = o->task == LAT_TASK_REGRESSION ? json_pack("[s, s]", "n", "phi2")
                   : o->task == LAT_TASK_DETECT   ? json_pack("[s]", "violation")
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
    json_object_set_new(m, "worms_per_sweep", o->worms_per_sweep ? json_integer(o->worms_per_sweep) : json_string("auto"));
    json_object_set_new(m, "fmax", json_integer(o->fmax));
    json_object_set_new(m, "sweep", json_string("l pass over all 2V links in index order (link = 2*(t*NX+x)+nu), then "
                                                "worms_per_sweep worms (docs/worm.md)"));
    if (o->task != LAT_TASK_REGRESSION) violation_json(m, o);
    json_object_set_new(m, "points", points_json(o, pts));
    return m;
}

typedef struct {
    int fd;
    long header;
    size_t bytes; /* per configuration */
} xstore;

static bool store_x(void *ctx, long index, const int16_t *x, char *err, size_t errlen) {
    const xstore *s = ctx;
    return io_pwrite_all(s->fd, x, s->bytes, s->header + index * (long)s->bytes, err, errlen);
}

/* x.npy: its header, then every configuration stored by the generator as it is sampled. */
static bool write_x(io_outdir *od, lat_gendata *g, float *y, char *err, size_t errlen) {
    const lat_gen_opts *o = &g->o;
    char path[4300], hdr[IO_NPY_HEADER_MAX];
    long shape[4] = {o->count, 4, o->nt, o->nx};
    size_t hl = io_npy_header(hdr, io_npy_descr_i16(), shape, 4);
    io_outdir_file(od, "x.npy", path, sizeof path);
    xstore xs = {.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), .header = (long)hl,
                 .bytes = lat_gen_config_bytes(o)};
    if (xs.fd < 0) return snprintf(err, errlen, "cannot create %.300s: %s", path, strerror(errno)), false;
    lat_gen_opts run = *o;
    run.store = store_x, run.ctx = &xs, run.y = y;
    g->threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    double t0 = lat_now();
    bool ok = hl && io_pwrite_all(xs.fd, hdr, hl, 0, err, errlen) && lat_generate(&run, g->points, err, errlen);
    g->seconds = lat_now() - t0;
    if (!ok) return close(xs.fd), false;
    if (fsync(xs.fd) != 0 || close(xs.fd) != 0) return snprintf(err, errlen, "writing x.npy: %s", strerror(errno)), false;
    return true;
}

static bool write_y(io_outdir *od, const lat_gen_opts *o, const float *y, char *err, size_t errlen) {
    char path[4300];
    const int outs = lat_task_outputs(o->task);
    long yshape[2] = {o->count, outs};
    io_outdir_file(od, "y.npy", path, sizeof path);
    int yfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    bool yok = yfd >= 0 &&
               io_npy_write_fd(yfd, io_npy_descr_f32(), yshape, 2, y, sizeof(float) * o->count * outs, err, errlen) &&
               fsync(yfd) == 0;
    if (yfd >= 0 && close(yfd) != 0) yok = false;
    if (yfd < 0) snprintf(err, errlen, "cannot create %.300s: %s", path, strerror(errno));
    return yok;
}

static bool write_meta(io_outdir *od, const lat_gendata *g, char *err, size_t errlen) {
    char path[4300];
    json_t *meta = meta_json(&g->o, g->points);
    char *text = json_dumps(meta, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    json_decref(meta);
    io_outdir_file(od, "meta.json", path, sizeof path);
    size_t tl = text ? strlen(text) : 0;
    char *buf = text ? malloc(tl + 2) : NULL;
    if (buf) memcpy(buf, text, tl), buf[tl] = '\n', buf[tl + 1] = 0;
    bool mok = buf && io_write_file_atomic(path, buf, tl + 1, err, errlen);
    if (!buf) snprintf(err, errlen, "out of memory for meta.json");
    free(buf);
    free(text);
    return mok;
}

bool lat_gendata_write(const lat_gen_settings *s, lat_gendata *g, char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    g->refused = true;
    char e[400];
    io_outdir od = {0};
    float *y = NULL;
    if (!resolve(s, g, err, errlen)) return false;
    y = calloc((size_t)s->count * lat_task_outputs(g->o.task), sizeof(float));
    g->points = calloc(g->o.npoints, sizeof *g->points);
    if (!y || !g->points) return free(y), snprintf(err, errlen, "out of memory for %ld configurations", s->count), false;
    if (!io_outdir_begin(&od, s->out, err, errlen)) return free(y), false;
    /* from here on, failures are runtime errors and remove the temporary directory */
    g->refused = false;
    bool ok = write_x(&od, g, y, e, sizeof e) && write_y(&od, &g->o, y, e, sizeof e) && write_meta(&od, g, e, sizeof e) &&
              io_outdir_commit(&od, e, sizeof e);
    free(y);
    if (!ok) {
        /* the message names the dataset, not its temporary directory (which is removed) */
        snprintf(err, errlen, "%s: %s", s->out, e);
        io_outdir_abort(&od);
    }
    return ok;
}

bool lat_gendata_prepare(const lat_gen_settings *s, lat_gendata *g, char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    g->refused = true;
    if (!resolve(s, g, err, errlen)) return false;
    g->points = calloc(g->o.npoints, sizeof *g->points);
    if (!g->points) return snprintf(err, errlen, "out of memory"), false;
    g->threads = g->o.threads > 0 ? g->o.threads : omp_get_max_threads();
    g->wcache.threads = g->threads;
    return true;
}

bool lat_gendata_out_ok(const lat_gen_settings *s, char *err, size_t errlen) {
    io_outdir od;
    if (!io_outdir_begin(&od, s->out, err, errlen)) return false;
    io_outdir_abort(&od);
    return true;
}

bool lat_gendata_sample(lat_gendata *g, const unsigned char *only,
                        bool (*store)(void *ctx, long index, const int16_t *x, char *err, size_t errlen), void *ctx,
                        float *y, char *err, size_t errlen) {
    char e[400];
    lat_gen_opts run = g->o;
    run.store = store, run.ctx = ctx, run.y = y, run.only = only, run.cache = &g->wcache;
    g->refused = false;
    const double t0 = lat_now();
    bool ok = lat_generate(&run, g->points, e, sizeof e);
    g->seconds += lat_now() - t0;
    if (!ok) snprintf(err, errlen, "%s", e);
    return ok;
}

bool lat_gendata_write_memory(const lat_gen_settings *s, lat_gendata *g, const int16_t *x, const float *y, char *err,
                              size_t errlen) {
    const lat_gen_opts *o = &g->o;
    char e[400], path[4300];
    io_outdir od;
    g->refused = false;
    if (!io_outdir_begin(&od, s->out, err, errlen)) return false;
    long shape[4] = {o->count, 4, o->nt, o->nx};
    io_outdir_file(&od, "x.npy", path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && io_npy_write_fd(fd, io_npy_descr_i16(), shape, 4, x, lat_gen_config_bytes(o) * (size_t)o->count,
                                         e, sizeof e) && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = false;
    if (fd < 0) snprintf(e, sizeof e, "cannot create %.300s: %s", path, strerror(errno));
    ok = ok && write_y(&od, o, y, e, sizeof e) && write_meta(&od, g, e, sizeof e) && io_outdir_commit(&od, e, sizeof e);
    if (!ok) {
        snprintf(err, errlen, "%s: %s", s->out, e);
        io_outdir_abort(&od);
    }
    return ok;
}

/* The worm variant of the first point (the tuning profile chooses per lattice, mu and chains). */
static const char *first_point_worm(const lat_gen_opts *o) {
    if (o->ops) return o->ops->name;
    const lat_point_cfg c = {.nt = o->nt, .nx = o->nx, .mu = o->npoints ? o->mu[0] : 0, .nchains = o->chains};
    return lat_point_worm(&c)->name;
}

void lat_gendata_print(FILE *f, const char *out, const lat_gendata *g) {
    const lat_gen_opts *o = &g->o;
    fprintf(f, "latbench generate: wrote %s: task %s, %ld configurations of %dx%d at %d point(s), %.1f s on %d threads "
               "(worm kernel %s)\n",
            out, lat_task_name(o->task), o->count, o->nt, o->nx, o->npoints, g->seconds, g->threads,
            first_point_worm(o));
    for (int p = 0; p < o->npoints; p++) {
        const lat_gen_point *q = &g->points[p];
        fprintf(f, "  eta %g lambda %g mu %g: %ld configs, tau_int %.1f, spacing %d sweeps, %d worms/sweep, acceptance "
                   "worm %.3f l %.3f\n",
                q->eta, q->lambda, q->mu, q->count, q->tau_int, q->spacing, q->worms_per_sweep, q->acc_worm, q->acc_l);
    }
}

void lat_gendata_free(lat_gendata *g) {
    free(g->eta), free(g->lambda), free(g->mu), free(g->worms), free(g->points);
    lat_wtable_cache_free(&g->wcache);
    memset(g, 0, sizeof *g);
}

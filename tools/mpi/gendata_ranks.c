/* Datasets generated over the ranks of an MPI run (tools/mpi/gendata_ranks.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/mpi/gendata_ranks.h"
#include "tools/mpi/ranks.h"
#include "lib/lattice/params.h"

/* One point's part as a rank sends it to rank 0: this head, then its x rows, then its y rows. */
typedef struct {
    int d, p; /* dataset, point */
    lat_gen_point q;
} part_head;

/* A point's x rows in memory (store callback: the dataset's index less the point's offset). */
typedef struct {
    int16_t *x;
    long offset;
    size_t bytes; /* per configuration */
} part_x;

/* One job of the pool: point p of dataset d, and its cost (rows x sites). */
typedef struct {
    int d, p;
    double cost;
} pool_job;

static bool store_part(void *ctx, long index, const int16_t *x, char *err, size_t errlen) {
    const part_x *px = ctx;
    memcpy(px->x + (size_t)(index - px->offset) * (px->bytes / sizeof(int16_t)), x, px->bytes);
    return true;
}

/* Appends n bytes to a growing buffer; false when out of memory. */
static bool put(char **buf, size_t *len, size_t *cap, const void *src, size_t n) {
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 1 << 16;
        while (c < *len + n) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) return false;
        *buf = b, *cap = c;
    }
    memcpy(*buf + *len, src, n), *len += n;
    return true;
}

/* Longest first, ties in (dataset, point) order: every rank sorts the same list alike. */
static int job_order(const void *a, const void *b) {
    const pool_job *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? 1 : -1;
    return x->d != y->d ? (x->d > y->d) - (x->d < y->d) : (x->p > y->p) - (x->p < y->p);
}

/* The points of the datasets taking part (!refused), one job each, in the order the ranks draw them;
 * NULL when out of memory. */
static pool_job *pool_jobs(ranks_gendata_job *d, int n, long *njobs) {
    long m = 0;
    for (int i = 0; i < n; i++) m += d[i].g.refused ? 0 : d[i].g.o.npoints;
    pool_job *j = malloc(sizeof *j * (size_t)(m ? m : 1));
    if (!j) return NULL;
    m = 0;
    for (int i = 0; i < n; i++)
        for (int p = 0; !d[i].g.refused && p < d[i].g.o.npoints; p++) {
            long off, rows;
            lat_generate_point_rows(&d[i].g.o, p, &off, &rows);
            j[m++] = (pool_job){i, p, (double)rows * d[i].g.o.nt * d[i].g.o.nx};
        }
    qsort(j, (size_t)m, sizeof *j, job_order);
    return *njobs = m, j;
}

/* This rank's jobs, drawn from the counter (each point seeded by its dataset and index, never by the
 * rank: the same bytes whoever samples it), into *part; a failure ends the run. */
static void sample_share(ranks_gendata_job *d, int n, const pool_job *jobs, long njobs, char **part, size_t *plen) {
    const int rank = ranks_world()->rank;
    char err[600];
    ranks_counter *c = ranks_counter_open();
    unsigned char **only = calloc((size_t)n, sizeof *only);
    float **y = calloc((size_t)n, sizeof *y);
    if (!c || !only || !y) ranks_abort("generate", "out of memory");
    for (int i = 0; i < n; i++) {
        if (d[i].g.refused) continue;
        const lat_gen_opts *o = &d[i].g.o;
        only[i] = calloc((size_t)o->npoints, 1);
        y[i] = calloc((size_t)o->count * lat_task_outputs(o->task), sizeof(float));
        if (!only[i] || !y[i]) ranks_abort("generate", "out of memory");
    }
    const char *hook = getenv("LATBENCH_TEST_FAIL_RANK"); /* the tests' failing rank */
    if (hook && atoi(hook) == rank) ranks_abort("generate", "LATBENCH_TEST_FAIL_RANK: this rank fails before its first point");
    size_t cap = 0;
    for (long k; (k = ranks_counter_next(c)) < njobs;) {
        const int i = jobs[k].d, p = jobs[k].p, outs = lat_task_outputs(d[i].g.o.task);
        const size_t bytes = lat_gen_config_bytes(&d[i].g.o);
        long off, rows;
        lat_generate_point_rows(&d[i].g.o, p, &off, &rows);
        part_x px = {malloc(bytes * (size_t)rows), off, bytes};
        if (!px.x) ranks_abort("generate", "out of memory");
        only[i][p] = 1;
        if (!lat_gendata_sample(&d[i].g, only[i], store_part, &px, y[i], err, sizeof err)) ranks_abort("generate", err);
        only[i][p] = 0;
        part_head h = {i, p, d[i].g.points[p]};
        if (!put(part, plen, &cap, &h, sizeof h) || !put(part, plen, &cap, px.x, bytes * (size_t)rows) ||
            !put(part, plen, &cap, y[i] + off * outs, sizeof(float) * (size_t)(rows * outs)))
            ranks_abort("generate", "out of memory");
        free(px.x);
    }
    ranks_counter_close(c);
    for (int i = 0; i < n; i++) free(only[i]), free(y[i]);
    free(only), free(y);
}

/* Rank 0: dataset i's parts from every rank's into the whole x, y and points; false when a point is
 * missing. */
static bool assemble(ranks_gendata_job *d, int i, const char *all, size_t total, int16_t *x, float *y) {
    lat_gendata *g = &d[i].g;
    int got = 0;
    for (size_t at = 0; at + sizeof(part_head) <= total;) {
        part_head h;
        memcpy(&h, all + at, sizeof h);
        const lat_gen_opts *o = &d[h.d].g.o;
        const int outs = lat_task_outputs(o->task);
        const size_t bytes = lat_gen_config_bytes(o);
        long off, n;
        lat_generate_point_rows(o, h.p, &off, &n);
        at += sizeof h;
        if (h.d == i) {
            memcpy(x + off * (long)(bytes / sizeof(int16_t)), all + at, bytes * (size_t)n);
            memcpy(y + off * outs, all + at + bytes * (size_t)n, sizeof(float) * (size_t)(n * outs));
            g->points[h.p] = h.q, got++;
        }
        at += bytes * (size_t)n + sizeof(float) * (size_t)(n * outs);
    }
    if (got != g->o.npoints)
        return snprintf(d[i].err, sizeof d[i].err, "%d of %d points came back from the ranks", got, g->o.npoints), false;
    return true;
}

/* Rank 0: dataset i assembled and written; its reason in d[i].err when not. */
static bool write_one(ranks_gendata_job *d, int i, const char *all, size_t total) {
    const lat_gen_opts *o = &d[i].g.o;
    int16_t *x = malloc(lat_gen_config_bytes(o) * (size_t)o->count);
    float *y = malloc(sizeof(float) * (size_t)o->count * lat_task_outputs(o->task));
    bool ok = x && y && assemble(d, i, all, total, x, y) &&
              lat_gendata_write_memory(d[i].s, &d[i].g, x, y, d[i].err, sizeof d[i].err);
    if (!x || !y) snprintf(d[i].err, sizeof d[i].err, "out of memory for the dataset");
    free(x), free(y);
    return ok;
}

bool ranks_gendata_write_pool(ranks_gendata_job *d, int n, const char *log) {
    const ranks_ctx *rk = ranks_world();
    bool all_ok = true;
    if (rk->size == 1) {
        for (int i = 0; i < n; i++) all_ok &= d[i].ok = lat_gendata_write(d[i].s, &d[i].g, d[i].err, sizeof d[i].err);
        return all_ok;
    }
    int taking = 0;
    for (int i = 0; i < n; i++) { /* the same settings: refused on rank 0 (the directory too) */
        d[i].err[0] = 0;
        bool ok = lat_gendata_prepare(d[i].s, &d[i].g, d[i].err, sizeof d[i].err) &&
                  (rk->rank != 0 || lat_gendata_out_ok(d[i].s, d[i].err, sizeof d[i].err));
        d[i].g.refused = !ranks_all_ok(ok);
        if (d[i].g.refused && ok) d[i].err[0] = 0;
        d[i].ok = false, taking += !d[i].g.refused;
    }
    if (!taking) return false;
    if (log) ranks_log_begin();
    const double t0 = lat_now();
    long njobs = 0;
    pool_job *jobs = pool_jobs(d, n, &njobs);
    if (!jobs) ranks_abort("generate", "out of memory");
    char *part = NULL, *all = NULL;
    size_t plen = 0, total = 0;
    sample_share(d, n, jobs, njobs, &part, &plen);
    free(jobs);
    char gerr[600] = "";
    const bool gathered = ranks_gather_bytes(part, plen, &all, &total, gerr, sizeof gerr);
    free(part);
    for (int i = 0; i < n; i++) {
        if (d[i].g.refused) continue;
        bool ok = gathered;
        if (!gathered) snprintf(d[i].err, sizeof d[i].err, "%s", gerr);
        if (ok && rk->rank == 0) ok = write_one(d, i, all, total), d[i].g.seconds = lat_now() - t0;
        /* every rank learns whether rank 0 wrote it (the experiment's ranks load it next) */
        d[i].ok = ranks_all_ok(ok);
        if (!d[i].ok && ok) d[i].err[0] = 0;
        all_ok &= d[i].ok;
    }
    free(all);
    char lerr[600];
    if (log && !ranks_log_end(log, lerr, sizeof lerr)) fprintf(stderr, "latbench: %s\n", lerr);
    return all_ok && taking == n;
}

bool ranks_gendata_write(const lat_gen_settings *s, const char *log, lat_gendata *g, char *err, size_t errlen) {
    ranks_gendata_job d = {.s = s};
    const bool ok = ranks_gendata_write_pool(&d, 1, log);
    *g = d.g;
    if (errlen) snprintf(err, errlen, "%s", d.err);
    return ok;
}

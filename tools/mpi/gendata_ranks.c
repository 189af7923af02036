/* A dataset generated over the ranks of an MPI run (tools/mpi/gendata_ranks.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/mpi/gendata_ranks.h"
#include "tools/mpi/ranks.h"
#include "lib/lattice/params.h"

/* One point's part as a rank sends it to rank 0: this head, then its x rows, then its y rows. */
typedef struct {
    int p;
    lat_gen_point q;
} part_head;

/* A point's x rows in memory (store callback: the dataset's index less the point's offset). */
typedef struct {
    int16_t *x;
    long offset;
    size_t bytes; /* per configuration */
} part_x;

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

/* This rank's points, drawn from the counter in point order (every point has the same count, give
 * or take one: no better estimate of their cost), into *part; a failure ends the run. */
static void sample_share(lat_gendata *g, char **part, size_t *plen) {
    const lat_gen_opts *o = &g->o;
    const int outs = lat_task_outputs(o->task), rank = ranks_world()->rank;
    const size_t bytes = sizeof(int16_t) * 4 * (size_t)o->nt * o->nx;
    char err[600];
    ranks_counter *c = ranks_counter_open();
    unsigned char *only = calloc((size_t)o->npoints, 1);
    float *y = calloc((size_t)o->count * outs, sizeof(float));
    if (!c || !only || !y) ranks_abort("generate", "out of memory");
    const char *hook = getenv("LATBENCH_TEST_FAIL_RANK"); /* the tests' failing rank */
    if (hook && atoi(hook) == rank) ranks_abort("generate", "LATBENCH_TEST_FAIL_RANK: this rank fails before its first point");
    size_t cap = 0;
    for (long p; (p = ranks_counter_next(c)) < o->npoints;) {
        long off, n;
        lat_generate_point_rows(o, (int)p, &off, &n);
        part_x px = {malloc(bytes * (size_t)n), off, bytes};
        if (!px.x) ranks_abort("generate", "out of memory");
        only[p] = 1;
        if (!lat_gendata_sample(g, only, store_part, &px, y, err, sizeof err)) ranks_abort("generate", err);
        only[p] = 0;
        part_head h = {(int)p, g->points[p]};
        if (!put(part, plen, &cap, &h, sizeof h) || !put(part, plen, &cap, px.x, bytes * (size_t)n) ||
            !put(part, plen, &cap, y + off * outs, sizeof(float) * (size_t)(n * outs)))
            ranks_abort("generate", "out of memory");
        free(px.x);
    }
    ranks_counter_close(c);
    free(only), free(y);
}

/* Rank 0: every rank's parts into the whole x, y and points; false when a point is missing. */
static bool assemble(lat_gendata *g, const char *all, size_t total, int16_t *x, float *y, char *err, size_t errlen) {
    const lat_gen_opts *o = &g->o;
    const int outs = lat_task_outputs(o->task);
    const size_t bytes = sizeof(int16_t) * 4 * (size_t)o->nt * o->nx;
    int got = 0;
    for (size_t at = 0; at + sizeof(part_head) <= total;) {
        part_head h;
        memcpy(&h, all + at, sizeof h);
        long off, n;
        lat_generate_point_rows(o, h.p, &off, &n);
        at += sizeof h;
        memcpy(x + off * (long)(bytes / sizeof(int16_t)), all + at, bytes * (size_t)n), at += bytes * (size_t)n;
        memcpy(y + off * outs, all + at, sizeof(float) * (size_t)(n * outs)), at += sizeof(float) * (size_t)(n * outs);
        g->points[h.p] = h.q, got++;
    }
    if (got != o->npoints) return snprintf(err, errlen, "%d of %d points came back from the ranks", got, o->npoints), false;
    return true;
}

bool ranks_gendata_write(const lat_gen_settings *s, const char *log, lat_gendata *g, char *err, size_t errlen) {
    const ranks_ctx *rk = ranks_world();
    if (rk->size == 1) return lat_gendata_write(s, g, err, errlen);
    bool ok = lat_gendata_prepare(s, g, err, errlen) && (rk->rank != 0 || lat_gendata_out_ok(s, err, errlen));
    if (!ranks_all_ok(ok)) { /* the same settings: refused on rank 0 (the directory too) */
        if (ok && errlen) err[0] = 0;
        return g->refused = true, false;
    }
    if (log) ranks_log_begin();
    const double t0 = lat_now();
    char *part = NULL, *all = NULL;
    size_t plen = 0, total = 0;
    sample_share(g, &part, &plen);
    ok = ranks_gather_bytes(part, plen, &all, &total, err, errlen);
    free(part);
    if (ok && rk->rank == 0) {
        const lat_gen_opts *o = &g->o;
        int16_t *x = malloc(sizeof(int16_t) * 4 * (size_t)o->count * o->nt * o->nx);
        float *y = malloc(sizeof(float) * (size_t)o->count * lat_task_outputs(o->task));
        ok = x && y && assemble(g, all, total, x, y, err, errlen) && lat_gendata_write_memory(s, g, x, y, err, errlen);
        if (!x || !y) snprintf(err, errlen, "out of memory for the dataset");
        g->seconds = lat_now() - t0;
        free(x), free(y);
    }
    free(all);
    g->refused = false;
    char lerr[600];
    if (log && !ranks_log_end(log, lerr, sizeof lerr)) fprintf(stderr, "latbench: %s\n", lerr);
    /* every rank learns whether rank 0 wrote it (the experiment's ranks load it next) */
    const bool mine = ok;
    ok = ranks_all_ok(ok);
    if (!ok && mine && errlen) err[0] = 0;
    return ok;
}

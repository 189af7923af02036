/* latbench generate: option parsing around lat_gendata_write (lib/lattice/gendata.h), which
 * writes the dataset directory; timings and the kernel go to stdout, not into the dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli/cli.h"
#include "tools/mpi/ranks.h"
#include "tools/opts/opts.h"
#include "lib/lattice/gendata.h"
#include "lib/lattice/params.h"

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
            "  --progress=auto|bar|lines|none  on stderr: auto (default) a live bar on a terminal, else a line per\n"
            "                      10 %% of each phase with the rate and the time left; --quiet = --progress=none\n"
            "The dataset appears in DIR only when complete; an existing DIR is never overwritten.\n");
}

static int fail(const char *msg) {
    fprintf(stderr, "latbench generate: %s\n", msg);
    return 2;
}

/* The options into s: -1 to go on, else the exit status.  The dataset's own options come from
 * lat_gen_option_names (lib/lattice/gendata.h), each taking a value. */
static int parse_args(int argc, char **argv, lat_gen_settings *s) {
    enum { PROGRESS = 512, QUIET };
    struct option longopts[OPTS_MAX + 1] = {OPTS_PROGRESS_LONGOPTS(PROGRESS, QUIET)};
    int n = 2;
    for (int k = 0; lat_gen_option_names[k] && n < OPTS_MAX - 1; k++)
        longopts[n++] = (struct option){lat_gen_option_names[k] + 2, required_argument, NULL, 256 + k};
    longopts[n] = (struct option){0};
    opts_parser p;
    opts_init(&p, "generate", argc, argv, longopts, NULL, false);
    opts_progress pm = OPTS_PROGRESS_AUTO;
    char err[400];
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return usage(stdout), 0;
        if (c == OPTS_ERR || (c == PROGRESS && !opts_progress_parse(&p, &pm))) return 2;
        if (c == QUIET) pm = OPTS_PROGRESS_NONE;
        if (c >= 256 && c < PROGRESS && !lat_gen_settings_set(s, lat_gen_option_names[c - 256], p.arg, err, sizeof err))
            return fail(err);
    }
    if (opts_first_operand(&p) < argc) return opts_fail(&p, "unexpected argument '%s' (try --help)", argv[opts_first_operand(&p)]);
    s->progress = (int)pm;
    return -1;
}

/* ---- the points over the ranks of an MPI run ---- */

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

/* mpirun -n R latbench generate: the points over the ranks, rank 0 writes the same files as a
 * 1-rank run, and every rank's progress lines into OUT.ranks.log. */
static int generate_ranks(const lat_gen_settings *s) {
    const ranks_ctx *rk = ranks_world();
    char err[600];
    lat_gendata g;
    bool ok = lat_gendata_prepare(s, &g, err, sizeof err) && (rk->rank != 0 || lat_gendata_out_ok(s, err, sizeof err));
    if (rk->rank == 0 && !ok) fprintf(stderr, "latbench generate: %s\n", err);
    if (!ranks_all_ok(ok)) return lat_gendata_free(&g), 2; /* the same settings: refused on rank 0 */
    ranks_log_begin();
    const double t0 = lat_now();
    char *part = NULL, *all = NULL;
    size_t plen = 0, total = 0;
    sample_share(&g, &part, &plen);
    ok = ranks_gather_bytes(part, plen, &all, &total, err, sizeof err);
    free(part);
    char logpath[4200];
    snprintf(logpath, sizeof logpath, "%.4000s.ranks.log", s->out);
    int rc = 0;
    if (ok && rk->rank == 0) {
        const lat_gen_opts *o = &g.o;
        int16_t *x = malloc(sizeof(int16_t) * 4 * (size_t)o->count * o->nt * o->nx);
        float *y = malloc(sizeof(float) * (size_t)o->count * lat_task_outputs(o->task));
        ok = x && y && assemble(&g, all, total, x, y, err, sizeof err) && lat_gendata_write_memory(s, &g, x, y, err, sizeof err);
        if (!x || !y) snprintf(err, sizeof err, "out of memory for the dataset");
        g.seconds = lat_now() - t0;
        free(x), free(y);
    }
    free(all);
    char lerr[600];
    if (!ranks_log_end(logpath, lerr, sizeof lerr)) fprintf(stderr, "latbench generate: %s\n", lerr);
    if (!ok) rc = 1, fprintf(stderr, "latbench generate: %s\n", err);
    else if (rk->rank == 0) {
        lat_gendata_print(stdout, s->out, &g);
        printf("  (%d ranks x %d threads; each rank's progress lines in %s)\n", rk->size, g.threads, logpath);
    }
    lat_gendata_free(&g);
    return rc;
}

int cmd_generate(int argc, char **argv) {
    lat_gen_settings s = lat_gen_settings_defaults();
    char err[400];
    int prc = parse_args(argc, argv, &s);
    if (prc >= 0) return prc;
    if (ranks_world()->size > 1) return generate_ranks(&s);
    lat_gendata g;
    int rc = 0;
    if (lat_gendata_write(&s, &g, err, sizeof err))
        lat_gendata_print(stdout, s.out, &g);
    else
        rc = g.refused ? fail(err) : (fprintf(stderr, "latbench generate: %s\n", err), 1);
    lat_gendata_free(&g);
    return rc;
}

/* latbench generate: option parsing around ranks_gendata_write (tools/mpi/gendata_ranks.h:
 * lib/lattice/gendata.h's lat_gendata_write, over the ranks of an MPI run), which writes the dataset
 * directory; timings and the kernel go to stdout, not into the dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/cli/cli.h"
#include "tools/mpi/gendata_ranks.h"
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

int cmd_generate(int argc, char **argv) {
    lat_gen_settings s = lat_gen_settings_defaults();
    int prc = parse_args(argc, argv, &s);
    if (prc >= 0) return prc;
    /* mpirun -n R: the points over the ranks (tools/mpi/gendata_ranks.h), rank 0 writes the same files as
     * a 1-rank run, and every rank's progress lines go into OUT.ranks.log */
    const ranks_ctx *rk = ranks_world();
    char err[600], logpath[4200];
    snprintf(logpath, sizeof logpath, "%.4000s.ranks.log", s.out);
    lat_gendata g;
    int rc = 0;
    if (ranks_gendata_write(&s, rk->size > 1 ? logpath : NULL, &g, err, sizeof err)) {
        if (rk->rank == 0) lat_gendata_print(stdout, s.out, &g);
        if (rk->rank == 0 && rk->size > 1)
            printf("  (%d ranks x %d threads; each rank's progress lines in %s)\n", rk->size, g.threads, logpath);
    } else {
        rc = g.refused ? 2 : 1;
        if (*err) fprintf(stderr, "latbench generate: %s\n", err);
    }
    lat_gendata_free(&g);
    return rc;
}

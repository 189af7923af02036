/* latbench generate: option parsing around lat_gendata_write (lib/lattice/gendata.h), which
 * writes the dataset directory; timings and the kernel go to stdout, not into the dataset. */
#include <stdio.h>
#include <string.h>
#include "tools/cli/cli.h"
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
            "The dataset appears in DIR only when complete; an existing DIR is never overwritten.\n");
}

static int fail(const char *msg) {
    fprintf(stderr, "latbench generate: %s\n", msg);
    return 2;
}

int cmd_generate(int argc, char **argv) {
    lat_gen_settings s = lat_gen_settings_defaults();
    char err[400];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return usage(stdout), 0;
        int r = 0;
        const char *v = NULL;
        for (const char *const *n = lat_gen_option_names; *n && !r; n++)
            if ((r = lat_opt_value(argc, argv, &i, *n, &v)) < 0)
                return snprintf(err, sizeof err, "%s needs a value", *n), fail(err);
            else if (r && !lat_gen_settings_set(&s, *n, v, err, sizeof err))
                return fail(err);
        if (!r) return snprintf(err, sizeof err, "unknown option '%s' (try --help)", argv[i]), fail(err);
    }
    lat_gendata g;
    int rc = 0;
    if (lat_gendata_write(&s, &g, err, sizeof err))
        lat_gendata_print(stdout, s.out, &g);
    else
        rc = g.refused ? fail(err) : (fprintf(stderr, "latbench generate: %s\n", err), 1);
    lat_gendata_free(&g);
    return rc;
}

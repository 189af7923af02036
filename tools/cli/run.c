/* latbench run: the main job on built-in defaults (what `make run` calls): the machine, the
 * verification of every kernel, the quick kernel benchmark, a short Silver Blaze scan of the
 * worm sampler, and the quick flux-violation counting experiment (generate, train, evaluate).
 * Each phase's wall time is summarized at the end. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "tools/cli/cli.h"
#include "tools/opts/opts.h"
#include "tools/track/history.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int cmd_run(int argc, char **argv) {
    opts_parser o;
    opts_init(&o, "run", argc, argv, NULL, NULL, false);
    for (int c; (c = opts_next(&o)) != OPTS_END;) {
        if (c == OPTS_ERR) return 2;
        printf("usage: latbench run\n"
               "  The main job on built-in defaults (what `make run` calls): latbench info, verify, bench\n"
               "  --quick --no-pipelines, a Silver Blaze scan (observe, 60x4) and experiment count --quick;\n"
               "  each phase's wall time at the end.  Exit 0 when every phase passed; the first phase\n"
               "  that fails stops the run with its exit status.\n");
        return 0;
    }
    if (opts_first_operand(&o) < argc)
        return opts_fail(&o, "takes no arguments (it runs the built-in defaults; latbench run --help)");
    static char *info[] = {"info", NULL};
    static char *verify[] = {"verify", NULL};
    static char *bench[] = {"bench", "--quick", "--no-pipelines", NULL};
    static char *observe[] = {"observe", "--lattice", "60x4", "--eta", "4.01", "--lambda", "1",
                              "--mu", "0.80:1.10:0.05", "--sweeps", "2000", NULL};
    static char *experiment[] = {"experiment", "count", "--quick", NULL};
    static const struct {
        const char *title;
        int (*fn)(int, char **);
        char **argv;
    } phases[] = {
        {"latbench info", cmd_info, info},
        {"latbench verify", cmd_verify, verify},
        {"latbench bench --quick --no-pipelines", cmd_bench_recorded, bench},
        {"latbench observe --lattice 60x4 --eta 4.01 --lambda 1 --mu 0.80:1.10:0.05 --sweeps 2000", cmd_observe, observe},
        {"latbench experiment count --quick", cmd_experiment, experiment},
    };
    enum { N_PHASES = sizeof phases / sizeof phases[0] };
    double secs[N_PHASES];
    for (int p = 0; p < N_PHASES; p++) {
        printf("%s== %s\n", p ? "\n" : "", phases[p].title);
        fflush(stdout);
        int n = 0;
        while (phases[p].argv[n]) n++;
        double t0 = now_s();
        int rc = phases[p].fn(n, phases[p].argv);
        secs[p] = now_s() - t0;
        if (rc) {
            fprintf(stderr, "latbench run: '%s' failed (exit %d)\n", phases[p].title, rc);
            return rc;
        }
    }
    printf("\n== summary (wall time per phase)\n");
    for (int p = 0; p < N_PHASES; p++) printf("  %7.1f s  %s\n", secs[p], phases[p].title);
    return 0;
}

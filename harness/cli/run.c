/* latbench run: the main job on built-in defaults (what `make run` calls).  Until the sampling
 * and training pipeline lands it is: the machine, the verification of every kernel, and the
 * quick kernel benchmark. */
#include <stdio.h>
#include "harness/cli/cli.h"

int cmd_run(int argc, char **argv) {
    if (argc > 1) {
        fprintf(stderr, "latbench run: takes no arguments (it runs the built-in defaults)\n");
        return 2;
    }
    char *info_argv[] = {"info", NULL};
    char *verify_argv[] = {"verify", NULL};
    char *bench_argv[] = {"bench", "--quick", NULL};
    printf("== latbench info\n");
    fflush(stdout);
    int rc = cmd_info(1, info_argv);
    if (rc) return rc;
    printf("\n== latbench verify\n");
    fflush(stdout);
    rc = cmd_verify(1, verify_argv);
    if (rc) return rc;
    printf("\n== latbench bench --quick\n");
    fflush(stdout);
    return cmd_bench(2, bench_argv);
}

/* PLACEHOLDER until the benchmark lands (owned by the bench work; replace this file freely). */
#include <stdio.h>
#include "harness/cli/cli.h"
int cmd_bench(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "latbench bench: not built yet\n"); return 2; }

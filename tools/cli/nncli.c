#include "tools/cli/nncli.h"
#include <stdio.h>

int nncli_fail(const char *cmd, const char *msg) {
    fprintf(stderr, "latbench %s: %s\n", cmd, msg);
    return 2;
}

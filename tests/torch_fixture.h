/* The fixture of the tests that compare latbench with PyTorch (test_torch_crosscheck.c,
 * test_torch_interop.c): /usr/bin/python3 with torch and numpy, a scratch folder, and the three small
 * datasets they run on (reg8: regression 8x8, reg60: regression 60x4, det8: detection 8x8). */
#pragma once
#include "tests/test_util.h"

/* 0, or -1 after a FATAL line naming what is missing or what failed.  count: configurations of reg8
 * and det8 (reg60 gets half), therm: thermalization sweeps. */
static inline int torch_fixture_setup(cli_result *R, char *dir, size_t len, const char *prefix, int count, int therm) {
    cli_sh(R, "/usr/bin/python3 -c 'import torch, numpy'");
    if (R->status != 0) {
        fprintf(stderr, "FATAL: /usr/bin/python3 cannot import torch/numpy (install python3-torch python3-numpy, "
                        "as toolchain/install-deps.sh does): %s\n", R->out);
        return -1;
    }
    if (test_tmpdir_make(dir, len, prefix)) return -1;
    static const char *const gen[] = {
        "--task regression --lattice 8x8 --eta 4.01 --lambda 1 --mu 0.9,1.0 --count %d --therm %d --out %s/reg8",
        "--task regression --lattice 60x4 --eta 4.01 --lambda 1 --mu 0.95 --count %d --therm %d --out %s/reg60",
        "--task detect --lattice 8x8 --points 4.25:1,4.01:1.5 --lambda 1 --count %d --therm %d --out %s/det8",
    };
    for (int i = 0; i < 3; i++) {
        char a[512], cmd[1024];
        snprintf(a, sizeof a, gen[i], i == 1 ? count / 2 : count, therm, dir);
        snprintf(cmd, sizeof cmd, "generate %s --threads 1", a);
        cli_latbench(R, NULL, cmd);
        if (R->status != 0) return fprintf(stderr, "FATAL: generate failed: %s\n", R->out), -1;
    }
    return 0;
}

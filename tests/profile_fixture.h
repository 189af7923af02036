/* The fixture of the tuning-profile tests (test_profile*.c, test_tune.c): a scratch folder and the
 * identity of this machine and build, made as tools/cli/main.c makes it at start-up. */
#pragma once
#include "arch/profile.h"
#include "arch/registry.h"
#include "tests/test_util.h"

/* 0, or -1 when the folder cannot be made. */
static inline int profile_fixture_setup(char *dir, size_t len, const char *prefix, lb_profile_identity *here) {
    if (test_tmpdir_make(dir, len, prefix)) return -1;
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    lb_profile_identity_here(here, &cpu, lb_cpu_cores());
    return 0;
}

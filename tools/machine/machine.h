/* The machine a benchmark ran on: CPU model, microarchitecture where it can be told, topology
 * (hwloc), ISA features, and a short slug for result paths (results/<slug>/...). */
#pragma once
#include "arch/cpu.h"

typedef struct {
    char model[64];         /* brand string */
    char uarch[16];         /* "zen4", ... or "" */
    int family, model_id;   /* x86 display family / model (0 elsewhere) */
    int packages, cores, pus;
    char features[192];     /* "avx2 fma avx512f ..." (instruction and OS support) */
    char slug[96];          /* "amd-epyc-zen4-2c" */
} machine_info;

void machine_detect(machine_info *m, const lb_cpu *cpu);

/* CPU feature detection: cpuid + xgetbv on x86-64, getauxval on AArch64. */
#pragma once
#include <stdbool.h>
#include "kernels/common.h"

typedef struct {
    char vendor[16];
    char model[64];
    /* x86: instruction support AND operating-system state support (XCR0) */
    bool sse2, sse42, avx, avx2, fma;
    bool avx512f, avx512bw, avx512vl, avx512dq, avx512_vnni, avx512_bf16;
    bool os_ymm, os_zmm;
    /* aarch64 */
    bool asimd, sve;
    int sve_bits;
} lb_cpu;

/* Fills *c from the running CPU (pure; no global state). */
void lb_cpu_detect(lb_cpu *c);
/* Whether the CPU (with OS support) can run kernels of this ISA. */
bool lb_cpu_supports(const lb_cpu *c, lb_isa isa);
const char *lb_isa_name(lb_isa isa);
/* Parses "scalar|avx2|avx512|neon"; returns -1 when unknown. */
int lb_isa_parse(const char *s);

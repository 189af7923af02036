/* CPU feature detection: cpuid + xgetbv on x86-64, getauxval on AArch64. */
#pragma once
#include <stdbool.h>
#include "kernels/common.h"

typedef struct {
    char vendor[16];
    char model[64];
    /* identity (the tuning profile's key, arch/profile.h): x86 display family / model / stepping
     * from cpuid leaf 1 (AArch64: MIDR implementer / part / revision; 0 when unknown) */
    int family, model_id, stepping;
    char uarch[16];        /* "zen4", ... or "" where it cannot be told */
    /* data/unified cache sizes in bytes from cpuid (0: not reported); sysfs may report nothing in a VM */
    long long l1d_bytes, l2_bytes, l3_bytes;
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
/* The highest ISA this CPU runs (what dispatch uses without LATBENCH_ISA). */
lb_isa lb_cpu_best_isa(const lb_cpu *c);

/* Physical cores online, as hwloc counts them (tools/machine/topology.h) but without its ~150 ms
 * topology load, which every command would pay at start-up for the tuning profile's key: the
 * distinct sibling sets of the online CPUs in sysfs, else the online CPUs (hwloc's fallback too). */
int lb_cpu_cores(void);

/* The machine's short name for result paths and the profile file (results/<slug>/, profile-<slug>.json):
 * lowercase words of the brand string, marketing words dropped, at most four, then the
 * microarchitecture and the core count: "AMD EPYC" on 2 Zen 4 cores -> "amd-epyc-zen4-2c". */
void lb_machine_slug(const char *model, const char *uarch, int cores, char *out, size_t len);

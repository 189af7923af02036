#include "arch/cpu.h"
#include <string.h>
#include <stdio.h>
#if LB_X86
#include <cpuid.h>
#endif
#if LB_ARM64
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif

const char *lb_isa_name(lb_isa isa) {
    switch (isa) {
    case LB_ISA_SCALAR: return "scalar";
    case LB_ISA_AVX2: return "avx2";
    case LB_ISA_AVX512: return "avx512";
    case LB_ISA_NEON: return "neon";
    }
    return "?";
}

int lb_isa_parse(const char *s) {
    static const char *names[] = {"scalar", "avx2", "avx512", "neon"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

#if LB_X86
static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

void lb_cpu_detect(lb_cpu *c) {
    memset(c, 0, sizeof *c);
    unsigned a, b, cx, d;
    if (!__get_cpuid(0, &a, &b, &cx, &d)) return;
    unsigned max_leaf = a;
    memcpy(c->vendor, &b, 4); memcpy(c->vendor + 4, &d, 4); memcpy(c->vendor + 8, &cx, 4);
    __get_cpuid(1, &a, &b, &cx, &d);
    c->sse2 = d >> 26 & 1;
    c->sse42 = cx >> 20 & 1;
    c->fma = cx >> 12 & 1;
    bool osxsave = cx >> 27 & 1, avx = cx >> 28 & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    /* XMM|YMM state (bits 1,2); opmask|ZMM_Hi256|Hi16_ZMM (bits 5,6,7) */
    c->os_ymm = (xcr0 & 0x6) == 0x6;
    c->os_zmm = c->os_ymm && (xcr0 & 0xe0) == 0xe0;
    c->avx = avx && c->os_ymm;
    c->fma = c->fma && c->os_ymm;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, cx, d);
        c->avx2 = (b >> 5 & 1) && c->os_ymm;
        c->avx512f = (b >> 16 & 1) && c->os_zmm;
        c->avx512dq = (b >> 17 & 1) && c->os_zmm;
        c->avx512bw = (b >> 30 & 1) && c->os_zmm;
        c->avx512vl = (b >> 31 & 1) && c->os_zmm;
        c->avx512_vnni = (cx >> 11 & 1) && c->os_zmm;
        unsigned a1, b1, c1, d1;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        (void)b1; (void)c1; (void)d1;
        c->avx512_bf16 = (a1 >> 5 & 1) && c->os_zmm;
    }
    __get_cpuid(0x80000000, &a, &b, &cx, &d);
    if (a >= 0x80000004) {
        unsigned r[12];
        for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        char s[49];
        memcpy(s, r, 48); s[48] = 0;
        const char *p = s;
        while (*p == ' ') p++;
        snprintf(c->model, sizeof c->model, "%s", p);
        for (int i = (int)strlen(c->model) - 1; i >= 0 && c->model[i] == ' '; i--) c->model[i] = 0;
    }
}
#elif LB_ARM64
void lb_cpu_detect(lb_cpu *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->vendor, sizeof c->vendor, "arm64");
    unsigned long hw = getauxval(AT_HWCAP);
    c->asimd = (hw & HWCAP_ASIMD) != 0;
#ifdef HWCAP_SVE
    c->sve = (hw & HWCAP_SVE) != 0;
#endif
#ifdef PR_SVE_GET_VL
    if (c->sve) {
        int vl = prctl(PR_SVE_GET_VL);
        if (vl > 0) c->sve_bits = (vl & 0xffff) * 8;
    }
#endif
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "CPU part", 8) == 0) {
            char *v = strchr(line, ':');
            if (v) { snprintf(c->model, sizeof c->model, "AArch64 CPU part%s", v + 1); c->model[strcspn(c->model, "\n")] = 0; }
            break;
        }
    if (f) fclose(f);
}
#else
void lb_cpu_detect(lb_cpu *c) { memset(c, 0, sizeof *c); }
#endif

bool lb_cpu_supports(const lb_cpu *c, lb_isa isa) {
    switch (isa) {
    case LB_ISA_SCALAR: return true;
    case LB_ISA_AVX2: return LB_X86 && c->avx2 && c->fma;
    case LB_ISA_AVX512: return LB_X86 && c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq;
    case LB_ISA_NEON: return LB_ARM64 && c->asimd;
    }
    return false;
}

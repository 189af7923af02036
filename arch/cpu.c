#include "arch/cpu.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
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

/* Display family / model / stepping (leaf 1), and the AMD microarchitecture they name. */
static void detect_family(lb_cpu *c) {
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return;
    int fam = (a >> 8) & 0xf, mod = (a >> 4) & 0xf;
    if (fam == 0xf) fam += (a >> 20) & 0xff;
    if (fam == 0x6 || fam >= 0xf) mod += ((a >> 16) & 0xf) << 4;
    c->family = fam;
    c->model_id = mod;
    c->stepping = a & 0xf;
    if (!strcmp(c->vendor, "AuthenticAMD")) {
        const char *u = "";
        if (fam == 0x17) u = mod < 0x30 ? "zen" : "zen2";
        else if (fam == 0x19) u = (mod <= 0x0f || (mod >= 0x20 && mod <= 0x5f)) ? "zen3" : "zen4";
        else if (fam == 0x1a) u = "zen5";
        snprintf(c->uarch, sizeof c->uarch, "%s", u);
    }
}

/* Cache sizes from the deterministic cache parameters: leaf 4 (Intel) or 0x8000001D (AMD with
 * topology extensions); the legacy AMD leaves 0x80000005/6 where neither answers. */
static void detect_caches(lb_cpu *c, unsigned max_leaf) {
    unsigned a, b, cx, d, leaf = 0;
    if (!strcmp(c->vendor, "GenuineIntel") && max_leaf >= 4) leaf = 4;
    else if (__get_cpuid(0x80000000, &a, &b, &cx, &d) && a >= 0x8000001d) {
        __get_cpuid(0x80000001, &a, &b, &cx, &d);
        if (cx >> 22 & 1) leaf = 0x8000001d;
    }
    for (unsigned i = 0; leaf && i < 16; i++) {
        __cpuid_count(leaf, i, a, b, cx, d);
        const unsigned type = a & 0x1f, level = (a >> 5) & 7;
        if (!type) break;
        if (type == 2) continue;   /* instruction cache */
        const long long size = (long long)((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * ((long long)cx + 1);
        if (level == 1) c->l1d_bytes = size;
        else if (level == 2) c->l2_bytes = size;
        else if (level == 3) c->l3_bytes = size;
    }
    if (!c->l1d_bytes && __get_cpuid(0x80000000, &a, &b, &cx, &d) && a >= 0x80000006) {
        __get_cpuid(0x80000005, &a, &b, &cx, &d);
        c->l1d_bytes = (long long)(cx >> 24) * 1024;
        __get_cpuid(0x80000006, &a, &b, &cx, &d);
        c->l2_bytes = (long long)(cx >> 16) * 1024;
        c->l3_bytes = (long long)(d >> 18) * 512 * 1024;
    }
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
    detect_family(c);
    detect_caches(c, max_leaf);
}
#elif LB_ARM64
/* Names of the MIDR_EL1 (implementer, part) pairs latbench is likely to meet. */
static const char *midr_name(unsigned impl, unsigned part) {
    static const struct { unsigned impl, part; const char *name; } known[] = {
        {0x41, 0xd03, "Arm Cortex-A53"}, {0x41, 0xd05, "Arm Cortex-A55"}, {0x41, 0xd07, "Arm Cortex-A57"},
        {0x41, 0xd08, "Arm Cortex-A72"}, {0x41, 0xd0b, "Arm Cortex-A76"}, {0x41, 0xd0c, "Arm Neoverse N1"},
        {0x41, 0xd40, "Arm Neoverse V1"}, {0x41, 0xd41, "Arm Cortex-A78"}, {0x41, 0xd44, "Arm Cortex-X1"},
        {0x41, 0xd47, "Arm Cortex-A710"}, {0x41, 0xd48, "Arm Cortex-X2"}, {0x41, 0xd49, "Arm Neoverse N2"},
        {0x41, 0xd4f, "Arm Neoverse V2"}, {0x41, 0xd84, "Arm Neoverse V3"}, {0x41, 0xd8e, "Arm Neoverse N3"},
        {0x46, 0x001, "Fujitsu A64FX"}, {0x48, 0xd01, "HiSilicon Kunpeng 920"}, {0xc0, 0xac3, "Ampere-1"},
        {0xc0, 0xac4, "Ampere-1a"}, {0x61, 0x022, "Apple M1"}, {0x61, 0x023, "Apple M1"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].impl == impl && known[i].part == part) return known[i].name;
    return NULL;
}

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
        if (vl > 0) c->sve_bits = (vl & PR_SVE_VL_LEN_MASK) * 8;
    }
#endif
#ifdef HWCAP_CPUID
    /* MIDR_EL1 from user space: the kernel (and qemu-user) emulate the read when HWCAP_CPUID */
    if (hw & HWCAP_CPUID) {
        unsigned long midr;
        __asm__ volatile("mrs %0, midr_el1" : "=r"(midr));
        const unsigned impl = (unsigned)(midr >> 24) & 0xff, part = (unsigned)(midr >> 4) & 0xfff;
        c->family = (int)impl;
        c->model_id = (int)part;
        c->stepping = (int)(midr >> 20 & 0xf) * 16 + (int)(midr & 0xf);
        const char *name = midr_name(impl, part);
        if (name)
            snprintf(c->model, sizeof c->model, "%s (r%up%u)", name, (unsigned)(midr >> 20) & 0xf, (unsigned)midr & 0xf);
        else
            snprintf(c->model, sizeof c->model, "AArch64 implementer 0x%02x part 0x%03x", impl, part);
        return;
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

lb_isa lb_cpu_best_isa(const lb_cpu *c) {
    lb_isa best = LB_ISA_SCALAR;
    for (int i = LB_ISA_SCALAR; i <= LB_ISA_NEON; i++)
        if (lb_cpu_supports(c, (lb_isa)i)) best = (lb_isa)i;
    return best;
}

void lb_machine_slug(const char *model, const char *uarch, int cores, char *out, size_t len) {
    static const char *drop[] = {"processor", "cpu", "r", "tm", "with", "radeon", "graphics"};
    char words[8][24];
    int nw = 0;
    const char *p = model;
    while (*p && nw < 4) {
        while (*p && !isalnum((unsigned char)*p)) {
            if (*p == '@') p += strlen(p);   /* "@ 2.10GHz": a clock, not a model */
            else p++;
        }
        char w[24];
        size_t n = 0;
        while (*p && (isalnum((unsigned char)*p) || *p == '-') && n + 1 < sizeof w) w[n++] = (char)tolower((unsigned char)*p++);
        while (*p && (isalnum((unsigned char)*p) || *p == '-')) p++;
        w[n] = 0;
        if (!n) continue;
        bool skip = false;
        for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) skip |= !strcmp(w, drop[i]);
        if (!skip) snprintf(words[nw++], sizeof words[0], "%s", w);
    }
    size_t q = 0;
    out[0] = 0;
    for (int i = 0; i < nw && q < len; i++) q += (size_t)snprintf(out + q, len - q, "%s%s", q ? "-" : "", words[i]);
    if (!q) q += (size_t)snprintf(out, len, "cpu");
    if (uarch[0] && q < len) q += (size_t)snprintf(out + q, len - q, "-%s", uarch);
    if (q < len) snprintf(out + q, len - q, "-%dc", cores);
}

/* The first line of a small sysfs file into buf ("" when unreadable). */
static void read_line(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    buf[0] = 0;
    if (f && fgets(buf, (int)len, f)) buf[strcspn(buf, "\n")] = 0;
    if (f) fclose(f);
}

int lb_cpu_cores(void) {
    enum { MAX = 4096 };
    char (*sets)[32] = calloc(MAX, sizeof *sets);   /* the distinct sibling lists seen */
    int nsets = 0, online = 0;
    char path[96], line[32];
    for (int cpu = 0; sets && cpu < MAX; cpu++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d", cpu);
        if (access(path, F_OK) != 0) break;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/online", cpu);
        read_line(path, line, sizeof line);
        if (!strcmp(line, "0")) continue;   /* offline (cpu0 often has no such file: online) */
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu);
        read_line(path, line, sizeof line);
        if (!line[0]) { nsets = 0; break; }   /* no topology here: the fallback */
        online++;
        int i = 0;
        while (i < nsets && strcmp(sets[i], line)) i++;
        if (i == nsets) snprintf(sets[nsets++], sizeof sets[0], "%s", line);
    }
    free(sets);
    if (nsets > 0 && online > 0) return nsets;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

#include "tools/machine/machine.h"
#include <ctype.h>
#include "tools/machine/topology.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#if LB_X86
#include <cpuid.h>
#endif

static void detect_family(bench_machine *m, const lb_cpu *cpu) {
#if LB_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    int fam = (a >> 8) & 0xf, mod = (a >> 4) & 0xf;
    if (fam == 0xf) fam += (a >> 20) & 0xff;
    if (fam == 0x6 || fam >= 0xf) mod += ((a >> 16) & 0xf) << 4;
    m->family = fam;
    m->model_id = mod;
    if (!strcmp(cpu->vendor, "AuthenticAMD")) {
        const char *u = "";
        if (fam == 0x17) u = mod < 0x30 ? "zen" : "zen2";
        else if (fam == 0x19) u = (mod <= 0x0f || (mod >= 0x20 && mod <= 0x5f)) ? "zen3" : "zen4";
        else if (fam == 0x1a) u = "zen5";
        snprintf(m->uarch, sizeof m->uarch, "%s", u);
    }
#else
    (void)m;
    (void)cpu;
#endif
}

static void detect_topology(bench_machine *m) {
    lb_topology t;
    lb_topology_detect(&t);   /* hwloc, or sysconf when hwloc fails */
    m->packages = t.packages;
    m->cores = t.cores;
    m->pus = t.pus;
}

static void features_str(const lb_cpu *c, char *buf, size_t len) {
    const struct { bool on; const char *name; } f[] = {
        {c->sse42, "sse4.2"}, {c->avx, "avx"}, {c->avx2, "avx2"}, {c->fma, "fma"},
        {c->avx512f, "avx512f"}, {c->avx512bw, "avx512bw"}, {c->avx512vl, "avx512vl"},
        {c->avx512dq, "avx512dq"}, {c->avx512_vnni, "avx512_vnni"}, {c->avx512_bf16, "avx512_bf16"},
        {c->asimd, "asimd"}, {c->sve, "sve"},
    };
    size_t p = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].on && p < len) p += (size_t)snprintf(buf + p, len - p, "%s%s", p ? " " : "", f[i].name);
}

/* Lowercase alphanumeric words of the brand string, marketing words dropped, at most four,
 * then the microarchitecture and the core count: "AMD EPYC" on 2 Zen 4 cores -> amd-epyc-zen4-2c. */
static void make_slug(bench_machine *m) {
    static const char *drop[] = {"processor", "cpu", "r", "tm", "with", "radeon", "graphics"};
    char words[8][24];
    int nw = 0;
    const char *p = m->model;
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
    m->slug[0] = 0;
    for (int i = 0; i < nw; i++) q += (size_t)snprintf(m->slug + q, sizeof m->slug - q, "%s%s", q ? "-" : "", words[i]);
    if (!q) q += (size_t)snprintf(m->slug, sizeof m->slug, "cpu");
    if (m->uarch[0] && q < sizeof m->slug) q += (size_t)snprintf(m->slug + q, sizeof m->slug - q, "-%s", m->uarch);
    if (q < sizeof m->slug) snprintf(m->slug + q, sizeof m->slug - q, "-%dc", m->cores);
}

void bench_machine_detect(bench_machine *m, const lb_cpu *cpu) {
    memset(m, 0, sizeof *m);
    snprintf(m->model, sizeof m->model, "%s", cpu->model[0] ? cpu->model : "unknown CPU");
    detect_family(m, cpu);
    detect_topology(m);
    features_str(cpu, m->features, sizeof m->features);
    make_slug(m);
}

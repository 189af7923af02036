#include "tools/machine/machine.h"
#include "tools/machine/topology.h"
#include "arch/profile.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Family, model and microarchitecture come from arch/cpu.c (the tuning profile keys on them too). */
static void detect_family(machine_info *m, const lb_cpu *cpu) {
#if LB_X86   /* the results' family / model fields are x86's (0 elsewhere) */
    m->family = cpu->family;
    m->model_id = cpu->model_id;
#endif
    snprintf(m->uarch, sizeof m->uarch, "%s", cpu->uarch);
}

static void detect_topology(machine_info *m) {
    machine_topology t;
    machine_topology_detect(&t);   /* hwloc, or sysconf when hwloc fails */
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

void machine_detect(machine_info *m, const lb_cpu *cpu) {
    memset(m, 0, sizeof *m);
    snprintf(m->model, sizeof m->model, "%s", cpu->model[0] ? cpu->model : "unknown CPU");
    detect_family(m, cpu);
    detect_topology(m);
    features_str(cpu, m->features, sizeof m->features);
    lb_machine_slug_of(cpu, m->cores, m->slug, sizeof m->slug);   /* the profile file uses it too */
}

/* The tuning profile's identity (arch/profile.h): this CPU and the build's kernel-relevant
 * identity, and the one-line reason a profile made elsewhere is not applied. */
#include <stdio.h>
#include <string.h>
#include "arch/build_info.h"
#include "arch/profile.h"

/* See profile.h.  Here, not in arch/cpu.c: that file is part of the kernels' identity (Makefile
 * KERNEL_ID), and a name is not a kernel. */
void lb_machine_slug_of(const lb_cpu *cpu, int cores, char *out, size_t len) {
    lb_machine_slug(cpu->model[0] ? cpu->model : "unknown CPU", cpu->uarch, cores, out, len);
    char *last = strrchr(out, '-');   /* "-<cores>c" */
    if (cpu->uarch[0] || !cpu->family || !last) return;
    for (const char *p = out; p < last; p++)
        if (*p >= '0' && *p <= '9') return;   /* a model number tells it apart already */
    char tail[24];
    snprintf(tail, sizeof tail, "%s", last);
    snprintf(last, len - (size_t)(last - out), "-f%dm%d%s", cpu->family, cpu->model_id, tail);
}

void lb_profile_identity_here(lb_profile_identity *id, const lb_cpu *cpu, int cores) {
    memset(id, 0, sizeof *id);
    lb_machine_slug_of(cpu, cores, id->slug, sizeof id->slug);
    snprintf(id->vendor, sizeof id->vendor, "%s", cpu->vendor);
    id->family = cpu->family, id->model = cpu->model_id, id->stepping = cpu->stepping;
    snprintf(id->uarch, sizeof id->uarch, "%s", cpu->uarch);
    id->isa_cap = lb_cpu_best_isa(cpu);
    id->cores = cores;
    id->l1d = cpu->l1d_bytes, id->l2 = cpu->l2_bytes, id->l3 = cpu->l3_bytes;
    snprintf(id->commit, sizeof id->commit, "%s", lb_build_commit());
    snprintf(id->kernels, sizeof id->kernels, "%s", lb_build_kernel_id());
    snprintf(id->compiler, sizeof id->compiler, "%s", lb_build_compiler());
    snprintf(id->flags, sizeof id->flags, "%s", lb_build_flags());
}

/* The CPU, compiler and flags fields that differ (NULL: none), their values in a and b. */
#define VAL_LEN 48
static const char *field_differs(const lb_profile_identity *made, const lb_profile_identity *here, char *a, char *b) {
    const char *field = NULL;
#define STR(F) else if (strcmp(made->F, here->F)) field = #F, snprintf(a, VAL_LEN, "%.40s", made->F), snprintf(b, VAL_LEN, "%.40s", here->F);
#define NUM(F) else if (made->F != here->F) field = #F, snprintf(a, VAL_LEN, "%lld", (long long)made->F), snprintf(b, VAL_LEN, "%lld", (long long)here->F);
    if (0) {}
    STR(slug) STR(vendor) NUM(family) NUM(model) NUM(stepping) STR(uarch)
    else if (made->isa_cap != here->isa_cap) field = "isa_cap", snprintf(a, VAL_LEN, "%s", lb_isa_name(made->isa_cap)),
                                             snprintf(b, VAL_LEN, "%s", lb_isa_name(here->isa_cap));
    NUM(cores) NUM(l1d) NUM(l2) NUM(l3) STR(compiler) STR(flags)
#undef STR
#undef NUM
    return field;
}

static bool differs(const lb_profile_identity *made, const lb_profile_identity *here, char *why, size_t len) {
    char a[VAL_LEN] = "", b[VAL_LEN] = "";
    const char *field = field_differs(made, here, a, b);
    if (field)
        snprintf(why, len, "made on %s at commit %s, this is %s at %s: not applied (%s differs: %s here %s)", made->slug,
                 made->commit, here->slug, here->commit, field, a, b);
    return field;
}

static void kernels_differ(const lb_profile_identity *made, const lb_profile_identity *here, const char *groups,
                           char *why, size_t len) {
    snprintf(why, len, "made on %s at commit %s, this is %s at %s: not applied (kernels differs: %s changed; "
             "re-run latbench tune)", made->slug, made->commit, here->slug, here->commit, groups);
}

bool lb_profile_identity_usable(const lb_profile_identity *made, const lb_profile_identity *here, char *ops,
                                size_t opslen, char *why, size_t len) {
    if (opslen) ops[0] = 0;
    if (differs(made, here, why, len)) return false;
    if (!strcmp(made->kernels, here->kernels)) return true;
    char g[256], shared[256] = "";
    lb_build_kernel_id_diff(made->kernels, here->kernels, g, sizeof g);
    /* g: "kernels/conv2d, kernels/worm, arch" (or "the kernel identity") */
    char *save = NULL;
    for (char *t = strtok_r(g, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        const bool per_op = !strncmp(t, "kernels/", 8) && t[8];
        char *dst = per_op ? ops : shared;
        const size_t dl = per_op ? opslen : sizeof shared, n = strlen(dst);
        if (n + 1 < dl) snprintf(dst + n, dl - n, "%s%s", n ? (per_op ? " " : ", ") : "", per_op ? t + 8 : t);
    }
    if (!shared[0]) return true;
    lb_build_kernel_id_diff(made->kernels, here->kernels, g, sizeof g);
    kernels_differ(made, here, g, why, len);
    if (opslen) ops[0] = 0;
    return false;
}

bool lb_profile_op_listed(const char *ops, const char *op) {
    const size_t l = strlen(op);
    for (const char *o = ops; *o;) {
        const size_t n = strcspn(o, " ");
        if (n == l && !memcmp(o, op, l)) return true;
        o += n + (o[n] == ' ');
    }
    return false;
}

void lb_profile_say_dropped(char *out, size_t len, const char *ops, const char *had) {
    if (len) out[0] = 0;
    char names[128] = "", groups[160] = "", op[32];
    for (const char *o = ops; *o;) {
        const size_t l = strcspn(o, " ");
        snprintf(op, sizeof op, "%.*s", (int)(l < 31 ? l : 31), o);
        if (lb_profile_op_listed(had, op)) {
            size_t n = strlen(names), g = strlen(groups);
            snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", op);
            snprintf(groups + g, sizeof groups - g, "%skernels/%s", g ? ", " : "", op);
        }
        o += l + (o[l] == ' ');
    }
    if (names[0])
        snprintf(out, len, "%s entries not applied: %s changed since the profile; re-run latbench tune",
                 names, groups);
}

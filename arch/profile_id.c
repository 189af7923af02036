/* The tuning profile's identity (arch/profile.h): this CPU and the build's kernel-relevant
 * identity, and the one-line reason a profile made elsewhere is not applied. */
#include <stdio.h>
#include <string.h>
#include "arch/build_info.h"
#include "arch/profile.h"

void lb_profile_identity_here(lb_profile_identity *id, const lb_cpu *cpu, int cores) {
    memset(id, 0, sizeof *id);
    lb_machine_slug(cpu->model[0] ? cpu->model : "unknown CPU", cpu->uarch, cores, id->slug, sizeof id->slug);
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

bool lb_profile_identity_same(const lb_profile_identity *made, const lb_profile_identity *here, char *why, size_t len) {
    const char *field = NULL;
    char a[48] = "", b[48] = "";
#define STR(F) else if (strcmp(made->F, here->F)) field = #F, snprintf(a, sizeof a, "%.40s", made->F), snprintf(b, sizeof b, "%.40s", here->F);
#define NUM(F) else if (made->F != here->F) field = #F, snprintf(a, sizeof a, "%lld", (long long)made->F), snprintf(b, sizeof b, "%lld", (long long)here->F);
    if (0) {}
    STR(slug) STR(vendor) NUM(family) NUM(model) NUM(stepping) STR(uarch)
    else if (made->isa_cap != here->isa_cap) field = "isa_cap", snprintf(a, sizeof a, "%s", lb_isa_name(made->isa_cap)),
                                             snprintf(b, sizeof b, "%s", lb_isa_name(here->isa_cap));
    NUM(cores) NUM(l1d) NUM(l2) NUM(l3) STR(compiler) STR(flags)
    else if (strcmp(made->kernels, here->kernels)) field = "kernels";
#undef STR
#undef NUM
    if (!field) return true;
    if (!strcmp(field, "kernels")) {   /* name the source groups that changed */
        char g[256];
        lb_build_kernel_id_diff(made->kernels, here->kernels, g, sizeof g);
        snprintf(why, len, "made on %s at commit %s, this is %s at %s: not applied (kernels differs: %s changed; "
                 "re-run latbench tune)", made->slug, made->commit, here->slug, here->commit, g);
        return false;
    }
    snprintf(why, len, "made on %s at commit %s, this is %s at %s: not applied (%s differs: %s here %s)", made->slug,
             made->commit, here->slug, here->commit, field, a, b);
    return false;
}

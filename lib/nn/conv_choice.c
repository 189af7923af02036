/* The tuning profile applied to one conv layer or 1x1 chain (lib/nn/conv_choice.h). */
#include "lib/nn/conv_choice.h"
#include <string.h>
#include "kernels/chain1x1/chain1x1_problem.h"
#include "arch/conv2d_problem.h"

nn_conv_choice nn_conv_choose(const lb_profile *p, const lb_dispatch *d, const conv2d_desc *desc, lb_pass pass,
                              int threads) {
    nn_conv_choice c = {.ops = d->conv2d, .how = NN_TUNED_DEFAULT};
    if (!p) return c;
    char prob[128];
    lb_conv2d_problem_str(desc, prob, sizeof prob);
    const lb_profile_entry *e = lb_profile_choice(p, "conv2d", pass, prob, d->cap, threads < 1 ? 1 : threads);
    if (!e) return c;
    int n;
    const conv2d_ops *v = lb_conv2d_variants(&n);
    const conv2d_ops *chosen = NULL;
    if (!strcmp(e->variant, d->conv2d->name)) chosen = d->conv2d;
    for (int i = 0; !chosen && i < n; i++)
        if (!strcmp(v[i].name, e->variant) && lb_isa_usable(&d->cpu, d->cap, v[i].isa)) chosen = &v[i];
    if (!chosen) return c;   /* above the cap (LATBENCH_ISA): the default */
    c.ops = chosen;
    c.params = e->params;
    c.entry = e;
    c.how = strcmp(e->problem, prob) ? NN_TUNED_NEAREST : NN_TUNED_EXACT;
    return c;
}

const char *nn_tuned_name(nn_tuned how) {
    return how == NN_TUNED_EXACT ? "tuned exactly" : how == NN_TUNED_NEAREST ? "by nearest shape" : "default";
}

bool nn_chain_default_fused(const lb_dispatch *d, bool train) {
    if (train || d->chain1x1->isa == LB_ISA_SCALAR || d->chain1x1->isa != d->conv2d->isa) return false;
    int nv;
    const conv2d_ops *rows = lb_conv2d_variants(&nv);
    bool row = false;
    for (int i = 0; i < nv; i++) row |= d->conv2d == &rows[i];
    return row;
}

nn_chain_choice nn_chain_choose(const lb_profile *p, const lb_dispatch *d, const chain1x1_desc *desc, int threads) {
    nn_chain_choice c = {.ops = nn_chain_default_fused(d, false) ? d->chain1x1 : NULL, .how = NN_TUNED_DEFAULT};
    if (!p) return c;
    char prob[128];
    lb_chain1x1_problem_str(desc, prob, sizeof prob);
    const lb_profile_entry *e = lb_profile_choice(p, "chain1x1", LB_PASS_FWD, prob, d->cap, threads < 1 ? 1 : threads);
    if (!e) return c;
    const chain1x1_ops *chosen = NULL;
    int n;
    const chain1x1_ops *v = lb_chain1x1_variants(&n);
    for (int i = 0; !chosen && i < n; i++)
        if (!strcmp(v[i].name, e->variant) && lb_isa_usable(&d->cpu, d->cap, v[i].isa)) chosen = &v[i];
    if (!chosen && strcmp(e->variant, LB_CHAIN1X1_UNFUSED)) return c;   /* above the cap: the default */
    c.ops = chosen;
    c.params = chosen ? e->params : (lb_params){{0}};
    c.entry = e;
    c.how = strcmp(e->problem, prob) ? NN_TUNED_NEAREST : NN_TUNED_EXACT;
    return c;
}

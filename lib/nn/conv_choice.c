/* The tuning profile applied to one conv layer (lib/nn/conv_choice.h). */
#include "lib/nn/conv_choice.h"
#include <string.h>
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

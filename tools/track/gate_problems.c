/* latbench gate's problems: the fixed layers it times, drawn from the one problem list
 * (tools/problems/netproblems.h), and their names as the measurement hook reports them. */
#include <stdio.h>
#include "tools/track/gate_internal.h"
#include "tools/problems/netproblems.h"

/* Compute-bound and memory-bound conv layers, a small-channel one, and a pooling layer. */
const gate_problem gate_problems[GATE_N_PROBLEMS] = {
    {"task1-eq", 2, 8, 8, 32, LB_PASS_FWD},  {"task1-eq", 2, 8, 8, 32, LB_PASS_BWD_DATA},  {"task1-eq", 2, 8, 8, 32, LB_PASS_BWD_WEIGHTS},
    {"task1-st", 7, 8, 8, 32, LB_PASS_FWD},  {"task1-st", 7, 8, 8, 32, LB_PASS_BWD_DATA},  {"task1-st", 7, 8, 8, 32, LB_PASS_BWD_WEIGHTS},
    {"task3-eq1", 2, 8, 8, 32, LB_PASS_FWD}, {"task3-eq1", 2, 8, 8, 32, LB_PASS_BWD_DATA}, {"task3-eq1", 2, 8, 8, 32, LB_PASS_BWD_WEIGHTS},
    {"task1-st", 6, 8, 8, 32, 0},         {"task1-st", 6, 8, 8, 32, 1},
};

/* The seed nets' fused 1x1 chains (kernels/chain1x1; task1-fl has none), at the layers' shape. */
const gate_chain gate_chains[GATE_N_CHAINS] = {{"task1-eq", 8, 8, 32}, {"task1-st", 8, 8, 32}};

/* The gated layer as the one problem list (tools/problems/netproblems.h) makes it, and its label. */
bool gate_problem_desc(const gate_problem *p, prob_record *out, char *label, size_t len) {
    prob_net_problem np[PROB_NET_MAX_PROBLEMS];
    char err[160];
    const int n = prob_net_problems(p->net, p->h, p->w, p->batch, np, err, sizeof err);
    for (int i = 0; i < n; i++)
        if (np[i].layer == p->layer && (np[i].prob.kind == PROB_CONV2D || np[i].prob.kind == PROB_POOL)) {
            *out = np[i].prob;
            snprintf(label, len, "%s:layer%d", p->net, p->layer);
            return true;
        }
    return false;
}

/* Every gated problem's name ("conv2d_fwd/mb32_..."), as the measurement hook reports it. */
bool gate_problem_names(char names[][GATE_NAME_LEN], char *err, size_t errlen) {
    for (int i = 0; i < GATE_N_PROBLEMS; i++) {
        const gate_problem *p = &gate_problems[i];
        prob_record pr;
        char label[64];
        if (!gate_problem_desc(p, &pr, label, sizeof label))
            return snprintf(err, errlen, "internal: %s layer %d is not a conv or pool layer", p->net, p->layer), false;
        prob_pass_str(&pr, (lb_pass)p->pass, names[i], GATE_NAME_LEN);
    }
    for (int i = 0; i < GATE_N_CHAINS; i++)
        snprintf(names[GATE_N_PROBLEMS + i], GATE_NAME_LEN, "chain1x1/%s/mb%d_ih%diw%d", gate_chains[i].net,
                 gate_chains[i].batch, gate_chains[i].h, gate_chains[i].w);
    return true;
}


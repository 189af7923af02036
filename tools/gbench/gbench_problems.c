/* The problems of the gbench registry, drawn from the one problem list
 * (tools/problems/netproblems.h), and the benchmarks over them: every usable kernel variant of the
 * kind's enumerator and, for conv and pool, oneDNN's two layouts, at every thread count. */
#ifndef LB_NO_GBENCH
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/gbench/gbench.h"
#include "tools/machine/peak.h"
#include "tools/problems/netproblems.h"

/* The problem of that kind and name, or a new one; the flags of p join those it has. */
static gbk_problem *add_problem(registry *R, const gbk_problem *p) {
    for (int i = 0; i < R->n_problems; i++) {
        gbk_problem *q = &R->problems[i];
        if (q->worm == p->worm && q->prob.kind == p->prob.kind && !strcmp(q->desc, p->desc)) {
            q->has_lrelu |= p->has_lrelu;
            q->has_sigmoid |= p->has_sigmoid;
            q->has_mse |= p->has_mse;
            q->has_bce |= p->has_bce;
            return q;
        }
    }
    if (R->n_problems == R->cap_problems) {
        int cap = R->cap_problems ? 2 * R->cap_problems : 64;
        gbk_problem *np = realloc(R->problems, sizeof *np * (size_t)cap);
        if (!np) return NULL;
        R->problems = np;
        R->cap_problems = cap;
    }
    gbk_problem *q = &R->problems[R->n_problems++];
    *q = *p;
    q->layers[0] = 0;
    return q;
}

static void add_label(gbk_problem *q, const char *label) {
    if (!q || strstr(q->layers, label)) return;
    size_t n = strlen(q->layers);
    snprintf(q->layers + n, sizeof q->layers - n, "%s%s", n ? " " : "", label);
}

/* A problem of the list as the registry names it: the kind's shape, but an activation by its
 * tensor's shape, the loss by batch and outputs and the optimizer step as AMSGrad's (the names
 * google-benchmark lists, kept as they were). */
static void from_net_problem(const prob_net_problem *np, gbk_problem *p) {
    memset(p, 0, sizeof *p);
    p->prob = np->prob;
    switch (np->prob.kind) {
    case PROB_ACT:
        p->act_shape = (dense_flatten_desc){np->batch, np->in.h, np->in.w, np->in.c};
        p->has_lrelu = np->kind == LAYER_LRELU;
        p->has_sigmoid = np->kind == LAYER_SIGMOID;
        snprintf(p->desc, sizeof p->desc, "mb%d_c%d_ih%diw%d", np->batch, np->in.c, np->in.h, np->in.w);
        break;
    case PROB_LOSS:
        p->has_bce = np->bce;
        p->has_mse = !np->bce;
        snprintf(p->desc, sizeof p->desc, "mb%d_o%d", np->batch, np->in.c);
        break;
    case PROB_OPTIM:
        snprintf(p->desc, sizeof p->desc, "n%zu_amsgrad", np->prob.u.n);
        break;
    default:
        prob_shape_str(&np->prob, p->desc, sizeof p->desc);
        break;
    }
}

bool gbk_collect_net(registry *R, const char *net, int h, int w, int batch, char *why, size_t whylen) {
    prob_net_problem np[PROB_NET_MAX_PROBLEMS];
    const int n = prob_net_problems(net, h, w, batch, np, why, whylen);
    for (int i = 0; i < n; i++) {
        gbk_problem p;
        from_net_problem(&np[i], &p);
        add_label(add_problem(R, &p), np[i].label);
    }
    return n >= 0;
}

void gbk_collect_worm(registry *R) {
    static const int lattices[][2] = {{60, 4}, {8, 8}};
    for (int i = 0; i < 2; i++) {
        gbk_problem p;
        memset(&p, 0, sizeof p);
        p.worm = true;
        p.worm_nt = lattices[i][0];
        p.worm_nx = lattices[i][1];
        p.worm_mu = 1.0;
        snprintf(p.desc, sizeof p.desc, "%dx%d_eta4.01_lambda1_mu%.2f", p.worm_nt, p.worm_nx, p.worm_mu);
        add_label(add_problem(R, &p), "worm");
    }
}

/* ---- benchmarks ---- */

static bool add_bench(registry *R, int prob, gbk_op op, impl_kind impl, lb_isa isa, const void *variant,
                      const char *variant_name, int threads, bool dispatched) {
    if (R->n_benches == R->cap_benches) {
        int cap = R->cap_benches ? 2 * R->cap_benches : 256;
        gbench_entry *nb = realloc(R->benches, sizeof *nb * (size_t)cap);
        if (!nb) return false;
        R->benches = nb;
        R->cap_benches = cap;
    }
    R->benches[R->n_benches] = (gbench_entry){R, R->n_benches, prob, op, impl, isa, variant, variant_name, threads, dispatched};
    R->n_benches++;
    return true;
}

/* Whether a variant of ISA isa is registered; prints "skipped: ..." the first time an op's
 * variant is left out. */
static bool usable(registry *R, const char *op, const char *variant, lb_isa isa, bool *said) {
    if (lb_isa_usable(&R->disp->cpu, R->disp->cap, isa)) return true;
    if (!*said) {
        if (!lb_cpu_supports(&R->disp->cpu, isa))
            fprintf(stderr, "latbench bench --gbench: skipped: %s/%s (CPU lacks %s)\n", op, variant, lb_isa_name(isa));
        else
            fprintf(stderr, "latbench bench --gbench: skipped: %s/%s (above the LATBENCH_ISA cap %s)\n", op, variant,
                    lb_isa_name(R->disp->cap));
        *said = true;
    }
    return false;
}

/* The ISA whose FMA peak oneDNN is held against: what it may use (capped like our kernels). */
static lb_isa onednn_peak_isa(const registry *R) {
    return R->disp->cap == LB_ISA_SCALAR ? machine_peak_isa_for(&R->disp->cpu, LB_ISA_SCALAR) : R->disp->cap;
}

/* Every usable variant of enumerator OP, for each of the n_ops ops, at every thread count; the one
 * the dispatcher picked is marked (named "ours"). */
#define VARIANTS(OP, TYPE, said)                                                                    \
    do {                                                                                            \
        int nv_;                                                                                    \
        const TYPE *v_ = lb_##OP##_variants(&nv_);                                                  \
        for (int k_ = 0; k_ < nv_; k_++) {                                                          \
            if (!usable(R, #OP, v_[k_].name, v_[k_].isa, &(said)[k_ < 8 ? k_ : 7])) continue;       \
            for (size_t o_ = 0; o_ < n_ops; o_++)                                                   \
                for (int t_ = 0; t_ < R->n_threads; t_++)                                           \
                    ok &= add_bench(R, pi, ops[o_], IMPL_OURS, v_[k_].isa, &v_[k_], v_[k_].name, R->threads[t_], \
                                    !strcmp(v_[k_].name, R->disp->OP->name));                       \
        }                                                                                           \
    } while (0)

/* oneDNN's two layouts of a conv or pool op at every thread count. */
static bool add_onednn(registry *R, int pi, gbk_op op) {
    bool ok = true;
    for (int l = 0; l < 2 && R->have_onednn; l++)
        for (int t = 0; t < R->n_threads; t++)
            ok &= add_bench(R, pi, op, l == 0 ? IMPL_ONEDNN_ANY : IMPL_ONEDNN_NHWC, onednn_peak_isa(R), NULL,
                            l == 0 ? "onednn_any" : "onednn_nhwc", R->threads[t], false);
    return ok;
}

/* The ops timed of problem p, in the order they are registered: conv and pool one pass at a time
 * (each with oneDNN after ours), the others all together. */
static size_t ops_of(const gbk_problem *p, gbk_op *ops) {
    size_t n = 0;
    if (p->worm) {
        ops[n++] = (gbk_op){LB_PASS_FWD, 0};
        return n;
    }
    switch (p->prob.kind) {
    case PROB_CONV2D: for (int k = 0; k < 3; k++) ops[n++] = (gbk_op){(lb_pass)k, 0}; break;
    case PROB_POOL:
    case PROB_GPOOL:
    case PROB_FLATTEN: for (int k = 0; k < 2; k++) ops[n++] = (gbk_op){(lb_pass)k, 0}; break;
    case PROB_DENSE: for (int k = 0; k < 3; k++) ops[n++] = (gbk_op){(lb_pass)k, 0}; break;
    case PROB_ACT:
        for (int f = 0; f < 2; f++)
            if (f == 0 ? p->has_lrelu : p->has_sigmoid)
                for (int k = 0; k < 2; k++) ops[n++] = (gbk_op){(lb_pass)k, f == 0 ? LAYER_LRELU : LAYER_SIGMOID};
        break;
    case PROB_LOSS:
        if (p->has_mse) ops[n++] = (gbk_op){LB_PASS_FWD, GBK_MSE};
        if (p->has_bce) ops[n++] = (gbk_op){LB_PASS_FWD, GBK_BCE};
        break;
    case PROB_OPTIM: ops[n++] = (gbk_op){LB_PASS_FWD, 0}; break;
    }
    return n;
}

bool gbk_make_benches(registry *R) {
    bool ok = true;
    bool said[9][8] = {{false}};
    for (int pi = 0; pi < R->n_problems; pi++) {
        const gbk_problem *p = &R->problems[pi];
        gbk_op all[4], *ops = all;
        const size_t n_all = ops_of(p, all);
        size_t n_ops = n_all;
        if (p->worm) {
            VARIANTS(worm, worm_ops, said[7]);
            continue;
        }
        switch (p->prob.kind) {
        case PROB_CONV2D:
        case PROB_POOL:
            for (size_t k = 0; k < n_all; k++) {
                ops = &all[k];
                n_ops = 1;
                if (p->prob.kind == PROB_CONV2D) VARIANTS(conv2d, conv2d_ops, said[0]);
                else VARIANTS(pool, pool_ops, said[1]);
                ok &= add_onednn(R, pi, all[k]);
            }
            break;
        case PROB_GPOOL: VARIANTS(gpool, gpool_ops, said[2]); break;
        case PROB_ACT: VARIANTS(act, act_ops, said[3]); break;
        case PROB_DENSE:
        case PROB_FLATTEN: VARIANTS(dense, dense_ops, said[4]); break;
        case PROB_LOSS: VARIANTS(loss, loss_ops, said[5]); break;
        case PROB_OPTIM: VARIANTS(optim, optim_ops, said[6]); break;
        }
    }
    return ok;
}

void gbk_bench_name(const registry *R, const gbench_entry *e, char *buf, size_t len) {
    const gbk_problem *p = &R->problems[e->problem];
    char op[32], impl[80];
    if (e->impl != IMPL_OURS) snprintf(impl, sizeof impl, "%s", e->variant_name);
    else bench_impl_name(e->variant_name, e->isa, e->dispatched && !p->worm, impl, sizeof impl);
    if (p->worm) {
        snprintf(op, sizeof op, "worm");
    } else if (p->prob.kind == PROB_ACT) {
        snprintf(op, sizeof op, "%s_%s", e->op.fn == LAYER_LRELU ? "lrelu" : "sigmoid", lb_pass_name_unsplit(e->op.pass));
    } else if (p->prob.kind == PROB_LOSS) {
        snprintf(op, sizeof op, "%s", e->op.fn == GBK_BCE ? "loss_bce_logits" : "loss_mse");
    } else if (p->prob.kind == PROB_OPTIM) {
        snprintf(op, sizeof op, "adamw_step");
    } else { /* the layer kinds: named as bench and the gate name them */
        char name[160];
        prob_pass_str(&p->prob, e->op.pass, name, sizeof name);
        snprintf(buf, len, "%s/%s/threads:%d", name, impl, e->threads);
        return;
    }
    snprintf(buf, len, "%s/%s/%s/threads:%d", op, p->desc, impl, e->threads);
}
#endif

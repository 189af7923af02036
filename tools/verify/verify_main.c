/* latbench verify: every kernel variant against the scalar reference and oneDNN, over the layer
 * shapes of every preset network on 8x8, 60x4 and 100x5, plus awkward shapes (odd lattices,
 * channel counts that are not multiples of the vector width, batch 1, one input channel). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify.h"
#include "kernels/chain1x1/chain1x1_problem.h"
#include "arch/profile.h"
#include "tools/opts/opts.h"
#include "lib/nn/netspec.h"
#include "tools/problems/problem.h"
#include "tools/verify/verify_ops.h"
#include "tools/verify/verify_problems.h"

/* Problems seen so far (op and descriptor bytes: every descriptor is plain ints and enums, or a
 * size), so that a layer shared by several networks is checked once. */
typedef struct {
    int op;
    unsigned char bytes[48];
} seen_key;

typedef struct {
    vf_report *r;
    seen_key *keys;
    int n, cap;
} run_ctx;

static bool first_visit(run_ctx *c, int op, const void *desc, size_t len) {
    seen_key k = {op, {0}};
    memcpy(k.bytes, desc, len < sizeof k.bytes ? len : sizeof k.bytes);
    for (int i = 0; i < c->n; i++)
        if (!memcmp(&c->keys[i], &k, sizeof k)) return false;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->keys = realloc(c->keys, (size_t)c->cap * sizeof *c->keys);
        if (!c->keys) { fprintf(stderr, "latbench: out of memory\n"); exit(1); }
    }
    c->keys[c->n++] = k;
    return true;
}

enum { OP_CONV, OP_POOL, OP_GPOOL, OP_DENSE, OP_FLATTEN, OP_ACT, OP_LOSS, OP_OPTIM };
#define VISIT_DESC(name, op, T, verify)                                                    \
    static void name(void *ctx, const T *d) {                                              \
        if (first_visit(ctx, op, d, sizeof *d)) verify(((run_ctx *)ctx)->r, d);           \
    }
#define VISIT_SIZE(name, op, verify)                                                       \
    static void name(void *ctx, size_t n) {                                                \
        if (first_visit(ctx, op, &n, sizeof n)) verify(((run_ctx *)ctx)->r, n);           \
    }
VISIT_DESC(on_conv, OP_CONV, conv2d_desc, verify_conv2d)
VISIT_DESC(on_pool, OP_POOL, pool_desc, verify_pool)
VISIT_DESC(on_gpool, OP_GPOOL, gpool_desc, verify_gpool)
VISIT_DESC(on_dense, OP_DENSE, dense_desc, verify_dense)
VISIT_DESC(on_flatten, OP_FLATTEN, dense_flatten_desc, verify_flatten)
VISIT_SIZE(on_act, OP_ACT, verify_act)
VISIT_SIZE(on_loss, OP_LOSS, verify_loss)
VISIT_SIZE(on_optim, OP_OPTIM, verify_optim)

static const vp_visitor visitor = {on_conv, on_pool, on_gpool, on_dense, on_flatten, on_act, on_loss, on_optim};

/* One problem, whatever its kind (--desc). */
static void verify_problem(vf_report *r, const prob_record *p) {
    switch (p->kind) {
    case PROB_CONV2D: verify_conv2d(r, &p->u.conv); break;
    case PROB_POOL: verify_pool(r, &p->u.pool); break;
    case PROB_GPOOL: verify_gpool(r, &p->u.gpool); break;
    case PROB_DENSE: verify_dense(r, &p->u.dense); break;
    case PROB_FLATTEN: verify_flatten(r, &p->u.flatten); break;
    case PROB_ACT: verify_act(r, p->u.n); break;
    case PROB_LOSS: verify_loss(r, p->u.n); break;
    case PROB_OPTIM: verify_optim(r, p->u.n); break;
    }
}

/* The shapes of the active profile's conv2d entries with parameters (the batch cut to 4), each
 * checked as verify's own shapes are: there the profile's parameter sets run on the shape they
 * were tuned for (verify_conv2d checks every variant at every set it has in the profile); its
 * chain1x1 entries with parameters (the sites cut to 256) likewise (verify_chain1x1 checks each
 * variant at its profile sets). */
static void verify_profile_shapes(run_ctx *ctx) {
    const lb_profile *p = lb_profile_active();
    static const lb_params none;
    for (int k = 0; p && k < p->n; k++) {
        const lb_profile_entry *e = &p->entries[k];
        chain1x1_desc cd;
        if (!strcmp(e->op, "chain1x1") && memcmp(&e->params, &none, sizeof none) && lb_chain1x1_problem_parse(e->problem, &cd)) {
            cd.sites = cd.sites > 256 ? 256 : cd.sites, cd.slope = 0.01f;
            verify_chain1x1(ctx->r, &cd);
        }
        if (strcmp(e->op, "conv2d") || !memcmp(&e->params, &none, sizeof none)) continue;
        char name[160], err[256];
        prob_record pr;
        prob_sel sel;
        snprintf(name, sizeof name, "conv2d/%s", e->problem);
        if (!prob_parse(name, &pr, &sel, err, sizeof err) || pr.kind != PROB_CONV2D) continue;   /* "any" */
        if (pr.u.conv.n > 4) pr.u.conv.n = 4;
        on_conv(ctx, &pr.u.conv);
    }
}

static int usage(FILE *f) {
    fprintf(f, "usage: latbench verify [--isa LIST] [--filter SUBSTR | --desc NAME] [--no-onednn] [--verbose]\n"
                    "  --isa LIST     comma list of scalar,avx2,avx512,neon (default: all up to LATBENCH_ISA)\n"
                    "  --filter S     only checks whose descriptor contains S\n"
                    "  --desc NAME    exactly this problem, in or outside the built-in set: a problem name\n"
                    "                 (conv2d/mb1_ic3oc5_ih9iw9_kh3kw3_sh1sw1_b1, act/n100) or a MISMATCH line's\n"
                    "                 descriptor (conv2d_fwd/.../avx2@onednn: only that check)\n");
    return 2;
}

/* The options of a run. */
typedef struct {
    unsigned mask; /* the ISAs checked */
    const char *filter, *isa_arg, *desc;
    bool onednn, verbose;
} verify_opts;

/* --isa LIST into o->mask: false (with the message printed) on a bad list. */
static bool parse_isa(const char *arg, verify_opts *o) {
    char buf[128];
    o->mask = 0;
    o->isa_arg = arg;
    /* a longer list would be cut silently: refuse it */
    if ((size_t)snprintf(buf, sizeof buf, "%s", arg) >= sizeof buf) {
        fprintf(stderr, "latbench verify: --isa '%.40s...' is too long\n", arg);
        return false;
    }
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        int isa = lb_isa_parse(t);
        if (isa < 0) {
            fprintf(stderr, "latbench verify: unknown ISA '%s' (scalar, avx2, avx512, neon)\n", t);
            return false;
        }
        o->mask |= 1u << isa;
    }
    if (!o->mask) {
        fprintf(stderr, "latbench verify: --isa '%s' names no ISA\n", arg);
        return false;
    }
    return true;
}

/* The options into o: -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, const lb_dispatch *disp, verify_opts *o) {
    static const struct option longopts[] = {{"isa", required_argument, NULL, 256},    {"filter", required_argument, NULL, 257},
                                             {"desc", required_argument, NULL, 258},   {"no-onednn", no_argument, NULL, 259},
                                             {"verbose", no_argument, NULL, 'v'},      {0}};
    *o = (verify_opts){.onednn = true};
    for (int i = LB_ISA_SCALAR; i <= (int)disp->cap; i++) o->mask |= 1u << i;
    opts_parser p;
    opts_init(&p, "verify", argc, argv, longopts, "v", false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return usage(stdout), 0;
        if (c == OPTS_ERR) return 2;
        if (c == 256 && !parse_isa(p.arg, o)) return 2;
        if (c == 257) o->filter = p.arg;
        if (c == 258) o->desc = p.arg;
        if (c == 259) o->onednn = false;
        if (c == 'v') o->verbose = true;
    }
    if (opts_first_operand(&p) < argc) return opts_fail(&p, "unexpected argument '%s' (try latbench verify --help)", argv[opts_first_operand(&p)]);
    return -1;
}

/* What the run leaves out: oneDNN comparisons, and ISAs above the LATBENCH_ISA cap. */
static void print_scope(const vf_report *r, const lb_dispatch *disp, unsigned mask) {
    if (!LB_X86 || !LB_HAVE_ONEDNN)
        printf("oneDNN comparisons: not available on this build (%s); checking against the scalar reference\n",
               LB_HAVE_ONEDNN ? "x86-64 only" : "built without oneDNN");
    else if (!r->onednn) printf("oneDNN comparisons: off (--no-onednn)\n");
    for (int i = 0; i <= LB_ISA_NEON; i++)
        if (!(mask & (1u << i)) && i > (int)disp->cap && lb_cpu_supports(&r->cpu, (lb_isa)i))
            printf("not checked: %s variants (above the LATBENCH_ISA cap %s)\n", lb_isa_name((lb_isa)i), lb_isa_name(disp->cap));
}

int cmd_verify(int argc, char **argv) {
    const lb_dispatch *disp = lb_dispatch_get();
    verify_opts o;
    int rc = parse_args(argc, argv, disp, &o);
    if (rc >= 0) return rc;
    prob_record prob;
    prob_sel sel;
    if (o.desc) {
        char err[256];
        if (o.filter) {
            fprintf(stderr, "latbench verify: --desc and --filter do not go together (--desc names one problem)\n");
            return 2;
        }
        if (!prob_parse(o.desc, &prob, &sel, err, sizeof err)) {
            fprintf(stderr, "latbench verify: --desc %s\n", err);
            return 2;
        }
        if (!sel.whole) o.filter = sel.filter;
    }
    /* an ISA list this CPU runs none of checked nothing and ended in a contradictory summary */
    bool runnable = false;
    for (int i = 0; i <= LB_ISA_NEON; i++) runnable |= (o.mask & (1u << i)) && lb_cpu_supports(&disp->cpu, (lb_isa)i);
    if (!runnable) {
        fprintf(stderr, "latbench verify: --isa %s: this CPU runs none of these ISAs\n", o.isa_arg ? o.isa_arg : "");
        return 2;
    }
    /* Correctness needs no parallelism, and oneDNN's spinning OpenMP workers slow a shared
     * machine down tenfold. */
    omp_set_num_threads(1);
    vf_report r;
    vf_report_init(&r, stdout, o.mask, o.onednn);
    r.filter = o.filter;
    r.verbose = o.verbose;
    print_scope(&r, disp, o.mask);
    run_ctx ctx = {&r, NULL, 0, 0};
    if (o.desc) verify_problem(&r, &prob);
    else vp_enumerate(&visitor, &ctx), verify_chain1x1_set(&r), verify_profile_shapes(&ctx);
    free(ctx.keys);
    vf_report_fini(&r);
    printf("verify: %d checks (%d against oneDNN, %d at tuning parameter values, %d at the profile's parameter sets), "
           "%d passed, %d mismatches, %d variants skipped (this CPU lacks their ISA)\n", r.checked, r.onednn_checks,
           r.param_checks, r.profile_checks, r.checked - r.failed, r.failed, r.skipped);
    if (r.checked == 0) {
        printf("verify: no check matched%s%s\n", o.filter ? " the filter " : "", o.filter ? o.filter : "");
        return 1;
    }
    return r.failed ? 1 : 0;
}

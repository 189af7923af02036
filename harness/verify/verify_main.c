/* latbench verify: every kernel variant against the scalar reference and oneDNN, over the layer
 * shapes of every preset network on 8x8, 60x4 and 100x5, plus awkward shapes (odd lattices,
 * channel counts that are not multiples of the vector width, batch 1, one input channel). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness/cli/cli.h"
#include "harness/nn/netspec.h"
#include "harness/verify/verify_ops.h"
#include "harness/verify/verify_problems.h"

/* Problems seen so far, so that a layer shared by several networks is checked once. */
typedef struct {
    char (*keys)[96];
    int n, cap;
} seen_set;

static bool seen_add(seen_set *s, const char *key) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->keys[i], key)) return false;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->keys = realloc(s->keys, (size_t)s->cap * sizeof *s->keys);
        if (!s->keys) { fprintf(stderr, "latbench: out of memory\n"); exit(1); }
    }
    snprintf(s->keys[s->n++], sizeof s->keys[0], "%s", key);
    return true;
}

typedef struct {
    vf_report *r;
    seen_set seen;
} run_ctx;

static void on_conv(void *ctx, const conv2d_desc *d) {
    run_ctx *c = ctx;
    char key[96] = "conv:";
    conv2d_desc_str(d, key + 5, sizeof key - 5);
    if (seen_add(&c->seen, key)) verify_conv2d(c->r, d);
}
static void on_pool(void *ctx, const pool_desc *d) {
    run_ctx *c = ctx;
    char key[96] = "pool:";
    pool_desc_str(d, key + 5, sizeof key - 5);
    if (seen_add(&c->seen, key)) verify_pool(c->r, d);
}
static void on_gpool(void *ctx, const gpool_desc *d) {
    run_ctx *c = ctx;
    char key[96] = "gpool:";
    gpool_desc_str(d, key + 6, sizeof key - 6);
    if (seen_add(&c->seen, key)) verify_gpool(c->r, d);
}
static void on_dense(void *ctx, const dense_desc *d) {
    run_ctx *c = ctx;
    char key[96] = "dense:";
    dense_desc_str(d, key + 6, sizeof key - 6);
    if (seen_add(&c->seen, key)) verify_dense(c->r, d);
}
static void on_flatten(void *ctx, const flatten_desc *d) {
    run_ctx *c = ctx;
    char key[96];
    snprintf(key, sizeof key, "flatten:%d_%d_%d_%d", d->n, d->h, d->w, d->c);
    if (seen_add(&c->seen, key)) verify_flatten(c->r, d);
}
static void on_act(void *ctx, size_t n) {
    run_ctx *c = ctx;
    char key[96];
    snprintf(key, sizeof key, "act:%zu", n);
    if (seen_add(&c->seen, key)) verify_act(c->r, n);
}
static void on_loss(void *ctx, size_t n) {
    run_ctx *c = ctx;
    char key[96];
    snprintf(key, sizeof key, "loss:%zu", n);
    if (seen_add(&c->seen, key)) verify_loss(c->r, n);
}
static void on_optim(void *ctx, size_t n) {
    run_ctx *c = ctx;
    char key[96];
    snprintf(key, sizeof key, "optim:%zu", n);
    if (seen_add(&c->seen, key)) verify_optim(c->r, n);
}

static const vp_visitor visitor = {on_conv, on_pool, on_gpool, on_dense, on_flatten, on_act, on_loss, on_optim};

static int usage(void) {
    fprintf(stderr, "usage: latbench verify [--isa LIST] [--filter SUBSTR] [--no-onednn] [--verbose]\n"
                    "  --isa LIST     comma list of scalar,avx2,avx512,neon (default: all up to LATBENCH_ISA)\n"
                    "  --filter S     only checks whose descriptor contains S (a MISMATCH line's descriptor reruns it)\n");
    return 2;
}

int cmd_verify(int argc, char **argv) {
    const lb_dispatch *disp = lb_dispatch_get();
    unsigned mask = 0;
    for (int i = LB_ISA_SCALAR; i <= (int)disp->cap; i++) mask |= 1u << i;
    const char *filter = NULL;
    bool onednn = true, verbose = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            mask = 0;
            char buf[128];
            snprintf(buf, sizeof buf, "%s", argv[++i]);
            for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
                int isa = lb_isa_parse(t);
                if (isa < 0) {
                    fprintf(stderr, "latbench verify: unknown ISA '%s' (scalar, avx2, avx512, neon)\n", t);
                    return 2;
                }
                mask |= 1u << isa;
            }
        } else if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
            filter = argv[++i];
        } else if (!strcmp(argv[i], "--no-onednn")) {
            onednn = false;
        } else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
            verbose = true;
        } else {
            fprintf(stderr, "latbench verify: unknown option '%s'\n", argv[i]);
            return usage();
        }
    }
    /* Correctness needs no parallelism, and oneDNN's spinning OpenMP workers slow a shared
     * machine down tenfold. */
    omp_set_num_threads(1);
    vf_report r;
    vf_report_init(&r, stdout, mask, onednn);
    r.filter = filter;
    r.verbose = verbose;
    if (!LB_X86) printf("oneDNN comparisons: not available on this build (x86-64 only); checking against the scalar reference\n");
    else if (!r.onednn) printf("oneDNN comparisons: off (--no-onednn)\n");
    for (int i = 0; i <= LB_ISA_NEON; i++)
        if (!(mask & (1u << i)) && i > (int)disp->cap && lb_cpu_supports(&r.cpu, (lb_isa)i))
            printf("not checked: %s variants (above the LATBENCH_ISA cap %s)\n", lb_isa_name((lb_isa)i), lb_isa_name(disp->cap));
    run_ctx ctx = {&r, {0}};
    vp_enumerate(&visitor, &ctx);
    free(ctx.seen.keys);
    vf_report_fini(&r);
    printf("verify: %d checks, %d passed, %d mismatches, %d variants skipped (this CPU lacks their ISA)\n", r.checked,
           r.checked - r.failed, r.failed, r.skipped);
    if (r.checked == 0) {
        printf("verify: no check matched%s%s\n", filter ? " the filter " : "", filter ? filter : "");
        return 1;
    }
    return r.failed ? 1 : 0;
}

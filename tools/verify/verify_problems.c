#include "tools/verify/verify_problems.h"
#include <stdio.h>
#include "lib/nn/netspec.h"
#include "tools/problems/netproblems.h"

static const int lattices[][2] = {{8, 8}, {60, 4}, {100, 5}};
static const int batches[] = {1, 2};

/* The net's problems as bench and gbench time them (tools/problems/netproblems.h). */
static void network_problems(const vp_visitor *v, void *ctx, const char *net, int h, int w, int n) {
    prob_net_problem np[PROB_NET_MAX_PROBLEMS];
    char err[160];
    const int m = prob_net_problems(net, h, w, n, np, err, sizeof err); /* FL nets fit only their own lattice */
    for (int i = 0; i < m; i++) {
        const prob_record *p = &np[i].prob;
        switch (p->kind) {
        case PROB_CONV2D: v->conv(ctx, &p->u.conv); break;
        case PROB_POOL: v->pool(ctx, &p->u.pool); break;
        case PROB_GPOOL: v->gpool(ctx, &p->u.gpool); break;
        case PROB_DENSE: v->dense(ctx, &p->u.dense); break;
        case PROB_FLATTEN: v->flatten(ctx, &p->u.flatten); break;
        case PROB_ACT: v->act(ctx, p->u.n); break;
        case PROB_LOSS: v->loss(ctx, p->u.n); break;
        case PROB_OPTIM: v->optim(ctx, p->u.n); break;
        }
    }
}

static void awkward_problems(const vp_visitor *v, void *ctx) {
    /* n, h, w, cin, cout, kh, kw, sh, sw, bias */
    static const conv2d_desc convs[] = {
        {1, 5, 7, 1, 3, 2, 2, 1, 1, 1, {{0}}},   {1, 3, 3, 13, 17, 3, 3, 1, 1, 1, {{0}}}, {2, 5, 7, 3, 33, 1, 3, 1, 1, 0, {{0}}},
        {1, 7, 5, 17, 13, 3, 1, 1, 1, 1, {{0}}}, {1, 5, 7, 4, 20, 2, 3, 1, 1, 1, {{0}}}, {2, 5, 7, 13, 17, 3, 3, 2, 2, 1, {{0}}},
        {1, 7, 5, 8, 24, 2, 2, 2, 1, 0, {{0}}},  {1, 1, 1, 5, 9, 3, 3, 1, 1, 1, {{0}}},  {1, 2, 1, 4, 16, 2, 2, 1, 1, 1, {{0}}},
        {3, 8, 8, 1, 1, 1, 1, 1, 1, 1, {{0}}},   {1, 9, 9, 33, 47, 2, 2, 2, 2, 1, {{0}}}, {1, 4, 6, 80, 80, 2, 2, 1, 1, 1, {{0}}},
    };
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) v->conv(ctx, &convs[i]);
    static const pool_desc pools[] = {
        {1, 5, 7, 13, 2, 2, POOL_AVG}, {1, 5, 7, 13, 2, 2, POOL_MAX}, {2, 5, 7, 3, 3, 1, POOL_MAX},
        {1, 7, 5, 17, 3, 2, POOL_AVG}, {1, 3, 3, 1, 3, 3, POOL_MAX},  {1, 2, 2, 33, 2, 2, POOL_AVG},
    };
    for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) v->pool(ctx, &pools[i]);
    for (int k = 0; k < 3; k++) {
        /* 87 and 129: more channels than one register block holds (AVX2 80, AVX-512 160 per block) */
        static const int cs[] = {1, 3, 13, 17, 87, 129, 200};
        for (int j = 0; j < 7; j++) {
            gpool_desc d = {1 + j % 2, 35, cs[j], (gpool_kind)k};
            v->gpool(ctx, &d);
        }
    }
    static const dense_desc denses[] = {{1, 1, 1, 1}, {3, 17, 33, 1}, {7, 33, 3, 0}, {1, 360, 24, 1}};
    for (size_t i = 0; i < sizeof denses / sizeof denses[0]; i++) v->dense(ctx, &denses[i]);
    dense_flatten_desc f = {2, 5, 7, 3};
    v->flatten(ctx, &f);
    static const size_t sizes[] = {0, 1, 7, 15, 16, 17, 33, 1000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        v->act(ctx, sizes[i]);
        v->loss(ctx, sizes[i]);
        v->optim(ctx, sizes[i]);
    }
}

void vp_enumerate(const vp_visitor *v, void *ctx) {
    int n_presets;
    const char *const *names = netspec_preset_names(&n_presets);
    for (int p = 0; p < n_presets; p++) {
        net_spec net;
        char err[160];
        if (!netspec_parse(netspec_preset(names[p]), &net, err, sizeof err)) {
            fprintf(stderr, "latbench: preset %s does not parse: %s\n", names[p], err);
            continue;
        }
        for (size_t l = 0; l < sizeof lattices / sizeof lattices[0]; l++)
            for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
                network_problems(v, ctx, names[p], lattices[l][0], lattices[l][1], batches[b]);
    }
    awkward_problems(v, ctx);
}

#include "tools/problems/netproblems.h"
#include <stdio.h>
#include <string.h>
#include "lib/nn/layer_desc.h"

static const char *const kind_label[] = {"conv",     "lrelu",    "sigmoid",  "avgpool", "maxpool",
                                         "gavgpool", "gmaxpool", "gsumpool", "flatten", "linear"};

/* The problem of layer L at input shape a. */
static prob_record layer_problem(const layer_spec *L, act_shape a, int batch) {
    prob_record p;
    memset(&p, 0, sizeof p);
    switch (L->kind) {
    case LAYER_CONV:
        p.kind = PROB_CONV2D;
        p.u.conv = layer_conv_desc(L, a, batch);
        break;
    case LAYER_AVGPOOL:
    case LAYER_MAXPOOL:
        p.kind = PROB_POOL;
        p.u.pool = layer_pool_desc(L, a, batch);
        break;
    case LAYER_GAVGPOOL:
    case LAYER_GMAXPOOL:
    case LAYER_GSUMPOOL:
        p.kind = PROB_GPOOL;
        p.u.gpool = layer_gpool_desc(L, a, batch);
        break;
    case LAYER_LRELU:
    case LAYER_SIGMOID:
        p.kind = PROB_ACT;
        p.u.n = (size_t)batch * a.h * a.w * a.c;
        break;
    case LAYER_FLATTEN:
        p.kind = PROB_FLATTEN;
        p.u.flatten = (dense_flatten_desc){batch, a.h, a.w, a.c};
        break;
    case LAYER_LINEAR:
        p.kind = PROB_DENSE;
        p.u.dense = (dense_desc){batch, L->cin, L->cout, L->bias};
        break;
    }
    return p;
}

int prob_net_problems(const char *net, int h, int w, int batch, prob_net_problem *out, char *err, size_t len) {
    const char *text = netspec_preset(net);
    net_spec spec;
    act_shape s[NETSPEC_MAX_LAYERS + 1];
    if (!text) return snprintf(err, len, "'%s' is not a network preset", net), -1;
    if (!netspec_parse(text, &spec, err, len) || !netspec_shapes(&spec, h, w, s, err, len)) return -1;
    int count[LAYER_LINEAR + 1] = {0}, n = 0;
    for (int i = 0; i < spec.n_layers; i++, n++) {
        const layer_spec *L = &spec.layers[i];
        out[n] = (prob_net_problem){.prob = layer_problem(L, s[i], batch), .layer = i, .kind = L->kind, .in = s[i], .batch = batch};
        snprintf(out[n].label, sizeof out[n].label, "%s:%s%d", net, kind_label[L->kind], ++count[L->kind]);
    }
    const act_shape o = s[spec.n_layers];
    prob_net_problem *loss = &out[n++], *optim = &out[n++];
    *loss = (prob_net_problem){.prob = {.kind = PROB_LOSS, .u.n = (size_t)batch * o.c}, .layer = PROB_NP_LOSS, .in = o, .batch = batch,
                             .bce = spec.n_layers > 0 && spec.layers[spec.n_layers - 1].kind == LAYER_SIGMOID};
    *optim = (prob_net_problem){.prob = {.kind = PROB_OPTIM, .u.n = (size_t)netspec_param_count(&spec)}, .layer = PROB_NP_OPTIM,
                              .in = o, .batch = batch};
    snprintf(loss->label, sizeof loss->label, "%s", net);
    snprintf(optim->label, sizeof optim->label, "%s", net);
    return n;
}

int prob_pass_str(const prob_record *p, lb_pass pass, char *buf, size_t len) {
    const bool unsplit = p->kind == PROB_POOL || p->kind == PROB_GPOOL || p->kind == PROB_FLATTEN;
    int k = snprintf(buf, len, "%s_%s/", prob_kind_name(p->kind), unsplit ? lb_pass_name_unsplit(pass) : lb_pass_name(pass));
    if (k < 0) return k;
    int s = prob_shape_str(p, (size_t)k < len ? buf + k : NULL, (size_t)k < len ? len - (size_t)k : 0);
    return s < 0 ? s : k + s;
}

#include "lib/nn/model.h"
#include "lib/nn/layer_desc.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "arch/registry.h"
#include "lib/nn/conv_choice.h"
#include "lib/nn/parallel.h"

#define LRELU_SLOPE 0.01f
#define MAX_L NETSPEC_MAX_LAYERS

struct nn_model {
    net_spec spec;
    int h, w, batch, threads, outs;
    bool train, fused_sigmoid;
    bool fuse_lrelu[MAX_L]; /* conv i runs with the lrelu i+1 (parallel.h: nn_conv2d_fwd_lrelu) */
    int chain[MAX_L]; /* > 0: layers i .. i+chain[i]-1, 2..4 (1x1 conv + lrelu) pairs, make one chain1x1 pass */
    int chain_mode;   /* nn_model_set_chain: 1 on, 0 off, -1 (the default) chain_ch */
    nn_chain_choice chain_ch[MAX_L]; /* per chain: the profile's choice or the default rule (ops NULL: unfused) */
    int n_run; /* layers run by the differentiable part (the final sigmoid excluded when fused) */
    act_shape shapes[MAX_L + 1];
    nn_param_slot slots[MAX_L];
    size_t n_params;
    const lb_dispatch *k;
    nn_conv_choice conv[MAX_L][LB_N_PASSES]; /* per conv layer and pass: the profile's variant, or k->conv2d */
    float *params, *grads;
    float *act[MAX_L + 1];  /* act[i] = input of layer i, act[n_layers] = output */
    float *gbuf[2];         /* ping-pong activation gradients */
    float *wt[MAX_L];       /* transposed conv weights for backward-data */
    float *ws[MAX_L];       /* per conv layer: its backward-weights partials (all live until the step's reduction) */
    float *lossgrad;        /* dL/d(output of layer n_run-1) */
    float *ghead;           /* the gradient of the sliced layers' output (model_backward), or NULL */
    size_t max_ps;          /* the most floats per sample of any activation: a slice's stride in gbuf */
    void *arena;
    nn_profile *prof;       /* NULL: not profiled */
};

static size_t shape_size(act_shape s) { return (size_t)s.h * s.w * s.c; }
static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

static conv2d_desc conv_desc(const nn_model *m, int i, int n) {
    return layer_conv_desc(&m->spec.layers[i], m->shapes[i], n);
}

/* Layer i's descriptor for a pass, with the parameters of the variant chosen for it. */
static conv2d_desc conv_desc_pass(const nn_model *m, int i, int n, lb_pass pass) {
    conv2d_desc d = conv_desc(m, i, n);
    d.params = m->conv[i][pass].params;
    return d;
}

static const conv2d_ops *conv_ops(const nn_model *m, int i, lb_pass pass) { return m->conv[i][pass].ops; }

/* Chain i (chain[i] > 0) at n samples, params 0. */
static chain1x1_desc chain_desc(const nn_model *m, int i, int n) {
    chain1x1_desc d = {.sites = (size_t)n * m->shapes[i].h * m->shapes[i].w, .layers = m->chain[i] / 2,
                       .slope = LRELU_SLOPE};
    for (int l = 0; l < d.layers; l++) {
        const layer_spec *L = &m->spec.layers[i + 2 * l];
        d.c[l] = L->cin, d.c[l + 1] = L->cout, d.bias[l] = L->bias;
    }
    return d;
}

/* A chain's choice: an inference model's by nn_chain_choose; a training one's unfused (keep is slower). */
void nn_model_set_profile(nn_model *m, const lb_profile *p) {
    for (int i = 0; i < m->spec.n_layers; i++) {
        if (m->chain[i]) {
            const chain1x1_desc d = chain_desc(m, i, m->batch);
            m->chain_ch[i] = m->train ? (nn_chain_choice){0} : nn_chain_choose(p, m->k, &d, m->threads);
        }
        if (m->spec.layers[i].kind != LAYER_CONV) continue;
        conv2d_desc d = conv_desc(m, i, m->batch);
        for (int pass = 0; pass < LB_N_PASSES; pass++) m->conv[i][pass] = nn_conv_choose(p, m->k, &d, (lb_pass)pass, m->threads);
    }
}

nn_conv_choice nn_model_conv_choice(const nn_model *m, int layer, lb_pass pass) {
    if (layer < 0 || layer >= m->spec.n_layers || m->spec.layers[layer].kind != LAYER_CONV)
        return (nn_conv_choice){.ops = m->k->conv2d, .how = NN_TUNED_DEFAULT};
    return m->conv[layer][pass];
}

static pool_desc pool_desc_of(const nn_model *m, int i, int n) {
    return layer_pool_desc(&m->spec.layers[i], m->shapes[i], n);
}

static gpool_desc gpool_desc_of(const nn_model *m, int i, int n) {
    return layer_gpool_desc(&m->spec.layers[i], m->shapes[i], n);
}

/* Each conv/linear layer's weight and bias in the flat parameter array, in spec order. */
static void place_params(nn_model *m) {
    for (int i = 0; i < m->spec.n_layers; i++) {
        const layer_spec *L = &m->spec.layers[i];
        nn_param_slot *s = &m->slots[i];
        if (L->kind != LAYER_CONV && L->kind != LAYER_LINEAR) continue;
        s->w_off = m->n_params;
        s->w_count = (size_t)L->cin * L->cout * (L->kind == LAYER_CONV ? L->kh * L->kw : 1);
        m->n_params += s->w_count;
        s->b_off = m->n_params;
        s->b_count = L->bias ? (size_t)L->cout : 0;
        m->n_params += s->b_count;
    }
}

/* The end of the per-sample layers (conv, its lrelu, lrelu, pools, global pools) from the input:
 * the layers a pass may run slice by slice (slice_prefix). */
static int sliceable_end(const nn_model *m) {
    int i = 0;
    while (i < m->n_run) {
        const layer_kind k = m->spec.layers[i].kind;
        if (k != LAYER_CONV && k != LAYER_LRELU && k != LAYER_AVGPOOL && k != LAYER_MAXPOOL && k != LAYER_GAVGPOOL &&
            k != LAYER_GMAXPOOL && k != LAYER_GSUMPOOL)
            break;
        i += 1 + m->fuse_lrelu[i];
    }
    return i;
}

/* Every buffer of the model in one arena; every piece starts on a 64-byte boundary. */
static bool alloc_arena(nn_model *m, char *err, size_t errlen) {
    const int nl = m->spec.n_layers, batch = m->batch;
    size_t total = 0, off_params, off_grads = 0, off_act[MAX_L + 1], off_g[2] = {0, 0}, off_wt[MAX_L],
           off_lg = 0, off_wsl[MAX_L], off_gh = 0;
    size_t maxact = 0;
    off_params = total, total += align16(m->n_params);
    for (int i = 0; i <= nl; i++) {
        size_t sz;
        /* shapes are bounded by netspec (NETSPEC_MAX_ACT), batch by int: this cannot wrap on a
         * 64-bit size_t, but a 32-bit one must refuse rather than allocate short */
        if (__builtin_mul_overflow((size_t)batch, shape_size(m->shapes[i]), &sz) || sz > SIZE_MAX / 64)
            return snprintf(err, errlen, "the activations of %d samples do not fit in memory", batch), false;
        off_act[i] = total, total += align16(sz);
        if (sz > maxact) maxact = sz;
    }
    if (m->train) {
        off_grads = total, total += align16(m->n_params);
        for (int b = 0; b < 2; b++) off_g[b] = total, total += align16(maxact);
        for (int i = 0; i < nl; i++) {
            off_wt[i] = 0;
            if (m->spec.layers[i].kind != LAYER_CONV) continue;
            off_wt[i] = total, total += align16(m->slots[i].w_count);
            conv2d_desc d = conv_desc(m, i, batch);
            /* one workspace per layer: the sliced backward (model_backward) reduces every layer at its end */
            off_wsl[i] = total, total += align16(nn_conv2d_bwd_weights_workspace(m->threads, &d));
        }
        off_lg = total, total += align16((size_t)batch * m->outs);
        /* where the layers after the sliced ones leave their input gradient: not in gbuf, which the
         * slices reuse in their own layout while a slice may still be reading it */
        const int P = sliceable_end(m);
        if (P < m->n_run) off_gh = total, total += align16((size_t)batch * shape_size(m->shapes[P]));
    }
    m->arena = aligned_alloc(64, total * sizeof(float));
    if (!m->arena) return snprintf(err, errlen, "out of memory (%zu MB for the model's buffers)", total * 4 >> 20), false;
    float *a = m->arena;
    memset(a, 0, total * sizeof(float)); /* touch every page once, up front */
    m->params = a + off_params;
    for (int i = 0; i <= nl; i++) m->act[i] = a + off_act[i];
    if (m->train) {
        m->grads = a + off_grads;
        m->gbuf[0] = a + off_g[0], m->gbuf[1] = a + off_g[1];
        for (int i = 0; i < nl; i++)
            if (m->spec.layers[i].kind == LAYER_CONV) m->wt[i] = a + off_wt[i], m->ws[i] = a + off_wsl[i];
        m->lossgrad = a + off_lg;
        m->ghead = off_gh ? a + off_gh : NULL;
        m->max_ps = maxact / batch;
    }
    return true;
}

/* Whether layers i, i+1 are a 1x1 stride-1 conv and its lrelu that chain1x1 takes. */
static bool chain_pair(const nn_model *m, int i) {
    if (i + 1 >= m->n_run || !m->fuse_lrelu[i]) return false;
    const layer_spec *L = &m->spec.layers[i];
    return L->kh == 1 && L->kw == 1 && L->stride == 1 && L->cin <= CHAIN1X1_MAX_C && L->cout <= CHAIN1X1_MAX_C;
}

/* Runs of 2..CHAIN1X1_MAX_LAYERS such pairs (a longer run: the next pairs start another). */
static void find_chains(nn_model *m) {
    for (int i = 0; i < m->n_run; i++) {
        int k = 0;
        while (k < CHAIN1X1_MAX_LAYERS && chain_pair(m, i + 2 * k)) k++;
        if (k >= 2) m->chain[i] = 2 * k, i += 2 * k - 1;
    }
}

int nn_model_set_chain(nn_model *m, int mode) {
    int n = 0;
    for (int i = 0; i < m->spec.n_layers; i++) n += m->chain[i] > 0;
    m->chain_mode = mode < 0 ? -1 : mode > 0;
    return n;
}

/* The mode, else the chain's choice (model.h, nn_model_set_chain: why conv2d entries do not count). */
static bool chain_on(const nn_model *m, int i) {
    return m->chain[i] && !m->prof && (m->chain_mode > 0 || (m->chain_mode < 0 && m->chain_ch[i].ops));
}

bool nn_model_chain_at(const nn_model *m, int layer, chain1x1_desc *d, nn_chain_choice *c) {
    if (layer < 0 || layer >= m->spec.n_layers || !m->chain[layer]) return false;
    if (d) *d = chain_desc(m, layer, m->batch);
    if (c) *c = m->chain_ch[layer];
    return true;
}

int nn_model_chains_on(const nn_model *m) {
    int n = 0;
    for (int i = 0; i < m->spec.n_layers; i++) n += chain_on(m, i);
    return n;
}

nn_model *nn_model_create(const net_spec *spec, int h, int w, int batch, int threads, bool train, char *err,
                          size_t errlen) {
    if (batch < 1) {
        snprintf(err, errlen, "batch must be >= 1");
        return NULL;
    }
    nn_model *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->spec = *spec;
    m->h = h, m->w = w, m->batch = batch, m->threads = threads < 1 ? 1 : threads, m->train = train;
    if (!netspec_shapes(spec, h, w, m->shapes, err, errlen)) {
        free(m);
        return NULL;
    }
    const int nl = spec->n_layers;
    m->outs = m->shapes[nl].c;
    if (m->shapes[nl].h != 1 || m->shapes[nl].w != 1) {
        snprintf(err, errlen, "the net's output is a %dx%d lattice, not a vector: end it with a global pool or flatten",
                 m->shapes[nl].h, m->shapes[nl].w);
        free(m);
        return NULL;
    }
    m->fused_sigmoid = spec->layers[nl - 1].kind == LAYER_SIGMOID;
    m->n_run = m->fused_sigmoid ? nl - 1 : nl;
    for (int i = 0; i + 1 < nl; i++)
        m->fuse_lrelu[i] = spec->layers[i].kind == LAYER_CONV && spec->layers[i + 1].kind == LAYER_LRELU;
    find_chains(m);
    m->chain_mode = -1;
    m->k = lb_dispatch_get();
    nn_model_set_profile(m, lb_profile_active());
    place_params(m);
    if (!alloc_arena(m, err, errlen)) {
        free(m);
        return NULL;
    }
    return m;
}

void nn_model_free(nn_model *m) {
    if (!m) return;
    free(m->arena);
    free(m);
}

int nn_model_outputs(const nn_model *m) { return m->outs; }
int nn_model_batch(const nn_model *m) { return m->batch; }
bool nn_model_bce(const nn_model *m) { return m->fused_sigmoid; }
size_t nn_model_param_count(const nn_model *m) { return m->n_params; }
float *nn_model_params(nn_model *m) { return m->params; }
const float *nn_model_grads(const nn_model *m) { return m->grads; }
nn_param_slot nn_model_slot(const nn_model *m, int layer) { return m->slots[layer]; }

double nn_model_layer_flops(const nn_model *m, int i, lb_pass pass, int n) {
    const layer_spec *L = &m->spec.layers[i];
    if (pass != LB_PASS_FWD && i >= m->n_run) return 0; /* a fused sigmoid has no backward of its own */
    if (pass == LB_PASS_BWD_DATA && i == 0) return 0;
    switch (L->kind) {
    case LAYER_CONV: {
        conv2d_desc d = conv_desc(m, i, n);
        return conv2d_flops(&d);
    }
    case LAYER_LINEAR: {
        dense_desc d = {n, L->cin, L->cout, L->bias};
        return dense_flops(&d);
    }
    case LAYER_AVGPOOL:
    case LAYER_MAXPOOL: {
        if (pass == LB_PASS_BWD_WEIGHTS) return 0;
        pool_desc d = pool_desc_of(m, i, n);
        return pool_flops(&d);
    }
    default: return 0;
    }
}

double nn_model_flops_fwd(const nn_model *m) {
    double f = 0;
    for (int i = 0; i < m->spec.n_layers; i++) f += nn_model_layer_flops(m, i, LB_PASS_FWD, 1);
    return f;
}

double nn_model_flops_train(const nn_model *m) {
    double f = 0;
    for (int i = 0; i < m->spec.n_layers; i++)
        for (int p = 0; p < LB_N_PASSES; p++) f += nn_model_layer_flops(m, i, (lb_pass)p, 1);
    return f;
}

bool nn_model_layer_fused(const nn_model *m, int layer) { return layer > 0 && m->fuse_lrelu[layer - 1]; }

int nn_model_layers(const nn_model *m) { return m->spec.n_layers; }
const layer_spec *nn_model_layer(const nn_model *m, int layer) { return &m->spec.layers[layer]; }

/* ---- profile ---- */

static double prof_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void nn_model_attach_profile(nn_model *m, nn_profile *p) { m->prof = p; }
nn_profile *nn_model_profile(const nn_model *m) { return m->prof; }

void nn_prof_add(nn_prof_cell *c, double seconds, double flops) {
    c->seconds += seconds;
    c->flops += flops;
    c->calls++;
}

double nn_profile_kernel_seconds(const nn_profile *p, int n_layers) {
    double s = p->loss.seconds + p->optim.seconds;
    for (int i = 0; i < n_layers; i++)
        for (int k = 0; k < LB_N_PASSES; k++) s += p->layer[i][k].seconds;
    return s;
}

/* Adds the time since t0 to layer i's pass. */
static void prof_layer(nn_model *m, int i, lb_pass pass, int n, double t0) {
    nn_prof_add(&m->prof->layer[i][pass], prof_now() - t0, nn_model_layer_flops(m, i, pass, n));
}

/* splitmix64: a small seeded generator, local to the call (no global state). */
static uint64_t sm64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void nn_model_init(nn_model *m, uint64_t seed) {
    uint64_t s = seed ^ 0x6A09E667F3BCC909ull;
    for (int i = 0; i < m->spec.n_layers; i++) {
        const layer_spec *L = &m->spec.layers[i];
        const nn_param_slot *sl = &m->slots[i];
        if (!sl->w_count) continue;
        double fan_in = (double)L->cin * (L->kind == LAYER_CONV ? L->kh * L->kw : 1);
        double bound = 1.0 / sqrt(fan_in);
        for (size_t j = 0; j < sl->w_count + sl->b_count; j++) {
            double u = (double)(sm64(&s) >> 11) * 0x1p-53;
            m->params[sl->w_off + j] = (float)((2.0 * u - 1.0) * bound);
        }
    }
}

static void set_input(nn_model *m, const int16_t *x, const long *idx, int n) {
    const size_t hw = (size_t)m->h * m->w;
    float *in = m->act[0];
    for (int b = 0; b < n; b++) {
        const int16_t *src = x + (size_t)(idx ? idx[b] : b) * 4 * hw;
        float *dst = in + (size_t)b * hw * 4;
        for (size_t p = 0; p < hw; p++)
            for (int c = 0; c < 4; c++) dst[p * 4 + c] = (float)src[c * hw + p];
    }
}

void nn_model_set_input(nn_model *m, const int16_t *x, const long *idx, int n) {
    if (!m->prof) {
        set_input(m, x, idx, n);
        return;
    }
    double t0 = prof_now();
    set_input(m, x, idx, n);
    nn_prof_add(&m->prof->input, prof_now() - t0, 0);
}

/* Floats per sample of act[i] (layer i's input; the net's output for i = n_layers). */
static size_t act_ps(const nn_model *m, int i) { return shape_size(m->shapes[i]); }

/* Layer i's forward on samples [s0, s0 + n) on T threads (1 inside a slice: fwd_slice). */
static void layer_fwd(nn_model *m, int i, int s0, int n, int T) {
    const lb_dispatch *k = m->k;
    const layer_spec *L = &m->spec.layers[i];
    const float *in = m->act[i] + s0 * act_ps(m, i);
    float *out = m->act[i + 1] + s0 * act_ps(m, i + 1);
    const size_t nin = (size_t)n * shape_size(m->shapes[i]);
    const nn_param_slot *sl = &m->slots[i];
    switch (L->kind) {
    case LAYER_CONV: {
        conv2d_desc d = conv_desc_pass(m, i, n, LB_PASS_FWD);
        const float *w = m->params + sl->w_off, *b = L->bias ? m->params + sl->b_off : NULL;
        if (m->fuse_lrelu[i])
            nn_conv2d_fwd_lrelu(conv_ops(m, i, LB_PASS_FWD), k->act, LRELU_SLOPE, T, &d, in, w, b, out,
                                m->act[i + 2] + s0 * act_ps(m, i + 2));
        else
            nn_conv2d_fwd(conv_ops(m, i, LB_PASS_FWD), T, &d, in, w, b, out);
        break;
    }
    case LAYER_LRELU: nn_lrelu_fwd(k->act, LRELU_SLOPE, T, n, shape_size(m->shapes[i]), in, out); break;
    case LAYER_SIGMOID: k->act->sigmoid_fwd(nin, in, out); break;
    case LAYER_AVGPOOL:
    case LAYER_MAXPOOL: {
        pool_desc d = pool_desc_of(m, i, n);
        nn_pool_fwd(k->pool, T, &d, in, out);
        break;
    }
    case LAYER_GAVGPOOL:
    case LAYER_GMAXPOOL:
    case LAYER_GSUMPOOL: {
        gpool_desc d = gpool_desc_of(m, i, n);
        nn_gpool_fwd(k->gpool, T, &d, in, out);
        break;
    }
    case LAYER_FLATTEN: {
        act_shape s = m->shapes[i];
        dense_flatten_desc d = {n, s.h, s.w, s.c};
        k->dense->flatten_fwd(&d, in, out);
        break;
    }
    case LAYER_LINEAR: {
        dense_desc d = {n, L->cin, L->cout, L->bias};
        k->dense->fwd(&d, in, m->params + sl->w_off, L->bias ? m->params + sl->b_off : NULL, out);
        break;
    }
    }
}

/* The chain1x1 pass of layers i .. i+chain[i]-1; a training model keeps every conv output and
 * lrelu output where the unfused layers leave them (the backward reads them). */
static void chain_fwd(nn_model *m, int i, int n) {
    chain1x1_desc d = chain_desc(m, i, n);
    const chain1x1_ops *k = m->chain_ch[i].ops ? m->chain_ch[i].ops : m->k->chain1x1;
    d.params = m->chain_ch[i].ops ? m->chain_ch[i].params : (lb_params){{0}};
    const float *w[CHAIN1X1_MAX_LAYERS], *b[CHAIN1X1_MAX_LAYERS];
    chain1x1_keep keep;
    for (int l = 0; l < d.layers; l++) {
        const int c = i + 2 * l;
        const layer_spec *L = &m->spec.layers[c];
        w[l] = m->params + m->slots[c].w_off;
        b[l] = L->bias ? m->params + m->slots[c].b_off : NULL;
        keep.pre[l] = m->act[c + 1];
        if (l < d.layers - 1) keep.post[l] = m->act[c + 2];
    }
    nn_chain1x1_fwd(k, m->threads, n, (size_t)m->shapes[i].h * m->shapes[i].w, &d, m->act[i], w, b,
                    m->act[i + m->chain[i]], m->train ? &keep : NULL);
}

/* Layers [0, P) run slice by slice in one OpenMP region per pass (nn_slices_run) instead of one
 * region per op: on a small net (task3-eq1 on 8x8: 14 regions and 4 barriers per training step)
 * each fork, join and barrier costs about as much as a layer's work on a busy machine, where a
 * waiting thread that has been descheduled holds up its partner.  P: the per-sample layers (conv,
 * its lrelu, lrelu, pools, global pools) from the input up to the first other one (a linear,
 * flatten, sigmoid or a chain1x1 pass).  Every op computes the same bits on a slice as on the batch,
 * and the weight gradients are the same slices' partials summed in the same order: the results are
 * those of the op-by-op run.  0 (op by op) when profiled (the profile times each op) or on one slice. */
static int slice_prefix(const nn_model *m, int n) {
    if (m->prof || nn_batch_parts(m->threads, n) == 1) return 0;
    const int end = sliceable_end(m);
    int i = 0;
    while (i < end && !chain_on(m, i)) i += 1 + m->fuse_lrelu[i];
    return i;
}

typedef struct {
    nn_model *m;
    int hi, n;      /* layers [0, hi); the batch */
    float *gout;    /* backward: the gradient of layer hi-1's output */
    int cur;        /* backward: the free gradient buffer */
} slices_ctx;

static void fwd_slice(void *ctx, int parts, int p, int s0, int cnt) {
    const slices_ctx *c = ctx;
    for (int i = 0; i < c->hi; i += 1 + c->m->fuse_lrelu[i]) layer_fwd(c->m, i, s0, cnt, 1);
}

const float *nn_model_forward(nn_model *m, int n) {
    slices_ctx sc = {.m = m, .hi = slice_prefix(m, n), .n = n};
    if (sc.hi > 0) nn_slices_run(m->threads, n, fwd_slice, NULL, &sc);
    /* a conv fused with its lrelu runs both: the lrelu layer is skipped (its time is the conv's);
     * a chain (use_chain, not profiled: the profile times layers one by one) runs all its layers */
    for (int i = sc.hi; i < m->spec.n_layers; i += 1 + m->fuse_lrelu[i]) {
        if (chain_on(m, i)) {
            chain_fwd(m, i, n);
            i += m->chain[i] - 2; /* the loop adds the last pair's 2 */
            continue;
        }
        if (!m->prof) {
            layer_fwd(m, i, 0, n, m->threads);
            continue;
        }
        double t0 = prof_now();
        layer_fwd(m, i, 0, n, m->threads);
        prof_layer(m, i, LB_PASS_FWD, n, t0);
    }
    return m->act[m->spec.n_layers];
}

/* The loss on the differentiable output (logits when the sigmoid is fused). */
static float loss_of(nn_model *m, int n, const float *y, float *grad) {
    double t0 = m->prof ? prof_now() : 0;
    const float *p = m->act[m->n_run];
    size_t cnt = (size_t)n * m->outs;
    float l = m->fused_sigmoid ? m->k->loss->bce_logits(cnt, p, y, grad) : m->k->loss->mse(cnt, p, y, grad);
    if (m->prof) nn_prof_add(&m->prof->loss, prof_now() - t0, 0);
    return l;
}

float nn_model_loss(nn_model *m, int n, const float *y) { return loss_of(m, n, y, NULL); }

/* Where a backward runs: the whole batch on T threads op by op (parts 0), or slice p of parts
 * (samples [s0, s0 + cnt) of n) on the calling thread, inside nn_slices_run.  Gradients are passed
 * at the samples' start: in gbuf a slice's start at s0 * max_ps (its own stretch of the buffer,
 * since the buffers are reused by layers of different sizes while the other slices run on); the
 * activations stay where the forward wrote them (s0 * the layer's floats per sample). */
typedef struct {
    int n, T, parts, p, s0, cnt;
} bwd_where;

/* Gradients of layer i's weights (conv, linear; nothing for the others) from gout; in a slice, a
 * conv's are the slice's partial (reduced by bwd_reduce). */
static void layer_bwd_weights(nn_model *m, int i, const bwd_where *at, const float *gout) {
    const layer_spec *L = &m->spec.layers[i];
    const nn_param_slot *sl = &m->slots[i];
    float *gb = L->bias ? m->grads + sl->b_off : NULL;
    if (L->kind == LAYER_CONV) {
        conv2d_desc d = conv_desc_pass(m, i, at->n, LB_PASS_BWD_WEIGHTS);
        const conv2d_ops *k = conv_ops(m, i, LB_PASS_BWD_WEIGHTS);
        if (at->parts > 1)
            nn_conv2d_bwd_weights_part(k, &d, at->parts, at->p, m->act[i] + at->s0 * act_ps(m, i), gout,
                                       m->grads + sl->w_off, gb, m->ws[i]);
        else
            nn_conv2d_bwd_weights(k, at->T, &d, m->act[i], gout, m->grads + sl->w_off, gb, m->ws[i]);
    } else if (L->kind == LAYER_LINEAR) {
        dense_desc d = {at->n, L->cin, L->cout, L->bias};
        m->k->dense->bwd_weights(&d, m->act[i], gout, m->grads + sl->w_off, gb);
    }
}

/* Gradient of layer i's input, gin, from that of its output, gout, on the samples of `at`.  A
 * conv's transposed weights are made here op by op, before the region in a slice. */
static void layer_bwd_data(nn_model *m, int i, const bwd_where *at, const float *gout, float *gin) {
    const lb_dispatch *k = m->k;
    const int T = at->T, n = at->cnt;
    const layer_spec *L = &m->spec.layers[i];
    const float *in = m->act[i] + at->s0 * act_ps(m, i);
    const size_t nin = (size_t)n * shape_size(m->shapes[i]);
    const nn_param_slot *sl = &m->slots[i];
    switch (L->kind) {
    case LAYER_CONV: {
        conv2d_desc d = conv_desc_pass(m, i, n, LB_PASS_BWD_DATA);
        if (at->parts <= 1) conv2d_weights_transpose(&d, m->params + sl->w_off, m->wt[i]);
        nn_conv2d_bwd_data(conv_ops(m, i, LB_PASS_BWD_DATA), T, &d, gout, m->wt[i], gin);
        break;
    }
    case LAYER_LRELU: nn_lrelu_bwd(k->act, LRELU_SLOPE, T, n, shape_size(m->shapes[i]), in, gout, gin); break;
    case LAYER_SIGMOID: k->act->sigmoid_bwd(nin, m->act[i + 1] + at->s0 * act_ps(m, i + 1), gout, gin); break;
    case LAYER_AVGPOOL:
    case LAYER_MAXPOOL: {
        pool_desc d = pool_desc_of(m, i, n);
        nn_pool_bwd(k->pool, T, &d, in, gout, gin);
        break;
    }
    case LAYER_GAVGPOOL:
    case LAYER_GMAXPOOL:
    case LAYER_GSUMPOOL: {
        gpool_desc d = gpool_desc_of(m, i, n);
        nn_gpool_bwd(k->gpool, T, &d, in, gout, gin);
        break;
    }
    case LAYER_FLATTEN: {
        act_shape s = m->shapes[i];
        dense_flatten_desc d = {n, s.h, s.w, s.c};
        k->dense->flatten_bwd(&d, gout, gin);
        break;
    }
    case LAYER_LINEAR: {
        dense_desc d = {n, L->cin, L->cout, L->bias};
        k->dense->bwd_data(&d, gout, m->params + sl->w_off, gin);
        break;
    }
    }
}

/* The backward of layers hi-1 down to lo on the samples of `at`: gout the gradient of layer
 * hi-1's output, *cur the free one of the two gradient buffers; lo_gin, when not NULL, takes
 * layer lo's input gradient instead of a gbuf.  Returns the gradient of layer lo's input (NULL
 * when lo is 0: the input needs none). */
static float *backward_layers(nn_model *m, int lo, int hi, const bwd_where *at, float *gout, int *cur, float *lo_gin) {
    const int n = at->n;
    const size_t goff = at->parts > 1 ? (size_t)at->s0 * m->max_ps : 0; /* the slice's stretch of a gbuf */
    for (int i = hi - 1; i >= lo; i--) {
        if (i > lo && m->fuse_lrelu[i - 1]) {
            /* lrelu i and conv i-1 together: the lrelu's input gradient gy chunk by chunk with the
             * conv's backward-data, then the conv's weights from gy; every result is that of the two
             * layers run one after the other.  gy overwrites gout in place (it is not needed after;
             * lossgrad and gbuf are the model's own buffers): the conv's input gradient takes the
             * free buffer, while the chunks still read gout */
            const int c = i - 1;
            float *gy = gout, *cin = c == 0 ? NULL : c == lo && lo_gin ? lo_gin : m->gbuf[*cur] + goff;
            conv2d_desc d = conv_desc_pass(m, c, at->cnt, LB_PASS_BWD_DATA);
            double t0 = m->prof ? prof_now() : 0;
            if (cin && at->parts <= 1) conv2d_weights_transpose(&d, m->params + m->slots[c].w_off, m->wt[c]);
            nn_lrelu_bwd_conv2d_bwd_data(conv_ops(m, c, LB_PASS_BWD_DATA), m->k->act, LRELU_SLOPE, at->T, &d,
                                         m->act[i] + at->s0 * act_ps(m, i), gout, gy, m->wt[c], cin);
            /* the first layer has no backward-data: the lrelu's backward counts with its weights */
            if (m->prof && cin) prof_layer(m, c, LB_PASS_BWD_DATA, n, t0), t0 = prof_now();
            layer_bwd_weights(m, c, at, gy);
            if (m->prof) prof_layer(m, c, LB_PASS_BWD_WEIGHTS, n, t0);
            if (cin && cin != lo_gin) *cur ^= 1;
            if (cin) gout = cin;
            i = c;
            continue;
        }
        float *gin = i == 0 ? NULL : i == lo && lo_gin ? lo_gin : m->gbuf[*cur] + goff;
        const layer_kind kind = m->spec.layers[i].kind;
        const bool has_weights = kind == LAYER_CONV || kind == LAYER_LINEAR;
        if (!m->prof) {
            if (has_weights) layer_bwd_weights(m, i, at, gout);
            if (gin) layer_bwd_data(m, i, at, gout, gin);
        } else {
            double t0 = prof_now();
            if (has_weights) {
                layer_bwd_weights(m, i, at, gout);
                prof_layer(m, i, LB_PASS_BWD_WEIGHTS, n, t0);
                t0 = prof_now();
            }
            if (gin) {
                layer_bwd_data(m, i, at, gout, gin);
                prof_layer(m, i, LB_PASS_BWD_DATA, n, t0);
            }
        }
        if (gin && gin != lo_gin) *cur ^= 1;
        if (gin) gout = gin;
    }
    return gout;
}

static void bwd_slice(void *ctx, int parts, int p, int s0, int cnt) {
    const slices_ctx *c = ctx;
    const bwd_where at = {.n = c->n, .T = 1, .parts = parts, .p = p, .s0 = s0, .cnt = cnt};
    int cur = c->cur;
    backward_layers(c->m, 0, c->hi, &at, c->gout + s0 * act_ps(c->m, c->hi), &cur, NULL);
}

/* After every slice's backward: each conv layer's weight gradient summed over the slices in slice order. */
static void bwd_reduce(void *ctx, int parts, int tid, int nt) {
    const slices_ctx *c = ctx;
    nn_model *m = c->m;
    for (int i = 0; i < c->hi; i++) {
        if (m->spec.layers[i].kind != LAYER_CONV) continue;
        const conv2d_desc d = conv_desc_pass(m, i, c->n, LB_PASS_BWD_WEIGHTS);
        const nn_param_slot *sl = &m->slots[i];
        nn_conv2d_bwd_weights_reduce(&d, parts, m->grads + sl->w_off, d.bias ? m->grads + sl->b_off : NULL, m->ws[i],
                                     tid, nt);
    }
}

float nn_model_backward(nn_model *m, int n, const float *y) {
    float loss = loss_of(m, n, y, m->lossgrad);
    /* the layers after the sliced ones op by op, their input gradient into ghead (lossgrad when
     * there are none); a chain cutting the slices short (a training model's only when asked):
     * every layer op by op */
    slices_ctx sc = {.m = m, .hi = slice_prefix(m, n), .n = n, .cur = 0};
    if (sc.hi != sliceable_end(m)) sc.hi = 0;
    const bwd_where all = {.n = n, .T = m->threads, .cnt = n};
    sc.gout = backward_layers(m, sc.hi, m->n_run, &all, m->lossgrad, &sc.cur, sc.hi > 0 ? m->ghead : NULL);
    if (sc.hi > 0) {
        /* the transposed weights every slice's backward-data reads, made once before the region */
        for (int c = 1; c < sc.hi; c++) {
            if (m->spec.layers[c].kind != LAYER_CONV) continue;
            conv2d_desc d = conv_desc_pass(m, c, n, LB_PASS_BWD_DATA);
            conv2d_weights_transpose(&d, m->params + m->slots[c].w_off, m->wt[c]);
        }
        nn_slices_run(m->threads, n, bwd_slice, bwd_reduce, &sc);
    }
    return loss;
}

void nn_weight_to_torch(const layer_spec *L, const float *ours, float *torch) {
    if (L->kind == LAYER_LINEAR) {
        for (int i = 0; i < L->cin; i++)
            for (int o = 0; o < L->cout; o++) torch[(size_t)o * L->cin + i] = ours[(size_t)i * L->cout + o];
        return;
    }
    for (int a = 0; a < L->kh; a++)
        for (int b = 0; b < L->kw; b++)
            for (int ci = 0; ci < L->cin; ci++)
                for (int co = 0; co < L->cout; co++)
                    torch[(((size_t)co * L->cin + ci) * L->kh + a) * L->kw + b] =
                        ours[(((size_t)a * L->kw + b) * L->cin + ci) * L->cout + co];
}

void nn_weight_from_torch(const layer_spec *L, const float *torch, float *ours) {
    if (L->kind == LAYER_LINEAR) {
        for (int i = 0; i < L->cin; i++)
            for (int o = 0; o < L->cout; o++) ours[(size_t)i * L->cout + o] = torch[(size_t)o * L->cin + i];
        return;
    }
    for (int a = 0; a < L->kh; a++)
        for (int b = 0; b < L->kw; b++)
            for (int ci = 0; ci < L->cin; ci++)
                for (int co = 0; co < L->cout; co++)
                    ours[(((size_t)a * L->kw + b) * L->cin + ci) * L->cout + co] =
                        torch[(((size_t)co * L->cin + ci) * L->kh + a) * L->kw + b];
}

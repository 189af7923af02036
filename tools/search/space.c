/* The search space (space.h): parameters, a point's spec text and a spec's point. */
#include "tools/search/space.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "lib/nn/netspec.h"

/* The channel counts and widths a conv or a dense layer takes, and the batch sizes. */
static const int WIDTHS[] = {2, 4, 8, 16, 24, 32, 48, 64, 80, 96, 128};
#define N_WIDTHS ((int)(sizeof WIDTHS / sizeof WIDTHS[0]))
static const int BATCHES[] = {16, 32, 64, 100, 128, 256};
#define N_BATCHES ((int)(sizeof BATCHES / sizeof BATCHES[0]))
static const char *const FAMILIES[] = {"eq", "st", "fl"};
static const char *const TASKS[] = {"regression", "detect", "count"};
static const char *const GPOOLS[] = {"gavgpool", "gmaxpool", "gsumpool"};

bool search_family_parse(const char *s, search_family *f) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, FAMILIES[i])) return *f = (search_family)i, true;
    return false;
}

bool search_task_parse(const char *s, search_task *t) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, TASKS[i])) return *t = (search_task)i, true;
    return false;
}

const char *search_family_name(search_family f) { return FAMILIES[f]; }
const char *search_task_name(search_task t) { return TASKS[t]; }

const char *const *search_space_presets(search_task t, search_family f, int *n) {
    static const char *const one[3][3][1] = {{{"task1-eq"}, {"task1-st"}, {"task1-fl"}},
                                             {{"task2-eq"}, {"task2-st"}, {"task2-fl"}}};
    static const char *const three[3][3] = {{"task3-eq1", "task3-eq2", "task3-eq3"},
                                            {"task3-st1", "task3-st2", "task3-st3"},
                                            {"task3-fl1", "task3-fl2", "task3-fl3"}};
    if (t == SEARCH_COUNT) return *n = 3, three[f];
    return *n = 1, one[t][f];
}

static void add(search_space *s, search_kind k, double lo, double hi, const char *fmt, ...) {
    search_param *p = &s->p[s->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->name, sizeof p->name, fmt, ap);
    va_end(ap);
    p->kind = k, p->lo = lo, p->hi = hi;
}

void search_space_init(search_space *s, search_task t, search_family f) {
    memset(s, 0, sizeof *s);
    s->task = t, s->family = f;
    add(s, SP_INT, 1, SEARCH_MAX_CONV, "n_conv");
    for (int i = 0; i < SEARCH_MAX_CONV; i++) {
        add(s, SP_INT, 1, 3, "conv%d_k", i);
        add(s, SP_INT, 0, N_WIDTHS - 1, "conv%d_width", i);
        add(s, SP_INT, 0, 1, "conv%d_bias", i);
        add(s, SP_INT, 0, 1, "conv%d_act", i);
        if (f == SEARCH_EQ) continue;
        add(s, SP_INT, 0, 2, "conv%d_pool", i);   /* none, avg, max */
        add(s, SP_INT, 1, 2, "conv%d_pstride", i);
    }
    if (f != SEARCH_FL) add(s, SP_INT, 0, 2, "gpool"), add(s, SP_INT, 0, 1, "out_linear");
    add(s, SP_INT, 0, SEARCH_MAX_DENSE, "n_dense");
    for (int j = 0; j < SEARCH_MAX_DENSE; j++) {
        add(s, SP_INT, 0, N_WIDTHS - 1, "dense%d_width", j);
        add(s, SP_INT, 0, 1, "dense%d_bias", j);
        add(s, SP_INT, 0, 1, "dense%d_act", j);
    }
    add(s, SP_INT, 0, 1, "out_bias");
    add(s, SP_LOG, 1e-4, 1e-1, "lr");
    add(s, SP_INT, 0, N_BATCHES - 1, "batch");
}

int search_space_find(const search_space *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->p[i].name, name)) return i;
    return -1;
}

/* A parameter's value by name (0 when the family has no such parameter). */
static int iv(const search_space *s, const search_point *x, const char *fmt, int i) {
    char name[24];
    snprintf(name, sizeof name, fmt, i);
    int k = search_space_find(s, name);
    return k < 0 ? 0 : (int)lround(x->v[k]);
}

static int task_outputs(search_task t) { return t == SEARCH_REGRESSION ? 2 : 1; }

/* Appends a line to text; false when it does not fit. */
static bool put(char *text, size_t len, size_t *at, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text + *at, len - *at, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len - *at) return false;
    *at += (size_t)n;
    return true;
}

bool search_space_encode(const search_space *s, const search_point *x, char *text, size_t len) {
    int h = s->task == SEARCH_REGRESSION ? 60 : 8, w = s->task == SEARCH_REGRESSION ? 4 : 8;
    int outs = task_outputs(s->task), nc = iv(s, x, "n_conv", 0), cin = 4;
    bool fl = s->family == SEARCH_FL, lin = fl || iv(s, x, "out_linear", 0);
    size_t at = 0;
    text[0] = 0;
    for (int i = 0; i < nc; i++) {
        int k = iv(s, x, "conv%d_k", i), cout = WIDTHS[iv(s, x, "conv%d_width", i)];
        if (i == nc - 1 && !lin) cout = outs;
        if (!put(text, len, &at, "conv%s %dx%d %d %d\n", iv(s, x, "conv%d_bias", i) ? "" : "*", k, k, cin, cout))
            return false;
        if (iv(s, x, "conv%d_act", i) && !put(text, len, &at, "lrelu\n")) return false;
        int pool = iv(s, x, "conv%d_pool", i), ps = iv(s, x, "conv%d_pstride", i);
        if (pool && !put(text, len, &at, "%s 2x2 %d\n", pool == 1 ? "avgpool" : "maxpool", ps)) return false;
        if (pool) h = (h - 2) / ps + 1, w = (w - 2) / ps + 1;
        cin = cout;
    }
    int feat = cin;
    if (fl) feat = h * w * cin;
    if (!put(text, len, &at, "%s\n", fl ? "flatten" : GPOOLS[iv(s, x, "gpool", 0)])) return false;
    for (int j = 0; lin && j < iv(s, x, "n_dense", 0); j++) {
        int wd = WIDTHS[iv(s, x, "dense%d_width", j)];
        if (!put(text, len, &at, "linear%s %d %d\n", iv(s, x, "dense%d_bias", j) ? "" : "*", feat, wd)) return false;
        if (iv(s, x, "dense%d_act", j) && !put(text, len, &at, "lrelu\n")) return false;
        feat = wd;
    }
    if (lin && !put(text, len, &at, "linear%s %d %d\n", iv(s, x, "out_bias", 0) ? "" : "*", feat, outs)) return false;
    return s->task != SEARCH_DETECT || put(text, len, &at, "sigmoid\n");
}

/* Sets a parameter by name (ignored when the family has none). */
static void setv(const search_space *s, search_point *x, const char *fmt, int i, double v) {
    char name[24];
    snprintf(name, sizeof name, fmt, i);
    int k = search_space_find(s, name);
    if (k >= 0) x->v[k] = v;
}

static int width_index(int w) {
    for (int i = 0; i < N_WIDTHS; i++)
        if (WIDTHS[i] == w) return i;
    return -1;
}

#define BAD(...) return snprintf(err, errlen, __VA_ARGS__), false
#define IS(k) (at < n->n_layers && n->layers[at].kind == (k))

/* The conv blocks of n from layer *at on into x. */
static bool decode_convs(const search_space *s, const net_spec *n, int *pat, search_point *x, char *err, size_t errlen) {
    int at = *pat, nc = 0;
    while (IS(LAYER_CONV)) {
        const layer_spec *L = &n->layers[at++];
        if (nc == SEARCH_MAX_CONV) BAD("more than %d conv layers", SEARCH_MAX_CONV);
        if (L->kh != L->kw || L->kh < 1 || L->kh > 3 || L->stride != 1) BAD("conv %dx%d /%d: not in the space", L->kh, L->kw, L->stride);
        setv(s, x, "conv%d_k", nc, L->kh), setv(s, x, "conv%d_bias", nc, L->bias);
        setv(s, x, "conv%d_width", nc, width_index(L->cout) < 0 ? 0 : width_index(L->cout));
        if (IS(LAYER_LRELU)) setv(s, x, "conv%d_act", nc, 1), at++;
        if ((IS(LAYER_AVGPOOL) || IS(LAYER_MAXPOOL)) && s->family != SEARCH_EQ) {
            const layer_spec *P = &n->layers[at++];
            if (P->k != 2 || P->s < 1 || P->s > 2) BAD("pool %dx%d %d: not in the space", P->k, P->k, P->s);
            setv(s, x, "conv%d_pool", nc, P->kind == LAYER_AVGPOOL ? 1 : 2), setv(s, x, "conv%d_pstride", nc, P->s);
        }
        nc++;
    }
    if (!nc) BAD("no conv layer first");
    setv(s, x, "n_conv", 0, nc);
    *pat = at;
    return true;
}

/* The global pool or flatten, the dense layers and the output of n from layer *pat on into x. */
static bool decode_head(const search_space *s, const net_spec *n, int at, search_point *x, char *err, size_t errlen) {
    if (s->family == SEARCH_FL && !IS(LAYER_FLATTEN)) BAD("FL: no flatten after the convs");
    if (s->family != SEARCH_FL && !IS(LAYER_GAVGPOOL) && !IS(LAYER_GMAXPOOL) && !IS(LAYER_GSUMPOOL))
        BAD("%s: no global pool after the convs", search_family_name(s->family));
    if (s->family != SEARCH_FL) setv(s, x, "gpool", 0, (double)(n->layers[at].kind - LAYER_GAVGPOOL));
    at++;
    int nl = 0;
    while (IS(LAYER_LINEAR)) {
        const layer_spec *L = &n->layers[at++];
        bool act = IS(LAYER_LRELU);
        at += act;
        if (nl == SEARCH_MAX_DENSE + 1) BAD("more than %d hidden linear layers", SEARCH_MAX_DENSE);
        setv(s, x, "dense%d_width", nl, width_index(L->cout) < 0 ? 0 : width_index(L->cout));
        setv(s, x, "dense%d_bias", nl, L->bias), setv(s, x, "dense%d_act", nl, act);
        setv(s, x, "out_bias", 0, L->bias);
        nl++;
    }
    if (nl) setv(s, x, "dense%d_width", nl - 1, 0), setv(s, x, "dense%d_bias", nl - 1, 0), setv(s, x, "dense%d_act", nl - 1, 0);
    setv(s, x, "n_dense", 0, nl ? nl - 1 : 0), setv(s, x, "out_linear", 0, nl > 0);
    if (!nl && s->family == SEARCH_FL) BAD("FL: no linear after the flatten");
    if (s->task == SEARCH_DETECT && IS(LAYER_SIGMOID)) at++;
    if (at != n->n_layers) BAD("layer %d: not in the space", at + 1);
    return true;
}

bool search_space_decode(const search_space *s, const char *text, search_point *x, char *err, size_t errlen) {
    net_spec n, back;
    char e[200], enc[8192];
    if (!netspec_parse(text, &n, e, sizeof e)) BAD("%s", e);
    for (int i = 0; i < s->n; i++) x->v[i] = s->p[i].lo;
    x->v[search_space_find(s, "lr")] = 1e-2;
    x->v[search_space_find(s, "batch")] = 3; /* 100 */
    int at = 0;
    if (!decode_convs(s, &n, &at, x, err, errlen) || !decode_head(s, &n, at, x, err, errlen)) return false;
    /* the widths, outputs and sigmoid the space gives must be the spec's */
    if (!search_space_encode(s, x, enc, sizeof enc) || !netspec_parse(enc, &back, e, sizeof e)) BAD("not in the space");
    if (back.n_layers != n.n_layers) BAD("not in the space");
    for (int i = 0; i < n.n_layers; i++) {
        back.layers[i].line = n.layers[i].line;
        if (memcmp(&back.layers[i], &n.layers[i], sizeof n.layers[i])) BAD("line %d: not in the space", n.layers[i].line);
    }
    return true;
}

int search_point_batch(const search_space *s, const search_point *x) {
    return BATCHES[(int)lround(x->v[search_space_find(s, "batch")])];
}

double search_point_lr(const search_space *s, const search_point *x) { return x->v[search_space_find(s, "lr")]; }

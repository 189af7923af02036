#include "tools/problems/problem.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "arch/conv2d_problem.h"

static const char *const kind_names[] = {"conv2d", "pool", "gpool", "dense", "flatten", "act", "loss", "optim"};

const char *prob_kind_name(prob_kind k) {
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

static const char *gpool_name(gpool_kind k) { return k == GPOOL_MAX ? "max" : k == GPOOL_SUM ? "sum" : "avg"; }

int prob_shape_str(const prob_record *p, char *buf, size_t len) {
    switch (p->kind) {
    case PROB_CONV2D: return lb_conv2d_problem_str(&p->u.conv, buf, len);   /* the profile's key grammar */
    case PROB_POOL: {
        const pool_desc *d = &p->u.pool;
        return snprintf(buf, len, "%s_mb%d_c%d_ih%diw%d_k%ds%d", d->kind == POOL_MAX ? "max" : "avg", d->n, d->c, d->h, d->w,
                        d->k, d->s);
    }
    case PROB_GPOOL:
        return snprintf(buf, len, "%s_mb%d_c%d_hw%d", gpool_name(p->u.gpool.kind), p->u.gpool.n, p->u.gpool.c, p->u.gpool.hw);
    case PROB_DENSE:
        return snprintf(buf, len, "mb%d_ic%doc%d_b%d", p->u.dense.n, p->u.dense.in, p->u.dense.out, p->u.dense.bias ? 1 : 0);
    case PROB_FLATTEN:
        return snprintf(buf, len, "mb%d_c%d_ih%diw%d", p->u.flatten.n, p->u.flatten.c, p->u.flatten.h, p->u.flatten.w);
    case PROB_ACT:
    case PROB_LOSS:
    case PROB_OPTIM:
        return snprintf(buf, len, "n%zu", p->u.n);
    }
    return snprintf(buf, len, "?");
}

int prob_str(const prob_record *p, char *buf, size_t len) {
    int k = snprintf(buf, len, "%s/", prob_kind_name(p->kind));
    if (k < 0) return k;
    int s = prob_shape_str(p, (size_t)k < len ? buf + k : NULL, (size_t)k < len ? len - (size_t)k : 0);
    return s < 0 ? s : k + s;
}

/* ---- parsing ---- */

/* The op names a kind answers to, with the suffixes its shape may carry (NULL: none; the longer
 * of two that share a beginning first). */
static const struct {
    const char *op;
    prob_kind kind;
    const char *const *suffixes;
} ops[] = {
#define SUF(...) (const char *const[]){__VA_ARGS__, NULL}
    {"conv2d", PROB_CONV2D, NULL},
    {"conv2d_fwd", PROB_CONV2D, NULL},
    {"conv2d_bwd_data", PROB_CONV2D, NULL},
    {"conv2d_bwd_weights", PROB_CONV2D, NULL},
    {"pool", PROB_POOL, NULL},
    {"pool_fwd", PROB_POOL, NULL},
    {"pool_bwd", PROB_POOL, NULL},
    {"gpool", PROB_GPOOL, NULL},
    {"gpool_fwd", PROB_GPOOL, NULL},
    {"gpool_bwd", PROB_GPOOL, NULL},
    {"dense", PROB_DENSE, NULL},
    {"dense_fwd", PROB_DENSE, NULL},
    {"dense_bwd_data", PROB_DENSE, NULL},
    {"dense_bwd_weights", PROB_DENSE, NULL},
    {"flatten", PROB_FLATTEN, NULL},
    {"flatten_fwd", PROB_FLATTEN, NULL},
    {"flatten_bwd", PROB_FLATTEN, NULL},
    {"act", PROB_ACT, NULL},
    {"lrelu_fwd", PROB_ACT, SUF("_inplace")},
    {"lrelu_bwd", PROB_ACT, SUF("_inplace")},
    {"sigmoid_fwd", PROB_ACT, SUF("_inplace")},
    {"sigmoid_bwd", PROB_ACT, SUF("_inplace")},
    {"loss", PROB_LOSS, NULL},
    {"loss_mse", PROB_LOSS, NULL},
    {"loss_bce_logits", PROB_LOSS, SUF("_wide")},
    {"optim", PROB_OPTIM, NULL},
    {"adamw", PROB_OPTIM, SUF("_amsgrad0_wd0.01", "_amsgrad0_wd0", "_amsgrad1_wd0.01", "_amsgrad1_wd0")},
#undef SUF
};

/* Largest dimension and tensor a parsed problem may ask for: a typo must not allocate terabytes. */
#define MAX_DIM 65536L
#define MAX_ELEMS (1L << 28)

/* A decimal as the printers write it: digits only, no sign, no leading zero, no overflow. */
static bool scan_num(const char **s, long max, long *out) {
    const char *c = *s;
    if (*c < '0' || *c > '9' || (c[0] == '0' && c[1] >= '0' && c[1] <= '9')) return false;
    long v = 0;
    for (; *c >= '0' && *c <= '9'; c++) {
        v = v * 10 + (*c - '0');
        if (v > max) return false;
    }
    *s = c;
    *out = v;
    return true;
}

/* Matches `fmt` at *s: literal text, and '#' for one number in [0, MAX_DIM] stored in order. */
static bool scan(const char **s, const char *fmt, int *vals) {
    const char *c = *s;
    for (; *fmt; fmt++) {
        if (*fmt == '#') {
            long v;
            if (!scan_num(&c, MAX_DIM, &v)) return false;
            *vals++ = (int)v;
        } else if (*c++ != *fmt) {
            return false;
        }
    }
    *s = c;
    return true;
}

static bool scan_word(const char **s, const char *w) {
    size_t n = strlen(w);
    if (strncmp(*s, w, n)) return false;
    *s += n;
    return true;
}

#define FAIL(...) (snprintf(err, len, __VA_ARGS__), false)

/* The shape of kind k at *s, checked against what the kernels take. */
static bool parse_shape(const char **s, prob_record *p, char *err, size_t len) {
    int v[10];
    switch (p->kind) {
    case PROB_CONV2D: {
        if (!scan(s, "mb#_ic#oc#_ih#iw#_kh#kw#_sh#sw#_b#", v)) return FAIL("expected mbN_icNocN_ihNiwN_khNkwN_shNswN_bN");
        conv2d_desc d = {v[0], v[3], v[4], v[1], v[2], v[5], v[6], v[7], v[8], v[9], {{0}}};
        if (d.n < 1 || d.h < 1 || d.w < 1 || d.cin < 1 || d.cout < 1) return FAIL("mb, ic, oc, ih and iw must be at least 1");
        if (d.kh < 1 || d.kh > 3 || d.kw < 1 || d.kw > 3) return FAIL("kh and kw must be 1 to 3");
        if (d.sh < 1 || d.sh > 2 || d.sw < 1 || d.sw > 2) return FAIL("sh and sw must be 1 or 2");
        if (d.bias > 1) return FAIL("b must be 0 or 1");
        if (conv2d_in_size(&d) > MAX_ELEMS || conv2d_out_size(&d) > MAX_ELEMS || conv2d_w_size(&d) > MAX_ELEMS)
            return FAIL("tensors over %ld elements", MAX_ELEMS);
        p->u.conv = d;
        return true;
    }
    case PROB_POOL: {
        pool_kind k = scan_word(s, "avg_") ? POOL_AVG : scan_word(s, "max_") ? POOL_MAX : (pool_kind)-1;
        if ((int)k < 0 || !scan(s, "mb#_c#_ih#iw#_k#s#", v)) return FAIL("expected avg|max_mbN_cN_ihNiwN_kNsN");
        pool_desc d = {v[0], v[2], v[3], v[1], v[4], v[5], k};
        if (d.n < 1 || d.c < 1 || d.k < 1 || d.s < 1) return FAIL("mb, c, k and s must be at least 1");
        if (d.k > d.h || d.k > d.w) return FAIL("the window k is larger than the lattice");
        if (pool_in_size(&d) > MAX_ELEMS) return FAIL("tensors over %ld elements", MAX_ELEMS);
        p->u.pool = d;
        return true;
    }
    case PROB_GPOOL: {
        int k = scan_word(s, "avg_") ? GPOOL_AVG : scan_word(s, "max_") ? GPOOL_MAX : scan_word(s, "sum_") ? GPOOL_SUM : -1;
        if (k < 0 || !scan(s, "mb#_c#_hw#", v)) return FAIL("expected avg|max|sum_mbN_cN_hwN");
        gpool_desc d = {v[0], v[2], v[1], (gpool_kind)k};
        if (d.n < 1 || d.c < 1 || d.hw < 1) return FAIL("mb, c and hw must be at least 1");
        if ((long)d.n * d.hw * d.c > MAX_ELEMS) return FAIL("tensors over %ld elements", MAX_ELEMS);
        p->u.gpool = d;
        return true;
    }
    case PROB_DENSE: {
        if (!scan(s, "mb#_ic#oc#_b#", v)) return FAIL("expected mbN_icNocN_bN");
        dense_desc d = {v[0], v[1], v[2], v[3]};
        if (d.n < 1 || d.in < 1 || d.out < 1) return FAIL("mb, ic and oc must be at least 1");
        if (d.bias > 1) return FAIL("b must be 0 or 1");
        if ((long)d.n * d.in > MAX_ELEMS || (long)d.in * d.out > MAX_ELEMS || (long)d.n * d.out > MAX_ELEMS)
            return FAIL("tensors over %ld elements", MAX_ELEMS);
        p->u.dense = d;
        return true;
    }
    case PROB_FLATTEN: {
        if (!scan(s, "mb#_c#_ih#iw#", v)) return FAIL("expected mbN_cN_ihNiwN");
        dense_flatten_desc d = {v[0], v[2], v[3], v[1]};
        if (d.n < 1 || d.c < 1 || d.h < 1 || d.w < 1) return FAIL("mb, c, ih and iw must be at least 1");
        if ((long)d.n * d.h * d.w * d.c > MAX_ELEMS) return FAIL("tensors over %ld elements", MAX_ELEMS);
        p->u.flatten = d;
        return true;
    }
    case PROB_ACT:
    case PROB_LOSS:
    case PROB_OPTIM: {
        long n;
        if (!scan_word(s, "n") || !scan_num(s, MAX_ELEMS, &n)) return FAIL("expected nN (N at most %ld)", MAX_ELEMS);
        p->u.n = (size_t)n;
        return true;
    }
    }
    return FAIL("unknown kind");
}

bool prob_parse(const char *s, prob_record *p, prob_sel *sel, char *err, size_t len) {
    char e[128] = "";
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash) {
        snprintf(err, len, "'%.60s': expected <op>/<shape>, e.g. conv2d/mb1_ic3oc5_ih8iw8_kh3kw3_sh1sw1_b1", s ? s : "");
        return false;
    }
    size_t oplen = (size_t)(slash - s);
    int o = -1;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i].op) == oplen && !strncmp(ops[i].op, s, oplen)) o = (int)i;
    if (o < 0) {
        snprintf(err, len, "'%.*s' is not an op (conv2d, pool, gpool, dense, flatten, act, loss, optim or one of their passes)",
                 (int)(oplen < 40 ? oplen : 40), s);
        return false;
    }
    memset(p, 0, sizeof *p);
    p->kind = ops[o].kind;
    const char *c = slash + 1;
    if (!parse_shape(&c, p, e, sizeof e)) {
        snprintf(err, len, "'%.100s': %s", s, e);
        return false;
    }
    if (ops[o].suffixes)
        for (const char *const *x = ops[o].suffixes; *x; x++)
            if (scan_word(&c, *x)) break;
    /* a variant (letters, digits, '_', '-', '.') and an @reference may follow; nothing else */
    const bool bare = !strcmp(ops[o].op, kind_names[p->kind]);
    if (*c == '/' && bare) {
        return FAIL("'%.100s': a variant needs one of the kind's passes as the op (conv2d_fwd/..., not conv2d/...)", s);
    } else if (*c == '/') {
        const char *t = c + 1;
        if (!*t) return FAIL("'%.100s': an empty variant after the shape", s);
        for (; *t; t++)
            if (!(*t == '_' || *t == '-' || *t == '.' || *t == '@' || (*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'z') ||
                  (*t >= 'A' && *t <= 'Z')))
                return FAIL("'%.100s': '%c' in the variant", s, *t);
    } else if (*c) {
        return FAIL("'%.100s': unexpected '%.20s' after the shape", s, c);
    }
    if (sel) {
        memset(sel, 0, sizeof *sel);
        snprintf(sel->op, sizeof sel->op, "%s", ops[o].op);
        sel->whole = bare;
        if (!sel->whole && (size_t)snprintf(sel->filter, sizeof sel->filter, "%s", s) >= sizeof sel->filter)
            return FAIL("'%.60s...' is too long", s);
    }
    return true;
}

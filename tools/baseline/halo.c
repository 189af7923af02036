#include "tools/baseline/halo.h"
#include <string.h>

/* Below this many floats a parallel region costs more than the copy. */
#define HALO_PARALLEL_MIN 32768

static int wrap_mod(int i, int n) {
    int r = i % n;
    return r < 0 ? r + n : r;
}

halo_geom halo_for_conv2d(const conv2d_desc *d) {
    halo_geom g;
    g.n = d->n;
    g.h = d->h;
    g.w = d->w;
    g.c = d->cin;
    g.hp = (conv2d_oh(d) - 1) * d->sh + d->kh;
    g.wp = (conv2d_ow(d) - 1) * d->sw + d->kw;
    g.top = -conv2d_off(d->kh);
    g.left = -conv2d_off(d->kw);
    return g;
}

int halo_is_identity(const halo_geom *g) {
    return g->hp == g->h && g->wp == g->w && g->top == 0 && g->left == 0;
}

size_t halo_padded_size(const halo_geom *g) { return (size_t)g->n * g->hp * g->wp * g->c; }

/* A padded row is at most three contiguous runs of input columns; copy run by run. */
static void pad_row(const halo_geom *g, const float *src_row, float *dst_row) {
    for (int q = 0; q < g->wp;) {
        int x = wrap_mod(q - g->left, g->w);
        int run = g->w - x < g->wp - q ? g->w - x : g->wp - q;
        memcpy(dst_row + (size_t)q * g->c, src_row + (size_t)x * g->c, (size_t)run * g->c * sizeof(float));
        q += run;
    }
}

static void fold_row_add(const halo_geom *g, const float *pad_row_p, float *out_row) {
    for (int q = 0; q < g->wp;) {
        int x = wrap_mod(q - g->left, g->w);
        int run = g->w - x < g->wp - q ? g->w - x : g->wp - q;
        float *o = out_row + (size_t)x * g->c;
        const float *p = pad_row_p + (size_t)q * g->c;
        for (size_t i = 0; i < (size_t)run * g->c; i++) o[i] += p[i];
        q += run;
    }
}

void halo_pad_nhwc(const halo_geom *g, int threads, const float *src, float *dst) {
    long rows = (long)g->n * g->hp;
    size_t in_row = (size_t)g->w * g->c, out_row = (size_t)g->wp * g->c;
#pragma omp parallel for num_threads(threads) schedule(static) if ((size_t)rows * out_row >= HALO_PARALLEL_MIN && threads > 1)
    for (long i = 0; i < rows; i++) {
        long b = i / g->hp;
        int r = (int)(i % g->hp);
        int t = wrap_mod(r - g->top, g->h);
        pad_row(g, src + ((size_t)b * g->h + t) * in_row, dst + (size_t)i * out_row);
    }
}

void halo_fold_nhwc(const halo_geom *g, int threads, const float *gpad, float *gsrc) {
    long rows = (long)g->n * g->h;
    size_t in_row = (size_t)g->w * g->c, pad_row_len = (size_t)g->wp * g->c;
#pragma omp parallel for num_threads(threads) schedule(static) if ((size_t)rows * in_row >= HALO_PARALLEL_MIN && threads > 1)
    for (long i = 0; i < rows; i++) {
        long b = i / g->h;
        int t = (int)(i % g->h);
        float *out = gsrc + (size_t)i * in_row;
        memset(out, 0, in_row * sizeof(float));
        /* padded rows copied from input row t: t + top + m*h, for the m that land in [0, hp) */
        for (int r = wrap_mod(t + g->top, g->h); r < g->hp; r += g->h)
            fold_row_add(g, gpad + ((size_t)b * g->hp + r) * pad_row_len, out);
    }
}

void bench_step_halo_pad(void *p) {
    odnn_halo_ctx *c = p;
    halo_pad_nhwc(&c->g, c->threads, c->src, c->dst);
}

void bench_step_halo_fold(void *p) {
    odnn_halo_ctx *c = p;
    halo_fold_nhwc(&c->g, c->threads, c->src, c->dst);
}

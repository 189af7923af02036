#include "lib/nn/parallel.h"
#include <omp.h>

int nn_batch_parts(int threads, int n) {
    int parts = threads < n ? threads : n;
    return parts < 1 ? 1 : parts;
}

void nn_batch_slice(int n, int parts, int p, int *start, int *count) {
    int base = n / parts, extra = n % parts;
    *start = p * base + (p < extra ? p : extra);
    *count = base + (p < extra ? 1 : 0);
}

/* Partial buffers are padded to whole cache lines so that two threads never share one. */
static size_t partial_stride(const conv2d_desc *d) {
    size_t n = conv2d_w_size(d) + (d->bias ? (size_t)d->cout : 0);
    return (n + 15) & ~(size_t)15;
}

/* The OpenMP runtime may grant fewer threads than asked (nesting, OMP_THREAD_LIMIT): each thread
 * then takes slices p = tid, tid + nthreads, ..., so every slice is still computed exactly once. */
#define FOR_EACH_SLICE(parts, p)                                                         \
    for (int p = omp_get_thread_num(); p < (parts); p += omp_get_num_threads())

/* Inside FOR_EACH_SLICE: s0 = the slice's first sample, sd = *d (of type T) restricted to the slice. */
#define BATCH_SLICE(T, d, parts, p, sd, s0)                                              \
    T sd = *(d);                                                          \
    int s0;                                                                              \
    nn_batch_slice((d)->n, parts, p, &s0, &sd.n)

/* Floats per sample of a conv's input and output, and of a pool's. */
static size_t conv_in_ps(const conv2d_desc *d) { return (size_t)d->h * d->w * d->cin; }
static size_t conv_out_ps(const conv2d_desc *d) { return (size_t)conv2d_oh(d) * conv2d_ow(d) * d->cout; }
static size_t pool_in_ps(const pool_desc *d) { return (size_t)d->h * d->w * d->c; }
static size_t pool_out_ps(const pool_desc *d) { return (size_t)pool_oh(d) * pool_ow(d) * d->c; }

void nn_conv2d_fwd(const conv2d_ops *k, int threads, const conv2d_desc *d, const float *in, const float *w,
                   const float *bias, float *out) {
    int parts = nn_batch_parts(threads, d->n);
    if (parts == 1) {
        k->fwd(d, in, w, bias, out);
        return;
    }
    size_t in_ps = conv_in_ps(d), out_ps = conv_out_ps(d);
#pragma omp parallel num_threads(parts)
    FOR_EACH_SLICE(parts, p) {
        BATCH_SLICE(conv2d_desc, d, parts, p, sd, s0);
        k->fwd(&sd, in + s0 * in_ps, w, bias, out + s0 * out_ps);
    }
}

void nn_conv2d_bwd_data(const conv2d_ops *k, int threads, const conv2d_desc *d, const float *gout, const float *wt,
                        float *gin) {
    int parts = nn_batch_parts(threads, d->n);
    if (parts == 1) {
        k->bwd_data(d, gout, wt, gin);
        return;
    }
    size_t in_ps = conv_in_ps(d), out_ps = conv_out_ps(d);
#pragma omp parallel num_threads(parts)
    FOR_EACH_SLICE(parts, p) {
        BATCH_SLICE(conv2d_desc, d, parts, p, sd, s0);
        k->bwd_data(&sd, gout + s0 * out_ps, wt, gin + s0 * in_ps);
    }
}

size_t nn_conv2d_bwd_weights_workspace(int threads, const conv2d_desc *d) {
    int parts = nn_batch_parts(threads, d->n);
    return parts == 1 ? 0 : (size_t)(parts - 1) * partial_stride(d);
}

void nn_conv2d_bwd_weights_part(const conv2d_ops *k, const conv2d_desc *d, int parts, int p, const float *in,
                                const float *gout, float *gw, float *gb, float *workspace) {
    const size_t wsize = conv2d_w_size(d), stride = partial_stride(d);
    const int with_bias = d->bias && gb != NULL;
    conv2d_desc sd = *d;
    int s0;
    nn_batch_slice(d->n, parts, p, &s0, &sd.n);
    /* a partial buffer holds its bias right after its weights */
    float *pw = p == 0 ? gw : workspace + (size_t)(p - 1) * stride;
    float *pb = !with_bias ? NULL : p == 0 ? gb : pw + wsize;
    k->bwd_weights(&sd, in, gout, pw, pb);
}

void nn_conv2d_bwd_weights_reduce(const conv2d_desc *d, int parts, float *gw, float *gb, const float *workspace,
                                  int tid, int nt) {
    const size_t wsize = conv2d_w_size(d), stride = partial_stride(d);
    /* Weights and bias are reduced as one index space: e < wsize is gw[e], else gb[e - wsize]. */
    const size_t total = wsize + (d->bias && gb != NULL ? (size_t)d->cout : 0);
    const size_t chunk = (total + nt - 1) / nt, e0 = tid * chunk, e1 = e0 + chunk < total ? e0 + chunk : total;
    /* Fixed summation order (slice 0, 1, 2, ...) for every element: deterministic results. */
    for (size_t e = e0; e < e1; e++) {
        float *dst = e < wsize ? &gw[e] : &gb[e - wsize];
        float s = *dst;
        for (int p = 1; p < parts; p++) s += workspace[(size_t)(p - 1) * stride + e];
        *dst = s;
    }
}

typedef struct {
    const conv2d_ops *k;
    const conv2d_desc *d;
    const float *in, *gout;
    float *gw, *gb, *workspace;
} bwd_weights_ctx;

static void bwd_weights_slice(void *ctx, int parts, int p, int s0, int cnt) {
    const bwd_weights_ctx *c = ctx;
    (void)cnt;
    nn_conv2d_bwd_weights_part(c->k, c->d, parts, p, c->in + s0 * conv_in_ps(c->d), c->gout + s0 * conv_out_ps(c->d), c->gw,
                               c->gb, c->workspace);
}

static void bwd_weights_after(void *ctx, int parts, int tid, int nt) {
    const bwd_weights_ctx *c = ctx;
    nn_conv2d_bwd_weights_reduce(c->d, parts, c->gw, c->gb, c->workspace, tid, nt);
}

void nn_conv2d_bwd_weights(const conv2d_ops *k, int threads, const conv2d_desc *d, const float *in, const float *gout,
                           float *gw, float *gb, float *workspace) {
    if (nn_batch_parts(threads, d->n) == 1) {
        k->bwd_weights(d, in, gout, gw, gb);
        return;
    }
    bwd_weights_ctx c = {k, d, in, gout, gw, gb, workspace};
    nn_slices_run(threads, d->n, bwd_weights_slice, bwd_weights_after, &c);
}

void nn_slices_run(int threads, int n, nn_slice_fn *fn, nn_slices_after_fn *after, void *ctx) {
    const int parts = nn_batch_parts(threads, n);
#pragma omp parallel num_threads(parts) if (parts > 1)
    {
        FOR_EACH_SLICE(parts, p) {
            int s0, cnt;
            nn_batch_slice(n, parts, p, &s0, &cnt);
            fn(ctx, parts, p, s0, cnt);
        }
        if (after) {
#pragma omp barrier
            after(ctx, parts, omp_get_thread_num(), omp_get_num_threads());
        }
    }
}

void nn_pool_fwd(const pool_ops *k, int threads, const pool_desc *d, const float *in, float *out) {
    int parts = nn_batch_parts(threads, d->n);
    if (parts == 1) {
        k->fwd(d, in, out);
        return;
    }
    size_t in_ps = pool_in_ps(d), out_ps = pool_out_ps(d);
#pragma omp parallel num_threads(parts)
    FOR_EACH_SLICE(parts, p) {
        BATCH_SLICE(pool_desc, d, parts, p, sd, s0);
        k->fwd(&sd, in + s0 * in_ps, out + s0 * out_ps);
    }
}

void nn_pool_bwd(const pool_ops *k, int threads, const pool_desc *d, const float *in, const float *gout, float *gin) {
    int parts = nn_batch_parts(threads, d->n);
    if (parts == 1) {
        k->bwd(d, in, gout, gin);
        return;
    }
    size_t in_ps = pool_in_ps(d), out_ps = pool_out_ps(d);
#pragma omp parallel num_threads(parts)
    FOR_EACH_SLICE(parts, p) {
        BATCH_SLICE(pool_desc, d, parts, p, sd, s0);
        k->bwd(&sd, in ? in + s0 * in_ps : NULL, gout + s0 * out_ps, gin + s0 * in_ps);
    }
}

/* Samples per chunk: conv input and output of a chunk within about 256 KB (L2 is 0.5-2 MB). */
static int chunk_samples(const conv2d_desc *d) {
    const size_t bytes = 4 * (conv_in_ps(d) + conv_out_ps(d));
    const size_t c = ((size_t)256 << 10) / (bytes ? bytes : 1);
    return c < 1 ? 1 : c > (size_t)d->n ? d->n : (int)c;
}

/* The slices of the batch over the threads, each in chunks of chunk_samples(d): fn(ctx, chunk's
 * descriptor, chunk's first sample). */
typedef void conv_chunk_fn(const void *ctx, const conv2d_desc *cd, size_t first);

static void for_each_conv_chunk(int threads, const conv2d_desc *d, conv_chunk_fn *fn, const void *ctx) {
    const int parts = nn_batch_parts(threads, d->n), cs = chunk_samples(d);
#pragma omp parallel num_threads(parts) if (parts > 1)
    FOR_EACH_SLICE(parts, p) {
        BATCH_SLICE(conv2d_desc, d, parts, p, sd, s0);
        for (int c0 = 0; c0 < sd.n; c0 += cs) {
            conv2d_desc cd = sd;
            cd.n = sd.n - c0 < cs ? sd.n - c0 : cs;
            fn(ctx, &cd, (size_t)s0 + c0);
        }
    }
}

typedef struct {
    const conv2d_ops *k;
    const act_ops *a;
    float slope;
    size_t in_ps, out_ps;
    const float *in, *w, *bias; /* fwd */
    float *out, *act;
    const float *y, *gact, *wt; /* bwd: y = the conv's output */
    float *gy, *gin;
} conv_lrelu_args;

static void fwd_lrelu_chunk(const void *ctx, const conv2d_desc *cd, size_t o) {
    const conv_lrelu_args *x = ctx;
    x->k->fwd(cd, x->in + o * x->in_ps, x->w, x->bias, x->out + o * x->out_ps);
    x->a->lrelu_fwd(cd->n * x->out_ps, x->slope, x->out + o * x->out_ps, x->act + o * x->out_ps);
}

static void lrelu_bwd_data_chunk(const void *ctx, const conv2d_desc *cd, size_t o) {
    const conv_lrelu_args *x = ctx;
    x->a->lrelu_bwd(cd->n * x->out_ps, x->slope, x->y + o * x->out_ps, x->gact + o * x->out_ps, x->gy + o * x->out_ps);
    if (x->gin) x->k->bwd_data(cd, x->gy + o * x->out_ps, x->wt, x->gin + o * x->in_ps);
}

void nn_conv2d_fwd_lrelu(const conv2d_ops *k, const act_ops *a, float slope, int threads, const conv2d_desc *d,
                         const float *in, const float *w, const float *bias, float *out, float *act) {
    const conv_lrelu_args x = {.k = k, .a = a, .slope = slope, .in_ps = conv_in_ps(d), .out_ps = conv_out_ps(d),
                               .in = in, .w = w, .bias = bias, .out = out, .act = act};
    for_each_conv_chunk(threads, d, fwd_lrelu_chunk, &x);
}

void nn_lrelu_bwd_conv2d_bwd_data(const conv2d_ops *k, const act_ops *a, float slope, int threads,
                                  const conv2d_desc *d, const float *out, const float *gact, float *gy,
                                  const float *wt, float *gin) {
    const conv_lrelu_args x = {.k = k, .a = a, .slope = slope, .in_ps = conv_in_ps(d), .out_ps = conv_out_ps(d),
                               .y = out, .gact = gact, .wt = wt, .gy = gy, .gin = gin};
    for_each_conv_chunk(threads, d, lrelu_bwd_data_chunk, &x);
}

void nn_chain1x1_fwd(const chain1x1_ops *k, int threads, int n, size_t ps, const chain1x1_desc *d, const float *in,
                     const float *const *w, const float *const *b, float *out, const chain1x1_keep *keep) {
    const int parts = nn_batch_parts(threads, n);
#pragma omp parallel num_threads(parts) if (parts > 1)
    FOR_EACH_SLICE(parts, p) {
        int s0, cnt;
        nn_batch_slice(n, parts, p, &s0, &cnt);
        const size_t o = (size_t)s0 * ps;
        chain1x1_desc sd = *d;
        sd.sites = (size_t)cnt * ps;
        chain1x1_keep sk;
        for (int l = 0; keep && l < d->layers; l++) {
            sk.pre[l] = keep->pre[l] + o * d->c[l + 1];
            if (l < d->layers - 1) sk.post[l] = keep->post[l] + o * d->c[l + 1];
        }
        k->fwd(&sd, in + o * d->c[0], w, b, out + o * d->c[d->layers], keep ? &sk : NULL);
    }
}

void nn_lrelu_fwd(const act_ops *a, float slope, int threads, int n, size_t ps, const float *x, float *y) {
    const int parts = nn_batch_parts(threads, n);
#pragma omp parallel num_threads(parts) if (parts > 1)
    FOR_EACH_SLICE(parts, p) {
        int s0, cnt;
        nn_batch_slice(n, parts, p, &s0, &cnt);
        a->lrelu_fwd((size_t)cnt * ps, slope, x + (size_t)s0 * ps, y + (size_t)s0 * ps);
    }
}

void nn_lrelu_bwd(const act_ops *a, float slope, int threads, int n, size_t ps, const float *x, const float *gy,
                  float *gx) {
    const int parts = nn_batch_parts(threads, n);
#pragma omp parallel num_threads(parts) if (parts > 1)
    FOR_EACH_SLICE(parts, p) {
        int s0, cnt;
        nn_batch_slice(n, parts, p, &s0, &cnt);
        const size_t o = (size_t)s0 * ps;
        a->lrelu_bwd((size_t)cnt * ps, slope, x + o, gy + o, gx + o);
    }
}

void nn_gpool_fwd(const gpool_ops *k, int threads, const gpool_desc *d, const float *in, float *out) {
    const int parts = nn_batch_parts(threads, d->n);
    const size_t in_ps = (size_t)d->hw * d->c;
#pragma omp parallel num_threads(parts) if (parts > 1)
    FOR_EACH_SLICE(parts, p) {
        BATCH_SLICE(gpool_desc, d, parts, p, sd, s0);
        k->fwd(&sd, in + s0 * in_ps, out + (size_t)s0 * d->c);
    }
}

void nn_gpool_bwd(const gpool_ops *k, int threads, const gpool_desc *d, const float *in, const float *gout, float *gin) {
    const int parts = nn_batch_parts(threads, d->n);
    const size_t in_ps = (size_t)d->hw * d->c;
#pragma omp parallel num_threads(parts) if (parts > 1)
    FOR_EACH_SLICE(parts, p) {
        BATCH_SLICE(gpool_desc, d, parts, p, sd, s0);
        k->bwd(&sd, in ? in + s0 * in_ps : NULL, gout + (size_t)s0 * d->c, gin + s0 * in_ps);
    }
}

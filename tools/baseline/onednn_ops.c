#include "tools/baseline/onednn_ops.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if LB_HAVE_ONEDNN
#define ODNN_CHECK(call, what)                                                                           \
    do {                                                                                                  \
        dnnl_status_t st_ = (call);                                                                       \
        if (st_ != dnnl_success) {                                                                        \
            fprintf(stderr, "latbench bench: oneDNN %s failed (status %d)\n", (what), (int)st_);          \
            goto fail;                                                                                    \
        }                                                                                                 \
    } while (0)

bool odnn_env_init(odnn_env *e) {
    memset(e, 0, sizeof *e);
    if (dnnl_engine_create(&e->engine, dnnl_cpu, 0) != dnnl_success) {
        fprintf(stderr, "latbench bench: oneDNN has no CPU engine; no oneDNN baseline\n");
        return false;
    }
    if (dnnl_stream_create(&e->stream, e->engine, dnnl_stream_default_flags) != dnnl_success) {
        fprintf(stderr, "latbench bench: cannot create a oneDNN stream; no oneDNN baseline\n");
        dnnl_engine_destroy(e->engine);
        e->engine = NULL;
        return false;
    }
    return true;
}

void odnn_env_fini(odnn_env *e) {
    if (e->stream) dnnl_stream_destroy(e->stream);
    if (e->engine) dnnl_engine_destroy(e->engine);
    memset(e, 0, sizeof *e);
}

dnnl_memory_t odnn_user_mem(const odnn_env *e, int ndims, const dnnl_dim_t *dims, dnnl_format_tag_t tag, void *ptr) {
    dnnl_memory_desc_t md;
    dnnl_memory_t m = NULL;
    if (dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tag) != dnnl_success) return NULL;
    if (dnnl_memory_create(&m, &md, e->engine, ptr) != dnnl_success) return NULL;
    return m;
}

void odnn_layout_str(const dnnl_memory_desc_t *md, char *buf, size_t len) {
    if (md->format_kind != dnnl_blocked) {
        snprintf(buf, len, md->format_kind == dnnl_format_kind_wino ? "wino" : "opaque");
        return;
    }
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    int order[DNNL_MAX_NDIMS], nd = md->ndims;
    for (int i = 0; i < nd; i++) order[i] = i;
    /* outermost first: larger stride first, ties in dimension order (insertion sort, nd <= 12) */
    for (int i = 1; i < nd; i++)
        for (int j = i; j > 0 && b->strides[order[j]] > b->strides[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    size_t p = 0;
    for (int i = 0; i < nd && p + 1 < len; i++) {
        int blocked = 0;
        for (int k = 0; k < b->inner_nblks; k++) blocked |= b->inner_idxs[k] == order[i];
        buf[p++] = (char)((blocked ? 'A' : 'a') + order[i]);
    }
    buf[p] = 0;
    for (int k = 0; k < b->inner_nblks && p + 1 < len; k++)
        p += (size_t)snprintf(buf + p, len - p, "%d%c", (int)b->inner_blks[k], 'a' + (int)b->inner_idxs[k]);
}

void odnn_exec_run(void *ctx) {
    odnn_exec *x = ctx;
    dnnl_primitive_execute(x->prim, x->stream, x->nargs, x->args);
    dnnl_stream_wait(x->stream);
}

void odnn_touch(dnnl_memory_t m) {
    const dnnl_memory_desc_t *md;
    void *p = NULL;
    if (dnnl_memory_get_memory_desc(m, &md) == dnnl_success && dnnl_memory_get_data_handle(m, &p) == dnnl_success && p)
        memset(p, 0, dnnl_memory_desc_get_size(md));
}

static dnnl_memory_t own(odnn_op *op, dnnl_memory_t m) {
    if (m && op->n_owned < (int)(sizeof op->owned / sizeof op->owned[0])) op->owned[op->n_owned++] = m;
    else if (m) dnnl_memory_destroy(m);   /* cannot happen: ODNN_MAX_ARGS bounds the count */
    return m;
}

bool odnn_reorder_init(odnn_exec *x, const odnn_env *env, dnnl_memory_t from, dnnl_memory_t to, const char *name) {
    const dnnl_memory_desc_t *fmd, *tmd;
    dnnl_primitive_desc_t rpd = NULL;
    memset(x, 0, sizeof *x);
    dnnl_memory_get_memory_desc(from, &fmd);
    dnnl_memory_get_memory_desc(to, &tmd);
    ODNN_CHECK(dnnl_reorder_primitive_desc_create(&rpd, fmd, env->engine, tmd, env->engine, NULL), "reorder pd");
    ODNN_CHECK(dnnl_primitive_create(&x->prim, rpd), "reorder");
    dnnl_primitive_desc_destroy(rpd);
    x->stream = env->stream;
    x->nargs = 2;
    x->args[0] = (dnnl_exec_arg_t){DNNL_ARG_FROM, from};
    x->args[1] = (dnnl_exec_arg_t){DNNL_ARG_TO, to};
    snprintf(x->name, sizeof x->name, "%s", name);
    return true;
fail:
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    return false;
}

static void append_layout(odnn_op *op, const char *name, const dnnl_memory_desc_t *md) {
    char s[48];
    odnn_layout_str(md, s, sizeof s);
    size_t p = strlen(op->layouts);
    snprintf(op->layouts + p, sizeof op->layouts - p, "%s%s:%s", p ? " " : "", name, s);
}

bool odnn_op_init(odnn_op *op, const odnn_env *env, dnnl_primitive_desc_t pd, dnnl_primitive_desc_t hint,
                  const char *what, const odnn_bind *binds, int n_binds, odnn_conv_cache *cache) {
    memset(op, 0, sizeof *op);
    op->env = env;
    op->pd = pd;
    op->hint = hint;
    if (!pd || n_binds > ODNN_MAX_ARGS) goto fail;
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
        snprintf(op->impl, sizeof op->impl, "%s", impl);
    ODNN_CHECK(dnnl_primitive_create(&op->main.prim, pd), what);
    op->main.stream = env->stream;
    snprintf(op->main.name, sizeof op->main.name, "%s", what);
    for (int i = 0; i < n_binds; i++) {
        const odnn_bind *b = &binds[i];
        const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, b->arg);
        if (!want) goto fail;
        append_layout(op, b->name, want);
        dnnl_memory_t m = NULL;
        const dnnl_memory_desc_t *have = NULL;
        if (b->ext) dnnl_memory_get_memory_desc(b->ext, &have);
        if (b->ext && dnnl_memory_desc_equal(have, want)) {
            m = b->ext;
        } else if (b->ext && !b->output && cache) {
            for (int k = 0; k < cache->n && !m; k++) {
                const dnnl_memory_desc_t *cmd;
                dnnl_memory_get_memory_desc(cache->conv[k].to, &cmd);
                if (cache->conv[k].from == b->ext && dnnl_memory_desc_equal(cmd, want)) m = cache->conv[k].to;
            }
        }
        if (!m) {
            ODNN_CHECK(dnnl_memory_create(&m, want, env->engine, DNNL_MEMORY_ALLOCATE), "memory");
            own(op, m);
            odnn_touch(m);
            if (b->ext) {
                char name[48];
                snprintf(name, sizeof name, "reorder %s", b->name);
                if (b->output) {
                    if (op->n_post >= ODNN_MAX_EXEC || !odnn_reorder_init(&op->post[op->n_post++], env, m, b->ext, name)) goto fail;
                } else {
                    if (op->n_pre >= ODNN_MAX_EXEC || !odnn_reorder_init(&op->pre[op->n_pre++], env, b->ext, m, name)) goto fail;
                    /* ops of a chain stay alive together, so the cached memory outlives its users */
                    if (cache && cache->n < (int)(sizeof cache->conv / sizeof cache->conv[0]))
                        cache->conv[cache->n++] = (odnn_conversion){b->ext, m};
                }
            }
        }
        op->main.args[op->main.nargs++] = (dnnl_exec_arg_t){b->arg, m};
        op->bound_arg[op->n_bound] = b->arg;
        op->bound_mem[op->n_bound++] = m;
    }
    return true;
fail:
    fprintf(stderr, "latbench bench: cannot set up oneDNN %s\n", what);
    odnn_op_fini(op);
    return false;
}

void odnn_op_fini(odnn_op *op) {
    for (int i = 0; i < op->n_pre; i++)
        if (op->pre[i].prim) dnnl_primitive_destroy(op->pre[i].prim);
    for (int i = 0; i < op->n_post; i++)
        if (op->post[i].prim) dnnl_primitive_destroy(op->post[i].prim);
    if (op->main.prim) dnnl_primitive_destroy(op->main.prim);
    for (int i = 0; i < op->n_owned; i++) dnnl_memory_destroy(op->owned[i]);
    if (op->pd) dnnl_primitive_desc_destroy(op->pd);
    if (op->hint) dnnl_primitive_desc_destroy(op->hint);
    memset(op, 0, sizeof *op);
}

dnnl_memory_t odnn_op_mem(const odnn_op *op, int arg) {
    for (int i = 0; i < op->n_bound; i++)
        if (op->bound_arg[i] == arg) return op->bound_mem[i];
    return NULL;
}

int odnn_op_add_steps(odnn_op *op, timing_seq *s) {
    int rc = 0;
    for (int i = 0; i < op->n_pre; i++) rc |= timing_seq_add(s, op->pre[i].name, STEP_REORDER, odnn_exec_run, &op->pre[i]);
    rc |= timing_seq_add(s, op->main.name, STEP_COMPUTE, odnn_exec_run, &op->main);
    for (int i = 0; i < op->n_post; i++) rc |= timing_seq_add(s, op->post[i].name, STEP_REORDER, odnn_exec_run, &op->post[i]);
    return rc;
}

void odnn_op_run(odnn_op *op) {
    for (int i = 0; i < op->n_pre; i++) odnn_exec_run(&op->pre[i]);
    odnn_exec_run(&op->main);
    for (int i = 0; i < op->n_post; i++) odnn_exec_run(&op->post[i]);
}

int odnn_op_n_reorders(const odnn_op *op) { return op->n_pre + op->n_post; }

/* ---- descriptors ---- */

typedef struct {
    dnnl_memory_desc_t src, wei, bias, dst;
    dnnl_dims_t strides, pad;
} conv_mds;

static bool conv_mds_init(conv_mds *m, const conv2d_desc *d, int hp, int wp, odnn_layout lay) {
    dnnl_dims_t src = {d->n, d->cin, hp, wp}, wei = {d->cout, d->cin, d->kh, d->kw}, bias = {d->cout},
                dst = {d->n, d->cout, conv2d_oh(d), conv2d_ow(d)};
    dnnl_format_tag_t act = lay == ODNN_ANY ? dnnl_format_tag_any : dnnl_nhwc;
    dnnl_format_tag_t wt = lay == ODNN_ANY ? dnnl_format_tag_any : dnnl_hwio;
    memset(m, 0, sizeof *m);
    m->strides[0] = d->sh;
    m->strides[1] = d->sw;
    return dnnl_memory_desc_init_by_tag(&m->src, 4, src, dnnl_f32, act) == dnnl_success &&
           dnnl_memory_desc_init_by_tag(&m->wei, 4, wei, dnnl_f32, wt) == dnnl_success &&
           (!d->bias || dnnl_memory_desc_init_by_tag(&m->bias, 1, bias, dnnl_f32, dnnl_x) == dnnl_success) &&
           dnnl_memory_desc_init_by_tag(&m->dst, 4, dst, dnnl_f32, act) == dnnl_success;
}

dnnl_primitive_desc_t odnn_conv_fwd_pd(const odnn_env *e, const conv2d_desc *d, int hp, int wp, odnn_layout lay) {
    conv_mds m;
    dnnl_convolution_desc_t cd;
    dnnl_primitive_desc_t pd = NULL;
    if (!conv_mds_init(&m, d, hp, wp, lay)) return NULL;
    if (dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, dnnl_convolution_direct, &m.src, &m.wei,
                                           d->bias ? &m.bias : NULL, &m.dst, m.strides, m.pad, m.pad) != dnnl_success)
        return NULL;
    if (dnnl_primitive_desc_create(&pd, &cd, NULL, e->engine, NULL) != dnnl_success) return NULL;
    return pd;
}

dnnl_primitive_desc_t odnn_conv_bwd_data_pd(const odnn_env *e, const conv2d_desc *d, int hp, int wp, odnn_layout lay,
                                            dnnl_primitive_desc_t *hint) {
    conv_mds m;
    dnnl_convolution_desc_t cd;
    dnnl_primitive_desc_t pd = NULL;
    *hint = odnn_conv_fwd_pd(e, d, hp, wp, lay);
    if (!*hint || !conv_mds_init(&m, d, hp, wp, lay)) return NULL;
    if (dnnl_convolution_backward_data_desc_init(&cd, dnnl_convolution_direct, &m.src, &m.wei, &m.dst, m.strides, m.pad,
                                                 m.pad) != dnnl_success)
        return NULL;
    if (dnnl_primitive_desc_create(&pd, &cd, NULL, e->engine, *hint) != dnnl_success) return NULL;
    return pd;
}

dnnl_primitive_desc_t odnn_conv_bwd_weights_pd(const odnn_env *e, const conv2d_desc *d, int hp, int wp,
                                               odnn_layout lay, dnnl_primitive_desc_t *hint) {
    conv_mds m;
    dnnl_convolution_desc_t cd;
    dnnl_primitive_desc_t pd = NULL;
    *hint = odnn_conv_fwd_pd(e, d, hp, wp, lay);
    if (!*hint || !conv_mds_init(&m, d, hp, wp, lay)) return NULL;
    if (dnnl_convolution_backward_weights_desc_init(&cd, dnnl_convolution_direct, &m.src, &m.wei,
                                                    d->bias ? &m.bias : NULL, &m.dst, m.strides, m.pad,
                                                    m.pad) != dnnl_success)
        return NULL;
    if (dnnl_primitive_desc_create(&pd, &cd, NULL, e->engine, *hint) != dnnl_success) return NULL;
    return pd;
}

static bool pool_args(const pool_desc *d, odnn_layout lay, dnnl_memory_desc_t *src, dnnl_memory_desc_t *dst,
                      dnnl_dims_t strides, dnnl_dims_t kernel, dnnl_dims_t pad, dnnl_alg_kind_t *alg) {
    dnnl_dims_t sdims = {d->n, d->c, d->h, d->w}, ddims = {d->n, d->c, pool_oh(d), pool_ow(d)};
    dnnl_format_tag_t tag = lay == ODNN_PLAIN ? dnnl_nhwc : d->c % 16 == 0 ? dnnl_nChw16c : dnnl_nChw8c;
    strides[0] = strides[1] = d->s;
    kernel[0] = kernel[1] = d->k;
    pad[0] = pad[1] = 0;
    *alg = d->kind == POOL_MAX ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;
    return dnnl_memory_desc_init_by_tag(src, 4, sdims, dnnl_f32, tag) == dnnl_success &&
           dnnl_memory_desc_init_by_tag(dst, 4, ddims, dnnl_f32, dnnl_format_tag_any) == dnnl_success;
}

dnnl_primitive_desc_t odnn_pool_fwd_pd(const odnn_env *e, const pool_desc *d, odnn_layout lay) {
    dnnl_memory_desc_t src, dst;
    dnnl_dims_t strides, kernel, pad;
    dnnl_alg_kind_t alg;
    dnnl_pooling_desc_t pdsc;
    dnnl_primitive_desc_t pd = NULL;
    if (!pool_args(d, lay, &src, &dst, strides, kernel, pad, &alg)) return NULL;
    if (dnnl_pooling_forward_desc_init(&pdsc, dnnl_forward_training, alg, &src, &dst, strides, kernel, pad, pad) !=
        dnnl_success)
        return NULL;
    if (dnnl_primitive_desc_create(&pd, &pdsc, NULL, e->engine, NULL) != dnnl_success) return NULL;
    return pd;
}

dnnl_primitive_desc_t odnn_pool_bwd_pd(const odnn_env *e, const pool_desc *d, odnn_layout lay,
                                       dnnl_primitive_desc_t *hint) {
    dnnl_memory_desc_t src, dst;
    dnnl_dims_t strides, kernel, pad;
    dnnl_alg_kind_t alg;
    dnnl_pooling_desc_t pdsc;
    dnnl_primitive_desc_t pd = NULL;
    *hint = odnn_pool_fwd_pd(e, d, lay);
    if (!*hint || !pool_args(d, lay, &src, &dst, strides, kernel, pad, &alg)) return NULL;
    if (dnnl_pooling_backward_desc_init(&pdsc, alg, &src, &dst, strides, kernel, pad, pad) != dnnl_success) return NULL;
    if (dnnl_primitive_desc_create(&pd, &pdsc, NULL, e->engine, *hint) != dnnl_success) return NULL;
    return pd;
}
#else
/* Built without oneDNN (LB_NO_ONEDNN): no engine, so the caller runs no baseline; the rest is
 * unreachable and fails harmlessly. */
bool odnn_env_init(odnn_env *e) {
    memset(e, 0, sizeof *e);
    fprintf(stderr, "latbench bench: oneDNN comparisons: not available on this build (built without oneDNN)\n");
    return false;
}
void odnn_env_fini(odnn_env *e) { memset(e, 0, sizeof *e); }
dnnl_memory_t odnn_user_mem(const odnn_env *e, int ndims, const dnnl_dim_t *dims, dnnl_format_tag_t tag, void *ptr) {
    return NULL;
}
void odnn_layout_str(const dnnl_memory_desc_t *md, char *buf, size_t len) { snprintf(buf, len, "none"); }
void odnn_exec_run(void *ctx) {}
void odnn_touch(dnnl_memory_t m) {}
bool odnn_reorder_init(odnn_exec *x, const odnn_env *env, dnnl_memory_t from, dnnl_memory_t to, const char *name) {
    memset(x, 0, sizeof *x);
    return false;
}
bool odnn_op_init(odnn_op *op, const odnn_env *env, dnnl_primitive_desc_t pd, dnnl_primitive_desc_t hint,
                  const char *what, const odnn_bind *binds, int n_binds, odnn_conv_cache *cache) {
    memset(op, 0, sizeof *op);
    return false;
}
void odnn_op_fini(odnn_op *op) {}
dnnl_memory_t odnn_op_mem(const odnn_op *op, int arg) { return NULL; }
int odnn_op_add_steps(odnn_op *op, timing_seq *s) { return -1; }
void odnn_op_run(odnn_op *op) {}
int odnn_op_n_reorders(const odnn_op *op) { return 0; }
dnnl_primitive_desc_t odnn_conv_fwd_pd(const odnn_env *e, const conv2d_desc *d, int hp, int wp, odnn_layout lay) {
    return NULL;
}
dnnl_primitive_desc_t odnn_conv_bwd_data_pd(const odnn_env *e, const conv2d_desc *d, int hp, int wp, odnn_layout lay,
                                            dnnl_primitive_desc_t *hint) {
    *hint = NULL;
    return NULL;
}
dnnl_primitive_desc_t odnn_conv_bwd_weights_pd(const odnn_env *e, const conv2d_desc *d, int hp, int wp,
                                               odnn_layout lay, dnnl_primitive_desc_t *hint) {
    *hint = NULL;
    return NULL;
}
dnnl_primitive_desc_t odnn_pool_fwd_pd(const odnn_env *e, const pool_desc *d, odnn_layout lay) { return NULL; }
dnnl_primitive_desc_t odnn_pool_bwd_pd(const odnn_env *e, const pool_desc *d, odnn_layout lay,
                                       dnnl_primitive_desc_t *hint) {
    *hint = NULL;
    return NULL;
}
#endif

void odnn_version_str(char *buf, size_t len) {
#if LB_HAVE_ONEDNN
    const dnnl_version_t *v = dnnl_version();
    bool hash = v->hash && strcmp(v->hash, "N/A");
    snprintf(buf, len, "%d.%d.%d%s%s", v->major, v->minor, v->patch, hash ? " " : "", hash ? v->hash : "");
#else
    snprintf(buf, len, "not available on this build");
#endif
}

const char *odnn_runtime_name(void) {
#if LB_HAVE_ONEDNN
    switch (dnnl_version()->cpu_runtime) {
    case DNNL_RUNTIME_OMP: return "omp";
    case DNNL_RUNTIME_SEQ: return "seq";
    case DNNL_RUNTIME_TBB: return "tbb";
    case DNNL_RUNTIME_THREADPOOL: return "threadpool";
    default: return "other";
    }
#else
    return "none";
#endif
}

const char *odnn_effective_isa_name(void) {
#if LB_HAVE_ONEDNN
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_all: return "all";
    default: return "other";
    }
#else
    return "none";
#endif
}

void odnn_match_isa(lb_isa cap) {
#if LB_HAVE_ONEDNN && LB_X86
    const char *env = getenv("LATBENCH_ISA");
    if (env && *env && cap == LB_ISA_AVX2 && !getenv("ONEDNN_MAX_CPU_ISA") && !getenv("DNNL_MAX_CPU_ISA"))
        dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx2);
#else
    (void)cap;
#endif
}

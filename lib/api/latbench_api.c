/* The public C API (include/latbench.h): thin wrappers over the library's rooms, with the
 * bool + error buffer convention and argument checks at the boundary.  Only the latbench_* symbols
 * of this file are exported by the shared library (toolchain/latbench.map, -fvisibility=hidden). */
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "include/latbench.h"
#include "arch/build_info.h"
#include "arch/cpu.h"
#include "arch/profile.h"
#include "arch/registry.h"
#include "lib/io/safetensors.h"
#include "lib/lattice/dataset.h"
#include "lib/nn/netspec.h"
#include "lib/nn/nnio.h"

static bool api_fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* ---- version and build ---- */

const char *latbench_version(void) { return lb_build_version(); }
const char *latbench_build_commit(void) { return lb_build_commit(); }
const char *latbench_build_compiler(void) { return lb_build_compiler(); }
const char *latbench_build_flags(void) { return lb_build_flags(); }

/* ---- dispatch ---- */

/* The checks dispatch_init would end the process on, made first so that a library caller gets false. */
static bool api_check_env(char *err, size_t errlen) {
    if (omp_get_max_threads() > LB_MAX_THREADS)
        return api_fail(err, errlen, "OMP_NUM_THREADS asks for %d threads, more than %d", omp_get_max_threads(),
                        LB_MAX_THREADS);
    const char *env = getenv("LATBENCH_ISA");
    if (!env || !*env) return true;
    const int isa = lb_isa_parse(env);
    if (isa < 0) return api_fail(err, errlen, "LATBENCH_ISA=%s is not one of scalar, avx2, avx512, neon", env);
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    lb_dispatch d;
    char why[128];
    if (!lb_dispatch_build(&d, &cpu, (lb_isa)isa, why, sizeof why))
        return api_fail(err, errlen, "LATBENCH_ISA=%s: %s", env, why);
    return true;
}

bool latbench_init(char *err, size_t errlen) {
    static bool done; /* initialized: the dispatch is made */
    bool ok;
#pragma omp critical(latbench_api_init)
    {
        if (!done && api_check_env(err, errlen)) {
            lb_cpu cpu;
            lb_cpu_detect(&cpu);
            if (lb_profile_startup(&cpu, lb_cpu_cores()) == 0) {
                lb_dispatch_get();
                done = true;
            } else {
                api_fail(err, errlen, "LATBENCH_PROFILE=%s: the tuning profile cannot be used", getenv("LATBENCH_PROFILE"));
            }
        }
        ok = done;
    }
    return ok;
}

const char *latbench_isa(void) { return lb_isa_name(lb_dispatch_get()->cap); }

/* The variants of one op, as (name, isa) pairs: count, and the row i. */
static bool api_op_row(const char *op, int i, int *count, const char **name, lb_isa *isa) {
#define API_OP(o)                                                        \
    if (!strcmp(op, #o)) {                                               \
        const o##_ops *v = lb_##o##_variants(count);                     \
        if (i >= 0 && i < *count) *name = v[i].name, *isa = v[i].isa;    \
        return true;                                                     \
    }
    API_OP(conv2d) API_OP(pool) API_OP(gpool) API_OP(act) API_OP(dense) API_OP(loss) API_OP(optim) API_OP(worm)
#undef API_OP
    return false;
}

const char *latbench_variant(const char *op) {
    if (!op) return NULL;
    const lb_dispatch *d = lb_dispatch_get();
    const char *names[] = {"conv2d", "pool", "gpool", "act", "dense", "loss", "optim", "worm"};
    const char *chosen[] = {d->conv2d->name, d->pool->name, d->gpool->name, d->act->name,
                            d->dense->name,  d->loss->name, d->optim->name, d->worm->name};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (!strcmp(op, names[k])) return chosen[k];
    return NULL;
}

int latbench_variant_count(const char *op) {
    int n = 0;
    const char *name;
    lb_isa isa;
    return op && api_op_row(op, -1, &n, &name, &isa) ? n : 0;
}

const char *latbench_variant_name(const char *op, int i, bool *runs_here) {
    int n = 0;
    const char *name = NULL;
    lb_isa isa = LB_ISA_SCALAR;
    if (!op || !api_op_row(op, i, &n, &name, &isa) || !name) return NULL;
    if (runs_here) {
        const lb_dispatch *d = lb_dispatch_get();
        *runs_here = lb_isa_usable(&d->cpu, d->cap, isa);
    }
    return name;
}

/* ---- kernels ---- */

static bool api_conv2d_desc(const latbench_conv2d_desc *p, conv2d_desc *d, char *err, size_t errlen) {
    if (!p) return api_fail(err, errlen, "conv2d: no descriptor");
    if (p->n < 1 || p->h < 1 || p->w < 1 || p->cin < 1 || p->cout < 1)
        return api_fail(err, errlen, "conv2d: n, h, w, cin and cout must be >= 1 (n=%d h=%d w=%d cin=%d cout=%d)", p->n,
                        p->h, p->w, p->cin, p->cout);
    if (p->kh < 1 || p->kh > 3 || p->kw < 1 || p->kw > 3)
        return api_fail(err, errlen, "conv2d: kernel %dx%d: each side must be 1..3", p->kh, p->kw);
    if (p->sh < 1 || p->sh > 2 || p->sw < 1 || p->sw > 2)
        return api_fail(err, errlen, "conv2d: stride %dx%d: each must be 1 or 2", p->sh, p->sw);
    if (p->bias != 0 && p->bias != 1) return api_fail(err, errlen, "conv2d: bias must be 0 or 1, not %d", p->bias);
    const double elems = (double)p->n * p->h * p->w * (p->cin > p->cout ? p->cin : p->cout);
    if (elems > (double)(1LL << 40)) return api_fail(err, errlen, "conv2d: %.0f elements is too large", elems);
    *d = (conv2d_desc){.n = p->n, .h = p->h, .w = p->w, .cin = p->cin, .cout = p->cout, .kh = p->kh, .kw = p->kw,
                       .sh = p->sh, .sw = p->sw, .bias = p->bias};
    return true;
}

static conv2d_desc api_desc_or_zero(const latbench_conv2d_desc *p) {
    conv2d_desc d = {0};
    return api_conv2d_desc(p, &d, NULL, 0) ? d : (conv2d_desc){0};
}
size_t latbench_conv2d_in_size(const latbench_conv2d_desc *p) {
    const conv2d_desc d = api_desc_or_zero(p);
    return conv2d_in_size(&d);
}
size_t latbench_conv2d_out_size(const latbench_conv2d_desc *p) {
    const conv2d_desc d = api_desc_or_zero(p);
    return d.sh ? conv2d_out_size(&d) : 0;
}
size_t latbench_conv2d_w_size(const latbench_conv2d_desc *p) {
    const conv2d_desc d = api_desc_or_zero(p);
    return conv2d_w_size(&d);
}

bool latbench_conv2d_fwd(const latbench_conv2d_desc *p, const float *in, const float *w, const float *bias, float *out,
                         char *err, size_t errlen) {
    conv2d_desc d;
    if (!api_conv2d_desc(p, &d, err, errlen)) return false;
    if (!in || !w || !out || (d.bias && !bias)) return api_fail(err, errlen, "conv2d fwd: a NULL tensor");
    lb_dispatch_get()->conv2d->fwd(&d, in, w, d.bias ? bias : NULL, out);
    return true;
}

bool latbench_conv2d_bwd_data(const latbench_conv2d_desc *p, const float *gout, const float *w, float *gin, char *err,
                              size_t errlen) {
    conv2d_desc d;
    if (!api_conv2d_desc(p, &d, err, errlen)) return false;
    if (!gout || !w || !gin) return api_fail(err, errlen, "conv2d bwd_data: a NULL tensor");
    float *wt = malloc(conv2d_w_size(&d) * sizeof *wt);
    if (!wt) return api_fail(err, errlen, "conv2d bwd_data: out of memory");
    conv2d_weights_transpose(&d, w, wt);
    lb_dispatch_get()->conv2d->bwd_data(&d, gout, wt, gin);
    free(wt);
    return true;
}

bool latbench_conv2d_bwd_weights(const latbench_conv2d_desc *p, const float *in, const float *gout, float *gw,
                                 float *gb, char *err, size_t errlen) {
    conv2d_desc d;
    if (!api_conv2d_desc(p, &d, err, errlen)) return false;
    if (!in || !gout || !gw) return api_fail(err, errlen, "conv2d bwd_weights: a NULL tensor");
    lb_dispatch_get()->conv2d->bwd_weights(&d, in, gout, gw, d.bias ? gb : NULL);
    return true;
}

void latbench_lrelu(size_t n, float slope, const float *x, float *y) { lb_dispatch_get()->act->lrelu_fwd(n, slope, x, y); }
void latbench_sigmoid(size_t n, const float *x, float *y) { lb_dispatch_get()->act->sigmoid_fwd(n, x, y); }

/* ---- model runtime ---- */

struct latbench_model {
    nn_model *m;
    int nt, nx;
};

/* The net: the spec text given, else the one stored in the file. */
static bool api_model_spec(const io_st_file *f, const char *path, const char *spec, net_spec *out, char *err,
                           size_t errlen) {
    const char *text = spec ? spec : io_safetensors_meta(f, "spec");
    if (!text) return api_fail(err, errlen, "%s: no spec in the file's metadata (pass the spec text)", path);
    char why[256];
    if (!netspec_parse(text, out, why, sizeof why)) return api_fail(err, errlen, "%s: spec: %s", path, why);
    return true;
}

latbench_model *latbench_model_load(const char *path, const char *spec, int nt, int nx, int batch, int threads,
                                    char *err, size_t errlen) {
    if (!path) return api_fail(err, errlen, "model: no path"), NULL;
    if (nt < 2 || nt > 4096 || nx < 2 || nx > 4096 || batch < 1 || batch > (1 << 20))
        return api_fail(err, errlen, "%s: lattice %dx%d or batch %d out of range (2..4096, 1..%d)", path, nt, nx, batch,
                        1 << 20), NULL;
    if (!latbench_init(err, errlen)) return NULL;
    io_st_file f;
    if (!io_safetensors_read(path, &f, err, errlen)) return NULL;
    net_spec ns;
    latbench_model *r = NULL;
    if (api_model_spec(&f, path, spec, &ns, err, errlen)) {
        nn_model *m = nn_model_create(&ns, nt, nx, batch, threads > 0 ? threads : 1, false, err, errlen);
        if (m && nn_model_load_params(m, &f, err, errlen)) {
            if ((r = malloc(sizeof *r))) *r = (latbench_model){.m = m, .nt = nt, .nx = nx}, m = NULL;
            else api_fail(err, errlen, "%s: out of memory", path);
        }
        nn_model_free(m);
    }
    io_safetensors_free(&f);
    return r;
}

int latbench_model_outputs(const latbench_model *m) { return m ? nn_model_outputs(m->m) : 0; }

bool latbench_model_forward(latbench_model *m, const int16_t *x, int n, float *y, char *err, size_t errlen) {
    if (!m || !x || !y) return api_fail(err, errlen, "model forward: a NULL argument");
    if (n < 1 || n > nn_model_batch(m->m))
        return api_fail(err, errlen, "model forward: %d samples, the model takes 1..%d", n, nn_model_batch(m->m));
    nn_model_set_input(m->m, x, NULL, n);
    const float *out = nn_model_forward(m->m, n);
    memcpy(y, out, (size_t)n * nn_model_outputs(m->m) * sizeof *y);
    return true;
}

void latbench_model_free(latbench_model *m) {
    if (!m) return;
    nn_model_free(m->m);
    free(m);
}

/* ---- worm sampler ---- */

latbench_sampler_params latbench_sampler_defaults(void) {
    return (latbench_sampler_params){.nt = 8, .nx = 8, .eta = 4.01, .lambda = 1.0, .mu = 1.0, .count = 1, .chains = 16,
                                     .therm = 2000, .threads = 0, .seed = 1};
}

typedef struct {
    int16_t *x;
    size_t per;
} api_xstore;

static bool api_store_x(void *ctx, long index, const int16_t *x, char *err, size_t errlen) {
    const api_xstore *s = ctx;
    memcpy(s->x + (size_t)index * s->per, x, s->per * sizeof *x);
    return true;
}

bool latbench_sample(const latbench_sampler_params *p, int16_t *x, float *y, char *err, size_t errlen) {
    if (!p || !x) return api_fail(err, errlen, "sampler: a NULL argument");
    if (p->nt < 2 || p->nt > 4096 || p->nx < 2 || p->nx > 4096)
        return api_fail(err, errlen, "sampler: lattice %dx%d: each side must be 2..4096", p->nt, p->nx);
    if (p->count < 1 || p->count > (1L << 40)) return api_fail(err, errlen, "sampler: count %ld must be >= 1", p->count);
    if (!latbench_init(err, errlen)) return false;
    float *ys = y ? y : malloc((size_t)p->count * 2 * sizeof *ys);
    if (!ys) return api_fail(err, errlen, "sampler: out of memory");
    api_xstore xs = {.x = x, .per = (size_t)4 * p->nt * p->nx};
    const lat_gen_opts o = {.task = LAT_TASK_REGRESSION, .nt = p->nt, .nx = p->nx, .npoints = 1, .eta = &p->eta,
                            .lambda = &p->lambda, .mu = &p->mu, .count = p->count,
                            .chains = p->chains > 0 ? p->chains : 16, .threads = p->threads > 0 ? p->threads : 0,
                            .therm = p->therm > 0 ? p->therm : 2000, .fmax = LAT_FMAX_DEFAULT, .tau_factor = 2.0,
                            .seed = p->seed, .store = api_store_x, .ctx = &xs, .y = ys};
    lat_gen_point pt;
    const bool ok = lat_generate_check(&o, err, errlen) && lat_generate(&o, &pt, err, errlen);
    if (!y) free(ys);
    return ok;
}

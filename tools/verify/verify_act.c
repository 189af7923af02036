/* Activation verifier: LeakyReLU (slope 0.01) and sigmoid, forward and backward.  Every runnable
 * variant vs the scalar reference (out of place, and in place: y == x, gx == gy; the reference's
 * own in-place result is checked too), every variant (the reference included) vs oneDNN eltwise
 * (relu with alpha = slope; logistic_use_dst_for_bwd, whose backward takes y like ours).
 * Inputs: mostly uniform in [-16, 16], every 4th element wide (|x| < 110, the denormal and
 * clamping range of exp) and every 4th a special value (0, -0, +-1e30, +-inf, +-100, FLT_MAX,
 * denormals, the edges of expf's range), so short n and the vector tails see them too.
 * LeakyReLU is exact.  Sigmoid: relative 1e-6 (measured: 1.7e-7 against double precision) with an
 * absolute floor of 3 denormal ulps, where relative precision does not exist. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify_ops.h"

/* vf_compare, except that identical values pass: lrelu(+-inf) = +-inf, where |inf - inf| is NaN. */
static bool compare(const float *got, const float *want, size_t n, double rtol, double atol, char *detail, size_t len) {
    size_t bad = 0, worst = 0;
    double worst_excess = -1;
    for (size_t i = 0; i < n; i++) {
        if (got[i] == want[i] || (isnan(got[i]) && isnan(want[i]))) continue;
        double err = fabs((double)got[i] - want[i]), lim = atol + rtol * fabs((double)want[i]);
        if (err <= lim) continue;
        bad++;
        double excess = isnan(err) || isinf(err) ? INFINITY : err - lim;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (bad)
        snprintf(detail, len, "%zu of %zu elements differ; worst at %zu: got %.9g, want %.9g (rtol %g, atol %g)", bad, n,
                 worst, got[worst], want[worst], rtol, atol);
    return bad == 0;
}

static void check(vf_report *r, const char *desc, const float *got, const float *want, size_t n, double rtol, double atol) {
    char detail[256] = "";
    const bool ok = compare(got, want, n, rtol, atol, detail, sizeof detail);
    vf_record_guarded(r, desc, ok, detail, sizeof detail, got, n);
}

/* The checks: each function (lrelu, sigmoid) forward and backward, check k = 2 * fn + pass. */
enum { LRELU, SIGMOID, N_FNS };
#define N_CHECKS (2 * N_FNS)
static const char *const fn_name[N_FNS] = {"lrelu", "sigmoid"};
static lb_pass check_pass(int k) { return k % 2 ? LB_PASS_BWD_DATA : LB_PASS_FWD; }
static const float SLOPE = 0.01f;
#define SIG_RTOL 1e-6
#define SIG_ATOL 4.3e-45   /* 3 * 2^-149 */

/* Runs check k of variant v.  a: the primary input (x, or y for sigmoid_bwd), gy: the incoming
 * gradient (bwd).  In place: out already holds a copy of the operand it overwrites. */
static void run_pass(const act_ops *v, int k, size_t n, const float *a, const float *gy, float *out, bool inplace) {
    const bool fwd = check_pass(k) == LB_PASS_FWD;
    if (k / 2 == LRELU) {
        if (fwd) v->lrelu_fwd(n, SLOPE, inplace ? out : a, out);
        else v->lrelu_bwd(n, SLOPE, a, inplace ? out : gy, out);
    } else {
        if (fwd) v->sigmoid_fwd(n, inplace ? out : a, out);
        else v->sigmoid_bwd(n, a, inplace ? out : gy, out);
    }
}

/* "lrelu_fwd/n64/avx2" and the like. */
static void check_desc(char *buf, size_t len, int k, const char *prob, const char *variant, const char *suffix) {
    snprintf(buf, len, "%s_%s/%s/%s%s", fn_name[k / 2], lb_pass_name_unsplit(check_pass(k)), prob, variant, suffix);
}

/* ---- oneDNN eltwise ---- */
#if LB_HAVE_ONEDNN
typedef struct {
    dnnl_primitive_desc_t fpd, bpd;
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t m[5];
} dnnl_elt_res;

/* Forward x -> y and backward gy -> gx; the backward reads x (relu) or y_bwd (logistic from dst),
 * so both backward implementations see the same operands. */
static bool onednn_eltwise(vf_report *r, dnnl_elt_res *z, bool sigmoid, size_t n, const float *x, float *y,
                           const float *y_bwd, const float *gy, float *gx) {
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {(dnnl_dim_t)n};
    dnnl_alg_kind_t alg = sigmoid ? dnnl_eltwise_logistic_use_dst_for_bwd : dnnl_eltwise_relu;
    float alpha = sigmoid ? 0.0f : SLOPE;
    VF_DNNL(dnnl_memory_desc_init_by_tag(&md, 1, dims, dnnl_f32, dnnl_a));
    dnnl_eltwise_desc_t fd, bd;
    VF_DNNL(dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, alg, &md, alpha, 0.0f));
    VF_DNNL(dnnl_primitive_desc_create(&z->fpd, &fd, NULL, r->engine, NULL));
    VF_DNNL(dnnl_primitive_create(&z->fwd, z->fpd));
    VF_DNNL(dnnl_memory_create(&z->m[0], &md, r->engine, (void *)x));
    VF_DNNL(dnnl_memory_create(&z->m[1], &md, r->engine, y));
    dnnl_exec_arg_t fargs[2] = {{DNNL_ARG_SRC, z->m[0]}, {DNNL_ARG_DST, z->m[1]}};
    VF_DNNL(dnnl_primitive_execute(z->fwd, r->stream, 2, fargs));
    VF_DNNL(dnnl_stream_wait(r->stream));
    VF_DNNL(dnnl_eltwise_backward_desc_init(&bd, alg, &md, &md, alpha, 0.0f));
    VF_DNNL(dnnl_primitive_desc_create(&z->bpd, &bd, NULL, r->engine, z->fpd));
    VF_DNNL(dnnl_primitive_create(&z->bwd, z->bpd));
    VF_DNNL(dnnl_memory_create(&z->m[2], &md, r->engine, (void *)gy));
    VF_DNNL(dnnl_memory_create(&z->m[3], &md, r->engine, gx));
    VF_DNNL(dnnl_memory_create(&z->m[4], &md, r->engine, (void *)y_bwd));
    dnnl_exec_arg_t bargs[3] = {{sigmoid ? DNNL_ARG_DST : DNNL_ARG_SRC, sigmoid ? z->m[4] : z->m[0]},
                                {DNNL_ARG_DIFF_DST, z->m[2]},
                                {DNNL_ARG_DIFF_SRC, z->m[3]}};
    VF_DNNL(dnnl_primitive_execute(z->bwd, r->stream, 3, bargs));
    VF_DNNL(dnnl_stream_wait(r->stream));
    return true;
}

static bool run_onednn(vf_report *r, bool sigmoid, size_t n, const float *x, float *y, const float *y_bwd,
                       const float *gy, float *gx) {
    dnnl_elt_res z;
    memset(&z, 0, sizeof z);
    bool ok = onednn_eltwise(r, &z, sigmoid, n, x, y, y_bwd, gy, gx);
    for (int i = 0; i < 5; i++)
        if (z.m[i]) dnnl_memory_destroy(z.m[i]);
    if (z.fwd) dnnl_primitive_destroy(z.fwd);
    if (z.bwd) dnnl_primitive_destroy(z.bwd);
    if (z.fpd) dnnl_primitive_desc_destroy(z.fpd);
    if (z.bpd) dnnl_primitive_desc_destroy(z.bpd);
    return ok;
}
#else
static bool run_onednn(vf_report *r, bool sigmoid, size_t n, const float *x, float *y, const float *y_bwd,
                       const float *gy, float *gx) {
    return false; /* unreachable: r->onednn is false without oneDNN */
}
#endif

static void fill_inputs(float *x, size_t n, uint64_t seed) {
    static const float special[] = {0.0f, -0.0f, 100.0f, -100.0f, 1e30f, -1e30f, INFINITY, -INFINITY,
                                    FLT_MAX, -FLT_MAX, 88.72f, -88.72f, 87.0f, -87.0f, 103.9f, -103.9f,
                                    104.5f, -104.5f, 1e-30f, -1e-30f, 1e-40f, -1e-40f, 20.0f, -20.0f};
    const size_t ns = sizeof special / sizeof special[0];
    vf_fill_uniform(x, n, seed, -16.0f, 16.0f);
    float w[64];
    for (size_t i = 0; i < n; i += 64) {
        vf_fill_uniform(w, 64, seed + i, -110.0f, 110.0f);
        for (size_t j = i; j < n && j < i + 64; j++) {
            if (j % 4 == 3) x[j] = special[(j / 4) % ns];
            else if (j % 4 == 1) x[j] = w[j - i];
        }
    }
}

void verify_act(vf_report *r, size_t n) {
    char prob[64], prob_ip[64];
    snprintf(prob, sizeof prob, "n%zu", n);
    snprintf(prob_ip, sizeof prob_ip, "n%zu_inplace", n);
    float *x = vf_buf_alloc(n, false), *gy = vf_buf_alloc(n, false), *ysig = vf_buf_alloc(n, false);
    float *out = vf_buf_alloc(n, true);
    float *ref[N_CHECKS], *dn[N_CHECKS] = {NULL, NULL, NULL, NULL};
    fill_inputs(x, n, 0xac7 + n);
    vf_fill_uniform(gy, n, 0xbeef + n, -2.0f, 2.0f);
    act_sigmoid_fwd__scalar(n, x, ysig);   /* the y that sigmoid_bwd consumes */
    const act_ops *scal = NULL;
    int nv;
    const act_ops *vs = lb_act_variants(&nv);
    for (int i = 0; i < nv; i++)
        if (vs[i].isa == LB_ISA_SCALAR) scal = &vs[i];
    const int sigmoid_bwd = 2 * SIGMOID + 1;
    for (int p = 0; p < N_CHECKS; p++) {
        ref[p] = vf_buf_alloc(n, true);
        run_pass(scal, p, n, p == sigmoid_bwd ? ysig : x, gy, ref[p], false);
    }

    char desc[160];
    bool want_dn[2] = {false, false};   /* lrelu, sigmoid */
    if (r->onednn && n > 0)
        for (int i = 0; i < nv; i++)
            for (int p = 0; p < N_CHECKS; p++) {
                check_desc(desc, sizeof desc, p, prob, vs[i].name, "@onednn");
                want_dn[p / 2] |= vf_wanted(r, desc);
            }
    bool dn_ok[2] = {false, false};
    for (int s = 0; s < 2; s++)
        if (want_dn[s]) {
            dn[2 * s] = vf_alloc(n);
            dn[2 * s + 1] = vf_alloc(n);
            dn_ok[s] = run_onednn(r, s, n, x, dn[2 * s], ysig, gy, dn[2 * s + 1]);
        }

    for (int i = 0; i < nv; i++) {
        const act_ops *v = &vs[i];
        if (!vf_variant_runnable(r, "act", v->name, v->isa)) continue;
        const bool is_ref = v->isa == LB_ISA_SCALAR;
        for (int p = 0; p < N_CHECKS; p++) {
            const bool sig = p / 2 == SIGMOID;
            const double rtol = sig ? SIG_RTOL : 0, atol = sig ? SIG_ATOL : 0;
            const float *a = p == sigmoid_bwd ? ysig : x;
            char d_ref[160], d_dn[160], d_ip[160];
            check_desc(d_ref, sizeof d_ref, p, prob, v->name, "");
            check_desc(d_dn, sizeof d_dn, p, prob, v->name, "@onednn");
            check_desc(d_ip, sizeof d_ip, p, prob_ip, v->name, "");
            bool w_ref = !is_ref && vf_wanted(r, d_ref), w_dn = want_dn[sig] && vf_wanted(r, d_dn);
            if (w_ref || w_dn) {
                vf_poison(out, n);
                run_pass(v, p, n, a, gy, out, false);
                if (w_ref) check(r, d_ref, out, ref[p], n, rtol, atol);
                if (w_dn) {
                    if (!dn_ok[sig]) vf_record(r, d_dn, false, "oneDNN eltwise failed (see stderr)");
                    /* oneDNN's logistic has its own exp (measured: 4.5e-7 relative), and flushes
                     * results below ~1.7e-38 (x < -86.99) to zero */
                    else check(r, d_dn, out, dn[p], n, sig ? 4 * SIG_RTOL : 0, sig ? 0x1p-125 : 0);
                }
            }
            if (vf_wanted(r, d_ip)) {
                memcpy(out, check_pass(p) == LB_PASS_FWD ? x : gy, n * sizeof *out);
                run_pass(v, p, n, a, gy, out, true);
                check(r, d_ip, out, ref[p], n, rtol, atol);
            }
        }
    }
    for (int p = 0; p < N_CHECKS; p++) {
        vf_buf_free(ref[p]);
        free(dn[p]);
    }
    vf_buf_free(x); vf_buf_free(gy); vf_buf_free(ysig); vf_buf_free(out);
}

/* Verifier for the losses (value and gradient): every variant vs the scalar reference, and every
 * variant (the reference included) vs the closed form evaluated in double here.
 *
 * Tolerances, relative to float's 2^-23 ~ 1.2e-7:
 *   value  rtol 1e-6 (~8 ulp).  The per-element terms are float (exp/log1p within ~2 ulp in every
 *          variant) and nonnegative for targets in [0,1], and the sum is double, so the mean is
 *          within a few ulp.  atol 1e-37 only for results in the subnormal range.
 *   grad   rtol 1e-6 and atol 4 eps / count: sigmoid(z) - t with a soft target t near sigmoid(z)
 *          cancels, leaving an absolute error of about one ulp of 1 before the 1/count scaling.
 *          MSE's gradient is d * (2/count) in every variant, checked at 1 ulp.
 * Mean over zero elements is NaN (as PyTorch's); count 0 checks that and that no gradient is
 * written.  Kernel arguments are misaligned, inputs end at the end of their allocation, and
 * gradients are prefilled with NaN and followed by guard floats that must stay as they were
 * (vf_buf_alloc, vf_poison).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify_ops.h"

enum { L_MSE, L_BCE, N_LOSS };
static const char *const loss_name[N_LOSS] = {"mse", "bce_logits"};

static loss_fn *loss_of(const loss_ops *v, int which) { return which == L_MSE ? v->mse : v->bce_logits; }

/* Inputs for one problem.  BCE "n<count>": logits mostly in [-12, 12], every 16th huge (|z| up to
 * 1e30) with the matching hard label (loss ~0, but naive log(1+exp(z)) overflows), exact zeros,
 * and targets hard (0/1) or soft.  "n<count>_wide": |z| log-uniform in [1e-3, 1e30], either sign,
 * hard random targets: many confidently wrong predictions, loss dominated by the linear part. */
static void fill_inputs(int which, int wide, size_t n, float *p, float *t) {
    vf_fill_uniform(p, n, 0x51 + n + (uint64_t)which, -12.0f, 12.0f);
    vf_fill_uniform(t, n, 0x52 + n + (uint64_t)which, 0.0f, 1.0f);
    if (which == L_MSE) {
        for (size_t k = 0; k < n; k++) t[k] = 3.0f * t[k] - 1.5f;
        return;
    }
    for (size_t k = 0; k < n; k++) {
        if (wide) {
            const float mag = powf(10.0f, -3.0f + 33.0f * t[k]);
            p[k] = (k % 3 == 0 ? -mag : mag);
            t[k] = (k * 7 % 5) < 2 ? 1.0f : 0.0f;
            continue;
        }
        if (k % 16 == 5) p[k] = (k & 32) ? 1e30f : -3e29f, t[k] = p[k] > 0 ? 1.0f : 0.0f;
        else if (k % 16 == 9) p[k] = 0.0f;
        else if (k % 4 == 1) t[k] = t[k] < 0.5f ? 0.0f : 1.0f;
    }
}

/* Closed form in double: value, and gradient into g (as float). */
static double closed_form(int which, size_t n, const float *p, const float *t, float *g) {
    double acc = 0;
    for (size_t k = 0; k < n; k++) {
        const double z = p[k], y = t[k];
        if (which == L_MSE) {
            acc += (z - y) * (z - y);
            g[k] = (float)(2.0 * (z - y) / (double)n);
        } else {
            acc += (z > 0 ? z : 0) - z * y + log1p(exp(-fabs(z)));
            const double e = exp(-fabs(z)), er = e / (1.0 + e); /* sigmoid(z) - y without cancelling 1 - s */
            g[k] = (float)((z >= 0 ? (1.0 - y) - er : er - y) / (double)n);
        }
    }
    return acc / (double)n;
}

static bool check(float got, const float *gg, double want, const float *wg, size_t n, int which, bool exact_grad,
                  char *detail, size_t len) {
    const size_t past = vf_guard_breach(gg, n);
    if (past) {
        snprintf(detail, len, "grad: wrote %zu element(s) past its end", past);
        return false;
    }
    if (n == 0) {
        if (isnan(got)) return true;
        snprintf(detail, len, "mean over 0 elements: got %.9g, want NaN", got);
        return false;
    }
    if (!(fabs(got - want) <= 1e-37 + 1e-6 * fabs(want))) {
        snprintf(detail, len, "value: got %.9g, want %.9g (rtol 1e-6)", got, want);
        return false;
    }
    char sub[240];
    const double rtol = which == L_MSE ? (exact_grad ? FLT_EPSILON : 1e-6) : 1e-6;
    const double atol = which == L_MSE ? 0.0 : 4.0 * FLT_EPSILON / (double)n;
    if (vf_compare(gg, wg, n, rtol, atol, sub, sizeof sub)) return true;
    snprintf(detail, len, "grad: %s", sub);
    return false;
}

/* verify_loss over an explicit variant list (tests inject broken variants through this). */
void verify_loss_variants(vf_report *r, size_t count, const loss_ops *vars, int nvars) {
    char prob[48], desc[160], detail[320];
    float *p = vf_buf_alloc(count, false), *t = vf_buf_alloc(count, false), *g = vf_buf_alloc(count, true);
    float *g_ref = vf_alloc(count), *g_dbl = vf_alloc(count);
    for (int which = 0; which < N_LOSS; which++)
        for (int wide = 0; wide <= (which == L_BCE); wide++) {
            snprintf(prob, sizeof prob, "n%zu%s", count, wide ? "_wide" : "");
            fill_inputs(which, wide, count, p, t);
            const double want = closed_form(which, count, p, t, g_dbl);
            loss_fn *ref = which == L_MSE ? loss_mse__scalar : loss_bce_logits__scalar;
            const float v_ref = ref(count, p, t, g_ref);
            for (int i = 0; i < nvars; i++) {
                const loss_ops *v = &vars[i];
                if (!vf_variant_runnable(r, "loss", v->name, v->isa)) continue;
                loss_fn *fn = loss_of(v, which);
                snprintf(desc, sizeof desc, "loss_%s/%s/%s", loss_name[which], prob, v->name);
                const bool want_s = fn != ref && vf_wanted(r, desc);
                char desc_d[180];
                snprintf(desc_d, sizeof desc_d, "%s@double", desc);
                const bool want_d = vf_wanted(r, desc_d);
                if (!want_s && !want_d) continue;
                vf_poison(g, count);
                const float got = fn(count, p, t, g);
                if (want_s) vf_record(r, desc, check(got, g, v_ref, g_ref, count, which, true, detail, sizeof detail), detail);
                if (want_d)
                    vf_record(r, desc_d, check(got, g, want, g_dbl, count, which, false, detail, sizeof detail), detail);
                /* without a gradient buffer the value must be the same */
                const float got2 = fn(count, p, t, NULL);
                if (!(got == got2 || (isnan(got) && isnan(got2)))) {
                    snprintf(detail, sizeof detail, "value without grad %.9g differs from value with grad %.9g", got2, got);
                    vf_record(r, want_d ? desc_d : desc, false, detail);
                }
            }
        }
    vf_buf_free(p);
    vf_buf_free(t);
    free(g_ref);
    free(g_dbl);
    vf_buf_free(g);
}

void verify_loss(vf_report *r, size_t count) {
    int n;
    const loss_ops *vars = lb_loss_variants(&n);
    verify_loss_variants(r, count, vars, n);
}

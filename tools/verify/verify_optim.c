/* Verifier for AdamW (amsgrad on and off, weight decay 0 and 0.01), over STEPS consecutive steps
 * from a fresh state (m = v = vmax = 0), the state (param, m, v, vmax) compared after every step.
 *
 * vs scalar: bit-exact (rtol 0, atol 0).  Every variant performs the same IEEE float operations
 *   in the same order (optim.h's formula, the step scalars computed in double then rounded to
 *   float, no FMA contraction), and add/mul/div/sqrt are correctly rounded on every ISA, so any
 *   difference at all means a reordered or fused operation, i.e. a kernel that no longer follows
 *   the reference.
 * vs double (every variant, the reference included): the same recurrences in double from the same
 *   float start, hyperparameters taken as the doubles of the float ones.  Float rounding adds a
 *   few ulp per step, so after STEPS steps:
 *     param       |err| <= 1e-6 (1 + |p|)              (~8 ulp of max(1,|p|); updates are ~lr)
 *     m           |err| <= 1e-5 |m| + 1e-6 max_t|g|    (m = b1 m + (1-b1) g can cancel)
 *     v, vmax     |err| <= 1e-5 |v| + 1e-37            (sums of nonnegative terms)
 * Gradients mix magnitudes (0, ~1e-3, ~1, ~100) and shrink for half the elements after step 2,
 * so that amsgrad's vmax departs from v.  Kernel arguments are misaligned; the gradient ends at
 * the end of its allocation and the state is followed by guard floats that must stay untouched
 * (vf_buf_alloc).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify_ops.h"

enum { STEPS = 5, NS = 4 };
static const char *const state_name[NS] = {"param", "m", "v", "vmax"};

static double *dalloc(size_t n) {
    double *p = malloc((n ? n : 1) * sizeof(double));
    if (!p) {
        fprintf(stderr, "latbench: out of memory\n");
        exit(1);
    }
    return p;
}

static void make_grad(float *g, size_t n, int step) {
    vf_fill_uniform(g, n, 0x0a11 + 977 * (uint64_t)step + n, -1.0f, 1.0f);
    for (size_t k = 0; k < n; k++) {
        if (k % 7 == 0) g[k] = 0.0f;
        else if (k % 11 == 3) g[k] *= 1e-3f;
        else if (k % 13 == 4) g[k] *= 100.0f;
        if (step >= 2 && k % 2 == 0) g[k] *= 0.05f;
    }
}

/* One step in double, optim.h's formula. */
static void step_double(const optim_adamw_params *hp, size_t n, double *p, const float *g, double *m, double *v, double *vm) {
    const double b1 = hp->beta1, b2 = hp->beta2, lr = hp->lr, eps = hp->eps;
    const double bc1 = 1.0 - pow(b1, (double)hp->step), bc2 = 1.0 - pow(b2, (double)hp->step);
    for (size_t k = 0; k < n; k++) {
        p[k] *= 1.0 - lr * hp->weight_decay;
        m[k] += (g[k] - m[k]) * (1.0 - b1);
        v[k] = b2 * v[k] + (1.0 - b2) * (double)g[k] * g[k];
        vm[k] = vm[k] > v[k] ? vm[k] : v[k];
        const double denom = sqrt(hp->amsgrad ? vm[k] : v[k]) / sqrt(bc2) + eps;
        p[k] -= lr / bc1 * m[k] / denom;
    }
}

static bool near_double(const float *got, const double *want, size_t n, int which, const float *gmax, char *detail,
                        size_t len) {
    for (size_t k = 0; k < n; k++) {
        const double w = want[k], err = fabs(got[k] - w);
        const double tol = which == 0 ? 1e-6 * (1.0 + fabs(w)) : which == 1 ? 1e-5 * fabs(w) + 1e-6 * gmax[k]
                                                                            : 1e-5 * fabs(w) + 1e-37;
        if (!(err <= tol)) {
            snprintf(detail, len, "%s[%zu]: got %.9g, want %.12g (tol %.3g)", state_name[which], k, got[k], w, tol);
            return false;
        }
    }
    return true;
}

/* The buffers of a run: the start, the gradients of every step, and the states (params, m, v,
 * vmax) of the variant under test (st: guarded), of the double formula (dst) and, after every step,
 * of the scalar reference (ref) and of the double formula (dref). */
typedef struct {
    size_t n;
    float *p0, *grad[STEPS], *gmax;
    float *st[NS], *ref[STEPS][NS];
    double *dst[NS], *dref[STEPS][NS];
} optim_bufs;

static void bufs_alloc(optim_bufs *b, size_t n) {
    b->n = n;
    b->p0 = vf_alloc(n), b->gmax = vf_alloc(n);
    vf_fill_uniform(b->p0, n, 0x0b22 + n, -1.0f, 1.0f);
    for (int s = 0; s < STEPS; s++) {
        b->grad[s] = vf_buf_alloc(n, false);
        make_grad(b->grad[s], n, s);
        for (size_t k = 0; k < n; k++) b->gmax[k] = fmaxf(b->gmax[k], fabsf(b->grad[s][k]));
        for (int j = 0; j < NS; j++) {
            b->ref[s][j] = vf_alloc(n);
            b->dref[s][j] = dalloc(n);
        }
    }
    for (int j = 0; j < NS; j++) {
        b->st[j] = vf_buf_alloc(n, true);
        b->dst[j] = dalloc(n);
    }
}

static void bufs_free(optim_bufs *b) {
    for (int s = 0; s < STEPS; s++) {
        vf_buf_free(b->grad[s]);
        for (int j = 0; j < NS; j++) {
            free(b->ref[s][j]);
            free(b->dref[s][j]);
        }
    }
    for (int j = 0; j < NS; j++) {
        vf_buf_free(b->st[j]);
        free(b->dst[j]);
    }
    free(b->p0);
    free(b->gmax);
}

/* The trajectories of the scalar reference and of the double formula into ref and dref. */
static void reference_steps(optim_bufs *b, optim_adamw_params hp, int ams) {
    const size_t n = b->n;
    memcpy(b->st[0], b->p0, n * sizeof(float));
    for (size_t k = 0; k < n; k++) b->dst[0][k] = b->p0[k];
    for (int j = 1; j < NS; j++) {
        memset(b->st[j], 0, n * sizeof(float));
        memset(b->dst[j], 0, n * sizeof(double));
    }
    for (int s = 0; s < STEPS; s++) {
        hp.step = s + 1;
        optim_adamw_step__scalar(&hp, n, b->st[0], b->grad[s], b->st[1], b->st[2], ams ? b->st[3] : NULL);
        step_double(&hp, n, b->dst[0], b->grad[s], b->dst[1], b->dst[2], b->dst[3]);
        for (int j = 0; j < NS; j++) {
            memcpy(b->ref[s][j], b->st[j], n * sizeof(float));
            memcpy(b->dref[s][j], b->dst[j], n * sizeof(double));
        }
    }
}

/* Variant v over every step against the scalar reference (bit for bit: desc) and the double formula
 * (within tolerance: desc_d); the first problem of each into det_s and det_d. */
static void check_steps(const optim_bufs *b, const optim_ops *v, optim_adamw_params hp, int ams, bool *ok_s, bool *ok_d,
                        char det_s[320], char det_d[320]) {
    const size_t n = b->n;
    const int nst = ams ? NS : NS - 1; /* vmax only with amsgrad (NULL otherwise) */
    char detail[320], sub[240];
    for (int j = 0; j < NS; j++) {
        if (j == 0) memcpy(b->st[0], b->p0, n * sizeof(float));
        else memset(b->st[j], 0, n * sizeof(float));
        vf_guard_arm(b->st[j], n);
    }
    for (int s = 0; s < STEPS && (*ok_s || *ok_d); s++) {
        hp.step = s + 1;
        v->adamw_step(&hp, n, b->st[0], b->grad[s], b->st[1], b->st[2], ams ? b->st[3] : NULL);
        for (int j = 0; j < nst; j++) {
            if (!vf_guard_intact(b->st[j], n)) {
                snprintf(detail, sizeof detail, "step %d: %s: wrote past its end", s + 1, state_name[j]);
                if (*ok_s) snprintf(det_s, 320, "%s", detail);
                if (*ok_d) snprintf(det_d, 320, "%s", detail);
                *ok_s = *ok_d = false;
            }
            if (*ok_s && !vf_compare(b->st[j], b->ref[s][j], n, 0.0, 0.0, sub, sizeof sub)) {
                snprintf(det_s, 320, "step %d: %s: %s", s + 1, state_name[j], sub);
                *ok_s = false;
            }
            if (*ok_d && !near_double(b->st[j], b->dref[s][j], n, j, b->gmax, sub, sizeof sub)) {
                snprintf(det_d, 320, "step %d: %s", s + 1, sub);
                *ok_d = false;
            }
        }
    }
}

/* verify_optim over an explicit variant list (tests inject broken variants through this). */
void verify_optim_variants(vf_report *r, size_t n, const optim_ops *vars, int nvars) {
    char prob[64], desc[160], desc_d[180];
    optim_bufs b;
    bufs_alloc(&b, n);
    for (int ams = 0; ams <= 1; ams++)
        for (int wdi = 0; wdi <= 1; wdi++) {
            optim_adamw_params hp = optim_adamw_defaults();
            hp.amsgrad = ams;
            hp.weight_decay = wdi ? 0.01f : 0.0f;
            snprintf(prob, sizeof prob, "n%zu_amsgrad%d_wd%g", n, ams, (double)hp.weight_decay);
            reference_steps(&b, hp, ams);
            for (int i = 0; i < nvars; i++) {
                const optim_ops *v = &vars[i];
                if (!vf_variant_runnable(r, "optim", v->name, v->isa)) continue;
                snprintf(desc, sizeof desc, "adamw/%s/%s", prob, v->name);
                snprintf(desc_d, sizeof desc_d, "%s@double", desc);
                const bool want_s = v->adamw_step != optim_adamw_step__scalar && vf_wanted(r, desc);
                const bool want_d = vf_wanted(r, desc_d);
                if (!want_s && !want_d) continue;
                bool ok_s = true, ok_d = true;
                char det_s[320] = "", det_d[320] = "";
                check_steps(&b, v, hp, ams, &ok_s, &ok_d, det_s, det_d);
                if (want_s) vf_record(r, desc, ok_s, det_s);
                if (want_d) vf_record(r, desc_d, ok_d, det_d);
            }
        }
    bufs_free(&b);
}

void verify_optim(vf_report *r, size_t n) {
    int nv;
    const optim_ops *vars = lb_optim_variants(&nv);
    verify_optim_variants(r, n, vars, nv);
}

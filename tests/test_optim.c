/* AdamW: every variant vs the scalar reference (bit-exact) and a double formula over many sizes;
 * three steps of a 3-element example against values computed once with PyTorch; a negative test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tools/verify/verify_ops.h"

/* test hook in verify_optim.c */

static const size_t sizes[] = {0, 1, 15, 16, 17, 100, 1000, 33202};

static void report_open(vf_report *r, FILE *out) {
    vf_report_init(r, out, VF_ALL_ISAS,
                   false);
}

static void test_optim_sizes(void **state) {
    (void)state;
    vf_report r;
    report_open(&r, stderr);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) verify_optim(&r, sizes[k]);
    fprintf(stderr, "optim: %d checked, %d failed, %d skipped\n", r.checked, r.failed, r.skipped);
    assert_int_equal(r.failed, 0);
    assert_true(r.checked > 0);
    vf_report_fini(&r);
}

/* Expected state after steps 1..3, from PyTorch 1.13 (Debian bookworm python3-torch
 * 1.13.1+dfsg-4, torch.__version__ "1.13.0a0", CPU, float32, single-tensor AdamW), printed by:
 *
 *   import torch
 *   p = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float32, requires_grad=True)
 *   opt = torch.optim.AdamW([p], lr=0.0078125, betas=(0.875, 0.998046875), eps=1e-8,
 *                           weight_decay=0.0625, amsgrad=True)
 *   for g in ([0.25, -0.5, 1.5], [-0.75, 0.125, 1.0], [0.5, 0.0, -2.0]):
 *       p.grad = torch.tensor(g, dtype=torch.float32)
 *       opt.step()
 *       s = opt.state[p]
 *       for t in (p.detach(), s["exp_avg"], s["exp_avg_sq"], s["max_exp_avg_sq"]):
 *           print(", ".join(float(x).hex() for x in t))
 *
 * The hyperparameters and gradients are short dyadic numbers, so that PyTorch's Python-double
 * scalars equal our float ones and m and g^2 terms are exact: torch 1.13 forms m as
 * m*b1 + (1-b1)*g (possibly fused), optim.h as m + (g-m)(1-b1); with exact m both are the same,
 * and the comparison below is bit-exact.  By hand, element 0 of step 1: p = 0.5 (1 - 2^-11),
 * m = 2^-5, v = 2^-13, denom = sqrt(2^-13)/sqrt(2^-9) + 1e-8 = 0.25 + 1e-8, step size
 * 2^-7/(1-0.875) = 2^-4, so p = 0.5 - 2^-12 - 2^-4 2^-5/0.25 = 0.491943359375 (= 0x1.f7cp-2).
 * Step 3 sets g = 0 for element 1, so its v falls below vmax and amsgrad takes effect. */
static const float torch_state[3][4][3] = {
    {{0x1.f7cp-2f, -0x1.3dd8p+0f, 0x1.fdcp+0f},
     {0x1p-5f, -0x1p-4f, 0x1.8p-3f},
     {0x1p-13f, 0x1p-11f, 0x1.2p-8f},
     {0x1p-13f, 0x1p-11f, 0x1.2p-8f}},
    {{0x1.fb8ea4p-2f, -0x1.3cc604p+0f, 0x1.fb90d4p+0f},
     {-0x1.1p-4f, -0x1.4p-5f, 0x1.28p-2f},
     {0x1.3ffp-10f, 0x1.0f8p-11f, 0x1.9f7p-8f},
     {0x1.3ffp-10f, 0x1.0f8p-11f, 0x1.9f7p-8f}},
    {{0x1.fb1cb8p-2f, -0x1.3bec42p+0f, 0x1.fb4e76p+0f},
     {0x1.2p-8f, -0x1.18p-5f, 0x1.8p-9f},
     {0x1.bf5008p-10f, 0x1.0ef84p-11f, 0x1.cf5024p-7f},
     {0x1.bf5008p-10f, 0x1.0f8p-11f, 0x1.cf5024p-7f}},
};

static void test_adamw_vs_torch(void **state) {
    (void)state;
    static const float grads[3][3] = {{0.25f, -0.5f, 1.5f}, {-0.75f, 0.125f, 1.0f}, {0.5f, 0.0f, -2.0f}};
    optim_adamw_params hp = {0x1p-7f, 0.875f, 0.998046875f, 1e-8f, 0.0625f, 1, 1};
    int nv, ran = 0;
    const optim_ops *vars = lb_optim_variants(&nv);
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    for (int i = 0; i < nv; i++) {
        if (!lb_cpu_supports(&cpu, vars[i].isa)) continue;
        float st[4][3] = {{0.5f, -1.25f, 2.0f}, {0}, {0}, {0}};
        for (int s = 0; s < 3; s++) {
            hp.step = s + 1;
            vars[i].adamw_step(&hp, 3, st[0], grads[s], st[1], st[2], st[3]);
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 3; k++)
                    if (st[j][k] != torch_state[s][j][k]) {
                        fprintf(stderr, "%s step %d state %d [%d]: got %a, torch %a\n", vars[i].name, s + 1, j, k,
                                st[j][k], torch_state[s][j][k]);
                        fail();
                    }
        }
        ran++;
    }
    assert_true(ran > 0);
}

/* Mathematically the same update in another order, p - step_size * (m / denom): within the
 * double tolerance, but not bit-identical to the reference, which the verifier must notice. */
static void adamw_reordered(const optim_adamw_params *hp, size_t n, float *param, const float *grad, float *m, float *v,
                            float *vmax) {
    const double bc1 = 1.0 - pow(hp->beta1, (double)hp->step), bc2 = 1.0 - pow(hp->beta2, (double)hp->step);
    const float ss = (float)(hp->lr / bc1), bs = (float)sqrt(bc2);
    const float w1 = (float)(1.0 - (double)hp->beta1), w2 = (float)(1.0 - (double)hp->beta2);
    const float decay = (float)(1.0 - (double)hp->lr * hp->weight_decay);
    for (size_t i = 0; i < n; i++) {
        const float p = param[i] * decay;
        m[i] = m[i] + (grad[i] - m[i]) * w1;
        v[i] = v[i] * hp->beta2 + (w2 * grad[i]) * grad[i];
        float s = v[i];
        if (hp->amsgrad && vmax) s = vmax[i] = vmax[i] > s ? vmax[i] : s;
        param[i] = p - ss * (m[i] / (sqrtf(s) / bs + hp->eps));
    }
}
/* Forgets the weight decay: wrong by lr*wd*|p| = 1e-4 |p| per step, caught against double. */
static void adamw_no_decay(const optim_adamw_params *hp, size_t n, float *param, const float *grad, float *m, float *v,
                           float *vmax) {
    optim_adamw_params h = *hp;
    h.weight_decay = 0.0f;
    optim_adamw_step__scalar(&h, n, param, grad, m, v, vmax);
}

static void test_negative(void **state) {
    (void)state;
    const optim_ops vars[] = {
        {"scalar", LB_ISA_SCALAR, optim_adamw_step__scalar},
        {"reordered", LB_ISA_SCALAR, adamw_reordered},
        {"nodecay", LB_ISA_SCALAR, adamw_no_decay},
    };
    FILE *sink = tmpfile();
    assert_non_null(sink);
    vf_report r;
    report_open(&r, sink);
    verify_optim_variants(&r, 1000, vars, 3);
    rewind(sink);
    char line[512];
    int reordered_s = 0, reordered_d = 0, nodecay = 0, other = 0;
    while (fgets(line, sizeof line, sink)) {
        if (strncmp(line, "MISMATCH ", 9) != 0) continue;
        if (strstr(line, "/reordered:")) reordered_s++;
        else if (strstr(line, "/reordered@double:")) reordered_d++;
        else if (strstr(line, "_wd0.01/nodecay")) nodecay++;
        else other++;
    }
    fprintf(stderr, "reordered vs scalar %d, vs double %d; nodecay %d; other %d\n", reordered_s, reordered_d, nodecay,
            other);
    assert_int_equal(reordered_s, 4); /* every amsgrad x wd problem */
    assert_int_equal(reordered_d, 0);
    assert_int_equal(nodecay, 4);     /* wd 0.01, amsgrad 0/1, vs scalar and vs double */
    assert_int_equal(other, 0);
    assert_int_equal(r.failed, 8);
    vf_report_fini(&r);
    fclose(sink);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_optim_sizes),
        cmocka_unit_test(test_adamw_vs_torch),
        cmocka_unit_test(test_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

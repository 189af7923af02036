/* One verifier per op.  Each checks, for the problem it is given, every variant selected by the
 * report (vf_variant_runnable) against the scalar reference and, where oneDNN has the op and
 * r->onednn, every variant (the scalar reference included) against oneDNN.  Every check goes
 * through vf_record with a descriptor "<op>_<pass>/<problem>/<variant>[@onednn]" and honours
 * vf_wanted.  Inputs are integer-valued where that makes the result exact, else tolerances. */
#pragma once
#include "tools/verify/verify.h"
#include "kernels/pass.h"

void verify_conv2d(vf_report *r, const conv2d_desc *d);     /* fwd, bwd_data, bwd_weights(+bias);
                                                               a variant with tuning parameters also
                                                               at each value of each one that acts
                                                               on the pass (vf_param_values) */
/* Whether a conv2d tuning parameter acts on a pass, by the naming rule of conv2d.h ("fwd_": fwd
 * and bwd_data, "bww_": bwd_weights, others: every pass). */
bool vf_conv2d_param_acts(const char *name, lb_pass pass);
void verify_pool(vf_report *r, const pool_desc *d);         /* fwd, bwd */
void verify_gpool(vf_report *r, const gpool_desc *d);       /* fwd, bwd */
void verify_act(vf_report *r, size_t n);                    /* lrelu, sigmoid: fwd, bwd */
void verify_dense(vf_report *r, const dense_desc *d);       /* fwd, bwd_data, bwd_weights(+bias) */
void verify_flatten(vf_report *r, const dense_flatten_desc *d);   /* fwd, bwd */
void verify_loss(vf_report *r, size_t count);               /* mse, bce_logits: value and grad */
void verify_optim(vf_report *r, size_t n);                  /* adamw (amsgrad on and off, wd) */
void verify_chain1x1(vf_report *r, const chain1x1_desc *d); /* fused 1x1 chain fwd, both modes, vs
                                                               the scalar reference and unfused */
void verify_chain1x1_set(vf_report *r);                     /* the seed chains + awkward shapes */

/* The same checks over an explicit variant list (the first entry is taken as the reference), so
 * that tests can prove a deliberately broken variant is caught. */
void verify_dense_variants(vf_report *r, const dense_desc *d, const dense_ops *vars, int nvars);
void verify_flatten_variants(vf_report *r, const dense_flatten_desc *d, const dense_ops *vars, int nvars);
void verify_loss_variants(vf_report *r, size_t count, const loss_ops *vars, int nvars);
void verify_optim_variants(vf_report *r, size_t n, const optim_ops *vars, int nvars);
void verify_chain1x1_variants(vf_report *r, const chain1x1_desc *d, const chain1x1_ops *vars, int nvars);

/* Problem descriptor strings (shared by verify and bench). */
void conv2d_desc_str(const conv2d_desc *d, char *buf, size_t len);   /* mb32_ic4oc64_ih60iw4_kh2kw2_sh1sw1_b1 */
void pool_desc_str(const pool_desc *d, char *buf, size_t len);       /* avg_mb32_c80_ih8iw8_k2s2 */
void gpool_desc_str(const gpool_desc *d, char *buf, size_t len);     /* max_mb32_c32_hw64 */
void dense_desc_str(const dense_desc *d, char *buf, size_t len);     /* mb32_ic80oc2_b1 */
void chain1x1_desc_str(const chain1x1_desc *d, char *buf, size_t len); /* s480_c4-64-48-80_b111 */

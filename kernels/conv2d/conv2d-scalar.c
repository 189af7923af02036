/* conv2d with periodic padding: the portable reference every other variant is checked against.
 * Plain loops that follow conv2d.h's index formula literally; cout (or cin for backward-data)
 * is the innermost loop so that the compiler vectorizes it at the baseline ISA.
 * Accumulation is in float, in the order taps (i, j), then cin: the order the SIMD variants use.
 */
#include <string.h>

#include "kernels/conv2d/conv2d.h"

/* True modulo: tap offsets reach beyond one period on lattices smaller than the kernel. */
static inline int wrap_mod(int i, int n) { return ((i % n) + n) % n; }

static inline size_t site_index(const conv2d_desc *d, int nn, int t, int x) {
    return ((size_t)nn * d->h + t) * d->w + x;
}

void conv2d_periodic_fwd__scalar(const conv2d_desc *d, const float *LB_RESTRICT in, const float *LB_RESTRICT w,
                                 const float *LB_RESTRICT bias, float *LB_RESTRICT out) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), cin = d->cin, cout = d->cout;
    const int offh = conv2d_off(d->kh), offw = conv2d_off(d->kw);
    const int use_bias = d->bias && bias;
    for (int nn = 0; nn < d->n; nn++)
        for (int ot = 0; ot < oh; ot++)
            for (int ox = 0; ox < ow; ox++) {
                float *LB_RESTRICT o = out + (((size_t)nn * oh + ot) * ow + ox) * cout;
                for (int co = 0; co < cout; co++) o[co] = use_bias ? bias[co] : 0.0f;
                for (int i = 0; i < d->kh; i++) {
                    const int it = wrap_mod(ot * d->sh + i + offh, d->h);
                    for (int j = 0; j < d->kw; j++) {
                        const int ix = wrap_mod(ox * d->sw + j + offw, d->w);
                        const float *p = in + site_index(d, nn, it, ix) * cin;
                        const float *wp = w + (size_t)(i * d->kw + j) * cin * cout;
                        for (int ci = 0; ci < cin; ci++) {
                            const float a = p[ci];
                            const float *wr = wp + (size_t)ci * cout;
                            for (int co = 0; co < cout; co++) o[co] += a * wr[co];
                        }
                    }
                }
            }
}

/* Scatter form of the adjoint: every (output site, tap) pair of the forward pass sends
 * gout[site] * w[tap]^T back to the input site it read, so stride 2 needs no special case. */
void conv2d_periodic_bwd_data__scalar(const conv2d_desc *d, const float *LB_RESTRICT gout,
                                      const float *LB_RESTRICT wt, float *LB_RESTRICT gin) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), cin = d->cin, cout = d->cout;
    const int offh = conv2d_off(d->kh), offw = conv2d_off(d->kw);
    memset(gin, 0, conv2d_in_size(d) * sizeof(float));
    for (int nn = 0; nn < d->n; nn++)
        for (int ot = 0; ot < oh; ot++)
            for (int ox = 0; ox < ow; ox++) {
                const float *g = gout + (((size_t)nn * oh + ot) * ow + ox) * cout;
                for (int i = 0; i < d->kh; i++) {
                    const int it = wrap_mod(ot * d->sh + i + offh, d->h);
                    for (int j = 0; j < d->kw; j++) {
                        const int ix = wrap_mod(ox * d->sw + j + offw, d->w);
                        float *LB_RESTRICT gi = gin + site_index(d, nn, it, ix) * cin;
                        const float *wp = wt + (size_t)(i * d->kw + j) * cout * cin;
                        for (int co = 0; co < cout; co++) {
                            const float a = g[co];
                            const float *wr = wp + (size_t)co * cin;
                            for (int ci = 0; ci < cin; ci++) gi[ci] += a * wr[ci];
                        }
                    }
                }
            }
}

void conv2d_periodic_bwd_weights__scalar(const conv2d_desc *d, const float *LB_RESTRICT in,
                                         const float *LB_RESTRICT gout, float *LB_RESTRICT gw,
                                         float *LB_RESTRICT gb) {
    const int oh = conv2d_oh(d), ow = conv2d_ow(d), cin = d->cin, cout = d->cout;
    const int offh = conv2d_off(d->kh), offw = conv2d_off(d->kw);
    const int want_gb = d->bias && gb;
    memset(gw, 0, conv2d_w_size(d) * sizeof(float));
    if (want_gb) memset(gb, 0, (size_t)cout * sizeof(float));
    for (int nn = 0; nn < d->n; nn++)
        for (int ot = 0; ot < oh; ot++)
            for (int ox = 0; ox < ow; ox++) {
                const float *g = gout + (((size_t)nn * oh + ot) * ow + ox) * cout;
                if (want_gb)
                    for (int co = 0; co < cout; co++) gb[co] += g[co];
                for (int i = 0; i < d->kh; i++) {
                    const int it = wrap_mod(ot * d->sh + i + offh, d->h);
                    for (int j = 0; j < d->kw; j++) {
                        const int ix = wrap_mod(ox * d->sw + j + offw, d->w);
                        const float *p = in + site_index(d, nn, it, ix) * cin;
                        float *LB_RESTRICT gwp = gw + (size_t)(i * d->kw + j) * cin * cout;
                        for (int ci = 0; ci < cin; ci++) {
                            const float a = p[ci];
                            float *LB_RESTRICT gr = gwp + (size_t)ci * cout;
                            for (int co = 0; co < cout; co++) gr[co] += a * g[co];
                        }
                    }
                }
            }
}

/* chain1x1, the portable reference (chain1x1.h): one site at a time through every layer, the
 * intermediates in two small arrays.  Per output: bias, then input channels in order. */
#include "kernels/chain1x1/chain1x1.h"

static void site_layer(const float *LB_RESTRICT x, int cin, int cout, const float *LB_RESTRICT w,
                       const float *LB_RESTRICT b, float *LB_RESTRICT p) {
    for (int co = 0; co < cout; co++) p[co] = b ? b[co] : 0.0f;
    for (int ci = 0; ci < cin; ci++) {
        const float a = x[ci];
        const float *wr = w + (size_t)ci * cout;
        for (int co = 0; co < cout; co++) p[co] += a * wr[co];
    }
}

void chain1x1_fwd__scalar(const chain1x1_desc *d, const float *in, const float *const *w, const float *const *b,
                          float *out, const chain1x1_keep *keep) {
    float buf[2][CHAIN1X1_MAX_C], pre[CHAIN1X1_MAX_C];
    const int L = d->layers;
    for (size_t s = 0; s < d->sites; s++) {
        const float *x = in + s * d->c[0];
        for (int l = 0; l < L; l++) {
            const int cout = d->c[l + 1];
            float *y = l == L - 1 ? out + s * cout : buf[l & 1];
            site_layer(x, d->c[l], cout, w[l], d->bias[l] ? b[l] : NULL, pre);
            for (int co = 0; co < cout; co++) y[co] = pre[co] > 0 ? pre[co] : d->slope * pre[co];
            if (keep) {
                for (int co = 0; co < cout; co++) keep->pre[l][s * cout + co] = pre[co];
                if (l < L - 1)
                    for (int co = 0; co < cout; co++) keep->post[l][s * cout + co] = y[co];
            }
            x = y;
        }
    }
}

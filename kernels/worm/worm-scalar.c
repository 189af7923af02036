/* The worm update, portable reference: chains one after another (stride = the block's lanes).
 * The operation order, the random-number consumption and the float32 arithmetic are the contract
 * of kernels/worm/worm.h; every vectorized variant must reproduce this file bit for bit.
 * Counters, the overflow flag and the generator live in locals: through pointers they could alias
 * the int32 lattice arrays and would be reloaded after every store. */
#include "kernels/worm/worm.h"

static void l_pass(const worm_desc *d, int32_t *LB_RESTRICT k, int32_t *LB_RESTRICT l, int32_t *LB_RESTRICT f,
                   worm_rng *rng, int W, uint64_t *acc, int *hit) {
    const int fmax = d->tab->fmax;
    const float *w2 = d->tab->w2, *inv = d->tab->inv;
    const int32_t *nbr = d->nbr;
    const int nlinks = 2 * d->v;
    worm_rng g = *rng;
    uint64_t a_cnt = 0;
    int h = 0;
    for (int link = 0; link < nlinks; link++) {
        const int x = link >> 1, nu = link & 1;
        const int y = nbr[x * 4 + 2 * nu];
        const uint32_t r = worm_rng_draw(&g);
        const int up = (int)(r & 1u);
        const float u = worm_uniform(r);
        const int32_t lv = l[link * W], a = worm_iabs(k[link * W]) + lv;
        const int32_t fx = f[x * W], fy = f[y * W];
        const float lf = worm_selectf(up, inv[a + 1] * inv[lv + 1], (float)(a * lv));
        const float *wt = w2 + up * (fmax + 1);
        const float rho = (lf * wt[fx]) * wt[fy];
        h |= up & ((fx + 2 > fmax) | (fy + 2 > fmax));
        if (u < rho) {
            const int32_t dl = up ? 1 : -1;
            l[link * W] = lv + dl;
            f[x * W] = fx + 2 * dl;
            f[y * W] = fy + 2 * dl;
            a_cnt++;
        }
    }
    *rng = g;
    *acc += a_cnt;
    *hit |= h;
}

/* One worm; returns 1 when stopped early by a table overflow (the chain is then left open). */
static int one_worm(const worm_desc *d, int32_t *LB_RESTRICT k, const int32_t *LB_RESTRICT l, int32_t *LB_RESTRICT f,
                    worm_rng *rng, int W, uint64_t *prop, uint64_t *acc) {
    worm_rng g = *rng;
    const int x0 = (int)(((uint64_t)worm_rng_draw(&g) * (uint64_t)d->v) >> 32);
    const int32_t delta = (worm_rng_draw(&g) & 1u) ? 1 : -1;
    int head = x0, h = 0;
    uint64_t p = 0, a_cnt = 0;
    do {
        const int nh = worm_head_step(d, k, l, f, W, head, delta, worm_rng_draw(&g), &h);
        a_cnt += nh != head;
        head = nh;
        p++;
    } while (head != x0 && !h);
    *rng = g;
    *prop += p;
    *acc += a_cnt;
    return h;
}

void worm_sweep__scalar(const worm_desc *d, worm_block *b, int nsweeps, const worm_hook *hook) {
    const int W = b->lanes;
    for (int c = 0; c < b->active; c++) {
        int32_t *k = b->k + c, *l = b->l + c, *f = b->f + c;
        uint64_t *st = b->stat + c;
        worm_rng g = worm_rng_load(b->rng + c, W);
        uint64_t hp = 0, ha = 0, nw = 0, la = 0;
        int hit = st[WORM_STAT_FMAX_HIT * W] != 0, sw;
        for (sw = 0; sw < nsweeps && !hit; sw++) {
            l_pass(d, k, l, f, &g, W, &la, &hit);
            for (int w = 0; w < d->worms_per_sweep && !hit; w++) {
                hit |= one_worm(d, k, l, f, &g, W, &hp, &ha);
                nw += !hit;
            }
            if (hook && !hit && worm_hook_stops(hook, b, c, sw + 1)) {
                sw++; /* the completed sweeps, as the loop's increment would count them */
                break;
            }
        }
        worm_rng_store(g, b->rng + c, W);
        st[WORM_STAT_HEAD_PROP * W] += hp;
        st[WORM_STAT_HEAD_ACC * W] += ha;
        st[WORM_STAT_WORMS * W] += nw;
        st[WORM_STAT_L_PROP * W] += (uint64_t)sw * 2 * d->v;
        st[WORM_STAT_L_ACC * W] += la;
        st[WORM_STAT_FMAX_HIT * W] |= (uint64_t)hit;
    }
}

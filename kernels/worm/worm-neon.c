/* The worm update, NEON (AArch64 ASIMD): 4 chains per block, one chain per 32-bit lane, the lanes
 * in step: every sweep is a lock-step l pass over contiguous vectors, then worms_per_sweep worms on
 * every lane, a lane whose worm has closed starting its next one while the others finish theirs
 * (the in-step scheme of worm-avx2.c's worms(); its "unified" scheme is not ported).  NEON has no
 * gathers: table and lattice reads at per-lane indices are lane-wise loads (inactive lanes read
 * index 0, which always exists), and accepted head moves are written back lane by lane.  Only
 * float32 multiplies and compares, no add: nothing a compiler could fuse.  Bit-identical to
 * worm-scalar.c by the contract of kernels/worm/worm.h. */
#include <arm_neon.h>
#include "kernels/worm/worm.h"

#define L 4

typedef struct {
    uint32x4_t s0, s1, s2, s3;
} vrng;

#define ROTL(x, k) vsriq_n_u32(vshlq_n_u32((x), (k)), (x), 32 - (k))
LB_INLINE int32x4_t seli(uint32x4_t m, int32x4_t a, int32x4_t b) { return vbslq_s32(m, a, b); } /* m ? a : b */
LB_INLINE uint32x4_t selu(uint32x4_t m, uint32x4_t a, uint32x4_t b) { return vbslq_u32(m, a, b); }
LB_INLINE int32x4_t mski(int32x4_t x, uint32x4_t m) { return vandq_s32(x, vreinterpretq_s32_u32(m)); } /* m ? x : 0 */
LB_INLINE int any(uint32x4_t m) { return vmaxvq_u32(m) != 0; }

/* xoshiro128** on the lanes of m (all-ones lanes); other lanes keep their state. */
LB_INLINE uint32x4_t vdraw(vrng *g, uint32x4_t m) {
    const uint32x4_t s0 = g->s0, s1 = g->s1;
    const uint32x4_t x = vmulq_n_u32(s1, 5u);
    const uint32x4_t r = vmulq_n_u32(ROTL(x, 7), 9u);
    const uint32x4_t t = vshlq_n_u32(s1, 9);
    const uint32x4_t s2 = veorq_u32(g->s2, s0);
    const uint32x4_t s3 = veorq_u32(g->s3, s1);
    g->s0 = selu(m, veorq_u32(s0, s3), s0);
    g->s1 = selu(m, veorq_u32(s1, s2), s1);
    g->s2 = selu(m, veorq_u32(s2, t), g->s2);
    g->s3 = selu(m, ROTL(s3, 11), g->s3);
    return r;
}

LB_INLINE float32x4_t vuniform(uint32x4_t r) { return vmulq_n_f32(vcvtq_f32_u32(vshrq_n_u32(r, 8)), 0x1p-24f); }

/* (r * v) >> 32 per lane (the start site of a worm) */
LB_INLINE int32x4_t vmulhi(uint32x4_t r, uint32_t v) {
    const uint32x2_t lo = vshrn_n_u64(vmull_n_u32(vget_low_u32(r), v), 32);
    const uint32x2_t hi = vshrn_n_u64(vmull_high_n_u32(r, v), 32);
    return vreinterpretq_s32_u32(vcombine_u32(lo, hi));
}

/* Lane-wise loads at per-lane indices (no gathers in NEON). */
LB_INLINE float32x4_t gatherf(const float *t, int32x4_t i) {
    float32x4_t v = vld1q_dup_f32(t + vgetq_lane_s32(i, 0));
    v = vld1q_lane_f32(t + vgetq_lane_s32(i, 1), v, 1);
    v = vld1q_lane_f32(t + vgetq_lane_s32(i, 2), v, 2);
    return vld1q_lane_f32(t + vgetq_lane_s32(i, 3), v, 3);
}
LB_INLINE int32x4_t gatheri(const int32_t *t, int32x4_t i) {
    int32x4_t v = vld1q_dup_s32(t + vgetq_lane_s32(i, 0));
    v = vld1q_lane_s32(t + vgetq_lane_s32(i, 1), v, 1);
    v = vld1q_lane_s32(t + vgetq_lane_s32(i, 2), v, 2);
    return vld1q_lane_s32(t + vgetq_lane_s32(i, 3), v, 3);
}

/* Per-lane counts in 32 bits, widened into tot[4][L] (head prop, head acc, worms, l acc). */
static void flush(uint32x4_t cnt[4], uint64_t tot[4][L]) {
    for (int i = 0; i < 4; i++) {
        uint32_t c[L];
        vst1q_u32(c, cnt[i]);
        for (int j = 0; j < L; j++) tot[i][j] += c[j];
        cnt[i] = vdupq_n_u32(0);
    }
}

/* One l pass on the lanes of run, in step: link i of every chain is one contiguous vector. */
static void l_pass(const worm_desc *d, int32_t *LB_RESTRICT k, int32_t *LB_RESTRICT l, int32_t *LB_RESTRICT f,
                   vrng *rng, uint32x4_t run, uint32x4_t *la, uint32x4_t *hit) {
    const int fmax = d->tab->fmax;
    const float *w2 = d->tab->w2, *inv = d->tab->inv;
    const int32_t *nbr = d->nbr;
    const int nlinks = 2 * d->v;
    const int32x4_t one = vdupq_n_s32(1), lim = vdupq_n_s32(fmax - 2), hi = vdupq_n_s32(fmax + 1);
    vrng g = *rng;
    uint32x4_t acc = *la, h = vdupq_n_u32(0);
    for (int link = 0; link < nlinks; link++) {
        const int x = link >> 1, nu = link & 1;
        const int y = nbr[x * 4 + 2 * nu];
        const uint32x4_t r = vdraw(&g, run);
        const uint32x4_t up = vtstq_u32(r, vdupq_n_u32(1));
        const float32x4_t u = vuniform(r);
        int32_t *lp = l + link * L, *fxp = f + x * L, *fyp = f + y * L;
        const int32x4_t lv = vld1q_s32(lp), kv = vld1q_s32(k + link * L);
        const int32x4_t a = vaddq_s32(vabsq_s32(kv), lv);
        const int32x4_t fx = vld1q_s32(fxp), fy = vld1q_s32(fyp);
        /* lanes outside run (idle, or past the active chains) look up index 0 */
        const float32x4_t ia = gatherf(inv, mski(vaddq_s32(a, one), run));
        const float32x4_t il = gatherf(inv, mski(vaddq_s32(lv, one), run));
        const float32x4_t lf = vbslq_f32(up, vmulq_f32(ia, il), vcvtq_f32_s32(vmulq_s32(a, lv)));
        const int32x4_t base = mski(hi, up);
        const float32x4_t wx = gatherf(w2, mski(vaddq_s32(base, fx), run));
        const float32x4_t wy = gatherf(w2, mski(vaddq_s32(base, fy), run));
        const float32x4_t rho = vmulq_f32(vmulq_f32(lf, wx), wy);
        h = vorrq_u32(h, vandq_u32(up, vorrq_u32(vcgtq_s32(fx, lim), vcgtq_s32(fy, lim))));
        const uint32x4_t ok = vandq_u32(run, vcltq_f32(u, rho));
        const int32x4_t dl = seli(up, one, vdupq_n_s32(-1));
        const int32x4_t df = vaddq_s32(dl, dl);
        /* a blend and a full store: lanes that do not accept write back what they read */
        vst1q_s32(lp, seli(ok, vaddq_s32(lv, dl), lv));
        vst1q_s32(fxp, seli(ok, vaddq_s32(fx, df), fx));
        vst1q_s32(fyp, seli(ok, vaddq_s32(fy, df), fy));
        acc = vsubq_u32(acc, ok);
    }
    *rng = g;
    *la = acc;
    *hit = vorrq_u32(*hit, vandq_u32(h, run));
}

/* Writes the accepted head steps of the lanes ok back lane by lane (NEON has no scatter; the
 * addresses never collide): k[kidx] = kw, f[xidx] = xw, f[yidx] = yw. */
LB_INLINE void commit_head(int32_t *LB_RESTRICT k, int32_t *LB_RESTRICT f, uint32x4_t ok, int32x4_t kidx, int32x4_t kw,
                           int32x4_t xidx, int32x4_t xw, int32x4_t yidx, int32x4_t yw) {
    uint32_t okl[L];
    int32_t ki[L], kv[L], xi[L], xv[L], yi[L], yv[L];
    vst1q_u32(okl, ok);
    vst1q_s32(ki, kidx), vst1q_s32(kv, kw);
    vst1q_s32(xi, xidx), vst1q_s32(xv, xw);
    vst1q_s32(yi, yidx), vst1q_s32(yv, yw);
    for (int i = 0; i < L; i++)
        if (okl[i]) {
            k[ki[i]] = kv[i];
            f[xi[i]] = xv[i];
            f[yi[i]] = yv[i];
        }
}

/* worms_per_sweep worms on every lane of run, the lanes that are done idle until all are; returns
 * the lanes stopped by a table overflow. */
static uint32x4_t worms(const worm_desc *d, int32_t *LB_RESTRICT k, const int32_t *LB_RESTRICT l,
                        int32_t *LB_RESTRICT f, vrng *rng, uint32x4_t run, uint32x4_t *hp, uint32x4_t *ha,
                        uint32x4_t *nw) {
    const int fmax = d->tab->fmax;
    const float *w1 = d->tab->w1, *inv = d->tab->inv;
    const int32_t *nbr = d->nbr;
    const int32x4_t one = vdupq_n_s32(1), zero = vdupq_n_s32(0), three = vdupq_n_s32(3),
                    lim = vdupq_n_s32(fmax - 1), hi = vdupq_n_s32(fmax + 1), m1 = vdupq_n_s32(-1);
    static const int32_t lane_ids[L] = {0, 1, 2, 3};
    const int32x4_t lane = vld1q_s32(lane_ids);
    /* emu[eidx] as a byte permute of the 4-entry table: bytes 4*eidx + 0..3 */
    const uint8x16_t emu = vreinterpretq_u8_f32(vld1q_f32(d->emu));
    const uint32x4_t byte_ofs = vdupq_n_u32(0x03020100u);
    vrng g = *rng;
    int32x4_t head = zero, x0 = zero, delta = one;
    uint32x4_t left = vandq_u32(run, vdupq_n_u32((uint32_t)d->worms_per_sweep));
    uint32x4_t p = *hp, a = *ha, n = *nw, hit = vdupq_n_u32(0);
    uint32x4_t start = d->worms_per_sweep > 0 ? run : vdupq_n_u32(0), in = vdupq_n_u32(0);
    while (any(vorrq_u32(start, in))) {
        if (any(start)) {
            x0 = seli(start, vmulhi(vdraw(&g, start), (uint32_t)d->v), x0);
            const uint32x4_t r = vdraw(&g, start);
            delta = seli(start, seli(vtstq_u32(r, vdupq_n_u32(1)), one, m1), delta);
            head = seli(start, x0, head);
            in = vorrq_u32(in, start);
        }
        const uint32x4_t m = in;
        const uint32x4_t r = vdraw(&g, m);
        const int32x4_t dir = vandq_s32(vreinterpretq_s32_u32(r), three);
        const float32x4_t u = vuniform(r);
        const int32x4_t y = gatheri(nbr, mski(vaddq_s32(vshlq_n_s32(head, 2), dir), m));
        const int32x4_t nu = vshrq_n_s32(dir, 1);
        const uint32x4_t fwd = vceqq_s32(vandq_s32(dir, one), zero);
        const int32x4_t ls = seli(fwd, head, y);
        const int32x4_t kidx = mski(vaddq_s32(vshlq_n_s32(vaddq_s32(vaddq_s32(ls, ls), nu), 2), lane), m);
        const int32x4_t s = seli(fwd, delta, vnegq_s32(delta));
        const int32x4_t hidx = mski(vaddq_s32(vshlq_n_s32(head, 2), lane), m);
        const int32x4_t yidx = mski(vaddq_s32(vshlq_n_s32(y, 2), lane), m);
        const int32x4_t kv = gatheri(k, kidx), lv = gatheri(l, kidx);
        const int32x4_t fx = gatheri(f, hidx), fy = gatheri(f, yidx);
        const int32x4_t kn = vaddq_s32(kv, s);
        const uint32x4_t gr = vcgeq_s32(vmulq_s32(kv, s), zero); /* kv*s >= 0: |k| grows */
        const float32x4_t lg = gatherf(inv, mski(vaddq_s32(vabsq_s32(kn), lv), vandq_u32(m, gr)));
        const float32x4_t lf = vbslq_f32(gr, lg, vcvtq_f32_s32(vaddq_s32(vabsq_s32(kv), lv)));
        const uint32x4_t eidx = vreinterpretq_u32_s32(vaddq_s32(vaddq_s32(nu, nu), mski(one, vcgtq_s32(s, zero))));
        const float32x4_t em =
            vreinterpretq_f32_u8(vqtbl1q_u8(emu, vreinterpretq_u8_u32(vmlaq_n_u32(byte_ofs, eidx, 0x04040404u))));
        const int32x4_t base = mski(hi, gr);
        const float32x4_t wx = gatherf(w1, mski(vaddq_s32(base, fx), m));
        const float32x4_t wy = gatherf(w1, mski(vaddq_s32(base, fy), m));
        const float32x4_t rho = vmulq_f32(vmulq_f32(vmulq_f32(lf, em), wx), wy);
        const uint32x4_t hn = vandq_u32(vandq_u32(m, gr), vorrq_u32(vcgtq_s32(fx, lim), vcgtq_s32(fy, lim)));
        const uint32x4_t ok = vandq_u32(m, vcltq_f32(u, rho));
        if (any(ok)) {
            const int32x4_t df = seli(gr, one, m1);
            commit_head(k, f, ok, kidx, kn, hidx, vaddq_s32(fx, df), yidx, vaddq_s32(fy, df));
            head = seli(ok, y, head);
        }
        p = vsubq_u32(p, m);
        a = vsubq_u32(a, ok);
        hit = vorrq_u32(hit, hn);
        const uint32x4_t live = vbicq_u32(m, hn);
        const uint32x4_t closed = vandq_u32(live, vceqq_s32(head, x0));
        in = vbicq_u32(live, closed);
        n = vsubq_u32(n, closed);
        left = vaddq_u32(left, closed); /* closed lanes are all ones: one worm fewer left */
        start = vandq_u32(closed, vcgtq_s32(vreinterpretq_s32_u32(left), zero));
    }
    *rng = g;
    *hp = p, *ha = a, *nw = n;
    return hit;
}

/* The lanes of run have completed sweep started[lane]: the lanes the hook stops. */
static uint32x4_t hook_stops(const worm_hook *h, const worm_block *b, uint32x4_t run, uint32x4_t started) {
    uint32_t r[L], stop[L];
    int32_t done[L];
    vst1q_u32(r, run);
    vst1q_s32(done, vreinterpretq_s32_u32(started));
    unsigned m = 0;
    for (int c = 0; c < L; c++) m |= (r[c] != 0) << c;
    const unsigned s = worm_hook_run(h, b, m, done);
    for (int c = 0; c < L; c++) stop[c] = (s >> c) & 1 ? ~0u : 0u;
    return vld1q_u32(stop);
}

void worm_sweep__neon(const worm_desc *d, worm_block *b, int nsweeps, const worm_hook *hook) {
    if (b->lanes != L) {
        worm_sweep__scalar(d, b, nsweeps, hook);
        return;
    }
    uint64_t *st = b->stat;
    uint32_t hit0[L], act[L];
    for (int c = 0; c < L; c++) {
        act[c] = c < b->active ? ~0u : 0u;
        hit0[c] = c < b->active && st[WORM_STAT_FMAX_HIT * L + c] ? ~0u : 0u;
    }
    uint32x4_t hit = vld1q_u32(hit0);
    uint32x4_t run = vbicq_u32(vld1q_u32(act), hit);
    if (nsweeps <= 0 || !any(run)) return;
    vrng g = {vld1q_u32(b->rng), vld1q_u32(b->rng + L), vld1q_u32(b->rng + 2 * L), vld1q_u32(b->rng + 3 * L)};
    uint64_t tot[4][L] = {{0}};
    uint32x4_t cnt[4] = {vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0)};
    uint32x4_t started = vdupq_n_u32(0);
    for (int s = 0; s < nsweeps && any(run = vbicq_u32(run, hit)); s++) {
        started = vsubq_u32(started, run);
        l_pass(d, b->k, b->l, b->f, &g, run, &cnt[3], &hit);
        run = vbicq_u32(run, hit);
        hit = vorrq_u32(hit, worms(d, b->k, b->l, b->f, &g, run, &cnt[0], &cnt[1], &cnt[2]));
        flush(cnt, tot);
        run = vbicq_u32(run, hit);
        if (hook && any(run)) run = vbicq_u32(run, hook_stops(hook, b, run, started));
    }
    vst1q_u32(b->rng, g.s0), vst1q_u32(b->rng + L, g.s1), vst1q_u32(b->rng + 2 * L, g.s2), vst1q_u32(b->rng + 3 * L, g.s3);
    uint32_t sw[L], hb[L];
    vst1q_u32(sw, started);
    vst1q_u32(hb, hit);
    for (int c = 0; c < b->active; c++) {
        st[WORM_STAT_HEAD_PROP * L + c] += tot[0][c];
        st[WORM_STAT_HEAD_ACC * L + c] += tot[1][c];
        st[WORM_STAT_WORMS * L + c] += tot[2][c];
        st[WORM_STAT_L_ACC * L + c] += tot[3][c];
        st[WORM_STAT_L_PROP * L + c] += (uint64_t)sw[c] * 2 * (uint64_t)d->v;
        st[WORM_STAT_FMAX_HIT * L + c] |= (uint64_t)(hb[c] != 0);
    }
}

/* The worm update, AVX2: 8 chains per block, one chain per 32-bit lane; the scheme of
 * worm-avx512.c (read its header) with vector masks instead of mask registers and gathers for the
 * acceptance tables (no 32-entry permute in AVX2).  The first l pass of a call is lock-step and
 * contiguous; then, with few (long) worms per sweep, the lanes run on independently (unified());
 * with many short worms per sweep they stay in step per sweep (worms()), where the idle time is
 * small and the lock-step l passes are cheaper than gathered ones.  AVX2 has no scatter: accepted
 * moves are written back lane by lane (the addresses never collide).  Bit-identical to
 * worm-scalar.c by the contract of kernels/worm/worm.h. */
#include <immintrin.h>
#include "kernels/worm/worm.h"

#define L 8
/* From this many worms per sweep on (short worms: 60x4 below the onset) the lanes stay in step
 * (measured: 60x4 mu = 0.5, 219 worms/sweep: 1.4x faster in step; 8x8 mu = 0.5, 56: 1.2x slower) */
#define IN_STEP_WPS 100

typedef struct {
    __m256i s0, s1, s2, s3;
} vrng;

LB_INLINE __m256i rotl(__m256i x, int k) { return _mm256_or_si256(_mm256_slli_epi32(x, k), _mm256_srli_epi32(x, 32 - k)); }
LB_INLINE __m256i sel(__m256i m, __m256i a, __m256i b) { return _mm256_blendv_epi8(b, a, m); } /* m ? a : b */

/* xoshiro128** on the lanes of m (all-ones lanes); other lanes keep their state. */
LB_INLINE __m256i vdraw(vrng *g, __m256i m) {
    const __m256i s0 = g->s0, s1 = g->s1;
    const __m256i x = _mm256_add_epi32(s1, _mm256_slli_epi32(s1, 2));
    const __m256i y = rotl(x, 7);
    const __m256i r = _mm256_add_epi32(y, _mm256_slli_epi32(y, 3));
    const __m256i t = _mm256_slli_epi32(s1, 9);
    const __m256i s2 = _mm256_xor_si256(g->s2, s0);
    const __m256i s3 = _mm256_xor_si256(g->s3, s1);
    const __m256i n1 = _mm256_xor_si256(s1, s2);
    const __m256i n0 = _mm256_xor_si256(s0, s3);
    g->s0 = sel(m, n0, s0);
    g->s1 = sel(m, n1, s1);
    g->s2 = sel(m, _mm256_xor_si256(s2, t), g->s2);
    g->s3 = sel(m, rotl(s3, 11), g->s3);
    return r;
}

LB_INLINE __m256 vuniform(__m256i r) {
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(r, 8)), _mm256_set1_ps(0x1p-24f));
}

LB_INLINE __m256i vmulhi(__m256i r, __m256i v) {
    const __m256i ev = _mm256_srli_epi64(_mm256_mul_epu32(r, v), 32);
    const __m256i od = _mm256_mul_epu32(_mm256_srli_epi64(r, 32), v);
    return _mm256_blend_epi32(ev, od, 0xAA);
}

LB_INLINE int bits(__m256i m) { return _mm256_movemask_ps(_mm256_castsi256_ps(m)); }
LB_INLINE __m256i fmask(int b) {
    const __m256i sh = _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24);
    return _mm256_srai_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(b), sh), 31);
}

static void l_pass(const worm_desc *d, int32_t *LB_RESTRICT k, int32_t *LB_RESTRICT l, int32_t *LB_RESTRICT f,
                   vrng *rng, __m256i run, __m256i *la, __m256i *hit) {
    const int fmax = d->tab->fmax;
    const float *w2 = d->tab->w2, *inv = d->tab->inv;
    const int32_t *nbr = d->nbr;
    const int nlinks = 2 * d->v;
    const __m256i one = _mm256_set1_epi32(1), lim = _mm256_set1_epi32(fmax - 2), hi = _mm256_set1_epi32(fmax + 1);
    vrng g = *rng;
    __m256i acc = *la, h = _mm256_setzero_si256();
    for (int link = 0; link < nlinks; link++) {
        const int x = link >> 1, nu = link & 1;
        const int y = nbr[x * 4 + 2 * nu];
        const __m256i r = vdraw(&g, run);
        const __m256i up = _mm256_cmpeq_epi32(_mm256_and_si256(r, one), one);
        const __m256 u = vuniform(r);
        int32_t *lp = l + link * L, *fxp = f + x * L, *fyp = f + y * L;
        const __m256i lv = _mm256_loadu_si256((const __m256i *)lp);
        const __m256i kv = _mm256_loadu_si256((const __m256i *)(k + link * L));
        const __m256i a = _mm256_add_epi32(_mm256_abs_epi32(kv), lv);
        const __m256i fx = _mm256_loadu_si256((const __m256i *)fxp), fy = _mm256_loadu_si256((const __m256i *)fyp);
        const __m256 ia = _mm256_i32gather_ps(inv, _mm256_add_epi32(a, one), 4);
        const __m256 il = _mm256_i32gather_ps(inv, _mm256_add_epi32(lv, one), 4);
        const __m256 lf = _mm256_blendv_ps(_mm256_cvtepi32_ps(_mm256_mullo_epi32(a, lv)), _mm256_mul_ps(ia, il),
                                           _mm256_castsi256_ps(up));
        const __m256i base = _mm256_and_si256(up, hi);
        const __m256 wx = _mm256_i32gather_ps(w2, _mm256_add_epi32(base, fx), 4);
        const __m256 wy = _mm256_i32gather_ps(w2, _mm256_add_epi32(base, fy), 4);
        const __m256 rho = _mm256_mul_ps(_mm256_mul_ps(lf, wx), wy);
        h = _mm256_or_si256(h, _mm256_and_si256(up, _mm256_or_si256(_mm256_cmpgt_epi32(fx, lim), _mm256_cmpgt_epi32(fy, lim))));
        const __m256i ok = _mm256_and_si256(run, _mm256_castps_si256(_mm256_cmp_ps(u, rho, _CMP_LT_OQ)));
        const __m256i dl = _mm256_or_si256(_mm256_cmpeq_epi32(up, _mm256_setzero_si256()), one); /* up ? 1 : -1 */
        const __m256i df = _mm256_add_epi32(dl, dl);
        _mm256_maskstore_epi32(lp, ok, _mm256_add_epi32(lv, dl));
        _mm256_maskstore_epi32(fxp, ok, _mm256_add_epi32(fx, df));
        _mm256_maskstore_epi32(fyp, ok, _mm256_add_epi32(fy, df));
        acc = _mm256_sub_epi32(acc, ok);
    }
    *rng = g;
    *la = acc;
    *hit = _mm256_or_si256(*hit, _mm256_and_si256(h, run));
}

/* Writes the accepted head steps of the lanes ob back lane by lane (AVX2 has no scatter; the
 * addresses never collide): k[kidx] = kw, f[xidx] = xw, f[yidx] = yw. */
LB_INLINE void commit_head(int32_t *LB_RESTRICT k, int32_t *LB_RESTRICT f, int ob, __m256i kidx, __m256i kw, __m256i xidx,
                           __m256i xw, __m256i yidx, __m256i yw) {
    int32_t ki[L], kv[L], xi[L], xv[L], yi[L], yv[L];
    _mm256_storeu_si256((__m256i *)ki, kidx), _mm256_storeu_si256((__m256i *)kv, kw);
    _mm256_storeu_si256((__m256i *)xi, xidx), _mm256_storeu_si256((__m256i *)xv, xw);
    _mm256_storeu_si256((__m256i *)yi, yidx), _mm256_storeu_si256((__m256i *)yv, yw);
    do {
        const int i = __builtin_ctz((unsigned)ob);
        k[ki[i]] = kv[i];
        f[xi[i]] = xv[i];
        f[yi[i]] = yv[i];
        ob &= ob - 1;
    } while (ob);
}

/* The lanes in step (used with many short worms per sweep, where a sweep's worm phase is about as
 * long on every lane and the lock-step l passes are the cheaper ones): worms_per_sweep worms on
 * every lane of run, the lanes that are done idle until all are; returns the lanes stopped by a
 * table overflow. */
static __m256i worms(const worm_desc *d, int32_t *LB_RESTRICT k, const int32_t *LB_RESTRICT l,
                     int32_t *LB_RESTRICT f, vrng *rng, __m256i run, __m256i *hp, __m256i *ha, __m256i *nw) {
    const int fmax = d->tab->fmax;
    const float *w1 = d->tab->w1, *inv = d->tab->inv;
    const int32_t *nbr = d->nbr;
    const __m256i one = _mm256_set1_epi32(1), zero = _mm256_setzero_si256(), three = _mm256_set1_epi32(3),
                  lim = _mm256_set1_epi32(fmax - 1), hi = _mm256_set1_epi32(fmax + 1), vol = _mm256_set1_epi32(d->v);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 emu = _mm256_castps128_ps256(_mm_loadu_ps(d->emu));
    vrng g = *rng;
    __m256i head = zero, x0 = zero, delta = one;
    __m256i left = _mm256_and_si256(run, _mm256_set1_epi32(d->worms_per_sweep));
    __m256i p = *hp, a = *ha, n = *nw, hit = zero;
    __m256i start = d->worms_per_sweep > 0 ? run : zero, in = zero;
    int sb = bits(start), ib = 0;
    while (sb | ib) {
        if (sb) {
            x0 = sel(start, vmulhi(vdraw(&g, start), vol), x0);
            const __m256i r = vdraw(&g, start);
            delta = sel(start, _mm256_or_si256(_mm256_cmpeq_epi32(_mm256_and_si256(r, one), zero), one), delta);
            head = sel(start, x0, head);
            in = _mm256_or_si256(in, start);
        }
        const __m256i m = in;
        const __m256i r = vdraw(&g, m);
        const __m256i dir = _mm256_and_si256(r, three);
        const __m256 u = vuniform(r);
        const __m256i y = _mm256_mask_i32gather_epi32(head, nbr, _mm256_add_epi32(_mm256_slli_epi32(head, 2), dir), m, 4);
        const __m256i nu = _mm256_srli_epi32(dir, 1);
        const __m256i fwd = _mm256_cmpeq_epi32(_mm256_and_si256(dir, one), zero);
        const __m256i ls = sel(fwd, head, y);
        const __m256i kidx = _mm256_add_epi32(_mm256_slli_epi32(_mm256_add_epi32(_mm256_add_epi32(ls, ls), nu), 3), lane);
        const __m256i s = sel(fwd, delta, _mm256_sub_epi32(zero, delta));
        const __m256i hidx = _mm256_add_epi32(_mm256_slli_epi32(head, 3), lane);
        const __m256i yidx = _mm256_add_epi32(_mm256_slli_epi32(y, 3), lane);
        const __m256i kv = _mm256_mask_i32gather_epi32(zero, k, kidx, m, 4);
        const __m256i lv = _mm256_mask_i32gather_epi32(zero, l, kidx, m, 4);
        const __m256i fx = _mm256_mask_i32gather_epi32(zero, f, hidx, m, 4);
        const __m256i fy = _mm256_mask_i32gather_epi32(zero, f, yidx, m, 4);
        const __m256i kn = _mm256_add_epi32(kv, s);
        const __m256i gr = _mm256_cmpgt_epi32(_mm256_mullo_epi32(kv, s), _mm256_set1_epi32(-1)); /* kv*s >= 0 */
        const __m256 lg = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), inv, _mm256_add_epi32(_mm256_abs_epi32(kn), lv),
                                                   _mm256_castsi256_ps(_mm256_and_si256(m, gr)), 4);
        const __m256 lf = _mm256_blendv_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_abs_epi32(kv), lv)), lg,
                                           _mm256_castsi256_ps(gr));
        const __m256i eidx = _mm256_add_epi32(_mm256_add_epi32(nu, nu), _mm256_srli_epi32(_mm256_sub_epi32(zero, s), 31));
        const __m256 em = _mm256_permutevar8x32_ps(emu, eidx);
        const __m256i base = _mm256_and_si256(gr, hi);
        const __m256 mf = _mm256_castsi256_ps(m);
        const __m256 wx = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), w1, _mm256_add_epi32(base, fx), mf, 4);
        const __m256 wy = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), w1, _mm256_add_epi32(base, fy), mf, 4);
        const __m256 rho = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(lf, em), wx), wy);
        const __m256i hn = _mm256_and_si256(_mm256_and_si256(m, gr),
                                            _mm256_or_si256(_mm256_cmpgt_epi32(fx, lim), _mm256_cmpgt_epi32(fy, lim)));
        const __m256i ok = _mm256_and_si256(m, _mm256_castps_si256(_mm256_cmp_ps(u, rho, _CMP_LT_OQ)));
        const int ob = bits(ok);
        if (ob) {
            const __m256i df = _mm256_or_si256(_mm256_cmpeq_epi32(gr, zero), one); /* gr ? 1 : -1 */
            commit_head(k, f, ob, kidx, kn, hidx, _mm256_add_epi32(fx, df), yidx, _mm256_add_epi32(fy, df));
            head = sel(ok, y, head);
        }
        p = _mm256_sub_epi32(p, m);
        a = _mm256_sub_epi32(a, ok);
        hit = _mm256_or_si256(hit, hn);
        const __m256i live = _mm256_andnot_si256(hn, m);
        const __m256i closed = _mm256_and_si256(live, _mm256_cmpeq_epi32(head, x0));
        in = _mm256_andnot_si256(closed, live);
        n = _mm256_sub_epi32(n, closed);
        left = _mm256_add_epi32(left, closed);
        start = _mm256_and_si256(closed, _mm256_cmpgt_epi32(left, zero));
        sb = bits(start), ib = bits(in);
    }
    *rng = g;
    *hp = p, *ha = a, *nw = n;
    return hit;
}

typedef struct {
    __m256i pos, head, x0, delta, wleft, swleft, started;
    __m256i lm, in, st, hitl, dead; /* lane masks: in an l pass, in a worm, starting one, l-pass overflow, stopped */
    const worm_hook *hook;
    const worm_block *b;
} lanes_state;

/* The lanes of run have completed sweep started[lane]: the lanes the hook (if any) stops. */
static __m256i hook_stops(const worm_hook *h, const worm_block *b, __m256i run, __m256i started) {
    int32_t done[L];
    _mm256_storeu_si256((__m256i *)done, started);
    return fmask((int)worm_hook_run(h, b, (unsigned)bits(run), done));
}

/* A lane has ended a sweep: it starts its next one (an l pass of its own) or is done. */
LB_INLINE void end_sweep(lanes_state *q, __m256i e) {
    if (q->hook && bits(e)) e = _mm256_andnot_si256(hook_stops(q->hook, q->b, e, q->started), e);
    const __m256i next = _mm256_and_si256(e, _mm256_cmpgt_epi32(q->swleft, _mm256_setzero_si256()));
    q->swleft = _mm256_add_epi32(q->swleft, next);
    q->started = _mm256_sub_epi32(q->started, next);
    q->pos = _mm256_andnot_si256(next, q->pos);
    q->lm = _mm256_or_si256(q->lm, next);
}

/* A lane has ended its l pass: worms_per_sweep worms follow (or, with none, the sweep ends). */
LB_INLINE void end_lpass(lanes_state *q, __m256i e, int wps) {
    q->wleft = sel(e, _mm256_set1_epi32(wps), q->wleft);
    if (wps > 0)
        q->st = _mm256_or_si256(q->st, e);
    else
        end_sweep(q, e);
}

/* Per-lane counts in 32 bits, widened into tot[4][L] (head prop, head acc, worms, l acc). */
static void flush(__m256i cnt[4], uint64_t tot[4][L]) {
    for (int i = 0; i < 4; i++) {
        uint32_t c[L];
        _mm256_storeu_si256((__m256i *)c, cnt[i]);
        for (int j = 0; j < L; j++) tot[i][j] += c[j];
        cnt[i] = _mm256_setzero_si256();
    }
}

/* Lanes q->st start a worm each: a uniform site x0 where the head starts, and a sign delta
 * (two draws, as in the scalar code). */
LB_INLINE void start_worms(lanes_state *q, vrng *g, __m256i vol) {
    const __m256i s = q->st, one = _mm256_set1_epi32(1);
    q->x0 = sel(s, vmulhi(vdraw(g, s), vol), q->x0);
    const __m256i r = vdraw(g, s);
    q->delta = sel(s, _mm256_or_si256(_mm256_cmpeq_epi32(_mm256_and_si256(r, one), _mm256_setzero_si256()), one), q->delta);
    q->head = sel(s, q->x0, q->head);
    q->in = _mm256_or_si256(q->in, s);
    q->st = _mm256_setzero_si256();
}

/* Writes the accepted updates of the lanes ob back lane by lane (the addresses never collide):
 * kw to k (head lanes) or to l (l lanes, lmb) at kidx, f[xidx] = xw, f[yidx] = yw. */
LB_INLINE void commit(int32_t *LB_RESTRICT k, int32_t *LB_RESTRICT l, int32_t *LB_RESTRICT f, int ob, int lmb,
                      __m256i kidx, __m256i kw, __m256i xidx, __m256i xw, __m256i yidx, __m256i yw) {
    int32_t ki[L], kv[L], xi[L], xv[L], yi[L], yv[L];
    _mm256_storeu_si256((__m256i *)ki, kidx), _mm256_storeu_si256((__m256i *)kv, kw);
    _mm256_storeu_si256((__m256i *)xi, xidx), _mm256_storeu_si256((__m256i *)xv, xw);
    _mm256_storeu_si256((__m256i *)yi, yidx), _mm256_storeu_si256((__m256i *)yv, yw);
    const unsigned okl = (unsigned)(ob & lmb);
    for (unsigned bb = (unsigned)ob & ~okl; bb; bb &= bb - 1) k[ki[__builtin_ctz(bb)]] = kv[__builtin_ctz(bb)];
    for (unsigned bb = okl; bb; bb &= bb - 1) l[ki[__builtin_ctz(bb)]] = kv[__builtin_ctz(bb)];
    for (unsigned bb = (unsigned)ob; bb; bb &= bb - 1) {
        const int i = __builtin_ctz(bb);
        f[xi[i]] = xv[i], f[yi[i]] = yv[i];
    }
}

/* The table factors of one update, gathered: ainv = inv[aidx] (lanes gr), binv = inv[l1] (lanes
 * up, else 1), wx, wy = the W ratio at f = fx, fy (w1 for head lanes in, w2 for l lanes lm; the
 * "grows" half, from hi = fmax + 1 on, on lanes gr). */
LB_INLINE void lookup(const worm_tables *t, __m256i hi, int lmb, __m256i lm, __m256i in, __m256i up, __m256i gr,
                      __m256i aidx, __m256i l1, __m256i fx, __m256i fy, __m256 *ainv, __m256 *binv, __m256 *wx, __m256 *wy) {
    *ainv = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), t->inv, aidx, _mm256_castsi256_ps(gr), 4);
    *binv = _mm256_mask_i32gather_ps(_mm256_set1_ps(1.0f), t->inv, l1, _mm256_castsi256_ps(up), 4);
    const __m256i base = _mm256_and_si256(gr, hi);
    const __m256i ix = _mm256_add_epi32(base, fx), iy = _mm256_add_epi32(base, fy);
    *wx = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), t->w1, ix, _mm256_castsi256_ps(in), 4);
    *wy = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), t->w1, iy, _mm256_castsi256_ps(in), 4);
    if (lmb) {
        *wx = _mm256_mask_i32gather_ps(*wx, t->w2, ix, _mm256_castsi256_ps(lm), 4);
        *wy = _mm256_mask_i32gather_ps(*wy, t->w2, iy, _mm256_castsi256_ps(lm), 4);
    }
}

/* After an update: l lanes step to their next link (an overflow is recorded, the pass goes on);
 * head lanes stop on an overflow or close their worm; lanes whose worm, l pass or sweep ended
 * move on.  nw counts the closed worms (down). */
LB_INLINE void retire(lanes_state *q, __m256i hn, __m256i nl, int wps, __m256i *nw) {
    const __m256i lm = q->lm, in = q->in;
    /* l lanes: a table overflow is recorded and the pass goes on (as in the scalar code) */
    q->hitl = _mm256_or_si256(q->hitl, _mm256_and_si256(hn, lm));
    q->pos = _mm256_sub_epi32(q->pos, lm);
    const __m256i ldone = _mm256_and_si256(lm, _mm256_cmpeq_epi32(q->pos, nl));
    /* head lanes: an overflow stops the chain at once */
    const __m256i hw = _mm256_and_si256(hn, in), live = _mm256_andnot_si256(hw, in);
    const __m256i closed = _mm256_and_si256(live, _mm256_cmpeq_epi32(q->head, q->x0));
    q->in = _mm256_andnot_si256(closed, live);
    *nw = _mm256_sub_epi32(*nw, closed);
    q->wleft = _mm256_add_epi32(q->wleft, closed);
    const __m256i more = _mm256_and_si256(closed, _mm256_cmpgt_epi32(q->wleft, _mm256_setzero_si256()));
    q->st = _mm256_or_si256(q->st, more);
    q->dead = _mm256_or_si256(q->dead, _mm256_or_si256(hw, _mm256_and_si256(ldone, q->hitl)));
    q->lm = _mm256_andnot_si256(ldone, lm);
    end_sweep(q, _mm256_andnot_si256(more, closed));
    end_lpass(q, _mm256_andnot_si256(q->hitl, ldone), wps);
}

/* Everything after the first (lock-step) l pass, lane by lane, as in worm-avx512.c (read its
 * comment): one iteration is a head step or an l update of the lane's own next link for every busy
 * lane, so a lane whose worms end early goes on with its next sweep instead of idling. */
static void unified(const worm_desc *d, const worm_block *b, const worm_hook *hook, vrng *rng, __m256i run,
                    int nsweeps, __m256i cnt[4], uint64_t tot[4][L], __m256i *started, __m256i *hit) {
    int32_t *LB_RESTRICT k = b->k, *LB_RESTRICT l = b->l, *LB_RESTRICT f = b->f;
    const int fmax = d->tab->fmax, wps = d->worms_per_sweep;
    const int32_t *nbr = d->nbr;
    const __m256i one = _mm256_set1_epi32(1), zero = _mm256_setzero_si256(), three = _mm256_set1_epi32(3),
                  two = _mm256_set1_epi32(2), hi = _mm256_set1_epi32(fmax + 1), vol = _mm256_set1_epi32(d->v),
                  nl = _mm256_set1_epi32(2 * d->v), m1 = _mm256_set1_epi32(-1);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i liml = _mm256_set1_epi32(fmax - 2), limw = _mm256_set1_epi32(fmax - 1);
    const __m256 emu = _mm256_castps128_ps256(_mm_loadu_ps(d->emu));
    vrng g = *rng;
    __m256i hp = cnt[0], ha = cnt[1], nw = cnt[2], la = cnt[3];
    lanes_state q = {.pos = zero, .head = zero, .x0 = zero, .delta = one, .wleft = zero,
                     .swleft = _mm256_and_si256(run, _mm256_set1_epi32(nsweeps - 1)), .started = *started,
                     .lm = zero, .in = zero, .st = zero, .hitl = zero, .dead = zero, .hook = hook, .b = b};
    end_lpass(&q, run, wps);
    /* a count grows by at most one per iteration: widen them long before 32 bits could wrap */
    for (long it = 1; bits(_mm256_or_si256(_mm256_or_si256(q.lm, q.in), q.st)); it++) {
        if (!(it & ((1L << 28) - 1))) {
            cnt[0] = hp, cnt[1] = ha, cnt[2] = nw, cnt[3] = la;
            flush(cnt, tot);
            hp = cnt[0], ha = cnt[1], nw = cnt[2], la = cnt[3];
        }
        if (bits(q.st)) start_worms(&q, &g, vol);
        const __m256i lm = q.lm, in = q.in, m = _mm256_or_si256(lm, in);
        const int lmb = bits(lm);
        const __m256i r = vdraw(&g, m);
        const __m256 u = vuniform(r);
        const __m256i nul = _mm256_and_si256(q.pos, one);
        const __m256i dir = sel(lm, _mm256_add_epi32(nul, nul), _mm256_and_si256(r, three));
        const __m256i xs = sel(lm, _mm256_srli_epi32(q.pos, 1), q.head);
        const __m256i y = _mm256_mask_i32gather_epi32(xs, nbr, _mm256_add_epi32(_mm256_slli_epi32(xs, 2), dir), m, 4);
        const __m256i nu = _mm256_srli_epi32(dir, 1);
        const __m256i fwd = _mm256_or_si256(lm, _mm256_cmpeq_epi32(_mm256_and_si256(dir, one), zero));
        const __m256i ls = sel(fwd, xs, y);
        const __m256i kidx = _mm256_add_epi32(_mm256_slli_epi32(_mm256_add_epi32(_mm256_add_epi32(ls, ls), nu), 3), lane);
        const __m256i xidx = _mm256_add_epi32(_mm256_slli_epi32(xs, 3), lane);
        const __m256i yidx = _mm256_add_epi32(_mm256_slli_epi32(y, 3), lane);
        const __m256i kv = _mm256_mask_i32gather_epi32(zero, k, kidx, m, 4);
        const __m256i lv = _mm256_mask_i32gather_epi32(zero, l, kidx, m, 4);
        const __m256i fx = _mm256_mask_i32gather_epi32(zero, f, xidx, m, 4);
        const __m256i fy = _mm256_mask_i32gather_epi32(zero, f, yidx, m, 4);
        const __m256i s = sel(fwd, q.delta, _mm256_sub_epi32(zero, q.delta));
        const __m256i kn = _mm256_add_epi32(kv, s);
        const __m256i akl = _mm256_add_epi32(_mm256_abs_epi32(kv), lv);
        const __m256i up = _mm256_and_si256(lm, _mm256_cmpeq_epi32(_mm256_and_si256(r, one), one));
        const __m256i gw = _mm256_and_si256(in, _mm256_cmpgt_epi32(_mm256_mullo_epi32(kv, s), m1)); /* kv*s >= 0 */
        const __m256i gr = _mm256_or_si256(up, gw); /* f grows at both ends */
        const __m256i aidx = sel(lm, _mm256_add_epi32(akl, one), _mm256_add_epi32(_mm256_abs_epi32(kn), lv));
        __m256 ainv, binv, wx, wy;
        lookup(d->tab, hi, lmb, lm, in, up, gr, aidx, _mm256_add_epi32(lv, one), fx, fy, &ainv, &binv, &wx, &wy);
        const __m256i aint = sel(lm, _mm256_mullo_epi32(akl, lv), akl);
        const __m256 A = _mm256_blendv_ps(_mm256_cvtepi32_ps(aint), ainv, _mm256_castsi256_ps(gr));
        const __m256i eidx = _mm256_add_epi32(_mm256_add_epi32(nu, nu), _mm256_srli_epi32(_mm256_sub_epi32(zero, s), 31));
        const __m256 B = _mm256_blendv_ps(_mm256_permutevar8x32_ps(emu, eidx), binv, _mm256_castsi256_ps(lm));
        const __m256 rho = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(A, B), wx), wy);
        const __m256i lim = sel(lm, liml, limw);
        const __m256i hn = _mm256_and_si256(gr, _mm256_or_si256(_mm256_cmpgt_epi32(fx, lim), _mm256_cmpgt_epi32(fy, lim)));
        const __m256i ok = _mm256_and_si256(m, _mm256_castps_si256(_mm256_cmp_ps(u, rho, _CMP_LT_OQ)));
        const int ob = bits(ok);
        if (ob) {
            const __m256i mag = sel(lm, two, one);
            const __m256i df = sel(gr, mag, _mm256_sub_epi32(zero, mag));
            const __m256i dl = _mm256_or_si256(_mm256_cmpeq_epi32(up, zero), one); /* up ? 1 : -1 */
            commit(k, l, f, ob, lmb, kidx, sel(lm, _mm256_add_epi32(lv, dl), kn), xidx, _mm256_add_epi32(fx, df), yidx,
                   _mm256_add_epi32(fy, df));
            q.head = sel(_mm256_and_si256(ok, in), y, q.head);
        }
        hp = _mm256_sub_epi32(hp, in);
        ha = _mm256_sub_epi32(ha, _mm256_and_si256(ok, in));
        la = _mm256_sub_epi32(la, _mm256_and_si256(ok, lm));
        retire(&q, hn, nl, wps, &nw);
    }
    *rng = g;
    cnt[0] = hp, cnt[1] = ha, cnt[2] = nw, cnt[3] = la;
    *started = q.started;
    *hit = _mm256_or_si256(*hit, q.dead);
}

void worm_sweep__avx2(const worm_desc *d, worm_block *b, int nsweeps, const worm_hook *hook) {
    if (b->lanes != L) {
        worm_sweep__scalar(d, b, nsweeps, hook);
        return;
    }
    uint64_t *st = b->stat;
    int hb = 0;
    for (int c = 0; c < b->active; c++)
        if (st[WORM_STAT_FMAX_HIT * L + c]) hb |= 1 << c;
    __m256i hit = fmask(hb);
    __m256i run = _mm256_andnot_si256(hit, fmask((1 << b->active) - 1));
    if (nsweeps <= 0 || !bits(run)) return;
    vrng g = {_mm256_loadu_si256((const __m256i *)b->rng), _mm256_loadu_si256((const __m256i *)(b->rng + L)),
              _mm256_loadu_si256((const __m256i *)(b->rng + 2 * L)), _mm256_loadu_si256((const __m256i *)(b->rng + 3 * L))};
    uint64_t tot[4][L] = {{0}};
    __m256i cnt[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    __m256i started = _mm256_and_si256(run, _mm256_set1_epi32(1));
    /* every chain is at the start of a sweep: the first l pass runs in lock step, contiguous */
    l_pass(d, b->k, b->l, b->f, &g, run, &cnt[3], &hit);
    if (d->worms_per_sweep >= IN_STEP_WPS) {
        for (int s = 0; s < nsweeps && bits(run = _mm256_andnot_si256(hit, run)); s++) {
            if (s) {
                started = _mm256_sub_epi32(started, run);
                l_pass(d, b->k, b->l, b->f, &g, run, &cnt[3], &hit);
                run = _mm256_andnot_si256(hit, run);
            }
            hit = _mm256_or_si256(hit, worms(d, b->k, b->l, b->f, &g, run, &cnt[0], &cnt[1], &cnt[2]));
            flush(cnt, tot);
            run = _mm256_andnot_si256(hit, run);
            if (hook && bits(run)) run = _mm256_andnot_si256(hook_stops(hook, b, run, started), run);
        }
    } else if (d->worms_per_sweep > 0) {
        unified(d, b, hook, &g, _mm256_andnot_si256(hit, run), nsweeps, cnt, tot, &started, &hit);
    } else { /* no worms: the lanes stay in step, every l pass is contiguous */
        for (int s = 1;; s++) {
            run = _mm256_andnot_si256(hit, run);
            if (hook && bits(run)) run = _mm256_andnot_si256(hook_stops(hook, b, run, started), run);
            if (s >= nsweeps || !bits(run)) break;
            started = _mm256_sub_epi32(started, run);
            flush(cnt, tot);
            l_pass(d, b->k, b->l, b->f, &g, run, &cnt[3], &hit);
        }
    }
    flush(cnt, tot);
    _mm256_storeu_si256((__m256i *)b->rng, g.s0), _mm256_storeu_si256((__m256i *)(b->rng + L), g.s1);
    _mm256_storeu_si256((__m256i *)(b->rng + 2 * L), g.s2), _mm256_storeu_si256((__m256i *)(b->rng + 3 * L), g.s3);
    uint32_t sw[L];
    _mm256_storeu_si256((__m256i *)sw, started);
    hb = bits(hit);
    for (int c = 0; c < b->active; c++) {
        st[WORM_STAT_HEAD_PROP * L + c] += tot[0][c];
        st[WORM_STAT_HEAD_ACC * L + c] += tot[1][c];
        st[WORM_STAT_WORMS * L + c] += tot[2][c];
        st[WORM_STAT_L_ACC * L + c] += tot[3][c];
        st[WORM_STAT_L_PROP * L + c] += (uint64_t)sw[c] * 2 * (uint64_t)d->v;
        st[WORM_STAT_FMAX_HIT * L + c] |= (uint64_t)((hb >> c) & 1);
    }
}

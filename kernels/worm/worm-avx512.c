/* The worm update, AVX-512: 16 chains per block, one chain per 32-bit lane (kernels/worm/worm.h is
 * the contract; worm-scalar.c the reference this file reproduces bit for bit).
 *
 * A call starts with every chain at the beginning of a sweep, so the first l pass runs in lock
 * step: every lane visits the same link at once, k, l and f are contiguous vector loads and masked
 * stores.  After it each lane goes its own way (unified()): one loop iteration makes one elementary
 * update of every busy lane, a head step of its worm or, once its worms of the sweep are done, an
 * l update of its own next link in its next sweep, with per-lane indices (link*16 + lane,
 * site*16 + lane) driving gathers of nbr, k, l and f.  A lane idles only when it has finished
 * all the sweeps of the call (with no worms the lanes stay in step and every l pass is a lock-step
 * one).  Accepted moves are written back with scatters (lanes never share an address, and a
 * lane's two sites differ): on Zen 5 they measured 15-19% faster per sweep than the lane-by-lane
 * scalar stores, whose variable-length loops mispredict (on Zen 4 the scatter had lost).
 * Acceptance tables: the first 32 entries of inv, w1 and w2 rows sit in registers and a lookup is
 * one permute (the same float); a step where any lane indexes beyond 32 gathers instead.
 * Each lane's generator advances only under its own mask, so it draws exactly the scalar sequence
 * (l update: one draw; worm start: two; head step: one).  Arithmetic: the same float32 products in
 * the same order, int->float conversions of the same integers, `u < rho` as an ordered less-than;
 * an l update in unified() is ((A*B)*wx)*wy with B = 1.0f for a down move, which is exact.  A table
 * overflow stops the lane exactly where the scalar code stops that chain. */
#include <immintrin.h>
#include "kernels/worm/worm.h"

#define L 16

typedef struct {
    __m512i s0, s1, s2, s3;
} vrng;

/* xoshiro128** on the lanes of m; other lanes keep their state (each masked op merges). */
LB_INLINE __m512i vdraw(vrng *g, __mmask16 m) {
    const __m512i s1 = g->s1;
    const __m512i x = _mm512_add_epi32(s1, _mm512_slli_epi32(s1, 2));
    const __m512i y = _mm512_rol_epi32(x, 7);
    const __m512i r = _mm512_add_epi32(y, _mm512_slli_epi32(y, 3));
    const __m512i t = _mm512_slli_epi32(s1, 9);
    g->s2 = _mm512_mask_xor_epi32(g->s2, m, g->s2, g->s0);
    g->s3 = _mm512_mask_xor_epi32(g->s3, m, g->s3, g->s1);
    g->s1 = _mm512_mask_xor_epi32(g->s1, m, g->s1, g->s2);
    g->s0 = _mm512_mask_xor_epi32(g->s0, m, g->s0, g->s3);
    g->s2 = _mm512_mask_xor_epi32(g->s2, m, g->s2, t);
    g->s3 = _mm512_mask_rol_epi32(g->s3, m, g->s3, 11);
    return r;
}

LB_INLINE __m512 vuniform(__m512i r) {
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(r, 8)), _mm512_set1_ps(0x1p-24f));
}

/* (r * v) >> 32 per lane, 32x32 -> 64-bit products. */
LB_INLINE __m512i vmulhi(__m512i r, __m512i v) {
    const __m512i ev = _mm512_srli_epi64(_mm512_mul_epu32(r, v), 32);
    const __m512i od = _mm512_mul_epu32(_mm512_srli_epi64(r, 32), v);
    return _mm512_mask_blend_epi32(0xAAAA, ev, od);
}

/* The first 32 entries of a table row in two registers: a lookup with an index < 32 is one
 * permute instead of a gather, and reads the same float.  f, |k| + l and l stay small in
 * practice; a step where any lane's index is larger falls back to the gathers. */
typedef struct {
    __m512 lo, hi;
} win;
LB_INLINE win win_load(const float *t) {
    return t ? (win){_mm512_loadu_ps(t), _mm512_loadu_ps(t + 16)} : (win){_mm512_setzero_ps(), _mm512_setzero_ps()};
}
LB_INLINE __m512 win_get(win w, __m512i i) { return _mm512_permutex2var_ps(w.lo, i, w.hi); }
LB_INLINE __mmask16 win_miss(__mmask16 m, __m512i i) { return _mm512_mask_test_epi32_mask(m, i, _mm512_set1_epi32(~31)); }

static void l_pass(const worm_desc *d, int32_t *LB_RESTRICT k, int32_t *LB_RESTRICT l, int32_t *LB_RESTRICT f,
                   vrng *rng, __mmask16 run, __m512i *la, __mmask16 *hit) {
    const int fmax = d->tab->fmax;
    const float *w2 = d->tab->w2, *inv = d->tab->inv;
    const int32_t *nbr = d->nbr;
    const int nlinks = 2 * d->v;
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2), lim = _mm512_set1_epi32(fmax - 2),
                  hi = _mm512_set1_epi32(fmax + 1);
    const int windows = fmax >= 31; /* rows of at least 32 entries */
    const win winv = win_load(windows ? inv : NULL), wd = win_load(windows ? w2 : NULL),
              wu = win_load(windows ? w2 + fmax + 1 : NULL);
    vrng g = *rng;
    __m512i acc = *la;
    __mmask16 h = 0;
    for (int link = 0; link < nlinks; link++) {
        const int x = link >> 1, nu = link & 1;
        const int y = nbr[x * 4 + 2 * nu];
        const __m512i r = vdraw(&g, run);
        const __mmask16 up = _mm512_test_epi32_mask(r, one);
        const __m512 u = vuniform(r);
        int32_t *lp = l + link * L, *fxp = f + x * L, *fyp = f + y * L;
        const __m512i lv = _mm512_loadu_si512(lp), kv = _mm512_loadu_si512(k + link * L);
        const __m512i a = _mm512_add_epi32(_mm512_abs_epi32(kv), lv);
        const __m512i fx = _mm512_loadu_si512(fxp), fy = _mm512_loadu_si512(fyp);
        const __m512i a1 = _mm512_add_epi32(a, one), l1 = _mm512_add_epi32(lv, one);
        __m512 ia, il, wx, wy;
        if (windows && !win_miss(0xFFFF, _mm512_or_si512(a1, _mm512_or_si512(fx, fy)))) { /* l + 1 <= a + 1 */
            ia = win_get(winv, a1), il = win_get(winv, l1);
            wx = _mm512_mask_blend_ps(up, win_get(wd, fx), win_get(wu, fx));
            wy = _mm512_mask_blend_ps(up, win_get(wd, fy), win_get(wu, fy));
        } else {
            ia = _mm512_i32gather_ps(a1, inv, 4), il = _mm512_i32gather_ps(l1, inv, 4);
            const __m512i base = _mm512_maskz_mov_epi32(up, hi);
            wx = _mm512_i32gather_ps(_mm512_add_epi32(base, fx), w2, 4);
            wy = _mm512_i32gather_ps(_mm512_add_epi32(base, fy), w2, 4);
        }
        const __m512 lf = _mm512_mask_blend_ps(up, _mm512_cvtepi32_ps(_mm512_mullo_epi32(a, lv)), _mm512_mul_ps(ia, il));
        const __m512 rho = _mm512_mul_ps(_mm512_mul_ps(lf, wx), wy);
        h |= up & (_mm512_cmpgt_epi32_mask(fx, lim) | _mm512_cmpgt_epi32_mask(fy, lim));
        const __mmask16 ok = _mm512_mask_cmp_ps_mask(run, u, rho, _CMP_LT_OQ);
        const __m512i dl = _mm512_mask_blend_epi32(up, _mm512_set1_epi32(-1), one);
        const __m512i df = _mm512_mask_blend_epi32(up, _mm512_set1_epi32(-2), two);
        _mm512_mask_storeu_epi32(lp, ok, _mm512_add_epi32(lv, dl));
        _mm512_mask_storeu_epi32(fxp, ok, _mm512_add_epi32(fx, df));
        _mm512_mask_storeu_epi32(fyp, ok, _mm512_add_epi32(fy, df));
        acc = _mm512_mask_add_epi32(acc, ok, acc, one);
    }
    *rng = g;
    *la = acc;
    *hit |= h & run;
}

typedef struct {
    __m512i pos, head, x0, delta, wleft, swleft, started;
    __mmask16 lm, in, st, hitl, dead;
    const worm_hook *hook;
    const worm_block *b;
} lanes_state;

/* The lanes of run have completed sweep started[lane]: the hook (if any) may stop some of them. */
static __mmask16 hook_stops(const worm_hook *h, const worm_block *b, __mmask16 run, __m512i started) {
    int32_t done[L];
    _mm512_storeu_si512(done, started);
    return (__mmask16)worm_hook_run(h, b, run, done);
}

/* A lane has ended a sweep: it starts its next one (an l pass of its own) or is done. */
LB_INLINE void end_sweep(lanes_state *q, __mmask16 e) {
    if (q->hook && e) e &= ~hook_stops(q->hook, q->b, e, q->started);
    const __mmask16 next = _mm512_mask_cmpgt_epi32_mask(e, q->swleft, _mm512_setzero_si512());
    q->swleft = _mm512_mask_sub_epi32(q->swleft, next, q->swleft, _mm512_set1_epi32(1));
    q->started = _mm512_mask_add_epi32(q->started, next, q->started, _mm512_set1_epi32(1));
    q->pos = _mm512_mask_mov_epi32(q->pos, next, _mm512_setzero_si512());
    q->lm |= next;
}

/* A lane has ended its l pass: worms_per_sweep worms follow (or, with none, the sweep ends). */
LB_INLINE void end_lpass(lanes_state *q, __mmask16 e, int wps) {
    q->wleft = _mm512_mask_mov_epi32(q->wleft, e, _mm512_set1_epi32(wps));
    if (wps > 0)
        q->st |= e;
    else
        end_sweep(q, e);
}

/* Per-lane counts in 32 bits, widened into tot[4][L] (head prop, head acc, worms, l acc). */
static void flush(__m512i cnt[4], uint64_t tot[4][L]) {
    for (int i = 0; i < 4; i++) {
        uint32_t c[L];
        _mm512_storeu_si512(c, cnt[i]);
        for (int j = 0; j < L; j++) tot[i][j] += c[j];
        cnt[i] = _mm512_setzero_si512();
    }
}

/* Lanes q->st start a worm each: a uniform site x0 where the head starts, and a sign delta
 * (two draws, as in the scalar code). */
LB_INLINE void start_worms(lanes_state *q, vrng *g, __m512i vol) {
    const __mmask16 s = q->st;
    const __m512i one = _mm512_set1_epi32(1);
    q->x0 = _mm512_mask_mov_epi32(q->x0, s, vmulhi(vdraw(g, s), vol));
    const __mmask16 pos = _mm512_test_epi32_mask(vdraw(g, s), one);
    q->delta = _mm512_mask_mov_epi32(q->delta, s, _mm512_mask_blend_epi32(pos, _mm512_set1_epi32(-1), one));
    q->head = _mm512_mask_mov_epi32(q->head, s, q->x0);
    q->in |= s;
    q->st = 0;
}

/* The acceptance tables of unified(): rows in memory and, when every row has 32 entries
 * (windows), their first 32 in registers. */
typedef struct {
    const float *inv, *w1, *w2;
    __m512i hi; /* fmax + 1: where a table's "f grows" half starts */
    int windows;
    win inv_w, w1d, w1u, w2d, w2u;
} tables;

LB_INLINE tables tables_load(const worm_desc *d) {
    const int fmax = d->tab->fmax, windows = fmax >= 31;
    const float *w1 = d->tab->w1, *w2 = d->tab->w2, *inv = d->tab->inv;
    return (tables){.inv = inv, .w1 = w1, .w2 = w2, .hi = _mm512_set1_epi32(fmax + 1), .windows = windows,
                    .inv_w = win_load(windows ? inv : NULL), .w1d = win_load(windows ? w1 : NULL),
                    .w1u = win_load(windows ? w1 + fmax + 1 : NULL), .w2d = win_load(windows ? w2 : NULL),
                    .w2u = win_load(windows ? w2 + fmax + 1 : NULL)};
}

/* The table factors of one update: ainv = inv[aidx] (lanes gr), binv = inv[l1] (lanes up, else
 * 1), wx, wy = the W ratio at f = fx, fy (w1 for head lanes in, w2 for l lanes lm; the "grows"
 * half on lanes gr).  One permute each when every index of m is < 32, else gathers. */
LB_INLINE void lookup(const tables *t, __mmask16 m, __mmask16 lm, __mmask16 in, __mmask16 up, __mmask16 gr,
                      __m512i aidx, __m512i l1, __m512i fx, __m512i fy, __m512 *ainv, __m512 *binv, __m512 *wx, __m512 *wy) {
    const __m512 fone = _mm512_set1_ps(1.0f);
    if (t->windows && !win_miss(m, _mm512_or_si512(_mm512_or_si512(aidx, l1), _mm512_or_si512(fx, fy)))) {
        *ainv = win_get(t->inv_w, aidx);
        *binv = _mm512_mask_blend_ps(up, fone, win_get(t->inv_w, l1));
        *wx = _mm512_mask_blend_ps(gr, win_get(t->w1d, fx), win_get(t->w1u, fx));
        *wy = _mm512_mask_blend_ps(gr, win_get(t->w1d, fy), win_get(t->w1u, fy));
        if (lm) {
            *wx = _mm512_mask_blend_ps(lm, *wx, _mm512_mask_blend_ps(gr, win_get(t->w2d, fx), win_get(t->w2u, fx)));
            *wy = _mm512_mask_blend_ps(lm, *wy, _mm512_mask_blend_ps(gr, win_get(t->w2d, fy), win_get(t->w2u, fy)));
        }
    } else {
        *ainv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), gr, aidx, t->inv, 4);
        *binv = _mm512_mask_i32gather_ps(fone, up, l1, t->inv, 4);
        const __m512i base = _mm512_maskz_mov_epi32(gr, t->hi);
        const __m512i ix = _mm512_add_epi32(base, fx), iy = _mm512_add_epi32(base, fy);
        *wx = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), in, ix, t->w1, 4);
        *wy = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), in, iy, t->w1, 4);
        if (lm) {
            *wx = _mm512_mask_i32gather_ps(*wx, lm, ix, t->w2, 4);
            *wy = _mm512_mask_i32gather_ps(*wy, lm, iy, t->w2, 4);
        }
    }
}

/* After an update: l lanes step to their next link (an overflow is recorded, the pass goes on);
 * head lanes stop on an overflow or close their worm; lanes whose worm, l pass or sweep ended
 * move on.  nw counts the closed worms. */
LB_INLINE void retire(lanes_state *q, __mmask16 hn, __m512i nl, int wps, __m512i *nw) {
    const __m512i one = _mm512_set1_epi32(1), zero = _mm512_setzero_si512();
    const __mmask16 lm = q->lm, in = q->in;
    /* l lanes: a table overflow is recorded and the pass goes on (as in the scalar code) */
    q->hitl |= hn & lm;
    q->pos = _mm512_mask_add_epi32(q->pos, lm, q->pos, one);
    const __mmask16 ldone = _mm512_mask_cmpeq_epi32_mask(lm, q->pos, nl);
    /* head lanes: an overflow stops the chain at once */
    const __mmask16 hw = hn & in;
    const __mmask16 closed = _mm512_mask_cmpeq_epi32_mask(in & ~hw, q->head, q->x0);
    q->in = in & ~hw & ~closed;
    *nw = _mm512_mask_add_epi32(*nw, closed, *nw, one);
    q->wleft = _mm512_mask_sub_epi32(q->wleft, closed, q->wleft, one);
    const __mmask16 more = _mm512_mask_cmpgt_epi32_mask(closed, q->wleft, zero);
    q->st |= more;
    q->dead |= hw | (ldone & q->hitl);
    q->lm = lm & ~ldone;
    end_sweep(q, closed & ~more);
    end_lpass(q, ldone & ~q->hitl, wps);
}

/* Everything after the first (lock-step) l pass, lane by lane: the worms of the first sweep, then
 * whole sweeps.  One iteration is one elementary update of every busy lane, a head step or an l
 * update of the lane's own next link (both are "a link between x and y, a factor A*B, the W ratios
 * at both ends"), so a lane whose worms end early goes on with its next sweep instead of idling;
 * lanes idle only at the end of the call.  Each lane's draws and arithmetic are those of the scalar
 * code in the same order: an l update is ((A*B)*wx)*wy with A*B = inv[a+1]*inv[l+1] (up) or
 * (float)(a*l) * 1.0f (down, exact), a head step ((lf*em)*wx)*wy. */
static void unified(const worm_desc *d, const worm_block *b, const worm_hook *hook, vrng *rng, __mmask16 run,
                    int nsweeps, __m512i cnt[4], uint64_t tot[4][L], __m512i *started, __mmask16 *hit) {
    int32_t *LB_RESTRICT k = b->k, *LB_RESTRICT l = b->l, *LB_RESTRICT f = b->f;
    const int fmax = d->tab->fmax, wps = d->worms_per_sweep;
    const int32_t *nbr = d->nbr;
    const __m512i one = _mm512_set1_epi32(1), zero = _mm512_setzero_si512(), three = _mm512_set1_epi32(3),
                  vol = _mm512_set1_epi32(d->v), nl = _mm512_set1_epi32(2 * d->v);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 emu = _mm512_broadcast_f32x4(_mm_loadu_ps(d->emu));
    const tables t = tables_load(d);
    vrng g = *rng;
    __m512i hp = cnt[0], ha = cnt[1], nw = cnt[2], la = cnt[3];
    lanes_state q = {.pos = zero, .head = zero, .x0 = zero, .delta = one, .wleft = zero,
                     .swleft = _mm512_maskz_mov_epi32(run, _mm512_set1_epi32(nsweeps - 1)), .started = *started,
                     .hook = hook, .b = b};
    end_lpass(&q, run, wps);
    /* a count grows by at most one per iteration: widen them long before 32 bits could wrap */
    for (long it = 1; q.lm | q.in | q.st; it++) {
        if (!(it & ((1L << 28) - 1))) {
            cnt[0] = hp, cnt[1] = ha, cnt[2] = nw, cnt[3] = la;
            flush(cnt, tot);
            hp = cnt[0], ha = cnt[1], nw = cnt[2], la = cnt[3];
        }
        if (q.st) start_worms(&q, &g, vol);
        const __mmask16 lm = q.lm, in = q.in, m = lm | in;
        const __m512i r = vdraw(&g, m);
        const __m512 u = vuniform(r);
        const __m512i nul = _mm512_and_si512(q.pos, one);
        const __m512i dir = _mm512_mask_blend_epi32(lm, _mm512_and_si512(r, three), _mm512_add_epi32(nul, nul));
        const __m512i xs = _mm512_mask_blend_epi32(lm, q.head, _mm512_srli_epi32(q.pos, 1));
        const __m512i y = _mm512_mask_i32gather_epi32(xs, m, _mm512_add_epi32(_mm512_slli_epi32(xs, 2), dir), nbr, 4);
        const __m512i nu = _mm512_srli_epi32(dir, 1);
        const __mmask16 fwd = lm | _mm512_testn_epi32_mask(dir, one);
        const __m512i ls = _mm512_mask_blend_epi32(fwd, y, xs);
        const __m512i kidx = _mm512_add_epi32(_mm512_slli_epi32(_mm512_add_epi32(_mm512_add_epi32(ls, ls), nu), 4), lane);
        const __m512i xidx = _mm512_add_epi32(_mm512_slli_epi32(xs, 4), lane);
        const __m512i yidx = _mm512_add_epi32(_mm512_slli_epi32(y, 4), lane);
        const __m512i kv = _mm512_mask_i32gather_epi32(zero, m, kidx, k, 4);
        const __m512i lv = _mm512_mask_i32gather_epi32(zero, m, kidx, l, 4);
        const __m512i fx = _mm512_mask_i32gather_epi32(zero, m, xidx, f, 4);
        const __m512i fy = _mm512_mask_i32gather_epi32(zero, m, yidx, f, 4);
        const __m512i s = _mm512_mask_blend_epi32(fwd, _mm512_sub_epi32(zero, q.delta), q.delta);
        const __m512i kn = _mm512_add_epi32(kv, s);
        const __m512i akl = _mm512_add_epi32(_mm512_abs_epi32(kv), lv);
        const __mmask16 up = _mm512_mask_test_epi32_mask(lm, r, one);
        const __mmask16 gw = _mm512_mask_cmpge_epi32_mask(in, _mm512_mullo_epi32(kv, s), zero);
        const __mmask16 gr = up | gw; /* f grows at both ends */
        const __m512i aidx = _mm512_mask_blend_epi32(lm, _mm512_add_epi32(_mm512_abs_epi32(kn), lv), _mm512_add_epi32(akl, one));
        const __m512i l1 = _mm512_add_epi32(lv, one);
        __m512 ainv, binv, wx, wy;
        lookup(&t, m, lm, in, up, gr, aidx, l1, fx, fy, &ainv, &binv, &wx, &wy);
        const __m512i aint = _mm512_mask_mullo_epi32(akl, lm, akl, lv);
        const __m512 A = _mm512_mask_blend_ps(gr, _mm512_cvtepi32_ps(aint), ainv);
        const __m512i eidx = _mm512_add_epi32(_mm512_add_epi32(nu, nu), _mm512_srli_epi32(_mm512_sub_epi32(zero, s), 31));
        const __m512 B = _mm512_mask_blend_ps(lm, _mm512_permutexvar_ps(eidx, emu), binv);
        const __m512 rho = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(A, B), wx), wy);
        const __m512i lim = _mm512_mask_blend_epi32(lm, _mm512_set1_epi32(fmax - 1), _mm512_set1_epi32(fmax - 2));
        const __mmask16 hn = gr & (_mm512_cmpgt_epi32_mask(fx, lim) | _mm512_cmpgt_epi32_mask(fy, lim));
        const __mmask16 ok = _mm512_mask_cmp_ps_mask(m, u, rho, _CMP_LT_OQ);
        if (ok) {
            const __m512i mag = _mm512_mask_blend_epi32(lm, one, _mm512_set1_epi32(2));
            const __m512i df = _mm512_mask_sub_epi32(mag, ~gr, zero, mag);
            const __m512i dl = _mm512_mask_blend_epi32(up, _mm512_set1_epi32(-1), one);
            const __m512i kw = _mm512_mask_blend_epi32(lm, kn, _mm512_add_epi32(lv, dl));
            _mm512_mask_i32scatter_epi32(k, ok & in, kidx, kw, 4);
            _mm512_mask_i32scatter_epi32(l, ok & lm, kidx, kw, 4);
            _mm512_mask_i32scatter_epi32(f, ok, xidx, _mm512_add_epi32(fx, df), 4);
            _mm512_mask_i32scatter_epi32(f, ok, yidx, _mm512_add_epi32(fy, df), 4);
            q.head = _mm512_mask_mov_epi32(q.head, ok & in, y);
        }
        hp = _mm512_mask_add_epi32(hp, in, hp, one);
        ha = _mm512_mask_add_epi32(ha, ok & in, ha, one);
        la = _mm512_mask_add_epi32(la, ok & lm, la, one);
        retire(&q, hn, nl, wps, &nw);
    }
    *rng = g;
    cnt[0] = hp, cnt[1] = ha, cnt[2] = nw, cnt[3] = la;
    *started = q.started;
    *hit |= q.dead;
}

void worm_sweep__avx512(const worm_desc *d, worm_block *b, int nsweeps, const worm_hook *hook) {
    if (b->lanes != L) {
        worm_sweep__scalar(d, b, nsweeps, hook);
        return;
    }
    uint64_t *st = b->stat;
    __mmask16 run = (__mmask16)((1u << b->active) - 1u), hit = 0;
    for (int c = 0; c < b->active; c++)
        if (st[WORM_STAT_FMAX_HIT * L + c]) hit |= (__mmask16)(1u << c);
    run &= ~hit;
    if (nsweeps <= 0 || !run) return;
    vrng g = {_mm512_loadu_si512(b->rng), _mm512_loadu_si512(b->rng + L), _mm512_loadu_si512(b->rng + 2 * L),
              _mm512_loadu_si512(b->rng + 3 * L)};
    uint64_t tot[4][L] = {{0}};
    __m512i cnt[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    __m512i started = _mm512_maskz_mov_epi32(run, _mm512_set1_epi32(1));
    /* every chain is at the start of a sweep: the first l pass runs in lock step, contiguous */
    l_pass(d, b->k, b->l, b->f, &g, run, &cnt[3], &hit);
    if (d->worms_per_sweep > 0) {
        unified(d, b, hook, &g, run & ~hit, nsweeps, cnt, tot, &started, &hit);
    } else { /* no worms: the lanes stay in step, every l pass is contiguous */
        for (int s = 1;; s++) {
            run &= ~hit;
            if (hook && run) run &= ~hook_stops(hook, b, run, started);
            if (s >= nsweeps || !run) break;
            started = _mm512_mask_add_epi32(started, run, started, _mm512_set1_epi32(1));
            flush(cnt, tot);
            l_pass(d, b->k, b->l, b->f, &g, run, &cnt[3], &hit);
        }
    }
    flush(cnt, tot);
    _mm512_storeu_si512(b->rng, g.s0), _mm512_storeu_si512(b->rng + L, g.s1), _mm512_storeu_si512(b->rng + 2 * L, g.s2),
        _mm512_storeu_si512(b->rng + 3 * L, g.s3);
    uint32_t sw[L];
    _mm512_storeu_si512(sw, started);
    for (int c = 0; c < b->active; c++) {
        st[WORM_STAT_HEAD_PROP * L + c] += tot[0][c];
        st[WORM_STAT_HEAD_ACC * L + c] += tot[1][c];
        st[WORM_STAT_WORMS * L + c] += tot[2][c];
        st[WORM_STAT_L_ACC * L + c] += tot[3][c];
        st[WORM_STAT_L_PROP * L + c] += (uint64_t)sw[c] * 2 * (uint64_t)d->v;
        st[WORM_STAT_FMAX_HIT * L + c] |= (hit >> c) & 1;
    }
}

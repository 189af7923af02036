#include "lib/lattice/lattice.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lat_lattice_init(lat_lattice *g, int nt, int nx, char *err, size_t errlen) {
    memset(g, 0, sizeof *g);
    if (nt < 2 || nx < 2) {
        snprintf(err, errlen, "lattice %dx%d: every dimension must be >= 2 (with 1 a link would join a site to itself)",
                 nt, nx);
        return false;
    }
    if (nt > LAT_LATTICE_MAX_DIM || nx > LAT_LATTICE_MAX_DIM || (long)nt * nx > LAT_LATTICE_MAX_VOLUME) {
        snprintf(err, errlen, "lattice %dx%d is too large (at most %d per dimension and %d sites)", nt, nx,
                 LAT_LATTICE_MAX_DIM, LAT_LATTICE_MAX_VOLUME);
        return false;
    }
    g->nt = nt, g->nx = nx, g->v = nt * nx;
    g->nbr = malloc(sizeof(int32_t) * 4 * g->v);
    if (!g->nbr) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (int t = 0; t < nt; t++)
        for (int x = 0; x < nx; x++) {
            int32_t *n = g->nbr + 4 * (t * nx + x);
            n[0] = lb_wrap(t + 1, nt) * nx + x;
            n[1] = lb_wrap(t - 1, nt) * nx + x;
            n[2] = t * nx + lb_wrap(x + 1, nx);
            n[3] = t * nx + lb_wrap(x - 1, nx);
        }
    return true;
}

void lat_lattice_free(lat_lattice *g) {
    free(g->nbr);
    memset(g, 0, sizeof *g);
}

static size_t round64(size_t b) { return (b + 63) & ~(size_t)63; }

bool lat_ensemble_init_per(lat_ensemble *e, const lat_lattice *g, int nchains, int lanes, int per, uint64_t seed,
                           uint64_t stream0, char *err, size_t errlen) {
    memset(e, 0, sizeof *e);
    if (nchains < 1 || lanes < 1 || per < 1 || per > lanes) {
        snprintf(err, errlen, "need at least one chain (got %d), one lane (got %d) and 1..%d chains per block (got %d)",
                 nchains, lanes, lanes, per);
        return false;
    }
    e->g = g, e->nchains = nchains, e->lanes = lanes, e->per = per, e->nblocks = (nchains + per - 1) / per;
    e->blocks = calloc(e->nblocks, sizeof *e->blocks);
    if (!e->blocks) goto oom;
    const size_t W = (size_t)lanes, V = (size_t)g->v;
    const size_t bk = round64(4 * 2 * V * W), bf = round64(4 * V * W), br = round64(4 * 4 * W),
                 bs = round64(8 * WORM_NSTAT * W);
    for (int b = 0; b < e->nblocks; b++) {
        char *m = aligned_alloc(64, 2 * bk + bf + br + bs);
        if (!m) goto oom;
        memset(m, 0, 2 * bk + bf + br + bs);
        worm_block *B = &e->blocks[b];
        B->lanes = lanes;
        B->active = b == e->nblocks - 1 ? nchains - b * per : per;
        B->k = (int32_t *)m;
        B->l = (int32_t *)(m + bk);
        B->f = (int32_t *)(m + 2 * bk);
        B->rng = (uint32_t *)(m + 2 * bk + bf);
        B->stat = (uint64_t *)(m + 2 * bk + bf + br);
        for (int c = 0; c < lanes; c++) worm_rng_seed(B->rng + c, lanes, seed, stream0 + (uint64_t)b * per + c);
    }
    return true;
oom:
    lat_ensemble_free(e);
    snprintf(err, errlen, "out of memory for %d chains on %dx%d", nchains, g->nt, g->nx);
    return false;
}

bool lat_ensemble_init(lat_ensemble *e, const lat_lattice *g, int nchains, int lanes, uint64_t seed, uint64_t stream0,
                      char *err, size_t errlen) {
    return lat_ensemble_init_per(e, g, nchains, lanes, lanes, seed, stream0, err, errlen);
}

void lat_ensemble_free(lat_ensemble *e) {
    if (e->blocks)
        for (int b = 0; b < e->nblocks; b++) free(e->blocks[b].k);
    free(e->blocks);
    memset(e, 0, sizeof *e);
}

lat_chain lat_ensemble_chain(const lat_ensemble *e, int c) {
    const worm_block *B = &e->blocks[c / e->per];
    int lane = c % e->per;
    return (lat_chain){B->k + lane, B->l + lane, B->f + lane, B->rng + lane, B->stat + lane, e->lanes};
}

void lat_chain_measure(const lat_lattice *g, const lat_wtable *wt, lat_chain ch, lat_obs *o) {
    const int W = ch.stride;
    long kt = 0;
    double p2 = 0, p4 = 0;
    for (int x = 0; x < g->v; x++) {
        kt += ch.k[2 * x * W];
        int32_t f = ch.f[x * W];
        p2 += wt->r2[f];
        p4 += wt->r4[f];
    }
    o->n = (double)kt / g->v;
    o->phi2 = p2 / g->v;
    o->phi4 = p4 / g->v;
    o->charge = (double)kt / g->nt;
}

static inline int32_t iabs(int32_t a) { return a < 0 ? -a : a; }

int32_t lat_site_f(const lat_lattice *g, lat_chain ch, int x) {
    const int W = ch.stride;
    int32_t f = 0;
    for (int nu = 0; nu < 2; nu++) {
        int back = g->nbr[4 * x + 2 * nu + 1];
        f += iabs(ch.k[(2 * x + nu) * W]) + 2 * ch.l[(2 * x + nu) * W];
        f += iabs(ch.k[(2 * back + nu) * W]) + 2 * ch.l[(2 * back + nu) * W];
    }
    return f;
}

int32_t lat_site_div(const lat_lattice *g, lat_chain ch, int x) {
    const int W = ch.stride;
    int32_t d = 0;
    for (int nu = 0; nu < 2; nu++) d += ch.k[(2 * x + nu) * W] - ch.k[(2 * g->nbr[4 * x + 2 * nu + 1] + nu) * W];
    return d;
}

bool lat_chain_check(const lat_lattice *g, lat_chain ch, bool closed, int defects, char *err, size_t errlen) {
    const int W = ch.stride;
    long absdiv = 0;
    for (int x = 0; x < g->v; x++) {
        int32_t f = ch.f[x * W], fr = lat_site_f(g, ch, x), d = lat_site_div(g, ch, x);
        int t = x / g->nx, xx = x % g->nx;
        if (f != fr) {
            snprintf(err, errlen, "site (t=%d,x=%d): kept f = %d but k, l give %d", t, xx, f, fr);
            return false;
        }
        if ((f & 1) != (d & 1)) {
            snprintf(err, errlen, "site (t=%d,x=%d): f = %d with divergence %d", t, xx, f, d);
            return false;
        }
        if (closed && d != 0) {
            snprintf(err, errlen, "site (t=%d,x=%d): divergence %d on a closed configuration", t, xx, d);
            return false;
        }
        if (ch.l[2 * x * W] < 0 || ch.l[(2 * x + 1) * W] < 0) {
            snprintf(err, errlen, "site (t=%d,x=%d): negative l", t, xx);
            return false;
        }
        absdiv += iabs(d);
    }
    if (!closed && absdiv != 2L * defects) {
        snprintf(err, errlen, "sum |div| = %ld, expected %d", absdiv, 2 * defects);
        return false;
    }
    return true;
}

bool lat_chain_export_i16(const lat_lattice *g, lat_chain ch, int16_t *out, char *err, size_t errlen) {
    const int W = ch.stride, V = g->v;
    for (int x = 0; x < V; x++)
        for (int nu = 0; nu < 2; nu++) {
            int32_t kv = ch.k[(2 * x + nu) * W], lv = ch.l[(2 * x + nu) * W];
            if (kv < INT16_MIN || kv > INT16_MAX || lv > INT16_MAX) {
                snprintf(err, errlen, "link (t=%d,x=%d,%s): k = %d, l = %d does not fit int16", x / g->nx, x % g->nx,
                         nu ? "x" : "t", kv, lv);
                return false;
            }
            out[nu * V + x] = (int16_t)kv;
            out[(2 + nu) * V + x] = (int16_t)lv;
        }
    return true;
}

void lat_chain_copy(const lat_lattice *g, lat_chain src, int32_t *k, int32_t *l, int32_t *f) {
    const int W = src.stride;
    for (int i = 0; i < 2 * g->v; i++) k[i] = src.k[i * W], l[i] = src.l[i * W];
    for (int x = 0; x < g->v; x++) f[x] = src.f[x * W];
}

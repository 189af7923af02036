/* Lattice geometry, the chain ensemble (blocks of chains in the layout of kernels/worm/worm.h), and
 * per-configuration observables and invariants.
 *
 * Sites: site = t*NX + x, t in 0..NT-1, x in 0..NX-1, periodic; link (site, nu) joins site and
 * site + nu-hat, nu = 0 (t), 1 (x).  Divergence: div_x = Σ_nu (k_{x,nu} - k_{x-nu,nu}); closed
 * (flux-conserving) configurations have div = 0 everywhere.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernels/worm/worm.h"
#include "lib/lattice/wtable.h"

#define LAT_LATTICE_MAX_DIM 4096
#define LAT_LATTICE_MAX_VOLUME (1 << 22)

typedef struct {
    int nt, nx, v;
    int32_t *nbr; /* [v][4]: +t, -t, +x, -x */
} lat_lattice;

/* NT, NX >= 2 (a dimension of 1 would make a link join a site to itself). */
bool lat_lattice_init(lat_lattice *g, int nt, int nx, char *err, size_t errlen);
void lat_lattice_free(lat_lattice *g);

/* Chains 0..nchains-1 in blocks of `lanes` (the layout stride), `per` <= lanes of them in use per
 * block (the last block may hold fewer): chain c is lane c % per of block c / per.  Every block is a
 * separate 64-byte-aligned allocation, so threads working on different blocks never share a cache
 * line.  Chain c starts from the empty configuration (k = l = f = 0) with the random stream
 * worm_rng_seed(seed, stream0 + c), whatever lanes and per are. */
typedef struct {
    const lat_lattice *g;
    int nchains, lanes, nblocks;
    worm_block *blocks;
    int per;
} lat_ensemble;

/* With per = 1 .. lanes chains in use per block (lat_ensemble_init: per = lanes). */
bool lat_ensemble_init_per(lat_ensemble *e, const lat_lattice *g, int nchains, int lanes, int per, uint64_t seed,
                           uint64_t stream0, char *err, size_t errlen);
bool lat_ensemble_init(lat_ensemble *e, const lat_lattice *g, int nchains, int lanes, uint64_t seed, uint64_t stream0,
                      char *err, size_t errlen);
void lat_ensemble_free(lat_ensemble *e);

/* One chain's arrays (offset to its lane) and stride. */
typedef struct {
    int32_t *k, *l, *f;
    uint32_t *rng;
    uint64_t *stat;
    int stride;
} lat_chain;
lat_chain lat_ensemble_chain(const lat_ensemble *e, int c);

/* Per-configuration estimators (double).  n = (1/V) Σ k_t; phi2 = (1/V) Σ W(f+2)/W(f);
 * phi4 = (1/V) Σ W(f+4)/W(f); charge = Σ k_t / NT (the temporal winding number, = n·NX). */
typedef struct {
    double n, phi2, phi4, charge;
} lat_obs;
void lat_chain_measure(const lat_lattice *g, const lat_wtable *wt, lat_chain ch, lat_obs *o);

/* Checks of the invariants: f equals its recomputation from k, l at every site, every f is even
 * and every divergence is zero (closed = true), or Σ|div| == 2*defects and f odd exactly where
 * div != 0 (closed = false).  Returns false with the first violation described in err. */
bool lat_chain_check(const lat_lattice *g, lat_chain ch, bool closed, int defects, char *err, size_t errlen);

/* f_x from scratch. */
int32_t lat_site_f(const lat_lattice *g, lat_chain ch, int site);
/* div_x. */
int32_t lat_site_div(const lat_lattice *g, lat_chain ch, int site);

/* Writes the configuration as int16 [4][NT][NX], channels k_t, k_x, l_t, l_x (link at its start
 * site).  False when a value does not fit int16 (never wraps). */
bool lat_chain_export_i16(const lat_lattice *g, lat_chain ch, int16_t *out, char *err, size_t errlen);

/* Copies chain `c` of one ensemble into a single-chain buffer set (stride 1), for edits that must
 * not feed back into the chain (flux violations). */
void lat_chain_copy(const lat_lattice *g, lat_chain src, int32_t *k, int32_t *l, int32_t *f);

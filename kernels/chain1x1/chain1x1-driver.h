/* The loop every SIMD chain1x1 variant shares (chain1x1.h for the contract): the sites in tiles of
 * `tile` rows (the variant's parameter, default 64, 8..64 rounded down to a multiple of 4), each
 * tile through every layer before the next: layer 0 reads its rows straight from `in`, the last
 * layer writes straight to `out`, the layers between read and write two tile buffers on the stack
 * ([tile][c] each), which stay in L1.  The variant supplies the register-blocked product of one
 * layer on one tile, tile_layer(const layer_io *, int rows), and defines before including
 * CHAIN1X1_VEC (its vector type) and CHAIN1X1_SET1(f) (f in every lane); CHAIN1X1_FWD(isa, param)
 * then defines chain1x1_fwd__<isa>.  Included by the variants' files only. */
#pragma once
#include <string.h>
#include "kernels/chain1x1/chain1x1.h"

/* One layer on one tile as the variant's register blocks read it. */
typedef struct {
    const float *x;   /* [rows][cin] */
    int cin, cout;
    const float *w;   /* [cin][cout] */
    const float *b;   /* [cout] or NULL */
    float *y;         /* [rows][cout]: lrelu output */
    float *pre;       /* [rows][cout] or NULL: conv output */
    CHAIN1X1_VEC slope;
} layer_io;

/* Before every loop over a register block's rows or vectors (their counts are constants after
 * inlining): unrolled completely before scalar replacement runs, the accumulator array becomes
 * registers.  Left to GCC's own heuristics it unrolled the loops too late for some blocks (gcc 12:
 * the AVX-512 3- and 4-vector columns kept every accumulator's copy in memory, 18 or 24 stores per
 * input channel, which made the fused chain 2.4x slower than the same loops inlined elsewhere). */
#define CHAIN1X1_UNROLL _Pragma("GCC unroll 8")
/* A variant's function over the rows of one column block (one register-block shape): never
 * inlined, so its blocks are register-allocated alone.  Inlined into the tile loop (gcc 12, the
 * AVX2 variant: 12 accumulators + 3 weights + 1 broadcast are all 16 ymm), the loop's own live
 * values pushed two accumulators and the row offsets to the stack, 1.6x slower. */
#define CHAIN1X1_COLUMN_FN static __attribute__((noinline)) void

#define CHAIN1X1_TILE_DEFAULT 64
#define CHAIN1X1_TILE_MAX 64

/* Layer l of d on `rows` sites: x [rows][c[l]] -> y [rows][c[l+1]] (b NULL: no bias; pre, when
 * not NULL, takes the values before the LeakyReLU). */
typedef void chain1x1_tile_fn(const chain1x1_desc *d, int l, const float *x, const float *w, const float *b, float *y,
                              float *pre, int rows);

/* The tile rows the variant's tile parameter (d->params.v[param]) asks for. */
static inline int chain1x1_tile_rows(const chain1x1_desc *d, int param) {
    const int t = d->params.v[param];
    if (t <= 0) return CHAIN1X1_TILE_DEFAULT;
    return t > CHAIN1X1_TILE_MAX ? CHAIN1X1_TILE_MAX : (t < 8 ? 8 : t & ~3);
}

static inline void chain1x1_drive(const chain1x1_desc *d, int param, const float *in, const float *const *w,
                                  const float *const *b, float *out, const chain1x1_keep *keep, chain1x1_tile_fn *tile) {
    _Alignas(64) float buf[2][CHAIN1X1_TILE_MAX * CHAIN1X1_MAX_C];
    const int L = d->layers, T = chain1x1_tile_rows(d, param);
    for (size_t s0 = 0; s0 < d->sites; s0 += (size_t)T) {
        const int rows = d->sites - s0 < (size_t)T ? (int)(d->sites - s0) : T;
        const float *x = in + s0 * d->c[0];
        for (int l = 0; l < L; l++) {
            const int cout = d->c[l + 1];
            float *y = l == L - 1 ? out + s0 * cout : buf[l & 1];
            tile(d, l, x, w[l], d->bias[l] ? b[l] : NULL, y, keep ? keep->pre[l] + s0 * cout : NULL, rows);
            if (keep && l < L - 1) memcpy(keep->post[l] + s0 * cout, y, (size_t)rows * cout * sizeof(float));
            x = y;
        }
    }
}

/* chain1x1_fwd__<isa> over the variant's tile_layer, its tile parameter `param`. */
#define CHAIN1X1_FWD(isa, param)                                                                                    \
    static void tile_at(const chain1x1_desc *d, int l, const float *x, const float *w, const float *b, float *y,      \
                        float *pre, int rows) {                                                                     \
        const layer_io io = {x, d->c[l], d->c[l + 1], w, b, y, pre, CHAIN1X1_SET1(d->slope)};                      \
        tile_layer(&io, rows);                                                                                      \
    }                                                                                                               \
    void chain1x1_fwd__##isa(const chain1x1_desc *d, const float *in, const float *const *w, const float *const *b, \
                             float *out, const chain1x1_keep *keep) {                                               \
        chain1x1_drive(d, param, in, w, b, out, keep, tile_at);                                                     \
    }

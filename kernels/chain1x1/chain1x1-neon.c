/* chain1x1, AArch64 NEON (chain1x1.h for the contract): the AVX2 variant's algorithm at 4 lanes and
 * AArch64's 32 vector registers.
 *
 * The sites go in tiles of `tile` rows (parameter, default 64).  Each tile runs through every
 * layer before the next tile starts: layer 0 reads its rows straight from `in`, the last layer
 * writes straight to `out`, and the layers between read and write two tile buffers on the stack
 * ([tile][c] each, at most 64 x 128 floats), which stay in L1.  Within a layer the product is
 * register-blocked: a block of M sites x NV vectors of output channels, per input channel NV weight
 * loads and M broadcasts feeding M*NV FMAs; the accumulators start at the bias, and the LeakyReLU
 * is applied on the way out of the registers.  M x NV as conv2d-neon.c's gather tiles (5 x 4,
 * 6 x 3, 8 x 2, 8 x 1: accumulators, weights and the broadcasts gcc loads ahead fit in the 32
 * registers), then a block of 4 rows, then single rows for what is left of a tile.  More than 4
 * vectors of output channels split into balanced column blocks (80 = 20 vectors: 5 x 4).  NEON
 * has no masked loads: a channel tail (the last 1..3 floats of the last block) is read and written
 * with lane/64-bit accesses that stay inside it (kernels/neon_part.h); its width is a
 * compile-time constant of the column function, so the inner loop has no branch on it.
 */
#include <arm_neon.h>
#include "kernels/neon_part.h"
#define CHAIN1X1_VEC float32x4_t
#define CHAIN1X1_SET1 vdupq_n_f32
#include "kernels/chain1x1/chain1x1-driver.h"

#define NMAX 4
#define ROWS_MAX 8
#define BLOCK_M(NV) ((NV) == 4 ? 5 : (NV) == 3 ? 6 : 8)

LB_INLINE float32x4_t lrelu_v(float32x4_t x, float32x4_t slope) {
    return vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), x, vmulq_f32(x, slope));
}

/* Rows [r0, r0+R) x vectors [co0/4, co0/4+NV) of one layer, the last vector LAST (1..4) lanes
 * wide.  R, NV and LAST are constants after inlining. */
LB_INLINE void block(const layer_io *io, int r0, int co0, const int R, const int NV, const int LAST) {
    float32x4_t acc[ROWS_MAX][NMAX];
    const int cin = io->cin, cout = io->cout;
    CHAIN1X1_UNROLL
    for (int v = 0; v < NV; v++) {
        const float32x4_t b = io->b ? ld_part(io->b + co0 + 4 * v, v < NV - 1 ? 4 : LAST) : vdupq_n_f32(0.0f);
        CHAIN1X1_UNROLL
        for (int r = 0; r < R; r++) acc[r][v] = b;
    }
    const float *x = io->x + (size_t)r0 * cin;
    for (int ci = 0; ci < cin; ci++) {
        float32x4_t wv[NMAX];
        const float *wr = io->w + (size_t)ci * cout + co0;
        CHAIN1X1_UNROLL
        for (int v = 0; v < NV; v++) wv[v] = ld_part(wr + 4 * v, v < NV - 1 ? 4 : LAST);
        CHAIN1X1_UNROLL
        for (int r = 0; r < R; r++) {
            const float32x4_t a = vld1q_dup_f32(x + (size_t)r * cin + ci);
            CHAIN1X1_UNROLL
            for (int v = 0; v < NV; v++) acc[r][v] = vfmaq_f32(acc[r][v], a, wv[v]);
        }
    }
    CHAIN1X1_UNROLL
    for (int r = 0; r < R; r++)
        CHAIN1X1_UNROLL
        for (int v = 0; v < NV; v++) {
            const int lanes = v < NV - 1 ? 4 : LAST;
            const size_t o = (size_t)(r0 + r) * cout + co0 + 4 * v;
            if (io->pre) st_part(io->pre + o, acc[r][v], lanes);
            st_part(io->y + o, lrelu_v(acc[r][v], io->slope), lanes);
        }
}

/* Every row of a column block of NV vectors, the last LAST lanes wide: blocks of BLOCK_M(NV)
 * rows, one of 4, then single rows. */
#define COLUMN(NV, LAST)                                                                       \
    CHAIN1X1_COLUMN_FN column_##NV##_##LAST(const layer_io *io, int rows, int co0) {           \
        int r = 0;                                                                             \
        for (; r + BLOCK_M(NV) <= rows; r += BLOCK_M(NV)) block(io, r, co0, BLOCK_M(NV), NV, LAST); \
        if (r + 4 <= rows) block(io, r, co0, 4, NV, LAST), r += 4;                             \
        for (; r < rows; r++) block(io, r, co0, 1, NV, LAST);                                  \
    }
COLUMN(1, 1) COLUMN(1, 2) COLUMN(1, 3) COLUMN(1, 4)
COLUMN(2, 1) COLUMN(2, 2) COLUMN(2, 3) COLUMN(2, 4)
COLUMN(3, 1) COLUMN(3, 2) COLUMN(3, 3) COLUMN(3, 4)
COLUMN(4, 1) COLUMN(4, 2) COLUMN(4, 3) COLUMN(4, 4)

typedef void column_fn(const layer_io *io, int rows, int co0);
static column_fn *const columns[NMAX][4] = {
    {column_1_1, column_1_2, column_1_3, column_1_4},
    {column_2_1, column_2_2, column_2_3, column_2_4},
    {column_3_1, column_3_2, column_3_3, column_3_4},
    {column_4_1, column_4_2, column_4_3, column_4_4},
};

static void tile_layer(const layer_io *io, int rows) {
    const int nvec = (io->cout + 3) / 4, nblk = (nvec + NMAX - 1) / NMAX, per = (nvec + nblk - 1) / nblk;
    for (int v0 = 0; v0 < nvec; v0 += per) {
        const int nv = nvec - v0 < per ? nvec - v0 : per;
        const int last = io->cout - 4 * (v0 + nv - 1);   /* lanes of the block's last vector */
        columns[nv - 1][(last > 4 ? 4 : last) - 1](io, rows, 4 * v0);
    }
}

CHAIN1X1_FWD(neon, CHAIN1X1_NEON_TILE)

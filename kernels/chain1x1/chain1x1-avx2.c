/* chain1x1, AVX2 (chain1x1.h for the contract): the AVX-512 variant's algorithm at 8 lanes.
 *
 * The sites go in tiles of `tile` rows (parameter, default 64).  Each tile runs through every
 * layer before the next tile starts: layer 0 reads its rows straight from `in`, the last layer
 * writes straight to `out`, and the layers between read and write two tile buffers on the stack
 * ([tile][c] each, at most 64 x 128 floats), which stay in L1.  Within a layer the product is
 * register-blocked: a block of R sites x NV ymm of output channels (R = 4, NV <= 3: 12
 * accumulators + NV weight vectors + 1 broadcast of the 16 registers), per input channel NV weight
 * loads and R broadcasts feed R*NV FMAs; the accumulators start at the bias, and the LeakyReLU is
 * applied on the way out of the registers.  More than 3 vectors of output channels split into
 * balanced column blocks (80 = 10 vectors: 3 + 3 + 2 + 2); a channel tail (the last vector of the
 * last block) is read and written through a lane mask.
 */
#include "kernels/avx2_part.h"
#define CHAIN1X1_VEC __m256
#define CHAIN1X1_SET1 _mm256_set1_ps
#include "kernels/chain1x1/chain1x1-driver.h"

#define BLOCK_R 4
#define BLOCK_V 3

LB_INLINE __m256 lrelu_v(__m256 x, __m256 slope) {
    const __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_blendv_ps(_mm256_mul_ps(x, slope), x, pos);
}

/* Rows [r0, r0+R) x vectors [co0/8, co0/8+NV) of one layer; with TAIL the last vector only at the
 * lanes of ml.  R, NV and TAIL are constants after inlining. */
LB_INLINE void block(const layer_io *io, int r0, int co0, const int R, const int NV, const int TAIL, __m256i ml) {
    __m256 acc[BLOCK_R][BLOCK_V];
    const int cin = io->cin, cout = io->cout;
    CHAIN1X1_UNROLL
    for (int v = 0; v < NV; v++) {
        const int full = !TAIL || v < NV - 1;
        const __m256 b = io->b ? avx2_ld(io->b + co0 + 8 * v, full, ml) : _mm256_setzero_ps();
        CHAIN1X1_UNROLL
        for (int r = 0; r < R; r++) acc[r][v] = b;
    }
    const float *x = io->x + (size_t)r0 * cin;
    for (int ci = 0; ci < cin; ci++) {
        __m256 wv[BLOCK_V];
        const float *wr = io->w + (size_t)ci * cout + co0;
        CHAIN1X1_UNROLL
        for (int v = 0; v < NV; v++) wv[v] = avx2_ld(wr + 8 * v, !TAIL || v < NV - 1, ml);
        CHAIN1X1_UNROLL
        for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_broadcast_ss(x + (size_t)r * cin + ci);
            CHAIN1X1_UNROLL
            for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(a, wv[v], acc[r][v]);
        }
    }
    CHAIN1X1_UNROLL
    for (int r = 0; r < R; r++)
        CHAIN1X1_UNROLL
        for (int v = 0; v < NV; v++) {
            const int full = !TAIL || v < NV - 1;
            const size_t o = (size_t)(r0 + r) * cout + co0 + 8 * v;
            if (io->pre) avx2_st(io->pre + o, acc[r][v], full, ml);
            avx2_st(io->y + o, lrelu_v(acc[r][v], io->slope), full, ml);
        }
}

/* Every row of a column block of NV vectors: blocks of BLOCK_R rows, then single rows. */
#define COLUMN(NV, TAIL)                                                                      \
    CHAIN1X1_COLUMN_FN column_##NV##_##TAIL(const layer_io *io, int rows, int co0, __m256i ml) { \
        int r = 0;                                                                            \
        for (; r + BLOCK_R <= rows; r += BLOCK_R) block(io, r, co0, BLOCK_R, NV, TAIL, ml);   \
        for (; r < rows; r++) block(io, r, co0, 1, NV, TAIL, ml);                             \
    }
COLUMN(1, 0)
COLUMN(2, 0)
COLUMN(3, 0)
COLUMN(1, 1)
COLUMN(2, 1)
COLUMN(3, 1)

static void tile_layer(const layer_io *io, int rows) {
    const int nvec = (io->cout + 7) / 8, nblk = (nvec + BLOCK_V - 1) / BLOCK_V, per = (nvec + nblk - 1) / nblk;
    for (int v0 = 0; v0 < nvec; v0 += per) {
        const int nv = nvec - v0 < per ? nvec - v0 : per;
        const int left = io->cout - 8 * (v0 + nv - 1);   /* lanes of the block's last vector */
        const __m256i ml = avx2_mask(left);
        const int co0 = 8 * v0;
        if (left >= 8) {
            if (nv == 1) column_1_0(io, rows, co0, ml);
            else if (nv == 2) column_2_0(io, rows, co0, ml);
            else column_3_0(io, rows, co0, ml);
        } else {
            if (nv == 1) column_1_1(io, rows, co0, ml);
            else if (nv == 2) column_2_1(io, rows, co0, ml);
            else column_3_1(io, rows, co0, ml);
        }
    }
}

CHAIN1X1_FWD(avx2, CHAIN1X1_AVX2_TILE)

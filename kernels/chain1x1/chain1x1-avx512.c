/* chain1x1, AVX-512 (chain1x1.h for the contract).
 *
 * The sites go in tiles of `tile` rows (parameter, default 64).  Each tile runs through every
 * layer before the next tile starts: layer 0 reads its rows straight from `in`, the last layer
 * writes straight to `out`, and the layers between read and write two tile buffers on the stack
 * ([tile][c] each, at most 64 x 128 floats), which stay in L1.  Within a layer the product is
 * register-blocked like conv2d's forward: a block of R sites x NV zmm of output channels (R = 6,
 * NV <= 4: 24 accumulators + NV weight vectors + 1 broadcast), per input channel NV weight loads
 * and R broadcasts feed R*NV FMAs; the accumulators start at the bias, and the LeakyReLU is applied
 * on the way out of the registers.  More than 4 vectors of output channels split into balanced
 * column blocks (80 = 3 + 2 vectors); the last vector is masked for channel tails.
 */
#include "kernels/avx512_part.h"
#define CHAIN1X1_VEC __m512
#define CHAIN1X1_SET1 _mm512_set1_ps
#include "kernels/chain1x1/chain1x1-driver.h"

#define BLOCK_R 6

LB_INLINE __m512 lrelu_v(__m512 x, __m512 slope) {
    __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_mask_blend_ps(pos, _mm512_mul_ps(x, slope), x);
}

/* Rows [r0, r0+R) x vectors [co0/16, co0/16+NV) of one layer; the last vector masked by ml. */
LB_INLINE void block(const layer_io *io, int r0, int co0, const int R, const int NV, __mmask16 ml) {
    __m512 acc[BLOCK_R][4];
    const int cin = io->cin, cout = io->cout;
    CHAIN1X1_UNROLL
    for (int v = 0; v < NV; v++) {
        const __mmask16 m = v == NV - 1 ? ml : (__mmask16)0xFFFF;
        const __m512 b = io->b ? _mm512_maskz_loadu_ps(m, io->b + co0 + 16 * v) : _mm512_setzero_ps();
        CHAIN1X1_UNROLL
        for (int r = 0; r < R; r++) acc[r][v] = b;
    }
    const float *x = io->x + (size_t)r0 * cin;
    for (int ci = 0; ci < cin; ci++) {
        __m512 wv[4];
        const float *wr = io->w + (size_t)ci * cout + co0;
        CHAIN1X1_UNROLL
        for (int v = 0; v < NV; v++) wv[v] = _mm512_maskz_loadu_ps(v == NV - 1 ? ml : (__mmask16)0xFFFF, wr + 16 * v);
        CHAIN1X1_UNROLL
        for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(x[(size_t)r * cin + ci]);
            CHAIN1X1_UNROLL
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(a, wv[v], acc[r][v]);
        }
    }
    CHAIN1X1_UNROLL
    for (int r = 0; r < R; r++)
        CHAIN1X1_UNROLL
        for (int v = 0; v < NV; v++) {
            const __mmask16 m = v == NV - 1 ? ml : (__mmask16)0xFFFF;
            const size_t o = (size_t)(r0 + r) * cout + co0 + 16 * v;
            if (io->pre) _mm512_mask_storeu_ps(io->pre + o, m, acc[r][v]);
            _mm512_mask_storeu_ps(io->y + o, m, lrelu_v(acc[r][v], io->slope));
        }
}

/* Every row of a column block of NV vectors: blocks of BLOCK_R rows, then single rows. */
#define COLUMN(NV)                                                                        \
    CHAIN1X1_COLUMN_FN column_##NV(const layer_io *io, int rows, int co0, __mmask16 ml) { \
        int r = 0;                                                                        \
        for (; r + BLOCK_R <= rows; r += BLOCK_R) block(io, r, co0, BLOCK_R, NV, ml);     \
        for (; r < rows; r++) block(io, r, co0, 1, NV, ml);                               \
    }
COLUMN(1)
COLUMN(2)
COLUMN(3)
COLUMN(4)

static void tile_layer(const layer_io *io, int rows) {
    const int nvec = (io->cout + 15) / 16, nblk = (nvec + 3) / 4, per = (nvec + nblk - 1) / nblk;
    for (int v0 = 0; v0 < nvec; v0 += per) {
        const int nv = nvec - v0 < per ? nvec - v0 : per;
        const __mmask16 ml = avx512_mask(io->cout - 16 * (v0 + nv - 1));
        switch (nv) {
        case 1: column_1(io, rows, 16 * v0, ml); break;
        case 2: column_2(io, rows, 16 * v0, ml); break;
        case 3: column_3(io, rows, 16 * v0, ml); break;
        default: column_4(io, rows, 16 * v0, ml); break;
        }
    }
}

CHAIN1X1_FWD(avx512, CHAIN1X1_AVX512_TILE)

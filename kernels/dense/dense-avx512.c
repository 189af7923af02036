/* Dense (linear) layer and flatten, AVX-512 (F/BW/VL/DQ).
 *
 * Every pass is one register-blocked GEMM tile, C[R rows][<=64 cols] = sum_k A(r,k) B[k][:],
 * the columns in 16-lane vectors (a tail of <= 8 in one 8-lane vector, else the last one masked),
 * A read by broadcast with arbitrary strides:
 *   fwd          y  = x  . w        rows n, cols out, k = in
 *   bwd_data     gx = gy . w^T      rows n, cols in,  k = out  (w^T tiles transposed onto the stack)
 *   bwd_weights  gw = x^T . gy      rows in, cols out, k = n,  or, when out is narrow,
 *                gw^T = gy^T . x    rows out, cols in, stored transposed
 * A forward pass with out in {1,2,4,8} would use 1/16..1/2 of each vector that way, so it packs
 * 16/out consecutive inputs into one vector instead (w rows are contiguous there) and folds the
 * lanes of equal out index at the end.  Flatten and the w^T tiles use 8x8 register transposes.
 */
#include <immintrin.h>
#include "kernels/avx512_part.h"
#include <stdalign.h>
#include "kernels/dense/dense.h"

/* Unroll the constant-trip register-block loops early, so the accumulator arrays become registers
 * (without it gcc keeps them in memory and stores all of them on every k iteration). */
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 16")
#endif

enum { ST_SET, ST_ADD, ST_TRANS };
enum { MR = 4, NV = 4 }; /* 16 accumulators + 4 B vectors of the 32 zmm registers */


/* dst[j][i] = src[i][j] for i < rows <= 8, j < cols <= 8 (an 8x8 in-register transpose). */
LB_INLINE void transpose8(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd, int rows, int cols) {
    const __mmask8 mc = (__mmask8)avx512_mask(cols), mr = (__mmask8)avx512_mask(rows);
    __m256 r[8], t[8];
    UNROLL for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_maskz_loadu_ps(mc, src + i * lds) : _mm256_setzero_ps();
    UNROLL for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    UNROLL for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    UNROLL for (int i = 0; i < 4; i++) {
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    UNROLL for (int j = 0; j < 8; j++)
        if (j < cols) _mm256_mask_storeu_ps(dst + j * ldd, mr, t[j]);
}

/* dst[b][a] = src[a][b] for an A x B source. */
static void transpose_plane(const float *src, float *dst, int A, int B, ptrdiff_t lds, ptrdiff_t ldd) {
    for (int a0 = 0; a0 < A; a0 += 8)
        for (int b0 = 0; b0 < B; b0 += 8)
            transpose8(src + a0 * lds + b0, lds, dst + b0 * ldd + a0, ldd, A - a0 < 8 ? A - a0 : 8,
                       B - b0 < 8 ? B - b0 : 8);
}

/* R rows; V zmm column vectors, then (H) one ymm vector: a tail of 1..8 columns runs at ymm width,
 * which on cores that split zmm into two ymm halves (Zen 4) costs half a zmm, not a whole one.
 * Without H the last zmm is masked.  R, V and H are compile-time constants in every copy (the
 * tile_RVH below), so the accumulators stay in registers. */
LB_INLINE void tile(const int R, const int V, const int H, int cols, int K, const float *A, ptrdiff_t am, ptrdiff_t ak,
             const float *B, ptrdiff_t ldb, const float *bias, float *C, ptrdiff_t ldc, int mode) {
    __m512 acc[MR][NV];
    __m256 acch[MR];
    const __mmask16 ml = H ? (__mmask16)0xFFFF : avx512_mask(cols - 16 * (V - 1));
    const __mmask8 mh = (__mmask8)avx512_mask(cols - 16 * V);
    UNROLL for (int v = 0; v < V; v++) {
        __m512 b0 = _mm512_setzero_ps();
        if (bias) b0 = _mm512_maskz_loadu_ps(v < V - 1 ? (__mmask16)0xFFFF : ml, bias + 16 * v);
        UNROLL for (int r = 0; r < R; r++) acc[r][v] = b0;
    }
    if (H) {
        const __m256 b0 = bias ? _mm256_maskz_loadu_ps(mh, bias + 16 * V) : _mm256_setzero_ps();
        UNROLL for (int r = 0; r < R; r++) acch[r] = b0;
    }
    for (int k = 0; k < K; k++) {
        const float *Bk = B + k * ldb, *Ak = A + k * ak;
        __m512 bv[NV];
        __m256 bh = _mm256_setzero_ps();
        UNROLL for (int v = 0; v < V; v++)
            bv[v] = v < V - 1 ? _mm512_loadu_ps(Bk + 16 * v) : _mm512_maskz_loadu_ps(ml, Bk + 16 * v);
        if (H) bh = _mm256_maskz_loadu_ps(mh, Bk + 16 * V);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(Ak[r * am]);
            UNROLL for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(a, bv[v], acc[r][v]);
            if (H) acch[r] = _mm256_fmadd_ps(_mm512_castps512_ps256(a), bh, acch[r]);
        }
    }
    if (mode == ST_TRANS) {
        alignas(64) float t[MR][16 * NV];
        UNROLL for (int r = 0; r < R; r++) {
            UNROLL for (int v = 0; v < V; v++) _mm512_store_ps(&t[r][16 * v], acc[r][v]);
            if (H) _mm256_store_ps(&t[r][16 * V], acch[r]);
        }
        transpose_plane(&t[0][0], C, R, cols, 16 * NV, ldc);
        return;
    }
    UNROLL for (int r = 0; r < R; r++) {
        float *Cr = C + r * ldc;
        UNROLL for (int v = 0; v < V; v++) {
            const __mmask16 m = v < V - 1 ? (__mmask16)0xFFFF : ml;
            __m512 c = acc[r][v];
            if (mode == ST_ADD) c = _mm512_add_ps(c, _mm512_maskz_loadu_ps(m, Cr + 16 * v));
            _mm512_mask_storeu_ps(Cr + 16 * v, m, c);
        }
        if (H) {
            __m256 c = acch[r];
            if (mode == ST_ADD) c = _mm256_add_ps(c, _mm256_maskz_loadu_ps(mh, Cr + 16 * V));
            _mm256_mask_storeu_ps(Cr + 16 * V, mh, c);
        }
    }
}

/* One out-of-line copy per (R, V, H): clang would otherwise merge the inlined switch cases back
 * into one loop with runtime bounds (and memory accumulators). */
#define TILE_PARAMS int cols, int K, const float *A, ptrdiff_t am, ptrdiff_t ak, const float *B, ptrdiff_t ldb, \
    const float *bias, float *C, ptrdiff_t ldc, int mode
#define T_(r, v, h) static __attribute__((noinline)) void tile_##r##v##h(TILE_PARAMS) { \
    tile(r, v, h, cols, K, A, am, ak, B, ldb, bias, C, ldc, mode); }
#define T_R(r) T_(r, 1, 0) T_(r, 2, 0) T_(r, 3, 0) T_(r, 4, 0) T_(r, 0, 1) T_(r, 1, 1) T_(r, 2, 1) T_(r, 3, 1)
T_R(1) T_R(2) T_R(3) T_R(4)
#undef T_R
#undef T_

static void tile_any(int R, int V, int H, TILE_PARAMS) {
#define T_(r, v, h) case (r) * 16 + (v) * 2 + (h): tile_##r##v##h(cols, K, A, am, ak, B, ldb, bias, C, ldc, mode); break;
#define T_R(r) T_(r, 1, 0) T_(r, 2, 0) T_(r, 3, 0) T_(r, 4, 0) T_(r, 0, 1) T_(r, 1, 1) T_(r, 2, 1) T_(r, 3, 1)
    switch (R * 16 + V * 2 + H) {
        T_R(1) T_R(2) T_R(3) T_R(4)
    default: break;
    }
#undef T_R
#undef T_
}

/* C (M x Ncols, or its transpose for ST_TRANS) = A (M x K, strides am/ak) . B (K x Ncols) [+ bias]. */
static void gemm(int M, int Ncols, int K, const float *A, ptrdiff_t am, ptrdiff_t ak, const float *B,
                 ptrdiff_t ldb, const float *bias, float *C, ptrdiff_t ldc, int mode) {
    for (int j0 = 0; j0 < Ncols; j0 += 16 * NV) {
        const int cols = Ncols - j0 < 16 * NV ? Ncols - j0 : 16 * NV;
        const int H = cols % 16 >= 1 && cols % 16 <= 8, V = H ? cols / 16 : (cols + 15) / 16;
        for (int m0 = 0; m0 < M; m0 += MR) {
            const int R = M - m0 < MR ? M - m0 : MR;
            float *Ct = mode == ST_TRANS ? C + (ptrdiff_t)j0 * ldc + m0 : C + (ptrdiff_t)m0 * ldc + j0;
            tile_any(R, V, H, cols, K, A + m0 * am, am, ak, B + j0, ldb, bias ? bias + j0 : NULL, Ct, ldc, mode);
        }
    }
}

/* Forward for out in {1,2,4,8}: lane l of a vector holds input i0 + l/out, output l%out. */
LB_INLINE void fwd_packed_rows(const int R, const dense_desc *d, const float *x, const float *w, const float *b, float *y) {
    const int I = d->in, O = d->out, L = 16 / O;
    const __m512i expand = _mm512_srlv_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(__builtin_ctz((unsigned)O)));
    __m512 acc[MR];
    UNROLL for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (int i0 = 0; i0 < I; i0 += L) {
        const int ni = I - i0 < L ? I - i0 : L;
        const __m512 wv = _mm512_maskz_loadu_ps(avx512_mask(ni * O), w + (ptrdiff_t)i0 * O);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 xv = _mm512_maskz_loadu_ps(avx512_mask(ni), x + (ptrdiff_t)r * I + i0);
            acc[r] = _mm512_fmadd_ps(_mm512_permutexvar_ps(expand, xv), wv, acc[r]);
        }
    }
    const __mmask8 mo = (__mmask8)((1u << (O < 8 ? O : 8)) - 1u);
    UNROLL for (int r = 0; r < R; r++) {
        float *yr = y + (ptrdiff_t)r * O;
        __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(acc[r]), _mm512_extractf32x8_ps(acc[r], 1));
        if (O == 8) {
            if (d->bias && b) s8 = _mm256_add_ps(s8, _mm256_loadu_ps(b));
            _mm256_storeu_ps(yr, s8);
            continue;
        }
        __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
        if (O <= 2) s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        if (O == 1) s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
        if (d->bias && b) s4 = _mm_add_ps(s4, _mm_maskz_loadu_ps(mo, b));
        _mm_mask_storeu_ps(yr, mo, s4);
    }
}

void dense_fwd__avx512(const dense_desc *d, const float *x, const float *w, const float *b, float *y) {
    const int N = d->n, I = d->in, O = d->out;
    const float *bias = d->bias ? b : NULL;
    if (O == 1 || O == 2 || O == 4 || O == 8) {
        int n = 0;
        for (; n + MR <= N; n += MR) fwd_packed_rows(MR, d, x + (ptrdiff_t)n * I, w, bias, y + (ptrdiff_t)n * O);
        for (; n < N; n++) fwd_packed_rows(1, d, x + (ptrdiff_t)n * I, w, bias, y + (ptrdiff_t)n * O);
        return;
    }
    gemm(N, O, I, x, I, 1, w, O, bias, y, O, ST_SET);
}

enum { KT = 128, IT = 16 * NV }; /* w^T tile: 32 KiB of stack */

void dense_bwd_data__avx512(const dense_desc *d, const float *gy, const float *w, float *gx) {
    const int N = d->n, I = d->in, O = d->out;
    if (O == 0) {
        for (size_t k = 0; k < (size_t)N * I; k++) gx[k] = 0.0f;
        return;
    }
    alignas(64) float wt[KT * IT];
    for (int i0 = 0; i0 < I; i0 += IT) {
        const int it = I - i0 < IT ? I - i0 : IT;
        for (int k0 = 0; k0 < O; k0 += KT) {
            const int kt = O - k0 < KT ? O - k0 : KT;
            transpose_plane(w + (ptrdiff_t)i0 * O + k0, wt, it, kt, O, IT);
            gemm(N, it, kt, gy + k0, O, 1, wt, IT, NULL, gx + i0, I, k0 == 0 ? ST_SET : ST_ADD);
        }
    }
}

/* Fraction of vector lanes doing useful work for `cols` columns (a tail of <= 8 takes a ymm). */
static double lane_use(int cols) {
    const int rem = cols % 16;
    return cols > 0 ? (double)cols / (16 * (cols / 16) + (rem == 0 ? 0 : rem <= 8 ? 8 : 16)) : 1.0;
}

void dense_bwd_weights__avx512(const dense_desc *d, const float *x, const float *gy, float *gw, float *gb) {
    const int N = d->n, I = d->in, O = d->out;
    /* vector work ~ N/lane_use per output, plus a fixed cost per output for the transposed store
     * (measured: transposed wins for out in {1,2,4} and loses for 8->32, 4->32, 32->16) */
    const double direct = N / lane_use(O), trans = N / lane_use(I) + 16.0;
    if (trans < direct)
        gemm(O, I, N, gy, 1, O, x, I, NULL, gw, O, ST_TRANS);
    else
        gemm(I, O, N, x, 1, I, gy, O, NULL, gw, O, ST_SET);
    if (d->bias && gb) {
        for (int o0 = 0; o0 < O; o0 += 16) {
            const __mmask16 m = avx512_mask(O - o0);
            __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
            int n = 0;
            for (; n + 2 <= N; n += 2) {
                s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(m, gy + (ptrdiff_t)n * O + o0));
                s1 = _mm512_add_ps(s1, _mm512_maskz_loadu_ps(m, gy + (ptrdiff_t)(n + 1) * O + o0));
            }
            if (n < N) s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(m, gy + (ptrdiff_t)n * O + o0));
            _mm512_mask_storeu_ps(gb + o0, m, _mm512_add_ps(s0, s1));
        }
    }
}

static void copy_floats(const float *s, float *t, size_t n) {
    size_t k = 0;
    for (; k + 16 <= n; k += 16) _mm512_storeu_ps(t + k, _mm512_loadu_ps(s + k));
    if (k < n) {
        const __mmask16 m = avx512_mask((int)(n - k));
        _mm512_mask_storeu_ps(t + k, m, _mm512_maskz_loadu_ps(m, s + k));
    }
}

void dense_flatten_fwd__avx512(const dense_flatten_desc *d, const float *in, float *out) {
    const int P = d->h * d->w, C = d->c;
    const size_t S = (size_t)P * C;
    if (P == 1 || C == 1) { /* the permutation is the identity */
        copy_floats(in, out, S * d->n);
        return;
    }
    for (int n = 0; n < d->n; n++) transpose_plane(in + n * S, out + n * S, P, C, C, P);
}

void dense_flatten_bwd__avx512(const dense_flatten_desc *d, const float *gout, float *gin) {
    const int P = d->h * d->w, C = d->c;
    const size_t S = (size_t)P * C;
    if (P == 1 || C == 1) {
        copy_floats(gout, gin, S * d->n);
        return;
    }
    for (int n = 0; n < d->n; n++) transpose_plane(gout + n * S, gin + n * S, C, P, P, C);
}

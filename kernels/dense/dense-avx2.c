/* Dense (linear) layer and flatten, AVX2 + FMA.  Same scheme as dense-avx512.c (read its header
 * comment) with 8-lane vectors: one register-blocked GEMM tile for every pass, w^T transposed into
 * stack tiles for bwd_data, gw^T stored transposed when out is narrow, a packed forward for out in
 * {1,2,4}, 8x8 register transposes.  Tails load with vmaskmovps (which never touches masked-off
 * addresses) but store in 4/2/1-float pieces: AMD cores microcode the vmaskmovps store (tens of
 * cycles).
 */
#include <immintrin.h>
#include "kernels/avx2_part.h"
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
enum { MR = 4, NV = 3 }; /* 12 accumulators + 3 B vectors + 1 broadcast = all 16 ymm registers */

LB_INLINE __m256 load_n(__m256i m, const float *p) { return _mm256_maskload_ps(p, m); }

/* Stores the first n (1..4) floats of v. */
LB_INLINE void store_n4(float *p, __m128 v, int n) {
    if (n == 4) {
        _mm_storeu_ps(p, v);
        return;
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)p, v);
        v = _mm_movehl_ps(v, v);
        p += 2;
        n -= 2;
    }
    if (n) _mm_store_ss(p, v);
}

/* Stores the first n (1..8) floats of v. */
LB_INLINE void store_n(float *p, __m256 v, int n) {
    if (n >= 8) {
        _mm256_storeu_ps(p, v);
        return;
    }
    __m128 h = _mm256_castps256_ps128(v);
    if (n > 4) {
        _mm_storeu_ps(p, h);
        h = _mm256_extractf128_ps(v, 1);
        p += 4;
        n -= 4;
    }
    store_n4(p, h, n);
}

/* dst[j][i] = src[i][j] for i < rows <= 8, j < cols <= 8 (an 8x8 in-register transpose). */
LB_INLINE void transpose8(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd, int rows, int cols) {
    const int full = rows == 8 && cols == 8;
    const __m256i mc = avx2_mask(cols);
    __m256 r[8], t[8];
    UNROLL for (int i = 0; i < 8; i++)
        r[i] = full ? _mm256_loadu_ps(src + i * lds) : i < rows ? load_n(mc, src + i * lds) : _mm256_setzero_ps();
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
    if (full) {
        UNROLL for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + j * ldd, t[j]);
        return;
    }
    UNROLL for (int j = 0; j < 8; j++)
        if (j < cols) store_n(dst + j * ldd, t[j], rows);
}

/* dst[b][a] = src[a][b] for an A x B source. */
static void transpose_plane(const float *src, float *dst, int A, int B, ptrdiff_t lds, ptrdiff_t ldd) {
    for (int a0 = 0; a0 < A; a0 += 8)
        for (int b0 = 0; b0 < B; b0 += 8)
            transpose8(src + a0 * lds + b0, lds, dst + b0 * ldd + a0, ldd, A - a0 < 8 ? A - a0 : 8,
                       B - b0 < 8 ? B - b0 : 8);
}

/* R rows x V column vectors (the last one partial when cols % 8 != 0); R and V are compile-time
 * constants in every copy (the tile_RV below), so the accumulators stay in registers. */
LB_INLINE void tile(const int R, const int V, int cols, int K, const float *A, ptrdiff_t am, ptrdiff_t ak,
             const float *B, ptrdiff_t ldb, const float *bias, float *C, ptrdiff_t ldc, int mode) {
    __m256 acc[MR][NV];
    const __m256i ml = avx2_mask(cols - 8 * (V - 1));
    UNROLL for (int v = 0; v < V; v++) {
        __m256 b0 = _mm256_setzero_ps();
        if (bias) b0 = v < V - 1 ? _mm256_loadu_ps(bias + 8 * v) : load_n(ml, bias + 8 * v);
        UNROLL for (int r = 0; r < R; r++) acc[r][v] = b0;
    }
    for (int k = 0; k < K; k++) {
        const float *Bk = B + k * ldb, *Ak = A + k * ak;
        __m256 bv[NV];
        UNROLL for (int v = 0; v < V; v++) bv[v] = v < V - 1 ? _mm256_loadu_ps(Bk + 8 * v) : load_n(ml, Bk + 8 * v);
        UNROLL for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_broadcast_ss(Ak + r * am);
            UNROLL for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(a, bv[v], acc[r][v]);
        }
    }
    if (mode == ST_TRANS) {
        alignas(32) float t[MR][8 * NV];
        UNROLL for (int r = 0; r < R; r++)
            UNROLL for (int v = 0; v < V; v++) _mm256_store_ps(&t[r][8 * v], acc[r][v]);
        transpose_plane(&t[0][0], C, R, cols, 8 * NV, ldc);
        return;
    }
    UNROLL for (int r = 0; r < R; r++) {
        float *Cr = C + r * ldc;
        UNROLL for (int v = 0; v < V; v++) {
            __m256 c = acc[r][v];
            if (v < V - 1) {
                if (mode == ST_ADD) c = _mm256_add_ps(c, _mm256_loadu_ps(Cr + 8 * v));
                _mm256_storeu_ps(Cr + 8 * v, c);
            } else {
                if (mode == ST_ADD) c = _mm256_add_ps(c, load_n(ml, Cr + 8 * v));
                store_n(Cr + 8 * v, c, cols - 8 * (V - 1));
            }
        }
    }
}

/* One out-of-line copy per (R, V): clang would otherwise merge the inlined switch cases back into
 * one loop with runtime bounds (and memory accumulators). */
#define TILE_PARAMS int cols, int K, const float *A, ptrdiff_t am, ptrdiff_t ak, const float *B, ptrdiff_t ldb, \
    const float *bias, float *C, ptrdiff_t ldc, int mode
#define T_(r, v) static __attribute__((noinline)) void tile_##r##v(TILE_PARAMS) { \
    tile(r, v, cols, K, A, am, ak, B, ldb, bias, C, ldc, mode); }
T_(1, 1) T_(1, 2) T_(1, 3) T_(2, 1) T_(2, 2) T_(2, 3) T_(3, 1) T_(3, 2) T_(3, 3) T_(4, 1) T_(4, 2) T_(4, 3)
#undef T_

static void tile_any(int R, int V, TILE_PARAMS) {
#define T_(r, v) case (r) * 8 + (v): tile_##r##v(cols, K, A, am, ak, B, ldb, bias, C, ldc, mode); break;
    switch (R * 8 + V) {
        T_(1, 1) T_(1, 2) T_(1, 3) T_(2, 1) T_(2, 2) T_(2, 3)
        T_(3, 1) T_(3, 2) T_(3, 3) T_(4, 1) T_(4, 2) T_(4, 3)
    default: break;
    }
#undef T_
}

static void gemm(int M, int Ncols, int K, const float *A, ptrdiff_t am, ptrdiff_t ak, const float *B,
                 ptrdiff_t ldb, const float *bias, float *C, ptrdiff_t ldc, int mode) {
    for (int j0 = 0; j0 < Ncols; j0 += 8 * NV) {
        const int cols = Ncols - j0 < 8 * NV ? Ncols - j0 : 8 * NV;
        const int V = (cols + 7) / 8;
        for (int m0 = 0; m0 < M; m0 += MR) {
            const int R = M - m0 < MR ? M - m0 : MR;
            float *Ct = mode == ST_TRANS ? C + (ptrdiff_t)j0 * ldc + m0 : C + (ptrdiff_t)m0 * ldc + j0;
            tile_any(R, V, cols, K, A + m0 * am, am, ak, B + j0, ldb, bias ? bias + j0 : NULL, Ct, ldc, mode);
        }
    }
}

/* Forward for out in {1,2,4}: lane l holds input i0 + l/out, output l%out. */
LB_INLINE void fwd_packed_rows(const int R, const dense_desc *d, const float *x, const float *w, const float *b, float *y) {
    const int I = d->in, O = d->out, L = 8 / O;
    const __m256i expand = _mm256_srlv_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                             _mm256_set1_epi32(__builtin_ctz((unsigned)O)));
    __m256 acc[MR];
    UNROLL for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_ps();
    int i0 = 0;
    for (; i0 + L <= I; i0 += L) {
        const __m256 wv = _mm256_loadu_ps(w + (ptrdiff_t)i0 * O);
        UNROLL for (int r = 0; r < R; r++) {
            const __m256 xv = O == 1 ? _mm256_loadu_ps(x + (ptrdiff_t)r * I + i0)
                              : O == 2 ? _mm256_castps128_ps256(_mm_loadu_ps(x + (ptrdiff_t)r * I + i0))
                                       : _mm256_castps128_ps256(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(x + (ptrdiff_t)r * I + i0))));
            acc[r] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(xv, expand), wv, acc[r]);
        }
    }
    if (i0 < I) {
        const __m256 wv = load_n(avx2_mask((I - i0) * O), w + (ptrdiff_t)i0 * O);
        const __m256i mx = avx2_mask(I - i0);
        UNROLL for (int r = 0; r < R; r++) {
            const __m256 xv = load_n(mx, x + (ptrdiff_t)r * I + i0);
            acc[r] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(xv, expand), wv, acc[r]);
        }
    }
    const __m128i mo = _mm256_castsi256_si128(avx2_mask(O));
    UNROLL for (int r = 0; r < R; r++) {
        __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
        if (O <= 2) s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        if (O == 1) s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
        if (b) s4 = _mm_add_ps(s4, _mm_maskload_ps(b, mo));
        store_n4(y + (ptrdiff_t)r * O, s4, O);
    }
}

void dense_fwd__avx2(const dense_desc *d, const float *x, const float *w, const float *b, float *y) {
    const int N = d->n, I = d->in, O = d->out;
    const float *bias = d->bias ? b : NULL;
    if (O == 1 || O == 2 || O == 4) {
        int n = 0;
        for (; n + MR <= N; n += MR) fwd_packed_rows(MR, d, x + (ptrdiff_t)n * I, w, bias, y + (ptrdiff_t)n * O);
        for (; n < N; n++) fwd_packed_rows(1, d, x + (ptrdiff_t)n * I, w, bias, y + (ptrdiff_t)n * O);
        return;
    }
    gemm(N, O, I, x, I, 1, w, O, bias, y, O, ST_SET);
}

enum { KT = 128, IT = 8 * NV * 2 }; /* w^T tile: 24 KiB of stack */

void dense_bwd_data__avx2(const dense_desc *d, const float *gy, const float *w, float *gx) {
    const int N = d->n, I = d->in, O = d->out;
    if (O == 0) {
        for (size_t k = 0; k < (size_t)N * I; k++) gx[k] = 0.0f;
        return;
    }
    alignas(32) float wt[KT * IT];
    for (int i0 = 0; i0 < I; i0 += IT) {
        const int it = I - i0 < IT ? I - i0 : IT;
        for (int k0 = 0; k0 < O; k0 += KT) {
            const int kt = O - k0 < KT ? O - k0 : KT;
            transpose_plane(w + (ptrdiff_t)i0 * O + k0, wt, it, kt, O, IT);
            gemm(N, it, kt, gy + k0, O, 1, wt, IT, NULL, gx + i0, I, k0 == 0 ? ST_SET : ST_ADD);
        }
    }
}

static double lane_use(int cols) { return cols > 0 ? (double)cols / (8.0 * ((cols + 7) / 8)) : 1.0; }

void dense_bwd_weights__avx2(const dense_desc *d, const float *x, const float *gy, float *gw, float *gb) {
    const int N = d->n, I = d->in, O = d->out;
    /* vector work ~ N/lane_use per output, plus a fixed cost per output for the transposed store */
    const double direct = N / lane_use(O), trans = N / lane_use(I) + 8.0;
    if (trans < direct)
        gemm(O, I, N, gy, 1, O, x, I, NULL, gw, O, ST_TRANS);
    else
        gemm(I, O, N, x, 1, I, gy, O, NULL, gw, O, ST_SET);
    if (d->bias && gb) {
        for (int o0 = 0; o0 < O; o0 += 8) {
            const __m256i m = avx2_mask(O - o0);
            __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
            int n = 0;
            for (; n + 2 <= N; n += 2) {
                s0 = _mm256_add_ps(s0, load_n(m, gy + (ptrdiff_t)n * O + o0));
                s1 = _mm256_add_ps(s1, load_n(m, gy + (ptrdiff_t)(n + 1) * O + o0));
            }
            if (n < N) s0 = _mm256_add_ps(s0, load_n(m, gy + (ptrdiff_t)n * O + o0));
            store_n(gb + o0, _mm256_add_ps(s0, s1), O - o0);
        }
    }
}

static void copy_floats(const float *s, float *t, size_t n) {
    size_t k = 0;
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(t + k, _mm256_loadu_ps(s + k));
    if (k < n) {
        const __m256i m = avx2_mask((int)(n - k));
        store_n(t + k, load_n(m, s + k), (int)(n - k));
    }
}

void dense_flatten_fwd__avx2(const dense_flatten_desc *d, const float *in, float *out) {
    const int P = d->h * d->w, C = d->c;
    const size_t S = (size_t)P * C;
    if (P == 1 || C == 1) { /* the permutation is the identity */
        copy_floats(in, out, S * d->n);
        return;
    }
    for (int n = 0; n < d->n; n++) transpose_plane(in + n * S, out + n * S, P, C, C, P);
}

void dense_flatten_bwd__avx2(const dense_flatten_desc *d, const float *gout, float *gin) {
    const int P = d->h * d->w, C = d->c;
    const size_t S = (size_t)P * C;
    if (P == 1 || C == 1) {
        copy_floats(gout, gin, S * d->n);
        return;
    }
    for (int n = 0; n < d->n; n++) transpose_plane(gout + n * S, gin + n * S, C, P, P, C);
}

/* Dense (linear) layer and flatten, AArch64 NEON (ASIMD, FMA).
 *  - fwd (out >= 2) and bwd_weights: one register-blocked GEMM tile, MR = 5 rows x up to NV = 4
 *    column vectors (20 accumulators + 4 B vectors + 5 broadcasts of the 32 registers), the
 *    A operand read with a row and a reduction stride so that bwd_weights reads x^T in place.
 *  - bwd_data (gx = gy w^T) and fwd with out = 1: row-by-row dot products, because both operands
 *    are contiguous along the reduction (gy rows and w rows over `out`; x rows and the one w
 *    column over `in`): a 4 x 4 tile of dot products with 16 vector accumulators, reduced
 *    pairwise (faddp) into 4 results per row.  No transposed copy of w is needed.
 *  - flatten: 4x4 register transposes (trn1/trn2 on 32 and 64 bits), scalar edges.
 * Column tails (cols % 4) load with lane/64-bit loads that never touch memory past the operand
 * and zero the unused lanes.  With integer-valued data every order of summation is exact, so the
 * results equal the reference's bit for bit.
 */
#include <arm_neon.h>
#include "kernels/neon_part.h"
#include "kernels/dense/dense.h"

/* Unroll the constant-trip register-block loops early, so the accumulator arrays become
 * registers. */
#if defined(__clang__)
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 16")
#endif

enum { MR = 5, NV = 4 }; /* 20 accumulators + 4 B vectors + the MR broadcasts gcc loads ahead */

/* C[r][0..cols) = bias + sum_k A[r*am + k*ak] * B[k*ldb + 0..cols), r < R, cols <= 4*V; the last
 * of the V vectors holds cols - 4(V-1) lanes (FULL: 4).  R, V, FULL are compile-time constants in
 * every instantiation below, so the accumulators stay in registers. */
LB_INLINE void tile(const int R, const int V, const int FULL, int cols, int K, const float *A, ptrdiff_t am, ptrdiff_t ak,
             const float *B, ptrdiff_t ldb, const float *bias, float *C, ptrdiff_t ldc) {
    float32x4_t acc[MR][NV];
    const int rl = FULL ? 4 : cols - 4 * (V - 1);
    UNROLL for (int v = 0; v < V; v++) {
        float32x4_t b0 = vdupq_n_f32(0.0f);
        if (bias) b0 = (FULL || v < V - 1) ? vld1q_f32(bias + 4 * v) : ld_part(bias + 4 * v, rl);
        UNROLL for (int r = 0; r < R; r++) acc[r][v] = b0;
    }
    for (int k = 0; k < K; k++) {
        const float *Bk = B + k * ldb, *Ak = A + k * ak;
        float32x4_t bv[NV];
        UNROLL for (int v = 0; v < V; v++) bv[v] = (FULL || v < V - 1) ? vld1q_f32(Bk + 4 * v) : ld_part(Bk + 4 * v, rl);
        UNROLL for (int r = 0; r < R; r++) {
            const float32x4_t a = vld1q_dup_f32(Ak + r * am);
            UNROLL for (int v = 0; v < V; v++) acc[r][v] = vfmaq_f32(acc[r][v], a, bv[v]);
        }
    }
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int v = 0; v < V; v++) {
            if (FULL || v < V - 1) vst1q_f32(C + r * ldc + 4 * v, acc[r][v]);
            else st_part(C + r * ldc + 4 * v, acc[r][v], rl);
        }
}

#define TILE_PARAMS int cols, int K, const float *A, ptrdiff_t am, ptrdiff_t ak, const float *B, ptrdiff_t ldb, \
    const float *bias, float *C, ptrdiff_t ldc
#define TILE_ARGS cols, K, A, am, ak, B, ldb, bias, C, ldc
/* One out-of-line copy per (R, V, FULL). */
#define T_(r, v)                                                                                   \
    static __attribute__((noinline)) void tile_##r##v##f(TILE_PARAMS) { tile(r, v, 1, TILE_ARGS); } \
    static __attribute__((noinline)) void tile_##r##v##p(TILE_PARAMS) { tile(r, v, 0, TILE_ARGS); }
#define FOR_RV(X) X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(2, 1) X(2, 2) X(2, 3) X(2, 4) X(3, 1) X(3, 2) X(3, 3) X(3, 4) \
    X(4, 1) X(4, 2) X(4, 3) X(4, 4) X(5, 1) X(5, 2) X(5, 3) X(5, 4)
FOR_RV(T_)
#undef T_

static void tile_any(int R, int V, int full, TILE_PARAMS) {
#define T_(r, v)                                         \
    case (r) * 8 + (v):                                  \
        if (full) tile_##r##v##f(TILE_ARGS);             \
        else tile_##r##v##p(TILE_ARGS);                  \
        break;
    switch (R * 8 + V) {
        FOR_RV(T_)
    default: break;
    }
#undef T_
}

/* C [M][Ncols] (ldc) = bias + A B, A element (m, k) at A[m*am + k*ak], B [K][Ncols] (ldb). */
static void gemm(int M, int Ncols, int K, const float *A, ptrdiff_t am, ptrdiff_t ak, const float *B, ptrdiff_t ldb,
                 const float *bias, float *C, ptrdiff_t ldc) {
    for (int j0 = 0; j0 < Ncols; j0 += 4 * NV) {
        const int cols = Ncols - j0 < 4 * NV ? Ncols - j0 : 4 * NV;
        const int V = (cols + 3) / 4, full = cols % 4 == 0;
        for (int m0 = 0; m0 < M; m0 += MR) {
            const int R = M - m0 < MR ? M - m0 : MR;
            tile_any(R, V, full, cols, K, A + m0 * am, am, ak, B + j0, ldb, bias ? bias + j0 : NULL,
                     C + (ptrdiff_t)m0 * ldc + j0, ldc);
        }
    }
}

/* Dot-product tile: C[r*ldc + c] = bias[c] + sum_k A[r*lda + k] * B[c*ldb + k], r < R, c < NC. */
LB_INLINE void dot_tile(const int R, const int NC, int K, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                 const float *bias, float *C, ptrdiff_t ldc) {
    float32x4_t acc[4][4];
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int c = 0; c < NC; c++) acc[r][c] = vdupq_n_f32(0.0f);
    int k = 0;
    for (; k + 4 <= K; k += 4) {
        float32x4_t a[4], b[4];
        UNROLL for (int r = 0; r < R; r++) a[r] = vld1q_f32(A + r * lda + k);
        UNROLL for (int c = 0; c < NC; c++) b[c] = vld1q_f32(B + c * ldb + k);
        UNROLL for (int r = 0; r < R; r++)
            UNROLL for (int c = 0; c < NC; c++) acc[r][c] = vfmaq_f32(acc[r][c], a[r], b[c]);
    }
    if (k < K) { /* zero-padded lanes add 0 */
        float32x4_t a[4], b[4];
        UNROLL for (int r = 0; r < R; r++) a[r] = ld_part(A + r * lda + k, K - k);
        UNROLL for (int c = 0; c < NC; c++) b[c] = ld_part(B + c * ldb + k, K - k);
        UNROLL for (int r = 0; r < R; r++)
            UNROLL for (int c = 0; c < NC; c++) acc[r][c] = vfmaq_f32(acc[r][c], a[r], b[c]);
    }
    const float32x4_t z = vdupq_n_f32(0.0f);
    const float32x4_t bv = bias ? ld_part(bias, NC) : z;
    UNROLL for (int r = 0; r < R; r++) {
        /* lane c = horizontal sum of acc[r][c] */
        const float32x4_t s01 = vpaddq_f32(acc[r][0], NC > 1 ? acc[r][1] : z);
        const float32x4_t s23 = vpaddq_f32(NC > 2 ? acc[r][2] : z, NC > 3 ? acc[r][3] : z);
        st_part(C + r * ldc, vaddq_f32(vpaddq_f32(s01, s23), bv), NC);
    }
}

#define D_(r, c)                                                                                       \
    static __attribute__((noinline)) void dot_##r##c(int K, const float *A, ptrdiff_t lda, const float *B, \
                                                     ptrdiff_t ldb, const float *bias, float *C, ptrdiff_t ldc) { \
        dot_tile(r, c, K, A, lda, B, ldb, bias, C, ldc);                                               \
    }
#define FOR_RC(X) X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(2, 1) X(2, 2) X(2, 3) X(2, 4) \
    X(3, 1) X(3, 2) X(3, 3) X(3, 4) X(4, 1) X(4, 2) X(4, 3) X(4, 4)
FOR_RC(D_)
#undef D_

/* C [M][NB] (ldc) = bias + A B^T with A [M][K] (lda), B [NB][K] (ldb). */
static void dot_gemm(int M, int NB, int K, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                     const float *bias, float *C, ptrdiff_t ldc) {
    for (int m0 = 0; m0 < M; m0 += 4) {
        const int R = M - m0 < 4 ? M - m0 : 4;
        for (int c0 = 0; c0 < NB; c0 += 4) {
            const int NC = NB - c0 < 4 ? NB - c0 : 4;
            const float *Am = A + (ptrdiff_t)m0 * lda, *Bc = B + (ptrdiff_t)c0 * ldb, *bc = bias ? bias + c0 : NULL;
            float *Cm = C + (ptrdiff_t)m0 * ldc + c0;
#define D_(r, c) case (r) * 8 + (c): dot_##r##c(K, Am, lda, Bc, ldb, bc, Cm, ldc); break;
            switch (R * 8 + NC) {
                FOR_RC(D_)
            default: break;
            }
#undef D_
        }
    }
}

void dense_fwd__neon(const dense_desc *d, const float *x, const float *w, const float *b, float *y) {
    const int N = d->n, I = d->in, O = d->out;
    const float *bias = d->bias ? b : NULL;
    if (O == 1) /* y[n] = x[n,:] . w[:,0]: w's one column is contiguous */
        dot_gemm(N, 1, I, x, I, w, I, bias, y, 1);
    else
        gemm(N, O, I, x, I, 1, w, O, bias, y, O);
}

void dense_bwd_data__neon(const dense_desc *d, const float *gy, const float *w, float *gx) {
    /* gx[n][i] = gy[n,:] . w[i,:]; out = 0 gives zeros (K = 0) */
    dot_gemm(d->n, d->in, d->out, gy, d->out, w, d->out, NULL, gx, d->in);
}

void dense_bwd_weights__neon(const dense_desc *d, const float *x, const float *gy, float *gw, float *gb) {
    const int N = d->n, I = d->in, O = d->out;
    /* gw[i][o] = sum_n x[n][i] gy[n][o]: A = x^T read in place (row stride 1, reduction stride I) */
    gemm(I, O, N, x, 1, I, gy, O, NULL, gw, O);
    if (d->bias && gb) {
        for (int o0 = 0; o0 < O; o0 += 4) {
            const int r = O - o0 < 4 ? O - o0 : 4;
            float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
            int n = 0;
            for (; n + 2 <= N; n += 2) {
                s0 = vaddq_f32(s0, ld_part(gy + (ptrdiff_t)n * O + o0, r));
                s1 = vaddq_f32(s1, ld_part(gy + (ptrdiff_t)(n + 1) * O + o0, r));
            }
            if (n < N) s0 = vaddq_f32(s0, ld_part(gy + (ptrdiff_t)n * O + o0, r));
            st_part(gb + o0, vaddq_f32(s0, s1), r);
        }
    }
}

/* dst[b][a] = src[a][b] for an A x B source: 4x4 register blocks, scalar edges. */
static void transpose_plane(const float *src, float *dst, int A, int B, ptrdiff_t lds, ptrdiff_t ldd) {
    int a0 = 0;
    for (; a0 + 4 <= A; a0 += 4) {
        int b0 = 0;
        for (; b0 + 4 <= B; b0 += 4) {
            const float *s = src + a0 * lds + b0;
            const float32x4_t r0 = vld1q_f32(s), r1 = vld1q_f32(s + lds), r2 = vld1q_f32(s + 2 * lds),
                              r3 = vld1q_f32(s + 3 * lds);
            const float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
            const float32x4_t t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
            float *t = dst + b0 * ldd + a0;
            vst1q_f32(t, vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2))));
            vst1q_f32(t + ldd, vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3))));
            vst1q_f32(t + 2 * ldd, vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2))));
            vst1q_f32(t + 3 * ldd, vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3))));
        }
        for (; b0 < B; b0++)
            for (int a = a0; a < a0 + 4; a++) dst[b0 * ldd + a] = src[a * lds + b0];
    }
    for (; a0 < A; a0++)
        for (int b0 = 0; b0 < B; b0++) dst[b0 * ldd + a0] = src[a0 * lds + b0];
}

static void copy_floats(const float *s, float *t, size_t n) {
    size_t k = 0;
    for (; k + 4 <= n; k += 4) vst1q_f32(t + k, vld1q_f32(s + k));
    for (; k < n; k++) t[k] = s[k];
}

void dense_flatten_fwd__neon(const dense_flatten_desc *d, const float *in, float *out) {
    const int P = d->h * d->w, C = d->c;
    const size_t S = (size_t)P * C;
    if (P == 1 || C == 1) { /* the permutation is the identity */
        copy_floats(in, out, S * d->n);
        return;
    }
    for (int n = 0; n < d->n; n++) transpose_plane(in + n * S, out + n * S, P, C, C, P);
}

void dense_flatten_bwd__neon(const dense_flatten_desc *d, const float *gout, float *gin) {
    const int P = d->h * d->w, C = d->c;
    const size_t S = (size_t)P * C;
    if (P == 1 || C == 1) {
        copy_floats(gout, gin, S * d->n);
        return;
    }
    for (int n = 0; n < d->n; n++) transpose_plane(gout + n * S, gin + n * S, C, P, P, C);
}

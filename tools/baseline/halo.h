/* Circular padding as an explicit copy, for libraries (oneDNN) that only pad with zeros: the
 * convolution then runs unpadded on a (hp x wp) tensor whose row r is input row (r - top) mod h
 * and whose column q is input column (q - left) mod w.  Backward-data produces the gradient of that
 * padded tensor; fold-back sums it onto the input sites it was copied from.  NHWC, float32.
 * The one halo of the project: the oneDNN baseline (onednn_ops.h) of verify, bench and gbench and
 * the bench conv chain all pad through it.
 */
#pragma once
#include "kernels/conv2d/conv2d.h"

typedef struct {
    int n, h, w, c;     /* the unpadded tensor */
    int hp, wp;         /* the padded tensor */
    int top, left;      /* padded row/column 0 is input row/column -top/-left (mod h, w) */
} halo_geom;

/* The padded input of a periodic conv2d: hp = (oh-1)*sh + kh rows, top = floor((kh-1)/2)
 * (conv2d.h's offsets), so that an unpadded stride-sh convolution gives exactly oh x ow outputs. */
halo_geom halo_for_conv2d(const conv2d_desc *d);

/* Whether the padded tensor is the input itself (1x1 kernels at stride 1): no copy needed. */
int halo_is_identity(const halo_geom *g);

size_t halo_padded_size(const halo_geom *g);

/* dst [n][hp][wp][c] <- src [n][h][w][c] with wrap-around; rows split over `threads`. */
void halo_pad_nhwc(const halo_geom *g, int threads, const float *src, float *dst);

/* gsrc [n][h][w][c] = sum of the gpad [n][hp][wp][c] entries copied from each site (0 if none). */
void halo_fold_nhwc(const halo_geom *g, int threads, const float *gpad, float *gsrc);

/* A halo copy as a timed step (timing.h): bench_step_halo_pad copies src -> dst (padded),
 * bench_step_halo_fold folds src (the padded gradient) -> dst. */
typedef struct {
    halo_geom g;
    int threads;
    const float *src;
    float *dst;
} odnn_halo_ctx;

void bench_step_halo_pad(void *ctx);
void bench_step_halo_fold(void *ctx);

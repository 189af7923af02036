/* Partial NEON loads and stores for channel tails (1..4 floats), shared by the -neon.c kernels:
 * a tail reads and writes only its own floats, never past the end of a tensor. */
#pragma once
#include <arm_neon.h>
#include "kernels/common.h"

/* The first r (1..4) floats at p, zeros above. */
LB_INLINE float32x4_t ld_part(const float *p, int r) {
    switch (r) {
    case 4: return vld1q_f32(p);
    case 3: return vcombine_f32(vld1_f32(p), vld1_lane_f32(p + 2, vdup_n_f32(0.0f), 0));
    case 2: return vcombine_f32(vld1_f32(p), vdup_n_f32(0.0f));
    default: return vld1q_lane_f32(p, vdupq_n_f32(0.0f), 0);
    }
}

/* Stores the first r (1..4) lanes of v. */
LB_INLINE void st_part(float *p, float32x4_t v, int r) {
    switch (r) {
    case 4: vst1q_f32(p, v); break;
    case 3: vst1_f32(p, vget_low_f32(v)); vst1q_lane_f32(p + 2, v, 2); break;
    case 2: vst1_f32(p, vget_low_f32(v)); break;
    default: vst1q_lane_f32(p, v, 0); break;
    }
}

#include <arm_neon.h>
#include "tools/machine/peak.h"

float machine_fma_loop_neon(long iters) {
    /* c = c*a + b converges to b/(1-a) = 1: no overflow, no denormals, whatever iters is */
    const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-6f);
    float32x4_t c[12];
    for (int k = 0; k < 12; k++) c[k] = vdupq_n_f32(0.10f + 0.01f * k);
    for (long i = 0; i < iters; i++) {
        c[0] = vfmaq_f32(b, c[0], a); c[1] = vfmaq_f32(b, c[1], a); c[2] = vfmaq_f32(b, c[2], a);
        c[3] = vfmaq_f32(b, c[3], a); c[4] = vfmaq_f32(b, c[4], a); c[5] = vfmaq_f32(b, c[5], a);
        c[6] = vfmaq_f32(b, c[6], a); c[7] = vfmaq_f32(b, c[7], a); c[8] = vfmaq_f32(b, c[8], a);
        c[9] = vfmaq_f32(b, c[9], a); c[10] = vfmaq_f32(b, c[10], a); c[11] = vfmaq_f32(b, c[11], a);
    }
    float32x4_t s = c[0];
    for (int k = 1; k < 12; k++) s = vaddq_f32(s, c[k]);
    return vaddvq_f32(s);
}

/* PLACEHOLDER: verifier for conv2d not written yet. */
#include "harness/verify/verify_ops.h"

void verify_conv2d(vf_report *r, const conv2d_desc *d) { vf_record(r, "conv2d/not-implemented", false, "verifier not written yet"); }
void conv2d_desc_str(const conv2d_desc *d, char *buf, size_t len) { snprintf(buf, len, "conv2d"); }

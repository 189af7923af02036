/* PLACEHOLDER: verifier for gpool not written yet. */
#include "harness/verify/verify_ops.h"

void verify_gpool(vf_report *r, const gpool_desc *d) { vf_record(r, "gpool/not-implemented", false, "verifier not written yet"); }
void gpool_desc_str(const gpool_desc *d, char *buf, size_t len) { snprintf(buf, len, "gpool"); }

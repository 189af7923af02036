/* Verification utilities shared by every op's verifier (tools/verify/verify_<op>.c), in the
 * manner of oneDNN's benchdnn: a problem descriptor string names each check, so a failure prints a
 * one-line reproducer (`latbench verify --desc DESCRIPTOR`).
 *
 * Descriptor form: "<op>_<pass>/<problem>/<variant>", e.g.
 *   conv2d_fwd/mb32_ic4oc64_ih60iw4_kh2kw2_sh1sw1_b1/avx512      variant vs the scalar reference
 *   conv2d_fwd/mb32_ic4oc64_ih60iw4_kh2kw2_sh1sw1_b1/avx512@onednn   variant vs oneDNN
 *   conv2d_fwd/mb32_ic4oc64_ih60iw4_kh2kw2_sh1sw1_b1/avx512.fwd_m.8  at a tuning parameter's value
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "arch/registry.h"
/* LB_NO_ONEDNN (make ONEDNN=0; the AArch64 cross build): built without oneDNN.  r->onednn then
 * stays false, each verifier's oneDNN helpers compile to stubs that are never called, and
 * `latbench verify` says the comparisons are not available on this build. */
#ifdef LB_NO_ONEDNN
#define LB_HAVE_ONEDNN 0
#else
#define LB_HAVE_ONEDNN 1
#include <dnnl.h>
#endif

typedef struct {
    FILE *out;
    int verbose;            /* print every check, not only failures */
    const char *filter;     /* only checks whose descriptor contains this substring (NULL: all) */
    unsigned isa_mask;      /* variants to check: bit (1 << lb_isa) */
    lb_cpu cpu;
    bool onednn;            /* compare with oneDNN (x86 builds) */
#if LB_HAVE_ONEDNN
    dnnl_engine_t engine;   /* CPU engine and stream, created by vf_report_init */
    dnnl_stream_t stream;
#endif
    int checked, failed, skipped;
    int param_checks;       /* of checked: variants run at a tuning parameter's value (verify_conv2d) */
    int profile_checks;     /* of checked: variants run at a parameter set of the active tuning profile */
    int onednn_checks;      /* of checked: against oneDNN ("...@onednn" descriptors) */
    char skipped_names[32][48]; /* variants already reported as skipped (printed once) */
    int n_skipped_names;
} vf_report;

/* Every ISA: a report that checks each variant this build carries. */
#define VF_ALL_ISAS ((1u << LB_ISA_SCALAR) | (1u << LB_ISA_AVX2) | (1u << LB_ISA_AVX512) | (1u << LB_ISA_NEON))

/* Sets up a report for the variants in isa_mask (creates the oneDNN engine when onednn). */
void vf_report_init(vf_report *r, FILE *out, unsigned isa_mask, bool onednn);
void vf_report_fini(vf_report *r);

/* Whether a check with this descriptor is selected by the filter. */
bool vf_wanted(const vf_report *r, const char *descriptor);

/* Whether the variant of ISA `isa` named `name` is to be run.  A variant outside isa_mask is
 * left out silently (the user asked for that); one the CPU cannot run is reported once as
 * "SKIP <op>/<name>: CPU lacks <isa>" and counted as skipped. */
bool vf_variant_runnable(vf_report *r, const char *op, const char *name, lb_isa isa);

/* Records one check; on failure prints "MISMATCH <descriptor>: <detail>". */
void vf_record(vf_report *r, const char *descriptor, bool ok, const char *detail);

/* Elementwise |got - ref| <= atol + rtol*|ref|; on failure writes the worst element to detail. */
bool vf_compare(const float *got, const float *ref, size_t n, double rtol, double atol, char *detail, size_t len);

/* Deterministic fills (splitmix64 from seed): integer-valued floats in [lo, hi], so sums of
 * products are exact in float32 while they stay below 2^24; or uniform reals in [lo, hi). */
void vf_fill_int(float *x, size_t n, uint64_t seed, int lo, int hi);
void vf_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);

/* 64-byte aligned, zeroed; prints and exits on failure.  Free with free(). */
float *vf_alloc(size_t n);

/* Guarded, misaligned buffers for kernel arguments.  vf_buf_alloc(n, guard) returns n floats
 * starting 4 bytes off 64-byte alignment (so no kernel can rely on aligned access).  With guard,
 * VF_GUARD floats of a NaN payload no kernel produces follow them (a write past the end shows up
 * even where ASan cannot see it); without guard (inputs), the n floats end exactly at the end of
 * the allocation, so ASan catches a read past them.  Contents start as zero.  Prints and exits
 * when out of memory.  Free with vf_buf_free (NULL is fine). */
enum { VF_GUARD = 32 };
float *vf_buf_alloc(size_t n, bool guard);
void vf_buf_free(float *p);
/* Rewrites the guard after p[0..n) (p from vf_buf_alloc(n, true)). */
void vf_guard_arm(float *p, size_t n);
/* 0 when the guard after p[0..n) is intact; else 1 + the index in the guard of the first
 * element that changed (how far past the end a kernel wrote, at least). */
size_t vf_guard_breach(const float *p, size_t n);
static inline bool vf_guard_intact(const float *p, size_t n) { return vf_guard_breach(p, n) == 0; }
/* Fills p[0..n) with NaN (an element a kernel fails to write then fails the comparison) and
 * re-arms the guard (p from vf_buf_alloc(n, true)). */
void vf_poison(float *p, size_t n);
/* Records desc with the verdict ok of a comparison (detail[len]: its message), failed too when
 * the guard after got[0..n) is broken ("wrote past the end of the output"). */
void vf_record_guarded(vf_report *r, const char *desc, bool ok, char *detail, size_t len, const float *got, size_t n);
/* Records desc: vf_compare(got, want, ...) and the guard after got[0..n) intact. */
void vf_check(vf_report *r, const char *desc, const float *got, const float *want, size_t n, double rtol, double atol);

/* The values of a tuning parameter that verification checks (and `latbench tune` may choose
 * from): all of a range of at most 16, else min, max, the powers of two between them and one odd
 * value in the middle.  Returns how many were written to vals (at most max). */
int vf_param_values(const lb_param_info *pi, int *vals, int max);

/* oneDNN status check: on error prints the call and status and returns false from the caller. */
#define VF_DNNL(call)                                                                          \
    do {                                                                                       \
        dnnl_status_t st_ = (call);                                                            \
        if (st_ != dnnl_success) {                                                             \
            fprintf(stderr, "oneDNN: %s failed (status %d) at %s:%d\n", #call, (int)st_, __FILE__, __LINE__); \
            return false;                                                                      \
        }                                                                                      \
    } while (0)

/* `latbench verify` (tools/verify/verify_main.c): the process exit status. */
int cmd_verify(int argc, char **argv);

/* How this binary was built, for the context block of every result: the compiler, its flags and
 * the git commit of the source (the Makefile defines them when compiling build_info.c). */
#pragma once
#include <stddef.h>

const char *lb_build_compiler(void);   /* "gcc 12.2.0", "clang 14.0.6" */
const char *lb_build_flags(void);      /* the CFLAGS of this build, as passed by the Makefile */
const char *lb_build_commit(void);
/* The kernel-relevant identity of the source: "kernels/act=<12 hex> ... kernels=<hex> arch=<hex>",
 * one hash per group of the sources that decide the kernels' code (kernels/<op>/, the headers in
 * kernels/, the arch/ sources that detect the CPU and choose variants), as the Makefile computes it;
 * "unknown" when not built by the Makefile.  With the compiler and flags, what a tuning profile is
 * keyed by. */
const char *lb_build_kernel_id(void);
/* The groups whose hashes differ between two such identities (or that only one has), as
 * "kernels/conv2d, arch" in out; "the kernel identity" when either is not of that form. */
void lb_build_kernel_id_diff(const char *a, const char *b, char *out, size_t len);
const char *lb_build_version(void);    /* "MAJOR.MINOR.PATCH": include/latbench.h's LATBENCH_VERSION_*, via the Makefile */     /* short commit, "-dirty" appended with local changes; "unknown" */

/* How this binary was built, for the context block of every result: the compiler, its flags and
 * the git commit of the source (the Makefile defines them when compiling build_info.c). */
#pragma once

const char *lb_build_compiler(void);   /* "gcc 12.2.0", "clang 14.0.6" */
const char *lb_build_flags(void);      /* the CFLAGS of this build, as passed by the Makefile */
const char *lb_build_commit(void);
const char *lb_build_version(void);    /* "MAJOR.MINOR.PATCH": include/latbench.h's LATBENCH_VERSION_*, via the Makefile */     /* short commit, "-dirty" appended with local changes; "unknown" */

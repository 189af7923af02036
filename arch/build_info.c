#include "arch/build_info.h"

#ifndef LB_BUILD_FLAGS
#define LB_BUILD_FLAGS "unknown (not built by the Makefile)"
#endif
#ifndef LB_VERSION
#define LB_VERSION "unknown"
#endif
#ifndef LB_GIT_COMMIT
#define LB_GIT_COMMIT "unknown"
#endif

const char *lb_build_compiler(void) {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return __VERSION__;
#endif
}

const char *lb_build_flags(void) { return LB_BUILD_FLAGS; }
const char *lb_build_commit(void) { return LB_GIT_COMMIT; }
const char *lb_build_version(void) { return LB_VERSION; }

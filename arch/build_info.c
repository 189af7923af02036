#include "arch/build_info.h"
#include <stdio.h>
#include <string.h>

#ifndef LB_BUILD_FLAGS
#define LB_BUILD_FLAGS "unknown (not built by the Makefile)"
#endif
#ifndef LB_VERSION
#define LB_VERSION "unknown"
#endif
#ifndef LB_KERNEL_ID
#define LB_KERNEL_ID "unknown"
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
const char *lb_build_kernel_id(void) { return LB_KERNEL_ID; }

/* The hash of group g (length gl) in id, or NULL: id is "g1=h1 g2=h2 ...". */
static const char *group_hash(const char *id, const char *g, size_t gl, size_t *hl) {
    for (const char *p = id; *p;) {
        const char *sp = strchr(p, ' '), *end = sp ? sp : p + strlen(p), *eq = memchr(p, '=', (size_t)(end - p));
        if (eq && (size_t)(eq - p) == gl && !memcmp(p, g, gl)) return *hl = (size_t)(end - eq - 1), eq + 1;
        p = sp ? sp + 1 : end;
    }
    return NULL;
}

/* Appends the groups of a that b lacks or hashes differently (not already in out). */
static void diff_one_way(const char *a, const char *b, char *out, size_t len) {
    for (const char *p = a; *p;) {
        const char *sp = strchr(p, ' '), *end = sp ? sp : p + strlen(p), *eq = memchr(p, '=', (size_t)(end - p));
        size_t hb = 0, ha = eq ? (size_t)(end - eq - 1) : 0, gl = eq ? (size_t)(eq - p) : 0;
        const char *h = eq ? group_hash(b, p, gl, &hb) : NULL;
        if (eq && (!h || hb != ha || memcmp(h, eq + 1, ha))) {
            char g[64];
            snprintf(g, sizeof g, "%.*s", (int)(gl < 63 ? gl : 63), p);
            size_t ol = strlen(out), ohl = 0;
            if (!group_hash(out[0] ? out : "", g, strlen(g), &ohl) && ol + 1 < len)
                snprintf(out + ol, len - ol, "%s%s=", ol ? " " : "", g);
        }
        p = sp ? sp + 1 : end;
    }
}

void lb_build_kernel_id_diff(const char *a, const char *b, char *out, size_t len) {
    if (!len) return;
    out[0] = 0;
    if (!strchr(a, '=') || !strchr(b, '=')) {
        snprintf(out, len, "the kernel identity");
        return;
    }
    diff_one_way(a, b, out, len);
    diff_one_way(b, a, out, len);
    /* "g1= g2=" (the form group_hash searches) -> "g1, g2" */
    char *w = out;
    for (const char *r = out; *r; r++)
        if (*r == '=') *w++ = r[1] ? ',' : 0;
        else *w++ = *r;
    *w = 0;
    if (!out[0]) snprintf(out, len, "the kernel identity");
}

/* Benchmark names of earlier latbench versions in the one grammar of today (README "Benchmark
 * names"): <op>_<pass>/<problem>/<impl>/threads:<N>, impl = ours | scalar | onednn_any | onednn_nhwc
 * | variant:<name>.  Before it, bench --gbench named a variant by its bare name, added
 * google-benchmark's "/real_time" and called the worm "worm_sweep"; bench named the worm's variants
 * bare too.  The schema 3 migration renames the stored series through it (history.c), history
 * import and compare read old files through it, so an old series goes on under its new name. */
#include <stdio.h>
#include <string.h>
#include "tools/track/history.h"

static bool impl_current(const char *s, size_t n) {
    static const char *const known[] = {"ours", "scalar", "onednn_any", "onednn_nhwc"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strlen(known[i]) == n && !strncmp(s, known[i], n)) return true;
    return n > 8 && !strncmp(s, "variant:", 8);
}

bool hist_name_upgrade(const char *name, char *out, size_t len) {
    char buf[512];
    size_t n = strlen(name);
    static const char rt[] = "/real_time";
    if (n >= sizeof buf) return snprintf(out, len, "%s", name) < (int)len;
    if (n > sizeof rt - 1 && !strcmp(name + n - (sizeof rt - 1), rt)) n -= sizeof rt - 1;
    if (!strncmp(name, "worm_sweep/", 11)) snprintf(buf, sizeof buf, "worm/%.*s", (int)(n - 11), name + 11);
    else snprintf(buf, sizeof buf, "%.*s", (int)n, name);
    /* the impl: the part before "threads:N" of a kernel row (four parts or more; not a pipeline or gate row) */
    char *thr = strstr(buf, "/threads:"), *impl = NULL;
    int parts = 1;
    for (const char *p = buf; *p; p++) parts += *p == '/';
    if (thr && !strchr(thr + 1, '/') && parts >= 4 && strncmp(buf, "pipeline/", 9) && strncmp(buf, "gate/", 5)) {
        *thr = 0;
        impl = strrchr(buf, '/') + 1;
        *thr = '/';
    }
    if (!impl || impl_current(impl, (size_t)(thr - impl))) return snprintf(out, len, "%s", buf) < (int)len;
    return snprintf(out, len, "%.*svariant:%s", (int)(impl - buf), buf, impl) < (int)len;
}

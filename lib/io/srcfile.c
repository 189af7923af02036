#include "lib/io/srcfile.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int io_find_near_binary(const char *rel, char *out, size_t len) {
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) return -1;
    dir[n] = 0;
    for (int up = 0; up <= 4; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash) break;
        *slash = 0; /* dir: the binary's directory, then its parents */
        snprintf(out, len, "%s/%s", dir, rel);
        struct stat st;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) return 1;
        if (!*dir) break;
    }
    return 0;
}

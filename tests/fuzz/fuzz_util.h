/* Shared by the libFuzzer targets of tests/fuzz/ (see tests/fuzz/README.md): the parsers under test
 * take file paths, so an input is handed over as an in-memory file (memfd) named by
 * /proc/self/fd/N. */
#pragma once
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes all of buf to fd; false on a write error. */
static inline bool fuzz_write_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* An in-memory file holding data[0..n), its path in path; the fd (close it), or -1. */
static inline int fuzz_memfile(const uint8_t *data, size_t n, char *path, size_t len) {
    int fd = memfd_create("fuzz", 0);
    if (fd < 0) return -1;
    if (!fuzz_write_all(fd, data, n)) {
        close(fd);
        return -1;
    }
    snprintf(path, len, "/proc/self/fd/%d", fd);
    return fd;
}

/* Splits data at the separator sep into at most max parts (the last part takes the rest); the
 * number of parts.  part[i] / plen[i] point into data. */
static inline int fuzz_split(const uint8_t *data, size_t n, const char *sep, const uint8_t **part, size_t *plen, int max) {
    size_t sl = strlen(sep);
    int k = 0;
    while (k < max - 1) {
        const uint8_t *hit = memmem(data, n, sep, sl);
        if (!hit) break;
        part[k] = data;
        plen[k++] = (size_t)(hit - data);
        n -= (size_t)(hit - data) + sl;
        data = hit + sl;
    }
    part[k] = data;
    plen[k++] = n;
    return k;
}

/* A NUL-terminated copy of data[0..n) (malloc'ed), or NULL. */
static inline char *fuzz_cstr(const uint8_t *data, size_t n) {
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, data, n);
    s[n] = 0;
    return s;
}

/* A scratch directory for targets whose parser wants a directory or a file name of its own,
 * made once per fuzzing process (the only process-wide state of a target) and removed at exit. */
static char fuzz_scratch[64];

static inline void fuzz_scratch_remove(void) {
    DIR *d = opendir(fuzz_scratch);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", fuzz_scratch, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(fuzz_scratch);
}

static inline const char *fuzz_scratch_dir(void) {
    if (!fuzz_scratch[0]) {
        char tmpl[] = "/tmp/latbench-fuzz-XXXXXX";
        if (!mkdtemp(tmpl)) abort();
        snprintf(fuzz_scratch, sizeof fuzz_scratch, "%s", tmpl);
        atexit(fuzz_scratch_remove);
    }
    return fuzz_scratch;
}

/* Writes data[0..n) to the scratch directory's file `name` (present = false: removes it); the
 * path in path. */
static inline void fuzz_put(const char *name, const uint8_t *data, size_t n, bool present, char *path, size_t len) {
    snprintf(path, len, "%s/%s", fuzz_scratch_dir(), name);
    unlink(path);
    if (!present) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || !fuzz_write_all(fd, data, n)) abort();
    close(fd);
}

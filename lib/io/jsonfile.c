#include "lib/io/jsonfile.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

json_t *io_json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *io_json_str(const char *s) { return s ? json_string(s) : json_null(); }

void io_json_set_num(json_t *obj, const char *key, double v) { json_object_set_new(obj, key, io_json_num(v)); }

void io_json_set_str(json_t *obj, const char *key, const char *s) { json_object_set_new(obj, key, io_json_str(s)); }

void io_json_set_int(json_t *obj, const char *key, long long v) { json_object_set_new(obj, key, json_integer(v)); }

void io_json_set_bool(json_t *obj, const char *key, bool v) { json_object_set_new(obj, key, json_boolean(v)); }

/* The whole text, short writes continued, so that a full disk reports ENOSPC (json_dumpfd would
 * take a short write for a failure without errno). */
static bool write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return false;
        }
        p += w, n -= (size_t)w;
    }
    return true;
}

bool io_json_commit(const json_t *root, io_atomic_file *af, char *err, size_t errlen) {
    char *text = json_dumps(root, IO_JSON_DUMP_FLAGS);
    if (!text) {
        snprintf(err, errlen, "cannot write %s: out of memory", af->path);
        io_atomic_abort(af);
        return false;
    }
    errno = 0;
    bool ok = write_all(af->fd, text, strlen(text)) && write_all(af->fd, "\n", 1);
    int e = errno;
    free(text);
    if (!ok) {
        snprintf(err, errlen, "cannot write %s: %s", af->path, strerror(e ? e : EIO));
        io_atomic_abort(af);
        return false;
    }
    return io_atomic_commit(af, err, errlen);
}

bool io_json_write_atomic(const json_t *root, const char *path, int flags, char *err, size_t errlen) {
    io_atomic_file af;
    return io_atomic_open(&af, path, flags, err, errlen) && io_json_commit(root, &af, err, errlen);
}

#define _GNU_SOURCE
#include "harness/io/npy.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}
const char *lb_npy_descr_i16(void) { return little_endian() ? "<i2" : ">i2"; }
const char *lb_npy_descr_f32(void) { return little_endian() ? "<f4" : ">f4"; }

size_t lb_npy_header(char *buf, const char *descr, const long *shape, int ndim) {
    char dict[LB_NPY_HEADER_MAX], dims[160] = "";
    size_t dl = 0;
    for (int i = 0; i < ndim; i++) {
        int n = snprintf(dims + dl, sizeof dims - dl, "%ld%s", shape[i], ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
        if (n < 0 || (size_t)n >= sizeof dims - dl) return 0;
        dl += n;
    }
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims);
    if (n < 0 || (size_t)n >= sizeof dict) return 0;
    size_t total = (10 + (size_t)n + 1 + 63) / 64 * 64; /* magic+version+len = 10, '\n' = 1 */
    if (total > LB_NPY_HEADER_MAX) return 0;
    size_t hl = total - 10;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hl & 0xff), buf[9] = (char)(hl >> 8);
    memcpy(buf + 10, dict, n);
    memset(buf + 10 + n, ' ', hl - n - 1);
    buf[total - 1] = '\n';
    return total;
}

bool lb_pwrite_all(int fd, const void *buf, size_t n, long off, char *err, size_t errlen) {
    const char *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(err, errlen, "write failed: %s", w < 0 ? strerror(errno) : "no progress");
            return false;
        }
        p += w, n -= (size_t)w, off += w;
    }
    return true;
}

bool lb_npy_write_fd(int fd, const char *descr, const long *shape, int ndim, const void *data, size_t bytes, char *err,
                     size_t errlen) {
    char h[LB_NPY_HEADER_MAX];
    size_t hl = lb_npy_header(h, descr, shape, ndim);
    if (!hl) return snprintf(err, errlen, "npy header too long"), false;
    return lb_pwrite_all(fd, h, hl, 0, err, errlen) && lb_pwrite_all(fd, data, bytes, (long)hl, err, errlen);
}

#define _GNU_SOURCE
#include "lib/io/npy.h"
#include "lib/io/infile.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}
const char *io_npy_descr_i16(void) { return little_endian() ? "<i2" : ">i2"; }
const char *io_npy_descr_f32(void) { return little_endian() ? "<f4" : ">f4"; }

size_t io_npy_header(char *buf, const char *descr, const long *shape, int ndim) {
    char dict[IO_NPY_HEADER_MAX], dims[160] = "";
    size_t dl = 0;
    for (int i = 0; i < ndim; i++) {
        int n = snprintf(dims + dl, sizeof dims - dl, "%ld%s", shape[i], ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
        if (n < 0 || (size_t)n >= sizeof dims - dl) return 0;
        dl += n;
    }
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims);
    if (n < 0 || (size_t)n >= sizeof dict) return 0;
    size_t total = (10 + (size_t)n + 1 + 63) / 64 * 64; /* magic+version+len = 10, '\n' = 1 */
    if (total > IO_NPY_HEADER_MAX) return 0;
    size_t hl = total - 10;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hl & 0xff), buf[9] = (char)(hl >> 8);
    memcpy(buf + 10, dict, n);
    memset(buf + 10 + n, ' ', hl - n - 1);
    buf[total - 1] = '\n';
    return total;
}

bool io_pwrite_all(int fd, const void *buf, size_t n, long off, char *err, size_t errlen) {
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

bool io_npy_write_fd(int fd, const char *descr, const long *shape, int ndim, const void *data, size_t bytes, char *err,
                     size_t errlen) {
    char h[IO_NPY_HEADER_MAX];
    size_t hl = io_npy_header(h, descr, shape, ndim);
    if (!hl) return snprintf(err, errlen, "npy header too long"), false;
    return io_pwrite_all(fd, h, hl, 0, err, errlen) && io_pwrite_all(fd, data, bytes, (long)hl, err, errlen);
}

/* ---- the strict header parser ---- */

/* A cursor over the header dict; err set by the first failure. */
typedef struct {
    const char *p, *end;
    char *err;
    size_t errlen;
} npy_cur;

static bool cur_fail(npy_cur *c, const char *what) {
    snprintf(c->err, c->errlen, "bad header: %s", what);
    return false;
}

static void skip_ws(npy_cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static bool eat(npy_cur *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) return c->p++, true;
    return false;
}

/* A string literal in ' or " (no escapes: no dtype or key of the format needs one). */
static bool parse_str(npy_cur *c, char *out, size_t outlen) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return cur_fail(c, "expected a string literal");
    const char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        unsigned char ch = (unsigned char)*c->p++;
        if (ch < 0x20 || ch == '\\') return cur_fail(c, "control character or escape in a string");
        if (n + 1 >= outlen) return cur_fail(c, "string literal too long");
        out[n++] = (char)ch;
    }
    if (c->p >= c->end) return cur_fail(c, "unterminated string literal");
    c->p++;
    out[n] = 0;
    return true;
}

static bool parse_bool(npy_cur *c, bool *v) {
    skip_ws(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && !memcmp(c->p, "True", 4)) return c->p += 4, *v = true, true;
    if (left >= 5 && !memcmp(c->p, "False", 5)) return c->p += 5, *v = false, true;
    return cur_fail(c, "fortran_order must be True or False");
}

/* A non-negative decimal integer as Python writes it (no sign, no leading zeros), within int64. */
static bool parse_dim(npy_cur *c, int64_t *v) {
    skip_ws(c);
    const char *s = c->p;
    int64_t x = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, *c->p - '0', &x))
            return cur_fail(c, "shape entry out of range");
        c->p++;
    }
    if (c->p == s) return cur_fail(c, "shape entries must be non-negative integers");
    if (*s == '0' && c->p - s > 1) return cur_fail(c, "shape entry with a leading zero");
    *v = x;
    return true;
}

/* A tuple: "()", "(5,)", "(2, 3)", "(2, 3,)"; "(5)" is an int in Python, not a tuple. */
static bool parse_shape(npy_cur *c, io_npy_info *o) {
    if (!eat(c, '(')) return cur_fail(c, "shape must be a tuple");
    o->ndim = 0;
    if (eat(c, ')')) return true;
    for (;;) {
        if (o->ndim == IO_NPY_MAX_DIMS) return cur_fail(c, "more than 8 dimensions");
        if (!parse_dim(c, &o->shape[o->ndim++])) return false;
        bool comma = eat(c, ',');
        if (eat(c, ')')) {
            if (o->ndim == 1 && !comma) return cur_fail(c, "shape (N) is not a tuple (write (N,))");
            return true;
        }
        if (!comma) return cur_fail(c, "shape tuple not closed");
    }
}

/* The dict: the three keys once each, in any order, nothing else; a trailing comma allowed. */
static bool parse_dict(npy_cur *c, io_npy_info *o) {
    bool seen[3] = {false, false, false};
    if (!eat(c, '{')) return cur_fail(c, "not a dict");
    while (!eat(c, '}')) {
        char key[32];
        if (!parse_str(c, key, sizeof key)) return false;
        int k = !strcmp(key, "descr") ? 0 : !strcmp(key, "fortran_order") ? 1 : !strcmp(key, "shape") ? 2 : -1;
        if (k < 0) return cur_fail(c, "unknown key (only 'descr', 'fortran_order', 'shape')");
        if (seen[k]) return cur_fail(c, "duplicate key");
        seen[k] = true;
        if (!eat(c, ':')) return cur_fail(c, "expected ':' after a key");
        bool ok = k == 0 ? parse_str(c, o->descr, sizeof o->descr) : k == 1 ? parse_bool(c, &o->fortran_order)
                                                                            : parse_shape(c, o);
        if (!ok) return false;
        if (!eat(c, ',')) {
            if (!eat(c, '}')) return cur_fail(c, "expected ',' or '}'");
            break;
        }
    }
    if (!seen[0] || !seen[1] || !seen[2]) return cur_fail(c, "'descr', 'fortran_order' and 'shape' are all required");
    skip_ws(c);
    if (c->p != c->end) return cur_fail(c, "text after the dict");
    return true;
}

bool io_npy_parse(const void *buf, size_t len, io_npy_info *out, char *err, size_t errlen) {
    const unsigned char *b = buf;
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(b, "\x93NUMPY", 6)) return snprintf(err, errlen, "no .npy magic"), false;
    const int major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return snprintf(err, errlen, "unsupported .npy version %d.%d (1.0, 2.0, 3.0 are)", major, minor), false;
    size_t start = major == 1 ? 10 : 12, hl;
    if (len < start) return snprintf(err, errlen, "truncated header"), false;
    hl = major == 1 ? (size_t)b[8] | (size_t)b[9] << 8
                    : (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    if (hl > IO_NPY_MAX_HEADER) return snprintf(err, errlen, "header length %zu over %d", hl, IO_NPY_MAX_HEADER), false;
    if (len - start < hl) return snprintf(err, errlen, "truncated header"), false;
    out->data_offset = start + hl;
    if (out->data_offset % 16) return snprintf(err, errlen, "data offset %zu not a multiple of 16", out->data_offset), false;
    const char *h = (const char *)b + start;
    if (hl == 0 || h[hl - 1] != '\n') return snprintf(err, errlen, "bad header: does not end with a newline"), false;
    if (major < 3)
        for (size_t i = 0; i < hl; i++)
            if ((unsigned char)h[i] >= 0x80) return snprintf(err, errlen, "bad header: not ASCII (version %d.0)", major), false;
    npy_cur c = {h, h + hl, err, errlen};
    return parse_dict(&c, out);
}

/* pread() exactly n bytes at off; false on an error or a short file. */
static bool pread_all(int fd, void *buf, size_t n, off_t off) {
    char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r, n -= (size_t)r, off += r;
    }
    return true;
}

/* The element size of a descr such as "<f4" (its digits), or 0. */
static size_t descr_size(const char *d) {
    if (strlen(d) != 3 || d[2] < '1' || d[2] > '8') return 0;
    return (size_t)(d[2] - '0');
}

/* Checks the header against the caller's dtype and the file's real length; *nbytes: the data. */
static bool check_info(const char *path, const io_npy_info *in, const char *descr, off_t fsize, size_t *nbytes,
                       char *err, size_t errlen) {
    const char host = little_endian() ? '<' : '>';
    const size_t esz = descr_size(descr);
    if (!esz || descr[0] != host) return snprintf(err, errlen, "%s: dtype %s cannot be read on this host", path, descr), false;
    if (strcmp(in->descr, descr))
        return snprintf(err, errlen, "%s: dtype '%s', expected '%s'", path, in->descr, descr), false;
    if (in->fortran_order) return snprintf(err, errlen, "%s: Fortran-order array (C order needed)", path), false;
    uint64_t count = 1, bytes, total;
    for (int i = 0; i < in->ndim; i++)
        if (__builtin_mul_overflow(count, (uint64_t)in->shape[i], &count))
            return snprintf(err, errlen, "%s: the shape's element count overflows", path), false;
    if (__builtin_mul_overflow(count, (uint64_t)esz, &bytes) || __builtin_add_overflow(bytes, in->data_offset, &total) ||
        bytes > SIZE_MAX - 1)
        return snprintf(err, errlen, "%s: the shape's byte size overflows", path), false;
    if ((uint64_t)fsize < total)
        return snprintf(err, errlen, "%s: truncated: the shape needs %llu data bytes, the file holds %lld", path,
                        (unsigned long long)bytes, (long long)fsize - (long long)in->data_offset),
               false;
    if ((uint64_t)fsize > total)
        return snprintf(err, errlen, "%s: %llu trailing bytes after the data the shape describes", path,
                        (unsigned long long)((uint64_t)fsize - total)),
               false;
    *nbytes = (size_t)bytes;
    return true;
}

bool io_npy_read(const char *path, const char *descr, void **data, long *shape, int *ndim, char *err, size_t errlen) {
    *data = NULL, *ndim = 0;
    off_t fsize;
    int fd = io_open_regular(path, &fsize, err, errlen);
    if (fd < 0) return false;
    const size_t hmax = IO_NPY_MAX_HEADER + 12;
    size_t hn = (uint64_t)fsize < hmax ? (size_t)fsize : hmax, nbytes = 0;
    char *hbuf = malloc(hn + 1), perr[200];
    io_npy_info in;
    bool ok = hbuf && pread_all(fd, hbuf, hn, 0);
    if (!ok) snprintf(err, errlen, "%s: read failed", path);
    else if (!(ok = io_npy_parse(hbuf, hn, &in, perr, sizeof perr))) snprintf(err, errlen, "%s: not a valid .npy file (%s)", path, perr);
    free(hbuf);
    ok = ok && check_info(path, &in, descr, fsize, &nbytes, err, errlen);
    if (ok) {
        *data = malloc(nbytes ? nbytes : 1);
        if (!*data) snprintf(err, errlen, "%s: out of memory (%zu bytes)", path, nbytes), ok = false;
        else if (!pread_all(fd, *data, nbytes, (off_t)in.data_offset)) snprintf(err, errlen, "%s: read failed", path), ok = false;
    }
    close(fd);
    if (!ok) {
        free(*data), *data = NULL;
        return false;
    }
    for (int i = 0; i < in.ndim; i++) shape[i] = (long)in.shape[i];
    *ndim = in.ndim;
    return true;
}

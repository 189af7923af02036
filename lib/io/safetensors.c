#include "lib/io/safetensors.h"
#include "lib/io/infile.h"
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/io/outdir.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; a big-endian host needs byte swapping here"
#endif

/* The reference parser refuses headers above 100 MB. */
#define ST_MAX_HEADER (100u << 20)

size_t io_st_numel(const io_st_tensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

bool io_safetensors_write(const char *path, const io_st_tensor *t, int n, const char *const *meta_key,
                          const char *const *meta_val, int n_meta, char *err, size_t errlen) {
    json_t *h = json_object();
    size_t off = 0;
    if (n_meta > 0) {
        json_t *md = json_object();
        for (int i = 0; i < n_meta; i++) json_object_set_new(md, meta_key[i], json_string(meta_val[i]));
        json_object_set_new(h, "__metadata__", md);
    }
    for (int i = 0; i < n; i++) {
        json_t *shape = json_array();
        for (int d = 0; d < t[i].ndim; d++) json_array_append_new(shape, json_integer(t[i].shape[d]));
        size_t bytes = io_st_numel(&t[i]) * sizeof(float);
        json_object_set_new(h, t[i].name,
                            json_pack("{s:s, s:o, s:[I, I]}", "dtype", "F32", "shape", shape, "data_offsets",
                                      (json_int_t)off, (json_int_t)(off + bytes)));
        off += bytes;
    }
    char *text = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(h);
    if (!text) return snprintf(err, errlen, "out of memory for the safetensors header"), false;
    size_t hl = strlen(text), hpad = (hl + 7) & ~(size_t)7;
    size_t total = 8 + hpad + off;
    unsigned char *buf = malloc(total);
    if (!buf) {
        free(text);
        return snprintf(err, errlen, "out of memory (%zu bytes)", total), false;
    }
    uint64_t le = hpad;
    memcpy(buf, &le, 8);
    memcpy(buf + 8, text, hl);
    memset(buf + 8 + hl, ' ', hpad - hl);
    free(text);
    size_t pos = 8 + hpad;
    for (int i = 0; i < n; i++) {
        size_t bytes = io_st_numel(&t[i]) * sizeof(float);
        if (bytes) memcpy(buf + pos, t[i].data, bytes);
        pos += bytes;
    }
    bool ok = io_write_file_atomic(path, buf, total, err, errlen);
    free(buf);
    return ok;
}

void io_safetensors_free(io_st_file *f) {
    for (int i = 0; i < f->n_meta; i++) free(f->meta_key[i]), free(f->meta_val[i]);
    free(f->meta_key);
    free(f->meta_val);
    free(f->t);
    free(f->buf);
    memset(f, 0, sizeof *f);
}

static bool bad(io_st_file *f, char *err, size_t errlen, const char *why) {
    snprintf(err, errlen, "not a valid safetensors file (%s)", why);
    io_safetensors_free(f);
    return false;
}

static bool parse_meta(io_st_file *f, const json_t *v, const char **why) {
    if (!json_is_object(v)) return *why = "__metadata__ is not an object", false;
    size_t nm = json_object_size(v);
    f->meta_key = calloc(nm ? nm : 1, sizeof(char *));
    f->meta_val = calloc(nm ? nm : 1, sizeof(char *));
    if (!f->meta_key || !f->meta_val) return *why = "out of memory", false;
    const char *mk;
    json_t *mv;
    json_object_foreach((json_t *)v, mk, mv) {
        if (!json_is_string(mv)) return *why = "a metadata value is not a string", false;
        f->meta_key[f->n_meta] = strdup(mk);
        f->meta_val[f->n_meta] = strdup(json_string_value(mv));
        f->n_meta++;
        if (!f->meta_key[f->n_meta - 1] || !f->meta_val[f->n_meta - 1]) return *why = "out of memory", false;
    }
    return true;
}

/* One tensor entry: exactly dtype "F32", shape and data_offsets, the byte size matching the shape. */
static bool parse_tensor(io_st_tensor *t, const char *key, const json_t *v, uint64_t *o0, uint64_t *o1,
                         const char **why) {
    const json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"), *of = json_object_get(v, "data_offsets");
    if (!json_is_object(v) || json_object_size(v) != 3 || !dt || !sh || !of)
        return *why = "a tensor entry is not {dtype, shape, data_offsets}", false;
    if (!json_is_string(dt) || strcmp(json_string_value(dt), "F32")) return *why = "a tensor is not F32", false;
    if (strlen(key) >= sizeof t->name) return *why = "a tensor name is too long", false;
    if (!json_is_array(sh) || json_array_size(sh) > IO_ST_MAX_DIMS) return *why = "a tensor shape is not a list of at most 8 sizes", false;
    if (!json_is_array(of) || json_array_size(of) != 2) return *why = "data_offsets is not [begin, end]", false;
    snprintf(t->name, sizeof t->name, "%s", key);
    t->ndim = (int)json_array_size(sh);
    uint64_t bytes = sizeof(float);
    for (int d = 0; d < t->ndim; d++) {
        const json_t *e = json_array_get(sh, (size_t)d);
        json_int_t s = json_integer_value(e);
        if (!json_is_integer(e) || s < 0 || s > IO_ST_MAX_DIM) return *why = "a tensor shape entry is out of range", false;
        if (__builtin_mul_overflow(bytes, (uint64_t)s, &bytes)) return *why = "a tensor's size overflows", false;
        t->shape[d] = (long)s;
    }
    const json_t *a = json_array_get(of, 0), *b = json_array_get(of, 1);
    if (!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) < json_integer_value(a))
        return *why = "data_offsets are not 0 <= begin <= end", false;
    *o0 = (uint64_t)json_integer_value(a), *o1 = (uint64_t)json_integer_value(b);
    if (*o1 - *o0 != bytes) return *why = "data_offsets do not match the shape", false;
    return true;
}

typedef struct {
    uint64_t o0, o1;
    int i;
} st_span;

static int span_cmp(const void *a, const void *b) {
    const st_span *x = a, *y = b;
    return x->o0 < y->o0 ? -1 : x->o0 > y->o0 ? 1 : x->o1 < y->o1 ? -1 : x->o1 > y->o1;
}

/* The tensors tile the data exactly: sorted by offset, the first at 0, each where the one before
 * ends, the last at the end of the file (no gap, no overlap, no shared bytes). */
static bool check_tiling(st_span *sp, int n, uint64_t dlen, const char **why) {
    qsort(sp, (size_t)n, sizeof *sp, span_cmp);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        if (sp[i].o0 != at) return *why = sp[i].o0 < at ? "tensors overlap" : "a gap between tensors", false;
        at = sp[i].o1;
    }
    if (at != dlen) return *why = at < dlen ? "bytes after the last tensor" : "a tensor extends past the end of the file", false;
    return true;
}

static bool parse_header(io_st_file *f, json_t *h, size_t data0, size_t dlen, const char **why) {
    size_t nkeys = json_object_size(h);
    f->t = calloc(nkeys ? nkeys : 1, sizeof *f->t);
    st_span *sp = calloc(nkeys ? nkeys : 1, sizeof *sp);
    bool ok = f->t && sp;
    if (!ok) *why = "out of memory";
    const char *key;
    json_t *v;
    json_object_foreach(h, key, v) {
        if (!ok) break;
        if (!strcmp(key, "__metadata__")) {
            ok = parse_meta(f, v, why);
            continue;
        }
        st_span *s = &sp[f->n];
        ok = parse_tensor(&f->t[f->n], key, v, &s->o0, &s->o1, why);
        s->i = f->n++;
    }
    ok = ok && check_tiling(sp, f->n, dlen, why);
    for (int i = 0; ok && i < f->n; i++) f->t[sp[i].i].data = (const float *)((char *)f->buf + data0 + sp[i].o0);
    free(sp);
    return ok;
}

bool io_safetensors_parse(void *buf, size_t len, io_st_file *f, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->buf = buf;
    if (len < 8) return bad(f, err, errlen, "shorter than 8 bytes");
    uint64_t hl;
    memcpy(&hl, buf, 8);
    if (hl < 2 || hl > ST_MAX_HEADER || hl > len - 8) return bad(f, err, errlen, "header length out of range");
    size_t data0 = 8 + (size_t)hl;
    const size_t dlen = len - data0;
    json_error_t je;
    json_t *h = json_loadb((const char *)buf + 8, (size_t)hl, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(h)) {
        json_decref(h);
        char why[200];
        snprintf(why, sizeof why, "header is not a JSON object%s%s", h ? "" : ": ", h ? "" : je.text);
        return bad(f, err, errlen, why);
    }
    /* A foreign writer may leave the data unaligned: move it so float loads are aligned. */
    if (data0 % 4) {
        size_t a = (data0 + 3) & ~(size_t)3;
        void *nb = realloc(f->buf, len + 4);
        if (!nb) {
            json_decref(h);
            return bad(f, err, errlen, "out of memory");
        }
        f->buf = nb;
        memmove((char *)nb + a, (char *)nb + data0, dlen);
        data0 = a;
    }
    const char *why = NULL;
    bool ok = parse_header(f, h, data0, dlen, &why);
    json_decref(h);
    return ok || bad(f, err, errlen, why);
}

bool io_safetensors_read(const char *path, io_st_file *f, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    off_t size;
    int fd = io_open_regular(path, &size, err, errlen);
    if (fd < 0) return false;
    const size_t len = (size_t)size;
    unsigned char head[8];
    uint64_t hl = 0;
    bool ok = len >= 8 && pread(fd, head, 8, 0) == 8;
    if (ok) memcpy(&hl, head, 8);
    /* the header length is checked against the real size before the file is read in */
    if (!ok || hl < 2 || hl > ST_MAX_HEADER || hl > len - 8) {
        close(fd);
        return snprintf(err, errlen, "%s: not a valid safetensors file (%s)", path,
                        len < 8 ? "shorter than 8 bytes" : "header length out of range"),
               false;
    }
    char *buf = malloc(len);
    size_t got = 0;
    while (buf && got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != len) {
        free(buf);
        return snprintf(err, errlen, "%s: %s", path, buf ? "read failed" : "out of memory"), false;
    }
    char perr[400];
    if (!io_safetensors_parse(buf, len, f, perr, sizeof perr))
        return snprintf(err, errlen, "%s: %s", path, perr), false;
    return true;
}

const io_st_tensor *io_safetensors_find(const io_st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

const char *io_safetensors_meta(const io_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_key[i], key)) return f->meta_val[i];
    return NULL;
}

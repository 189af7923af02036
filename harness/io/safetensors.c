#include "harness/io/safetensors.h"
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness/io/outdir.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; a big-endian host needs byte swapping here"
#endif

/* The reference parser refuses headers above 100 MB. */
#define ST_MAX_HEADER (100u << 20)

size_t lb_st_numel(const lb_st_tensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

bool lb_safetensors_write(const char *path, const lb_st_tensor *t, int n, const char *const *meta_key,
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
        size_t bytes = lb_st_numel(&t[i]) * sizeof(float);
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
        size_t bytes = lb_st_numel(&t[i]) * sizeof(float);
        if (bytes) memcpy(buf + pos, t[i].data, bytes);
        pos += bytes;
    }
    bool ok = lb_write_file_atomic(path, buf, total, err, errlen);
    free(buf);
    return ok;
}

void lb_safetensors_free(lb_st_file *f) {
    for (int i = 0; i < f->n_meta; i++) free(f->meta_key[i]), free(f->meta_val[i]);
    free(f->meta_key);
    free(f->meta_val);
    free(f->t);
    free(f->buf);
    memset(f, 0, sizeof *f);
}

static bool bad(lb_st_file *f, char *err, size_t errlen, const char *path, const char *why) {
    snprintf(err, errlen, "%s: not a valid safetensors file (%s)", path, why);
    lb_safetensors_free(f);
    return false;
}

bool lb_safetensors_read(const char *path, lb_st_file *f, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) return snprintf(err, errlen, "cannot open %s", path), false;
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    if (size < 8) {
        fclose(fp);
        return bad(f, err, errlen, path, "shorter than 8 bytes");
    }
    f->buf = malloc((size_t)size + 8);
    if (!f->buf || fread(f->buf, 1, (size_t)size, fp) != (size_t)size) {
        fclose(fp);
        return bad(f, err, errlen, path, "read failed");
    }
    fclose(fp);
    unsigned char *b = f->buf;
    uint64_t hl;
    memcpy(&hl, b, 8);
    if (hl > ST_MAX_HEADER || hl > (uint64_t)size - 8) return bad(f, err, errlen, path, "header length");
    size_t data0 = 8 + (size_t)hl;
    const size_t dlen = (size_t)size - data0;
    json_error_t je;
    json_t *h = json_loadb((const char *)b + 8, (size_t)hl, 0, &je);
    /* A foreign writer may leave the data unaligned: move it so float loads are aligned. */
    if (data0 % 4) {
        size_t a = (data0 + 3) & ~(size_t)3;
        memmove(b + a, b + data0, dlen);
        data0 = a;
    }
    if (!json_is_object(h)) {
        json_decref(h);
        return bad(f, err, errlen, path, "header is not a JSON object");
    }
    size_t nkeys = json_object_size(h);
    f->t = calloc(nkeys ? nkeys : 1, sizeof *f->t);
    const char *key;
    json_t *v;
    bool ok = f->t != NULL;
    const char *why = "out of memory";
    json_object_foreach(h, key, v) {
        if (!ok) break;
        if (!strcmp(key, "__metadata__")) {
            if (!json_is_object(v)) {
                ok = false, why = "__metadata__ is not an object";
                break;
            }
            size_t nm = json_object_size(v);
            f->meta_key = calloc(nm ? nm : 1, sizeof(char *));
            f->meta_val = calloc(nm ? nm : 1, sizeof(char *));
            const char *mk;
            json_t *mv;
            json_object_foreach(v, mk, mv) {
                if (!json_is_string(mv)) {
                    ok = false, why = "a metadata value is not a string";
                    break;
                }
                f->meta_key[f->n_meta] = strdup(mk);
                f->meta_val[f->n_meta] = strdup(json_string_value(mv));
                f->n_meta++;
            }
            continue;
        }
        lb_st_tensor *t = &f->t[f->n];
        json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"), *of = json_object_get(v, "data_offsets");
        if (!json_is_string(dt) || strcmp(json_string_value(dt), "F32")) {
            ok = false, why = "a tensor is not F32";
            break;
        }
        if (!json_is_array(sh) || json_array_size(sh) > LB_ST_MAX_DIMS || !json_is_array(of) || json_array_size(of) != 2 ||
            strlen(key) >= sizeof t->name) {
            ok = false, why = "bad tensor entry";
            break;
        }
        snprintf(t->name, sizeof t->name, "%s", key);
        t->ndim = (int)json_array_size(sh);
        for (int d = 0; d < t->ndim; d++) {
            json_int_t s = json_integer_value(json_array_get(sh, (size_t)d));
            if (!json_is_integer(json_array_get(sh, (size_t)d)) || s < 0 || s > (1L << 40)) ok = false, why = "bad shape";
            t->shape[d] = (long)s;
        }
        json_int_t o0 = json_integer_value(json_array_get(of, 0)), o1 = json_integer_value(json_array_get(of, 1));
        if (!ok) break;
        if (o0 < 0 || o1 < o0 || (uint64_t)o1 > dlen || (size_t)(o1 - o0) != lb_st_numel(t) * sizeof(float) || o0 % 4) {
            ok = false, why = "data offsets do not match the shape";
            break;
        }
        t->data = (const float *)(b + data0 + o0);
        f->n++;
    }
    json_decref(h);
    if (!ok) return bad(f, err, errlen, path, why);
    return true;
}

const lb_st_tensor *lb_safetensors_find(const lb_st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

const char *lb_safetensors_meta(const lb_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_key[i], key)) return f->meta_val[i];
    return NULL;
}

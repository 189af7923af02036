/* safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON {"NAME": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "string value", ...}} padded with spaces to a multiple of 8, then the raw
 * little-endian tensor data (offsets relative to the end of the header), tensors back to back in
 * the order given.  Only float32 tensors are written and read. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define LB_ST_MAX_DIMS 8
/* Largest size of one tensor dimension accepted when reading. */
#define LB_ST_MAX_DIM (1L << 40)

typedef struct {
    char name[128];
    int ndim;
    long shape[LB_ST_MAX_DIMS];
    const float *data; /* write: caller's; read: points into the file buffer (little-endian host) */
} lb_st_tensor;

typedef struct {
    int n;
    lb_st_tensor *t;
    int n_meta;
    char **meta_key, **meta_val;
    void *buf; /* the whole file */
} lb_st_file;

/* Writes atomically (temporary file, fsync, rename).  meta: n_meta key/value string pairs. */
bool lb_safetensors_write(const char *path, const lb_st_tensor *t, int n, const char *const *meta_key,
                          const char *const *meta_val, int n_meta, char *err, size_t errlen);
/* Reads a whole file (a regular file; its header length checked against its real size before it
 * is read in) and parses it with lb_safetensors_parse.  false with "PATH: reason" in err. */
bool lb_safetensors_read(const char *path, lb_st_file *f, char *err, size_t errlen);
/* Parses a whole file held in buf (malloc'ed; f owns it from here, also on failure).  Strict: the
 * JSON header without duplicate keys, every tensor exactly {dtype "F32", shape, data_offsets}
 * with the byte size of its shape, and the tensors tiling the data exactly (sorted by offset the
 * first starts at 0, each where the one before ends, the last at the end of buf). */
bool lb_safetensors_parse(void *buf, size_t len, lb_st_file *f, char *err, size_t errlen);
void lb_safetensors_free(lb_st_file *f);
const lb_st_tensor *lb_safetensors_find(const lb_st_file *f, const char *name);
const char *lb_safetensors_meta(const lb_st_file *f, const char *key);
/* Number of elements of a tensor. */
size_t lb_st_numel(const lb_st_tensor *t);

/* safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON {"NAME": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "string value", ...}} padded with spaces to a multiple of 8, then the raw
 * little-endian tensor data (offsets relative to the end of the header), tensors back to back in
 * the order given.  Only float32 tensors are written and read. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define IO_ST_MAX_DIMS 8
/* Largest size of one tensor dimension accepted when reading. */
#define IO_ST_MAX_DIM (1L << 40)

typedef struct {
    char name[128];
    int ndim;
    long shape[IO_ST_MAX_DIMS];
    const float *data; /* write: caller's; read: points into the file buffer (little-endian host) */
} io_st_tensor;

typedef struct {
    int n;
    io_st_tensor *t;
    int n_meta;
    char **meta_key, **meta_val;
    void *buf; /* the whole file */
} io_st_file;

/* Writes atomically (temporary file, fsync, rename).  meta: n_meta key/value string pairs. */
bool io_safetensors_write(const char *path, const io_st_tensor *t, int n, const char *const *meta_key,
                          const char *const *meta_val, int n_meta, char *err, size_t errlen);
/* Reads a whole file (a regular file; its header length checked against its real size before it
 * is read in) and parses it with io_safetensors_parse.  false with "PATH: reason" in err. */
bool io_safetensors_read(const char *path, io_st_file *f, char *err, size_t errlen);
/* Parses a whole file held in buf (malloc'ed; f owns it from here, also on failure).  Strict: the
 * JSON header without duplicate keys, every tensor exactly {dtype "F32", shape, data_offsets}
 * with the byte size of its shape, and the tensors tiling the data exactly (sorted by offset the
 * first starts at 0, each where the one before ends, the last at the end of buf). */
bool io_safetensors_parse(void *buf, size_t len, io_st_file *f, char *err, size_t errlen);
void io_safetensors_free(io_st_file *f);
const io_st_tensor *io_safetensors_find(const io_st_file *f, const char *name);
const char *io_safetensors_meta(const io_st_file *f, const char *key);
/* Number of elements of a tensor. */
size_t io_st_numel(const io_st_tensor *t);

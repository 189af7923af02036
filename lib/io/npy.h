/* NumPy .npy format version 1.0 (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * magic "\x93NUMPY", version 1.0, a little-endian uint16 header length, then an ASCII dict
 * {'descr': ..., 'fortran_order': False, 'shape': (...), } padded with spaces and ended by '\n' so
 * that the data starts at a multiple of 64 bytes; the data follows in C order. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Host-order dtype strings ("<i2" on little-endian hosts). */
const char *io_npy_descr_i16(void);
const char *io_npy_descr_f32(void);

/* Writes the header into buf (at least IO_NPY_HEADER_MAX bytes); returns its length (a multiple of
 * 64), or 0 when the shape does not fit. */
#define IO_NPY_HEADER_MAX 256
size_t io_npy_header(char *buf, const char *descr, const long *shape, int ndim);

/* Writes a whole array to an open file descriptor at offset 0 (header, then data).  false with
 * errno-based text in err on failure. */
bool io_npy_write_fd(int fd, const char *descr, const long *shape, int ndim, const void *data, size_t bytes, char *err,
                     size_t errlen);

/* pwrite() all of buf at off, retrying short writes. */
bool io_pwrite_all(int fd, const void *buf, size_t n, long off, char *err, size_t errlen);

/* ---- reading ----
 * A strict reader: versions 1.0, 2.0 and 3.0; the header a Python dict literal with exactly the
 * keys 'descr', 'fortran_order' and 'shape'; C order only; the dtype exactly the one asked for
 * (host byte order, no conversion); the file a regular file whose length is exactly the header
 * plus the data the shape needs, checked before anything is allocated. */
#define IO_NPY_MAX_DIMS 8
/* Longest header accepted (numpy's own writer stays far below this). */
#define IO_NPY_MAX_HEADER 65536

typedef struct {
    char descr[16];
    bool fortran_order;
    int ndim;
    int64_t shape[IO_NPY_MAX_DIMS];
    size_t data_offset; /* where the data starts (magic + version + length field + header) */
} io_npy_info;

/* Parses the header of a .npy file from buf (at least its first data_offset bytes; more is
 * ignored).  false with the reason in err when it is not a well-formed header. */
bool io_npy_parse(const void *buf, size_t len, io_npy_info *out, char *err, size_t errlen);

/* Reads a whole .npy file of dtype descr (io_npy_descr_i16() ...): *data malloc'ed, the shape in
 * shape[0..*ndim) (shape: IO_NPY_MAX_DIMS entries).  false with "PATH: reason" in err. */
bool io_npy_read(const char *path, const char *descr, void **data, long *shape, int *ndim, char *err, size_t errlen);

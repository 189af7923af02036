/* NumPy .npy format version 1.0 (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 * magic "\x93NUMPY", version 1.0, a little-endian uint16 header length, then an ASCII dict
 * {'descr': ..., 'fortran_order': False, 'shape': (...), } padded with spaces and ended by '\n' so
 * that the data starts at a multiple of 64 bytes; the data follows in C order. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Host-order dtype strings ("<i2" on little-endian hosts). */
const char *lb_npy_descr_i16(void);
const char *lb_npy_descr_f32(void);

/* Writes the header into buf (at least LB_NPY_HEADER_MAX bytes); returns its length (a multiple of
 * 64), or 0 when the shape does not fit. */
#define LB_NPY_HEADER_MAX 256
size_t lb_npy_header(char *buf, const char *descr, const long *shape, int ndim);

/* Writes a whole array to an open file descriptor at offset 0 (header, then data).  false with
 * errno-based text in err on failure. */
bool lb_npy_write_fd(int fd, const char *descr, const long *shape, int ndim, const void *data, size_t bytes, char *err,
                     size_t errlen);

/* pwrite() all of buf at off, retrying short writes. */
bool lb_pwrite_all(int fd, const void *buf, size_t n, long off, char *err, size_t errlen);

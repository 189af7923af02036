/* Opening an input file: every reader of a file a user names (npy, safetensors, meta.json, spec
 * files) opens it without blocking, so a FIFO or a device is refused rather than waited on, and
 * accepts only a regular file. */
#pragma once
#include <stddef.h>
#include <sys/types.h>

/* An fd open for reading on path and its size in *size; -1 with one line in err and errno set:
 * open's errno when it cannot be opened, EINVAL when it is not a regular file. */
int io_open_regular(const char *path, off_t *size, char *err, size_t errlen);

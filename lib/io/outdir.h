/* Atomic creation of an output directory (a dataset): everything is written into a temporary
 * sibling directory ".NAME.tmp-PID-XXXXXX" (lib/io/atomic.h: removed on SIGINT/SIGTERM, swept
 * by a later run after a kill -9), which is renamed to NAME only when complete, without ever
 * replacing an existing NAME.  On failure the temporary directory and its files are removed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "lib/io/atomic.h"

typedef struct {
    char final_path[4096];
    char tmp_path[4200];
    bool open;
    int slot; /* cleanup registry slot of tmp_path */
} io_outdir;

/* Refuses an existing path and an unwritable parent up front (before any long computation). */
bool io_outdir_begin(io_outdir *d, const char *path, char *err, size_t errlen);
/* Path of a file inside the temporary directory. */
bool io_outdir_file(const io_outdir *d, const char *name, char *out, size_t outlen);
/* fsyncs the directory and renames it into place. */
bool io_outdir_commit(io_outdir *d, char *err, size_t errlen);
/* Removes the temporary directory and its files (after an error). */
void io_outdir_abort(io_outdir *d);

/* Writes a whole file atomically (io_atomic_open/commit): temporary beside path, fsync, rename over path. */
bool io_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen);

/* Atomic creation of an output directory (a dataset): everything is written into a temporary
 * sibling directory ".NAME.tmp-XXXXXX", which is renamed to NAME only when complete, without ever
 * replacing an existing NAME (renameat2 RENAME_NOREPLACE where the kernel has it, else link-free
 * rename after a check).  On failure the temporary directory and its files are removed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char final_path[4096];
    char tmp_path[4096];
    bool open;
    unsigned umask;
} lb_outdir;

/* Refuses an existing path and an unwritable parent up front (before any long computation). */
bool lb_outdir_begin(lb_outdir *d, const char *path, char *err, size_t errlen);
/* Path of a file inside the temporary directory. */
bool lb_outdir_file(const lb_outdir *d, const char *name, char *out, size_t outlen);
/* fsyncs the directory and renames it into place. */
bool lb_outdir_commit(lb_outdir *d, char *err, size_t errlen);
/* Removes the temporary directory and its files (after an error). */
void lb_outdir_abort(lb_outdir *d);

/* Writes a whole file atomically: path.tmp-XXXXXX, fsync, rename over path. */
bool lb_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen);

/* mkdir -p: creates path and its missing parents (mode 0755).  False with errno set on failure. */
bool lb_mkdirs(const char *path);

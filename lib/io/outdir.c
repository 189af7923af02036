#define _GNU_SOURCE
#include "lib/io/outdir.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/io/npy.h"

bool io_outdir_begin(io_outdir *d, const char *path, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    d->slot = -1;
    struct stat st;
    if (strlen(path) >= sizeof d->final_path) return snprintf(err, errlen, "output path too long: %.200s", path), false;
    if (lstat(path, &st) == 0)
        return snprintf(err, errlen, "%s already exists; refusing to overwrite it (remove it or choose another --out)", path),
               false;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    size_t l = strlen(dir);
    while (l > 1 && dir[l - 1] == '/') dir[--l] = 0;
    const char *parent = dirname(dir);
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
        return snprintf(err, errlen, "cannot write %s: the directory %s does not exist", path, parent), false;
    snprintf(d->final_path, sizeof d->final_path, "%s", path);
    if (!io_atomic_mkdtemp(path, d->tmp_path, sizeof d->tmp_path, &d->slot, err, errlen)) return false;
    d->open = true;
    return true;
}

bool io_outdir_file(const io_outdir *d, const char *name, char *out, size_t outlen) {
    int n = snprintf(out, outlen, "%s/%s", d->tmp_path, name);
    return n > 0 && (size_t)n < outlen;
}

bool io_outdir_commit(io_outdir *d, char *err, size_t errlen) {
    int fd = open(d->tmp_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) fsync(fd), close(fd);
    if (!io_atomic_rename(d->tmp_path, d->final_path, IO_ATOMIC_NOREPLACE)) {
        snprintf(err, errlen, "cannot move the dataset into %s: %s", d->final_path,
                 errno == EEXIST || errno == ENOTEMPTY ? "it appeared meanwhile; refusing to overwrite it" : strerror(errno));
        io_outdir_abort(d);
        return false;
    }
    io_atomic_unregister(d->slot);
    d->slot = -1;
    d->open = false;
    return true;
}

void io_outdir_abort(io_outdir *d) {
    if (!d->open) return;
    io_atomic_rmtree(d->tmp_path, d->slot);
    d->slot = -1;
    d->open = false;
}

bool io_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen) {
    io_atomic_file f;
    if (!io_atomic_open(&f, path, 0, err, errlen)) return false;
    char why[400];
    if (!io_pwrite_all(f.fd, data, n, 0, why, sizeof why)) {
        snprintf(err, errlen, "cannot write %s: %s", path, why);
        io_atomic_abort(&f);
        return false;
    }
    return io_atomic_commit(&f, err, errlen);
}

#define _GNU_SOURCE
#include "harness/io/outdir.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness/io/npy.h"

/* mkdtemp/mkstemp create private (0700/0600) entries; a dataset gets the usual umask-based modes.
 * Reading the umask sets it for a moment: called before any threads run. */
static mode_t current_umask(void) {
    mode_t m = umask(022);
    umask(m);
    return m;
}

static bool split(const char *path, char *dir, char *base, size_t n) {
    char a[4096], b[4096];
    if (strlen(path) >= sizeof a) return false;
    strcpy(a, path);
    strcpy(b, path);
    /* dirname/basename modify their argument; a trailing slash names the same directory */
    size_t l = strlen(b);
    while (l > 1 && b[l - 1] == '/') b[--l] = 0, a[l] = 0;
    snprintf(dir, n, "%s", dirname(a));
    snprintf(base, n, "%s", basename(b));
    return *base && strcmp(base, ".") && strcmp(base, "..") && strcmp(base, "/");
}

bool lb_outdir_begin(lb_outdir *d, const char *path, char *err, size_t errlen) {
    memset(d, 0, sizeof *d);
    char dir[4096], base[4096];
    struct stat st;
    if (!split(path, dir, base, sizeof dir)) return snprintf(err, errlen, "'%s' is not a usable output path", path), false;
    if (lstat(path, &st) == 0)
        return snprintf(err, errlen, "%s already exists; refusing to overwrite it (remove it or choose another --out)", path),
               false;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return snprintf(err, errlen, "cannot write %s: the directory %s does not exist", path, dir), false;
    snprintf(d->final_path, sizeof d->final_path, "%s", path);
    int n = snprintf(d->tmp_path, sizeof d->tmp_path, "%s/.%s.tmp-XXXXXX", dir, base);
    if (n < 0 || (size_t)n >= sizeof d->tmp_path) return snprintf(err, errlen, "output path too long"), false;
    if (!mkdtemp(d->tmp_path))
        return snprintf(err, errlen, "cannot write in %s: %s", dir, strerror(errno)), false;
    d->open = true;
    d->umask = (unsigned)current_umask();
    if (chmod(d->tmp_path, 0777 & ~(mode_t)d->umask) != 0) {
        snprintf(err, errlen, "chmod %s: %s", d->tmp_path, strerror(errno));
        lb_outdir_abort(d);
        return false;
    }
    return true;
}

bool lb_outdir_file(const lb_outdir *d, const char *name, char *out, size_t outlen) {
    int n = snprintf(out, outlen, "%s/%s", d->tmp_path, name);
    return n > 0 && (size_t)n < outlen;
}

static void fsync_path(const char *p) {
    int fd = open(p, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) fsync(fd), close(fd);
}

bool lb_outdir_commit(lb_outdir *d, char *err, size_t errlen) {
    fsync_path(d->tmp_path);
    int r = renameat2(AT_FDCWD, d->tmp_path, AT_FDCWD, d->final_path, RENAME_NOREPLACE);
    if (r != 0 && (errno == EINVAL || errno == ENOSYS)) { /* a filesystem without RENAME_NOREPLACE */
        struct stat st;
        if (lstat(d->final_path, &st) == 0) errno = EEXIST, r = -1;
        else r = rename(d->tmp_path, d->final_path);
    }
    if (r != 0) {
        snprintf(err, errlen, "cannot move the dataset into %s: %s", d->final_path,
                 errno == EEXIST || errno == ENOTEMPTY ? "it appeared meanwhile; refusing to overwrite it" : strerror(errno));
        lb_outdir_abort(d);
        return false;
    }
    char dir[4096], base[4096];
    if (split(d->final_path, dir, base, sizeof dir)) fsync_path(dir);
    d->open = false;
    return true;
}

void lb_outdir_abort(lb_outdir *d) {
    if (!d->open) return;
    DIR *dd = opendir(d->tmp_path);
    if (dd) {
        struct dirent *e;
        while ((e = readdir(dd))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", d->tmp_path, e->d_name);
            unlink(p);
        }
        closedir(dd);
    }
    rmdir(d->tmp_path);
    d->open = false;
}

bool lb_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen) {
    char tmp[4200];
    int l = snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    if (l < 0 || (size_t)l >= sizeof tmp) return snprintf(err, errlen, "path too long"), false;
    int fd = mkstemp(tmp);
    if (fd < 0) return snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno)), false;
    bool ok = lb_pwrite_all(fd, data, n, 0, err, errlen);
    if (ok && fchmod(fd, 0666 & ~current_umask()) != 0) ok = false, snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
    if (ok && fsync(fd) != 0) ok = false, snprintf(err, errlen, "fsync %s: %s", path, strerror(errno));
    if (close(fd) != 0 && ok) ok = false, snprintf(err, errlen, "close %s: %s", path, strerror(errno));
    if (ok && rename(tmp, path) != 0) ok = false, snprintf(err, errlen, "rename to %s: %s", path, strerror(errno));
    if (!ok) unlink(tmp);
    return ok;
}

bool lb_mkdirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return false;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            struct stat st;
            if (mkdir(buf, 0755) != 0 && !(errno == EEXIST && stat(buf, &st) == 0 && S_ISDIR(st.st_mode))) return false;
            *p = c;
            if (!c) break;
        }
    }
    return true;
}

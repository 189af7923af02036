#define _GNU_SOURCE
#include "lib/io/atomic.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- the cleanup registry ----
 * Global by necessity: a signal handler has no other way to find the temporaries.  Slots are
 * claimed with an atomic compare-and-swap and published (state 2) only once the path is written, so
 * the handler never reads a half-written path. */
#define SLOTS 64
static struct {
    int state; /* 0 free, 1 being filled, 2 registered */
    bool dir;
    pid_t owner; /* a forked child (before its exec) must not remove its parent's files */
    char path[4200];
} registry[SLOTS];

static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* Removes a directory's entries (one level: ours hold plain files) and the directory, using only
 * async-signal-safe calls (getdents64 through syscall, unlinkat). */
static void remove_dir_raw(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[4096];
        for (;;) {
            long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
            if (n <= 0) break;
            bool removed = false;
            for (long off = 0; off < n;) {
                /* struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name */
                unsigned short reclen;
                memcpy(&reclen, buf + off + 16, sizeof reclen);
                const char *name = buf + off + 19;
                if (strcmp(name, ".") && strcmp(name, "..") && unlinkat(fd, name, 0) == 0) removed = true;
                off += reclen;
            }
            if (removed) lseek(fd, 0, SEEK_SET); /* entries moved: read again from the start */
        }
        close(fd);
    }
    rmdir(path);
}

static void cleanup_registered(void) {
    pid_t me = getpid();
    for (int i = 0; i < SLOTS; i++) {
        if (__atomic_load_n(&registry[i].state, __ATOMIC_ACQUIRE) != 2 || registry[i].owner != me) continue;
        if (registry[i].dir) remove_dir_raw(registry[i].path);
        else unlink(registry[i].path);
    }
}

static void on_signal(int sig) {
    cleanup_registered();
    /* die of the same signal: it is blocked in here, so it is delivered on return */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof cleanup_signals / sizeof cleanup_signals[0]; i++) sigaddset(&sa.sa_mask, cleanup_signals[i]);
    for (size_t i = 0; i < sizeof cleanup_signals / sizeof cleanup_signals[0]; i++) {
        if (sigaction(cleanup_signals[i], &sa, &old) != 0) continue;
        /* a signal ignored on purpose (nohup) stays ignored */
        if (old.sa_handler == SIG_IGN) sigaction(cleanup_signals[i], &old, NULL);
    }
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
/* A write still registered at exit() was never finished (an error path that exits): remove it. */
static void install_once(void) {
    install_handlers();
    atexit(cleanup_registered);
}

/* Registers path; -1 when the registry is full (the temporary is then only swept later). */
static int register_path(const char *path, bool dir) {
    pthread_once(&once, install_once);
    for (int i = 0; i < SLOTS; i++) {
        int expect = 0;
        if (!__atomic_compare_exchange_n(&registry[i].state, &expect, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) continue;
        snprintf(registry[i].path, sizeof registry[i].path, "%s", path);
        registry[i].dir = dir;
        registry[i].owner = getpid();
        __atomic_store_n(&registry[i].state, 2, __ATOMIC_RELEASE);
        return i;
    }
    return -1;
}

void io_atomic_unregister(int slot) {
    if (slot >= 0 && slot < SLOTS) __atomic_store_n(&registry[slot].state, 0, __ATOMIC_RELEASE);
}

/* Signals blocked while a temporary is created and registered: no window where it exists unknown. */
static void block_signals(sigset_t *old) {
    sigset_t s;
    sigemptyset(&s);
    for (size_t i = 0; i < sizeof cleanup_signals / sizeof cleanup_signals[0]; i++) sigaddset(&s, cleanup_signals[i]);
    pthread_sigmask(SIG_BLOCK, &s, old);
}

static void restore_signals(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }

/* ---- names ---- */

/* dir and base of path (a trailing slash names the same entry); false for "", ".", "..", "/". */
static bool split(const char *path, char *dir, char *base, size_t n) {
    char a[4096], b[4096];
    if (strlen(path) >= sizeof a) return false;
    strcpy(a, path);
    strcpy(b, path);
    size_t l = strlen(b);
    while (l > 1 && b[l - 1] == '/') b[--l] = 0, a[l] = 0;
    snprintf(dir, n, "%s", dirname(a));
    snprintf(base, n, "%s", basename(b));
    return *base && strcmp(base, ".") && strcmp(base, "..") && strcmp(base, "/");
}

static bool tmp_template(const char *path, char *tmp, size_t len, char *err, size_t errlen) {
    char dir[4096], base[4096];
    if (!split(path, dir, base, sizeof dir)) return snprintf(err, errlen, "'%s' is not a usable output path", path), false;
    int n = snprintf(tmp, len, "%s/.%s.tmp-%ld-XXXXXX", dir, base, (long)getpid());
    if (n < 0 || (size_t)n >= len || strlen(base) > 200) return snprintf(err, errlen, "output path too long: %.200s", path), false;
    io_atomic_sweep(dir);
    return true;
}

bool io_atomic_check_target(const char *path, char *err, size_t errlen) {
    char dir[4096], base[4096];
    struct stat st;
    if (!path || !split(path, dir, base, sizeof dir))
        return snprintf(err, errlen, "'%.200s' is not a usable output file name", path ? path : ""), false;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return snprintf(err, errlen, "%.300s is a directory, not a file name", path), false;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return snprintf(err, errlen, "cannot write %.300s: the directory %.300s does not exist", path, dir), false;
    if (access(dir, W_OK | X_OK) != 0)
        return snprintf(err, errlen, "cannot write %.300s: %s", path, strerror(errno)), false;
    return true;
}

bool io_atomic_tmp_owner(const char *name, long *pid) {
    if (name[0] != '.') return false;
    const char *t = strstr(name, ".tmp-");
    if (!t) return false;
    while (strstr(t + 1, ".tmp-")) t = strstr(t + 1, ".tmp-"); /* NAME may itself hold ".tmp-" */
    const char *p = t + 5, *q = p;
    while (*q >= '0' && *q <= '9') q++;
    if (q == p || q - p > 10 || *q != '-' || strlen(q + 1) != 6) return false;
    *pid = strtol(p, NULL, 10);
    return *pid > 0;
}

/* Whether pid is a live process that may own a temporary: it exists, and its name (when readable)
 * is latbench's, or an emulator's, the report's Python's or a test's (a reused PID is not). */
static bool owner_alive(long pid) {
    if (pid == (long)getpid()) return true;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return false;
    char p[64], comm[64] = "";
    snprintf(p, sizeof p, "/proc/%ld/comm", pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true; /* cannot tell: leave it */
    ssize_t n = read(fd, comm, sizeof comm - 1);
    close(fd);
    if (n <= 0) return true;
    comm[n] = 0;
    return strstr(comm, "latbench") || !strncmp(comm, "qemu", 4) || !strncmp(comm, "python", 6) || !strncmp(comm, "test_", 5);
}

int io_atomic_sweep(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid;
        if (!io_atomic_tmp_owner(e->d_name, &pid) || owner_alive(pid)) continue;
        char p[8400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) remove_dir_raw(p);
        else unlink(p);
        removed++;
    }
    closedir(d);
    return removed;
}

/* ---- files ---- */

/* mkstemp/mkdtemp create 0600/0700: an output gets the usual umask-based mode.  Reading the umask
 * sets it for a moment: the writers run on the main thread, outside parallel regions. */
static mode_t file_mode(unsigned base) {
    mode_t um = umask(022);
    umask(um);
    return (mode_t)base & ~um;
}

bool io_atomic_open(io_atomic_file *f, const char *path, int flags, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->fd = f->slot = -1;
    f->flags = flags;
    if (strlen(path) >= sizeof f->path) return snprintf(err, errlen, "output path too long: %.200s", path), false;
    strcpy(f->path, path);
    if (!tmp_template(path, f->tmp, sizeof f->tmp, err, errlen)) return false;
    if ((flags & IO_ATOMIC_NOREPLACE) && access(path, F_OK) == 0)
        return snprintf(err, errlen, "%s already exists; refusing to overwrite it", path), false;
    sigset_t old;
    block_signals(&old);
    f->fd = mkostemp(f->tmp, O_CLOEXEC);
    int e = errno;
    if (f->fd >= 0) f->slot = register_path(f->tmp, false);
    restore_signals(&old);
    if (f->fd < 0) return snprintf(err, errlen, "cannot write %s: %s", path, strerror(e)), false;
    if (fchmod(f->fd, file_mode(0666)) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        io_atomic_abort(f);
        return false;
    }
    return true;
}

static void fsync_dir_of(const char *path) {
    char dir[4096], base[4096];
    if (!split(path, dir, base, sizeof dir)) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) fsync(fd), close(fd);
}

bool io_atomic_rename(const char *tmp, const char *path, int flags) {
    int r;
    if (!(flags & IO_ATOMIC_NOREPLACE)) {
        r = rename(tmp, path);
    } else {
        r = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
        if (r != 0 && (errno == EINVAL || errno == ENOSYS)) { /* a filesystem without RENAME_NOREPLACE */
            struct stat st;
            if (lstat(tmp, &st) == 0 && !S_ISDIR(st.st_mode)) {
                r = link(tmp, path); /* fails with EEXIST: atomic for files */
                if (r == 0) unlink(tmp);
            } else if (lstat(path, &st) == 0) {
                errno = EEXIST, r = -1;
            } else {
                r = rename(tmp, path);
            }
        }
    }
    if (r != 0) return false;
    fsync_dir_of(path);
    return true;
}

bool io_atomic_commit(io_atomic_file *f, char *err, size_t errlen) {
    if (f->fd < 0) return snprintf(err, errlen, "cannot write %s: not open", f->path), false;
    bool ok = fsync(f->fd) == 0;
    int e = errno;
    if (close(f->fd) != 0 && ok) ok = false, e = errno;
    f->fd = -1;
    if (ok && !io_atomic_rename(f->tmp, f->path, f->flags)) ok = false, e = errno;
    if (!ok) {
        if (e == EEXIST || e == ENOTEMPTY) snprintf(err, errlen, "%s already exists (it appeared meanwhile); refusing to overwrite it", f->path);
        else snprintf(err, errlen, "cannot write %s: %s", f->path, strerror(e));
        io_atomic_abort(f);
        return false;
    }
    io_atomic_unregister(f->slot);
    f->slot = -1;
    f->tmp[0] = 0;
    return true;
}

void io_atomic_abort(io_atomic_file *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    if (f->tmp[0] && !strstr(f->tmp, "XXXXXX")) unlink(f->tmp);
    io_atomic_unregister(f->slot);
    f->slot = -1;
    f->tmp[0] = 0;
}

/* ---- directories ---- */

bool io_atomic_mkdtemp(const char *path, char *tmp, size_t tmplen, int *slot, char *err, size_t errlen) {
    *slot = -1;
    if (!tmp_template(path, tmp, tmplen, err, errlen)) return false;
    sigset_t old;
    block_signals(&old);
    bool ok = mkdtemp(tmp) != NULL;
    int e = errno;
    if (ok) *slot = register_path(tmp, true);
    restore_signals(&old);
    if (!ok) {
        char dir[4096], base[4096];
        split(path, dir, base, sizeof dir);
        return snprintf(err, errlen, "cannot write in %s: %s", dir, strerror(e)), false;
    }
    if (chmod(tmp, file_mode(0777)) != 0) {
        snprintf(err, errlen, "chmod %s: %s", tmp, strerror(errno));
        io_atomic_rmtree(tmp, *slot);
        *slot = -1;
        return false;
    }
    return true;
}

void io_atomic_rmtree(const char *tmp, int slot) {
    remove_dir_raw(tmp);
    io_atomic_unregister(slot);
}

bool io_mkdirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return false;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1;; p++) {
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

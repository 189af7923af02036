/* Atomic outputs: every file or directory latbench writes is first built under a temporary name
 * beside its target, ".NAME.tmp-PID-XXXXXX" (PID: the writing process), then fsynced and renamed
 * into place (RENAME_NOREPLACE where the target must not be replaced), and the directory fsynced.
 *
 * Temporaries are registered while they exist: SIGINT, SIGTERM and SIGHUP remove them (an
 * async-signal-safe handler) and then terminate the process with the signal's default action, so
 * the exit status is the signal's; an exit() before the commit removes them too.  A temporary a kill -9 left behind is removed by the next
 * latbench run that writes into the same directory, once its PID no longer exists (or belongs to a
 * process that is not latbench's); a live process's temporaries are never touched. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* flags */
#define IO_ATOMIC_NOREPLACE 1 /* fail with "already exists" rather than replace the target */

typedef struct {
    char path[4096]; /* the target */
    char tmp[4200];  /* the temporary beside it */
    int fd;          /* open on tmp while writing; -1 otherwise */
    int slot;        /* cleanup registry slot; -1 none */
    int flags;
} io_atomic_file;

/* Creates the temporary for path (after removing stale temporaries in its directory). */
bool io_atomic_open(io_atomic_file *f, const char *path, int flags, char *err, size_t errlen);
/* Whether path can be an output file: a name (not "", ".", a directory), in an existing directory
 * this process may write.  Commands check their outputs with it before a long computation. */
bool io_atomic_check_target(const char *path, char *err, size_t errlen);
/* fsync, close, rename into place, fsync of the directory; on failure removes the temporary. */
bool io_atomic_commit(io_atomic_file *f, char *err, size_t errlen);
/* Closes and removes the temporary (after an error).  Safe to call twice. */
void io_atomic_abort(io_atomic_file *f);

/* A temporary directory beside path (registered; its files are removed with it). */
bool io_atomic_mkdtemp(const char *path, char *tmp, size_t tmplen, int *slot, char *err, size_t errlen);
/* Renames tmp to path (flags as above) and fsyncs the directory; false with errno set. */
bool io_atomic_rename(const char *tmp, const char *path, int flags);
/* Removes a temporary directory and the files in it, and unregisters slot (-1: none). */
void io_atomic_rmtree(const char *tmp, int slot);
/* Forgets slot (the temporary was renamed into place). */
void io_atomic_unregister(int slot);

/* Removes the stale temporaries (see the header) in dir; returns how many. */
int io_atomic_sweep(const char *dir);
/* Whether name looks like one of our temporaries; *pid receives its owner. */
bool io_atomic_tmp_owner(const char *name, long *pid);

/* mkdir -p: creates path and its missing parents (mode 0755).  False with errno set on failure. */
bool io_mkdirs(const char *path);

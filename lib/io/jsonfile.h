/* JSON outputs through jansson: the value helpers the writers share (JSON has no NaN or infinity,
 * and C strings may be NULL: both become null) and the atomic write of a finished tree
 * (lib/io/atomic.h: a unique temporary, fsync, rename into place).  A writer builds its json_t
 * tree in memory and commits it whole, so an interrupted run leaves no half file. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "lib/io/atomic.h"

/* How every output is dumped: two-space indentation, and 17 significant digits so that a double
 * read back is the double written. */
#define IO_JSON_DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(17))

json_t *io_json_num(double v);       /* non-finite -> null */
json_t *io_json_str(const char *s);  /* NULL -> null */

/* obj[key] = value, appended (jansson keeps insertion order). */
void io_json_set_num(json_t *obj, const char *key, double v);
void io_json_set_str(json_t *obj, const char *key, const char *s);
void io_json_set_int(json_t *obj, const char *key, long long v);
void io_json_set_bool(json_t *obj, const char *key, bool v);

/* Writes root (IO_JSON_DUMP_FLAGS, a newline at the end) into af, opened by io_atomic_open, and
 * commits it.  On failure removes the temporary and says why in err. */
bool io_json_commit(const json_t *root, io_atomic_file *af, char *err, size_t errlen);
/* io_atomic_open + io_json_commit.  flags: IO_ATOMIC_NOREPLACE or 0. */
bool io_json_write_atomic(const json_t *root, const char *path, int flags, char *err, size_t errlen);

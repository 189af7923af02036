/* A small streaming JSON writer (objects, arrays, strings, numbers) for the benchmark's results,
 * and an atomic file commit (lib/io/atomic.h): a unique temporary, fsync, rename into place. */
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include "lib/io/atomic.h"

#define JSON_MAX_DEPTH 16
typedef struct {
    FILE *f;
    int depth;
    bool has_items[JSON_MAX_DEPTH];
    bool failed;
} json_writer;

void json_init(json_writer *j, FILE *f);
/* key is NULL inside arrays and at the top level. */
void json_begin_object(json_writer *j, const char *key);
void json_end_object(json_writer *j);
void json_begin_array(json_writer *j, const char *key);
void json_end_array(json_writer *j);
void json_str(json_writer *j, const char *key, const char *value);   /* NULL value -> null */
void json_num(json_writer *j, const char *key, double value);        /* non-finite -> null */
void json_int(json_writer *j, const char *key, long long value);
void json_bool(json_writer *j, const char *key, bool value);

/* Opens a unique temporary beside path (lib/io/atomic.h: removed on SIGINT/SIGTERM, swept by a
 * later run after a kill -9); NULL after printing the reason.  flags: LB_ATOMIC_NOREPLACE or 0. */
FILE *json_file_open_tmp(const char *path, lb_atomic_file *af, int flags);
/* Flushes, fsyncs and closes f, then renames the temporary into place (and fsyncs the directory).
 * On any failure removes the temporary, prints the reason and returns false. */
bool json_file_commit(FILE *f, lb_atomic_file *af);
/* Closes f and removes the temporary (a run that failed before its end). */
void json_file_abort(FILE *f, lb_atomic_file *af);

/* A small streaming JSON writer (objects, arrays, strings, numbers) for the benchmark's results,
 * and an atomic file commit: write PATH.tmp, fsync, rename over PATH. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

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

/* Opens PATH.tmp for writing (tmp_path receives its name). */
FILE *json_file_open_tmp(const char *path, char *tmp_path, size_t len);
/* Flushes, fsyncs and closes f, then renames tmp_path to path (and fsyncs the directory).
 * On any failure removes tmp_path, prints the reason and returns false. */
bool json_file_commit(FILE *f, const char *tmp_path, const char *path);

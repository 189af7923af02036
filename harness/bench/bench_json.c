#include "harness/bench/bench_json.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

void json_init(json_writer *j, FILE *f) {
    memset(j, 0, sizeof *j);
    j->f = f;
}

static void indent(json_writer *j) {
    for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
}

static void put_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Comma, newline, indentation and "key": before a value. */
static void item(json_writer *j, const char *key) {
    if (j->depth > 0) {
        if (j->has_items[j->depth]) fputc(',', j->f);
        fputc('\n', j->f);
        j->has_items[j->depth] = true;
        indent(j);
    }
    if (key) {
        put_string(j->f, key);
        fputs(": ", j->f);
    }
}

static void open_(json_writer *j, const char *key, char c) {
    item(j, key);
    fputc(c, j->f);
    if (j->depth + 1 >= JSON_MAX_DEPTH) {
        j->failed = true;
        return;
    }
    j->depth++;
    j->has_items[j->depth] = false;
}

static void close_(json_writer *j, char c) {
    bool had = j->has_items[j->depth];
    if (j->depth > 0) j->depth--;
    if (had) {
        fputc('\n', j->f);
        indent(j);
    }
    fputc(c, j->f);
    if (j->depth == 0) fputc('\n', j->f);
}

void json_begin_object(json_writer *j, const char *key) { open_(j, key, '{'); }
void json_end_object(json_writer *j) { close_(j, '}'); }
void json_begin_array(json_writer *j, const char *key) { open_(j, key, '['); }
void json_end_array(json_writer *j) { close_(j, ']'); }

void json_str(json_writer *j, const char *key, const char *value) {
    item(j, key);
    if (value) put_string(j->f, value);
    else fputs("null", j->f);
}

void json_num(json_writer *j, const char *key, double value) {
    item(j, key);
    if (isfinite(value)) fprintf(j->f, "%.9g", value);
    else fputs("null", j->f);
}

void json_int(json_writer *j, const char *key, long long value) {
    item(j, key);
    fprintf(j->f, "%lld", value);
}

void json_bool(json_writer *j, const char *key, bool value) {
    item(j, key);
    fputs(value ? "true" : "false", j->f);
}

FILE *json_file_open_tmp(const char *path, char *tmp_path, size_t len) {
    if ((size_t)snprintf(tmp_path, len, "%s.tmp", path) >= len) {
        fprintf(stderr, "latbench: path too long: %s\n", path);
        return NULL;
    }
    FILE *f = fopen(tmp_path, "w");
    if (!f) fprintf(stderr, "latbench: cannot write %s: %s\n", tmp_path, strerror(errno));
    return f;
}

bool json_file_commit(FILE *f, const char *tmp_path, const char *path) {
    bool ok = fflush(f) == 0 && !ferror(f);
    ok = ok && fsync(fileno(f)) == 0;
    int err = errno;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp_path, path) != 0) {
        err = errno;
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "latbench: cannot write %s: %s\n", path, strerror(err));
        remove(tmp_path);
        return false;
    }
    /* the rename itself is durable only once the directory is synced */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

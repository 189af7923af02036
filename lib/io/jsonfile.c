#include "lib/io/jsonfile.h"
#include <errno.h>
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

FILE *json_file_open_tmp(const char *path, lb_atomic_file *af, int flags) {
    char err[600];
    if (!lb_atomic_open(af, path, flags, err, sizeof err)) {
        fprintf(stderr, "latbench: %s\n", err);
        return NULL;
    }
    /* the FILE gets its own descriptor: af->fd stays open for lb_atomic_commit's fsync */
    int fd = dup(af->fd);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "latbench: cannot write %s: %s\n", path, strerror(errno));
        if (fd >= 0) close(fd);
        lb_atomic_abort(af);
    }
    return f;
}

bool json_file_commit(FILE *f, lb_atomic_file *af) {
    char err[600];
    errno = 0;
    bool ok = fflush(f) == 0 && !ferror(f);
    int e = errno;
    if (fclose(f) != 0 && ok) ok = false, e = errno;
    if (!ok) {
        fprintf(stderr, "latbench: cannot write %s: %s\n", af->path, strerror(e ? e : EIO));
        lb_atomic_abort(af);
        return false;
    }
    if (!lb_atomic_commit(af, err, sizeof err)) {
        fprintf(stderr, "latbench: %s\n", err);
        return false;
    }
    return true;
}

void json_file_abort(FILE *f, lb_atomic_file *af) {
    if (f) fclose(f);
    lb_atomic_abort(af);
}

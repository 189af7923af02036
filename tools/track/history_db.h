/* Inside the history store (history*.c): the handle and two SQLite helpers, which fill err with
 * "history PATH: SQLite's message". */
#pragma once
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include "tools/track/history.h"

struct hist_db {
    sqlite3 *db;
    int fd;              /* the file, for the header check and the flock around opening (-1: :memory:) */
    char path[1024];
};

bool hist_exec(hist_db *db, const char *sql, char *err, size_t errlen);
bool hist_prepare(hist_db *db, const char *sql, sqlite3_stmt **st, char *err, size_t errlen);

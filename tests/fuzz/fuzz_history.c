/* Fuzz target: the export-text reader of `latbench history import` (hist_import_text).  What it
 * accepts must export, import into a fresh history and export again to the same text. */
#include "tests/fuzz/fuzz_util.h"
#include "tools/track/history.h"

/* The export text of db (malloc'ed, NUL-terminated), or abort. */
static char *export_text(hist_db *db, size_t *len) {
    char *out = NULL, err[1400];
    FILE *f = open_memstream(&out, len);
    if (!f || !hist_export(db, f, err, sizeof err)) abort();
    fclose(f);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[1400];
    int n = -1;
    hist_db *db = hist_open(":memory:", true, err, sizeof err);
    if (!db) abort();
    err[0] = 0;
    if (!hist_import_text(db, (const char *)data, size, "input", &n, err, sizeof err)) {
        if (!err[0] || strchr(err, '\n')) abort();   /* a failure says why, in one line */
        hist_close(db);
        return 0;
    }
    size_t l1, l2;
    char *t1 = export_text(db, &l1);
    hist_close(db);
    hist_db *again = hist_open(":memory:", true, err, sizeof err);
    if (!again || !hist_import_text(again, t1, l1, "export", &n, err, sizeof err)) abort();
    char *t2 = export_text(again, &l2);
    if (l1 != l2 || memcmp(t1, t2, l1)) abort();
    hist_close(again);
    free(t1), free(t2);
    return 0;
}

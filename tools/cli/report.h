/* latbench report's input checks (see report.c), exported for the fuzz target
 * tests/fuzz/fuzz_report.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Loads path and checks it is an experiment's results.json or a benchmark result (*is_bench);
 * false with a one-line message naming the file in err. */
typedef enum { REPORT_EXPERIMENT, REPORT_BENCH, REPORT_SEARCH, REPORT_DATASET } report_kind;

/* Loads path and checks it is an experiment's results.json, a benchmark result or a search's
 * results.json (never REPORT_DATASET); false with a one-line message naming the file in err. */
bool report_check_kind(const char *path, report_kind *kind, char *err, size_t errlen);
/* Checks path is a dataset's meta.json (lib/lattice/gendata.c: format, task, lattice, count, points);
 * false with a one-line message naming the file in err. */
bool report_check_meta(const char *path, char *err, size_t errlen);
bool report_check_results(const char *path, bool *is_bench, char *err, size_t errlen);

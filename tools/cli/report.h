/* latbench report's input check (see report.c), exported for the fuzz target
 * tests/fuzz/fuzz_report.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Loads path and checks it is an experiment's results.json or a benchmark result (*is_bench);
 * false with a one-line message naming the file in err. */
bool report_check_results(const char *path, bool *is_bench, char *err, size_t errlen);

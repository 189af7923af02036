/* `latbench dashboard`: the history (history.h) as one static, offline HTML page (README, "Dashboard").
 *
 * One card per series (machine, benchmark name) with one inline SVG: stacked panels of the median
 * time and, where the series has them, the ratios vs oneDNN and vs the scalar reference, GFLOP/s and
 * (pipelines with a batch, mb<N> in the name) samples/s, one value per run, oldest first.  A long
 * series is drawn decimated (the median of each bucket of runs, its range as a band); the change
 * points of the median time (changepoint.h) are found at their exact runs and marked with a vertical
 * line and the step (details in an SVG <title>).  A few lines of inline JS show the commit(s), date(s)
 * and values of the column under the pointer and filter the cards by op, pass and machine (kept in the
 * address, #op=..&pass=..&machine=..).  No script or style is fetched. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "tools/track/history.h"

typedef struct {
    int points;          /* columns drawn per series at most (0: 160, else at least 10); change points stay exact */
    const char *machine; /* only this machine slug (NULL: all) */
    const char *filter;  /* only names containing this (NULL: all) */
    bool progress;       /* lines on stderr while it works */
} hist_dash_opts;

typedef struct {
    long runs, records;  /* read from the history */
    int series, changes; /* cards written, change points marked */
    long bytes;          /* size of index.html */
} hist_dash_stats;

/* Writes DIR/index.html (made atomically; DIR is created when missing).  False with one line in err
 * ("history PATH: ..." when the store failed, "PATH: ..." when the output could not be written). */
bool hist_dashboard(hist_db *db, const char *dir, const hist_dash_opts *o, hist_dash_stats *st, char *err, size_t errlen);

/* `latbench dashboard [--out DIR] [--points N] [--machine M] [--filter S]`. */
int cmd_dashboard(int argc, char **argv);

/* latbench search: the seeds' architecture search (README, "Search"): TPE over a family's space
 * (space.h, tpe.h), median pruning on the validation loss per epoch, the study in SQLite
 * (study.h), the best K as spec files and a report. */
#pragma once
#include <stdint.h>
#include "tools/opts/opts.h"
#include "tools/search/study.h"

int cmd_search(int argc, char **argv);

/* The options of a search. */
typedef struct {
    search_space space;
    bool quick;
    opts_progress progress;
    long trials, top, epochs, patience, warmup, startup_prune, train_count, therm, threads, max_params;
    double budget_s;
    uint64_t seed;
    const char *out, *study;
    char outdef[256], studydef[1200];
} search_run;

/* The report of a study: a table of the best value against trials on stdout, DIR/results.json and
 * DIR/top-<k>.spec for the best K complete trials.  false with err. */
bool search_report(const search_run *r, search_study *st, char *err, size_t errlen);

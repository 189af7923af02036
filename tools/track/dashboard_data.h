/* Inside the dashboard (dashboard*.c): the history as series in memory.
 * dashboard.c reads it (one function holds the queries) and finds the change points;
 * dashboard_html.c writes the page. */
#pragma once
#include <stdio.h>
#include "tools/track/changepoint.h"
#include "tools/track/dashboard.h"
#include "tools/track/history.h"

enum { DASH_TIME, DASH_ONEDNN, DASH_SCALAR, DASH_GFLOPS, DASH_SAMPLES, DASH_METRICS };

typedef struct {
    char date[40];
    char commit[16];     /* shortened */
    int machine;         /* index into dash_data.machines */
    int profile;         /* index into dash_data.profiles (its tuning profile, "" not known) */
} dash_run;

typedef struct {
    int run;             /* index into dash_data.runs (date order) */
    double v[DASH_METRICS];   /* NAN where absent */
} dash_point;

typedef struct {
    int machine;
    char *name;
    char op[48], pass[48];
    dash_point *pts;     /* oldest first */
    int n, cap;
    /* as `latbench history` judges the series (hist_judge), indices into pts: */
    int quantity;        /* the judged quantity: DASH_TIME, DASH_ONEDNN or DASH_SCALAR (-1: none) */
    hist_cp *cps;        /* its change points */
    int n_cps;
    bool regression;     /* the newest change point is history's alarm */
    int *breaks, n_breaks;   /* known breaks: the first run under a changed tuning profile */
    bool has[DASH_METRICS];
} dash_series;

typedef struct {
    dash_run *runs;
    long n_runs, n_records;
    char **machines;
    int n_machines;
    char **profiles;     /* the distinct tuning profiles of the runs ([0]: "", not known) */
    int n_profiles;
    dash_series *series;
    int n_series, cap_series;
} dash_data;

/* The page (dashboard_html.c); false when writing to f failed. */
bool dash_write_html(FILE *f, const dash_data *d, const hist_dash_opts *o);

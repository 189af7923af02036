/* Inside the dashboard (dashboard*.c): the history as series in memory.
 * dashboard.c reads it (one function holds the queries) and finds the change points;
 * dashboard_html.c writes the page. */
#pragma once
#include <stdio.h>
#include "tools/track/changepoint.h"
#include "tools/track/dashboard.h"

enum { DASH_TIME, DASH_ONEDNN, DASH_SCALAR, DASH_GFLOPS, DASH_SAMPLES, DASH_METRICS };

typedef struct {
    char date[40];
    char commit[16];     /* shortened */
    int machine;         /* index into dash_data.machines */
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
    hist_cp *cps;        /* change points of the median time, indices into pts */
    int n_cps;
    bool has[DASH_METRICS];
} dash_series;

typedef struct {
    dash_run *runs;
    long n_runs, n_records;
    char **machines;
    int n_machines;
    dash_series *series;
    int n_series, cap_series;
} dash_data;

/* The page (dashboard_html.c); false when writing to f failed. */
bool dash_write_html(FILE *f, const dash_data *d, const hist_dash_opts *o);

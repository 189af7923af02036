/* The report of a search (search.h): the table, results.json and the top-K spec files. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/search/search.h"
#include "lib/io/outdir.h"
#include "lib/nn/netspec.h"
#include "tools/stats/stats.h"

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* The table of every trial with the best complete value so far; the trials into a JSON array. */
static json_t *trial_table(const search_trial_row *rows, int n) {
    json_t *a = json_array();
    double best = INFINITY;
    printf("%6s  %-8s  %12s  %12s  %8s  %8s\n", "trial", "state", "value", "best", "params", "seconds");
    for (int i = 0; i < n; i++) {
        const search_trial_row *t = &rows[i];
        if (!strcmp(t->state, "complete") && t->value < best) best = t->value;
        printf("%6ld  %-8s  %12.6g  %12.6g  %8ld  %8.1f\n", t->number, t->state, t->value, best, t->n_params, t->seconds);
        json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:I, s:f, s:I, s:s}", "number", (json_int_t)t->number, "state", t->state,
                              "value", num_or_null(t->value), "best_so_far", num_or_null(best), "n_params",
                              (json_int_t)t->n_params, "seconds", t->seconds, "seed", (json_int_t)t->seed, "spec", t->spec);
        json_array_append_new(a, o);
    }
    return a;
}

static int cmp_value(const void *a, const void *b) {
    const search_trial_row *x = *(const search_trial_row *const *)a, *y = *(const search_trial_row *const *)b;
    if (x->value != y->value) return (x->value > y->value) - (x->value < y->value);
    return (x->number > y->number) - (x->number < y->number);
}

/* DIR/top-<k>.spec for the best K complete trials; their entries into a JSON array. */
static bool write_top(const search_run *r, const search_trial_row *rows, int n, json_t *top, char *err, size_t errlen) {
    const search_trial_row **c = malloc((size_t)(n ? n : 1) * sizeof *c);
    if (!c) return snprintf(err, errlen, "out of memory"), false;
    int nc = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].state, "complete") && isfinite(rows[i].value)) c[nc++] = &rows[i];
    qsort(c, (size_t)nc, sizeof *c, cmp_value);
    printf("\nbest %ld of %d complete trials (%s %s):\n", r->top < nc ? r->top : (long)nc, nc,
           search_task_name(r->space.task), search_family_name(r->space.family));
    bool ok = true;
    for (int k = 0; ok && k < nc && k < r->top; k++) {
        char path[1200], text[2600];
        snprintf(path, sizeof path, "%.1000s/top-%d.spec", r->out, k + 1);
        /* the trial's lr and batch with it: the loss is that of --epochs (200) epochs, the seed's
         * winners' of 1000 (`latbench experiment`), so a finalist is compared after training it so */
        int len = snprintf(text, sizeof text,
                           "# latbench search --task %s --family %s: trial %ld, validation loss %.9g (--validate %s) after at most %ld epochs\n"
                           "# trained with --lr %.9g --batch %d (the seed's protocol: latbench train --model top-%d.spec"
                           " --lr %.9g --batch %d --epochs 1000 --trials 5)\n%s",
                           search_task_name(r->space.task), search_family_name(r->space.family), c[k]->number,
                           c[k]->value, search_validate_name(r->validate), r->epochs, c[k]->lr, c[k]->batch, k + 1, c[k]->lr, c[k]->batch, c[k]->spec);
        ok = io_write_file_atomic(path, text, (size_t)len, err, errlen);
        printf("  top-%d.spec  trial %ld  loss %.6g  %ld parameters\n", k + 1, c[k]->number, c[k]->value, c[k]->n_params);
        json_array_append_new(top, json_pack("{s:i, s:I, s:f, s:I, s:s, s:o, s:i}", "rank", k + 1, "number",
                                             (json_int_t)c[k]->number, "value", c[k]->value, "n_params",
                                             (json_int_t)c[k]->n_params, "file", path, "lr", num_or_null(c[k]->lr),
                                             "batch", c[k]->batch));
    }
    free(c);
    return ok;
}

/* The seed's winners of the task and family, with their parameter counts. */
static json_t *seed_presets(const search_run *r) {
    json_t *a = json_array();
    int n;
    const char *const *names = search_space_presets(r->space.task, r->space.family, &n);
    printf("seed winners:");
    for (int i = 0; i < n; i++) {
        net_spec ns;
        char e[200];
        long np = netspec_parse(netspec_preset(names[i]), &ns, e, sizeof e) ? netspec_param_count(&ns) : -1;
        printf("  %s %ld parameters", names[i], np);
        json_array_append_new(a, json_pack("{s:s, s:I}", "name", names[i], "n_params", (json_int_t)np));
    }
    printf("\n");
    return a;
}

bool search_report(const search_run *r, search_study *st, char *err, size_t errlen) {
    search_trial_row *rows;
    int n;
    if (!search_study_rows(st, &rows, &n, err, errlen)) return false;
    json_t *top = json_array(), *res = json_object();
    json_object_set_new(res, "task", json_string(search_task_name(r->space.task)));
    json_object_set_new(res, "family", json_string(search_family_name(r->space.family)));
    /* what every trial's value is a loss on (search.h, search_validate) */
    json_object_set_new(res, "validate", json_string(search_validate_name(r->validate)));
    json_object_set_new(res, "trials", trial_table(rows, n));
    bool ok = write_top(r, rows, n, top, err, errlen);
    json_object_set_new(res, "top", top);
    json_object_set_new(res, "seed_winners", seed_presets(r));
    double *sec = malloc((size_t)(n ? n : 1) * 2 * sizeof *sec);
    int ns = 0;
    for (int i = 0; sec && i < n; i++)
        if (strcmp(rows[i].state, "running")) sec[ns++] = rows[i].seconds;
    double med = ns && sec ? stats_median(sec, ns, sec + n) : NAN;
    printf("time per trial: median %.1f s over %d finished trials\n", med, ns);
    json_object_set_new(res, "median_seconds_per_trial", num_or_null(med));
    free(sec);
    char path[1200];
    snprintf(path, sizeof path, "%.1000s/results.json", r->out);
    char *text = json_dumps(res, JSON_INDENT(1) | JSON_REAL_PRECISION(9));
    if (ok) ok = text && io_write_file_atomic(path, text, strlen(text), err, errlen);
    free(text), json_decref(res), free(rows);
    return ok;
}

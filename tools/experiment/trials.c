/* One architecture's trials in an experiment: trained (lib/nn/fit.h), saved, evaluated on every
 * test lattice (lib/nn/eval.h), summarized (tools/experiment/experiment.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/experiment/experiment.h"
#include "tools/timing/timing.h"
#include "lib/nn/eval.h"
#include "lib/nn/fit.h"
#include "tools/stats/stats.h"

static double median(const double *v, int n) {
    double t[EXP_MAX_TRIALS];
    return stats_median(v, n, t);
}

static double mean(const double *v, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    return n ? s / n : NAN;
}

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* The test loss of an evaluation (lib/nn/eval.h, split by group) into jl: "loss" (and
 * "accuracy" for detection) over the whole set, "per_point" (one entry per (eta, mu) point of the
 * dataset) and, with the label split (counting: the label is the number of open worms), "per_label". */
static void test_json(const nn_dataset *d, const nn_eval_result *r, json_t *jl) {
    const int npt = r->npoints, nlab = r->nlabels;
    json_t *jp = json_array(), *jlab = r->per_label ? json_array() : NULL;
    for (int p = 0; p < npt && d->npoints; p++) {
        double s = 0, a = 0;
        long c = 0;
        for (int lab = 0; lab < nlab; lab++)
            s += r->sum[p * nlab + lab], a += r->corr[p * nlab + lab], c += r->cnt[p * nlab + lab];
        json_t *e = json_pack("{s:f, s:f, s:f, s:I, s:o}", "eta", d->points[p].eta, "lambda", d->points[p].lambda, "mu",
                              d->points[p].mu, "n", (json_int_t)c, "loss", num_or_null(c ? s / c : NAN));
        if (r->has_acc) json_object_set_new(e, "accuracy", num_or_null(c ? a / c : NAN));
        json_array_append_new(jp, e);
    }
    for (int lab = 0; jlab && lab < nlab; lab++) {
        double s = 0;
        long c = 0;
        for (int p = 0; p < npt; p++) s += r->sum[p * nlab + lab], c += r->cnt[p * nlab + lab];
        if (c) json_array_append_new(jlab, json_pack("{s:i, s:I, s:o}", "label", lab, "n", (json_int_t)c, "loss", num_or_null(s / c)));
    }
    json_object_set_new(jl, "loss", num_or_null(r->loss));
    if (r->has_acc) json_object_set_new(jl, "accuracy", num_or_null(r->accuracy));
    if (d->npoints) json_object_set_new(jl, "per_point", jp);
    else json_decref(jp);
    if (jlab) json_object_set_new(jl, "per_label", jlab);
}

/* One architecture's trials (nn_fit's callback saves and evaluates each). */
typedef struct {
    const exp_run *x;
    const nn_dataset *ds;
    const netspec_loaded *s;
    const char *arch, *tag;
    double val[EXP_MAX_TRIALS], ttrain[EXP_MAX_TRIALS], tall[EXP_MAX_TRIALS];
    json_t *jtr;
    double mark, t_train, t_eval;
    long n_val;
} arch_run;

static void arch_start(void *ctx, const nn_fit_info *in) { ((arch_run *)ctx)->n_val = in->n_val; }

/* The trained weights of m on every test lattice, into jtest; ttrain[t] and tall[t]. */
static bool eval_tests(arch_run *a, int t, nn_model *m, json_t *jtest, char *err, size_t errlen) {
    const exp_run *x = a->x;
    double sum_all = 0;
    int n_all = 0;
    a->ttrain[t] = NAN;
    for (int k = 1; k <= x->n_tests; k++) {
        const nn_dataset *d = &a->ds[k];
        char lat[32];
        snprintf(lat, sizeof lat, "%dx%d", d->nt, d->nx);
        const long per = (long)d->nt * d->nx;
        /* a batch no larger than the set: a smoke test's few samples need no 256-sample model */
        const long nb = per > 4096 ? 16 : per > 1024 ? 64 : 256;
        const nn_eval_job j = {.spec = &a->s->spec, .params = nn_model_params(m), .batch = (int)(nb < d->n ? nb : d->n),
                               .threads = (int)x->threads, .groups = true, .per_label = !strcmp(x->E->task, "count")};
        nn_eval_result r;
        if (!nn_eval(&j, d, &r, err, errlen)) return nn_eval_result_free(&r), false;
        json_t *jl = json_object();
        if (r.status == NN_EVAL_RAN) {
            test_json(d, &r, jl);
            if (!strcmp(lat, x->E->train_lattice)) a->ttrain[t] = r.loss;
            sum_all += r.loss, n_all++;
        } else {
            json_object_set_new(jl, "skipped", json_string(r.status == NN_EVAL_SKIPPED_LATTICE ? r.why : "another number of outputs"));
        }
        nn_eval_result_free(&r);
        json_object_set_new(jtest, lat, jl);
    }
    /* "all sizes" only for nets that run on every size (FL nets: not defined). */
    a->tall[t] = n_all == x->n_tests ? sum_all / n_all : NAN;
    return true;
}

static bool arch_trial(void *ctx, int t, nn_model *m, const nn_train_result *r, char *err, size_t errlen) {
    arch_run *a = ctx;
    const exp_run *x = a->x;
    a->t_train += timing_now() - a->mark;
    char path[4400], sv[32], st[32];
    snprintf(path, sizeof path, "%s/models/%s%s%s-t%d.safetensors", x->out, a->arch, a->tag ? "-" : "",
             a->tag ? a->tag : "", t);
    snprintf(sv, sizeof sv, "%.9g", r->best_val), snprintf(st, sizeof st, "%d", t);
    const char *keys[] = {"model", "task", "best_val_loss", "trial"}, *vals[] = {a->arch, x->E->task, sv, st};
    if (!nn_model_save(m, a->s->text, x->E->train_lattice, keys, vals, 4, path, err, errlen)) return false;
    json_t *jt = json_pack("{s:i, s:f, s:f, s:i, s:i, s:f, s:f}", "trial", t, "val_loss", (double)r->best_val,
                           "train_loss", (double)r->train_loss, "best_epoch", r->best_epoch, "epochs", r->epochs_run,
                           "train_seconds", r->seconds, "samples_per_s", r->samples_per_s);
    json_t *jtest = json_object();
    json_object_set_new(jt, "test", jtest);
    json_array_append_new(a->jtr, jt);
    double e0 = timing_now();
    if (!eval_tests(a, t, m, jtest, err, errlen)) return false;
    a->t_eval += timing_now() - e0;
    a->val[t] = r->best_val;
    fprintf(stderr, "%s trial %d: val %.4g, test on %s %.4g, %d epochs, %.0f samples/s\n", a->arch, t, r->best_val,
            x->E->train_lattice, a->ttrain[t], r->epochs_run, r->samples_per_s);
    a->mark = timing_now();
    return true;
}

void exp_print_header(void) {
    printf("\n%-10s %-6s %-12s %-12s %-12s %-12s %-12s %-12s\n", "arch", "trials", "val mean", "val median",
           "test(train) mean", "median", "test(all) mean", "median");
}

/* The summary of an architecture's nt trials (validation loss, test loss on the training lattice and
 * over all sizes): its line on stdout, its JSON object returned. */
static json_t *arch_summary(const char *arch, const double *val, const double *ttrain, const double *tall, int nt) {
    const double cols[6] = {mean(val, nt), median(val, nt), mean(ttrain, nt), median(ttrain, nt), mean(tall, nt),
                            median(tall, nt)};
    printf("%-10s %-6d", arch, nt);
    /* no value (a net that does not run on the test sizes) prints as the report's table does */
    for (int c = 0; c < 6; c++) isfinite(cols[c]) ? printf(" %-12.4g", cols[c]) : printf(" %-14s", "—"); /* 3 bytes, 1 column */
    printf("\n");
    fflush(stdout);
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "val_mean", num_or_null(cols[0]), "val_median",
                     num_or_null(cols[1]), "test_train_size_mean", num_or_null(cols[2]), "test_train_size_median",
                     num_or_null(cols[3]), "test_all_sizes_mean", num_or_null(cols[4]), "test_all_sizes_median",
                     num_or_null(cols[5]));
}

void exp_arch_entry(const exp_run *x, const exp_arch_job *job, long params, const double *val, const double *ttrain,
                    const double *tall, json_t *jtr, json_t *jarchs) {
    json_t *e = json_pack("{s:s, s:I, s:o, s:o}", "arch", job->arch, "params", (json_int_t)params, "trials", jtr,
                          "summary", arch_summary(job->arch, val, ttrain, tall, (int)x->trials));
    if (job->extra) json_object_update(e, job->extra), json_decref(job->extra);
    json_array_append_new(jarchs, e);
}

/* Trials first .. first + n - 1 of job trained on train into a (a->jtr: their entries in order). */
static bool arch_fit(arch_run *a, const exp_arch_job *job, const nn_dataset *train, int first, int n, char *err,
                     size_t errlen) {
    const exp_run *x = a->x;
    nn_fit_job j = {.name = job->arch, .data_name = "the training set", .spec = &a->s->spec, .spec_text = a->s->text,
                    .d = train, .batch = (int)x->batch, .threads = (int)x->threads, .trials = n, .first_trial = first,
                    .o = nn_train_defaults(), .on_start = arch_start, .on_trial = arch_trial, .ctx = a};
    j.o.epochs = (int)x->epochs, j.o.patience = (int)x->patience, j.o.seed = x->seed;
    j.o.augment = job->augment ? NN_AUG_TRANSLATE : NN_AUG_NONE;
    /* a line per epoch on stderr, in a log too: a batch job is never silent long (unless --progress=none) */
    j.o.progress = x->progress == OPTS_PROGRESS_NONE ? NULL : stderr;
    nn_fit_result r;
    return nn_fit(&j, &r, err, errlen);
}

bool exp_run_trial(const exp_run *x, const nn_dataset *ds, const exp_arch_job *job, const nn_dataset *train, int trial,
                   exp_trial *out, char *err, size_t errlen) {
    netspec_loaded s;
    if (!netspec_load(job->arch, &s, err, errlen)) return false;
    arch_run a = {.x = x, .ds = ds, .s = &s, .arch = job->arch, .tag = job->tag, .jtr = json_array(), .mark = timing_now()};
    bool ok = arch_fit(&a, job, train, trial, 1, err, errlen);
    if (ok) *out = (exp_trial){.entry = json_incref(json_array_get(a.jtr, 0)), .val = a.val[trial],
                               .ttrain = a.ttrain[trial], .tall = a.tall[trial], .t_train = a.t_train,
                               .t_eval = a.t_eval, .n_val = a.n_val};
    json_decref(a.jtr);
    return ok;
}

bool exp_run_arch(const exp_run *x, const nn_dataset *ds, const exp_arch_job *job, json_t *jarchs, exp_times *t,
                  long *n_val, char *err, size_t errlen) {
    if (x->plan) return exp_plan_add(x->plan, x, ds, job, err, errlen);
    netspec_loaded s;
    if (!netspec_load(job->arch, &s, err, errlen)) return json_decref(job->extra), false;
    arch_run a = {.x = x, .ds = ds, .s = &s, .arch = job->arch, .tag = job->tag, .jtr = json_array(), .mark = timing_now()};
    if (!arch_fit(&a, job, job->train ? job->train : &ds[0], 0, (int)x->trials, err, errlen))
        return json_decref(a.jtr), json_decref(job->extra), false;
    t->train += a.t_train, t->eval += a.t_eval, *n_val = a.n_val;
    exp_arch_entry(x, job, (long)netspec_param_count(&s.spec), a.val, a.ttrain, a.tall, a.jtr, jarchs);
    return true;
}

/* `latbench experiment convergence --task regression|count`: how fast the seed's EQ, ST and FL
 * winners converge against a dense network (an MLP on the flattened input) of about the same
 * parameter count, on the same data and seeds (the seeds' second talk: a net built on the data's
 * symmetry converges faster than a dense one of the same expressivity).
 *
 * Trial t of every net splits the data and draws its weights from --seed + t; the trials run
 * outer and the nets inner, so that the nets' wall times are interleaved under the same load.
 * Every net trains every epoch (no early stopping: the curves have the same length); per trial
 * the training and validation loss of each epoch (results.json), the wall time since the trial's
 * start at each epoch (timing.json), the first epoch whose validation loss is at or below the
 * target, and the test loss of the best weights on the training lattice's test set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/experiment/experiment.h"
#include "tools/timing/timing.h"
#include "lib/nn/eval.h"
#include "lib/nn/fit.h"
#include "tools/stats/stats.h"

/* The dense nets: Flatten, then Linear-LReLU-Linear-LReLU-Linear, sized to the task's EQ winner
 * (regression on 60x4: 31874 parameters against task1-eq's 33202; counting on 8x8: 1799 against
 * task3-eq1's 1800). */
static const struct {
    const char *task, *name, *spec;
} DENSE[] = {
    {"regression", "dense-task1", "flatten\nlinear 960 32\nlrelu\nlinear 32 32\nlrelu\nlinear 32 2\n"},
    {"count", "dense-task3", "flatten\nlinear 256 6\nlrelu\nlinear 6 32\nlrelu\nlinear 32 1\n"},
};

/* The default --target: a validation loss the EQ winner reaches in the quick mode (seed 1, 40
 * epochs: task1-eq at 1e-4 by epochs 7 and 12 of its 2 trials, where FL needs 22 and the dense net
 * 16 or more; task3-eq1 at 0.05 by epoch 11, where the dense net stays above 2.5), so that the
 * quick mode compares times to it. */
double exp_convergence_default_target(const char *task) { return !strcmp(task, "count") ? 0.05 : 1e-4; }

bool exp_convergence_task_ok(const char *task) {
    for (size_t k = 0; task && k < sizeof DENSE / sizeof DENSE[0]; k++)
        if (!strcmp(task, DENSE[k].task)) return true;
    return false;
}

/* One net: its spec, the per-epoch series of the trial running, the trials' entries. */
typedef struct {
    const exp_run *x;
    const nn_dataset *ds;
    const char *name, *family;
    bool dense;
    netspec_loaded s;
    int trial;
    json_t *jtr, *train, *val, *wall;
    double start, t_train, t_eval;
    long n_val;
    int to_target; /* the first epoch at or below the target, 0: not yet */
    double val_best[EXP_MAX_TRIALS], test[EXP_MAX_TRIALS], epochs_to[EXP_MAX_TRIALS];
} conv_net;

static json_t *num_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static void new_series(conv_net *c) {
    c->train = json_array(), c->val = json_array(), c->wall = json_array(), c->to_target = 0;
    c->start = timing_now();
}

static void net_start(void *ctx, const nn_fit_info *in) {
    conv_net *c = ctx;
    c->n_val = in->n_val;
    new_series(c);
}

static bool net_epoch(void *ctx, int epoch, float train_loss, float val_loss) {
    conv_net *c = ctx;
    json_array_append_new(c->train, json_real(train_loss));
    json_array_append_new(c->val, json_real(val_loss));
    json_array_append_new(c->wall, json_real(timing_now() - c->start));
    if (!c->to_target && val_loss <= c->x->target) c->to_target = epoch;
    return true;
}

/* The test loss of m on the training lattice's test set (ds[1]). */
static double test_loss(conv_net *c, nn_model *m, char *err, size_t errlen) {
    const nn_dataset *d = &c->ds[1];
    const nn_eval_job j = {.spec = &c->s.spec, .params = nn_model_params(m), .batch = (int)(64 < d->n ? 64 : d->n),
                           .threads = (int)c->x->threads};
    nn_eval_result r;
    if (!nn_eval(&j, d, &r, err, errlen)) return nn_eval_result_free(&r), -1;
    const double loss = r.status == NN_EVAL_RAN ? r.loss : NAN;
    nn_eval_result_free(&r);
    return loss;
}

static bool net_trial(void *ctx, int t0, nn_model *m, const nn_train_result *r, char *err, size_t errlen) {
    (void)t0; /* each nn_fit runs one trial: c->trial is the study's */
    conv_net *c = ctx;
    const int t = c->trial;
    c->t_train += timing_now() - c->start;
    const double e0 = timing_now(), test = test_loss(c, m, err, errlen);
    if (test < 0) return false;
    c->t_eval += timing_now() - e0;
    json_t *jt = json_pack("{s:i, s:f, s:f, s:i, s:i, s:o, s:{s:o}, s:{s:o, s:o}, s:o, s:f, s:f}", "trial", t,
                           "val_loss", (double)r->best_val, "train_loss", (double)r->train_loss, "best_epoch",
                           r->best_epoch, "epochs", r->epochs_run, "epochs_to_target",
                           c->to_target ? json_integer(c->to_target) : json_null(), "test", c->x->E->train_lattice,
                           json_pack("{s:o}", "loss", num_or_null(test)), "curve", "train_loss", c->train, "val_loss",
                           c->val, "wall_seconds", c->wall, "train_seconds", r->seconds, "samples_per_s",
                           r->samples_per_s);
    c->train = c->val = c->wall = NULL;
    json_array_append_new(c->jtr, jt);
    c->val_best[t] = r->best_val, c->test[t] = test, c->epochs_to[t] = c->to_target ? c->to_target : NAN;
    if (c->x->progress != OPTS_PROGRESS_NONE)
        fprintf(stderr, "%s trial %d: best val %.4g (epoch %d), target %g %s%d, test %.4g\n", c->name, t, r->best_val,
                r->best_epoch, c->x->target, c->to_target ? "at epoch " : "not reached in ",
                c->to_target ? c->to_target : r->epochs_run, test);
    return true;
}

static double median_of(const double *v, int n) {
    double f[EXP_MAX_TRIALS], t[EXP_MAX_TRIALS];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) f[k++] = v[i];
    return k ? stats_median(f, k, t) : NAN;
}

/* Trial t of net c: one nn_fit of one trial whose split and weights come from seed + t (the same
 * for every net). */
static bool run_trial(conv_net *c, int t, char *err, size_t errlen) {
    const exp_run *x = c->x;
    nn_fit_job j = {.name = c->name, .data_name = "the training set", .spec = &c->s.spec, .spec_text = c->s.text,
                    .d = &c->ds[0], .batch = (int)x->batch, .threads = (int)x->threads, .trials = 1,
                    .o = nn_train_defaults(), .on_start = net_start, .on_trial = net_trial, .ctx = c};
    /* every epoch (patience above --epochs): the curves of every net have the same length */
    j.o.epochs = (int)x->epochs, j.o.patience = (int)x->patience, j.o.seed = x->seed + (uint64_t)t;
    j.o.on_epoch = net_epoch, j.o.epoch_ctx = c;
    j.o.progress = x->progress == OPTS_PROGRESS_NONE ? NULL : stderr;
    if (x->progress != OPTS_PROGRESS_NONE)
        fprintf(stderr, "convergence: %s (%s, %ld parameters), trial %d of %ld\n", c->name, c->family,
                netspec_param_count(&c->s.spec), t + 1, x->trials);
    c->trial = t;
    nn_fit_result r;
    bool ok = nn_fit(&j, &r, err, errlen);
    json_decref(c->train), json_decref(c->val), json_decref(c->wall);
    c->train = c->val = c->wall = NULL;
    return ok;
}

/* Net c's entry (its trials taken over) appended to jarchs, its summary line on stdout. */
static void net_entry(conv_net *c, json_t *jarchs) {
    const int nt = (int)c->x->trials;
    const long np = netspec_param_count(&c->s.spec);
    const double sv = median_of(c->val_best, nt), st = median_of(c->test, nt), se = median_of(c->epochs_to, nt);
    char ep[32];
    snprintf(ep, sizeof ep, isfinite(se) ? "%.1f" : "not reached", se);
    printf("%-12s %-6s %8ld %12.4g %12.4g %10s\n", c->name, c->family, np, sv, st, ep);
    json_t *e = json_pack("{s:s, s:s, s:I, s:o, s:{s:o, s:o, s:o}}", "arch", c->name, "family", c->family, "params",
                          (json_int_t)np, "trials", c->jtr, "summary", "val_median", num_or_null(sv),
                          "test_train_size_median", num_or_null(st), "epochs_to_target_median", num_or_null(se));
    c->jtr = NULL;
    if (c->dense) json_object_set_new(e, "spec", json_string(c->s.text));
    json_array_append_new(jarchs, e);
}

bool exp_study_convergence(const exp_run *x, const nn_dataset *ds, json_t *jarchs, exp_times *t, long *n_val,
                           char *err, size_t errlen) {
    static const char *const FAMILY[] = {"EQ", "ST", "FL"};
    conv_net *nets = calloc(4, sizeof *nets);   /* ~40 KB of spec texts: the heap, not a static */
    if (!nets) return snprintf(err, errlen, "out of memory"), false;
    bool ok = true;
    int n = 0;
    for (int a = 0; ok && a < 3; a++, n++) {
        nets[a] = (conv_net){.x = x, .ds = ds, .name = x->E->quick_archs[a], .family = FAMILY[a], .jtr = json_array()};
        ok = netspec_load(nets[a].name, &nets[a].s, err, errlen);
    }
    for (size_t k = 0; ok && k < sizeof DENSE / sizeof DENSE[0]; k++)
        if (!strcmp(x->E->task, DENSE[k].task)) {
            nets[3] = (conv_net){.x = x, .ds = ds, .name = DENSE[k].name, .family = "dense", .dense = true,
                                 .jtr = json_array()};
            snprintf(nets[3].s.text, sizeof nets[3].s.text, "%s", DENSE[k].spec);
            ok = netspec_parse(DENSE[k].spec, &nets[3].s.spec, err, errlen), n++;
        }
    if (ok && n < 4) ok = false, snprintf(err, errlen, "no dense net for the task %s (regression and count)", x->E->task);
    /* trials outer, nets inner: the nets' wall times interleaved, under the same load */
    for (int tr = 0; ok && tr < x->trials; tr++)
        for (int a = 0; ok && a < 4; a++) ok = run_trial(&nets[a], tr, err, errlen);
    if (ok) printf("\n%-12s %-6s %8s %12s %12s %10s   (target validation loss %g; medians over %ld trials)\n", "net",
                   "family", "params", "val best", "test", "epochs to", x->target, x->trials);
    for (int a = 0; a < n; a++) {
        if (ok) net_entry(&nets[a], jarchs);
        t->train += nets[a].t_train, t->eval += nets[a].t_eval, *n_val = nets[a].n_val;
        json_decref(nets[a].jtr);
    }
    free(nets);
    fflush(stdout);
    return ok;
}

/* One trial of latbench search (search.h): its point from the sampler, its training and the median
 * rule; the trial loops of one rank (search_main.c) and of several (search_ranks.c) share them. */
#include <math.h>
#include <stdio.h>
#include "tools/search/search.h"
#include "tools/timing/timing.h"
#include "lib/nn/fit.h"
#include "lib/nn/netspec.h"

/* The first draw whose net fits the task's lattice and has at most max_params parameters (a further
 * draw uses the next stream: still deterministic).  TPE's estimator can put every draw outside a small
 * --max-params (its few good trials' values, recombined per parameter, as in count/eq at 1800 after the
 * 10 random trials), so the second half of the draws are random ones (the prior), which fit. */
bool search_trial_propose(void *vctx, long number, const search_observed *obs, int n, search_point *x, char *spec,
                          size_t len, uint64_t *seed) {
    const search_run *r = ((search_trial *)vctx)->r;
    search_tpe_opts o = search_tpe_defaults();
    net_spec ns;
    act_shape sh[NETSPEC_MAX_LAYERS + 1];
    char e[256];
    int h = r->space.task == SEARCH_REGRESSION ? 60 : 8, w = r->space.task == SEARCH_REGRESSION ? 4 : 8;
    for (int a = 0; a < 200; a++) {
        search_tpe_suggest(&r->space, &o, r->seed + (uint64_t)a * 0x100000001ull, number, obs, a < 100 ? n : 0, x);
        if (!search_space_encode(&r->space, x, spec, len) || !netspec_parse(spec, &ns, e, sizeof e)) continue;
        if (!netspec_shapes(&ns, h, w, sh, e, sizeof e) || netspec_param_count(&ns) > r->max_params) continue;
        *seed = r->seed + (uint64_t)number;
        ((search_trial *)vctx)->x = *x;
        return true;
    }
    return false;
}

bool search_trial_median_rule(search_trial *c, int epoch, float val) {
    if (!search_study_report(c->st, c->number, epoch, val)) c->store_failed = true;
    double med;
    if (epoch <= c->r->warmup || !search_study_median_at(c->st, epoch, (int)c->r->startup_prune, &med)) return true;
    return !(c->best > med);
}

/* After each epoch: the best so far, and the verdict. */
static bool on_epoch(void *vctx, int epoch, float train_loss, float val) {
    (void)train_loss;
    search_trial *c = vctx;
    if (val < c->best) c->best = val;
    if (c->verdict ? c->verdict(c, epoch, val) : search_trial_median_rule(c, epoch, val)) return true;
    c->pruned_at = epoch;
    return false;
}

void search_trial_train(search_trial *c, const search_data *d, const char **state, double *value, double *seconds,
                        long *n_params) {
    const search_run *r = c->r;
    char spec[2048], e[512];
    net_spec ns;
    double t0 = timing_now();
    const bool parsed = search_space_encode(&r->space, &c->x, spec, sizeof spec) && netspec_parse(spec, &ns, e, sizeof e);
    bool ok = parsed;
    nn_fit_job j = {.name = "trial", .data_name = "the training set", .spec = &ns, .spec_text = spec, .d = &d->train,
                    .threads = (int)r->threads, .trials = 1, .o = nn_train_defaults()};
    j.o.epochs = (int)r->epochs, j.o.patience = (int)r->patience, j.o.seed = r->seed + (uint64_t)c->number;
    j.o.on_epoch = on_epoch, j.o.epoch_ctx = c;
    j.o.val_data = d->val.n > 0 ? &d->val : NULL;
    j.o.lr = (float)search_point_lr(&r->space, &c->x), j.batch = search_point_batch(&r->space, &c->x);
    nn_fit_result fr;
    c->best = INFINITY, c->pruned_at = 0;
    if (!ok) snprintf(e, sizeof e, "its point has no spec");
    ok = ok && nn_fit(&j, &fr, e, sizeof e);
    *state = !ok ? "failed" : c->pruned_at ? "pruned" : "complete";
    *value = !ok ? NAN : c->pruned_at ? c->best : fr.best_val;
    *seconds = timing_now() - t0;
    *n_params = parsed ? (long)netspec_param_count(&ns) : 0;
    if (!ok && r->progress != OPTS_PROGRESS_NONE) fprintf(stderr, "search: trial %ld failed: %s\n", c->number, e);
}

void search_progress_line(const search_run *r, long i, long number, const char *state, double value, double best,
                          double elapsed) {
    if (r->progress == OPTS_PROGRESS_NONE) return;
    double eta = elapsed / i * (double)(r->trials - i);
    if (r->budget_s > 0 && eta > r->budget_s - elapsed) eta = r->budget_s - elapsed;
    fprintf(stderr, "search: trial %ld of %ld (#%ld) %s %.6g, best so far %.6g, %.0f s elapsed, ETA %.0f s\n", i, r->trials,
            number, state, value, best, elapsed, eta > 0 ? eta : 0);
}

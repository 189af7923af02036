/* The trials of an experiment over the ranks of an MPI run (tools/experiment/experiment.h): the
 * study's jobs planned, drawn longest first from a counter on rank 0 by every rank, each trial's
 * figures sent back to rank 0 as JSON (reals with 17 digits: the same doubles), and the entries built
 * there in the study's order, as the 1-rank run builds them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/experiment/experiment.h"
#include "tools/mpi/ranks.h"

/* One exp_run_arch call of the study: how to rebuild its training set, and its cost estimate. */
typedef struct {
    exp_arch_job job; /* arch and tag copied (owned), extra owned */
    enum { TRAIN_ALL, TRAIN_SUBSET, TRAIN_MU } train;
    long params;
    double cost;
} plan_group;

struct exp_plan {
    plan_group *g;
    int n, cap;
};

exp_plan *exp_plan_new(void) { return calloc(1, sizeof(exp_plan)); }

void exp_plan_free(exp_plan *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++)
        free((char *)p->g[i].job.arch), free((char *)p->g[i].job.tag), json_decref(p->g[i].job.extra);
    free(p->g);
    free(p);
}

bool exp_plan_add(exp_plan *p, const exp_run *x, const nn_dataset *ds, const exp_arch_job *job, char *err, size_t errlen) {
    netspec_loaded s;
    if (!netspec_load(job->arch, &s, err, errlen)) return json_decref(job->extra), false;
    if (p->n == p->cap) {
        plan_group *g = realloc(p->g, (size_t)(p->cap = p->cap ? 2 * p->cap : 16) * sizeof *g);
        if (!g) return json_decref(job->extra), snprintf(err, errlen, "out of memory"), false;
        p->g = g;
    }
    plan_group *g = &p->g[p->n++];
    *g = (plan_group){.job = *job, .params = (long)netspec_param_count(&s.spec)};
    g->job.arch = strdup(job->arch), g->job.tag = job->tag ? strdup(job->tag) : NULL, g->job.train = NULL;
    g->train = job->subset ? TRAIN_SUBSET : job->train && x->train_mu ? TRAIN_MU : TRAIN_ALL;
    if (job->train && g->train == TRAIN_ALL)
        return snprintf(err, errlen, "%s: a training set this study builds cannot be rebuilt on another rank", job->arch), false;
    const long n = job->train ? job->train->n : ds[0].n;
    g->cost = (double)g->params * (double)x->epochs * (double)n;
    return true;
}

/* The training set of group g into *train (sub: the subset built for it, to free). */
static bool group_train(const exp_run *x, const nn_dataset *ds, const plan_group *g, nn_dataset *sub,
                        const nn_dataset **train, char *err, size_t errlen) {
    double lo, hi;
    *train = sub;
    if (g->train == TRAIN_SUBSET) return exp_subset(&ds[0], g->job.subset, EXP_SUBSET_SEED(x), sub, err, errlen);
    if (g->train == TRAIN_MU) return exp_parse_mu_range(x->train_mu, &lo, &hi) && exp_subset_mu(&ds[0], lo, hi, sub, err, errlen);
    *train = &ds[0];
    return true;
}

/* A job (group * EXP_MAX_TRIALS + trial) and its group's cost: longest first, equal costs in the
 * study's order. */
typedef struct {
    double cost;
    long id;
} plan_job;
static int by_cost(const void *a, const void *b) {
    const plan_job *ja = a, *jb = b;
    return ja->cost > jb->cost ? -1 : ja->cost < jb->cost ? 1 : (ja->id > jb->id) - (ja->id < jb->id);
}

static json_t *real_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static double real_of(json_t *v) { return json_is_number(v) ? json_number_value(v) : NAN; }

/* This rank's share: every job drawn from the counter, its figures appended to mine. */
static bool run_share(const exp_run *x, const nn_dataset *ds, const exp_plan *p, const plan_job *order, long njobs,
                      json_t *mine, char *err, size_t errlen) {
    ranks_counter *c = ranks_counter_open();
    if (!c) return snprintf(err, errlen, "out of memory"), false;
    const char *hook = getenv("LATBENCH_TEST_FAIL_RANK"); /* the tests' failing rank */
    if (hook && atoi(hook) == ranks_world()->rank)
        return snprintf(err, errlen, "LATBENCH_TEST_FAIL_RANK=%s: this rank fails before its first job", hook), false;
    bool ok = true;
    for (long k; ok && (k = ranks_counter_next(c)) < njobs;) {
        const plan_group *g = &p->g[order[k].id / EXP_MAX_TRIALS];
        const int t = (int)(order[k].id % EXP_MAX_TRIALS);
        nn_dataset sub = {0};
        const nn_dataset *train;
        exp_trial r;
        ok = group_train(x, ds, g, &sub, &train, err, errlen) && exp_run_trial(x, ds, &g->job, train, t, &r, err, errlen);
        if (train == &sub) nn_dataset_free(&sub);
        if (ok)
            json_array_append_new(mine, json_pack("{s:I, s:i, s:o, s:o, s:o, s:o, s:f, s:f, s:I}", "g",
                                                  (json_int_t)(order[k].id / EXP_MAX_TRIALS), "t", t, "entry", r.entry,
                                                  "val", real_or_null(r.val), "ttrain", real_or_null(r.ttrain), "tall",
                                                  real_or_null(r.tall), "t_train", r.t_train, "t_eval", r.t_eval,
                                                  "n_val", (json_int_t)r.n_val));
    }
    /* the counter's window is freed by every rank together: a failed rank aborts the run instead */
    if (ok) ranks_counter_close(c);
    return ok;
}

/* Rank 0: every rank's figures (texts) into the groups' entries, in the study's order. */
static bool assemble(const exp_run *x, exp_plan *p, const char *texts, json_t *jarchs, exp_times *t, long *n_val,
                     char *err, size_t errlen) {
    const int nt = (int)x->trials;
    json_t **got = calloc((size_t)p->n * EXP_MAX_TRIALS, sizeof(json_t *)), *all = json_array();
    for (int r = 0; r < ranks_world()->size; r++, texts += strlen(texts) + 1) {
        json_t *a = json_loads(texts, 0, NULL), *e;
        size_t i;
        json_array_foreach(a, i, e) json_array_append(all, e);
        json_decref(a);
    }
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e) {
        long gi = (long)json_integer_value(json_object_get(e, "g")), ti = (long)json_integer_value(json_object_get(e, "t"));
        if (gi >= 0 && gi < p->n && ti >= 0 && ti < nt) got[gi * EXP_MAX_TRIALS + ti] = e;
    }
    bool ok = got != NULL;
    for (int g = 0; ok && g < p->n; g++) {
        double val[EXP_MAX_TRIALS], ttrain[EXP_MAX_TRIALS], tall[EXP_MAX_TRIALS];
        json_t *jtr = json_array();
        for (int k = 0; ok && k < nt; k++) {
            json_t *r = got[g * EXP_MAX_TRIALS + k];
            if (!r) ok = false, snprintf(err, errlen, "%s trial %d: no rank sent its figures", p->g[g].job.arch, k);
            if (!ok) break;
            val[k] = real_of(json_object_get(r, "val")), ttrain[k] = real_of(json_object_get(r, "ttrain"));
            tall[k] = real_of(json_object_get(r, "tall"));
            t->train += real_of(json_object_get(r, "t_train")), t->eval += real_of(json_object_get(r, "t_eval"));
            *n_val = (long)json_integer_value(json_object_get(r, "n_val"));
            json_array_append(jtr, json_object_get(r, "entry"));
        }
        if (!ok) {
            json_decref(jtr);
            break;
        }
        exp_arch_entry(x, &p->g[g].job, p->g[g].params, val, ttrain, tall, jtr, jarchs);
        p->g[g].job.extra = NULL; /* taken over by the entry */
    }
    free(got);
    json_decref(all);
    return ok;
}

bool exp_spread_run(const exp_run *x, const nn_dataset *ds, exp_plan *p, json_t *jarchs, exp_times *t, long *n_val,
                    char *err, size_t errlen) {
    const long njobs = (long)p->n * x->trials;
    plan_job *order = malloc((size_t)(njobs ? njobs : 1) * sizeof *order);
    if (!order) return snprintf(err, errlen, "out of memory"), false;
    for (long k = 0, g = 0; g < p->n; g++)
        for (long tr = 0; tr < x->trials; tr++) order[k++] = (plan_job){p->g[g].cost, g * EXP_MAX_TRIALS + tr};
    qsort(order, (size_t)njobs, sizeof *order, by_cost);
    json_t *mine = json_array();
    ranks_log_begin(); /* every rank's lines into OUT/ranks.log; rank 0's progress alone on stderr */
    bool ok = run_share(x, ds, p, order, njobs, mine, err, errlen);
    free(order);
    char *text = ok ? json_dumps(mine, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(mine);
    if (!ok) return false;
    if (!text) return snprintf(err, errlen, "out of memory"), false;
    char *texts = ranks_gather_text(text), lp[4200], lerr[600];
    free(text);
    snprintf(lp, sizeof lp, "%.4000s/ranks.log", x->out);
    if (!ranks_log_end(lp, lerr, sizeof lerr)) fprintf(stderr, "latbench experiment: %s\n", lerr);
    if (ranks_world()->rank != 0) return free(texts), true;
    if (!texts) return snprintf(err, errlen, "out of memory"), false;
    ok = assemble(x, p, texts, jarchs, t, n_val, err, errlen);
    free(texts);
    return ok;
}

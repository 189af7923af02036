#include "lib/nn/fit.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nn_model *nn_fit_model(const nn_fit_job *j, char *err, size_t errlen) {
    const nn_dataset *d = j->d;
    char e[512];
    nn_model *m = nn_model_create(j->spec, d->nt, d->nx, j->batch, j->threads, true, e, sizeof e);
    if (!m) return snprintf(err, errlen, "%s does not run on the dataset's %dx%d lattice: %s", j->name, d->nt, d->nx, e), NULL;
    if (nn_model_outputs(m) != d->outs) {
        snprintf(err, errlen, "%s has %d outputs but %s has %d labels per sample", j->name, nn_model_outputs(m),
                 j->data_name, d->outs);
        nn_model_free(m);
        return NULL;
    }
    return m;
}

/* The best trial's weights with the training summary in the metadata. */
static bool save_best(const nn_fit_job *j, nn_model *m, const nn_fit_result *r, const char *vals, char *err,
                      size_t errlen) {
    enum { EXTRA = 3, MAX_META = 64 };
    if (j->n_meta > MAX_META - EXTRA) return snprintf(err, errlen, "too many metadata entries"), false;
    const char *keys[MAX_META], *valv[MAX_META];
    char sbt[32], sbv[32];
    snprintf(sbt, sizeof sbt, "%d", r->best_trial), snprintf(sbv, sizeof sbv, "%.9g", r->best_val);
    for (int i = 0; i < j->n_meta; i++) keys[i] = j->meta_key[i], valv[i] = j->meta_val[i];
    const char *ek[EXTRA] = {"best_trial", "best_val_loss", "val_losses"}, *ev[EXTRA] = {sbt, sbv, vals};
    for (int i = 0; i < EXTRA; i++) keys[j->n_meta + i] = ek[i], valv[j->n_meta + i] = ev[i];
    return nn_model_save(m, j->spec_text, r->info.lattice, keys, valv, j->n_meta + EXTRA, j->out, err, errlen);
}

/* The trials; the best one's weights into best. */
static bool run_trials(const nn_fit_job *j, nn_model *m, const long *idx, float *best, char *vals, size_t vlen,
                       nn_fit_result *r, char *err, size_t errlen) {
    const size_t np = r->info.params;
    const long ntr = r->info.n_train, nv = r->info.n_val;
    size_t vl = 0;
    for (int t = j->first_trial; t < j->first_trial + j->trials; t++) {
        nn_model_init(m, j->o.seed + (uint64_t)t);
        nn_train_result tr;
        char e[512];
        /* a validation set of its own: all of it (val_idx NULL) */
        const long *vidx = j->o.val_data ? NULL : idx + ntr;
        if (!nn_train_run(m, j->d, idx, ntr, vidx, nv, &j->o, j->o.seed + (uint64_t)t, &tr, e, sizeof e)) {
            r->failed_trial = t;
            return snprintf(err, errlen, "trial %d: %s", t, e), false;
        }
        if (j->on_trial && !j->on_trial(j->ctx, t, m, &tr, err, errlen)) return false;
        if (vl < vlen - 32) vl += (size_t)snprintf(vals + vl, vlen - vl, "%s%.9g", t > j->first_trial ? "," : "", tr.best_val);
        if (tr.best_val < r->best_val || r->best_trial < 0) {
            r->best_val = tr.best_val, r->best_trial = t;
            memcpy(best, nn_model_params(m), np * sizeof(float));
        }
    }
    return true;
}

bool nn_fit(const nn_fit_job *j, nn_fit_result *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->best_trial = r->failed_trial = -1;
    r->best_val = INFINITY;
    const nn_dataset *d = j->d;
    snprintf(r->info.lattice, sizeof r->info.lattice, "%dx%d", d->nt, d->nx);
    nn_model *m = nn_fit_model(j, err, errlen);
    if (!m) return false;
    const size_t np = r->info.params = nn_model_param_count(m);
    long *idx = malloc((size_t)d->n * sizeof(long));
    float *best = malloc((np + 1) * sizeof(float));
    char vals[4096] = "";
    bool ok = idx && best;
    if (!ok) snprintf(err, errlen, "out of memory");
    if (ok) {
        const nn_dataset *v = j->o.val_data;
        r->info.n_val = v ? 0 : nn_train_split(d->n, j->o.val_frac, j->o.seed, idx);
        r->info.n_train = d->n - r->info.n_val;
        if (v) {
            nn_train_split(d->n, 0, j->o.seed, idx); /* every sample trains */
            r->info.n_val = v->n;
            if (v->nt != d->nt || v->nx != d->nx || v->outs != d->outs) {
                snprintf(err, errlen, "the validation set (%dx%d, %d labels) does not match %s (%dx%d, %d labels)", v->nt,
                         v->nx, v->outs, j->data_name, d->nt, d->nx, d->outs);
                ok = false;
            }
        }
        /* val_frac 0 asks for no validation (early stopping on the training loss) */
        if (ok && (r->info.n_train < 1 || ((v || j->o.val_frac > 0) && r->info.n_val < 1))) {
            snprintf(err, errlen, "%s has %ld sample(s): training needs at least 1 training and 1 validation sample "
                     "(at least 2 samples, or --val-frac 0 for none held out)", j->data_name, d->n);
            ok = false;
        }
    }
    if (ok && j->on_start) j->on_start(j->ctx, &r->info);
    ok = ok && run_trials(j, m, idx, best, vals, sizeof vals, r, err, errlen);
    if (ok && j->out) {
        memcpy(nn_model_params(m), best, np * sizeof(float));
        ok = save_best(j, m, r, vals, err, errlen);
    }
    free(best);
    free(idx);
    nn_model_free(m);
    return ok;
}

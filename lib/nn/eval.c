#include "lib/nn/eval.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/lattice/sampler.h"
#include "lib/nn/train.h"

int nn_eval_batch(const net_spec *spec, int h, int w) {
    act_shape sh[NETSPEC_MAX_LAYERS + 1];
    char e[256];
    if (!netspec_shapes(spec, h, w, sh, e, sizeof e)) return 1;
    size_t per = 0;
    for (int i = 0; i <= spec->n_layers; i++) per += (size_t)sh[i].h * sh[i].w * sh[i].c * 4;
    long b = (long)((64u << 20) / (per ? per : 1));
    return b < 1 ? 1 : b > 256 ? 256 : (int)b;
}

/* The number of labels of the split: max label + 1, or 1 (and no split) when a label is not a count. */
static int label_groups(const nn_dataset *d, bool *per_label) {
    int maxlab = 0;
    for (long i = 0; *per_label && i < d->n; i++) {
        const float y = d->y[i * d->outs];
        if (!(y >= 0 && y <= NN_EVAL_MAX_LABEL && y == (float)(int)y)) *per_label = false;
        else if ((int)y > maxlab) maxlab = (int)y;
    }
    return *per_label ? maxlab + 1 : 1;
}

/* Every sample once: the groups (point x label) one after another; loss and accuracy their sums. */
static bool eval_groups(nn_model *m, const nn_dataset *d, bool per_label, nn_eval_result *r) {
    const int npt = d->npoints ? d->npoints : 1, nlab = label_groups(d, &per_label);
    long *idx = malloc((size_t)(d->n ? d->n : 1) * sizeof(long));
    r->npoints = npt, r->nlabels = nlab, r->per_label = per_label;
    r->sum = calloc((size_t)npt * nlab, sizeof(double)), r->corr = calloc((size_t)npt * nlab, sizeof(double));
    r->cnt = calloc((size_t)npt * nlab, sizeof(long));
    if (!idx || !r->sum || !r->corr || !r->cnt) return free(idx), false;
    for (int p = 0; p < npt; p++) {
        const long off = d->npoints ? d->points[p].offset : 0, n = d->npoints ? d->points[p].count : d->n;
        for (int lab = 0; lab < nlab; lab++) {
            long c = 0;
            for (long i = off; i < off + n; i++)
                if (!per_label || (int)d->y[i * d->outs] == lab) idx[c++] = i;
            if (!c) continue;
            double acc;
            const double loss = nn_eval_loss(m, d, idx, c, &acc);
            r->sum[p * nlab + lab] = loss * c, r->cnt[p * nlab + lab] = c;
            if (acc >= 0) r->corr[p * nlab + lab] = acc * c, r->has_acc = true;
        }
    }
    free(idx);
    double tot = 0, tcorr = 0; /* summed per point first: the order the per-point figures are added in */
    for (int p = 0; p < npt; p++) {
        double s = 0, a = 0;
        for (int lab = 0; lab < nlab; lab++) s += r->sum[p * nlab + lab], a += r->corr[p * nlab + lab];
        tot += s, tcorr += a;
    }
    r->loss = d->n ? tot / d->n : NAN;
    r->accuracy = r->has_acc ? (d->n ? tcorr / d->n : NAN) : -1;
    return true;
}

/* Every sample's outputs, batch by batch, into r->pred. */
static bool eval_predictions(nn_model *m, const nn_dataset *d, nn_eval_result *r) {
    const int B = nn_model_batch(m), outs = nn_model_outputs(m);
    r->pred = malloc((size_t)d->n * outs * sizeof(float) + 1);
    if (!r->pred) return false;
    for (long s = 0; s < d->n; s += B) {
        const int nb = (int)(d->n - s < B ? d->n - s : B);
        nn_model_set_input(m, d->x + (size_t)s * 4 * d->nt * d->nx, NULL, nb);
        memcpy(r->pred + (size_t)s * outs, nn_model_forward(m, nb), (size_t)nb * outs * sizeof(float));
    }
    return true;
}

bool nn_eval(const nn_eval_job *j, const nn_dataset *d, nn_eval_result *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->accuracy = -1;
    const int batch = j->batch > 0 ? j->batch : nn_eval_batch(j->spec, d->nt, d->nx);
    nn_model *m = nn_model_create(j->spec, d->nt, d->nx, batch, j->threads, false, r->why, sizeof r->why);
    if (!m) return r->status = NN_EVAL_SKIPPED_LATTICE, true;
    r->outputs = nn_model_outputs(m), r->outs_data = d->outs, r->bce = nn_model_bce(m);
    bool ok = true;
    if (r->outputs != d->outs) {
        r->status = NN_EVAL_SKIPPED_OUTPUTS, r->why[0] = 0;
    } else if (j->file) {
        ok = nn_model_load_params(m, j->file, err, errlen);
    } else {
        memcpy(nn_model_params(m), j->params, nn_model_param_count(m) * sizeof(float));
    }
    if (ok && r->status == NN_EVAL_RAN) {
        const double t0 = lat_now();
        if (j->groups) {
            ok = eval_groups(m, d, j->per_label, r);
            if (!ok) snprintf(err, errlen, "out of memory");
        } else {
            r->loss = nn_eval_loss(m, d, NULL, d->n, &r->accuracy);
        }
        r->samples_per_s = d->n / (lat_now() - t0 + 1e-12);
        if (ok && j->predictions && !eval_predictions(m, d, r)) ok = false, snprintf(err, errlen, "out of memory");
    }
    nn_model_free(m);
    return ok;
}

void nn_eval_result_free(nn_eval_result *r) {
    free(r->sum), free(r->corr), free(r->cnt), free(r->pred);
    r->sum = r->corr = NULL, r->cnt = NULL, r->pred = NULL;
}

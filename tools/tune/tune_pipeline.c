/* The real pipeline's profile for `latbench tune` (tune.h): one training step of a preset timed
 * per layer and pass through lib/nn's own per-layer profile (nn_model_attach_profile), with the
 * default kernels, so the conv problems can be searched in order of their share of the step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/nn/model.h"
#include "lib/nn/netspec.h"
#include "tools/bench/bench.h"
#include "tools/timing/timing.h"
#include "tools/tune/tune.h"

/* Timed steps after one warm-up; each cell keeps its fastest (a preemption inside one kernel call
 * on a shared machine would otherwise make that call the step's largest share). */
#define TUNE_STEPS 3

/* One step: the input set, forward, loss and backward (no optimizer: it is no conv). */
static double one_step(nn_model *m, const int16_t *x, const float *y, int batch) {
    const double t0 = timing_now();
    nn_model_set_input(m, x, NULL, batch);
    nn_model_forward(m, batch);
    nn_model_backward(m, batch, y);
    return timing_now() - t0;
}

bool tune_step_shares(const char *net, int h, int w, int batch, int threads, tune_step *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *text = netspec_preset(net);
    net_spec spec;
    if (!text) return snprintf(err, errlen, "'%s' is not a network preset", net), false;
    if (!netspec_parse(text, &spec, err, errlen)) return false;
    nn_model *m = nn_model_create(&spec, h, w, batch, threads, true, err, errlen);
    if (!m) return false;
    nn_model_set_profile(m, NULL);   /* the default kernels: the time a user without a profile sees */
    nn_model_init(m, 1);
    const size_t nx = (size_t)batch * 4 * (size_t)h * (size_t)w, ny = (size_t)batch * (size_t)nn_model_outputs(m);
    int16_t *x = malloc(nx * sizeof *x);
    float *y = malloc(ny * sizeof *y);
    nn_profile *prof = calloc(1, sizeof *prof);
    bool ok = x && y && prof;
    if (!ok) snprintf(err, errlen, "out of memory");
    if (ok) {
        bench_synthetic_batch(x, nx, y, ny);   /* the pipelines' data */
        one_step(m, x, y, batch);   /* warm-up: caches, pages, OpenMP's pool */
        out->layers = nn_model_layers(m);
        double best[NETSPEC_MAX_LAYERS][LB_N_PASSES], rest = 0, total = 0;
        for (int s = 0; s < TUNE_STEPS; s++) {
            memset(prof, 0, sizeof *prof);
            nn_model_attach_profile(m, prof);
            const double t = one_step(m, x, y, batch);
            nn_model_attach_profile(m, NULL);
            if (!s || t < out->step_s) out->step_s = t;
            const double r = prof->input.seconds + prof->loss.seconds;
            if (!s || r < rest) rest = r;
            for (int i = 0; i < out->layers; i++)
                for (int p = 0; p < LB_N_PASSES; p++)
                    if (!s || prof->layer[i][p].seconds < best[i][p]) best[i][p] = prof->layer[i][p].seconds;
        }
        /* the shares of the step's timed parts (every layer's passes, the input, the loss) */
        for (int i = 0; i < out->layers; i++)
            for (int p = 0; p < LB_N_PASSES; p++) total += best[i][p];
        total += rest;
        for (int i = 0; i < out->layers; i++)
            for (int p = 0; p < LB_N_PASSES; p++) out->share[i][p] = total > 0 ? best[i][p] / total : 0;
    }
    free(x), free(y), free(prof);
    nn_model_free(m);
    return ok;
}

#include "lib/nn/train.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "arch/registry.h"

nn_train_opts nn_train_defaults(void) {
    nn_train_opts o = {.epochs = 200, .patience = 25, .lr = 1e-2f, .weight_decay = 0.0f, .val_frac = 0.1, .seed = 1,
                       .progress = NULL};
    return o;
}

static uint64_t sm64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Fisher-Yates with a bias-free bounded draw (Lemire's multiply, rejection). */
static void shuffle(long *a, long n, uint64_t *s) {
    for (long i = n - 1; i > 0; i--) {
        uint64_t bound = (uint64_t)i + 1, r;
        unsigned __int128 p;
        uint64_t thresh = -bound % bound;
        do {
            r = sm64(s);
            p = (unsigned __int128)r * bound;
        } while ((uint64_t)p < thresh);
        long j = (long)(p >> 64);
        long t = a[i];
        a[i] = a[j], a[j] = t;
    }
}

long nn_train_split(long n, double val_frac, uint64_t seed, long *idx) {
    for (long i = 0; i < n; i++) idx[i] = i;
    uint64_t s = seed ^ 0xA5A5F00DBEEF1234ull;
    shuffle(idx, n, &s);
    long nv = (long)llround(val_frac * (double)n);
    if (val_frac > 0 && nv < 1 && n > 1) nv = 1;
    if (nv >= n) nv = n - 1;
    return nv;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void gather_y(const nn_dataset *d, const long *idx, long n, float *y) {
    for (long b = 0; b < n; b++) memcpy(y + b * d->outs, d->y + (idx ? idx[b] : b) * d->outs, d->outs * sizeof(float));
}

double nn_eval_loss(nn_model *m, const nn_dataset *d, const long *idx, long n, double *acc) {
    const int B = nn_model_batch(m), outs = d->outs;
    float *y = malloc((size_t)B * outs * sizeof(float));
    long *ix = malloc((size_t)B * sizeof(long));
    if (!y || !ix) {
        free(y), free(ix);
        if (acc) *acc = -1;
        return NAN;
    }
    double sum = 0;
    long correct = 0;
    for (long s = 0; s < n; s += B) {
        int nb = (int)(n - s < B ? n - s : B);
        for (int b = 0; b < nb; b++) ix[b] = idx ? idx[s + b] : s + b;
        nn_model_set_input(m, d->x, ix, nb);
        const float *p = nn_model_forward(m, nb);
        gather_y(d, ix, nb, y);
        sum += (double)nn_model_loss(m, nb, y) * nb;
        if (acc)
            for (int b = 0; b < nb * outs; b++) correct += (p[b] >= 0.5f) == (y[b] >= 0.5f);
    }
    free(y);
    free(ix);
    if (acc) *acc = nn_model_bce(m) && n > 0 ? (double)correct / ((double)n * outs) : -1;
    return n > 0 ? sum / n : NAN;
}

void nn_augment_shift(uint64_t trial_seed, int epoch, long sample, int nt, int nx, int *dt, int *dx) {
    uint64_t s = trial_seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)epoch * 0xD1B54A32D192ED03ull ^
                 (uint64_t)sample * 0xABC98388FB8FAC03ull;
    const uint64_t z = sm64(&s);
    *dt = (int)(((z >> 32) * (uint64_t)nt) >> 32), *dx = (int)(((z & 0xffffffffu) * (uint64_t)nx) >> 32);
}

void nn_roll_sample(const int16_t *src, int16_t *dst, int nt, int nx, int dt, int dx) {
    for (int c = 0; c < 4; c++)
        for (int t = 0; t < nt; t++) {
            const int16_t *row = src + ((size_t)c * nt + t) * nx;
            int16_t *out = dst + ((size_t)c * nt + (t + dt) % nt) * nx;
            memcpy(out + dx, row, (size_t)(nx - dx) * sizeof(int16_t));
            memcpy(out, row + nx - dx, (size_t)dx * sizeof(int16_t));
        }
}

/* The input of one training batch: samples order[0..nb) of d, each rolled (augmentation) into
 * scratch first when scratch is non-NULL. */
static void batch_input(nn_model *m, const nn_dataset *d, const long *order, int nb, int16_t *scratch,
                        uint64_t trial_seed, int epoch) {
    if (!scratch) {
        nn_model_set_input(m, d->x, order, nb);
        return;
    }
    const size_t per = (size_t)4 * d->nt * d->nx;
    for (int b = 0; b < nb; b++) {
        int dt, dx;
        nn_augment_shift(trial_seed, epoch, order[b], d->nt, d->nx, &dt, &dx);
        nn_roll_sample(d->x + (size_t)order[b] * per, scratch + b * per, d->nt, d->nx, dt, dx);
    }
    nn_model_set_input(m, scratch, NULL, nb);
}

/* One line per epoch, for a log as for a terminal; the time left is an upper bound (early stopping
 * may end the run sooner). */
static void print_epoch(const nn_train_opts *o, int ep, float tl, float vl, bool best, double rate, double elapsed) {
    fprintf(o->progress, "epoch %4d/%d  loss %.6g  val %.6g%s  %.0f samples/s  %.0f s elapsed, <= %.0f s left\n", ep,
            o->epochs, tl, vl, best ? " *" : "  ", rate, elapsed, elapsed / ep * (o->epochs - ep));
    fflush(o->progress);
}

/* Inside a long epoch, a line every 5 s: a batch log (a slow net, a loaded machine) is never silent
 * for long between the epoch lines. */
static void print_within(const nn_train_opts *o, int ep, long done, long n, double t0, double *t_line) {
    double t = now_s();
    if (t - *t_line < 5.0 || done >= n) return;
    *t_line = t;
    fprintf(o->progress, "epoch %4d/%d  %ld/%ld samples  %.0f samples/s\n", ep, o->epochs, done, n, done / (t - t0));
    fflush(o->progress);
}

bool nn_train_run(nn_model *m, const nn_dataset *d, const long *train_idx, long n_train, const long *val_idx,
                  long n_val, const nn_train_opts *o, uint64_t trial_seed, nn_train_result *r, char *err,
                  size_t errlen) {
    const int B = nn_model_batch(m), outs = d->outs;
    const size_t np = nn_model_param_count(m);
    if (outs != nn_model_outputs(m)) {
        snprintf(err, errlen, "the net has %d outputs but the dataset's labels have %d", nn_model_outputs(m), outs);
        return false;
    }
    if (n_train < 1) return snprintf(err, errlen, "no training samples"), false;
    /* Optimizer state, the best weights, the shuffled order and a label batch: one allocation. */
    size_t npa = (np + 15) & ~(size_t)15;
    const size_t nmem = 4 * npa + (((size_t)B * outs + 15) & ~(size_t)15);
    float *mem = aligned_alloc(64, nmem * sizeof(float)); /* size: a multiple of the alignment */
    long *order = malloc((size_t)n_train * sizeof(long));
    int16_t *scratch = o->augment == NN_AUG_TRANSLATE ? malloc((size_t)B * 4 * d->nt * d->nx * sizeof(int16_t)) : NULL;
    if (!mem || !order || (o->augment == NN_AUG_TRANSLATE && !scratch)) {
        free(mem), free(order), free(scratch);
        return snprintf(err, errlen, "out of memory"), false;
    }
    memset(mem, 0, nmem * sizeof(float));
    float *am = mem, *av = mem + npa, *avmax = mem + 2 * npa, *best = mem + 3 * npa, *y = mem + 4 * npa;
    memcpy(order, train_idx, (size_t)n_train * sizeof(long));
    float *params = nn_model_params(m);
    memcpy(best, params, np * sizeof(float));
    optim_adamw_params hp = optim_adamw_defaults();
    hp.lr = o->lr, hp.weight_decay = o->weight_decay, hp.amsgrad = 1, hp.step = 0;
    const optim_ops *opt = lb_dispatch_get()->optim;
    uint64_t rs = trial_seed ^ 0x5851F42D4C957F2Dull;
    memset(r, 0, sizeof *r);
    r->best_val = INFINITY;
    double t_train = 0;
    long samples = 0;
    int since_best = 0;
    for (int ep = 1; ep <= o->epochs; ep++) {
        shuffle(order, n_train, &rs);
        double t0 = now_s(), t_line = t0, sum = 0;
        for (long s = 0; s < n_train; s += B) {
            int nb = (int)(n_train - s < B ? n_train - s : B);
            batch_input(m, d, order + s, nb, scratch, trial_seed, ep);
            gather_y(d, order + s, nb, y);
            nn_model_forward(m, nb);
            sum += (double)nn_model_backward(m, nb, y) * nb;
            hp.step++;
            opt->adamw_step(&hp, np, params, nn_model_grads(m), am, av, avmax);
            if (o->progress) print_within(o, ep, s + nb, n_train, t0, &t_line);
        }
        double dt = now_s() - t0;
        t_train += dt;
        samples += n_train;
        float tl = (float)(sum / n_train);
        float vl = n_val > 0 ? (float)nn_eval_loss(m, o->val_data ? o->val_data : d, val_idx, n_val, NULL) : tl;
        r->epochs_run = ep;
        if (!isfinite(tl) || !isfinite(vl)) {
            /* a diverged run has no trustworthy "best" weights to present as trained */
            snprintf(err, errlen, "training diverged at epoch %d (%s loss %g); try a smaller --lr", ep,
                     isfinite(tl) ? "validation" : "training", isfinite(tl) ? (double)vl : (double)tl);
            free(mem), free(order), free(scratch);
            return false;
        }
        if (vl < r->best_val) {
            r->best_val = vl, r->train_loss = tl, r->best_epoch = ep;
            memcpy(best, params, np * sizeof(float));
            since_best = 0;
        } else {
            since_best++;
        }
        if (o->progress) print_epoch(o, ep, tl, vl, since_best == 0, n_train / dt, t_train);
        if (since_best >= o->patience) break;
        if (o->on_epoch && !o->on_epoch(o->epoch_ctx, ep, tl, vl)) break;
    }
    memcpy(params, best, np * sizeof(float));
    r->seconds = t_train;
    r->samples_per_s = t_train > 0 ? samples / t_train : 0;
    free(mem);
    free(order);
    free(scratch);
    return true;
}

/* Training (docs/design.md §4.4: the defaults of the seed's code): AdamW (amsgrad, lr 1e-2, weight
 * decay 0), mini-batches of 100 reshuffled every epoch, 10% of the data held out for validation,
 * early stopping on the validation loss (patience 25) keeping the best weights.
 *
 * Randomness: the train/validation split depends on `seed` only; trial t initializes the weights
 * with seed + t and shuffles with its own stream, so trials differ and a run is reproducible bit
 * for bit for a given seed and thread count (the conv backward-weights sum depends on the thread
 * count; lib/nn/parallel.h). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "lib/nn/model.h"
#include "lib/nn/nnio.h"

/* Translation augmentation (the seed's control for the non-equivariant nets): every training sample
 * of every epoch rolled cyclically on the periodic lattice by a shift drawn from the trial's seed,
 * the epoch and the sample's index (nn_augment_shift), so a run stays reproducible bit for bit. */
typedef enum { NN_AUG_NONE = 0, NN_AUG_TRANSLATE } nn_augment;

typedef struct {
    int epochs, patience;
    nn_augment augment;
    float lr, weight_decay;
    double val_frac;
    /* the validation samples' dataset (NULL: the training set's, val_idx into it); nn_fit: when set,
     * all of it is the validation set and the whole training set trains (no split) */
    const nn_dataset *val_data;
    uint64_t seed;
    FILE *progress; /* a line per epoch when non-NULL (a log or a terminal alike) */
    /* after each epoch when non-NULL: its mean training loss and its validation loss; false stops
     * the run there (a pruned trial of an architecture search keeps its best weights so far, as
     * early stopping does) */
    bool (*on_epoch)(void *ctx, int epoch, float train_loss, float val_loss);
    void *epoch_ctx;
} nn_train_opts;

nn_train_opts nn_train_defaults(void);

typedef struct {
    float best_val;       /* the best validation loss (the weights left in the model) */
    float train_loss;     /* mean training loss of the best epoch */
    int best_epoch, epochs_run;
    double seconds, samples_per_s; /* training samples (forward + backward + step) per second */
} nn_train_result;

/* The split: a seeded permutation of 0..n-1; the last round(val_frac * n) (at least 1 when
 * val_frac > 0 and n > 1) are validation.  idx: [n]. */
long nn_train_split(long n, double val_frac, uint64_t seed, long *idx);

/* One training run (one trial) of m (a training model whose batch is the mini-batch size) on the
 * samples train_idx[0..n_train) with validation on val_idx[0..n_val) of o->val_data (NULL: of d;
 * val_idx NULL: its first n_val samples), from m's current weights.
 * false with the reason in err when it cannot run, and when it diverges (a training or validation
 * loss that is not finite): such a run has no weights worth keeping. */
bool nn_train_run(nn_model *m, const nn_dataset *d, const long *train_idx, long n_train, const long *val_idx,
                  long n_val, const nn_train_opts *o, uint64_t trial_seed, nn_train_result *r, char *err,
                  size_t errlen);

/* The shift (dt in 0..nt-1, dx in 0..nx-1) of sample `sample` in epoch `epoch` of a trial. */
void nn_augment_shift(uint64_t trial_seed, int epoch, long sample, int nt, int nx, int *dt, int *dx);
/* The cyclic roll of one sample src [4][nt][nx] into dst: dst[c][(t+dt)%nt][(x+dx)%nx] = src[c][t][x]
 * (the model's NHWC input of dst is the same roll of src's: the layout change is per site). */
void nn_roll_sample(const int16_t *src, int16_t *dst, int nt, int nx, int dt, int dx);

/* Mean loss of the model over samples idx[0..n) (all samples when idx is NULL) in batches; for
 * one-output BCE models also the accuracy (threshold 0.5) when acc != NULL (else -1).  NaN when
 * n is 0 or memory runs out. */
double nn_eval_loss(nn_model *m, const nn_dataset *d, const long *idx, long n, double *acc);

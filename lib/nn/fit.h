/* A training job, as `latbench train` and `latbench experiment` run it: a net spec trained on a
 * dataset over several trials (lib/nn/train.h: the split from o.seed, or with o.val_data the whole
 * dataset trains and o.val_data validates; trial t initialized and
 * shuffled from o.seed + t), each trial handed to a callback with its weights in the model, and
 * the best trial (lowest validation loss) saved as safetensors when an output path is given. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "lib/nn/nnio.h"
#include "lib/nn/train.h"

typedef struct nn_fit_job nn_fit_job;

/* What a job trains on, known before the first trial (for the caller's header line). */
typedef struct {
    size_t params;
    long n_train, n_val;
    char lattice[32]; /* NTxNX of the dataset */
} nn_fit_info;

struct nn_fit_job {
    const char *name, *data_name; /* the model's and the dataset's names, for messages */
    const net_spec *spec;
    const char *spec_text;
    const nn_dataset *d;
    int batch, threads, trials;
    int first_trial; /* the trials run are first_trial .. first_trial + trials - 1 (seeded by their index) */
    nn_train_opts o;
    /* the saved model (NULL: none): the caller's metadata pairs, then best_trial, best_val_loss
     * and val_losses */
    const char *out;
    const char *const *meta_key, *const *meta_val;
    int n_meta;
    void (*on_start)(void *ctx, const nn_fit_info *info);
    /* after each trial, its weights in m; false (with err) stops the job */
    bool (*on_trial)(void *ctx, int trial, nn_model *m, const nn_train_result *r, char *err, size_t errlen);
    void *ctx;
};

typedef struct {
    nn_fit_info info;
    int best_trial, failed_trial; /* failed_trial: the trial that failed (diverged), else -1 */
    float best_val;
} nn_fit_result;

/* The training model of the job (batch j->batch): false naming why the net does not run on the
 * dataset's lattice or does not match its labels (an input error). */
nn_model *nn_fit_model(const nn_fit_job *j, char *err, size_t errlen);
/* Runs the job.  false with one line in err: an input error (the net, too few samples, the model
 * file not written) unless r->failed_trial >= 0 (a trial failed at run time; nothing saved). */
bool nn_fit(const nn_fit_job *j, nn_fit_result *r, char *err, size_t errlen);

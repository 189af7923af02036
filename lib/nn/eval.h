/* Evaluation of a net's weights on a dataset, as `latbench eval` and `latbench experiment` run it:
 * the mean loss (and the accuracy of one-output sigmoid nets), optionally split by the dataset's
 * (eta, mu) points and, for counting, by the label.  A net that does not run on the dataset (an FL
 * net on another lattice, another number of outputs) is skipped with the reason. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "lib/io/safetensors.h"
#include "lib/nn/nnio.h"

typedef struct {
    const net_spec *spec;
    const io_st_file *file; /* the weights: a model file's tensors, or */
    const float *params;    /* [netspec_param_count] in the model's own order */
    int batch;              /* 0: activations near 64 MB */
    int threads;
    bool groups;            /* the split by point (and label) below */
    bool per_label;         /* split by label too, when every label is a count 0..NN_EVAL_MAX_LABEL */
    bool predictions;       /* keep every sample's outputs (r->pred) */
} nn_eval_job;

#define NN_EVAL_MAX_LABEL 64

typedef enum { NN_EVAL_RAN = 0, NN_EVAL_SKIPPED_LATTICE, NN_EVAL_SKIPPED_OUTPUTS } nn_eval_status;

typedef struct {
    nn_eval_status status;
    char why[512];          /* skipped: the model's reason (lattice), or "" (outputs) */
    int outputs, outs_data; /* the net's outputs, the dataset's labels per sample */
    bool bce;
    double loss, accuracy;  /* accuracy -1 when the net has none */
    double samples_per_s;
    /* with groups: sums over [npoints][nlabels] (npoints 1 when the dataset names none, nlabels 1
     * without the label split) */
    int npoints, nlabels;
    double *sum, *corr;     /* loss x n and accuracy x n per group */
    long *cnt;
    bool has_acc;
    bool per_label;         /* the split by label was made */
    float *pred;            /* with j->predictions, when the net ran: [n][outputs], after a final sigmoid */
} nn_eval_result;

/* The batch size keeping the activations of spec on h x w near 64 MB (1..256). */
int nn_eval_batch(const net_spec *spec, int h, int w);
/* Evaluates j on d.  false with one line in err when the weights cannot be loaded or memory runs
 * out; a skipped net is true with r->status saying why. */
bool nn_eval(const nn_eval_job *j, const nn_dataset *d, nn_eval_result *r, char *err, size_t errlen);
void nn_eval_result_free(nn_eval_result *r);

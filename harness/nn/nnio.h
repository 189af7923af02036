/* Files of the training pipeline: datasets written by `latbench generate` (x.npy int16
 * [N,4,NT,NX], y.npy float32 [N,outputs], meta.json) and trained models as safetensors.
 *
 * Model files: tensor "{i}.weight" / "{i}.bias" for layer i of the spec (the names of a PyTorch
 * nn.Sequential built from the spec, one module per spec line), in PyTorch's layout (conv
 * [cout][cin][kh][kw], linear [out][in]); __metadata__ holds "format" = "latbench-model-1",
 * "spec" (the spec text), "lattice" (NTxNX trained on) and the training settings. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "harness/io/safetensors.h"
#include "harness/nn/model.h"

/* A parameter point of a generated dataset: samples offset .. offset+count-1 (meta.json "points"). */
typedef struct {
    double eta, lambda, mu;
    long offset, count;
} nn_data_point;

typedef struct {
    long n;
    int nt, nx, outs;
    char task[32]; /* "regression", "detect", "count" (from meta.json; "" when absent) */
    int16_t *x;    /* [n][4][nt][nx] */
    float *y;      /* [n][outs] */
    int npoints;   /* 0 when meta.json is absent or has no valid "points" */
    nn_data_point *points;
} nn_dataset;

bool nn_dataset_load(const char *dir, nn_dataset *d, char *err, size_t errlen);
void nn_dataset_free(nn_dataset *d);

/* Reads a whole .npy file of dtype descr ("<i2", "<f4"); *data malloc'ed, shape in shape[0..*ndim). */
bool nn_npy_read(const char *path, const char *descr, void **data, long *shape, int *ndim, char *err, size_t errlen);

/* Saves the model's parameters with the spec text and extra metadata pairs. */
bool nn_model_save(nn_model *m, const char *spec_text, const char *lattice, const char *const *meta_key,
                   const char *const *meta_val, int n_meta, const char *path, char *err, size_t errlen);
/* Copies the tensors of an opened model file into the model (names and shapes must match). */
bool nn_model_load_params(nn_model *m, const lb_st_file *f, char *err, size_t errlen);

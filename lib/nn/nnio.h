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
#include "lib/io/safetensors.h"
#include "lib/nn/model.h"

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

/* Most labels per sample accepted in y.npy. */
#define NN_MAX_OUTPUTS 4096
/* Loads and checks a dataset: x [N,4,NT,NX] with N >= 1 and NT, NX in the range generate writes;
 * y [N, outputs], every label finite (detect: 0/1, count: non-negative integers); meta.json, when
 * present, valid JSON whose task matches the number of outputs.  false with one line in err. */
bool nn_dataset_load(const char *dir, nn_dataset *d, char *err, size_t errlen);
void nn_dataset_free(nn_dataset *d);

/* Saves the model's parameters with the spec text and extra metadata pairs. */
bool nn_model_save(nn_model *m, const char *spec_text, const char *lattice, const char *const *meta_key,
                   const char *const *meta_val, int n_meta, const char *path, char *err, size_t errlen);
/* Whether a model file holds exactly the tensors of spec ("{i}.weight", "{i}.bias" in PyTorch's
 * shapes): false naming the missing, the wrongly shaped and the unexpected ones. */
bool nn_model_check_tensors(const net_spec *spec, const io_st_file *f, char *err, size_t errlen);
/* NAME: a preset, a .safetensors model file (its spec, checked against its tensors), or a spec
 * text file (a regular file, not waited on).  false with the reason in err. */
bool netspec_load(const char *name, netspec_loaded *s, char *err, size_t errlen);
/* Opens a model file for evaluation: its tensors into f, its net into s.  spec NULL: the net is the
 * spec in the file's metadata (a file latbench wrote); else spec names the net (a preset or a spec
 * file, as netspec_load takes it), for a file without that metadata (a state_dict PyTorch saved),
 * and overrides the metadata's where there is one.  The tensors are checked against the net either
 * way (nn_model_check_tensors).  false with one line in err (f then freed). */
bool nn_model_open(const char *path, const char *spec, netspec_loaded *s, io_st_file *f, char *err, size_t errlen);
/* Copies the tensors of an opened model file into the model (nn_model_check_tensors against the
 * model's own layers first). */
bool nn_model_load_params(nn_model *m, const io_st_file *f, char *err, size_t errlen);

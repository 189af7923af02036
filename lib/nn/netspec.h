/* Model specs: plain text, one layer per line, close to the tables of seed 000:
 *   conv 2x2 4 32          Conv(2x2, 4, 32) with bias, stride 1, periodic padding
 *   conv* 1x1 32 32        the same without bias (the tables' Conv*)
 *   conv 3x3 4 16 /2       stride 2
 *   lrelu | sigmoid
 *   avgpool 2x2 2 | maxpool 2x2 2        (k x k window, stride s, floor mode)
 *   gavgpool | gmaxpool | gsumpool
 *   flatten
 *   linear 32 1 | linear* 32 1
 * '#' starts a comment.  Every network of the seed's tables is a named preset.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    LAYER_CONV, LAYER_LRELU, LAYER_SIGMOID, LAYER_AVGPOOL, LAYER_MAXPOOL,
    LAYER_GAVGPOOL, LAYER_GMAXPOOL, LAYER_GSUMPOOL, LAYER_FLATTEN, LAYER_LINEAR
} layer_kind;

typedef struct {
    layer_kind kind;
    int kh, kw, stride;   /* conv */
    int cin, cout;        /* conv, linear */
    int bias;             /* conv, linear */
    int k, s;             /* avgpool, maxpool */
    int line;             /* line in the spec text */
} layer_spec;

#define NETSPEC_MAX_LAYERS 64
typedef struct {
    int n_layers;
    layer_spec layers[NETSPEC_MAX_LAYERS];
} net_spec;

/* Activation shape: h x w sites x c channels (after flatten/linear: h = w = 1, c = features). */
typedef struct { int h, w, c; } act_shape;

/* Limits, so that every size derived from a spec fits its type: the parameters of a net, and
 * the values of one sample's activation at any layer (h * w * c, also the features a flatten
 * produces; an int). */
#define NETSPEC_MAX_PARAMS (1L << 31)
#define NETSPEC_MAX_ACT 2147483647LL

/* Parses spec text; on error writes "line N: <problem>" to err and returns false. */
bool netspec_parse(const char *text, net_spec *out, char *err, size_t errlen);
/* The spec text of a preset ("task1-eq", ..., "task3-fl3"), or NULL. */
const char *netspec_preset(const char *name);
/* The lattice the seed trained a preset on ("60x4" for task 1, "8x8" for tasks 2 and 3), or NULL. */
const char *netspec_preset_lattice(const char *name);
/* Preset names in table order; *count receives their number. */
const char *const *netspec_preset_names(int *count);
/* Input shape of every layer, and the output shape in shapes[n_layers], on an h x w lattice with
 * 4 input channels.  False (with the reason) when the net does not fit that lattice (channel
 * mismatch, a pool larger than the lattice, a flatten whose size differs from the next linear, an
 * activation above NETSPEC_MAX_ACT values per sample). */
bool netspec_shapes(const net_spec *net, int h, int w, act_shape *shapes, char *err, size_t errlen);
/* Number of trainable parameters (at most NETSPEC_MAX_PARAMS for a parsed spec). */
long netspec_param_count(const net_spec *net);

/* A spec with where it came from (what `latbench model/train/eval/experiment` take as a net). */
typedef struct {
    net_spec spec;
    char text[8192];     /* the spec text */
    char origin[64];     /* "preset", "spec file", "trained model" */
    char lattice[32];    /* a trained model's lattice, else "" */
    char native[32];     /* a preset's native lattice, the one the seed trained it on, else "" */
} netspec_loaded;

/* netspec_load (lib/nn/nnio.h) finds one by name: a preset, a spec file or a model file. */

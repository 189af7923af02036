/* The problems of a preset network: every layer at a lattice and batch, then the net's loss and
 * its optimizer step, as prob_record records with their layer labels.  The one place a network
 * becomes problems for bench, bench --gbench, the gate and verify, so the four time and check the
 * same shapes under the same names. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "kernels/pass.h"
#include "lib/nn/netspec.h"
#include "tools/problems/problem.h"

/* The networks bench and bench --gbench sweep by default: one list, of which bench takes the
 * conv nets.  bench times conv and pool layers only; task2-fl is in the list for its flatten and
 * dense layers (the only default net with them), which gbench times, and its conv and pool shapes
 * would only lengthen bench's sweep and change the rows its history compares.  (Macros, so that
 * each command keeps a static array it can count with sizeof.) */
#define PROB_DEFAULT_CONV_NETS "task1-eq", "task1-st", "task3-eq1"
#define PROB_DEFAULT_NETS PROB_DEFAULT_CONV_NETS, "task2-fl"

/* Where a problem comes from: a layer, or the net's loss or optimizer step. */
enum { PROB_NP_LOSS = -1, PROB_NP_OPTIM = -2 };

typedef struct {
    prob_record prob;
    int layer;        /* the layer's index in the spec, or PROB_NP_LOSS / PROB_NP_OPTIM */
    layer_kind kind;  /* the layer's kind (an act problem's lrelu or sigmoid); 0 for loss and optim */
    act_shape in;     /* the layer's input activation (the loss: the net's output) */
    int batch;
    bool bce;         /* the loss: BCE on the logits (the net ends in a sigmoid: detection), else MSE */
    char label[64];   /* "task1-st:conv4": the net, the layer kind, its count among layers of that
                       * kind; the loss and the optimizer step carry the net's name alone */
} prob_net_problem;

#define PROB_NET_MAX_PROBLEMS (NETSPEC_MAX_LAYERS + 2)

/* Every problem of preset `net` on an h x w lattice at `batch`, in layer order, then its loss and
 * its optimizer step, into out[PROB_NET_MAX_PROBLEMS]; returns their count, or -1 with the reason in
 * err when net is no preset or does not fit the lattice (an FL net fits one lattice only). */
int prob_net_problems(const char *net, int h, int w, int batch, prob_net_problem *out, char *err, size_t len);

/* "conv2d_fwd/<shape>", "pool_bwd/<shape>", ...: the name bench, gbench and the gate give one pass
 * of a conv2d, pool, gpool, dense or flatten problem (pool, gpool and flatten: fwd and bwd). */
int prob_pass_str(const prob_record *p, lb_pass pass, char *buf, size_t len);

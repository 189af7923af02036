/* One problem record for every kind of check and measurement, and its name in both directions, in
 * the manner of benchdnn's str2desc and operator<<: prob_str prints a record, prob_parse
 * reads it back (the exact inverse), so any line that verify or bench prints reruns that problem,
 * shapes outside the built-in set included (`latbench verify --desc ...`, `latbench bench --desc ...`).
 *
 * Canonical form "<kind>/<shape>", the shape as the verifiers print it:
 *   conv2d/mb32_ic4oc64_ih60iw4_kh2kw2_sh1sw1_b1     pool/avg_mb32_c80_ih8iw8_k2s2
 *   gpool/max_mb32_c32_hw64    dense/mb32_ic80oc2_b1    flatten/mb2_c3_ih5iw7
 *   act/n1000    loss/n1000    optim/n1000
 * The parser also takes the names verify and bench print: the op may be one of the kind's passes
 * (conv2d_fwd, pool_bwd, lrelu_fwd, loss_bce_logits, adamw, ...), the shape may carry that pass's
 * suffix (n17_inplace, n17_wide, n17_amsgrad1_wd0.01), and a "/variant[@reference]" tail may follow. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "kernels/conv2d/conv2d.h"
#include "kernels/dense/dense.h"
#include "kernels/gpool/gpool.h"
#include "kernels/pool/pool.h"

typedef enum {
    PROB_CONV2D,
    PROB_POOL,
    PROB_GPOOL,
    PROB_DENSE,
    PROB_FLATTEN,
    PROB_ACT,   /* lrelu and sigmoid over n elements */
    PROB_LOSS,  /* mse and bce_logits over n elements */
    PROB_OPTIM, /* adamw over n parameters */
} prob_kind;

typedef struct {
    prob_kind kind;
    union {
        conv2d_desc conv;
        pool_desc pool;
        gpool_desc gpool;
        dense_desc dense;
        dense_flatten_desc flatten;
        size_t n; /* act, loss, optim */
    } u;
} prob_record;

/* How a parsed name selected within its problem: the whole problem ("conv2d/..."), or a pass or
 * a single check of it ("conv2d_fwd/.../avx2@onednn"), which `filter` then names. */
typedef struct {
    bool whole;
    char filter[160]; /* the name as given, up to its end (empty when whole) */
    char op[24];      /* the op as given: the kind or one of its passes */
} prob_sel;

/* The kind's name ("conv2d", ..., "optim"). */
const char *prob_kind_name(prob_kind k);
/* Writes the canonical name; returns its length (snprintf's, so >= len means it was cut). */
int prob_str(const prob_record *p, char *buf, size_t len);
/* Only the shape part (what the verifiers print between the op and the variant). */
int prob_shape_str(const prob_record *p, char *buf, size_t len);
/* Parses a name (see above) into *p (and *sel when not NULL).  A malformed name, a number out of
 * its range or a shape no kernel takes is refused: false, with one line in err. */
bool prob_parse(const char *s, prob_record *p, prob_sel *sel, char *err, size_t len);

/* The search space of `latbench search` (README, "Search"): per family (EQ equivariant, ST strided,
 * FL flattening) a fixed list of parameters whose point becomes a netspec string (lib/nn/netspec.h).
 * Every parameter of the family is sampled in every trial; those a point does not use (conv 5 of a
 * 3-conv net) are inactive and ignored by the spec.  Each seed preset of a family is a point of its
 * space (search_space_decode finds it; tests/test_search_space.c checks every preset).
 *   n_conv 1..6; per conv i: k 1..3, channels (an index into SEARCH_WIDTHS), bias, activation after,
 *   and for ST/FL a pool after it (none/avg/max, window 2, stride 1 or 2);
 *   EQ/ST: global pool avg/max/sum; FL: flatten;
 *   n_dense 0..3 hidden linear layers (width, bias, activation after each); the output linear (its
 *   bias; EQ/ST may leave it out: the last conv then has the task's outputs as channels);
 *   lr (log-uniform 1e-4..1e-1) and batch size.
 * The detect task ends in a sigmoid (its loss is binary cross-entropy). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef enum { SEARCH_EQ, SEARCH_ST, SEARCH_FL } search_family;
typedef enum { SEARCH_REGRESSION, SEARCH_DETECT, SEARCH_COUNT } search_task;
typedef enum { SP_INT, SP_LOG } search_kind; /* integers lo..hi (also choices), a log-uniform real */

#define SEARCH_MAX_CONV 6
#define SEARCH_MAX_DENSE 3
#define SEARCH_MAX_PARAMS 64

typedef struct {
    char name[24];
    search_kind kind;
    double lo, hi;
} search_param;

typedef struct {
    search_family family;
    search_task task;
    int n;
    search_param p[SEARCH_MAX_PARAMS];
} search_space;

/* A point: one value per parameter of its space (an integer value is stored as a double). */
typedef struct {
    double v[SEARCH_MAX_PARAMS];
} search_point;

bool search_family_parse(const char *s, search_family *f);
bool search_task_parse(const char *s, search_task *t);
const char *search_family_name(search_family f);
const char *search_task_name(search_task t);
/* The seed's preset names of a task and family (e.g. count/eq: task3-eq1..3); *n their number. */
const char *const *search_space_presets(search_task t, search_family f, int *n);

void search_space_init(search_space *s, search_task t, search_family f);
/* The index of a parameter by name, or -1. */
int search_space_find(const search_space *s, const char *name);
/* The spec text of a point (false when it does not fit len). */
bool search_space_encode(const search_space *s, const search_point *x, char *text, size_t len);
/* The point whose spec is text (inactive parameters at their lowest value; lr and batch at 1e-2
 * and 100, the seed's training defaults); false with the reason when text is no point of s. */
bool search_space_decode(const search_space *s, const char *text, search_point *x, char *err, size_t errlen);
/* The batch size and the learning rate of a point. */
int search_point_batch(const search_space *s, const search_point *x);
double search_point_lr(const search_space *s, const search_point *x);

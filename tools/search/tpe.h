/* The TPE sampler of `latbench search`, as optuna's TPESampler with its defaults (univariate):
 * the first n_startup trials sample every parameter uniformly (log-uniform for a log parameter);
 * then the finished trials are split into the gamma(n) = min(ceil(0.1 n), 25) best ("good", l(x))
 * and the rest ("bad", g(x)) - pruned trials always count as bad - and per parameter a Parzen
 * estimator (a truncated-normal mixture over the observations plus a prior at the middle of the
 * range, bandwidths from the neighbours' distances clipped to [range / min(100, 1 + n), range],
 * weights ramping down for old observations past 25, integers as bins of width 1) draws
 * n_candidates values from l and keeps the one with the largest l(x) / g(x).
 * No global state: the draw depends only on (seed, trial number) and the trials passed in, so the
 * same seed and the same finished trials give the same next point. */
#pragma once
#include <stdint.h>
#include "tools/search/space.h"

typedef struct {
    int n_startup;    /* 10 */
    int n_candidates; /* 24 */
} search_tpe_opts;

search_tpe_opts search_tpe_defaults(void);

/* A finished trial as the sampler sees it: its point, its value (lower is better) and whether it
 * was pruned. */
typedef struct {
    search_point x;
    double value;
    int pruned;
} search_observed;

/* The point of trial `number` from the n finished trials obs (in trial order). */
void search_tpe_suggest(const search_space *s, const search_tpe_opts *o, uint64_t seed, long number,
                        const search_observed *obs, int n, search_point *out);

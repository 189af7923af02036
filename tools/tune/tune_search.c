/* Successive halving and the keep-or-default rule of `latbench tune` (tune.h): the statistical
 * method of compare and bisect (tools/stats/stats.h), applied to the final round. */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>
#include "tools/stats/stats.h"
#include "tools/tune/tune.h"

timing_cfg tune_timing(tune_level level, int round) {
    static const timing_cfg base[] = {
        [TUNE_QUICK] = {.reps = 9, .min_reps = 5, .rep_s = 0.01, .budget_s = 0.2},
        [TUNE_MEASURE] = {.reps = 15, .min_reps = 7, .rep_s = 0.05, .budget_s = 1.5},
        [TUNE_PATIENT] = {.reps = 31, .min_reps = 11, .rep_s = 0.1, .budget_s = 5.0},
    };
    timing_cfg c = base[level];
    c.drop_factor = 4;   /* a candidate 4x slower than the fastest on a >= 0.1 s call: its one sample */
    if (round > 0) c.reps *= 2, c.min_reps *= 2, c.budget_s *= 2;
    if (c.reps > TIMING_MAX_SAMPLES) c.reps = TIMING_MAX_SAMPLES;
    return c;
}

static double rel_spread(const timing_stats *s) { return s->median > 0 ? (s->q3 - s->q1) / s->median : 0; }

bool tune_keeps(const double *def, int nd, const double *chal, int nc, stats_shift *ci) {
    /* NEW = the default, OLD = the challenger: the interval is that of default / challenger */
    if (!stats_ratio_ci(chal, nc, def, nd, TUNE_ALPHA, ci)) return false;
    return ci->decidable && ci->lo > 1.0 + TUNE_MIN_EFFECT;
}

/* Times the candidates idx[0..k) interleaved (idx[0] is the default); their statistics into st[];
 * ratio (k == 2, else NULL): the statistics of the per-repetition ratios default / challenger, and
 * the decision of tune_keeps on the two runs' repetitions into *keep and *ci. */
static bool time_round(const tune_cand *c, const int *idx, int k, timing_cfg cfg, timing_stats *st,
                       timing_stats *ratio, bool *keep, stats_shift *ci) {
    timing_seq *seqs = calloc((size_t)k, sizeof *seqs);
    timing_seq_result *res = calloc((size_t)k, sizeof *res);
    bool ok = seqs && res;
    if (ok) {
        for (int i = 0; i < k; i++) seqs[i] = c[idx[i]].seq;
        ok = timing_interleaved(seqs, k, &cfg, res) == 0;
    }
    for (int i = 0; ok && i < k; i++) st[i] = res[i].total;
    if (ok && ratio) {
        const int n = res[0].n_samples < res[1].n_samples ? res[0].n_samples : res[1].n_samples;
        *ratio = timing_ratio_stats(res[0].samples, res[1].samples, n);
        *keep = tune_keeps(res[0].samples, res[0].n_samples, res[1].samples, res[1].n_samples, ci);
        /* the default dropped after its one call as drop_factor times slower than the challenger
         * (timing.h): no interval can be had from one sample, and none is needed at that gap */
        if (res[0].reps == 1 && res[1].reps > 1) *keep = true;
    }
    free(seqs);
    free(res);
    return ok;
}

static int by_q1(const void *a, const void *b, void *stats) {
    const timing_stats *st = stats;
    const double x = st[*(const int *)a].q1, y = st[*(const int *)b].q1;
    return (x > y) - (x < y);
}

bool tune_halving(const tune_cand *c, int n, int def, tune_level level, tune_outcome *o) {
    memset(o, 0, sizeof *o);
    o->winner = def;
    o->challenger = -1;
    int *alive = malloc(sizeof *alive * (size_t)n), *idx = malloc(sizeof *idx * (size_t)(n + 1)), *pos = NULL;
    timing_stats *st = malloc(sizeof *st * (size_t)(n + 1));
    pos = malloc(sizeof *pos * (size_t)n);
    bool ok = alive && idx && st && pos;
    int na = 0;
    for (int i = 0; ok && i < n; i++)
        if (i != def) alive[na++] = i;
    /* prune to the better half (by lower quartile) until one challenger is left */
    while (ok && na > 1) {
        idx[0] = def;
        for (int i = 0; i < na; i++) idx[i + 1] = alive[i];
        ok = time_round(c, idx, na + 1, tune_timing(level, 0), st, NULL, NULL, NULL);
        if (!ok) break;
        for (int i = 0; i < na; i++) pos[i] = i + 1;
        qsort_r(pos, (size_t)na, sizeof *pos, by_q1, st);
        const int keep = (na + 1) / 2;
        for (int i = 0; i < keep; i++) alive[i] = idx[pos[i]];
        na = keep;
        o->rounds++;
    }
    if (ok && na == 1) {
        /* the final round: the last challenger against the default, with more repetitions */
        idx[0] = def, idx[1] = alive[0];
        timing_stats ratio;
        bool wins = false;
        ok = time_round(c, idx, 2, tune_timing(level, 1), st, &ratio, &wins, &o->ci);
        if (ok) {
            o->rounds++;
            o->def = st[0];
            o->challenger = alive[0], o->chal = st[1];
            o->spread = rel_spread(&ratio);
            o->winner = wins ? alive[0] : def;
            o->chosen = wins ? st[1] : st[0];
        }
    } else if (ok) {
        /* no challenger: the default alone */
        idx[0] = def;
        ok = time_round(c, idx, 1, tune_timing(level, 0), st, NULL, NULL, NULL);
        if (ok) o->def = o->chosen = st[0], o->spread = rel_spread(&st[0]), o->rounds = 1;
    }
    free(alive);
    free(idx);
    free(st);
    free(pos);
    return ok;
}

bool tune_time_once(const tune_cand *c, int n, tune_level level, timing_stats *st) {
    int *idx = malloc(sizeof *idx * (size_t)(n ? n : 1));
    if (!idx) return false;
    for (int i = 0; i < n; i++) idx[i] = i;
    timing_cfg cfg = tune_timing(level, 0);
    cfg.reps = cfg.min_reps;   /* a screening round: its winners are timed again by the halving */
    const bool ok = time_round(c, idx, n, cfg, st, NULL, NULL, NULL);
    free(idx);
    return ok;
}

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

bool tune_drops(const double *fast, int nf, const double *cand, int nc) {
    stats_shift ci;
    return stats_ratio_ci(fast, nf, cand, nc, TUNE_ALPHA, &ci) && ci.decidable && ci.lo > 1.0;
}

/* Whether r is clearly slower than f, the round's fastest (tune_drops), or was dropped by the
 * timing after one call as drop_factor times slower. */
static bool clearly_slower(const timing_seq_result *r, const timing_seq_result *f) {
    if (r->reps == 1 && f->reps > 1) return true;
    return tune_drops(f->samples, f->n_samples, r->samples, r->n_samples);
}

/* Times the candidates idx[0..k) interleaved (idx[0] is the default); their statistics into st[];
 * slow (or NULL): slow[i] = idx[i] is clearly slower than the round's fastest (by lower quartile;
 * never the default); ratio (or NULL): the statistics of the per-repetition ratios default /
 * challenger, the challenger the fastest of idx[1..k) (its position in *best), and the decision of
 * tune_keeps on the two runs' repetitions into *keep and *ci. */
static bool time_round(const tune_cand *c, const int *idx, int k, timing_cfg cfg, timing_stats *st, bool *slow,
                       int *best, timing_stats *ratio, bool *keep, stats_shift *ci) {
    timing_seq *seqs = calloc((size_t)k, sizeof *seqs);
    timing_seq_result *res = calloc((size_t)k, sizeof *res);
    bool ok = seqs && res;
    if (ok) {
        for (int i = 0; i < k; i++) seqs[i] = c[idx[i]].seq;
        ok = timing_interleaved(seqs, k, &cfg, res) == 0;
    }
    for (int i = 0; ok && i < k; i++) st[i] = res[i].total;
    int fast = 0, b = 1;
    for (int i = 1; ok && i < k; i++) {
        if (st[i].q1 < st[fast].q1) fast = i;
        if (st[i].q1 < st[b].q1) b = i;
    }
    for (int i = 0; ok && slow && i < k; i++) slow[i] = i > 0 && i != fast && clearly_slower(&res[i], &res[fast]);
    if (ok && ratio && k > 1) {
        *best = b;
        const int n = res[0].n_samples < res[b].n_samples ? res[0].n_samples : res[b].n_samples;
        *ratio = timing_ratio_stats(res[0].samples, res[b].samples, n);
        *keep = tune_keeps(res[0].samples, res[0].n_samples, res[b].samples, res[b].n_samples, ci);
        /* the default dropped after its one call as drop_factor times slower than the challenger
         * (timing.h): no interval can be had from one sample, and none is needed at that gap */
        if (res[0].reps == 1 && res[b].reps > 1) *keep = true;
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

/* The outcome's report of a round that timed the default (st[0]) and a challenger (st[b], the
 * candidate idx[b]); the choice stays the default unless the final round keeps the challenger. */
static void report_round(tune_outcome *o, const int *idx, const timing_stats *st, int b, const timing_stats *ratio,
                         int def) {
    o->def = o->chosen = st[0];
    o->challenger = idx[b], o->chal = st[b];
    o->spread = rel_spread(ratio);
    o->winner = def;
}

bool tune_halving(const tune_cand *c, int n, int def, const bool *skip, tune_level level, tune_outcome *o) {
    memset(o, 0, sizeof *o);
    o->winner = def;
    o->challenger = -1;
    int *alive = malloc(sizeof *alive * (size_t)n), *idx = malloc(sizeof *idx * (size_t)(n + 1)), *pos = NULL;
    timing_stats *st = malloc(sizeof *st * (size_t)(n + 1));
    bool *slow = malloc(sizeof *slow * (size_t)(n + 1));
    pos = malloc(sizeof *pos * (size_t)n);
    bool ok = alive && idx && st && pos && slow;
    int na = 0;
    for (int i = 0; ok && i < n; i++)
        if (i != def && !(skip && skip[i])) alive[na++] = i;
    const int given = na;
    /* prune to the better half (by lower quartile) until one challenger is left; the clearly
     * slower ones go at once, so a round may leave fewer, or none: then the default stays, and the
     * round's fastest challenger is the one reported */
    while (ok && na > 1) {
        idx[0] = def;
        for (int i = 0; i < na; i++) idx[i + 1] = alive[i];
        timing_stats ratio;
        int b = 1;
        bool wins;
        ok = time_round(c, idx, na + 1, tune_timing(level, 0), st, slow, &b, &ratio, &wins, &o->ci);
        if (!ok) break;
        report_round(o, idx, st, b, &ratio, def);
        int ns = 0;
        for (int i = 0; i < na; i++)
            if (!slow[i + 1]) pos[ns++] = i + 1;
        qsort_r(pos, (size_t)ns, sizeof *pos, by_q1, st);
        const int keep = (na + 1) / 2 < ns ? (na + 1) / 2 : ns;
        for (int i = 0; i < keep; i++) alive[i] = idx[pos[i]];
        na = keep;
        o->rounds++;
    }
    if (ok && na == 1) {
        /* the final round: the last challenger against the default, with more repetitions */
        idx[0] = def, idx[1] = alive[0];
        timing_stats ratio;
        int b = 1;
        bool wins = false;
        ok = time_round(c, idx, 2, tune_timing(level, 1), st, NULL, &b, &ratio, &wins, &o->ci);
        if (ok) {
            o->rounds++;
            report_round(o, idx, st, 1, &ratio, def);
            if (wins) o->winner = alive[0], o->chosen = st[1];
        }
    } else if (ok && !given) {
        /* no challenger: the default alone */
        idx[0] = def;
        ok = time_round(c, idx, 1, tune_timing(level, 0), st, NULL, NULL, NULL, NULL, NULL);
        if (ok) o->def = o->chosen = st[0], o->spread = rel_spread(&st[0]), o->rounds = 1;
    }
    free(alive);
    free(idx);
    free(st);
    free(pos);
    free(slow);
    return ok;
}

bool tune_screen(const tune_cand *c, int n, int def, tune_level level, timing_stats *st, bool *slow) {
    int *idx = malloc(sizeof *idx * (size_t)(n ? n : 1));
    timing_stats *t = malloc(sizeof *t * (size_t)(n ? n : 1));
    bool *sl = malloc(sizeof *sl * (size_t)(n ? n : 1));
    bool ok = idx && t && sl;
    for (int i = 0, k = 1; ok && i < n; i++) idx[i == def ? 0 : k++] = i;   /* the default first */
    timing_cfg cfg = tune_timing(level, 0);
    cfg.reps = cfg.min_reps;   /* a screening round: its winners are timed again by the halving */
    ok = ok && time_round(c, idx, n, cfg, t, sl, NULL, NULL, NULL, NULL);
    for (int i = 0; ok && i < n; i++) st[idx[i]] = t[i], slow[idx[i]] = sl[i];
    free(idx);
    free(t);
    free(sl);
    return ok;
}

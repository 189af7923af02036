/* `latbench tune`: measures the kernel variants of each problem on this CPU and keeps the winners
 * in the tuning profile (arch/profile.h), in the manner of FFTW's wisdom.
 *
 * Per problem: every variant this CPU runs under the cap (LATBENCH_ISA) is first checked against
 * the scalar reference (a wrong one is never a candidate), then the survivors are timed interleaved
 * with the dispatch default (timing_interleaved: every repetition of every candidate in turn,
 * so all see the same machine noise), pruned by successive halving (the faster half by lower
 * quartile stays, with twice the repetitions; one clearly slower than the round's fastest, the
 * whole 99 % interval of their ratio above 1, leaves at once), and the last one is timed against
 * the default once more (not when none is left: the default stays).  The rule is the project's one statistical method (tools/stats/stats.h, as compare and
 * bisect use it): the ratio default / winner over the final round's repetitions, its Hodges-Lehmann
 * estimate and exact Mann-Whitney confidence bounds at TUNE_ALPHA each side (a 99 % interval); the
 * winner is kept only when the whole interval lies above 1 + TUNE_MIN_EFFECT (its lower bound
 * does), else the default is recorded as the choice.  Noise alone (two identical kernels under any
 * load) widens the interval around 1, so it makes a winner at most TUNE_ALPHA of the time; too few
 * repetitions for a bound keep the default.
 * spread (informational, in the profile) = the relative interquartile range (q3 - q1) / median of
 * the per-repetition ratios default / winner (repetition j of both ran back to back).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "arch/profile.h"
#include "kernels/chain1x1/chain1x1.h"
#include "kernels/conv2d/conv2d.h"
#include "lib/nn/netspec.h"
#include "tools/stats/stats.h"
#include "tools/timing/timing.h"

int cmd_tune(int argc, char **argv);

/* The keep-or-default rule: each bound of the interval of default / winner holds with probability
 * >= 1 - TUNE_ALPHA, and the lower one must exceed 1 + TUNE_MIN_EFFECT.  Stricter than compare's
 * 0.025: one tune run decides dozens of problems, and a variant no faster than the default must not
 * be kept in any of them (tests/test_tune_rule.c: identical kernels under heavy load kept 0.3 % of
 * the time, the former rule 3.7 %; a 2x faster one kept 81-99 %). */
#define TUNE_ALPHA 0.005
#define TUNE_MIN_EFFECT 0.02

/* The rule on the repetitions (seconds) of the default def[0..nd) and of the challenger
 * chal[0..nc): true when the challenger is kept; *ci gets the interval of default / challenger
 * (decidable false when the values were unusable or too few). */
bool tune_keeps(const double *def, int nd, const double *chal, int nc, stats_shift *ci);

/* The early drop of the halving: true when the candidate's repetitions cand[0..nc) are clearly
 * slower than those of a faster one, fast[0..nf): the whole interval of cand / fast at TUNE_ALPHA
 * each side above 1 (at the 5 repetitions of quick's first rounds: every repetition of cand slower
 * than every one of fast).  Such a candidate is not timed again: with probability >= 1 - TUNE_ALPHA
 * it is slower than another one, so not the one to keep (tests/test_tune_rule.c: identical kernels
 * under heavy load dropped 0.45 % of the time, a 2x slower one under moderate load 21 %, a 1.2x
 * slower one on a quiet machine always). */
bool tune_drops(const double *fast, int nf, const double *cand, int nc);

typedef enum { TUNE_QUICK = 0, TUNE_MEASURE, TUNE_PATIENT } tune_level;

/* The timing of one halving round at a level (the final round doubles reps and budget). */
timing_cfg tune_timing(tune_level level, int round);

/* One candidate of a problem: a variant's name and the sequence that times one call of it. */
typedef struct {
    const char *name;
    timing_seq seq;
} tune_cand;

typedef struct {
    int winner;                 /* index into the candidates: the chosen one (the default if none wins) */
    int challenger;             /* the last challenger (timed against the default), or -1 */
    timing_stats chosen, def;    /* the final round's times of the chosen one and of the default */
    timing_stats chal;           /* the final round's times of the challenger */
    const char *chal_name;      /* its variant's name (set by tune_worm, tune_conv), or NULL */
    char chal_label[96];        /* tune_conv: the challenger's variant and parameters (chal_name points here) */
    char params[96];            /* tune_conv: the winner's non-default parameters, " {fwd_m=8, bww_m=6}"; "" for none */
    double spread;              /* the relative IQR of the per-repetition ratios default / winner */
    stats_shift ci;             /* the final round's interval of default / challenger (the rule's) */
    int rounds;
    int cold_copies;            /* tune_conv cold: the copies of the operands rotated over (0: warm) */
    size_t cold_bytes;          /* and their total bytes */
} tune_outcome;

/* Successive halving over c[0..n), c[def] the dispatch default (always timed, never pruned), those
 * with skip[i] (skip may be NULL) left out, then the decision rule of the header.  A challenger
 * clearly slower than a round's fastest candidate (the whole 99 % interval of their ratio above 1)
 * leaves at once; when none is left, no final round is run, the default stays, and o reports the
 * last round with its fastest challenger.  False on an allocation failure of the timing. */
bool tune_halving(const tune_cand *c, int n, int def, const bool *skip, tune_level level, tune_outcome *o);
/* A screening round (round 0's timing at its minimum repetitions): c[0..n) timed interleaved, c[def]
 * the default; their statistics in st, and slow[i]: c[i] clearly slower than the round's fastest
 * (never the default), as tune_halving drops them. */
bool tune_screen(const tune_cand *c, int n, int def, tune_level level, timing_stats *st, bool *slow);

/* One worm problem: lattice nt x nx, mu, chains, at `threads` threads (eta 4.01, lambda 1: the
 * seed's).  Fills e (op, pass, problem, isa = the cap, threads, variant, times) and returns true;
 * false with a one-line reason in err.  o: the final round's statistics.  rejected: the variants that failed the bit-exactness check
 * (comma list, "" if none). */
typedef struct {
    int nt, nx, chains, threads;
    double mu;
} tune_worm_problem;
/* One conv2d layer problem and pass at `threads` threads, timed as lib/nn runs it (the batch
 * split among the threads; the same contract as tune_worm).  A variant
 * with tuning parameters is searched coordinate-wise: each parameter that acts on the pass alone
 * at each of its values (quick: at most TUNE_QUICK_VALUES of them, spread over its range; else
 * every value verify checks), all timed in one screening round with the variants; then the
 * combination of each parameter's best value (where faster than the variant's defaults) joins
 * the variants in the halving.  The winner's parameters go to e->params.
 * Cache state (tune_cache, --timing): cold, every timed call runs on the next of enough copies of the operands
 * its pass touches that they come from L3 or memory (tools/timing/cold.h), not from the caches the
 * previous call left them in; warm, the same buffers every call; auto, cold where the pass's
 * operands (one copy) exceed this core's L2 - a training step streams those through L3 or memory -
 * and warm where they fit: there the layer before has just written the input, and the step finds it
 * in L2 (cold timing of task3-eq1's 8x8 layers chose parameters that made its step 1.08-1.10x
 * slower).  e->cold records the timing used. */
#define TUNE_QUICK_VALUES 3
typedef enum { TUNE_CACHE_AUTO, TUNE_CACHE_COLD, TUNE_CACHE_WARM } tune_cache;
bool tune_conv(const conv2d_desc *d, lb_pass pass, int threads, tune_level level, tune_cache cache, lb_profile_entry *e,
               tune_outcome *o, char *rejected, size_t rlen, char *err, size_t errlen);
bool tune_worm(const tune_worm_problem *p, tune_level level, lb_profile_entry *e, tune_outcome *o, char *rejected,
               size_t rlen, char *err, size_t errlen);

/* One chain of 1x1 conv + lrelu layers of an inference model (kernels/chain1x1): d at the model's
 * batch (d.sites = n * ps), keyed by its descriptor (kernels/chain1x1/chain1x1_problem.h), timed at `threads`
 * threads as lib/nn runs it; candidates: the layers unfused (conv2d + lrelu one by one) and each
 * SIMD chain1x1 variant under the cap verified against the scalar reference, at its default tile
 * and the tiles verify checks (quick: TUNE_QUICK_VALUES of them); the model's default
 * (nn_chain_default_fused) is the one to beat.  The winner (variant "unfused", or a variant and its
 * tile) goes to e; the same contract as tune_conv. */
typedef struct {
    chain1x1_desc d;
    int n, threads;   /* the batch, split among the threads */
    size_t ps;        /* sites per sample */
} tune_chain_problem;
bool tune_chain(const tune_chain_problem *p, tune_level level, lb_profile_entry *e, tune_outcome *o, char *rejected,
                size_t rlen, char *err, size_t errlen);

/* One training step of a preset (forward, loss, backward; batch `batch`, the default kernels, at
 * `threads` threads) as lib/nn runs it, timed per layer and pass through the model's own per-layer
 * profile (lib/nn/model.h; a fused lrelu counts in its conv), three times after a warm-up, each
 * part's fastest kept: share[layer][pass] = that part / the sum of the parts (every layer and pass,
 * the input conversion, the loss).  The order of tune's conv search (tools/tune/tune_pipeline.c). */
typedef struct {
    int layers;
    double step_s;                                    /* seconds per step (the fastest) */
    double share[NETSPEC_MAX_LAYERS][LB_N_PASSES];    /* 0..1 */
} tune_step;
bool tune_step_shares(const char *net, int h, int w, int batch, int threads, tune_step *out, char *err, size_t errlen);

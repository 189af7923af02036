/* `latbench compare OLD.json NEW.json`: per benchmark, the change of the median time between two
 * result files, its spread and its significance over the repetitions (two-sided Mann-Whitney U
 * test on the per-repetition times), and a verdict.  Reads latbench bench JSON (records with a
 * "samples" array) and google-benchmark JSON (records with run_type "iteration", one per
 * repetition, as written with --benchmark_repetitions).
 *
 * A benchmark counts as a regression when its lower quartile grew by more than the threshold AND
 * the fastest halves of the two sets of repetitions differ significantly (p < alpha) AND even its
 * fastest repetition grew by more than half the threshold: load on a shared machine comes in
 * bursts that only ever add time, so it is the fastest repetitions that noise touches least.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Two-sided p-value of the Mann-Whitney U test for samples a[0..na) and b[0..nb): exact
 * distribution when there are no ties and na*nb is small, else the normal approximation with tie
 * and continuity corrections.  1 when either sample is empty. */
double mann_whitney_p(const double *a, int na, const double *b, int nb);


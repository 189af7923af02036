/* latbench gate's parts shared by its files: gate.c (the measurement, the check, the command) and
 * gate_expect.c (the expectation files: read, checked, written with each ratio's run-to-run spread). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "tools/bench/bench.h"
#include "tools/track/gate.h"
#include "tools/problems/problem.h"

#define GATE_MAX 32
#ifdef LB_NO_ONEDNN
#define GATE_HAS_ONEDNN false
#else
#define GATE_HAS_ONEDNN true
#endif

/* A sanitizer build's kernels are instrumented: its timings say nothing against expectations
 * recorded with an optimized build. */
#if defined(__SANITIZE_ADDRESS__)
#define GATE_INSTRUMENTED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GATE_INSTRUMENTED 1
#endif
#endif
#ifndef GATE_INSTRUMENTED
#define GATE_INSTRUMENTED 0
#endif
#define DEFAULT_TOLERANCE 2.0
#define OTHER_UARCH_TOLERANCE 3.5
/* ours/scalar gets this much more room than ours/oneDNN: when the other hardware thread of a core
 * (another VM's vCPU on a shared host) runs vector code, our AVX-512 kernels and oneDNN's lose up
 * to half their FMA throughput together while the scalar reference barely notices; ours/scalar
 * then moves by up to 2x (seen on the development VM), ours/oneDNN much less. */
#define SCALAR_EXTRA 1.5
/* The spread-derived threshold: K sigmas of the run-to-run noise of log(ratio) (11 problems x 2
 * ratios: at 4 sigmas a normal noise fails an unchanged build about once in 700 gate runs), and
 * never tighter than a 25 % step: sigma from consecutive runs misses the slow, process-level modes of
 * a ratio (measured on the Zen 5 VM: ours/scalar of a 2x2 32->8 conv sat at 0.091 for 60 runs, then at
 * 0.111 in every run 20 minutes later, 22 % up with the build unchanged). Steps below that are the
 * history's change points. */
#define GATE_K_SIGMA 4.0
#define GATE_MIN_STEP 0.25
#define GATE_MAX_RUNS 50

/* The number of gated layer problems (gate_problems.c's table), of gated fused 1x1 chains (the
 * chain1x1 op, which conv2d layer passes do not exercise), and of both: the chains come after the
 * layers in every list of names and results. */
#define GATE_N_PROBLEMS 11
#define GATE_N_CHAINS 2
#define GATE_N_ALL (GATE_N_PROBLEMS + GATE_N_CHAINS)

typedef struct {
    char name[GATE_NAME_LEN];
    double vs_scalar[2], vs_onednn[2];   /* ratio of lower quartiles, of medians (NAN: not measured) */
    int reps;
    bool chain;   /* a fused chain: vs_onednn holds ours/unfused (key "vs_unfused"), there is no oneDNN path */
} gate_result;

/* The key of a result's ratio k in the expectation files, or of its sigma: k 0 "vs_scalar"; k 1
 * "vs_onednn", or "vs_unfused" for a chain (ours / the chain's layers run unfused by our dispatched
 * conv2d + lrelu); with sigma, the same key + "_sigma". */
static inline const char *gate_ratio_key(int k, bool chain, bool sigma) {
    static const char *const keys[3][2] = {
        {"vs_scalar", "vs_scalar_sigma"}, {"vs_onednn", "vs_onednn_sigma"}, {"vs_unfused", "vs_unfused_sigma"}};
    return keys[k == 0 ? 0 : chain ? 2 : 1][sigma];
}

typedef struct {
    gate_result res[GATE_MAX];
    int n;
} gate_ctx;

/* One gated problem: a layer of a preset network at a lattice and batch (drawn from the one problem
 * list, tools/problems/netproblems.h), one pass. */
typedef struct {
    const char *net;
    int layer;        /* index in the spec */
    int h, w, batch;
    int pass;         /* lb_pass (pool: LB_PASS_FWD or LB_PASS_BWD_DATA) */
} gate_problem;

/* The gated problems (gate_problems.c). */
extern const gate_problem gate_problems[GATE_N_PROBLEMS];
/* A gated fused chain: seed net `net`'s chain of 1x1 layers at a lattice and batch, inference (the
 * chain1x1 op lib/nn runs in every inference of task1-eq and task1-st). */
typedef struct {
    const char *net;
    int h, w, batch;
} gate_chain;
extern const gate_chain gate_chains[GATE_N_CHAINS];
/* The gated layer as the one problem list makes it, and its label ("task1-eq:layer2"). */
bool gate_problem_desc(const gate_problem *p, prob_record *out, char *label, size_t len);
/* Every gated problem's name ("conv2d_fwd/mb32_..."), as the measurement hook reports it, then the
 * chains' ("chain1x1/task1-eq/mb32_ih8iw8"): names[GATE_N_ALL]. */
bool gate_problem_names(char names[][GATE_NAME_LEN], char *err, size_t errlen);
/* An entry's ratio (key "vs_scalar", "vs_onednn", or their "_sigma"), NAN when absent. */
double gate_expect_of(const gate_expect *e, const char *name, const char *key);
/* Writes the expectation file of runs[0..nruns) (each ratio's median over the runs and, from 3 runs,
 * its sigma) atomically; false after one line on stderr. */
bool gate_write_expect(const char *path, const bench_run *r, const gate_ctx *runs, int nruns, int reps);

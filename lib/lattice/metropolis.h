/* A conventional Metropolis simulation of the complex field φ_x at μ = 0, independent of the dual
 * variables (it shares no code with the worm sampler), to cross-check it (tests/test_worm_metropolis.c):
 *   S = Σ_x [ η|φ_x|² + λ|φ_x|⁴ - Σ_nu 2 Re(φ_x* φ_{x+nu}) ],   measure d²φ per site,
 * whose dual form is docs/design.md §2.2 at μ = 0.  Single-site updates φ -> φ + δ(a + ib), a, b uniform
 * in [-1, 1], `hits` per site per sweep, sites in index order; its own xorshift generator. */
#pragma once
#include <stdint.h>

typedef struct {
    int nt, nx;
    double eta, lambda;
    double delta;   /* proposal width */
    int hits;       /* updates per site per sweep */
    uint64_t seed;
} lat_metro_cfg;

/* therm sweeps, then `sweeps` sweeps each followed by a measurement of (1/V)Σ|φ|² into phi2[i] and
 * (1/V)Σ|φ|⁴ into phi4[i] (either may be NULL).  Returns the acceptance rate, or -1 on bad input. */
double lat_metro_run(const lat_metro_cfg *c, int therm, int sweeps, double *phi2, double *phi4);

/* The chain1x1 problem descriptor string, the key of the tuning profile's chain1x1 entries
 * (arch/profile.h), the model runtime's lookup (lib/nn) and the tools' names (verify, tune, bench):
 * "s480_c4-64-48-80_b111" (sites = batch x lattice sites, the channel list c[0..layers], one bias
 * flag per layer).  The slope is not part of it (the nets' LeakyReLU slope is one constant).  It lives
 * with the op's kernels, so that a change to it invalidates only the profile's chain1x1 entries. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "kernels/chain1x1/chain1x1.h"

/* A chain1x1 entry's variant saying "run the layers one by one" (conv2d + lrelu, no fused pass). */
#define LB_CHAIN1X1_UNFUSED "unfused"

/* Writes d's descriptor (d->params and d->slope are not part of it) into buf. */
void lb_chain1x1_problem_str(const chain1x1_desc *d, char *buf, size_t len);
/* Parses a descriptor into d (slope 0, params 0): false unless it is one, whole and valid. */
bool lb_chain1x1_problem_parse(const char *s, chain1x1_desc *d);
/* The profile's distance between two descriptors (arch/profile.h, lb_profile_choice): the same
 * channel list and bias flags only (-1 otherwise, or when either is no descriptor); then 10000 per
 * octave of the ratio of the site counts. */
long long lb_chain1x1_distance(const char *a, const char *b);

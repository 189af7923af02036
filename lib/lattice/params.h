/* Parsing of the command-line values shared by `latbench observe` and `latbench generate`. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many parameter points in one scan or dataset (eta x lambda x mu grid or --points). */
#define LAT_MAX_POINTS 100000

/* "60x4" -> NT = 60, NX = 4 (both >= 2, within LAT_LATTICE_MAX_DIM and LAT_LATTICE_MAX_VOLUME). */
bool lat_parse_lattice(const char *s, int *nt, int *nx, char *err, size_t errlen);

/* A comma list of numbers and ranges A:B:STEP (inclusive of B up to rounding; values rounded to
 * 12 decimals so 0.90:1.05:0.01 gives 0.93, not 0.9300000000000002).  *out is malloc'ed. */
bool lat_parse_values(const char *s, double **out, int *n, char *err, size_t errlen);

/* Integers: a comma list of integers and ranges A:B (step 1) or A:B:STEP.  *out is malloc'ed. */
bool lat_parse_ints(const char *s, int **out, int *n, char *err, size_t errlen);

/* The number of points of a grid with n[0] x n[1] x ... values, computed in 64 bits; false with a
 * one-line reason when it exceeds LAT_MAX_POINTS. */
bool lat_grid_points(const int *n, int k, int *np, char *err, size_t errlen);

/* One number; false for trailing junk, NaN, inf. */
bool lat_parse_double(const char *s, double *v);
/* One integer in [lo, hi]. */
bool lat_parse_long(const char *s, long lo, long hi, long *v);
bool lat_parse_u64(const char *s, uint64_t *v);

/* "--worms-per-sweep" value: "auto" (0, chosen by the sampler) or an integer in 1..2^24; false
 * with a one-line reason in err otherwise. */
bool lat_parse_worms_per_sweep(const char *v, long *wps, char *err, size_t errlen);

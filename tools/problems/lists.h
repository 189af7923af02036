/* The comma lists of the problem sweeps (--threads, --batch, --lattice of bench and bench --gbench),
 * parsed one way for both: an empty item, a sign or trailing text is refused, not skipped. */
#pragma once
#include <stdbool.h>

/* "a,b,c": at most max integers, each in [lo, hi]. */
bool prob_parse_int_list(const char *s, long lo, long hi, int max, int *out, int *n);
/* "8x8,64x64": at most max NTxNX lattices, each side 1..4096. */
bool prob_parse_lattice_list(const char *s, int max, int *h, int *w, int *n);
/* Whether a comma list has an empty item (",,", a leading or trailing comma), which strtok would
 * skip silently. */
bool prob_list_has_empty_item(const char *s);
/* One integer in [lo, hi], decimal, nothing after it. */
bool prob_parse_int_in(const char *s, long lo, long hi, int *out);

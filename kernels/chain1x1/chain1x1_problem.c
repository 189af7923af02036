/* The chain1x1 problem descriptor string (kernels/chain1x1/chain1x1_problem.h). */
#include "kernels/chain1x1/chain1x1_problem.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lb_chain1x1_problem_str(const chain1x1_desc *d, char *buf, size_t len) {
    int o = snprintf(buf, len, "s%zu_c%d", d->sites, d->c[0]);
    for (int l = 1; l <= d->layers && o > 0 && (size_t)o < len; l++) o += snprintf(buf + o, len - (size_t)o, "-%d", d->c[l]);
    for (int l = 0; l < d->layers && o > 0 && (size_t)o < len; l++) o += snprintf(buf + o, len - (size_t)o, "%s%d", l ? "" : "_b", d->bias[l]);
}

/* A decimal number without sign or leading zero at *s, at most max; advances *s. */
static bool number(const char **s, long long max, long long *v) {
    const char *p = *s;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9')) return false;
    long long x = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        if ((x = 10 * x + (*p - '0')) > max) return false;
    *s = p, *v = x;
    return true;
}

bool lb_chain1x1_problem_parse(const char *s, chain1x1_desc *d) {
    memset(d, 0, sizeof *d);
    long long v;
    if (*s++ != 's' || !number(&s, 1LL << 40, &v) || v < 1 || strncmp(s, "_c", 2)) return false;
    d->sites = (size_t)v, s += 2;
    int n = 0;
    for (;; s++) {
        if (n > CHAIN1X1_MAX_LAYERS || !number(&s, CHAIN1X1_MAX_C, &v) || v < 1) return false;
        d->c[n++] = (int)v;
        if (*s != '-') break;
    }
    d->layers = n - 1;
    if (strncmp(s, "_b", 2)) return false;
    s += 2;
    for (int l = 0; l < d->layers; l++, s++)
        if (*s != '0' && *s != '1') return false;
        else d->bias[l] = *s - '0';
    return !*s && chain1x1_valid(d);
}

long long lb_chain1x1_distance(const char *a, const char *b) {
    chain1x1_desc x, y;
    if (!lb_chain1x1_problem_parse(a, &x) || !lb_chain1x1_problem_parse(b, &y) || x.layers != y.layers) return -1;
    if (memcmp(x.c, y.c, sizeof x.c) || memcmp(x.bias, y.bias, sizeof x.bias)) return -1;
    const double d = 10000.0 * fabs(log2((double)x.sites / (double)y.sites));
    return d > 1e6 ? 1000000 : (long long)d;
}

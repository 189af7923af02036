#include "lib/lattice/params.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/lattice/lattice.h"

#define MAX_VALUES 100000

bool lat_parse_double(const char *s, double *v) {
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(d)) return false;
    *v = d;
    return true;
}

bool lat_parse_long(const char *s, long lo, long hi, long *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < lo || x > hi) return false;
    *v = x;
    return true;
}

bool lat_parse_u64(const char *s, uint64_t *v) {
    char *end;
    errno = 0;
    /* decimal (base 0 read "010" as octal 8: another seed than the one typed); 0x... stays hex */
    if (*s == '-' || *s == '+' || isspace((unsigned char)*s)) return false;
    const bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    unsigned long long x = strtoull(s, &end, hex ? 16 : 10);
    if (end == s || *end || errno) return false;
    *v = x;
    return true;
}

bool lat_parse_lattice(const char *s, int *nt, int *nx, char *err, size_t errlen) {
    const char *x = strchr(s, 'x');
    char a[32], b[32];
    long t, xx;
    if (!x || x == s || (size_t)(x - s) >= sizeof a || strlen(x + 1) >= sizeof b) goto bad;
    memcpy(a, s, x - s);
    a[x - s] = 0;
    strcpy(b, x + 1);
    if (!lat_parse_long(a, -1000000, 1000000, &t) || !lat_parse_long(b, -1000000, 1000000, &xx)) goto bad;
    if (t < 2 || xx < 2) {
        snprintf(err, errlen, "lattice %s: every dimension must be >= 2 (with 1 a link would join a site to itself)", s);
        return false;
    }
    if (t > LAT_LATTICE_MAX_DIM || xx > LAT_LATTICE_MAX_DIM || t * xx > LAT_LATTICE_MAX_VOLUME) {
        snprintf(err, errlen, "lattice %s is too large (at most %d per dimension and %d sites)", s, LAT_LATTICE_MAX_DIM,
                 LAT_LATTICE_MAX_VOLUME);
        return false;
    }
    *nt = (int)t, *nx = (int)xx;
    return true;
bad:
    snprintf(err, errlen, "lattice '%s' is not NTxNX (e.g. 60x4)", s);
    return false;
}

bool lat_grid_points(const int *n, int k, int *np, char *err, size_t errlen) {
    int64_t p = 1;
    for (int i = 0; i < k; i++)
        if (n[i] < 0 || __builtin_mul_overflow(p, (int64_t)n[i], &p) || p > LAT_MAX_POINTS) {
            snprintf(err, errlen, "the parameter lists give more than %d points (a grid has one per combination)",
                     LAT_MAX_POINTS);
            return false;
        }
    *np = (int)p;
    return true;
}

/* Splits s at commas and calls item() on each piece. */
static bool each_item(const char *s, bool (*item)(const char *, void *, char *, size_t), void *ctx, char *err,
                      size_t errlen) {
    size_t len = strlen(s);
    char *buf = malloc(len + 1);
    if (!buf) return snprintf(err, errlen, "out of memory"), false;
    memcpy(buf, s, len + 1);
    bool ok = len > 0;
    if (!ok) snprintf(err, errlen, "empty list");
    for (char *p = buf; ok;) {
        char *c = strchr(p, ',');
        if (c) *c = 0;
        ok = item(p, ctx, err, errlen);
        if (!c) break;
        p = c + 1;
    }
    free(buf);
    return ok;
}

typedef struct {
    double *v;
    int n, cap;
    bool ints; /* A:B means step 1 */
} dvec;

static bool dpush(dvec *d, double x, char *err, size_t errlen) {
    if (d->n == MAX_VALUES) return snprintf(err, errlen, "more than %d values", MAX_VALUES), false;
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 16;
        double *v = realloc(d->v, sizeof *v * cap);
        if (!v) return snprintf(err, errlen, "out of memory"), false;
        d->v = v, d->cap = cap;
    }
    d->v[d->n++] = x;
    return true;
}

/* Rounds to 12 decimals where that is representable (|x| * 1e12 below 2^52); larger values are
 * whole numbers of 1e-12 already, and x * 1e12 could overflow to inf. */
static double round12(double x) {
    const double y = x * 1e12;
    return fabs(y) < 0x1p52 ? round(y) / 1e12 : x;
}

static bool value_item(const char *p, void *ctx, char *err, size_t errlen) {
    dvec *d = ctx;
    char a[64], b[64], c[64];
    if (strlen(p) >= 64) return snprintf(err, errlen, "'%.40s...' is too long", p), false;
    int parts = 0;
    const char *q = p;
    char *dst[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        const char *e = strchr(q, ':');
        size_t n = e ? (size_t)(e - q) : strlen(q);
        memcpy(dst[i], q, n);
        dst[i][n] = 0;
        parts++;
        if (!e) break;
        q = e + 1;
        if (i == 2) return snprintf(err, errlen, "'%s' has too many ':'", p), false;
    }
    double lo, hi, step;
    if (parts == 1) {
        if (!lat_parse_double(a, &lo)) return snprintf(err, errlen, "'%s' is not a number", p), false;
        return dpush(d, lo, err, errlen);
    }
    if (parts == 2 && d->ints) strcpy(c, "1"), parts = 3;
    if (parts != 3 || !lat_parse_double(a, &lo) || !lat_parse_double(b, &hi) || !lat_parse_double(c, &step))
        return snprintf(err, errlen, "'%s' is not a number or a range A:B%s", p, d->ints ? "[:STEP]" : ":STEP"), false;
    if (!(step > 0) || hi < lo) return snprintf(err, errlen, "range '%s' needs STEP > 0 and B >= A", p), false;
    double count = floor((hi - lo) / step + 1e-9);
    if (count >= MAX_VALUES) return snprintf(err, errlen, "range '%s' has too many values", p), false;
    for (int i = 0; i <= (int)count; i++) {
        const double v = round12(lo + i * step);
        /* a step below the precision of the values would repeat points silently */
        if (i > 0 && !(v > d->v[d->n - 1]))
            return snprintf(err, errlen, "range '%s': STEP is below the precision of the values (repeated points)", p), false;
        if (!isfinite(v)) return snprintf(err, errlen, "range '%s' leaves the finite numbers", p), false;
        if (!dpush(d, v, err, errlen)) return false;
    }
    return true;
}

static bool parse_values(const char *s, bool ints, double **out, int *n, char *err, size_t errlen) {
    dvec d = {.ints = ints};
    if (!each_item(s, value_item, &d, err, errlen)) {
        free(d.v);
        return false;
    }
    *out = d.v, *n = d.n;
    return true;
}

bool lat_parse_values(const char *s, double **out, int *n, char *err, size_t errlen) {
    return parse_values(s, false, out, n, err, errlen);
}

bool lat_parse_ints(const char *s, int **out, int *n, char *err, size_t errlen) {
    double *v;
    int m;
    if (!parse_values(s, true, &v, &m, err, errlen)) return false;
    int *iv = malloc(sizeof(int) * (m ? m : 1));
    if (!iv) {
        free(v);
        return snprintf(err, errlen, "out of memory"), false;
    }
    for (int i = 0; i < m; i++) {
        if (v[i] != floor(v[i]) || fabs(v[i]) > 1e9) {
            snprintf(err, errlen, "'%s': %g is not an integer", s, v[i]);
            free(v), free(iv);
            return false;
        }
        iv[i] = (int)v[i];
    }
    free(v);
    *out = iv, *n = m;
    return true;
}

bool lat_parse_worms_per_sweep(const char *v, long *wps, char *err, size_t errlen) {
    if (!strcmp(v, "auto")) {
        *wps = 0;
        return true;
    }
    if (lat_parse_long(v, 1, 1 << 24, wps)) return true;
    snprintf(err, errlen, "--worms-per-sweep %s: expected auto or an integer >= 1", v);
    return false;
}

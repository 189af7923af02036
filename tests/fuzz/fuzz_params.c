/* Fuzz target: the command-line value parsers (lib/lattice/params.h).  The input is split at
 * NUL bytes into an argv; every word goes through every value parser (matching the options
 * themselves is tools/opts, fuzzed by fuzz_opts). */
#include "tests/fuzz/fuzz_util.h"
#include <math.h>
#include "lib/lattice/params.h"

#define MAX_ARGS 32

static void parse_values(const char *s) {
    char err[512];
    int nt, nx, n;
    double *v = NULL, d;
    int *iv = NULL;
    long l, wps;
    uint64_t u;
    if (lat_parse_lattice(s, &nt, &nx, err, sizeof err) && (nt < 2 || nx < 2)) abort();
    if (lat_parse_values(s, &v, &n, err, sizeof err)) {
        if (n < 1) abort();
        for (int i = 0; i < n; i++)
            if (!isfinite(v[i])) abort();
        free(v);
    }
    if (lat_parse_ints(s, &iv, &n, err, sizeof err)) {
        if (n < 1) abort();
        free(iv);
    }
    if (lat_parse_double(s, &d) && !isfinite(d)) abort();
    if (lat_parse_long(s, -1000, 1000, &l) && (l < -1000 || l > 1000)) abort();
    (void)lat_parse_u64(s, &u);
    if (lat_parse_worms_per_sweep(s, &wps, err, sizeof err) && (wps < 0 || wps > (1L << 24))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = "latbench";
    for (char *p = buf; argc < MAX_ARGS && p <= buf + size; p += strlen(p) + 1) argv[argc++] = p;
    argv[argc] = NULL;
    for (int i = 1; i < argc; i++) parse_values(argv[i]);
    free(buf);
    return 0;
}

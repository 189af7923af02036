/* Fuzz target: the option layer of every command (tools/opts).  The input is split at NUL bytes
 * into an argv; it walks through opts_next over a table with every kind of option, each value
 * through the number, duration, list and choice parsers; every word through the bare parsers. */
#include "tests/fuzz/fuzz_util.h"
#include <math.h>
#include "tools/opts/opts.h"

#define MAX_ARGS 32

static void parse_words(const char *s) {
    long l;
    double d;
    int list[8], n;
    if (opts_parse_long(s, -1000, 1000, &l) && (l < -1000 || l > 1000)) abort();
    if (opts_parse_double(s, 0, 1, &d) && !(d >= 0 && d <= 1)) abort();
    if (opts_parse_duration(s, &d) && !(isfinite(d) && d > 0)) abort();
    if (opts_parse_int_list(s, 1, 64, 8, list, &n)) {
        if (n < 1 || n > 8) abort();
        for (int i = 0; i < n; i++)
            if (list[i] < 1 || list[i] > 64) abort();
    }
}

static void walk(int argc, char **argv) {
    static const struct option lo[] = {{"runs", required_argument, NULL, 'r'}, {"alpha", required_argument, NULL, 256},
                                       {"budget", required_argument, NULL, 257}, {"batch", required_argument, NULL, 258},
                                       {"level", required_argument, NULL, 259}, {"verbose", no_argument, NULL, 'v'},
                                       OPTS_PROGRESS_LONGOPTS(260, 'q'), {0}};
    static const char *const levels[] = {"quick", "measure", "patient", NULL};
    for (int order = 0; order < 2; order++) {
        char *av[MAX_ARGS + 2];
        memcpy(av, argv, sizeof(char *) * (size_t)(argc + 1));
        opts_parser p;
        opts_init(&p, "fuzz", argc, av, lo, "r:vq", order != 0);
        int c, iv, list[8], n;
        double d;
        opts_progress pm;
        while ((c = opts_next(&p)) >= 0) {
            if ((c == 'r' || c >= 256) && !p.arg) abort();   /* a value option always has its value */
            if (c == 'r' && opts_int(&p, 1, 50, NULL, &iv) && (iv < 1 || iv > 50)) abort();
            if (c == 256 && opts_double(&p, 1e-12, 0.49, NULL, &d) && !(d > 0 && d <= 0.49)) abort();
            if (c == 257) (void)opts_duration(&p, &d);
            if (c == 258) (void)opts_int_list(&p, 1, 65536, 8, list, &n);
            if (c == 259) (void)opts_choice(&p, levels, &iv);
            if (c == 260 && opts_progress_parse(&p, &pm) && opts_progress_resolve(pm) == OPTS_PROGRESS_AUTO) abort();
        }
        int first = opts_first_operand(&p);
        if (first < 1 || first > argc) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *argv[MAX_ARGS + 2] = {"fuzz"};
    int argc = 1;
    for (size_t i = 0; i <= size && argc <= MAX_ARGS; i += strlen(buf + i) + 1) argv[argc++] = buf + i;
    argv[argc] = NULL;
    for (int i = 1; i < argc; i++) parse_words(argv[i]);
    FILE *saved = stderr;   /* the usage errors' lines are not the point here */
    FILE *null = fopen("/dev/null", "w");
    if (null) stderr = null;
    walk(argc, argv);
    if (null) stderr = saved, fclose(null);
    free(buf);
    return 0;
}

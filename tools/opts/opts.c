#include "tools/opts/opts.h"
#include "lib/lattice/params.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void opts_init(opts_parser *p, const char *cmd, int argc, char **argv, const struct option *longopts,
               const char *shortopts, bool in_order) {
    memset(p, 0, sizeof *p);
    p->cmd = cmd, p->argc = argc, p->argv = argv;
    int n = 0;
    for (; longopts && longopts[n].name && n < OPTS_MAX; n++) p->table[n] = longopts[n];
    p->table[n] = (struct option){"help", no_argument, NULL, 'h'};
    snprintf(p->shortopts, sizeof p->shortopts, "%s:h%s", in_order ? "+" : "", shortopts ? shortopts : "");
    optind = 0; /* GNU: a full reinitialisation (the commands run one after another in one process) */
    opterr = 0;
}

int opts_fail(const opts_parser *p, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "latbench %s: %s\n", p->cmd, msg);
    return 2;
}

/* The option as the user wrote it, without a "=value": for a message. */
static void spelled(const opts_parser *p, char *buf, size_t len) {
    const char *a = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "";
    if (!strncmp(a, "--", 2)) snprintf(buf, len, "%.*s", (int)strcspn(a, "="), a);
    else if (optopt > 0 && optopt < 256 && isprint(optopt)) snprintf(buf, len, "-%c", optopt);
    else snprintf(buf, len, "%.60s", a);
}

/* A long option named with a value it does not take: its table entry, else NULL. */
static const struct option *given_value(const opts_parser *p) {
    const char *a = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "";
    if (strncmp(a, "--", 2) || !strchr(a, '=')) return NULL;
    size_t len = strcspn(a + 2, "=");
    for (const struct option *o = p->table; o->name; o++)
        if (!strncmp(o->name, a + 2, len) && o->has_arg == no_argument) return o;
    return NULL;
}

int opts_next(opts_parser *p) {
    int idx = -1;
    p->arg = NULL;
    p->name[0] = 0;
    int c = getopt_long(p->argc, p->argv, p->shortopts, p->table, &idx);
    if (c == -1) return OPTS_END;
    if (c == 'h') return OPTS_HELP;
    const char *last = optind > 0 && optind <= p->argc ? p->argv[optind - 1] : "";
    if (c == '?' && !optopt && p->pass_prefix && !strncmp(last, p->pass_prefix, strlen(p->pass_prefix))) {
        p->arg = last;
        return OPTS_PASS;
    }
    if (c == '?' || c == ':') {
        spelled(p, p->name, sizeof p->name);
        const struct option *o = c == '?' && optopt ? given_value(p) : NULL;
        if (c == ':') opts_fail(p, "%s needs a value", p->name);
        else if (o) opts_fail(p, "--%s takes no value", o->name);
        else opts_fail(p, "unknown option '%s' (try latbench %s --help)", p->name, p->cmd);
        return OPTS_ERR;
    }
    if (idx >= 0) snprintf(p->name, sizeof p->name, "--%s", p->table[idx].name);
    else snprintf(p->name, sizeof p->name, "-%c", c);
    p->arg = optarg;
    return c;
}

int opts_first_operand(const opts_parser *p) { return optind < 1 ? 1 : optind > p->argc ? p->argc : optind; }

/* The library's number readers (lib/lattice/params.h), which strtol/strtod would let lead with blanks:
 * an option value does not. */
bool opts_parse_long(const char *s, long lo, long hi, long *out) {
    return s && *s && !isspace((unsigned char)*s) && lat_parse_long(s, lo, hi, out);
}

bool opts_parse_double(const char *s, double lo, double hi, double *out) {
    double v;
    if (!s || !*s || isspace((unsigned char)*s) || !lat_parse_double(s, &v) || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

bool opts_parse_duration(const char *s, double *seconds) {
    if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.')) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v <= 0) return false;
    const double unit = !*end                ? 1
                        : !strcmp(end, "s")  ? 1
                        : !strcmp(end, "ms") ? 1e-3
                        : !strcmp(end, "m")  ? 60
                        : !strcmp(end, "h")  ? 3600
                                             : 0;
    if (unit == 0 || !isfinite(v * unit)) return false;
    *seconds = v * unit;
    return true;
}

bool opts_parse_int_list(const char *s, long lo, long hi, int max, int *out, int *n) {
    if (!s || !*s || lo < -2147483647L || hi > 2147483647L) return false;
    int k = 0;
    for (const char *t = s;; t++) {
        size_t len = strcspn(t, ",");
        char item[32];
        long v;
        if (!len || len >= sizeof item || k == max) return false;
        memcpy(item, t, len), item[len] = 0;
        if (!opts_parse_long(item, lo, hi, &v)) return false;
        out[k++] = (int)v;
        t += len;
        if (!*t) break;
    }
    *n = k;
    return true;
}

static bool bad_value(opts_parser *p, const char *what, const char *range) {
    opts_fail(p, "%s: '%s' is not %s%s", p->name, p->arg ? p->arg : "", what, range);
    return false;
}

bool opts_long(opts_parser *p, long lo, long hi, const char *what, long *out) {
    if (opts_parse_long(p->arg, lo, hi, out)) return true;
    char range[80];
    snprintf(range, sizeof range, " in [%ld, %ld]", lo, hi);
    return bad_value(p, what ? what : "an integer", range);
}

bool opts_int(opts_parser *p, int lo, int hi, const char *what, int *out) {
    long v;
    if (!opts_long(p, lo, hi, what, &v)) return false;
    *out = (int)v;
    return true;
}

bool opts_double(opts_parser *p, double lo, double hi, const char *what, double *out) {
    if (opts_parse_double(p->arg, lo, hi, out)) return true;
    char range[80];
    snprintf(range, sizeof range, " in [%g, %g]", lo, hi);
    return bad_value(p, what ? what : "a number", range);
}

bool opts_duration(opts_parser *p, double *seconds) {
    return opts_parse_duration(p->arg, seconds) || bad_value(p, "a duration (90, 90s, 500ms, 5m, 1h)", "");
}

bool opts_int_list(opts_parser *p, long lo, long hi, int max, int *out, int *n) {
    if (opts_parse_int_list(p->arg, lo, hi, max, out, n)) return true;
    char range[96];
    snprintf(range, sizeof range, " of up to %d integers in [%ld, %ld]", max, lo, hi);
    return bad_value(p, "a comma list", range);
}

bool opts_choice(opts_parser *p, const char *const *names, int *out) {
    for (int i = 0; names[i]; i++)
        if (p->arg && !strcmp(p->arg, names[i])) return *out = i, true;
    char list[256] = "";
    for (int i = 0; names[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? (names[i + 1] ? ", " : " or ") : "", names[i]);
    return bad_value(p, "one of ", list);
}

bool opts_progress_parse(opts_parser *p, opts_progress *out) {
    static const char *const names[] = {"none", "auto", "bar", "lines", NULL};
    int i;
    if (!opts_choice(p, names, &i)) return false;
    *out = (opts_progress)i;
    return true;
}

opts_progress opts_progress_resolve(opts_progress m) {
    if (m != OPTS_PROGRESS_AUTO) return m;
    return isatty(STDERR_FILENO) ? OPTS_PROGRESS_BAR : OPTS_PROGRESS_LINES;
}

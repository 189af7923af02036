/* One argument layer for every command, over GNU getopt_long: `--opt value` and `--opt=value`,
 * short options where a command gives them, `--` ends the options, -h/--help, and one message form
 * for a usage error ("latbench CMD: --x needs a value", "latbench CMD: unknown option '--x' (try
 * latbench CMD --help)", "latbench CMD: --x: 'v' is not ...").  A usage error exits 2.
 * The room is the bottom of tools/: it includes nothing of the project. */
#pragma once
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#define OPTS_MAX 48          /* options in one command's table (--help is added) */
enum { OPTS_END = -1, OPTS_HELP = -2, OPTS_ERR = -3, OPTS_PASS = -4 };

typedef struct {
    const char *cmd;                   /* "verify": messages read "latbench verify: ..." */
    int argc;
    char **argv;
    struct option table[OPTS_MAX + 2]; /* the command's table, {"help", 'h'} and {0} */
    char shortopts[2 * OPTS_MAX + 4];  /* ":h" and the command's short options ("+" first: stop at an operand) */
    const char *arg;                   /* the value of the option opts_next returned (NULL: none) */
    char name[64];                     /* how it was spelled for messages: "--threads" or "-t" */
    const char *pass_prefix;           /* set after opts_init: an unknown long option starting with it
                                        * ("--benchmark_") is handed back whole as OPTS_PASS in arg */
} opts_parser;

/* Starts parsing argv[1..argc-1] (argv[0] is the command's name).  longopts ends with {0}; each
 * entry's flag is NULL and its val is what opts_next returns (a short option's letter or a value
 * above 255).  shortopts as getopt's (NULL: none); in_order: options stop at the first operand
 * (a command with subcommands), else options and operands may mix. */
void opts_init(opts_parser *p, const char *cmd, int argc, char **argv, const struct option *longopts,
               const char *shortopts, bool in_order);
/* The next option's val; OPTS_END when the options are over (operands from opts_first_operand),
 * OPTS_HELP for -h/--help (the command prints its usage on stdout, exit 0), OPTS_ERR after printing
 * the one-line usage error (exit 2), OPTS_PASS for an option of pass_prefix. */
int opts_next(opts_parser *p);
/* Index in argv of the first operand (after opts_next returned OPTS_END). */
int opts_first_operand(const opts_parser *p);

/* Prints "latbench CMD: " and the formatted rest on stderr; returns 2 (the usage-error status). */
int opts_fail(const opts_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The current option's value as a number; false after printing "latbench CMD: --x: 'v' is not ..."
 * (what: the thing it should be, e.g. "a run count"; NULL: "an integer"/"a number").  A value
 * outside [lo, hi] is refused. */
bool opts_long(opts_parser *p, long lo, long hi, const char *what, long *out);
bool opts_int(opts_parser *p, int lo, int hi, const char *what, int *out);
bool opts_double(opts_parser *p, double lo, double hi, const char *what, double *out);
/* A duration > 0 in seconds: "90", "90s", "500ms", "5m", "1h". */
bool opts_duration(opts_parser *p, double *seconds);
/* A comma list of up to max integers in [lo, hi] into out[], *n of them. */
bool opts_int_list(opts_parser *p, long lo, long hi, int max, int *out, int *n);
/* One of the NULL-terminated names: its index. */
bool opts_choice(opts_parser *p, const char *const *names, int *out);

/* Parsers without a command around them (the fuzz target calls them): false on a bad string. */
bool opts_parse_long(const char *s, long lo, long hi, long *out);
bool opts_parse_double(const char *s, double lo, double hi, double *out);
bool opts_parse_duration(const char *s, double *seconds);
bool opts_parse_int_list(const char *s, long lo, long hi, int max, int *out, int *n);

/* How a command shows progress: --progress=auto|bar|lines|none and --quiet (= none). */
/* The values are lib/lattice's lat_progress_mode's (the commands pass one to the other). */
typedef enum { OPTS_PROGRESS_NONE, OPTS_PROGRESS_AUTO, OPTS_PROGRESS_BAR, OPTS_PROGRESS_LINES } opts_progress;
#define OPTS_PROGRESS_LONGOPTS(VAL_PROGRESS, VAL_QUIET) \
    {"progress", required_argument, NULL, (VAL_PROGRESS)}, {"quiet", no_argument, NULL, (VAL_QUIET)}
bool opts_progress_parse(opts_parser *p, opts_progress *out);
/* auto resolved: a bar when stderr is a terminal, else lines. */
opts_progress opts_progress_resolve(opts_progress m);

/* `latbench history` (list, import, export, check) and `latbench bench`'s append of its run. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools/track/history.h"
#include "tools/opts/opts.h"
#include "tools/bench/bench.h"
#include "lib/io/atomic.h"
#include "lib/io/infile.h"

static int usage(FILE *f) {
    fprintf(f,
            "usage: latbench history [changes] [--machine M] [--filter S] [--since REF] [--threshold PCT] [--window N] [--json]\n"
            "       latbench history list [--machine M] [--filter S] [--json]\n"
            "       latbench history import FILE...\n"
            "       latbench history export [--out FILE]\n"
            "       latbench history check\n"
            "       latbench history replay [--machine M] [--filter S] [--steps PCT,...] [--within N,...] [--seed S] [--json]\n"
            "The benchmark history: every latbench bench run (unless --no-history) in one SQLite database,\n"
            "LATBENCH_HISTORY, else $XDG_DATA_HOME/latbench/history.sqlite, else ~/.local/share/latbench/history.sqlite.\n"
            "  changes   (the default) per series (machine, benchmark): its change points (E-Divisive means with a\n"
            "            permutation test, README \"History\"), each with the date and commit of the first run after\n"
            "            it, the medians before and after, the step and its p-value; the quantity is the median time\n"
            "            (ns, higher is slower) where the records have one, else the ratio vs oneDNN (higher is faster)\n"
            "            --since REF  runs from a date (YYYY-MM-DD) on, or after a commit's first run\n"
            "            --threshold PCT  a regression is a newest change point slower by more than PCT %% (default 3)\n"
            "            --window N  the newest N runs of each series (default 200, 0: all)\n"
            "            --alpha A, --perms N  the test's significance (0.01) and permutations (199)\n"
            "            then the newest-runs test: the newest 3..5 runs, every one beyond the median since the\n"
            "            newest change point by more than the series' noise (run-to-run MAD) allows, p <= 0.001,\n"
            "            add a change point at the first of them; a change of the gate's tuning profile is a\n"
            "            known break (the runs before it are left out, and the output says so)\n"
            "            exit 1 when the newest change point of any series is such a regression\n"
            "  list      per series (machine, benchmark): runs, first and last date, last commit\n"
            "            --machine M  only that machine slug   --filter S  names containing S   --json  a JSON array\n"
            "  import    bench / bench --gbench JSON files (results/<machine>/*.json) or export text; a run\n"
            "            already there (same machine, date, commit, command) is skipped\n"
            "  export    every run as line-oriented text (stdout, or --out FILE), which import reads back\n"
            "  check     SQLite's integrity check\n"
            "  replay    [--machine M] [--filter S] [--steps PCT,...] [--within N,...] [--threshold PCT] [--json]\n"
            "            the change-point rule replayed over the recorded series: a step of PCT %% injected at each\n"
            "            start, the runs until `changes` flags it; false alarms on the series as recorded (README\n"
            "            \"History\", \"How well change points catch a step\")\n"
            "exit: 0 done, 1 a regression (changes) or the store failed, 2 a usage error, an unreadable input or a file that is not a history\n");
    return f == stdout ? 0 : 2;
}

static hist_db *open_default(bool create) {
    char path[1024], err[1400];
    hist_db *db = NULL;
    if (hist_default_path(path, sizeof path, err, sizeof err)) db = hist_open(path, create, err, sizeof err);
    if (!db) fprintf(stderr, "latbench: %s\n", err);
    return db;
}

/* The whole of a (regular) file, NUL-terminated; NULL with err. */
static char *read_all(const char *path, size_t *len, char *err, size_t errlen) {
    off_t size;
    int fd = io_open_regular(path, &size, err, errlen);
    if (fd < 0) return NULL;
    char *buf = malloc((size_t)size + 1);
    size_t got = 0;
    while (buf && got < (size_t)size) {
        ssize_t n = read(fd, buf + got, (size_t)size - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != (size_t)size) {
        snprintf(err, errlen, "%s: cannot read it", path);
        free(buf);
        return NULL;
    }
    buf[got] = 0;
    *len = got;
    return buf;
}

/* One file: the export text when it starts with its magic line, else bench JSON. */
static int import_one(hist_db *db, const char *path) {
    char err[1400];
    size_t len;
    char *buf = read_all(path, &len, err, sizeof err);
    if (!buf) return fprintf(stderr, "latbench: %s\n", err), 2;
    bool text = !strncmp(buf, HIST_TEXT_MAGIC " ", strlen(HIST_TEXT_MAGIC) + 1), ok, added = false;
    int n = 0;
    if (text) ok = hist_import_text(db, buf, len, path, &n, err, sizeof err);
    else ok = hist_import_json(db, path, &n, &added, err, sizeof err);
    free(buf);
    if (!ok) return fprintf(stderr, "latbench: %s\n", err), strncmp(err, "history ", 8) ? 2 : 1;
    if (text) printf("%s: %d runs added\n", path, n);
    else if (added) printf("%s: %d records added\n", path, n);
    else printf("%s: already in the history\n", path);
    return 0;
}

static int cmd_import(int argc, char **argv) {
    if (argc < 2) return fprintf(stderr, "latbench: history import needs at least one file\n"), 2;
    hist_db *db = open_default(true);
    if (!db) return 2;
    int rc = 0;   /* every file is tried; the worst status (1: the store failed, then stop) */
    for (int i = 1; i < argc && rc != 1; i++) {
        int r = import_one(db, argv[i]);
        if (r == 1 || r > rc) rc = r;
    }
    hist_close(db);
    return rc;
}

static int export_to(hist_db *db, const char *out) {
    char err[1400];
    if (!out) {
        if (hist_export(db, stdout, err, sizeof err)) return 0;
        return fprintf(stderr, "latbench: %s\n", err), 1;
    }
    io_atomic_file af;
    if (!io_atomic_open(&af, out, 0, err, sizeof err)) return fprintf(stderr, "latbench: %s\n", err), 2;
    int fd = dup(af.fd);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    bool ok = f && hist_export(db, f, err, sizeof err);
    if (f && (fflush(f) != 0 || ferror(f))) ok = false, snprintf(err, sizeof err, "%s: %s", out, strerror(errno));
    if (f) fclose(f);
    else if (fd >= 0) close(fd);
    if (!ok) {
        io_atomic_abort(&af);
        return fprintf(stderr, "latbench: %s\n", err), 1;
    }
    if (!io_atomic_commit(&af, err, sizeof err)) return fprintf(stderr, "latbench: %s\n", err), 1;
    return 0;
}

static int cmd_export(int argc, char **argv) {
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *out = NULL;
    opts_parser p;
    opts_init(&p, "history export", argc, argv, longopts, "o:", false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return usage(stdout);
        if (c == OPTS_ERR) return 2;
        out = p.arg;
    }
    if (opts_first_operand(&p) < argc)
        return opts_fail(&p, "unexpected '%s' (try latbench history --help)", argv[opts_first_operand(&p)]);
    hist_db *db = open_default(false);
    if (!db) return 2;
    int rc = export_to(db, out);
    hist_close(db);
    return rc;
}

static int cmd_list(int argc, char **argv) {
    static const struct option longopts[] = {{"machine", required_argument, NULL, 'm'}, {"filter", required_argument, NULL, 'f'},
                                             {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {0}};
    const char *machine = NULL, *filter = NULL;
    bool json = false;
    opts_parser p;
    opts_init(&p, "history list", argc, argv, longopts, "m:f:j", false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return usage(stdout);
        if (c == OPTS_ERR) return 2;
        if (c == 'm') machine = p.arg;
        if (c == 'f') filter = p.arg;
        if (c == 'j') json = true;
    }
    if (opts_first_operand(&p) < argc)
        return opts_fail(&p, "unexpected '%s' (try latbench history --help)", argv[opts_first_operand(&p)]);
    hist_db *db = open_default(false);
    if (!db) return 2;
    char err[1400];
    bool ok = hist_list(db, machine, filter, json, stdout, err, sizeof err);
    if (!ok) fprintf(stderr, "latbench: %s\n", err);
    hist_close(db);
    return ok ? 0 : 1;
}

static bool changes_opt(opts_parser *p, int c, hist_changes_opts *o) {
    double v;
    switch (c) {
    case 'm': o->machine = p->arg; return true;
    case 'f': o->filter = p->arg; return true;
    case 's': o->since = p->arg; return true;
    case 'j': o->json = true; return true;
    case 't': return opts_double(p, 0, 1e6, "a percentage", &o->threshold);
    case 'w': return opts_double(p, 0, 1e7, "a run count", &v) && (o->window = (int)v, true);
    case 'a': return opts_double(p, 1e-6, 0.5, "an error level", &o->alpha);
    case 'p': return opts_double(p, 9, 1e5, "a permutation count", &v) && (o->perms = (int)v, true);
    default: return false;
    }
}

static int cmd_changes(int argc, char **argv) {
    static const struct option longopts[] = {{"machine", required_argument, NULL, 'm'}, {"filter", required_argument, NULL, 'f'},
                                             {"since", required_argument, NULL, 's'}, {"threshold", required_argument, NULL, 't'},
                                             {"window", required_argument, NULL, 'w'}, {"alpha", required_argument, NULL, 'a'},
                                             {"perms", required_argument, NULL, 'p'}, {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'}, {0}};
    hist_changes_opts o = {HIST_CHANGES_DEFAULTS};
    opts_parser p;
    opts_init(&p, "history", argc, argv, longopts, "m:f:s:t:w:a:p:j", false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) return usage(stdout);
        if (c == OPTS_ERR || !changes_opt(&p, c, &o)) return 2;
    }
    if (opts_first_operand(&p) < argc)
        return opts_fail(&p, "unexpected '%s' (try latbench history --help)", argv[opts_first_operand(&p)]);
    hist_db *db = open_default(false);
    if (!db) return 2;
    char err[1400];
    int regressions = 0;
    bool ok = hist_changes(db, &o, stdout, &regressions, err, sizeof err);
    hist_close(db);
    if (!ok) return fprintf(stderr, "latbench: %s\n", err), strncmp(err, "history --since", 15) ? 1 : 2;
    return regressions > 0;
}

static int cmd_check(void) {
    hist_db *db = open_default(false);
    if (!db) return 2;
    char err[1400];
    bool ok = hist_check(db, err, sizeof err);
    if (ok) printf("history: integrity ok\n");
    else fprintf(stderr, "latbench: %s\n", err);
    hist_close(db);
    return ok ? 0 : 1;
}

int cmd_history(int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : "changes";
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) return usage(stdout);
    if (sub[0] == '-' || argc == 1) return cmd_changes(argc, argv);   /* options of the default, changes */
    if (!strcmp(sub, "changes")) return cmd_changes(argc - 1, argv + 1);
    if (!strcmp(sub, "list")) return cmd_list(argc - 1, argv + 1);
    if (!strcmp(sub, "import")) return cmd_import(argc - 1, argv + 1);
    if (!strcmp(sub, "export")) return cmd_export(argc - 1, argv + 1);
    if (!strcmp(sub, "check") && argc == 2) return cmd_check();
    if (!strcmp(sub, "replay")) return hist_replay_main(argc - 1, argv + 1);
    fprintf(stderr, "latbench: history: unknown subcommand '%s' (try latbench history --help)\n", sub);
    return 2;
}

/* bench's JSON into the history; a failure is a warning, never a failed bench. */
static void append_bench_json(const char *path) {
    char hpath[1024], err[1400];
    int n = 0;
    bool added = false;
    hist_db *db = hist_open_default(hpath, sizeof hpath, err, sizeof err);
    if (db && hist_import_json(db, path, &n, &added, err, sizeof err))
        printf("history: %d records appended to %s\n", n, hpath);
    else
        fprintf(stderr, "latbench: warning: the run is not in the history: %s\n", err);
    hist_close(db);
}

/* argv without the front end's --no-history (malloc'd, NULL-terminated, *n entries); *record false
 * when it was there.  NULL (said) when out of memory. */
static char **without_no_history(int argc, char **argv, int *n, bool *record) {
    char **args = malloc(((size_t)argc + 1) * sizeof *args);
    if (!args) return fprintf(stderr, "latbench: out of memory\n"), NULL;
    *n = 0, *record = true;
    for (int i = 0; i < argc; i++)
        if (i > 0 && !strcmp(argv[i], "--no-history")) *record = false;
        else args[(*n)++] = argv[i];
    args[*n] = NULL;
    return args;
}

int cmd_bench_recorded(int argc, char **argv) {
    bool record;
    int n;
    char **args = without_no_history(argc, argv, &n, &record);
    if (!args) return 1;
    int rc = bench_command(n, args, record ? append_bench_json : NULL);
    for (int i = 1; i < n; i++)   /* bench's own --help does not know the front end's option */
        if (!strcmp(args[i], "-h") || !strcmp(args[i], "--help"))
            printf("  --no-history        do not append the run to the history (latbench history --help)\n");
    free(args);
    return rc;
}

/* Whether google-benchmark's arguments write a JSON file (--benchmark_out=FILE, format json, the
 * default); its path, else NULL. */
static const char *gbench_json_out(int argc, char **argv) {
    const char *out = NULL;
    bool json = true;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--benchmark_out=", 16)) out = argv[i] + 16;
        else if (!strncmp(argv[i], "--benchmark_out_format=", 23)) json = !strcmp(argv[i] + 23, "json");
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return NULL;
    }
    return json && out && *out ? out : NULL;
}

int cmd_gbench_recorded(int argc, char **argv, int (*gbench)(int, char **)) {
    bool record;
    int n;
    char **args = without_no_history(argc, argv, &n, &record);
    if (!args) return 1;
    const char *out = gbench_json_out(n, args);
    int rc = gbench(n, args);
    if (rc == 0 && record && out) append_bench_json(out);
    free(args);
    return rc;
}

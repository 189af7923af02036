/* The benchmark history: every bench (and gate) run's records in one SQLite database, kept outside
 * any clone so that the fresh clones a CI runner makes share it (README, "History").
 * history.c: the store (open and check, schema and migrations, append, list, export);
 * history_import.c: bench / google-benchmark JSON and the export text read back.
 * Every function returns false with one line in err ("history PATH: ...") on failure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "tools/track/changepoint.h"

/* The schema this binary writes; a database with a newer one is refused, an older one migrated. */
#define HIST_SCHEMA_VERSION 4
/* The first line of the export text (then one "run" line per run, one "rec" line per record), and
 * its format's version (apart from the schema's: the text did not change with the series table;
 * version 2 added the run's tuning profile, version 1 is still read). */
#define HIST_TEXT_MAGIC "latbench-history"
#define HIST_TEXT_VERSION 2

typedef struct hist_db hist_db;

/* A benchmark name of an earlier latbench in today's grammar (history_names.c; README "Benchmark
 * names"): "/real_time" dropped, "worm_sweep/" -> "worm/", a bare variant name as impl ->
 * "variant:<name>"; a current name is returned unchanged.  False when out is too short. */
bool hist_name_upgrade(const char *name, char *out, size_t len);

/* One run: where and how it was measured. */
typedef struct {
    char machine[128];    /* machine slug (results/<machine>/) */
    char cpu[256];        /* CPU identity: vendor, model, family/model id, microarchitecture */
    char commit[64];      /* git commit of the binary (with -dirty) */
    char flags[1024];     /* build flags */
    char compiler[128];
    char date[40];        /* ISO 8601, UTC */
    char command[16];     /* bench, gbench, gate */
    char threads[64];     /* the thread counts, "1,2" */
    char profile[64];     /* the tuning profile the run ran with: "profile:<hash>", "none", "off";
                             "" unknown (bench runs, imports, runs of schema 3 and before) */
} hist_run;

/* One record of a run; an absent value is NAN. */
typedef struct {
    const char *name;
    const double *reps;   /* the repetitions' times in ns (n_reps of them, may be 0) */
    int n_reps;
    double median, q1, q3;              /* ns */
    double ratio_onednn, ratio_scalar;  /* our speed relative to oneDNN / to the scalar reference */
    double gflops;
} hist_record;

/* The path: LATBENCH_HISTORY, else $XDG_DATA_HOME/latbench/history.sqlite, else
 * ~/.local/share/latbench/history.sqlite.  False (err) when neither XDG_DATA_HOME nor HOME is set. */
bool hist_default_path(char *out, size_t len, char *err, size_t errlen);

/* Opens (create: making it and its folder when missing) the history at path.  A file that is not a
 * latbench history (random bytes, another SQLite database, a truncated one, a newer schema) is
 * refused with "history PATH: not a latbench history (...)" and left untouched.  ":memory:" works. */
hist_db *hist_open(const char *path, bool create, char *err, size_t errlen);
void hist_close(hist_db *db);
/* hist_open(create) of hist_default_path; its path in path. */
hist_db *hist_open_default(char *path, size_t len, char *err, size_t errlen);

/* Appends one run and its records in one transaction.  *added is false (and nothing is written)
 * when the run (machine, date, commit, command) is already there. */
bool hist_append(hist_db *db, const hist_run *run, const hist_record *recs, size_t n, bool *added, char *err, size_t errlen);

/* Imports a bench / bench --gbench JSON file as one run; *n_recs its records (0 when it was there). */
bool hist_import_json(hist_db *db, const char *path, int *n_recs, bool *added, char *err, size_t errlen);
/* Imports the export text (buf, len bytes; name for messages); *n_runs the runs added. */
bool hist_import_text(hist_db *db, const char *buf, size_t len, const char *name, int *n_runs, char *err, size_t errlen);

/* Writes every run with its records as the export text, oldest first. */
bool hist_export(hist_db *db, FILE *f, char *err, size_t errlen);

/* Per series (machine, benchmark name): count, first and last date, last commit; machine and filter
 * (a substring of the name) may be NULL.  Text columns, or a JSON array when json. */
bool hist_list(hist_db *db, const char *machine, const char *filter, bool json, FILE *f, char *err, size_t errlen);

/* What `latbench history` looks at: the series of machine (NULL: all) whose name contains filter
 * (NULL: all), the runs since `since` (NULL: all; a date YYYY-MM-DD..., or a commit prefix: the runs
 * after its first one), the newest `window` values of each (0: all); the change-point test's alpha,
 * permutations, smallest segment, seed and newest-runs test (changepoint.h); threshold in percent. */
typedef struct {
    const char *machine, *filter, *since;
    int window;
    double threshold, alpha;
    int perms, min_size;
    unsigned long long seed;
    int tail;             /* the newest-runs test's run count (changepoint.h; 0: its default, -1: off) */
    double tail_alpha;    /* the newest-runs test's significance (0: its default) */
    bool json;
    /* When set, each series' values (oldest first, cut to the window) go to visit instead of the
     * change-point report (history replay); quantity 0: a time (higher is slower), 1 and 2: ratios
     * vs oneDNN and vs scalar (higher is faster). */
    void (*visit)(void *ctx, const char *machine, const char *name, int quantity, const double *x, int n);
    void *visit_ctx;
} hist_changes_opts;

/* `latbench history`'s defaults (history_main.c), which the dashboard judges its series with too. */
#define HIST_CHANGES_DEFAULTS .window = 200, .threshold = 3, .alpha = 0.01, .perms = 199, .min_size = 3, .seed = 1

/* One value of a series for hist_judge, oldest first: its quantities (median time, ratio vs oneDNN,
 * vs scalar; NAN: absent) and its run's tuning profile ("": not known). */
typedef struct {
    double v[3];
    const char *profile;
} hist_obs;

#define HIST_CP_MAX 64
#define HIST_BREAK_MAX 64

/* hist_judge's answer for one series. */
typedef struct {
    int quantity;         /* 0 the time, 1 the ratio vs oneDNN, 2 vs scalar (the first with the most
                             values, the time where it has any); -1: no values, nothing else set */
    int n_values;         /* values of that quantity (idx[0..n_values): their obs indices) */
    int from;             /* the first judged one (of idx): the window, and after the newest break */
    int dropped;          /* values before the newest break (inside the window), left out */
    const char *profile;  /* the newest known profile ("" none) */
    int breaks[HIST_BREAK_MAX], n_breaks;   /* known breaks (idx positions, oldest first, the newest kept
                             when there are more): a value whose profile and the previous known one are
                             both known and differ (an unknown profile breaks nothing) */
    hist_cp cp[HIST_CP_MAX];   /* the change points; cp[i].index counts from idx[from] */
    int k;
    bool regression;      /* the newest change point is one beyond the threshold (slower, lower ratio) */
} hist_verdict;

/* How `latbench history` judges one series: the statistical method stated once (README, "History"),
 * used by `history`, its replay and the dashboard.  obs[0..n); idx and x: room for n (filled with
 * the obs indices and values of the chosen quantity); find false: stop before the change points
 * (replay takes x[from..n_values)).  False when memory runs out. */
bool hist_judge(const hist_obs *obs, int n, const hist_changes_opts *o, bool find, int *idx, double *x, hist_verdict *v);

/* `latbench history replay`: the change-point rule replayed over the recorded series with injected
 * steps (tools/track/history_replay.c). */
int hist_replay_main(int argc, char **argv);

/* Per series: its quantity (the median time in ns, where its records have one, else the ratio vs
 * oneDNN, else vs the scalar reference), its change points (date and commit of the first run after
 * each, medians before and after, step, p-value).  Text: series with change points and a summary
 * line; json: every series.  *regressions: the series whose newest change point is a regression
 * beyond the threshold (slower time, lower ratio).  A bad since fails with "history --since ..." in err. */
bool hist_changes(hist_db *db, const hist_changes_opts *o, FILE *f, int *regressions, char *err, size_t errlen);

/* "PRAGMA integrity_check" says ok (for tests and `history check`). */
bool hist_check(hist_db *db, char *err, size_t errlen);

/* `latbench history` (history_main.c). */
int cmd_history(int argc, char **argv);
/* `latbench bench` that appends its JSON to the history (history_main.c); --no-history skips it. */
int cmd_bench_recorded(int argc, char **argv);
/* `latbench bench --gbench` (gbench: its command) that appends the JSON of --benchmark_out=FILE
 * (format json) to the history once it is written; --no-history skips it. */
int cmd_gbench_recorded(int argc, char **argv, int (*gbench)(int, char **));

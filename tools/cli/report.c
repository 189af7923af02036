/* latbench report RESULTS.json|DIR [--out DIR]: plots (PNG) of an experiment's results.json (the
 * file `latbench experiment` writes: test loss against lattice size per architecture, test loss
 * against mu, the seed-style summary table, the label distributions of the datasets it names), of a
 * benchmark result (`latbench bench` JSON: ours vs oneDNN per layer, roofline, pipelines vs
 * PyTorch), of a search's results.json (`latbench search`: best loss against trials, time per
 * trial, top trials beside the seed's winners) or of a dataset directory (meta.json, x.npy, y.npy:
 * the label distributions).  A directory holding results.json stands for that file.  Drawing is
 * done by tools/report/plot_experiment.py, plot_bench.py, plot_search.py or plot_dataset.py under
 * /usr/bin/python3 (matplotlib, numpy); this command checks the input, finds the script and runs
 * it.
 *
 * Finding a script, first match wins:
 *   1. $LATBENCH_SHARE/tools/report/<script>  (LATBENCH_SHARE: the source tree root; an error if
 *      set and the script is not there)
 *   2. walking up from the directory of the running binary (/proc/self/exe, symlinks resolved):
 *      the binary's own directory (./latbench at the tree root), then up to 4 parents
 *      (build/<name>/latbench -> ../..).
 *   3. the same walk for share/latbench/<script's file name> (an installed binary: PREFIX/bin/latbench,
 *      the scripts in PREFIX/share/latbench/, where `make install` puts them).
 * The interpreter is /usr/bin/python3 (Debian's, which has python3-matplotlib), or $LATBENCH_PYTHON.
 * The PNGs are written atomically (temporary name in DIR, then rename) into DIR, by default the
 * dataset directory or the directory of RESULTS.json (created when missing, and removed again when the plotting fails).
 * Exit status: 0 done, 2 bad usage or bad input (missing file, not JSON, neither kind of result, a
 * malformed record), 1 the plotting itself failed (no python/matplotlib, a write error). */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tools/cli/cli.h"
#include "tools/cli/nncli.h"
#include "tools/cli/report.h"
#include "tools/opts/opts.h"
#include "lib/io/srcfile.h"
#include "lib/lattice/params.h"

#define SCRIPT_EXPERIMENT "tools/report/plot_experiment.py"
#define SCRIPT_BENCH "tools/report/plot_bench.py"
#define SCRIPT_SEARCH "tools/report/plot_search.py"
#define SCRIPT_DATASET "tools/report/plot_dataset.py"

static int fail(const char *msg) { return nncli_fail("report", msg); }

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The plotting script's path into out (see the header); false with a message in err. */
static bool find_script(const char *rel, char *out, size_t outlen, char *err, size_t errlen) {
    const char *share = getenv("LATBENCH_SHARE");
    if (share && *share) {
        snprintf(out, outlen, "%s/%s", share, rel);
        if (is_file(out)) return true;
        snprintf(err, errlen, "LATBENCH_SHARE=%.900s holds no %s", share, rel);
        return false;
    }
    int found = io_find_near_binary(rel, out, outlen);
    if (found == 0) { /* an installed binary (make install): PREFIX/bin/latbench, the scripts in PREFIX/share/latbench/ */
        char inst[512];
        snprintf(inst, sizeof inst, "share/latbench/%s", strrchr(rel, '/') + 1);
        found = io_find_near_binary(inst, out, outlen);
    }
    if (found < 0) {
        snprintf(err, errlen, "cannot read /proc/self/exe; set LATBENCH_SHARE to the latbench source tree");
        return false;
    }
    if (found) return true;
    snprintf(err, errlen, "cannot find %s near the latbench binary; set LATBENCH_SHARE to the source tree", rel);
    return false;
}

/* Why root is not a `latbench search` results.json (tools/search/search_report.c: "trials", "top",
 * "seed_winners" lists), NULL when it is one. */
static const char *search_why(json_t *root) {
    if (!json_is_array(json_object_get(root, "top")) || !json_is_array(json_object_get(root, "seed_winners")))
        return "no \"top\"/\"seed_winners\" lists";
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(root, "trials"), i, t) {
        if (!json_is_integer(json_object_get(t, "number")) || !json_is_string(json_object_get(t, "state")))
            return "a \"trials\" entry lacks number/state";
    }
    return NULL;
}

/* Why root is not an experiment's results.json, NULL when it is one. */
static const char *experiment_why(json_t *root) {
    json_t *archs = json_object_get(root, "archs"), *lats = json_object_get(root, "test_lattices");
    if (!json_is_string(json_object_get(root, "task"))) return "no \"task\"";
    if (!json_is_string(json_object_get(root, "train_lattice"))) return "no \"train_lattice\"";
    if (!json_is_array(lats) || json_array_size(lats) == 0) return "no \"test_lattices\" list";
    if (!json_is_array(archs) || json_array_size(archs) == 0) return "no \"archs\" list";
    size_t i;
    json_t *a;
    json_array_foreach(archs, i, a) {
        if (!json_is_string(json_object_get(a, "arch")) || !json_is_array(json_object_get(a, "trials")) ||
            !json_is_object(json_object_get(a, "summary")))
            return "an \"archs\" entry lacks arch/trials/summary";
    }
    json_t *data = json_object_get(root, "datasets"), *d; /* absent in runs written before it was recorded */
    if (data && !json_is_array(data)) return "\"datasets\" is not a list";
    json_array_foreach(data, i, d) {
        if (!json_is_string(json_object_get(d, "role")) || !json_is_string(json_object_get(d, "dir")))
            return "a \"datasets\" entry lacks role/dir";
    }
    return NULL;
}

bool report_check_kind(const char *path, report_kind *kind, char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen, "%.900s: not JSON (line %d: %.200s)", path, je.line, je.text);
        return false;
    }
    const char *why = NULL;
    if (json_is_array(json_object_get(root, "benchmarks"))) *kind = REPORT_BENCH;
    else if (!json_is_object(root)) why = "not a JSON object";
    else if (json_is_array(json_object_get(root, "trials")) && !json_object_get(root, "archs")) {
        *kind = REPORT_SEARCH;
        if ((why = search_why(root))) {
            json_decref(root);
            snprintf(err, errlen, "%.900s: not a latbench search results.json (%s)", path, why);
            return false;
        }
    } else if (!(why = experiment_why(root))) *kind = REPORT_EXPERIMENT;
    json_decref(root);
    if (why) {
        snprintf(err, errlen, "%.900s: neither an experiment's results.json (%s) nor a benchmark result (no \"benchmarks\")", path, why);
        return false;
    }
    return true;
}

bool report_check_results(const char *path, bool *is_bench, char *err, size_t errlen) {
    report_kind k = REPORT_EXPERIMENT;
    bool ok = report_check_kind(path, &k, err, errlen);
    *is_bench = ok && k == REPORT_BENCH;
    return ok;
}

bool report_check_meta(const char *path, char *err, size_t errlen) {
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    if (!m) return snprintf(err, errlen, "%.900s: not JSON (line %d: %.200s)", path, je.line, je.text), false;
    const char *fmt = json_string_value(json_object_get(m, "format")), *task = json_string_value(json_object_get(m, "task"));
    json_t *lat = json_object_get(m, "lattice");
    const char *why = NULL;
    if (!fmt || strncmp(fmt, "latbench-dataset", 16)) why = "no \"format\": \"latbench-dataset-1\"";
    else if (!task || (strcmp(task, "regression") && strcmp(task, "detect") && strcmp(task, "count")))
        why = "no \"task\" regression/detect/count";
    else if (!json_is_array(lat) || json_array_size(lat) != 2 || !json_is_integer(json_array_get(lat, 0)) ||
             !json_is_integer(json_array_get(lat, 1)))
        why = "no \"lattice\": [NT, NX]";
    else if (!json_is_integer(json_object_get(m, "count")) || json_integer_value(json_object_get(m, "count")) < 1)
        why = "no positive \"count\"";
    else if (!json_is_array(json_object_get(m, "points")) || !json_array_size(json_object_get(m, "points")))
        why = "no \"points\" list";
    json_decref(m);
    if (why) return snprintf(err, errlen, "%.900s: not a latbench dataset's meta.json (%s)", path, why), false;
    return true;
}

/* A directory: DIR/meta.json (a dataset) or DIR/results.json (an experiment or a search); its file
 * into file.  A file: itself.  False with the one line in err. */
static bool resolve_input(const char *in, report_kind *kind, char *file, size_t flen, char *err, size_t errlen) {
    if (!is_dir(in)) {
        if (!is_file(in)) return snprintf(err, errlen, "%.900s: no such file", in), false;
        snprintf(file, flen, "%s", in);
        return report_check_kind(file, kind, err, errlen);
    }
    snprintf(file, flen, "%s/meta.json", in);
    if (is_file(file)) {
        *kind = REPORT_DATASET;
        return report_check_meta(file, err, errlen) && (snprintf(file, flen, "%s", in), true);
    }
    snprintf(file, flen, "%s/results.json", in);
    if (is_file(file)) return report_check_kind(file, kind, err, errlen);
    snprintf(err, errlen, "%.900s: neither a dataset directory (no meta.json) nor a results directory (no results.json)", in);
    return false;
}

/* DIR for the plots: an existing directory this process can write into, or one it creates (only
 * when the parent is writable: *created tells the caller to remove it again after a failure).
 * False with the real reason (EROFS, EACCES, ENOSPC...) in err. */
static bool prepare_outdir(const char *out, bool *created, char *err, size_t errlen) {
    *created = false;
    if (!is_dir(out)) {
        if (mkdir(out, 0755) != 0) {
            int e = errno;
            if (e != EEXIST || !is_dir(out)) {
                snprintf(err, errlen, "--out %.900s: cannot create the directory: %s", out,
                         e == EEXIST ? "a file of that name exists" : strerror(e));
                return false;
            }
        } else {
            *created = true;
        }
    }
    if (access(out, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "--out %.900s: cannot write into the directory: %s", out, strerror(errno));
        if (*created) rmdir(out), *created = false;
        return false;
    }
    return true;
}

/* Runs PYTHON SCRIPT IN --out OUT [--jobs JOBS, when given] and maps its exit status: 0 done, 2 bad input, 3 failed (the script
 * printed its one line for both); anything else (an interpreter that is not Python 3, a crash, a
 * traceback) is a failure that err names.  Returns the command's exit status. */
static int run_script(const char *script, const char *in, const char *out, const char *jobs, char *err, size_t errlen) {
    err[0] = 0;
    const char *py = getenv("LATBENCH_PYTHON");
    bool from_env = py && *py;
    if (!from_env) py = "/usr/bin/python3";
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return snprintf(err, errlen, "fork: %s", strerror(errno)), 1;
    if (pid == 0) {
        char *const args[] = {(char *)py, (char *)script, (char *)in, (char *)"--out", (char *)out,
                              jobs ? (char *)"--jobs" : NULL, (char *)jobs, NULL};
        execvp(py, args); /* a bare name in $LATBENCH_PYTHON is looked up in PATH */
        fprintf(stderr, "latbench report: cannot run the Python interpreter %s%s: %s\n", py,
                from_env ? " (from LATBENCH_PYTHON)" : "", strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return snprintf(err, errlen, "waitpid: %s", strerror(errno)), 1;
    const char *who = from_env ? " (from LATBENCH_PYTHON)" : "";
    if (WIFSIGNALED(st))
        return snprintf(err, errlen, "the Python interpreter %.900s%s was killed by signal %d running %.900s", py, who,
                        WTERMSIG(st), script), 1;
    int rc = WEXITSTATUS(st);
    if (rc == 0 || rc == 2) return rc;
    if (rc == 3 || rc == 127) return 1; /* the script (or the child above) said why */
    snprintf(err, errlen, "the Python interpreter %.900s%s failed (exit status %d) running %.900s", py, who, rc, script);
    return 1;
}

static void usage(void) {
    printf("usage: latbench report RESULTS.json|DIR [--out DIR] [--jobs N]\n"
           "  PNG plots of an experiment's results.json (from `latbench experiment`): test loss vs lattice size\n"
           "  per architecture, test loss vs mu (per-point losses; a --train-mu study shades its training range and\n"
           "  marks the onset), the summary table (PNG and markdown) and the label distributions of each dataset\n"
           "  its results.json names (report_dataset_<NAME>_*; a removed one is a note); of a benchmark result\n"
           "  (`latbench bench` JSON): ours vs oneDNN per layer, a roofline under the measured FMA peak and memory\n"
           "  bandwidth, pipelines vs PyTorch, and the tables behind them; of a search's results.json\n"
           "  (`latbench search`): best loss against trials (pruned marked), time per trial, the top trials'\n"
           "  parameter counts beside the seed's winners.  DIR: a dataset directory (`latbench generate`, an\n"
           "  experiment's cache: meta.json, x.npy, y.npy): the label distributions per mu (regression, detect)\n"
           "  or per lattice (count, log histogram) and a table of count/mean/std/min/max per label; or a\n"
           "  directory holding results.json.\n"
           "  --out DIR defaults to the dataset directory or the directory of RESULTS.json.\n"
           "  --jobs N (default 1): an experiment's figures drawn by up to N processes (the same files; `latbench\n"
           "  experiment` of several ranks passes its rank count).\n"
           "  Runs the scripts in tools/report/ with /usr/bin/python3 (matplotlib, numpy); they are found\n"
           "  through $LATBENCH_SHARE (the source tree root) or next to the binary; $LATBENCH_PYTHON overrides\n"
           "  python.\n");
}

int cmd_report(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    long jobs = 1;
    char err[2048];
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'}, {"jobs", required_argument, NULL, 'j'}, {0}};
    opts_parser p;
    opts_init(&p, "report", argc, argv, longopts, NULL, false);
    for (int c; (c = opts_next(&p)) != OPTS_END;) {
        if (c == OPTS_HELP) {
            usage();
            return 0;
        }
        if (c == OPTS_ERR) return 2;
        if (c == 'o') out = p.arg;
        if (c == 'j' && !opts_long(&p, 1, 4096, "a process count", &jobs)) return 2;
    }
    int first = opts_first_operand(&p);
    if (argc - first > 1) return snprintf(err, sizeof err, "unexpected argument '%.900s' (try --help)", argv[first + 1]), fail(err);
    if (argc - first == 1) in = argv[first];
    if (!in) return fail("usage: latbench report RESULTS.json|DIR [--out DIR] (try --help)");
    char file[PATH_MAX];
    report_kind kind = REPORT_EXPERIMENT;
    if (!resolve_input(in, &kind, file, sizeof file, err, sizeof err)) return fail(err);
    static const char *const scripts[] = {[REPORT_EXPERIMENT] = SCRIPT_EXPERIMENT, [REPORT_BENCH] = SCRIPT_BENCH,
                                          [REPORT_SEARCH] = SCRIPT_SEARCH, [REPORT_DATASET] = SCRIPT_DATASET};
    char script[PATH_MAX + 64];
    if (!find_script(scripts[kind], script, sizeof script, err, sizeof err)) return fail(err), 1;
    char outdef[PATH_MAX];
    if (!out && kind == REPORT_DATASET) out = in;
    if (!out) {
        snprintf(outdef, sizeof outdef, "%s", file);
        char *slash = strrchr(outdef, '/');
        if (!slash) snprintf(outdef, sizeof outdef, ".");
        else if (slash == outdef) outdef[1] = 0;
        else *slash = 0;
        out = outdef;
    }
    bool created = false;
    if (!prepare_outdir(out, &created, err, sizeof err)) return fail(err), 1;
    /* only the experiment's script draws in parts: the others take no --jobs */
    char jtext[24];
    snprintf(jtext, sizeof jtext, "%ld", jobs);
    int rc = run_script(script, file, out, kind == REPORT_EXPERIMENT && jobs > 1 ? jtext : NULL, err, sizeof err);
    /* a directory this run made and nothing landed in (the plotting failed) goes again */
    if (rc != 0 && created) rmdir(out);
    if (rc != 0 && err[0]) fail(err);
    return rc;
}

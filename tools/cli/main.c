#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "tools/cli/cli.h"
#include "arch/profile.h"
#include "arch/build_info.h"
#include "arch/registry.h"
#include "tools/baseline/onednn_ops.h"
#include "tools/gbench/gbench_kernels.h"
#include "tools/mpi/ranks.h"
#include "tools/track/bisect.h"
#include "tools/track/dashboard.h"
#include "tools/track/history.h"
#include "tools/tune/tune.h"

/* `bench --gbench ...` is the google-benchmark harness (tools/gbench), which itself builds on
 * bench's timed steps: the front end routes it, so bench does not depend on gbench. */
static int cmd_bench_or_gbench(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--gbench")) return cmd_gbench_recorded(argc - 1, argv + 1, cmd_gbench);
    return cmd_bench_recorded(argc, argv);
}

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"info", cmd_info, "CPU, ISA features, selected kernels, topology, pinning, counter backends"},
    {"verify", cmd_verify, "every kernel variant vs oneDNN and vs the scalar reference"},
    {"bench", cmd_bench_or_gbench, "kernels and pipelines timed side by side with oneDNN, the scalar reference and PyTorch"},
    {"observe", cmd_observe, "worm sampler: <n>, <|phi|^2> with errors, tau_int, acceptance (a --mu scan)"},
    {"generate", cmd_generate, "datasets of the three tasks (x.npy, y.npy, meta.json)"},
    {"model", cmd_model, "layers, output shapes and parameter count of a preset, spec file or trained model"},
    {"train", cmd_train, "train a net on a dataset (AdamW, early stopping, trials); writes safetensors"},
    {"eval", cmd_eval, "loss (and accuracy) of a trained model on datasets"},
    {"experiment", cmd_experiment, "the paper's study end to end: datasets, training over trials, evaluation grid"},
    {"search", cmd_search, "architecture search (TPE, median pruning, SQLite study): the best nets of a task and family"},
    {"compare", cmd_compare, "two result files side by side: median change, spread, significance; exit 1 on regression"},
    {"tune", cmd_tune, "measures the kernel variants per problem on this CPU and writes the tuning profile"},
    {"gate", cmd_gate, "CI regression gate: in-process speed ratios vs committed expectations"},
    {"bisect", cmd_bisect, "the first commit of GOOD..BAD whose gate ratios moved (builds in a temporary worktree)"},
    {"history", cmd_history, "the benchmark history (SQLite): list its series, import results, export as text"},
    {"dashboard", cmd_dashboard, "the history as one static HTML page: time series, change points, filters (offline)"},
    {"report", cmd_report, "PNG plots and tables of an experiment, a benchmark result, a search or a dataset"},
    {"run", cmd_run, "the main job on built-in defaults (what `make run` calls)"},
};

static int usage(FILE *f) {
    fprintf(f, "usage: latbench COMMAND [options]      (latbench COMMAND --help; latbench --version)\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "environment: LATBENCH_ISA=scalar|avx2|avx512|neon caps the kernels, LATBENCH_VERBOSE=1 prints the choice,\n"
               "  LATBENCH_PROFILE=FILE|off picks the tuning profile (README, \"Tuning profile\")\n");
    return f == stdout ? 0 : 2;
}

/* A command's output that could not be written (a full disk, a closed pipe's EPIPE, /dev/full) is a
 * failure: report it once and exit 1, whatever the command returned (a failure status is kept).
 * errno is only known when this final flush fails; an earlier failed flush leaves just the error flag. */
static int check_stdout(int rc) {
    errno = 0;
    bool bad = fflush(stdout) != 0;
    int e = errno;
    bad |= ferror(stdout) != 0;
    if (fclose(stdout) != 0 && !bad) bad = true, e = errno;
    if (!bad) return rc;
    if (e) fprintf(stderr, "latbench: error writing standard output: %s\n", strerror(e));
    else fprintf(stderr, "latbench: error writing standard output\n");
    return rc ? rc : 1;
}

static int run_command(int argc, char **argv);

/* This CPU's tuning profile (arch/profile.h). */
static int profile_startup(void) {
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    return lb_profile_startup(&cpu, lb_cpu_cores());
}

/* latbench --version: what a bug report needs - the commit, the compiler and flags, the kernel
 * variants compiled in, and the oneDNN it links. */
static int version(void) {
    printf("latbench %s (commit %s)\n", lb_build_version(), lb_build_commit());
    printf("compiler: %s\n", lb_build_compiler());
    printf("flags: %s\n", lb_build_flags());
    const lb_dispatch *d = lb_dispatch_get();
    printf("isa cap here: %s; compiled variants (+ runs here, - does not):\n", lb_isa_name(d->cap));
    lb_variants_print(&d->cpu, stdout);
    char dnnl[128];
    odnn_version_str(dnnl, sizeof dnnl);
    printf("oneDNN: %s\n", dnnl);
    char mpi[256];
    bool built = ranks_built(mpi, sizeof mpi);
    printf("MPI: %s%s", built ? "built in, " : "", mpi);
    printf("; this run: %d rank(s)\n", ranks_world()->size);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage(stderr);
    /* under mpirun: MPI_Init (tools/mpi/ranks.h); a plain run never touches MPI */
    char err[512];
    if (!ranks_init(&argc, &argv, err, sizeof err)) return fprintf(stderr, "latbench: %s\n", err), 2;
    int rc = run_command(argc, argv);
    ranks_finalize();
    return rc;
}

static int run_command(int argc, char **argv) {
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) return check_stdout(version());
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) return check_stdout(usage(stdout));
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            /* the environment (LATBENCH_PROFILE, LATBENCH_ISA, LATBENCH_TEST_SLOWDOWN, OMP_NUM_THREADS)
             * is checked before any command runs: some reach their first parallel region before any
             * kernel.  The tuning profile first: dispatch applies it. */
            if (profile_startup() != 0) return 2;
            lb_dispatch_get();
            return check_stdout(commands[i].fn(argc - 1, argv + 1));
        }
    fprintf(stderr, "latbench: unknown command '%s' (try 'latbench help')\n", argv[1]);
    return 2;
}

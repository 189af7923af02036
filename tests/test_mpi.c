/* MPI runs of `latbench experiment` (tools/mpi, tools/experiment/spread.c): a run without mpirun is one
 * rank; `mpirun -n 2` and `-n 3` of a tiny training-set size study (2 sizes x 3 nets x 2 trials, 2
 * epochs, 1 thread per rank; ASan: 1 size, -n 2 only) write results.json byte for byte as the 1-rank
 * run does; a failing rank ends the run non-zero with a line naming its rank and host, and no results.json is written. With
 * no mpirun, or a latbench built without MPI, the test says so (NOTE) and checks what still holds
 * there: mpirun of an MPI=0 build is refused with one line. 15-25 s in release, ~1 min in ASan.
 * bench: `mpirun -n 2 latbench bench` of one small kernel writes one JSON with 2 nodes (each its
 * context, rank slice and rows) and `info` under mpirun names each rank's slice (+5-10 s in release,
 * STREAM capped at 64 MiB as tests/run.sh does).
 * `mpirun latbench search`: -n 2 and -n 3 (ASan: -n 2 only) runs of a tiny search (count, 300
 * samples, 3 epochs, 1 thread) hold exactly their trials, numbered without gaps; the top-K spec files
 * load; a study resumes with another rank count; a failing rank ends the run, naming itself, and
 * leaves a valid study and no spec files. About 10 s in release.
 * A plain experiment that makes its 4 datasets inside the run, 1 rank vs `mpirun -n 2`: results.json and
 * every dataset the same bytes, and with `-n 3` (ASan: not run); a dataset of other settings in the way
 * refused on rank 0 (~6-10 s). */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "tests/test_util.h"

static char tmp[128];
static cli_result R;

/* The study every run makes (datasets reused from the 1-rank run's copy); under ASan (several times
 * slower) one size, and -n 3 left out (said with a NOTE). */
#if defined(__SANITIZE_ADDRESS__)
#define SIZES "100"
#define SANITIZED 1
#else
#define SIZES "50,100"
#define SANITIZED 0
#endif
#define STUDY "experiment regression --quick --train-sizes " SIZES " --trials 2 --epochs 2 --train-count 100 " \
              "--test-count 13 --therm 8 --threads 1 --seed 5 --quiet"
/* mpirun on this machine: as root too, more ranks than cores, a waiting rank yields its core (else it
 * spins, slowing the ranks that work); LeakSanitizer off (Open MPI's own allocations at exit are not ours) */
#define MPIRUN "ASAN_OPTIONS=detect_leaks=0 LATBENCH_SHARE=/nonexistent mpirun --allow-run-as-root --oversubscribe " \
               "--mca mpi_yield_when_idle 1"

static int setup(void **group) { return test_tmpdir_make(tmp, sizeof tmp, "latbench-mpi-"); }
static int teardown(void **group) { return test_tmpdir_remove(tmp); }

/* Whether mpirun is here and the binary has MPI built in; a NOTE line when not. */
static bool mpi_ready(const char *what) {
    if (cli_emulated()) return print_message("NOTE %s: not run under emulation (the cross build has no MPI)\n", what), false;
    cli_sh(&R, "command -v mpirun");
    if (R.status != 0) return print_message("NOTE %s: NOT RUN: no mpirun (toolchain/install-deps.sh installs openmpi-bin)\n", what), false;
    cli_latbench(&R, NULL, "--version");
    if (!strstr(R.out, "MPI: built in"))
        return print_message("NOTE %s: NOT RUN: this latbench is built without MPI (MPI=0)\n", what), false;
    return true;
}

static void run_ranks(int n, const char *env, const char *out) {
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/%s && { cp -r %s/r1/data %s/%s/ 2>/dev/null || true; } && env %s %s -n %d %s " STUDY " --out %s/%s", tmp,
             out, tmp, tmp, out, env ? env : "", MPIRUN, n, cli_bin(), tmp, out);
    cli_sh(&R, cmd);
}

static bool same_file(const char *a, const char *b) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cmp %s/%s %s/%s", tmp, a, tmp, b);
    cli_result c;
    cli_sh(&c, cmd);
    if (c.status) print_message("%s\n", c.out);
    return c.status == 0;
}

/* A plain run is one rank, and says so. */
static void test_plain_run_is_one_rank(void **state) {
    cli_latbench(&R, NULL, "--version");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "this run: 1 rank(s)"));
    cli_latbench(&R, NULL, "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "MPI: "));
    assert_non_null(strstr(R.out, "this run: 1 rank(s)"));
}

static void test_ranks_same_bytes(void **state) {
    cli_latbench(&R, "LATBENCH_SHARE=/nonexistent", STUDY " --out /dev/null/x");
    assert_int_not_equal(R.status, 0); /* the harness works: a bad --out fails */
    /* the 1-rank run is the reference of the ranks' runs: without MPI there is nothing to compare it with
     * (the study itself is test_experiment_studies') */
    if (!mpi_ready("mpirun -n 2 and -n 3 vs 1 rank")) return;
    char args[1200];
    snprintf(args, sizeof args, STUDY " --out %s/r1", tmp);
    cli_latbench(&R, "LATBENCH_SHARE=/nonexistent", args);
    if (R.status) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    run_ranks(2, NULL, "r2");
    if (R.status) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    assert_true(same_file("r1/results.json", "r2/results.json"));
    if (SANITIZED) {
        print_message("NOTE mpirun -n 3: not run under ASan (its time; -n 2 was compared, the release build runs -n 3)\n");
        return;
    }
    run_ranks(3, NULL, "r3");
    if (R.status) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    assert_true(same_file("r1/results.json", "r3/results.json"));
    /* every trial's model was saved by whichever rank ran it */
    char path[300];
    snprintf(path, sizeof path, "%s/r3/models/task1-fl-n100-t1.safetensors", tmp);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
}

static void test_failing_rank(void **state) {
    char args[1200];
    if (!mpi_ready("a failing rank")) {
        /* an MPI=0 build under mpirun: refused, each rank would be a whole run */
        cli_sh(&R, "command -v mpirun");
        if (R.status != 0 || cli_emulated()) return;
        snprintf(args, sizeof args, "%s -n 2 %s --version", MPIRUN, cli_bin());
        cli_sh(&R, args);
        assert_int_not_equal(R.status, 0);
        assert_non_null(strstr(R.out, "built without MPI"));
        return;
    }
    run_ranks(2, "LATBENCH_TEST_FAIL_RANK=1", "rf");
    assert_int_not_equal(R.status, 0);
    if (!strstr(R.out, "failed on rank 1 of 2 (host ")) print_message("%s\n", R.out);
    assert_non_null(strstr(R.out, "failed on rank 1 of 2 (host "));
    char path[300];
    snprintf(path, sizeof path, "%s/rf/results.json", tmp);
    assert_int_not_equal(access(path, F_OK), 0);
}

/* generate and observe */

/* A small task-1 set (3 mu points, 60 configurations of 8x4) and a 5-point observe scan: ~0.5 s of
 * work; each mpirun costs 1-2 s of Open MPI start-up, so 5 mpirun calls in all (~10-13 s in release;
 * ASan leaves out -n 3, and the test is not run under emulation: no MPI there). */
#define GEN "generate --task regression --lattice 8x4 --eta 4.01 --lambda 1 --mu 0.9:1.0:0.05 --count 60 --therm 40 " \
            "--chains 4 --threads 1 --quiet"
#define OBS "observe --lattice 8x4 --eta 4.01 --lambda 1 --mu 0.9:1.1:0.05 --sweeps 200 --therm 40 --chains 4 " \
            "--threads 1 --quiet"

/* "[env ENV] mpirun -n N latbench ARGS" (n 0: the plain run, no mpirun), its output into tmp/OUTFILE when given. */
static void run_cmd(int n, const char *env, const char *args, const char *outfile) {
    char cmd[4000], redir[300] = "";
    if (outfile) snprintf(redir, sizeof redir, " > %s/%s", tmp, outfile);
    if (n) snprintf(cmd, sizeof cmd, "cd %s && env %s %s -n %d %s %s%s", tmp, env ? env : "", MPIRUN, n, cli_bin(), args, redir);
    else snprintf(cmd, sizeof cmd, "cd %s && env %s %s %s%s", tmp, env ? env : "", cli_bin(), args, redir);
    cli_sh(&R, cmd);
    if (R.status) print_message("%s\n", R.out);
}

static bool same_dataset(const char *a, const char *b) {
    static const char *const files[] = {"x.npy", "y.npy", "meta.json"};
    bool same = true;
    for (int k = 0; k < 3; k++) {
        char fa[200], fb[200];
        snprintf(fa, sizeof fa, "%s/%s", a, files[k]), snprintf(fb, sizeof fb, "%s/%s", b, files[k]);
        same &= same_file(fa, fb);
    }
    return same;
}

static bool file_has(const char *name, const char *what) {
    char path[300];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "r");
    if (!f) return print_message("no %s\n", path), false;
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    if (!strstr(buf, what)) print_message("%s has no '%s':\n%s\n", name, what, buf);
    return strstr(buf, what) != NULL;
}

/* The same dataset bytes from 1 (the plain run; mpirun -n 1 takes the same path), 2 and 3 ranks, and every rank's section in OUT.ranks.log. */
static void test_generate_ranks_same_bytes(void **state) {
    if (!mpi_ready("generate over ranks")) return;
    run_cmd(0, NULL, GEN " --out g0", NULL);
    assert_int_equal(R.status, 0);
    run_cmd(2, NULL, GEN " --out g2", NULL);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "(2 ranks x 1 threads"));
    assert_true(same_dataset("g0", "g2"));
    assert_true(file_has("g2.ranks.log", "== rank 1 of 2 (host "));
    if (SANITIZED) return (void)print_message("NOTE generate -n 3: not run under ASan (its time; the release build runs it)\n");
    run_cmd(3, NULL, GEN " --out g3", NULL);
    assert_int_equal(R.status, 0);
    assert_true(same_dataset("g0", "g3"));
    assert_true(file_has("g3.ranks.log", "== rank 2 of 3 (host "));
}

/* The same table (its wall-time line apart) and JSON (its CPU-time figures apart) from 1 and 2-3 ranks. */
static void test_observe_ranks_same_table(void **state) {
    if (!mpi_ready("observe over ranks")) return;
    /* the figures that are clocks: the table's last line, the JSON's time-based fields */
    const char *clocks = "grep -v -e 'Madras-Sokal window' -e seconds_cpu -e _per_s_per_core";
    char cmd[1200];
    run_cmd(0, NULL, OBS, "o0.txt");
    assert_int_equal(R.status, 0);
    run_cmd(0, NULL, OBS " --json", "j0.txt");
    assert_int_equal(R.status, 0);
    run_cmd(SANITIZED ? 2 : 3, NULL, OBS, "o3.txt");
    assert_int_equal(R.status, 0);
    run_cmd(2, NULL, OBS " --json --ranks-log obs.log", "j2.txt");
    assert_int_equal(R.status, 0);
    snprintf(cmd, sizeof cmd, "cd %s && grep -c '^ *4.01 ' o3.txt && %s o0.txt > a && %s o3.txt > b && cmp a b && %s j0.txt > a && "
             "%s j2.txt > b && cmp a b && grep -c '\"mu\"' j2.txt", tmp, clocks, clocks, clocks, clocks);
    cli_sh(&R, cmd);
    if (R.status) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "5\n5\n")); /* 5 rows in the table, 5 points in the JSON */
    assert_true(file_has("obs.log", "== rank 1 of 2 (host "));
}

/* A failing rank ends generate non-zero naming its rank and host, and leaves no dataset, temporary
 * directory or log. */
static void test_generate_failing_rank(void **state) {
    if (!mpi_ready("generate with a failing rank")) return;
    run_cmd(2, "LATBENCH_TEST_FAIL_RANK=1", GEN " --out gf", NULL);
    assert_int_not_equal(R.status, 0);
    assert_non_null(strstr(R.out, "generate failed on rank 1 of 2 (host "));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd %s && ls -a | grep gf", tmp);
    cli_sh(&R, cmd);
    if (R.status == 0) print_message("left behind: %s\n", R.out);
    assert_int_not_equal(R.status, 0);
}

/* A plain experiment (the generalization study: 3 nets x 2 trials of 2 epochs on 100 samples, 3 test
 * lattices of 13) whose 4 datasets are made inside the run: with 2 ranks every rank samples a share of
 * each one (tools/mpi/gendata_ranks.c, generate's own path) and rank 0 writes it, so the datasets and
 * results.json are the bytes of the 1-rank run's.  A dataset of other settings in the way is refused
 * on rank 0, naming it, and nothing is written.  ~4-6 s in release. */
#define PLAIN "experiment regression --quick --trials 2 --epochs 2 --train-count 100 --test-count 13 --therm 8 " \
              "--threads 1 --seed 7 --quiet"
static void test_experiment_generates_over_ranks(void **state) {
    if (!mpi_ready("experiment generating its datasets over ranks")) return;
    run_cmd(0, "LATBENCH_SHARE=/nonexistent", PLAIN " --out e1", NULL);
    assert_int_equal(R.status, 0);
    run_cmd(2, "LATBENCH_SHARE=/nonexistent", PLAIN " --out e2", NULL);
    assert_int_equal(R.status, 0);
    assert_true(same_file("e1/results.json", "e2/results.json"));
    char cmd[600], names[4][80];
    snprintf(cmd, sizeof cmd, "cd %s/e1/data && ls -d */ | tr -d / | tr '\\n' ' '", tmp);
    cli_sh(&R, cmd);
    int n = sscanf(R.out, "%79s %79s %79s %79s", names[0], names[1], names[2], names[3]);
    assert_int_equal(n, 4); /* the training set and the 3 test lattices */
    for (int k = 0; k < n; k++) {
        char a[100], b[100];
        snprintf(a, sizeof a, "e1/data/%.79s", names[k]), snprintf(b, sizeof b, "e2/data/%.79s", names[k]);
        assert_true(same_dataset(a, b));
    }
    /* 3 ranks: 4 datasets' points from one pool, drawn in another order, the same bytes */
    if (SANITIZED) print_message("NOTE experiment -n 3: not run under ASan (its time; the release build runs it)\n");
    else {
        run_cmd(3, "LATBENCH_SHARE=/nonexistent", PLAIN " --out e4", NULL);
        assert_int_equal(R.status, 0);
        assert_non_null(strstr(R.out, "in one pool of 4 datasets over 3 ranks"));
        assert_true(same_file("e1/results.json", "e4/results.json"));
        for (int k = 0; k < n; k++) {
            char a[100], b[100];
            snprintf(a, sizeof a, "e1/data/%.79s", names[k]), snprintf(b, sizeof b, "e4/data/%.79s", names[k]);
            assert_true(same_dataset(a, b));
        }
    }
    /* the training set's meta.json says another thermalization: rank 0 refuses it before any work */
    snprintf(cmd, sizeof cmd, "cd %s && mkdir e3 && cp -r e1/data e3/ && sed -i 's/\"therm\": 8,/\"therm\": 9,/' e3/data/train-*/meta.json "
             "&& grep -q '\"therm\": 9' e3/data/train-*/meta.json", tmp);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 0);
    run_cmd(2, "LATBENCH_SHARE=/nonexistent", PLAIN " --out e3", NULL);
    assert_int_not_equal(R.status, 0);
    assert_non_null(strstr(R.out, "failed on rank 0 of 2 (host "));
    assert_non_null(strstr(R.out, "its therm is 9, not 8"));
    snprintf(cmd, sizeof cmd, "%s/e3/results.json", tmp);
    assert_int_not_equal(access(cmd, F_OK), 0);
}

/* bench */

/* The smallest bench that times one kernel: one pass of one small conv, one thread, 3 repetitions. */
#define BENCH_ONE "bench --quick --threads 1 --reps 3 --desc conv2d_fwd/mb1_ic3oc5_ih9iw9_kh3kw3_sh1sw1_b1"

/* `mpirun -n 2 latbench bench`: ONE JSON, rank 0's top level plus "nodes" with each rank's host,
 * context (with its rank and cores) and rows; one table per node on stdout; the two ranks share this
 * host, which the run says.  ~5-10 s in release. */
static void test_bench_two_ranks_one_json(void **state) {
    if (!mpi_ready("mpirun -n 2 latbench bench")) return;
    char cmd[2000], path[300];
    /* into the results store of a fresh directory: only rank 0 writes there, one file */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/b2 && cd %s/b2 && LATBENCH_STREAM_MB=${LATBENCH_STREAM_MB:-64} %s -n 2 %s " BENCH_ONE, tmp, tmp, MPIRUN, cli_bin());
    cli_sh(&R, cmd);
    if (R.status) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "(rank 0 of 2)"));
    assert_non_null(strstr(R.out, "(rank 1 of 2)"));
    assert_non_null(strstr(R.out, "ranks ran on host"));   /* both on this machine: contention, said */
    cli_result ls;
    snprintf(cmd, sizeof cmd, "ls %s/b2/results/*/runs/*.json", tmp);
    cli_sh(&ls, cmd);
    assert_int_equal(ls.status, 0);
    assert_int_equal(ls.lines, 1);
    snprintf(path, sizeof path, "%.*s", (int)strcspn(ls.out, "\n"), ls.out);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) fail_msg("%s: %s", path, je.text);
    json_t *nodes = json_object_get(root, "nodes");
    assert_int_equal(json_array_size(nodes), 2);
    assert_true(json_array_size(json_object_get(root, "benchmarks")) > 0);   /* compare reads rank 0's rows */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(root, "context"), "mpi"), "ranks")), 2);
    for (size_t k = 0; k < 2; k++) {
        json_t *node = json_array_get(nodes, k), *ctx = json_object_get(node, "context");
        assert_int_equal(json_integer_value(json_object_get(node, "rank")), (json_int_t)k);
        assert_non_null(json_string_value(json_object_get(node, "host")));
        assert_true(json_is_object(ctx));
        assert_true(json_array_size(json_object_get(node, "benchmarks")) > 0);
        json_t *rk = json_object_get(json_object_get(ctx, "topology"), "ranks");
        assert_int_equal(json_integer_value(json_object_get(rk, "ranks")), 2);
        assert_int_equal(json_integer_value(json_object_get(rk, "rank")), (json_int_t)k);
        assert_int_equal(json_integer_value(json_object_get(rk, "ranks_per_node")), 2);
        assert_true(json_is_array(json_object_get(rk, "cores")));
    }
    json_decref(root);
}

/* Two ranks on one node pin to disjoint cores (or, with more ranks than cores, not at all): `info`
 * under mpirun names each rank's slice. */
static void test_info_rank_slice(void **state) {
    cli_latbench(&R, NULL, "info");
    assert_non_null(strstr(R.out, "rank slice: rank 0 of 1, local rank 0 of 1"));
    if (!mpi_ready("mpirun -n 2 latbench info")) return;
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "%s -n 2 %s info", MPIRUN, cli_bin());
    cli_sh(&R, cmd);
    if (R.status) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "local rank 0 of 2"));
    assert_non_null(strstr(R.out, "local rank 1 of 2"));
}

/* mpirun latbench search: a tiny study (the sizes of tests/test_search.c) */
#define SEARCH "search --task count --family st --train-count 300 --therm 32 --epochs 3 --threads 1 --quiet"

/* mpirun -n ranks (0: no mpirun) of SEARCH adding `trials` to the study in tmp/dir (env: NULL or VAR=value). */
static void search_ranks(int ranks, const char *env, int trials, const char *dir) {
    char cmd[4000], run[600] = "";
    if (ranks) snprintf(run, sizeof run, MPIRUN " -n %d", ranks);
    snprintf(cmd, sizeof cmd, "env %s %s %s " SEARCH " --trials %d --out %s/%s", env ? env : "", run, cli_bin(), trials,
             tmp, dir);
    cli_sh(&R, cmd);
}

/* The study in tmp/dir: how many trials, with numbers 0..n-1 (each once); *failed, *running: how many
 * failed, are left running (NULL: none may be); the file passes SQLite's integrity check. */
static int search_trials(const char *dir, int *failed, int *running) {
    char path[300];
    snprintf(path, sizeof path, "%s/%s/study.sqlite", tmp, dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT number, state FROM trials ORDER BY number", -1, &q, NULL), SQLITE_OK);
    int n = 0, nf = 0, nr = 0;
    for (; sqlite3_step(q) == SQLITE_ROW; n++) {
        const char *state = (const char *)sqlite3_column_text(q, 1);
        assert_int_equal(sqlite3_column_int(q, 0), n);
        if (!strcmp(state, "failed")) nf++;
        else if (!strcmp(state, "running")) nr++;
        else if (strcmp(state, "complete") && strcmp(state, "pruned")) fail_msg("trial %d is %s", n, state);
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    if (failed) *failed = nf;
    else assert_int_equal(nf, 0);
    if (running) *running = nr;
    else assert_int_equal(nr, 0);
    return n;
}

/* Waits (at most 20 s) until the processes that left trials running in tmp/dir are gone: mpirun may
 * return while the ranks it aborted still end. */
static void search_wait_gone(const char *dir) {
    char path[300];
    snprintf(path, sizeof path, "%s/%s/study.sqlite", tmp, dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT DISTINCT pid FROM trials WHERE state='running'", -1, &q, NULL), SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW)
        for (int k = 0; k < 200 && kill((pid_t)sqlite3_column_int64(q, 0), 0) == 0; k++) usleep(100000);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_search_ranks(void **state) {
    if (!mpi_ready("mpirun latbench search")) return;
    search_ranks(2, NULL, 5, "s");
    if (R.status) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    assert_int_equal(search_trials("s", NULL, NULL), 5);
    /* rank 0 alone reports: one table */
    const char *best = strstr(R.out, "\nbest ");
    assert_non_null(best);
    assert_null(strstr(best + 1, "\nbest "));
    for (int k = 1; k <= 3; k++) {
        char args[600];
        snprintf(args, sizeof args, "model %s/s/top-%d.spec", tmp, k);
        cli_latbench(&R, NULL, args);
        if (R.status) print_message("%s\n", R.out);
        assert_int_equal(R.status, 0);
        assert_non_null(strstr(R.out, "spec file"));
    }
    /* resumed with another rank count, then with one rank */
    if (SANITIZED) print_message("NOTE search -n 3: not run under ASan (its time; the release build runs it)\n");
    else {
        search_ranks(3, NULL, 4, "s");
        if (R.status) print_message("%s\n", R.out);
        assert_int_equal(R.status, 0);
        assert_int_equal(search_trials("s", NULL, NULL), 9);
    }
    search_ranks(0, NULL, 2, "s");
    if (R.status) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    assert_int_equal(search_trials("s", NULL, NULL), SANITIZED ? 7 : 11);
}

static void test_search_failing_rank(void **state) {
    if (!mpi_ready("mpirun latbench search with a failing rank")) return;
    search_ranks(2, "LATBENCH_TEST_FAIL_RANK=1", 4, "sf");
    assert_int_not_equal(R.status, 0);
    if (!strstr(R.out, "search failed on rank 1 of 2 (host ")) print_message("%s\n", R.out);
    assert_non_null(strstr(R.out, "search failed on rank 1 of 2 (host "));
    char path[300];
    snprintf(path, sizeof path, "%s/sf/top-1.spec", tmp);
    assert_int_not_equal(access(path, F_OK), 0);
    /* the study stays valid; the trials the run left running are marked failed by the next run, which
     * adds its own (here on one rank) */
    int failed, running;
    search_wait_gone("sf");
    const int left = search_trials("sf", NULL, &running);
    assert_true(running >= 1); /* rank 1's trial at least */
    search_ranks(0, NULL, 3, "sf");
    if (R.status) print_message("%s\n", R.out);
    assert_int_equal(R.status, 0);
    assert_int_equal(search_trials("sf", &failed, NULL), left + 3);
    assert_int_equal(failed, running);
    assert_int_equal(access(path, F_OK), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_run_is_one_rank),
        cmocka_unit_test(test_ranks_same_bytes),
        cmocka_unit_test(test_failing_rank), /* reuses the datasets of r1 when the test before made them */
        cmocka_unit_test(test_generate_ranks_same_bytes),
        cmocka_unit_test(test_observe_ranks_same_table),
        cmocka_unit_test(test_generate_failing_rank),
        cmocka_unit_test(test_experiment_generates_over_ranks),
        cmocka_unit_test(test_bench_two_ranks_one_json),
        cmocka_unit_test(test_info_rank_slice),
        cmocka_unit_test(test_search_ranks),
        cmocka_unit_test(test_search_failing_rank),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

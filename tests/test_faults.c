/* The fault suite: the real latbench (fork/exec) under a full disk, a read-only filesystem,
 * SIGTERM and kill -9 in the middle of a write, two concurrent writers of one output, an
 * address-space limit, and a standard output that cannot be written.  Whatever happens: exit
 * non-zero with one line on stderr, an output that is absent or complete (never partial), no
 * temporary left after a signal that can be caught, and the temporaries of a kill -9 removed by the
 * next run writing in the same directory.
 *
 * The tmpfs cases need root and mount(8) (else a "SKIP: faults:" line says why, the rest still
 * runs).  The benchmark runs go under an address-space limit: the STREAM arrays (gigabytes) then do
 * not fit and are skipped, so a run takes about a second; under ASan (whose shadow memory needs the
 * address space) and under emulation those cases are skipped with a note. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define BENCH_ARGS "bench --quick --threads 1 --batch 1 --reps 1 --baseline none --filter pool_fwd/avg_mb1_c48 --no-pipelines"
/* a result the report can plot (a roofline of conv2d) */
#define BENCH_REP_ARGS "bench --quick --threads 1 --batch 1 --reps 1 --baseline none --filter conv2d_fwd/mb1 --no-pipelines"
#define BENCH_AS_MB 700 /* below the STREAM arrays, above everything else a bench run needs */
#define GEN_SMALL "generate --task count --lattice 8x8 --eta 4.01 --mu 1 --lambda 1 --count 40 --threads 1 --therm 32"
#define GEN_LONG "generate --task count --lattice 16x16 --eta 4.01 --mu 1 --lambda 1 --count 40000 --threads 1 --therm 32"

static char tmp[256];

typedef struct {
    int status;     /* exit status, 128 + signal when killed */
    int err_lines;  /* lines on stderr */
    char err[8192]; /* stderr */
} run_result;

/* Starts "exec BIN ARGS" through the shell in dir, stdout to /dev/null (or out_file), stderr to
 * err_file, under an address-space limit of as_mb MiB (0: none).  Returns the pid. */
static pid_t spawn(const char *dir, const char *args, const char *err_file, long as_mb, const char *env) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && exec %s%s%s %s", dir, env ? "env " : "", env ? env : "", env ? " " : "",
             cli_bin());
    size_t l = strlen(cmd);
    snprintf(cmd + l, sizeof cmd - l, " %s", args);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (as_mb > 0) {
            struct rlimit rl = {(rlim_t)as_mb << 20, (rlim_t)as_mb << 20};
            setrlimit(RLIMIT_AS, &rl);
        }
        int o = open("/dev/null", O_WRONLY), e = open(err_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o >= 0) dup2(o, 1);
        if (e >= 0) dup2(e, 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void reap(pid_t pid, const char *err_file, run_result *r) {
    int st;
    while (waitpid(pid, &st, 0) < 0) assert_int_equal(errno, EINTR);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->err[0] = 0;
    r->err_lines = 0;
    FILE *f = fopen(err_file, "r");
    if (f) {
        size_t n = fread(r->err, 1, sizeof r->err - 1, f);
        r->err[n] = 0;
        fclose(f);
        for (size_t i = 0; i < n; i++) r->err_lines += r->err[i] == '\n';
    }
}

static void run_in(const char *dir, const char *args, long as_mb, const char *env, run_result *r) {
    char ef[400];
    snprintf(ef, sizeof ef, "%s/stderr.txt", tmp);
    reap(spawn(dir, args, ef, as_mb, env), ef, r);
}

/* Entries under dir (at any depth) whose name holds needle. */
static int count_named(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strstr(e->d_name, needle)) n++;
        else if (e->d_type == DT_DIR) {
            char p[1200];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            n += count_named(p, needle);
        }
    }
    closedir(d);
    return n;
}

/* Temporaries under dir: ours are ".NAME.tmp-PID-XXXXXX" (and the old fixed "NAME.tmp" counts too). */
static int count_tmp(const char *dir) { return count_named(dir, ".tmp"); }

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void sleep_ms(int ms) {
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Polls until a temporary of pid appears under dir (true), or pid exits or timeout_ms passes (false). */
static bool wait_for_tmp(const char *dir, pid_t pid, int timeout_ms) {
    char needle[64];
    snprintf(needle, sizeof needle, ".tmp-%ld-", (long)pid);
    for (int t = 0; t < timeout_ms; t += 2) {
        if (count_named(dir, needle) > 0) return true;
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) return false;
        sleep_ms(2);
    }
    return false;
}

static bool exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

static bool json_ok(const char *p) {
    json_error_t je;
    json_t *j = json_load_file(p, 0, &je);
    json_decref(j);
    return j != NULL;
}

/* A complete dataset directory: its three files, meta.json whole. */
static bool dataset_ok(const char *dir) {
    char p[1200];
    snprintf(p, sizeof p, "%s/x.npy", dir);
    if (!exists(p)) return false;
    snprintf(p, sizeof p, "%s/y.npy", dir);
    if (!exists(p)) return false;
    snprintf(p, sizeof p, "%s/meta.json", dir);
    return json_ok(p);
}

static void mkdir_p(const char *p) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", p, p);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **s) {
    (void)s;
    if (test_tmpdir_make(tmp, sizeof tmp, "latbench-test-faults-")) return -1;
    char p[400];
    snprintf(p, sizeof p, "%s/data", tmp);
    mkdir(p, 0755);
    run_result r;
    run_in(p, GEN_SMALL " --out d8", 0, NULL, &r);
    return r.status == 0 ? 0 : (fprintf(stderr, "%s", r.err), -1);
}

static int teardown(void **s) {
    (void)s;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "umount '%s/mnt' 2>/dev/null; rm -rf '%s'", tmp, tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- standard output that cannot be written ---- */

static void test_stdout_full(void **s) {
    (void)s;
    static const char *cmds[] = {"help", "info", "model task3-eq1 --lattice 8x8", "generate --help", "train --help",
                                 "experiment --help", "report --help", "bench --help"};
    cli_result R;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char c[600];
        snprintf(c, sizeof c, "{ %s %s >/dev/full; }", cli_bin(), cmds[i]);
        cli_sh(&R, c);
        if (R.status != 1 || R.lines != 1) fprintf(stderr, "latbench %s > /dev/full: exit %d\n%s", cmds[i], R.status, R.out);
        assert_int_equal(R.status, 1);
        assert_int_equal(R.lines, 1);
        assert_non_null(strstr(R.out, "latbench: error writing standard output: No space left on device"));
    }
    cli_latbench(&R, NULL, "");
    assert_int_equal(R.status, 2);
}

/* ---- signals in the middle of a write ---- */

/* Starts args in dir, waits for its temporary (or 300 ms), sends sig, and returns the result. */
static void kill_mid_write(const char *dir, const char *args, int sig, long as_mb, run_result *r) {
    char ef[400];
    snprintf(ef, sizeof ef, "%s/stderr.txt", tmp);
    pid_t pid = spawn(dir, args, ef, as_mb, NULL);
    if (!wait_for_tmp(dir, pid, 20000)) sleep_ms(1);
    kill(pid, sig);
    reap(pid, ef, r);
}

static void test_generate_signals(void **s) {
    (void)s;
    SKIP_UNDER_EMULATION("faults: signals mid-write");
    char dir[400], p[500];
    snprintf(dir, sizeof dir, "%s/gen", tmp);
    mkdir_p(dir);
    run_result r;
    kill_mid_write(dir, GEN_LONG " --out ds", SIGTERM, 0, &r);
    assert_int_equal(r.status, 128 + SIGTERM);
    assert_int_equal(count_entries(dir), 0); /* no ds, no temporary */
    kill_mid_write(dir, GEN_LONG " --out ds", SIGINT, 0, &r);
    assert_int_equal(r.status, 128 + SIGINT);
    assert_int_equal(count_tmp(dir), 0);
    kill_mid_write(dir, GEN_LONG " --out ds", SIGKILL, 0, &r);
    assert_int_equal(r.status, 128 + SIGKILL);
    assert_int_equal(count_tmp(dir), 1); /* what kill -9 leaves... */
    run_in(dir, GEN_SMALL " --out ds2", 0, NULL, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_tmp(dir), 0); /* ...the next run in the directory removes */
    snprintf(p, sizeof p, "%s/ds2", dir);
    assert_true(dataset_ok(p));
    snprintf(p, sizeof p, "%s/ds", dir);
    assert_false(exists(p));
}

static void test_train_signals(void **s) {
    (void)s;
    SKIP_UNDER_EMULATION("faults: signals mid-write");
    char dir[400], p[500], args[800];
    snprintf(dir, sizeof dir, "%s/train", tmp);
    mkdir_p(dir);
    snprintf(args, sizeof args, "train --model task3-eq1 --data %s/data/d8 --epochs 100 --patience 100 --threads 1 --out m.safetensors", tmp);
    run_result r;
    kill_mid_write(dir, args, SIGTERM, 0, &r);
    snprintf(p, sizeof p, "%s/m.safetensors", dir);
    /* the model is written at the end: killed before (no file) or after (a whole one) */
    assert_true(r.status == 128 + SIGTERM || r.status == 0);
    assert_int_equal(count_tmp(dir), 0);
    if (exists(p)) {
        char margs[700];
        snprintf(margs, sizeof margs, "model %s", p);
        run_in(dir, margs, 0, NULL, &r);
        assert_int_equal(r.status, 0);
    }
    /* a stale temporary as a kill -9 leaves it (the model write itself is too short to hit) */
    snprintf(p, sizeof p, "%s/.m.safetensors.tmp-999999999-AbCdEf", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("half", f);
    fclose(f);
    snprintf(args, sizeof args, "train --model task3-eq1 --data %s/data/d8 --epochs 2 --threads 1 --out m.safetensors", tmp);
    run_in(dir, args, 0, NULL, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_tmp(dir), 0);
}

static void test_experiment_signals(void **s) {
    (void)s;
    SKIP_UNDER_EMULATION("faults: signals mid-write");
    char dir[400], sub[500];
    snprintf(dir, sizeof dir, "%s/exp", tmp);
    mkdir_p(dir);
    snprintf(sub, sizeof sub, "%s/e/data", dir);
    run_result r;
    const char *args = "experiment count --quick --trials 1 --epochs 1 --threads 1 --out e";
    kill_mid_write(dir, args, SIGTERM, 0, &r);
    assert_int_equal(r.status, 128 + SIGTERM);
    assert_int_equal(count_tmp(dir), 0);
    kill_mid_write(dir, args, SIGKILL, 0, &r);
    assert_int_equal(r.status, 128 + SIGKILL);
    assert_true(count_tmp(sub) >= 1);
    /* the next run sweeps the stale dataset directory before it makes its own, then is stopped */
    kill_mid_write(dir, args, SIGTERM, 0, &r);
    assert_int_equal(r.status, 128 + SIGTERM);
    assert_int_equal(count_tmp(dir), 0);
}

static bool bench_skipped(void) {
    if (UNDER_ASAN) {
        print_message("SKIP: faults: bench runs (they need an address-space limit to skip the multi-GB STREAM "
                      "arrays, which ASan's shadow memory does not allow; the release build runs them)\n");
        return true;
    }
    return false;
}

static void test_bench_signals(void **s) {
    (void)s;
    SKIP_UNDER_EMULATION("faults: bench signals");
    if (bench_skipped()) return;
    char dir[400], p[500];
    snprintf(dir, sizeof dir, "%s/bench", tmp);
    mkdir_p(dir);
    run_result r;
    kill_mid_write(dir, BENCH_ARGS " --json b.json", SIGTERM, BENCH_AS_MB, &r);
    assert_int_equal(r.status, 128 + SIGTERM);
    assert_int_equal(count_entries(dir), 0);
    kill_mid_write(dir, BENCH_ARGS " --json b.json", SIGKILL, BENCH_AS_MB, &r);
    assert_int_equal(r.status, 128 + SIGKILL);
    assert_int_equal(count_tmp(dir), 1);
    run_in(dir, BENCH_ARGS " --json b.json", BENCH_AS_MB, NULL, &r);
    if (r.status) fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_tmp(dir), 0);
    snprintf(p, sizeof p, "%s/b.json", dir);
    assert_true(json_ok(p));
}

/* ---- two writers of one output ---- */

static void test_concurrent_writers(void **s) {
    (void)s;
    char dir[400], p[600], e1[500], e2[500];
    snprintf(dir, sizeof dir, "%s/conc", tmp);
    mkdir_p(dir);
    snprintf(e1, sizeof e1, "%s/e1.txt", tmp);
    snprintf(e2, sizeof e2, "%s/e2.txt", tmp);
    run_result a, b;
    pid_t pa = spawn(dir, GEN_SMALL " --out ds", e1, 0, NULL), pb = spawn(dir, GEN_SMALL " --out ds", e2, 0, NULL);
    reap(pa, e1, &a);
    reap(pb, e2, &b);
    /* one wins whole, the other says why */
    assert_true((a.status == 0) != (b.status == 0));
    run_result *loser = a.status ? &a : &b;
    assert_int_equal(loser->err_lines, 1);
    assert_non_null(strstr(loser->err, "ds"));
    assert_true(strstr(loser->err, "already exists") || strstr(loser->err, "appeared meanwhile"));
    snprintf(p, sizeof p, "%s/ds", dir);
    assert_true(dataset_ok(p));
    assert_int_equal(count_tmp(dir), 0);
    SKIP_UNDER_EMULATION("faults: concurrent bench runs");
    if (bench_skipped()) return;
    /* bench --json FILE twice at once: FILE is one whole run; the results store: two distinct runs */
    char e3[500], e4[500];
    snprintf(e3, sizeof e3, "%s/e3.txt", tmp);
    snprintf(e4, sizeof e4, "%s/e4.txt", tmp);
    run_result c, d;
    pa = spawn(dir, BENCH_ARGS " --json same.json", e1, BENCH_AS_MB, NULL);
    pb = spawn(dir, BENCH_ARGS " --json same.json", e2, BENCH_AS_MB, NULL);
    pid_t pc = spawn(dir, BENCH_ARGS, e3, BENCH_AS_MB, NULL), pd = spawn(dir, BENCH_ARGS, e4, BENCH_AS_MB, NULL);
    reap(pa, e1, &a), reap(pb, e2, &b), reap(pc, e3, &c), reap(pd, e4, &d);
    assert_int_equal(a.status, 0);
    assert_int_equal(b.status, 0);
    assert_int_equal(c.status, 0);
    assert_int_equal(d.status, 0);
    snprintf(p, sizeof p, "%s/same.json", dir);
    assert_true(json_ok(p));
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls '%s'/results/*/runs/bench-*.json | wc -l", dir);
    cli_result R;
    cli_sh(&R, cmd);
    assert_int_equal(atoi(R.out), 2);
    snprintf(cmd, sizeof cmd, "for f in '%s'/results/*/runs/bench-*.json; do python3 -m json.tool \"$f\" >/dev/null || echo bad; done", dir);
    cli_sh(&R, cmd);
    assert_null(strstr(R.out, "bad"));
    assert_int_equal(count_tmp(dir), 0);
}

/* ---- out of memory ---- */

static void test_enomem(void **s) {
    (void)s;
    SKIP_UNDER_EMULATION("faults: ulimit -v");
    if (UNDER_ASAN) {
        print_message("SKIP: faults: ulimit -v under ASan (its shadow memory needs the address space)\n");
        return;
    }
    char dir[400];
    snprintf(dir, sizeof dir, "%s/nomem", tmp);
    mkdir_p(dir);
    run_result r;
    run_in(dir, "generate --task count --lattice 8x8 --eta 4.01 --mu 1 --lambda 1 --count 50000000 --threads 1 --out big", 300,
           NULL, &r);
    assert_true(r.status == 1 || r.status == 2);
    assert_int_equal(r.err_lines, 1);
    assert_non_null(strstr(r.err, "out of memory"));
    assert_int_equal(count_entries(dir), 0);
}

/* ---- the report's interpreter and input ---- */

static void test_report_input(void **s) {
    (void)s;
    char dir[400], p[600], args[1400];
    snprintf(dir, sizeof dir, "%s/rep", tmp);
    mkdir_p(dir);
    snprintf(p, sizeof p, "%s/bad.json", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"benchmarks\": [{\"name\": \"conv2d_fwd/x\", \"impl\": \"ours\", \"op\": \"conv2d\", \"threads\": 1,"
          " \"problem\": \"conv2d_fwd/x\", \"real_time\": 5, \"ratio_vs_onednn\": \"fast\"}]}\n", f);
    fclose(f);
    snprintf(args, sizeof args, "report %s --out %s/plots", p, dir);
    run_result r;
    run_in(dir, args, 0, NULL, &r);
    assert_int_equal(r.status, 2);
    assert_int_equal(r.err_lines, 1);
    assert_non_null(strstr(r.err, "ratio_vs_onednn"));
    assert_null(strstr(r.err, "Traceback"));
    snprintf(p, sizeof p, "%s/plots", dir);
    assert_false(exists(p)); /* made for the plots, removed when none came */
    run_in(dir, args, 0, "LATBENCH_PYTHON=false", &r);
    assert_int_equal(r.status, 1);
    assert_int_equal(r.err_lines, 1);
    assert_non_null(strstr(r.err, "false"));
    assert_non_null(strstr(r.err, "LATBENCH_PYTHON"));
}

/* ---- a full disk and a read-only filesystem (tmpfs mounts) ---- */

static bool mount_tmpfs(const char *mnt, const char *opts) {
    char cmd[800];
    snprintf(cmd, sizeof cmd, "umount '%s' 2>/dev/null; mkdir -p '%s' && mount -t tmpfs -o %s none '%s' 2>&1", mnt, mnt, opts, mnt);
    cli_result R;
    cli_sh(&R, cmd);
    if (R.status) {
        char *nl = strchr(R.out, '\n');
        if (nl) *nl = 0;
        print_message("SKIP: faults: no tmpfs (%s)\n", geteuid() ? "not root" : R.out);
        return false;
    }
    return true;
}

static void umount_tmpfs(const char *mnt) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "umount '%s'", mnt);
    assert_int_equal(system(cmd), 0);
}

/* Fills the filesystem of dir (a file grown until ENOSPC); returns its path. */
static void fill(const char *dir, char *path, size_t len) {
    snprintf(path, len, "%s/filler", dir);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "dd if=/dev/zero of='%s' bs=4k 2>/dev/null; true", path);
    assert_int_equal(system(cmd), 0);
}

static void expect_one_line_failure(const run_result *r, const char *what, const char *reason) {
    if (r->status == 0 || r->status >= 128 || r->err_lines != 1 || !strstr(r->err, reason))
        fprintf(stderr, "%s: exit %d, stderr:\n%s", what, r->status, r->err);
    assert_true(r->status == 1 || r->status == 2);
    assert_int_equal(r->err_lines, 1);
    assert_non_null(strstr(r->err, reason));
}

static void test_disk_full(void **s) {
    (void)s;
    SKIP_UNDER_EMULATION("faults: tmpfs");
    char mnt[400], filler[600], args[1400];
    snprintf(mnt, sizeof mnt, "%s/mnt", tmp);
    if (!mount_tmpfs(mnt, "size=1m")) return;
    run_result r;
    /* generate: a 2.5 MB x.npy into 1 MB */
    run_in(mnt, "generate --task count --lattice 16x16 --eta 4.01 --mu 1 --lambda 1 --count 1200 --threads 1 --therm 32 --out ds", 0,
           NULL, &r);
    expect_one_line_failure(&r, "generate into a full disk", "No space left on device");
    assert_int_equal(count_entries(mnt), 0);
    /* train, bench --json and report into a disk that is already full */
    fill(mnt, filler, sizeof filler);
    snprintf(args, sizeof args, "train --model task3-eq1 --data %s/data/d8 --epochs 2 --threads 1 --quiet --out %s/m.safetensors", tmp, mnt);
    run_in(tmp, args, 0, NULL, &r);
    expect_one_line_failure(&r, "train into a full disk", "No space left on device");
    assert_int_equal(count_entries(mnt), 1); /* the filler */
    if (!bench_skipped() && !cli_emulated()) {
        snprintf(args, sizeof args, BENCH_ARGS " --json %s/b.json", mnt);
        run_in(tmp, args, BENCH_AS_MB, NULL, &r);
        expect_one_line_failure(&r, "bench --json into a full disk", "No space left on device");
        assert_int_equal(count_entries(mnt), 1);
        /* report of a good result into the full disk: nothing left, not even the directory */
        snprintf(args, sizeof args, BENCH_REP_ARGS " --json %s/rep.json", tmp);
        run_in(tmp, args, BENCH_AS_MB, NULL, &r);
        assert_int_equal(r.status, 0);
        snprintf(args, sizeof args, "report %s/rep.json --out %s/plots", tmp, mnt);
        run_in(tmp, args, 0, NULL, &r);
        expect_one_line_failure(&r, "report into a full disk", "No space left on device");
        assert_int_equal(count_entries(mnt), 1);
    }
    unlink(filler);
    umount_tmpfs(mnt);
}

static void test_read_only(void **s) {
    (void)s;
    SKIP_UNDER_EMULATION("faults: tmpfs");
    char mnt[400], args[1400];
    snprintf(mnt, sizeof mnt, "%s/mnt", tmp);
    if (!mount_tmpfs(mnt, "size=1m,ro")) return;
    run_result r;
    run_in(mnt, GEN_SMALL " --out ds", 0, NULL, &r);
    expect_one_line_failure(&r, "generate into a read-only directory", "Read-only file system");
    snprintf(args, sizeof args, "train --model task3-eq1 --data %s/data/d8 --epochs 2 --threads 1 --quiet --out %s/m.safetensors", tmp, mnt);
    run_in(tmp, args, 0, NULL, &r);
    expect_one_line_failure(&r, "train into a read-only directory", "Read-only file system");
    snprintf(args, sizeof args, "report %s/data/d8/meta.json --out %s/plots", tmp, mnt);
    run_in(tmp, args, 0, NULL, &r);
    assert_int_equal(r.status, 2); /* not a results file: refused before any writing */
    if (!bench_skipped() && !cli_emulated()) {
        snprintf(args, sizeof args, BENCH_ARGS " --json %s/b.json", mnt);
        run_in(tmp, args, BENCH_AS_MB, NULL, &r);
        expect_one_line_failure(&r, "bench --json into a read-only directory", "Read-only file system");
        snprintf(args, sizeof args, BENCH_REP_ARGS " --json %s/rep2.json", tmp);
        run_in(tmp, args, BENCH_AS_MB, NULL, &r);
        assert_int_equal(r.status, 0);
        snprintf(args, sizeof args, "report %s/rep2.json --out %s/plots", tmp, mnt);
        run_in(tmp, args, 0, NULL, &r);
        expect_one_line_failure(&r, "report into a read-only directory", "Read-only file system");
    }
    assert_int_equal(count_entries(mnt), 0);
    umount_tmpfs(mnt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdout_full),
        cmocka_unit_test(test_generate_signals),
        cmocka_unit_test(test_train_signals),
        cmocka_unit_test(test_experiment_signals),
        cmocka_unit_test(test_bench_signals),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_enomem),
        cmocka_unit_test(test_report_input),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_read_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* cmocka boilerplate shared by the tests. */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* ---- running commands and the latbench binary (tests of the command line) ---- */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

typedef struct {
    int status;            /* exit status; 128 + the signal when killed by one */
    int lines;             /* newlines in out */
    char out[1 << 17];     /* stdout and stderr together, NUL-terminated (truncated past this) */
} cli_result;

/* Runs cmd through the shell with stderr merged into stdout, capturing both into r. */
static inline void cli_sh(cli_result *r, const char *cmd) {
    char full[4096];
    snprintf(full, sizeof full, "%.4000s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(r->out, 1, sizeof r->out - 1, p);
    r->out[n] = 0;
    int st = pclose(p);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->lines = 0;
    for (size_t i = 0; i < n; i++) r->lines += r->out[i] == '\n';
}

/* The binary under test: $LATBENCH_BIN (set by tests/run.sh), else ./latbench.  A command for the
 * shell, not a path: for a cross build it is "RUNNER BINARY" (toolchain/qemu-run ...). */
static inline const char *cli_bin(void) {
    const char *bin = getenv("LATBENCH_BIN");
    return bin ? bin : "./latbench";
}

/* Whether the tests run under an emulator (tests/run.sh sets LATBENCH_RUNNER for a cross build):
 * tests with long runs may shrink them then, and say so with a NOTE line. */
static inline int cli_emulated(void) {
    const char *runner = getenv("LATBENCH_RUNNER");
    return runner && *runner;
}

/* Statistical and timing checks that take minutes under qemu-user, where the per-variant checks
 * (bit identity with the scalar reference) already cover the emulated build: say so and return. */
#define SKIP_UNDER_EMULATION(what)                                                                   \
    do {                                                                                             \
        if (cli_emulated()) {                                                                        \
            print_message("NOTE %s: not run under emulation (too slow under qemu; covered by the x86 builds, "\
                          "and the emulated variants are checked bit for bit against the scalar reference)\n", \
                          what);                                                                     \
            return;                                                                                  \
        }                                                                                            \
    } while (0)

/* End-to-end workflows (a study, a search): their orchestration is ISA-independent C that the
 * release, ASan and clang builds run; under qemu they cost minutes of CI, and the emulated build's
 * own training path is run end to end by test_train_cli.  Say so and return. */
#define SKIP_WORKFLOW_UNDER_EMULATION(what)                                                          \
    do {                                                                                             \
        if (cli_emulated()) {                                                                        \
            print_message("NOTE %s: not run under emulation (ISA-independent orchestration, run by the x86 " \
                          "builds; the emulated training path is run end to end by test_train_cli)\n", what); \
            return;                                                                                  \
        }                                                                                            \
    } while (0)

/* Writes text to dir/name (asserting every step). */
static inline void test_write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* Runs "[env ENV] BIN ARGS" through cli_sh (env: VAR=value assignments, or NULL). */
static inline void cli_latbench(cli_result *r, const char *env, const char *args) {
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "%s%.500s%s%.1000s %.2400s", env ? "env " : "", env ? env : "", env ? " " : "", cli_bin(),
             args);
    cli_sh(r, cmd);
}

/* ---- a test's scratch folder (cmocka setup and teardown) ---- */
/* Makes the folder /tmp/<prefix>XXXXXX (mkdtemp) into dir, len bytes; 0, or -1 when it cannot. */
static inline int test_tmpdir_make(char *dir, size_t len, const char *prefix) {
    if ((size_t)snprintf(dir, len, "/tmp/%sXXXXXX", prefix) >= len) return -1;
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes dir and everything below it; 0, or -1. */
static inline int test_tmpdir_remove(const char *dir) {
    char cmd[600];
    if ((size_t)snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) >= sizeof cmd) return -1;
    return system(cmd) == 0 ? 0 : -1;
}

/* The whole file at path, NUL-terminated (malloc'd), its length in *len (len may be NULL); NULL when
 * it cannot be opened. */
static inline char *test_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

/* `latbench history ARGS` on the history at db (LATBENCH_HISTORY), into r. */
static inline void cli_history(cli_result *r, const char *db, const char *args) {
    char env[300], full[1200];
    snprintf(env, sizeof env, "LATBENCH_HISTORY=%s", db);
    snprintf(full, sizeof full, "history %s", args);
    cli_latbench(r, env, full);
}

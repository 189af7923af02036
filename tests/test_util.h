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

/* The binary under test: $LATBENCH_BIN (set by tests/run.sh), else ./latbench. */
static inline const char *cli_bin(void) {
    const char *bin = getenv("LATBENCH_BIN");
    return bin ? bin : "./latbench";
}

/* Runs "[env ENV] BIN ARGS" through cli_sh (env: VAR=value assignments, or NULL). */
static inline void cli_latbench(cli_result *r, const char *env, const char *args) {
    char cmd[4000];
    snprintf(cmd, sizeof cmd, "%s%.500s%s%.1000s %.2400s", env ? "env " : "", env ? env : "", env ? " " : "", cli_bin(),
             args);
    cli_sh(r, cmd);
}

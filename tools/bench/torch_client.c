#include "tools/bench/torch_client.h"
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/io/srcfile.h"
#include "tools/timing/timing.h"

extern char **environ;

/* tools/bench/torch_pipeline.py next to the binary or one of its parents (build/<x>/latbench,
 * ./latbench), else under the working directory; LATBENCH_TORCH_SCRIPT overrides. */
static bool find_script(char *out, size_t len) {
    const char *env = getenv("LATBENCH_TORCH_SCRIPT");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return access(out, R_OK) == 0;
    }
    if (io_find_near_binary("tools/bench/torch_pipeline.py", out, len) == 1 && access(out, R_OK) == 0) return true;
    snprintf(out, len, "tools/bench/torch_pipeline.py");
    return access(out, R_OK) == 0;
}

/* One reply line (without the newline) within timeout_s; false on EOF, error or timeout. */
static bool read_line(torch_client *t, char *line, size_t len, double timeout_s) {
    double deadline = timing_now() + timeout_s;
    for (;;) {
        char *nl = memchr(t->buf, '\n', t->have);
        if (nl) {
            size_t n = (size_t)(nl - t->buf);
            snprintf(line, len, "%.*s", (int)n, t->buf);
            t->have -= n + 1;
            memmove(t->buf, nl + 1, t->have);
            return true;
        }
        if (t->have == sizeof t->buf) return snprintf(t->why, sizeof t->why, "reply line too long"), false;
        double left = deadline - timing_now();
        if (left <= 0) return snprintf(t->why, sizeof t->why, "no reply within %.0f s", timeout_s), false;
        struct pollfd p = {t->fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        ssize_t got = read(t->fd, t->buf + t->have, sizeof t->buf - t->have);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return snprintf(t->why, sizeof t->why, "the python process ended"), false;
        t->have += (size_t)got;
    }
}

void torch_client_close(torch_client *t) {
    if (t->pid > 0) {
        if (t->ok) (void)!send(t->fd, "quit\n", 5, MSG_NOSIGNAL);
        close(t->fd);
        /* the script exits on quit or EOF; a hung one is killed after ~2 s */
        int st;
        for (int i = 0; i < 200 && waitpid(t->pid, &st, WNOHANG) == 0; i++) usleep(10000);
        if (waitpid(t->pid, &st, WNOHANG) == 0) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &st, 0);
        }
    }
    t->pid = 0;
    t->ok = false;
}

/* Sends cmd (one line) and reads the reply; on failure the co-process is shut down (t->why). */
static bool command(torch_client *t, const char *cmd, char *reply, size_t len, double timeout_s) {
    if (!t->ok) return false;
    size_t n = strlen(cmd), off = 0;
    while (off < n) {
        ssize_t w = send(t->fd, cmd + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(t->why, sizeof t->why, "the python process ended");
            torch_client_close(t);
            return false;
        }
        off += (size_t)w;
    }
    if (!read_line(t, reply, len, timeout_s)) {
        torch_client_close(t);
        return false;
    }
    return true;
}

void torch_client_open(torch_client *t) {
    memset(t, 0, sizeof *t);
    t->tried = true;
    t->fd = -1;
    const char *py = getenv("LATBENCH_PYTHON");
    if (!py || !*py) py = "/usr/bin/python3";
    char script[PATH_MAX + 64];
    if (!find_script(script, sizeof script)) {
        snprintf(t->why, sizeof t->why, "%.280s not found", script);
        return;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(t->why, sizeof t->why, "socketpair: %s", strerror(errno));
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
    char *argv[] = {(char *)py, script, (char *)"--serve", NULL};
    int rc = posix_spawnp(&t->pid, py, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        t->pid = 0;
        snprintf(t->why, sizeof t->why, "cannot run %s: %s", py, strerror(rc));
        return;
    }
    t->fd = sv[0];
    t->ok = true;
    char line[512];
    /* importing torch takes seconds, more on a busy machine */
    if (!read_line(t, line, sizeof line, 180)) {
        char why[320];
        snprintf(why, sizeof why, "%s", t->why);
        t->ok = false;
        torch_client_close(t);
        snprintf(t->why, sizeof t->why, "%.60s %.100s --serve: %.140s", py, script, why);
        return;
    }
    if (strncmp(line, "ready torch ", 12) != 0) {
        snprintf(t->why, sizeof t->why, "%.300s", strncmp(line, "error ", 6) ? line : line + 6);
        t->ok = false;
        torch_client_close(t);
        return;
    }
    snprintf(t->version, sizeof t->version, "%.60s", line + 12);
}

double torch_client_job(torch_client *t, bool train, const char *spec_text, int batch, int threads, int h, int w) {
    if (!t->ok) return 0;
    char cmd[2048], reply[512];
    int n = snprintf(cmd, sizeof cmd, "job %s %d %d %d %d ", train ? "train" : "infer", batch, threads, h, w);
    for (const char *p = spec_text; *p && n < (int)sizeof cmd - 2; p++) cmd[n++] = *p == '\n' ? ';' : *p;
    cmd[n++] = '\n';
    cmd[n] = 0;
    if (!command(t, cmd, reply, sizeof reply, 600)) return 0;
    double s;
    if (sscanf(reply, "ok %lf", &s) != 1 || !(s > 0)) {
        fprintf(stderr, "latbench bench: PyTorch job %s %dx%d: %s\n", train ? "train" : "infer", h, w,
                strncmp(reply, "error ", 6) ? reply : reply + 6);
        return 0;
    }
    return s;
}

double torch_client_run(torch_client *t, long steps, double expect_s) {
    char cmd[64], reply[512];
    snprintf(cmd, sizeof cmd, "run %ld\n", steps);
    if (!command(t, cmd, reply, sizeof reply, 60 + 20 * expect_s)) return 0;
    double s;
    return sscanf(reply, "time %lf", &s) == 1 && s > 0 ? s : 0;
}


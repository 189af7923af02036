/* latbench bisect on a synthetic git repository of 16 commits (made in a temporary directory): its
 * "build" copies tests/bisect_fake_gate.sh to ./latbench, a stand-in whose gate JSON carries the
 * ratio of the commit's file `ratio` (1 before the step, 1.25 from commit k on).  So the search
 * logic is tested without building latbench: the step is found with at most 5 builds, no step gives
 * exit 1, bad refs and a build that dirties the tree exit 2, and no worktree or temporary directory
 * is left behind, also when bisect is stopped by SIGTERM or SIGINT mid-way. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tests/test_util.h"

#define N_COMMITS 16

typedef struct {
    char dir[64], repo[128], tmp[128];
} bisect_fixture;

static cli_result *res(void) {
    static cli_result r;
    return &r;
}

/* The fake gate script beside this test's source. */
static void fake_script(char *buf, size_t n) {
    const char *f = __FILE__, *slash = strrchr(f, '/');
    snprintf(buf, n, "%.*sbisect_fake_gate.sh", slash ? (int)(slash - f + 1) : 0, f);
}

/* 16 commits c0..c15; the ratio steps from 1 to 1.25 at commit k (k <= 0 or k >= 16: never). */
static void make_repo(bisect_fixture *fx, int k) {
    snprintf(fx->dir, sizeof fx->dir, "/tmp/latbench-bisect-test-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->repo, sizeof fx->repo, "%s/repo", fx->dir);
    snprintf(fx->tmp, sizeof fx->tmp, "%s/tmp", fx->dir);
    char fake[512], cmd[2048];
    fake_script(fake, sizeof fake);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s %s && cd %s && git init -q && cp %s/%s fake.sh && "
             "for i in $(seq 0 %d); do if [ $i -ge %d ] && [ %d -gt 0 ]; then echo 1.25; else echo 1; fi > ratio; "
             "git add fake.sh ratio && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m c$i || exit 1; done",
             fx->tmp, fx->repo, fx->repo, fake[0] == '/' ? "" : getcwd((char[1024]){0}, 1024), fake, N_COMMITS - 1, k, k);
    cli_sh(res(), cmd);
    if (res()->status) print_message("%s\n", res()->out);
    assert_int_equal(res()->status, 0);
}

/* bisect HEAD~15 HEAD in the fixture's repository, TMPDIR its tmp, with the given build command
 * (NULL: copy the fake gate and count the build in DIR/builds) and extra arguments. */
static void run_bisect(const bisect_fixture *fx, const char *build, const char *extra) {
    char b[512], cmd[2048];
    if (!build) snprintf(b, sizeof b, "cp fake.sh latbench && chmod +x latbench && echo b >> %s/builds", fx->dir);
    snprintf(cmd, sizeof cmd, "cd %s && TMPDIR=%s %s bisect HEAD~%d HEAD --reps 5 --build '%s' %s", fx->repo, fx->tmp, cli_bin(),
             N_COMMITS - 1, build ? build : b, extra ? extra : "");
    cli_sh(res(), cmd);
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    if (!f) return 0;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

/* No worktree besides the repository's own, nothing left in TMPDIR; then the fixture is removed. */
static void assert_clean_and_remove(bisect_fixture *fx) {
    char cmd[512];
    cli_result *r = malloc(sizeof *r);
    assert_non_null(r);
    snprintf(cmd, sizeof cmd, "git -C %s worktree list --porcelain | grep -c '^worktree '; ls -A %s | wc -l", fx->repo,
             fx->tmp);
    cli_sh(r, cmd);
    if (strcmp(r->out, "1\n0\n")) print_message("left behind (worktrees, tmp entries):\n%s\n", r->out);
    assert_string_equal(r->out, "1\n0\n");
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    cli_sh(r, cmd);
    free(r);
}

/* The sha of commit c<i> (HEAD is c15). */
static void sha_of(const bisect_fixture *fx, int i, char out[64]) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "git -C %s rev-parse HEAD~%d", fx->repo, N_COMMITS - 1 - i);
    cli_sh(res(), cmd);
    snprintf(out, 64, "%.40s", res()->out);
}

static void test_bisect_finds_step(void **state) {
    (void)state;
    static const int steps[] = {6, 1, 11};
    for (size_t t = 0; t < sizeof steps / sizeof steps[0]; t++) {
        bisect_fixture fx;
        make_repo(&fx, steps[t]);
        char sha[64], want[128], builds[160];
        sha_of(&fx, steps[t], sha);
        run_bisect(&fx, NULL, NULL);
        if (res()->status) print_message("%s\n", res()->out);
        assert_int_equal(res()->status, 0);
        snprintf(want, sizeof want, "first moved commit: %s (%d of %d after GOOD)", sha, steps[t], N_COMMITS - 1);
        assert_non_null(strstr(res()->out, want));
        assert_non_null(strstr(res()->out, "SLOWER"));
        snprintf(builds, sizeof builds, "%s/builds", fx.dir);
        const int nb = count_lines(builds);
        print_message("NOTE bisect: step at commit %d found with %d builds\n", steps[t], nb);
        assert_true(nb >= 2 && nb <= 5);
        char said[64];
        snprintf(said, sizeof said, "bisect: %d builds", nb);
        assert_non_null(strstr(res()->out, said));
        assert_clean_and_remove(&fx);
    }
}

static void test_bisect_no_step(void **state) {
    (void)state;
    bisect_fixture fx;
    make_repo(&fx, 0);
    run_bisect(&fx, NULL, NULL);
    if (res()->status != 1) print_message("%s\n", res()->out);
    assert_int_equal(res()->status, 1);
    assert_non_null(strstr(res()->out, "nothing moved beyond 5.0%"));
    assert_null(strstr(res()->out, "first moved commit"));
    /* --bad-first measures GOOD and BAD only */
    char builds[160];
    snprintf(builds, sizeof builds, "%s/builds", fx.dir);
    unlink(builds);
    run_bisect(&fx, NULL, "--bad-first");
    assert_int_equal(res()->status, 1);
    assert_int_equal(count_lines(builds), 2);
    assert_clean_and_remove(&fx);
}

static void test_bisect_refuses(void **state) {
    (void)state;
    bisect_fixture fx;
    make_repo(&fx, 6);
    char cmd[1024];
    static const struct {
        const char *args, *msg;
    } bad[] = {
        {"nosuchref HEAD", "'nosuchref' is not a commit"},
        {"HEAD HEAD~3", "is not an ancestor of"},
        {"HEAD HEAD", "is not an ancestor of"},
        {"HEAD~3", "needs GOOD and BAD"},
        {"HEAD~3 HEAD --threshold 0", "--threshold: '0'"},
        {"HEAD~3 HEAD --reps 2", "cannot reach a bound"},
        {"HEAD~3 HEAD --bogus", "unknown option '--bogus'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "cd %s && TMPDIR=%s %s bisect %s", fx.repo, fx.tmp, cli_bin(), bad[i].args);
        cli_sh(res(), cmd);
        if (res()->status != 2 || !strstr(res()->out, bad[i].msg)) print_message("bisect %s:\n%s\n", bad[i].args, res()->out);
        assert_int_equal(res()->status, 2);
        assert_non_null(strstr(res()->out, bad[i].msg));
    }
    /* a build that modifies a tracked file, and one that fails */
    run_bisect(&fx, "echo 2 > ratio", NULL);
    assert_int_equal(res()->status, 2);
    assert_non_null(strstr(res()->out, "modified tracked files"));
    run_bisect(&fx, "echo broken; exit 3", NULL);
    assert_int_equal(res()->status, 2);
    assert_non_null(strstr(res()->out, "the build of"));
    assert_non_null(strstr(res()->out, "broken"));
    assert_clean_and_remove(&fx);
}

/* Stopped while building: the signal's status, and nothing left behind. */
static void test_bisect_interrupted(void **state) {
    (void)state;
    static const int sigs[] = {SIGTERM, SIGINT};
    for (size_t s = 0; s < sizeof sigs / sizeof sigs[0]; s++) {
        bisect_fixture fx;
        make_repo(&fx, 6);
        char cmd[2048], started[160];
        snprintf(started, sizeof started, "%s/started", fx.dir);
        snprintf(cmd, sizeof cmd, "cd %s && TMPDIR=%s exec %s bisect HEAD~%d HEAD --build 'touch %s; sleep 60' >%s/out 2>&1",
                 fx.repo, fx.tmp, cli_bin(), N_COMMITS - 1, started, fx.dir);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        struct stat st;
        for (int i = 0; i < 600 && stat(started, &st) != 0; i++) nanosleep(&(struct timespec){0, 50000000}, NULL);
        assert_int_equal(stat(started, &st), 0);
        kill(pid, sigs[s]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        const int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        print_message("NOTE bisect: stopped by signal %d mid-build, exit %d\n", sigs[s], code);
        assert_int_equal(code, 128 + sigs[s]);
        assert_clean_and_remove(&fx);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bisect_finds_step),
        cmocka_unit_test(test_bisect_no_step),
        cmocka_unit_test(test_bisect_refuses),
        cmocka_unit_test(test_bisect_interrupted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

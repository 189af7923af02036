/* latbench search's parts: the space (every seed winner a point of its family's space), the TPE
 * sampler (deterministic, in range), the params reader and the SQLite study (a damaged file
 * refused and left as it was, a dead worker's trial marked failed, the median of the pruner). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "lib/nn/netspec.h"
#include "tools/search/study.h"

static void each_preset_is_a_point(void **state) {
    (void)state;
    int checked = 0;
    for (int t = 0; t < 3; t++)
        for (int f = 0; f < 3; f++) {
            search_space s;
            search_space_init(&s, (search_task)t, (search_family)f);
            int n;
            const char *const *names = search_space_presets((search_task)t, (search_family)f, &n);
            for (int i = 0; i < n; i++) {
                search_point x;
                char err[256], text[4096];
                const char *spec = netspec_preset(names[i]);
                assert_non_null(spec);
                if (!search_space_decode(&s, spec, &x, err, sizeof err)) fail_msg("%s: %s", names[i], err);
                assert_true(search_space_encode(&s, &x, text, sizeof text));
                if (strcmp(text, spec)) fail_msg("%s: the point's spec\n%s differs from\n%s", names[i], text, spec);
                checked++;
            }
        }
    assert_int_equal(checked, 15);
}

/* A winner of another family is no point of EQ's space (pools) nor FL's (no flatten). */
static void other_families_are_not_points(void **state) {
    (void)state;
    search_space eq, fl;
    search_space_init(&eq, SEARCH_COUNT, SEARCH_EQ), search_space_init(&fl, SEARCH_COUNT, SEARCH_FL);
    search_point x;
    char err[256];
    assert_false(search_space_decode(&eq, netspec_preset("task3-st2"), &x, err, sizeof err));
    assert_false(search_space_decode(&fl, netspec_preset("task3-eq1"), &x, err, sizeof err));
    assert_false(search_space_decode(&eq, "conv 2x2 4 8 /2\nlrelu\ngsumpool\nlinear 8 1\n", &x, err, sizeof err));
}

/* n finished random trials whose value is their number of conv layers (pruned now and then). */
static void fake_trials(const search_space *s, search_observed *obs, int n) {
    search_tpe_opts o = search_tpe_defaults();
    o.n_startup = 1 << 20;
    for (int i = 0; i < n; i++) {
        search_tpe_suggest(s, &o, 7, i, obs, i, &obs[i].x);
        obs[i].value = obs[i].x.v[0] + 0.001 * i, obs[i].pruned = i % 7 == 6;
    }
}

static void tpe_is_deterministic_and_in_range(void **state) {
    (void)state;
    search_space s;
    search_space_init(&s, SEARCH_DETECT, SEARCH_ST);
    static search_observed obs[30];
    fake_trials(&s, obs, 30);
    search_tpe_opts o = search_tpe_defaults();
    search_point a, b, c;
    search_tpe_suggest(&s, &o, 11, 30, obs, 30, &a);
    search_tpe_suggest(&s, &o, 11, 30, obs, 30, &b);
    search_tpe_suggest(&s, &o, 12, 30, obs, 30, &c);
    assert_memory_equal(&a, &b, sizeof a);
    assert_true(memcmp(&a, &c, sizeof a) != 0);
    for (int i = 0; i < s.n; i++) {
        assert_true(a.v[i] >= s.p[i].lo && a.v[i] <= s.p[i].hi);
        if (s.p[i].kind == SP_INT) assert_true(a.v[i] == round(a.v[i]));
    }
    /* the fewer conv layers the better: l(x) / g(x) favours few (uniform: a mean of 3.5) */
    double sum = 0;
    for (int k = 0; k < 40; k++) {
        search_tpe_suggest(&s, &o, 100 + k, 30, obs, 30, &a);
        sum += a.v[0];
    }
    if (!(sum / 40 < 2.5)) fail_msg("TPE's mean n_conv %.2f, not below 2.5", sum / 40);
}

static void params_json_reader(void **state) {
    (void)state;
    search_space s;
    search_space_init(&s, SEARCH_COUNT, SEARCH_EQ);
    search_point x;
    char err[256];
    assert_false(search_point_from_json(&s, "[1]", &x, err, sizeof err));
    assert_false(search_point_from_json(&s, "{\"n_conv\": 2}", &x, err, sizeof err));
    assert_non_null(strstr(err, "missing"));
}

static bool propose_fixed(void *ctx, long number, const search_observed *obs, int n, search_point *x, char *spec,
                          size_t len, uint64_t *seed) {
    (void)obs, (void)n;
    char err[256];
    *seed = (uint64_t)number;
    snprintf(spec, len, "%s", netspec_preset("task3-eq2"));
    return search_space_decode(ctx, spec, x, err, sizeof err);
}

static void study_store(void **state) {
    (void)state;
    char dir[128], path[256], err[512];
    assert_int_equal(test_tmpdir_make(dir, sizeof dir, "latbench-study-"), 0);
    snprintf(path, sizeof path, "%s/s.sqlite", dir);
    search_space s, other;
    search_space_init(&s, SEARCH_COUNT, SEARCH_EQ), search_space_init(&other, SEARCH_COUNT, SEARCH_ST);
    search_study *st = search_study_open(path, &s, err, sizeof err);
    assert_non_null(st);
    long num[6];
    for (int i = 0; i < 6; i++) {
        assert_true(search_study_begin(st, propose_fixed, &s, &num[i], err, sizeof err));
        assert_int_equal(num[i], i);
        assert_true(search_study_report(st, num[i], 1, 1.0 + i));
        if (i < 5) assert_true(search_study_finish(st, num[i], "complete", 1.0 + i, 0.1, 456, err, sizeof err));
    }
    double med;
    assert_false(search_study_median_at(st, 1, 6, &med));
    assert_true(search_study_median_at(st, 1, 5, &med));
    assert_true(fabs(med - 3.0) < 1e-12);
    search_study_close(st);
    /* trial 5 is running, by this (live) process: kept; one of a dead child: marked failed */
    pid_t child = fork();
    if (child == 0) {
        search_study *c = search_study_open(path, &s, err, sizeof err);
        long n;
        _exit(c && search_study_begin(c, propose_fixed, &s, &n, err, sizeof err) && n == 6 ? 0 : 1);
    }
    int ws;
    waitpid(child, &ws, 0);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    st = search_study_open(path, &s, err, sizeof err);
    assert_non_null(st);
    search_trial_row *rows;
    int n;
    assert_true(search_study_rows(st, &rows, &n, err, sizeof err));
    assert_int_equal(n, 7);
    assert_string_equal(rows[5].state, "running");
    assert_string_equal(rows[6].state, "failed");
    free(rows);
    search_study_close(st);
    /* a study of another family, and a damaged file: refused, the file unchanged */
    assert_null(search_study_open(path, &other, err, sizeof err));
    assert_non_null(strstr(err, "--family eq"));
    snprintf(path, sizeof path, "%s/bad.sqlite", dir);
    FILE *f = fopen(path, "w");
    fputs("not a database at all, just text\n", f), fclose(f);
    assert_null(search_study_open(path, &s, err, sizeof err));
    assert_non_null(strstr(err, "not a latbench study"));
    size_t len;
    char *back = test_slurp(path, &len);
    assert_string_equal(back, "not a database at all, just text\n");
    free(back);
    assert_int_equal(test_tmpdir_remove(dir), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_preset_is_a_point), cmocka_unit_test(other_families_are_not_points),
        cmocka_unit_test(tpe_is_deterministic_and_in_range), cmocka_unit_test(params_json_reader),
        cmocka_unit_test(study_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

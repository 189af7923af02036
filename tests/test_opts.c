/* The option layer of every command (tools/opts): GNU getopt_long's forms, the reset between two
 * parses in one process (the tests and `latbench run` call commands one after another), the one
 * message form of a usage error, and the value parsers. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "tools/opts/opts.h"

enum { THREADS = 256, OUT, JSON, PROGRESS, QUIET };
static const struct option table[] = {{"threads", required_argument, NULL, THREADS}, {"out", required_argument, NULL, OUT},
                                      {"json", no_argument, NULL, JSON}, OPTS_PROGRESS_LONGOPTS(PROGRESS, QUIET), {0}};

/* stderr of the parse, captured into err. */
static char err[1024];
static int saved = -1;
static FILE *cap;
static void capture(void) {
    fflush(stderr);
    cap = tmpfile();
    assert_non_null(cap);
    saved = dup(2);
    dup2(fileno(cap), 2);
}
static void release(void) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(cap);
    size_t n = fread(err, 1, sizeof err - 1, cap);
    err[n] = 0;
    fclose(cap);
}

/* Parses argv (NULL-terminated, argv[0] the command); the last opts_next status; values in v[]. */
static int parse(char **argv, const char *v[8], int *first) {
    int argc = 0;
    while (argv[argc]) argc++;
    opts_parser p;
    opts_init(&p, "demo", argc, argv, table, "vt:", false);
    int c;
    capture();
    for (int k = 0; k < 8; k++) v[k] = NULL;
    while ((c = opts_next(&p)) >= 0)
        if (c == THREADS || c == 't') v[0] = p.arg;
        else if (c == OUT) v[1] = p.arg;
        else if (c == JSON) v[2] = "json";
        else if (c == 'v') v[3] = "v";
    release();
    *first = opts_first_operand(&p);
    return c;
}

static void test_forms_and_reset(void **state) {
    (void)state;
    const char *v[8];
    int first;
    /* twice in one process: the second parse starts afresh (the first stopped mid-cluster) */
    char *a1[] = {"demo", "-vt", "3", "x", "--out=o.json", NULL};
    assert_int_equal(parse(a1, v, &first), OPTS_END);
    assert_string_equal(v[0], "3");
    assert_string_equal(v[1], "o.json");
    assert_string_equal(v[3], "v");
    assert_int_equal(first, 4);   /* operands permuted to the end */
    char *a2[] = {"demo", "--thr", "2", "--json", "--", "--out", NULL};
    assert_int_equal(parse(a2, v, &first), OPTS_END);
    assert_string_equal(v[0], "2");   /* a unique prefix */
    assert_null(v[1]);               /* after --: an operand */
    assert_string_equal(v[2], "json");
    assert_string_equal(a2[first], "--out");
    char *a3[] = {"demo", "--help", NULL};
    assert_int_equal(parse(a3, v, &first), OPTS_HELP);
}

static void test_usage_errors(void **state) {
    (void)state;
    static const struct {
        char *arg;
        const char *want;
    } bad[] = {
        {"--bogus", "latbench demo: unknown option '--bogus' (try latbench demo --help)\n"},
        {"--bogus=1", "latbench demo: unknown option '--bogus' (try latbench demo --help)\n"},
        {"-z", "latbench demo: unknown option '-z' (try latbench demo --help)\n"},
        {"--out", "latbench demo: --out needs a value\n"},
        {"-t", "latbench demo: -t needs a value\n"},
        {"--json=yes", "latbench demo: --json takes no value\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *a[] = {"demo", bad[i].arg, NULL};
        const char *v[8];
        int first;
        assert_int_equal(parse(a, v, &first), OPTS_ERR);
        assert_string_equal(err, bad[i].want);
    }
}

static void test_values(void **state) {
    (void)state;
    long l;
    double d;
    int list[4], n;
    assert_true(opts_parse_long("42", 1, 50, &l) && l == 42);
    assert_false(opts_parse_long("51", 1, 50, &l));
    assert_false(opts_parse_long(" 4", 1, 50, &l));
    assert_false(opts_parse_long("4x", 1, 50, &l));
    assert_false(opts_parse_long("", 1, 50, &l));
    assert_true(opts_parse_double("0.01", 1e-12, 0.49, &d) && d == 0.01);
    assert_false(opts_parse_double("nan", 0, 1, &d));
    assert_false(opts_parse_double("inf", 0, 1e308, &d));
    assert_true(opts_parse_duration("90", &d) && d == 90);
    assert_true(opts_parse_duration("500ms", &d) && d == 0.5);
    assert_true(opts_parse_duration("5m", &d) && d == 300);
    assert_true(opts_parse_duration("1h", &d) && d == 3600);
    assert_false(opts_parse_duration("-3", &d));
    assert_false(opts_parse_duration("0", &d));
    assert_false(opts_parse_duration("5x", &d));
    assert_true(opts_parse_int_list("1,2,64", 1, 64, 4, list, &n) && n == 3 && list[2] == 64);
    assert_false(opts_parse_int_list("1,,2", 1, 64, 4, list, &n));
    assert_false(opts_parse_int_list("1,2,", 1, 64, 4, list, &n));
    assert_false(opts_parse_int_list("1,2,3,4,5", 1, 64, 4, list, &n));
    /* the message of a refused value names the option, the value and what it should be */
    char *a[] = {"demo", "--threads=0", "--progress", "loud", NULL};
    opts_parser p;
    opts_init(&p, "demo", 4, a, table, NULL, false);
    assert_int_equal(opts_next(&p), THREADS);
    capture();
    int t;
    bool ok = opts_int(&p, 1, 8, "a thread count", &t);
    release();
    assert_false(ok);
    assert_string_equal(err, "latbench demo: --threads: '0' is not a thread count in [1, 8]\n");
    assert_int_equal(opts_next(&p), PROGRESS);
    opts_progress m;
    capture();
    ok = opts_progress_parse(&p, &m);
    release();
    assert_false(ok);
    assert_string_equal(err, "latbench demo: --progress: 'loud' is not one of none, auto, bar or lines\n");
    assert_int_equal(opts_progress_resolve(OPTS_PROGRESS_LINES), OPTS_PROGRESS_LINES);
    assert_int_not_equal(opts_progress_resolve(OPTS_PROGRESS_AUTO), OPTS_PROGRESS_AUTO);
}

/* bench --gbench's pass-through: an unknown option of the prefix comes back whole, any other is refused */
static void test_pass_prefix(void **state) {
    (void)state;
    char *a[] = {"demo", "--benchmark_filter=conv", "--threads", "2", "--benchmark_list_tests", "--other", NULL};
    opts_parser p;
    opts_init(&p, "demo", 6, a, table, NULL, false);
    p.pass_prefix = "--benchmark_";
    assert_int_equal(opts_next(&p), OPTS_PASS);
    assert_string_equal(p.arg, "--benchmark_filter=conv");
    assert_int_equal(opts_next(&p), THREADS);
    assert_int_equal(opts_next(&p), OPTS_PASS);
    assert_string_equal(p.arg, "--benchmark_list_tests");
    capture();
    int c = opts_next(&p);
    release();
    assert_int_equal(c, OPTS_ERR);
    assert_non_null(strstr(err, "unknown option '--other'"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_and_reset),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_pass_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

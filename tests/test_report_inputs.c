/* latbench report's other inputs through the binary (LATBENCH_BIN, set by tests/run.sh): a dataset
 * directory (tiny `latbench generate` sets of task 1 and task 3) gives the label plot and the
 * per-label table; a search output (a tiny `latbench search`, and a written results.json with pruned
 * trials) gives the best-loss/time plot and the top-K table beside the seed's winners; a --train-mu
 * study's results.json gives the loss-vs-mu plot and the training range against the test range;
 * an experiment's report draws the datasets its results.json names (a tiny regression experiment:
 * each one's label figure and table, linked from report_table.md; removed ones a note, exit 0);
 * a damaged meta.json or .npy and a directory of neither kind give one line and exit 2.  Without
 * /usr/bin/python3 + numpy + matplotlib each test says so (NOTE) and checks only the bad-input lines.
 * Under an emulator (LATBENCH_RUNNER) the search runs 2 trials instead of 3. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/test_util.h"

static cli_result R;
static char tmp[128];

static void run(const char *fmt, const char *a, const char *b) {
    char args[2048];
    snprintf(args, sizeof args, fmt, a ? a : "", b ? b : "");
    cli_latbench(&R, NULL, args);
}

/* Whether the plotting interpreter has numpy and matplotlib; a NOTE when not. */
static bool have_python(const char *test) {
    static int known = -1;
    if (known < 0) {
        const char *py = getenv("LATBENCH_PYTHON");
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s -c 'import importlib.util as u, sys; "
                 "sys.exit(not (u.find_spec(\"numpy\") and u.find_spec(\"matplotlib\")))' 2>&1",
                 py && *py ? py : "/usr/bin/python3"); /* found, not imported: an import costs ~1 s */
        cli_result *c = malloc(sizeof *c);
        assert_non_null(c);
        cli_sh(c, cmd);
        known = c->status == 0;
        free(c);
    }
    if (!known) print_message("NOTE %s: no python3 with numpy and matplotlib: the plots are not checked\n", test);
    return known;
}

static void assert_png(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("missing %s; latbench said:\n%s", path, R.out);
    unsigned char head[16];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(head + 12, "IHDR", 4);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    fclose(f);
    if (n < 10000) fail_msg("%s: only %ld bytes", path, n);
}

/* dir/name, NUL-terminated, into a static buffer. */
static const char *read_text(const char *dir, const char *name) {
    static char text[1 << 16];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("missing %s; latbench said:\n%s", path, R.out);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    return text;
}

static void assert_has(const char *text, const char *needle) {
    if (!strstr(text, needle)) fail_msg("expected '%s' in:\n%s", needle, text);
}

static void expect_bad(const char *arg, const char *needle) {
    run("report %s", arg, NULL);
    if (R.status != 2 || R.lines != 1) fail_msg("%s: exit %d, %d lines:\n%s", arg, R.status, R.lines, R.out);
    assert_has(R.out, "latbench report:");
    assert_has(R.out, needle);
}

static int setup(void **s) {
    (void)s;
    return test_tmpdir_make(tmp, sizeof tmp, "latbench-report-in-");
}

static int teardown(void **s) {
    (void)s;
    return test_tmpdir_remove(tmp);
}

#define GEN "generate --lattice 8x4 --lambda 1 --chains 2 --therm 40 --spacing 2 --threads 1 --quiet "

static void test_dataset_label_distributions(void **s) {
    (void)s;
    char dir[256], out[256];
    snprintf(dir, sizeof dir, "%s/reg", tmp);
    run(GEN "--task regression --eta 4.01 --mu 0.9:1.05:0.05 --count 64 --out %s", dir, NULL);
    if (R.status) fail_msg("generate: exit %d:\n%s", R.status, R.out);
    if (!have_python("test_dataset_label_distributions")) return;
    run("report %s", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    assert_png(dir, "report_dataset_labels.png");
    const char *t = read_text(dir, "report_dataset_table.md");
    assert_has(t, "task regression on 8x4, 64 samples");
    assert_has(t, "## Label n\n");
    assert_has(t, "## Label phi2\n");
    assert_has(t, "| all | 64 |");
    assert_has(t, "| \u03b7 4.01, \u03bc 0.9 | 16 |");
    assert_has(t, "| \u03b7 4.01, \u03bc 1.05 | 16 |");

    /* Task 3 into --out elsewhere: the count histogram, the K column's statistics (K in 0..5). */
    snprintf(dir, sizeof dir, "%s/cnt", tmp);
    run(GEN "--task count --points 4.25:1,4.01:1.5 --worms 0:5 --count 40 --out %s", dir, NULL);
    if (R.status) fail_msg("generate: exit %d:\n%s", R.status, R.out);
    snprintf(out, sizeof out, "%s/cnt-plots", tmp);
    run("report %s --out %s", dir, out);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    assert_png(out, "report_dataset_labels.png");
    t = read_text(out, "report_dataset_table.md");
    assert_has(t, "## Label open_worms\n");
    assert_has(t, "| all | 40 |");
    assert_has(t, "| 0 | 5 |\n"); /* min and max of K over the set */
    assert_has(t, "| \u03b7 4.25, \u03bc 1 | 20 |");
    assert_int_equal(access(dir, F_OK), 0);
}

static void test_dataset_bad_input(void **s) {
    (void)s;
    char dir[256], arg[300];
    snprintf(dir, sizeof dir, "%s/neither", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    expect_bad(dir, "neither a dataset directory (no meta.json) nor a results directory");
    test_write_file(dir, "meta.json", "{\"format\": \"latbench-dataset-1\", \"task\": \"count\", \"lattice\": [8,");
    expect_bad(dir, "meta.json: not JSON");
    test_write_file(dir, "meta.json", "{\"format\": \"other\", \"task\": \"count\", \"lattice\": [8, 4], \"count\": 4}");
    expect_bad(dir, "not a latbench dataset's meta.json");
    /* A real meta.json with a truncated y.npy: refused by the plotting script, still one line. */
    snprintf(dir, sizeof dir, "%s/trunc", tmp);
    run(GEN "--task count --points 4.25:1 --worms 0:2 --count 8 --out %s", dir, NULL);
    if (R.status) fail_msg("generate: exit %d:\n%s", R.status, R.out);
    snprintf(arg, sizeof arg, "%s/y.npy", dir);
    assert_int_equal(truncate(arg, 90), 0);
    if (!have_python("test_dataset_bad_input")) return;
    expect_bad(dir, "y.npy: not a readable .npy");
}

/* A search's results.json with a pruned trial (one without a value) and a failed one. */
static const char *SEARCH_RESULTS =
    "{\"task\": \"count\", \"family\": \"eq\", \"trials\": [\n"
    " {\"number\": 0, \"state\": \"complete\", \"value\": 4.0, \"n_params\": 900, \"seconds\": 1.5},\n"
    " {\"number\": 1, \"state\": \"pruned\", \"value\": 9.0, \"n_params\": 4000, \"seconds\": 0.4},\n"
    " {\"number\": 2, \"state\": \"complete\", \"value\": 2.0, \"n_params\": 1800, \"seconds\": 2.5},\n"
    " {\"number\": 3, \"state\": \"pruned\", \"value\": null, \"n_params\": 100, \"seconds\": 0.2},\n"
    " {\"number\": 4, \"state\": \"failed\", \"value\": null, \"n_params\": 100, \"seconds\": 0.1}],\n"
    " \"top\": [{\"rank\": 1, \"number\": 2, \"value\": 2.0, \"n_params\": 1800, \"file\": \"top-1.spec\"},\n"
    "         {\"rank\": 2, \"number\": 0, \"value\": 4.0, \"n_params\": 900, \"file\": \"top-2.spec\"}],\n"
    " \"seed_winners\": [{\"name\": \"task3-eq1\", \"n_params\": 1800}, {\"name\": \"task3-eq2\", \"n_params\": 600}],\n"
    " \"median_seconds_per_trial\": 0.4}\n";

static void test_search_report(void **s) {
    (void)s;
    char dir[256], args[1024];
    snprintf(dir, sizeof dir, "%s/search", tmp);
    snprintf(args, sizeof args, "search --task count --family st --train-count 300 --therm 32 --epochs 3 --threads 1 "
             "--quiet --trials %d --out %s", cli_emulated() ? 2 : 3, dir);
    cli_latbench(&R, NULL, args);
    if (R.status) fail_msg("search: exit %d:\n%s", R.status, R.out);
    bool py = have_python("test_search_report");
    if (py) {
        run("report %s", dir, NULL); /* the directory stands for its results.json */
        if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
        assert_png(dir, "report_search.png");
        const char *t = read_text(dir, "report_search_table.md");
        assert_has(t, "# search count st:");
        assert_has(t, "| 1 | ");
        assert_has(t, "| task3-st1 | 2336 |"); /* the seed's winner, its parameter count (latbench model) */
    }
    snprintf(dir, sizeof dir, "%s/search-written", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    test_write_file(dir, "results.json", SEARCH_RESULTS);
    if (py) {
        run("report %s/results.json", dir, NULL);
        if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
        assert_png(dir, "report_search.png");
        const char *t = read_text(dir, "report_search_table.md");
        assert_has(t, "Trials: 2 complete, 1 failed, 2 pruned");
        assert_has(t, "median 0.4 s, min 0.1 s, max 2.5 s");
        assert_has(t, "| 1 | 2 | 2 | 1800 | 3.00 | top-1.spec |"); /* 1800 / the smaller seed winner's 600 */
        assert_has(t, "| 2 | 0 | 4 | 900 | 1.50 | top-2.spec |");
        assert_has(t, "| task3-eq2 | 600 |");
    }
    test_write_file(dir, "results.json", "{\"task\": \"count\", \"trials\": [{\"number\": 0, \"state\": \"complete\"}]}");
    expect_bad(dir, "not a latbench search results.json");
}

/* A --train-mu study (tools/experiment/studies.c): trained on mu 0.90..0.94 (below the onset). */
#define PT(MU, L) "{\"eta\": 4.01, \"lambda\": 1.0, \"mu\": " #MU ", \"n\": 10, \"loss\": " #L "}"
static const char *RESULTS_TRAIN_MU =
    "{\"task\": \"regression\", \"study\": \"train_mu\", \"train_lattice\": \"60x4\", \"train_count\": 800,\n"
    " \"test_lattices\": [\"60x4\", \"50x2\"], \"settings\": {\"trials\": 1, \"epochs\": 10},\n"
    " \"archs\": [{\"arch\": \"task1-eq\", \"params\": 953, \"train_mu\": [0.9, 0.94], \"train_size\": 320,\n"
    "   \"trials\": [{\"trial\": 0, \"val_loss\": 0.01, \"test\": {\n"
    "   \"60x4\": {\"loss\": 0.2, \"per_point\": [" PT(0.9, 0.01) ", " PT(0.95, 0.05) ", " PT(1.0, 0.3) ", " PT(1.05, 0.6) "]},\n"
    "   \"50x2\": {\"loss\": 0.3, \"per_point\": [" PT(0.9, 0.02) ", " PT(0.95, 0.07) ", " PT(1.0, 0.4) ", " PT(1.05, 0.7) "]}}}],\n"
    "   \"summary\": {\"val_mean\": 0.01, \"val_median\": 0.01}}]}\n";

static void test_train_mu_study(void **s) {
    (void)s;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/train-mu", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    test_write_file(dir, "results.json", RESULTS_TRAIN_MU);
    if (!have_python("test_train_mu_study")) return;
    run("report %s", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    assert_png(dir, "report_loss_vs_mu.png");
    const char *t = read_text(dir, "report_table.md");
    assert_has(t, "| training (60x4) | 0.9 .. 0.94 | 320 |");
    assert_has(t, "| test (60x4, 50x2) | 0.9 .. 1.05 | per point |");
    assert_has(t, "training below it only");
    assert_null(strstr(t, "0.90..1.05")); /* not the task's fixed training range */
}

/* An experiment's datasets: results.json names each one (role, lattice, its directory relative to the
 * output, its generate arguments), the report draws each one's labels and links them; a removed
 * dataset is a note (exit 0), a "datasets" entry that is not one is bad input. */
static void test_experiment_datasets(void **s) {
    (void)s;
    SKIP_WORKFLOW_UNDER_EMULATION("test_experiment_datasets");
    char dir[160], args[1024], path[600], moved[600];
    snprintf(dir, sizeof dir, "%s/exp", tmp);
    snprintf(args, sizeof args, "experiment regression --quick --trials 1 --epochs 1 --train-count 100 --test-count 13 "
             "--therm 8 --threads 1 --seed 5 --quiet --out %s", dir);
    cli_latbench(&R, "LATBENCH_SHARE=/nonexistent", args); /* its own report skipped: drawn below */
    if (R.status) fail_msg("experiment: exit %d:\n%s", R.status, R.out);
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_t *r = json_load_file(path, 0, NULL), *d;
    assert_non_null(r);
    json_t *sets = json_object_get(r, "datasets");
    assert_int_equal(json_array_size(sets), 4); /* train 60x4; test 60x4, 50x2, 100x5 (quick) */
    char names[4][64];
    size_t i;
    json_array_foreach(sets, i, d) {
        const char *role = json_string_value(json_object_get(d, "role")), *rel = json_string_value(json_object_get(d, "dir"));
        const char *set = json_string_value(json_object_get(d, "settings"));
        assert_non_null(role), assert_non_null(rel), assert_non_null(set);
        assert_string_equal(role, i ? "test" : "train");
        if (strncmp(rel, i ? "data/test-" : "data/train-60x4-100-", i ? 10 : 20)) fail_msg("dir %s", rel);
        snprintf(names[i], sizeof names[i], "%s", rel + 5);
        snprintf(path, sizeof path, "%s/%s/meta.json", dir, rel); /* the directory the run made */
        assert_int_equal(access(path, F_OK), 0);
        assert_has(set, "--task regression ");
        assert_has(set, i ? "--count 13 --seed 100" : "--count 100 --seed 1005");
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(sets, 2), "lattice")), "50x2");
    json_decref(r);
    snprintf(path, sizeof path, "%s/results.json", dir);
    char *text = test_slurp(path, NULL);
    assert_non_null(text);
    assert_null(strstr(text, tmp)); /* no absolute path: the same bytes wherever the output lies */
    free(text);
    if (!have_python("test_experiment_datasets")) return;
    run("report %s", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    char want[300];
    for (int k = 0; k < 4; k++) {
        snprintf(want, sizeof want, "report_dataset_%.63s_labels.png", names[k]);
        assert_png(dir, want);
        snprintf(want, sizeof want, "report_dataset_%.63s_table.md", names[k]);
        assert_has(read_text(dir, want), k ? ", 13 samples" : "task regression on 60x4, 100 samples");
    }
    const char *t = read_text(dir, "report_table.md");
    assert_has(t, "## Datasets");
    for (int k = 0; k < 4; k++) {
        snprintf(want, sizeof want, "[figure](report_dataset_%.63s_labels.png), [table](report_dataset_%.63s_table.md)",
                 names[k], names[k]);
        assert_has(t, want);
    }
    /* one test set removed: the rest drawn, one note naming it, its row says so */
    snprintf(path, sizeof path, "%s/data/%s", dir, names[2]);
    snprintf(moved, sizeof moved, "%s/moved-%s", tmp, names[2]);
    assert_int_equal(rename(path, moved), 0);
    run("report %s", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    snprintf(want, sizeof want, "note: dataset missing (removed?): data/%s; its label figure not drawn\n", names[2]);
    assert_has(R.out, want);
    snprintf(want, sizeof want, "| test | 50x2 | — | `data/%s` | missing |", names[2]);
    assert_has(read_text(dir, "report_table.md"), want);
    /* every dataset gone: still a report, one note line */
    snprintf(args, sizeof args, "rm -rf %s/data", dir);
    cli_sh(&R, args);
    run("report %s", dir, NULL);
    if (R.status) fail_msg("exit %d:\n%s", R.status, R.out);
    assert_has(R.out, "note: datasets missing (removed?): data/train-60x4-100-");
    assert_png(dir, "report_loss_vs_lattice.png");
    /* a "datasets" entry outside the output, or not an entry: one line, exit 2 */
    snprintf(dir, sizeof dir, "%s/exp-bad", tmp);
    assert_int_equal(mkdir(dir, 0755), 0);
    static const char *const BAD =
        "{\"task\": \"regression\", \"train_lattice\": \"60x4\", \"test_lattices\": [\"60x4\"],\n"
        " \"archs\": [{\"arch\": \"task1-eq\", \"trials\": [], \"summary\": {}}], \"datasets\": %s}\n";
    snprintf(args, sizeof args, BAD, "[{\"role\": \"train\"}]");
    test_write_file(dir, "results.json", args);
    expect_bad(dir, "a \"datasets\" entry lacks role/dir");
    snprintf(args, sizeof args, BAD, "[{\"role\": \"train\", \"dir\": \"../../etc\"}]");
    test_write_file(dir, "results.json", args);
    expect_bad(dir, "a \"datasets\" entry lacks role or a relative dir inside the output");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataset_label_distributions),
        cmocka_unit_test(test_dataset_bad_input),
        cmocka_unit_test(test_search_report),
        cmocka_unit_test(test_train_mu_study),
        cmocka_unit_test(test_experiment_datasets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

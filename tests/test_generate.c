/* latbench generate end to end: the three tasks' datasets read by NumPy (Debian's python3-numpy),
 * every label recomputed from the divergence of k in the written x.npy, byte-identical output for
 * 1 and 2 threads, and bad input rejected with one line and exit status 2, leaving nothing behind;
 * and the canonical settings text `latbench experiment` names its dataset directories by.
 * LATBENCH_BIN (set by tests/run.sh) names the binary of the build under test. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "lib/lattice/gendata.h"

static cli_result R;
static char tmpdir[256];

static void gen(cli_result *r, const char *args) {
    char a[2100];
    snprintf(a, sizeof a, "generate %.2000s", args);
    cli_latbench(r, NULL, a);
}

/* Checks a dataset with NumPy: shapes, dtypes, meta.json, labels from div k, clean configs closed. */
static const char *CHECK_PY =
    "import json, sys\n"
    "import numpy as np\n"
    "d = sys.argv[1]\n"
    "x = np.load(d + '/x.npy'); y = np.load(d + '/y.npy'); m = json.load(open(d + '/meta.json'))\n"
    "N = m['count']; nt, nx = m['lattice']\n"
    "assert x.dtype == np.int16 and x.shape == (N, 4, nt, nx), (x.dtype, x.shape)\n"
    "assert y.dtype == np.float32 and y.shape[0] == N, (y.dtype, y.shape)\n"
    "assert m['x']['channels'] == ['k_t', 'k_x', 'l_t', 'l_x']\n"
    "assert (x[:, 2:] >= 0).all(), 'negative l'\n"
    "kt = x[:, 0].astype(np.int64); kx = x[:, 1].astype(np.int64)\n"
    "div = kt - np.roll(kt, 1, axis=1) + kx - np.roll(kx, 1, axis=2)\n"
    "assert np.abs(div).max() <= 1\n"
    "K = np.abs(div).sum(axis=(1, 2)) // 2\n"
    "assert (np.abs(div).sum(axis=(1, 2)) % 2 == 0).all()\n"
    "task = m['task']\n"
    "if task == 'regression':\n"
    "    assert y.shape[1] == 2 and (K == 0).all()\n"
    "    n = kt.sum(axis=(1, 2)) / (nt * nx)\n"
    "    assert np.allclose(y[:, 0], n, rtol=0, atol=1e-6), 'y[:,0] is not n of the configuration'\n"
    "    assert (y[:, 1] > 0).all()\n"
    "elif task == 'detect':\n"
    "    assert y.shape[1] == 1 and set(np.unique(y)) <= {0.0, 1.0}\n"
    "    assert (y[:, 0] == (K > 0)).all(), 'detect label differs from div k'\n"
    "    assert abs(int((y == 0).sum()) - N // 2) <= len(m['points'])\n"
    "else:\n"
    "    assert y.shape[1] == 1\n"
    "    assert (y[:, 0] == K).all(), 'count label differs from div k'\n"
    "    assert sorted(set(K.tolist())) == sorted(set(m['worms'])), (set(K.tolist()), m['worms'])\n"
    "tot = 0\n"
    "for p in m['points']:\n"
    "    assert p['offset'] == tot and p['spacing'] >= 1 and p['tau_int'] >= 0.5\n"
    "    tot += p['count']\n"
    "    if task != 'regression':\n"
    "        lab = {int(k): v for k, v in p['labels'].items()}\n"
    "        ys = K[p['offset']:p['offset'] + p['count']]\n"
    "        for k, v in lab.items(): assert (ys == k).sum() == v, (k, v)\n"
    "assert tot == N\n"
    "print('numpy-ok', task, x.shape, y.shape)\n";

static void check_with_numpy(const char *dir) {
    char py[300], cmd[1024];
    snprintf(py, sizeof py, "%s/check.py", tmpdir);
    FILE *f = fopen(py, "w");
    assert_non_null(f);
    fputs(CHECK_PY, f);
    fclose(f);
    /* Debian's interpreter: the one python3-numpy belongs to */
    snprintf(cmd, sizeof cmd, "%s %s %s", access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3", py, dir);
    cli_sh(&R, cmd);
    if (R.status != 0 || !strstr(R.out, "numpy-ok")) fail_msg("numpy check of %s failed:\n%s", dir, R.out);
    printf("NOTE %s", R.out);
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static int same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* No temporary directory is left next to a dataset. */
static int leftovers(void) {
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp-")) n++;
    if (d) closedir(d);
    return n;
}

static int setup(void **state) {
    (void)state;
    return test_tmpdir_make(tmpdir, sizeof tmpdir, "latbench-test-generate-");
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

static void test_regression(void **state) {
    (void)state;
    char a[1024];
    snprintf(a, sizeof a, "--task regression --lattice 12x4 --eta 4.01 --lambda 1 --mu 0.9:1.05:0.05 --count 82 "
                          "--therm 200 --chains 5 --out %s/reg --threads 2", tmpdir);
    gen(&R, a);
    if (R.status != 0) fail_msg("%s", R.out);
    char d[400];
    snprintf(d, sizeof d, "%s/reg", tmpdir);
    check_with_numpy(d);
    assert_int_equal(leftovers(), 0);
}

static void test_detect_and_count(void **state) {
    (void)state;
    char a[1024], d[400];
    snprintf(a, sizeof a, "--task detect --lattice 8x8 --points 4.25:1,4.01:1.5 --lambda 1 --count 120 --worms 1,2 "
                          "--therm 200 --chains 4 --out %s/det --threads 2", tmpdir);
    gen(&R, a);
    if (R.status != 0) fail_msg("%s", R.out);
    snprintf(d, sizeof d, "%s/det", tmpdir);
    check_with_numpy(d);
    snprintf(a, sizeof a, "--task count --lattice 8x8 --eta 4.01,4.25 --mu 1,1.5 --lambda 1 --count 176 "
                          "--therm 200 --chains 4 --out %s/cnt --threads 2", tmpdir);
    gen(&R, a);
    if (R.status != 0) fail_msg("%s", R.out);
    snprintf(d, sizeof d, "%s/cnt", tmpdir);
    check_with_numpy(d);
    /* an odd, non-square lattice with the maximum worm count it holds at one point */
    snprintf(a, sizeof a, "--task count --lattice 5x7 --eta 4.01 --mu 1.25 --lambda 1 --count 30 --worms 0,17 "
                          "--therm 100 --chains 3 --out %s/odd", tmpdir);
    gen(&R, a);
    if (R.status != 0) fail_msg("%s", R.out);
    snprintf(d, sizeof d, "%s/odd", tmpdir);
    check_with_numpy(d);
}

/* Same seed: the same bytes in all three files for 1 and 2 threads. */
static void test_threads_byte_identical(void **state) {
    (void)state;
    char a[1024];
    for (int t = 1; t <= 2; t++) {
        snprintf(a, sizeof a, "--task count --lattice 8x8 --points 4.25:1,4.01:1.5 --lambda 1 --count 90 --worms 0:3 "
                              "--therm 160 --chains 6 --seed 42 --out %s/t%d --threads %d", tmpdir, t, t);
        gen(&R, a);
        if (R.status != 0) fail_msg("%s", R.out);
    }
    static const char *files[] = {"x.npy", "y.npy", "meta.json"};
    for (int i = 0; i < 3; i++) {
        char p1[400], p2[400];
        snprintf(p1, sizeof p1, "%s/t1/%s", tmpdir, files[i]);
        snprintf(p2, sizeof p2, "%s/t2/%s", tmpdir, files[i]);
        assert_true(file_size(p1) > 0);
        if (!same_file(p1, p2)) fail_msg("%s differs between 1 and 2 threads", files[i]);
    }
    /* and a different seed gives different configurations */
    snprintf(a, sizeof a, "--task count --lattice 8x8 --points 4.25:1,4.01:1.5 --lambda 1 --count 90 --worms 0:3 "
                          "--therm 160 --chains 6 --seed 43 --out %s/t3 --threads 2", tmpdir);
    gen(&R, a);
    assert_int_equal(R.status, 0);
    char p1[400], p3[400];
    snprintf(p1, sizeof p1, "%s/t1/x.npy", tmpdir);
    snprintf(p3, sizeof p3, "%s/t3/x.npy", tmpdir);
    assert_false(same_file(p1, p3));
}

/* lat_gen_settings_text: the experiment's dataset names are hashes of it, so these texts (today's
 * names) must not change: the point options in the canonical order or the one given, no --out or
 * --threads, other settings only where they differ from the defaults. */
static void test_settings_text(void **state) {
    (void)state;
    static const char *const lambda_before_mu[] = {"--points", "--eta", "--lambda", "--mu", "--worms", NULL};
    char t[512];
    lat_gen_settings s = lat_gen_settings_defaults();
    s.task = "count", s.eta = "4.01,4.04,4.25", s.mu = "1,1.25,1.5", s.lambda = "1", s.worms = "0:10";
    s.lattice = "16x16", s.count = 108, s.seed = 1003, s.therm = 32, s.chains = 4, s.threads = 7, s.out = "d";
    assert_true(lat_gen_settings_text(&s, NULL, t, sizeof t));
    assert_string_equal(t, "--task count --eta 4.01,4.04,4.25 --mu 1,1.25,1.5 --lambda 1 --worms 0:10 --lattice 16x16 "
                           "--count 108 --seed 1003 --therm 32 --chains 4");
    s = lat_gen_settings_defaults();
    s.task = "detect", s.points = "4.25:1,4.01:1.5", s.lambda = "1", s.lattice = "8x8", s.count = 4000, s.seed = 1001;
    assert_true(lat_gen_settings_text(&s, NULL, t, sizeof t));
    assert_string_equal(t, "--task detect --points 4.25:1,4.01:1.5 --lambda 1 --lattice 8x8 --count 4000 --seed 1001 "
                           "--therm 2000 --chains 16");
    s = lat_gen_settings_defaults();
    s.task = "regression", s.eta = "4.01", s.lambda = "1", s.mu = "0.90:1.05:0.01", s.lattice = "60x4";
    s.count = 20000, s.seed = 1001;
    assert_true(lat_gen_settings_text(&s, lambda_before_mu, t, sizeof t));
    assert_string_equal(t, "--task regression --eta 4.01 --lambda 1 --mu 0.90:1.05:0.01 --lattice 60x4 --count 20000 "
                           "--seed 1001 --therm 2000 --chains 16");
    s.spacing = 5, s.tau_factor = 3;
    assert_true(lat_gen_settings_text(&s, lambda_before_mu, t, sizeof t));
    assert_non_null(strstr(t, "--chains 16 --tau-factor 3 --spacing 5"));
    assert_false(lat_gen_settings_text(&s, NULL, t, 40)); /* too long for the buffer */
}

static void test_bad_input(void **state) {
    (void)state;
    char exist[400], notdir[400];
    snprintf(exist, sizeof exist, "%s/exists", tmpdir);
    mkdir(exist, 0755);
    snprintf(notdir, sizeof notdir, "%s/plainfile", tmpdir);
    FILE *f = fopen(notdir, "w");
    fputs("x", f);
    fclose(f);
    static const char *ok = "--task count --lattice 8x8 --eta 4.01 --lambda 1 --mu 1 --count 10 --therm 50";
    struct {
        char args[700];
        const char *needle;
    } bad[] = {
        {"", "already exists; refusing to overwrite"},
        {"", "does not exist"},
        {"", "cannot write in /proc"},
        {"--task count --lattice 8x8 --eta 0 --lambda 0 --mu 0 --count 10 --out X", "eta must be > 0 when lambda = 0"},
        {"--task count --lattice 1x8 --eta 4 --lambda 1 --mu 1 --count 10 --out X", "every dimension must be >= 2"},
        {"--task count --lattice 8x8 --eta 4 --lambda 1 --mu 1 --count -5 --out X", "--count -5"},
        {"--task count --lattice 8x8 --eta 4 --lambda 1 --mu 1 --count 10 --chains -1 --out X", "--chains -1"},
        {"--task count --lattice 8x8 --eta 4 --lambda 1 --mu 1 --count 10 --worms -1 --out X", "--worms -1"},
        {"--task detect --lattice 8x8 --eta 4 --lambda 1 --mu 1 --count 10 --worms 0 --out X", "--worms 0"},
        {"--task count --lattice 4x4 --eta 4 --lambda 1 --mu 1 --count 10 --worms 9 --out X", "distinct end sites"},
        {"--task count --lattice 8x8 --eta 4 --lambda 1 --mu 1,2 --count 1 --out X", "less than the number of parameter points"},
        {"--task sort --lattice 8x8 --eta 4 --lambda 1 --mu 1 --count 10 --out X", "--task sort"},
        {"--task regression --lattice 8x8 --eta 4 --lambda 1 --mu 1 --count 10 --worms 2 --out X", "--worms applies"},
        {"--task count --lattice 8x8 --points 4:1,5 --lambda 1 --count 10 --out X", "--points 4:1,5"},
        {"--task count --lattice 8x8 --eta 4 --lambda 1 --count 10 --out X", "are required"},
    };
    snprintf(bad[0].args, sizeof bad[0].args, "%s --out %s", ok, exist);
    snprintf(bad[1].args, sizeof bad[1].args, "%s --out %s/nowhere/ds", ok, tmpdir);
    snprintf(bad[2].args, sizeof bad[2].args, "%s --out /proc/latbench-dataset", ok);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *x = strstr(bad[i].args, "--out X");
        if (x) snprintf(x, sizeof bad[i].args - (x - bad[i].args), "--out %s/never", tmpdir);
        gen(&R, bad[i].args);
        if (R.status != 2 || R.lines != 1 || !strstr(R.out, bad[i].needle))
            fail_msg("'%s': status %d, %d lines: %s (wanted '%s')", bad[i].args, R.status, R.lines, R.out, bad[i].needle);
        char never[400];
        snprintf(never, sizeof never, "%s/never", tmpdir);
        assert_int_equal(file_size(never), -1);
    }
    /* the existing directory is untouched; nothing half-written anywhere */
    DIR *d = opendir(exist);
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d))) entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    assert_int_equal(entries, 0);
    assert_int_equal(leftovers(), 0);
    /* a runtime failure (the W table overflows) removes the temporary directory too */
    char a[700];
    snprintf(a, sizeof a, "--task count --lattice 8x8 --eta 4.01 --lambda 1 --mu 1.8 --count 10 --therm 50 --fmax 10 "
                          "--out %s/never", tmpdir);
    gen(&R, a);
    assert_int_equal(R.status, 1);
    assert_non_null(strstr(R.out, "F_max = 10"));
    assert_int_equal(leftovers(), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regression),
        cmocka_unit_test(test_detect_and_count),
        cmocka_unit_test(test_threads_byte_identical),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_settings_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

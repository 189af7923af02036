/* `latbench dashboard` (tools/track/dashboard.h): a small history with injected steps gives a page that
 * names every series, has one <svg> per series and one change-point marker per injected step, at its
 * exact run, also in a series drawn decimated, the same change points and alarm `latbench history`
 * reports, and a known-break marker where the tuning profile changed; headless Chromium (when installed; the output says so
 * when not) renders it to a non-empty PNG, its DOM has the same <svg>s and markers, the filters from
 * the address hide the other machine's cards, and a pointer over a run shows its commit, profile and values.
 * Timing: a generated history (LATBENCH_DASH_RUNS x LATBENCH_DASH_SERIES, default 300 x 20) is written,
 * its time printed and its CPU time checked against 5 s. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "tools/track/dashboard.h"

static cli_result R;
static char dir[64];

static int setup(void **s) {
    (void)s;
    return test_tmpdir_make(dir, sizeof dir, "latbench-dash-");
}

static int teardown(void **s) {
    (void)s;
    return test_tmpdir_remove(dir);
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* The steps (%) that the change-point markers show, in page order. */
static int cp_steps(const char *html, double *out, int cap) {
    int n = 0;
    for (const char *p = html; n < cap && (p = strstr(p, "<g class=\"cp\">")); p++) {
        const char *t = strstr(p, "<text");
        assert_non_null(t);
        out[n++] = strtod(strchr(t, '>') + 1, NULL);
    }
    return n;
}

/* A deterministic noise in [-1, 1]. */
static double noise(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xffff) / 32767.5 - 1;
}

typedef struct {
    const char *machine, *name;
    int step_at;         /* the first run of the new level (-1: none) */
    double level, step;  /* ns, after / before */
} series_spec;

/* runs x the series of spec (each run holds every series of its machine), commits c0000..., 6 hours
 * apart; m-one's runs ran with tuning profile ...aa before run profile_at, ...bb from it (-1: the
 * profile of every run not known, as for bench runs). */
static void build_history(const char *path, const series_spec *spec, int n_spec, int runs, int profile_at) {
    char err[1400];
    hist_db *db = hist_open(path, true, err, sizeof err);
    if (!db) fail_msg("%s", err);
    hist_record *recs = calloc((size_t)n_spec, sizeof *recs);
    assert_non_null(recs);
    unsigned seed = 7;
    for (int r = 0; r < runs; r++) {
        const char *machines[2] = {"m-one", "m-two"};
        for (int m = 0; m < 2; m++) {
            hist_run run = {0};
            snprintf(run.machine, sizeof run.machine, "%s", machines[m]);
            snprintf(run.commit, sizeof run.commit, "c%07d%s", r, m ? "b" : "a");
            time_t t = 1767225600 + (time_t)r * 6 * 3600;   /* 2026-01-01, then every 6 hours */
            struct tm tm;
            strftime(run.date, sizeof run.date, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
            snprintf(run.command, sizeof run.command, "bench");
            if (profile_at >= 0 && m == 0) snprintf(run.profile, sizeof run.profile, "profile:00000000000000%s", r < profile_at ? "aa" : "bb");
            int n = 0;
            for (int i = 0; i < n_spec; i++) {
                if (strcmp(spec[i].machine, machines[m])) continue;
                double v = spec[i].level * (spec[i].step_at >= 0 && r >= spec[i].step_at ? spec[i].step : 1) * (1 + 0.01 * noise(&seed));
                recs[n] = (hist_record){.name = spec[i].name, .median = v, .q1 = v * 0.99, .q3 = v * 1.01,
                                        .ratio_onednn = 2e5 / v, .ratio_scalar = 8e5 / v, .gflops = 3e5 / v};
                if (!strncmp(spec[i].name, "pipeline/", 9)) recs[n].ratio_onednn = recs[n].ratio_scalar = NAN;
                n++;
            }
            bool added;
            if (n && !hist_append(db, &run, recs, (size_t)n, &added, err, sizeof err)) fail_msg("%s", err);
        }
    }
    free(recs);
    hist_close(db);
}

static const series_spec SPEC[] = {
    {"m-one", "conv2d_fwd/mb1_ic4oc8_ih8iw8_kh1kw1_sh1sw1_b0/ours/threads:1", 40, 1000, 1.3},
    {"m-one", "pool_fwd/avg_mb32_c48_ih8iw8_k2s2/ours/threads:1", -1, 5000, 1},
    {"m-one", "pipeline/train/task1-eq/8x8/mb128/threads:1", -1, 2e6, 1},
    {"m-two", "conv2d_bwd_data/mb1_ic4oc8_ih8iw8_kh1kw1_sh1sw1_b0/ours/threads:1", 25, 2000, 0.7},
};
#define N_SPEC (int)(sizeof SPEC / sizeof SPEC[0])

/* Headless Chromium on the page: a PNG (unless png is NULL) and the DOM after its scripts ran; false when
 * it is absent. */
static bool chromium(const char *url, const char *png, const char *dom) {
    const char *bin = NULL;
    if (system("command -v chromium >/dev/null 2>&1") == 0) bin = "chromium";
    else if (system("command -v chromium-browser >/dev/null 2>&1") == 0) bin = "chromium-browser";
    if (!bin) return false;
    char cmd[2000];
    const char *flags = "--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --window-size=900,1100";
    if (png) {   /* NULL: the DOM alone */
        snprintf(cmd, sizeof cmd, "cd %s && HOME=%s timeout 120 %s %s --user-data-dir=%s/prof --screenshot=%s '%s'", dir, dir,
                 bin, flags, dir, png, url);
        cli_sh(&R, cmd);
        if (R.status) fail_msg("chromium --screenshot: exit %d\n%s", R.status, R.out);
    }
    snprintf(cmd, sizeof cmd, "HOME=%s timeout 120 %s %s --user-data-dir=%s/prof --dump-dom '%s' > %s 2>/dev/null", dir, bin,
             flags, dir, url, dom);
    assert_int_equal(system(cmd), 0);
    return true;
}

static void test_series_and_change_points(void **s) {
    (void)s;
    char db[128], out[128], page[160], env[200], args[200];
    snprintf(db, sizeof db, "%s/h.sqlite", dir), snprintf(out, sizeof out, "%s/dash", dir);
    build_history(db, SPEC, N_SPEC, 70, 20);
    snprintf(env, sizeof env, "LATBENCH_HISTORY=%s", db), snprintf(args, sizeof args, "dashboard --out %s", out);
    cli_latbench(&R, env, args);
    printf("%s", R.out);
    assert_int_equal(R.status, 0);
    snprintf(page, sizeof page, "%s/index.html", out);
    char *html = test_slurp(page, NULL);
    assert_non_null(html);
    assert_int_equal(count(html, "<svg class=\"series\""), N_SPEC);
    for (int i = 0; i < N_SPEC; i++) assert_non_null(strstr(html, SPEC[i].name));
    assert_int_equal(count(html, "<g class=\"cp\">"), 2);
    /* at their exact runs, with their commits and steps */
    assert_non_null(strstr(html, "change point at run 41: 2026-01-11T00:00:00Z  commit c0000040a"));
    assert_non_null(strstr(html, "change point at run 26: 2026-01-07T06:00:00Z  commit c0000025b"));
    double steps[2];   /* +30 % and -30 %, as drawn (the medians of noisy levels) */
    assert_int_equal(cp_steps(html, steps, 2), 2);
    assert_true(fabs(steps[0] - 30) < 2 && fabs(steps[1] + 30) < 2);
    /* history's alarm (m-one's +30 % time) and the known break at run 21 of m-one's 3 series, as
     * `latbench history` reports them: the same change points, one regression */
    assert_int_equal(count(html, "<g class=\"alarm\">"), 1);
    assert_int_equal(count(html, "<g class=\"pbreak\">"), 3);
    assert_non_null(strstr(html, "known break at run 21: tuning profile now profile:00000000000000bb (2026-01-06T00:00:00Z  commit c0000020a)"));
    cli_latbench(&R, env, "history");
    if (R.status != 1 || count(R.out, "REGRESSION") != 1 || !strstr(R.out, "c0000040a") || !strstr(R.out, "c0000025b") ||
        !strstr(R.out, "history: 2 change points in 2 of 4 series"))
        fail_msg("latbench history does not report what the page shows:\n%s", R.out);
    assert_non_null(strstr(html, "samples/s"));   /* the pipeline's mb128 */
    assert_null(strstr(html, "<script src"));     /* nothing fetched */
    assert_null(strstr(html, "http"));

    char url[300], png[200], dom[200];
    snprintf(url, sizeof url, "file://%s#machine=m-two", page);
    snprintf(png, sizeof png, "%s/shot.png", dir), snprintf(dom, sizeof dom, "%s/dom.html", dir);
    if (!chromium(url, png, dom)) {
        printf("chromium: NOT RUN: no chromium in PATH (toolchain/install-deps.sh installs it); the HTML was checked\n");
    } else {
        struct stat st;
        assert_int_equal(stat(png, &st), 0);
        char *p = test_slurp(png, NULL);
        assert_true(st.st_size > 1000 && !memcmp(p, "\x89PNG", 4));
        free(p);
        char *d = test_slurp(dom, NULL);
        assert_non_null(d);
        assert_int_equal(count(d, "<svg class=\"series\""), N_SPEC);
        assert_int_equal(count(d, "<g class=\"cp\">"), 2);
        assert_int_equal(count(d, "<g class=\"alarm\">"), 1);
        assert_int_equal(count(d, "<g class=\"pbreak\">"), 3);
        /* #machine=m-two: the three cards of m-one hidden by the filter script */
        assert_int_equal(count(d, "class=\"card hid\" data-m=\"m-one\""), 3);
        assert_int_equal(count(d, "class=\"card\" data-m=\"m-two\""), 1);
        assert_non_null(strstr(d, "<b id=\"shown\">1</b>"));
        printf("chromium: %s: %lld bytes; the DOM has %d series, 2 change points, 1 alarm and 3 known breaks, the filter hides 3 cards\n", png,
               (long long)st.st_size, N_SPEC);
        free(d);
        /* hover: the pointer over run 41 of the first card (70 runs in 70 columns) shows its commit and values */
        char hover[200], cmd[1200];
        snprintf(hover, sizeof hover, "%s/hover.html", out);
        snprintf(cmd, sizeof cmd, "cp %s %s && cat >> %s <<'EOF'\n<script>window.addEventListener('load',function(){"
                 "var g=document.querySelector('svg.series'),r=g.getBoundingClientRect();g.dispatchEvent(new MouseEvent("
                 "'mousemove',{bubbles:true,clientX:r.left+(PL+PW*40.5/70)*r.width/SVGW,clientY:r.top+60}))})</script>\nEOF", page,
                 hover, hover);
        assert_int_equal(system(cmd), 0);
        snprintf(url, sizeof url, "file://%s", hover);
        assert_true(chromium(url, NULL, dom));
        d = test_slurp(dom, NULL);
        const char *tip = strstr(d, "id=\"tip\"");
        assert_non_null(tip);
        assert_non_null(strstr(tip, "display: block"));
        assert_non_null(strstr(tip, "2026-01-11T00:00:00Z  commit c0000040a\nprofile profile:00000000000000bb\nmedian time: 1."));
        assert_non_null(strstr(tip, " us\nspeed vs oneDNN: "));
        printf("chromium: hover over run 41 shows its date, commit, profile and values\n");
        free(d);
    }
    free(html);
}

/* A series of more runs than columns: drawn in buckets, its change point (inside history's window of
 * the newest 200 runs) still at its exact run. */
static void test_decimated_series_keeps_exact_change_point(void **s) {
    (void)s;
    static const series_spec spec[] = {{"m-one", "conv2d_fwd/mb32_x/ours/threads:1", 937, 1000, 1.15}};
    char db[128], out[128], page[160], err[1400];
    snprintf(db, sizeof db, "%s/long.sqlite", dir), snprintf(out, sizeof out, "%s/long", dir);
    build_history(db, spec, 1, 1000, -1);
    hist_db *h = hist_open(db, false, err, sizeof err);
    assert_non_null(h);
    hist_dash_opts o = {.points = 100};
    hist_dash_stats st;
    if (!hist_dashboard(h, out, &o, &st, err, sizeof err)) fail_msg("%s", err);
    hist_close(h);
    assert_int_equal(st.series, 1);
    assert_int_equal(st.changes, 1);
    snprintf(page, sizeof page, "%s/index.html", out);
    char *html = test_slurp(page, NULL);
    assert_non_null(html);
    assert_int_equal(count(html, "data-c=\""), 1);
    int cols = 1;   /* columns, ';'-separated */
    for (const char *c = strstr(html, "data-c=\"") + 8; *c != '"'; c++) cols += *c == ';';
    assert_int_equal(cols, 100);
    assert_non_null(strstr(html, "change point at run 938: "));
    assert_non_null(strstr(html, "commit c0000937a"));
    free(html);
}

static double now_s(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The time to write the page of a generated history; every 10th series has a step inside history's
 * window (the newest 200 runs): at 60 % of the runs, or 100 runs before the end when that is later. */
static void test_generated_history_time(void **s) {
    (void)s;
    const char *e = getenv("LATBENCH_DASH_RUNS"), *f = getenv("LATBENCH_DASH_SERIES");
    int runs = e ? atoi(e) : 300, ns = f ? atoi(f) : 20;
    assert_true(runs > 0 && ns > 0);
    const int step_at = runs - 100 > runs * 6 / 10 ? runs - 100 : runs * 6 / 10;
    series_spec *spec = calloc((size_t)ns, sizeof *spec);
    char (*names)[64] = calloc((size_t)ns, sizeof *names);
    assert_true(spec && names);
    for (int i = 0; i < ns; i++) {
        snprintf(names[i], sizeof names[i], "%s/mb%d_c%d/ours/threads:1", i % 3 ? "conv2d_fwd" : "pool_bwd", 1 + i % 7, i);
        spec[i] = (series_spec){"m-one", names[i], i % 10 ? -1 : step_at, 1000.0 + 37 * i, 1.25};
    }
    char db[128], out[128], err[1400];
    snprintf(db, sizeof db, "%s/gen.sqlite", dir), snprintf(out, sizeof out, "%s/gen", dir);
    double t0 = now_s(CLOCK_MONOTONIC);
    build_history(db, spec, ns, runs, -1);
    double t1 = now_s(CLOCK_MONOTONIC), c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    hist_db *h = hist_open(db, false, err, sizeof err);
    assert_non_null(h);
    hist_dash_opts o = {.progress = true};   /* the default columns */
    hist_dash_stats st;
    if (!hist_dashboard(h, out, &o, &st, err, sizeof err)) fail_msg("%s", err);
    double t2 = now_s(CLOCK_MONOTONIC), c2 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    hist_close(h);
    printf("generated history: %d runs x %d series (%.1f s to append); dashboard: %.2f s (%.2f s of CPU), %ld bytes, "
           "%d change points\n", runs, ns, t1 - t0, t2 - t1, c2 - c1, st.bytes, st.changes);
    assert_int_equal(st.series, ns);
    /* every step found at its exact run; flat series may give a false alarm at the test's alpha (0.01) */
    char at[64], page[160];
    snprintf(at, sizeof at, "change point at run %d: ", step_at + 1);
    snprintf(page, sizeof page, "%s/index.html", out);
    char *html = test_slurp(page, NULL);
    assert_non_null(html);
    assert_int_equal(count(html, at), (ns + 9) / 10);
    assert_true(st.changes <= (ns + 9) / 10 + 1 + ns / 20);
    free(html);
    assert_true(c2 - c1 <= 5.0);   /* CPU time: the wall time of a shared machine says its load */
    free(spec), free(names);
}

static void test_usage(void **s) {
    (void)s;
    cli_latbench(&R, NULL, "dashboard --help");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "usage: latbench dashboard"));
    cli_latbench(&R, NULL, "dashboard --points 3");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    char env[200];
    snprintf(env, sizeof env, "LATBENCH_HISTORY=%s/none.sqlite", dir);
    cli_latbench(&R, env, "dashboard --out /tmp/x");
    assert_int_equal(R.status, 2);
    assert_non_null(strstr(R.out, "no history there yet"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_and_change_points),
        cmocka_unit_test(test_decimated_series_keeps_exact_change_point),
        cmocka_unit_test(test_generated_history_time),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

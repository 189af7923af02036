/* The tuning profile (arch/profile.h): save -> load round trip; another CPU's or build's profile
 * refused with the reason; corrupt profiles of many kinds each refused with its own one-line
 * message (never a crash); the lookup rule; and end to end through latbench: LATBENCH_PROFILE=FILE
 * errors exit 2 with one line, a damaged file at the default location is a warning, =off, `info`,
 * and a worm entry choosing the scalar variant is applied with byte-identical `generate` output.
 * LATBENCH_BIN (set by tests/run.sh) names the binary of the build under test. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch/profile.h"
#include "arch/registry.h"
#include "tools/machine/machine.h"
#include "tools/machine/topology.h"
#include "tests/profile_fixture.h"

static cli_result R;
static char tmpdir[256];
static lb_profile_identity HERE;   /* this machine and build, as latbench computes it */

static int setup(void **state) {
    (void)state;
    return profile_fixture_setup(tmpdir, sizeof tmpdir, "latbench-test-profile-", &HERE);
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

static lb_profile_entry entry(const char *op, lb_pass pass, const char *problem, lb_isa isa, int threads,
                              const char *variant) {
    lb_profile_entry e = {.pass = pass, .isa = isa, .threads = threads, .time_s = 1.25e-3, .default_time_s = 2.5e-3,
                          .speedup = 2.0, .spread = 0.03125};
    snprintf(e.op, sizeof e.op, "%s", op);
    snprintf(e.problem, sizeof e.problem, "%s", problem);
    snprintf(e.variant, sizeof e.variant, "%s", variant);
    return e;
}

/* A valid profile of this machine: worm -> scalar at the best isa, and two conv2d entries. */
static lb_profile_entry ENTRIES[3];
static lb_profile valid_profile(void) {
    lb_isa best = HERE.isa_cap;
    ENTRIES[0] = entry("worm", LB_PASS_FWD, "any", best, 1, "scalar");
    ENTRIES[1] = entry("conv2d", LB_PASS_FWD, "mb8_ic16oc16_ih60iw4_kh3kw3", best, 2, "scalar");
    ENTRIES[2] = entry("conv2d", LB_PASS_BWD_WEIGHTS, "any", LB_ISA_SCALAR, 1, "scalar");
    ENTRIES[2].time_s = 0.1 + 0.2;   /* not a short decimal: the round trip must keep every bit */
    ENTRIES[1].cold = true;           /* "timing": "cold"; the others "warm" */
    return (lb_profile){.id = HERE, .n = 3, .entries = ENTRIES};
}

static void path_in(char *out, size_t len, const char *name) { snprintf(out, len, "%s/%s", tmpdir, name); }

static void write_text(const char *path, const char *text, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void test_round_trip(void **state) {
    (void)state;
    char path[400], err[1400];
    path_in(path, sizeof path, "rt.json");
    lb_profile p = valid_profile(), q;
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    lb_profile_status st = lb_profile_load(path, &HERE, &q, err, sizeof err);
    if (st != LB_PROFILE_OK) fail_msg("%s", err);
    char ops[64];
    assert_true(lb_profile_identity_usable(&q.id, &HERE, ops, sizeof ops, err, sizeof err));
    assert_string_equal(ops, "");   /* the same identity: no op's entries dropped */
    assert_int_equal(q.n, p.n);
    for (int i = 0; i < p.n; i++) assert_memory_equal(&q.entries[i], &p.entries[i], sizeof p.entries[i]);
    lb_profile_free(&q);
    /* no temporary left beside it */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* Another CPU (family, cores, slug) or another build (kernel sources, flags): FOREIGN with the
 * reason (a commit alone: tests/test_profile_identity.c). */
static void test_foreign_refused(void **state) {
    (void)state;
    static const struct { const char *field, *want; } cases[] = {
        {"family", "family differs"}, {"cores", "cores differs"}, {"slug", "slug differs"},
        {"kernels", "kernels differs"}, {"flags", "flags differs"}, {"l2", "l2 differs"},
    };
    char path[400], err[1400];
    path_in(path, sizeof path, "foreign.json");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lb_profile p = valid_profile(), q;
        const char *f = cases[i].field;
        if (!strcmp(f, "family")) p.id.family += 1;
        else if (!strcmp(f, "cores")) p.id.cores += 64;
        else if (!strcmp(f, "slug")) snprintf(p.id.slug, sizeof p.id.slug, "other-cpu-zen9-64c");
        else if (!strcmp(f, "kernels")) snprintf(p.id.kernels, sizeof p.id.kernels, "kernels/worm=0123456789ab");
        else if (!strcmp(f, "flags")) snprintf(p.id.flags, sizeof p.id.flags, "cc -O0");
        else p.id.l2 += 4096;
        assert_true(lb_profile_save(path, &p, err, sizeof err));
        assert_int_equal(lb_profile_load(path, &HERE, &q, err, sizeof err), LB_PROFILE_FOREIGN);
        if (!strstr(err, cases[i].want) || !strstr(err, "made on ") || !strstr(err, ": not applied") || strchr(err, '\n'))
            fail_msg("%s: %s", f, err);
        assert_null(q.entries);
    }
}

/* The profile file's slug is the results/<slug>/ name tools/machine gives this machine. */
static void test_slug(void **state) {
    (void)state;
    char s[96];
    lb_machine_slug("AMD EPYC 9B14 96-Core Processor", "zen4", 2, s, sizeof s);
    assert_string_equal(s, "amd-epyc-9b14-96-core-zen4-2c");
    lb_machine_slug("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "", 4, s, sizeof s);
    assert_string_equal(s, "intel-xeon-platinum-8375c-4c");
    lb_machine_slug("", "", 1, s, sizeof s);
    assert_string_equal(s, "cpu-1c");
    /* a brand string without a model number and no known microarchitecture: family and model */
    lb_cpu c;
    memset(&c, 0, sizeof c);
    snprintf(c.model, sizeof c.model, "Intel(R) Xeon(R) Processor");
    c.family = 6, c.model_id = 167;
    lb_machine_slug_of(&c, 2, s, sizeof s);
    assert_string_equal(s, "intel-xeon-f6m167-2c");
    snprintf(c.model, sizeof c.model, "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz");
    lb_machine_slug_of(&c, 4, s, sizeof s);
    assert_string_equal(s, "intel-xeon-platinum-8375c-4c");
    snprintf(c.model, sizeof c.model, "AMD EPYC Processor");
    snprintf(c.uarch, sizeof c.uarch, "zen5");
    c.family = 26, c.model_id = 2;
    lb_machine_slug_of(&c, 2, s, sizeof s);
    assert_string_equal(s, "amd-epyc-zen5-2c");
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    machine_info m;   /* hwloc's core count: the same slug */
    machine_detect(&m, &cpu);
    assert_string_equal(m.slug, HERE.slug);
    machine_topology t;
    machine_topology_detect(&t);
    assert_int_equal(lb_cpu_cores(), t.cores);
}

/* ---- corrupt profiles ---- */

/* The valid profile's JSON with one change: key path "entries.0.variant" (numbers index arrays, "+"
 * appends a copy of entry 0) set to the JSON value `val`, or deleted when val is NULL. */
static char *mutated(const char *keypath, const char *val) {
    char path[400], err[1400];
    path_in(path, sizeof path, "base.json");
    lb_profile p = valid_profile();
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    json_t *root = json_load_file(path, 0, NULL), *o = root;
    assert_non_null(root);
    char kp[128];
    snprintf(kp, sizeof kp, "%s", keypath);
    char *save = NULL, *k = strtok_r(kp, ".", &save), *next;
    for (; (next = strtok_r(NULL, ".", &save)); k = next)
        o = json_is_array(o) ? json_array_get(o, (size_t)atoi(k)) : json_object_get(o, k);
    assert_non_null(o);
    json_t *v = val ? json_loads(val, JSON_DECODE_ANY, NULL) : NULL;
    if (val) assert_non_null(v);
    if (!strcmp(k, "+")) json_array_append_new(o, json_deep_copy(json_array_get(o, 0)));
    else if (json_is_array(o)) json_array_set_new(o, (size_t)atoi(k), v);
    else if (v) json_object_set_new(o, k, v);
    else json_object_del(o, k);
    if (!strcmp(k, "+")) json_decref(v);
    char *text = json_dumps(root, JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

static void expect_damaged(const char *name, const char *text, size_t n, const char *want) {
    char path[400], err[1400];
    path_in(path, sizeof path, "bad.json");
    write_text(path, text, n);
    lb_profile q;
    lb_profile_status st = lb_profile_load(path, &HERE, &q, err, sizeof err);
    if (st != LB_PROFILE_DAMAGED || !strstr(err, want) || strchr(err, '\n'))
        fail_msg("%s: status %d, message \"%s\", wanted \"%s\"", name, st, err, want);
    assert_null(q.entries);
    print_message("  %-22s %s\n", name, err);
}

/* A profile from before "timing" (the key absent): loads, its entries timed warm. */
static void test_timing_absent_is_warm(void **state) {
    (void)state;
    char path[400], err[1400];
    path_in(path, sizeof path, "old.json");
    char *old = mutated("entries.1.timing", NULL);
    assert_null(strstr(old, "\"timing\": \"cold\""));
    write_text(path, old, strlen(old));
    free(old);
    lb_profile q;
    if (lb_profile_load(path, &HERE, &q, err, sizeof err) != LB_PROFILE_OK) fail_msg("%s", err);
    assert_int_equal(q.n, 3);
    assert_false(q.entries[1].cold);
    lb_profile_free(&q);
}

static void test_corrupt_profiles(void **state) {
    (void)state;
    static const struct { const char *name, *keypath, *val, *want; } cases[] = {
        {"wrong schema", "schema", "\"fftw-wisdom\"", "schema: 'fftw-wisdom' is not 'latbench-profile'"},
        {"no schema", "schema", NULL, "schema: missing or not a string"},
        {"newer version", "version", "3", "version: 3, this build reads version 2"},
        {"no kernels", "build.kernels", NULL, "build: missing field 'kernels'"},
        {"family not int", "machine.family", "\"6\"", "machine.family: not an integer"},
        {"cache not object", "machine.cache", "[]", "machine.cache: not an object"},
        {"build missing", "build", NULL, "(top level): missing field 'build'"},
        {"entries not array", "entries", "{}", "entries: not an array"},
        {"entry not object", "entries.0", "7", "entries[0]: not an object"},
        {"threads real", "entries.0.threads", "1.5", "entries[0].threads: not an integer"},
        {"threads zero", "entries.0.threads", "0", "entries[0].threads: 0 is out of range [1, 4096]"},
        {"unknown op", "entries.0.op", "\"fft\"", "entries[0].op: 'fft' is not one of conv2d"},
        {"unknown pass", "entries.1.pass", "\"bwd\"", "entries[1].pass: 'bwd' is not one of fwd"},
        {"worm backward", "entries.0.pass", "\"bwd_data\"", "entries[0].pass: the worm has only fwd"},
        {"unknown isa", "entries.0.isa", "\"avx9\"", "entries[0].isa: 'avx9' is not one of scalar"},
        {"unknown variant", "entries.0.variant", "\"avx9\"", "entries[0].variant: 'avx9' is not a worm variant"},
        {"params given", "entries.0.params", "{\"tile\": 4}", "entries[0].params: variant scalar accepts no parameter 'tile'"},
        {"params not object", "entries.0.params", "[]", "entries[0].params: not an object"},
        {"duplicate entry", "entries.+", "0", "entries[3]: the same op, pass, problem, isa and threads as entries[0]"},
        {"negative time", "entries.2.time_s", "-1", "entries[2].time_s: -1 is not a positive finite number"},
        {"zero speedup", "entries.0.speedup", "0", "entries[0].speedup: 0 is not a positive finite number"},
        {"time as string", "entries.0.default_time_s", "\"NaN\"", "entries[0].default_time_s: not a number"},
        {"unknown field", "entries.0.tile", "4", "entries[0]: unknown field 'tile'"},
        {"missing field", "entries.0.spread", NULL, "entries[0]: missing field 'spread'"},
        {"unknown timing", "entries.1.timing", "\"tepid\"", "entries[1].timing: 'tepid' is not cold or warm"},
        {"timing not string", "entries.1.timing", "1", "entries[1].timing: not a string"},
        {"control character", "entries.1.problem", "\"a\\nb\"", "entries[1].problem: a control character"},
        {"long problem", "entries.1.problem", "\"" "0123456789012345678901234567890123456789012345678901234567890123"
                                              "0123456789012345678901234567890123456789012345678901234567890123\"",
         "entries[1].problem: longer than 127 characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = mutated(cases[i].keypath, cases[i].val);
        expect_damaged(cases[i].name, text, strlen(text), cases[i].want);
        free(text);
    }
    /* damage that no valid JSON can carry */
    char *text = mutated("schema", "\"latbench-profile\"");
    const size_t n = strlen(text);
    expect_damaged("truncated", text, n / 2, "not valid JSON: line 1");
    expect_damaged("empty file", "", 0, "not valid JSON");
    expect_damaged("not an object", "[1, 2]", strlen("[1, 2]"), "(top level): not a JSON object");
    expect_damaged("NaN literal", "{\"schema\": NaN}", strlen("{\"schema\": NaN}"), "not valid JSON");
    expect_damaged("duplicate key", "{\"schema\": \"latbench-profile\", \"schema\": \"x\"}", strlen("{\"schema\": \"latbench-profile\", \"schema\": \"x\"}"), "duplicate object key");
    expect_damaged("binary", "\x7f" "ELF\x02\x01\x01", 7, "not valid JSON");
    char *huge = malloc(LB_PROFILE_MAX_BYTES + n + 1);
    assert_non_null(huge);
    memset(huge, ' ', LB_PROFILE_MAX_BYTES);
    memcpy(huge + LB_PROFILE_MAX_BYTES, text, n);
    expect_damaged("huge file", huge, LB_PROFILE_MAX_BYTES + n, "larger than 1048576");
    free(huge);
    free(text);
    char dir[400], err[1400];
    lb_profile q;
    path_in(dir, sizeof dir, "");
    assert_int_equal(lb_profile_load(dir, &HERE, &q, err, sizeof err), LB_PROFILE_DAMAGED);
    assert_non_null(strstr(err, "not a regular file"));
    path_in(dir, sizeof dir, "absent.json");
    assert_int_equal(lb_profile_load(dir, &HERE, &q, err, sizeof err), LB_PROFILE_MISSING);
}

/* A conv2d variant with tuning parameters that this CPU runs, or NULL. */
static const conv2d_ops *tunable_conv2d(void) {
    int n = 0;
    const conv2d_ops *v = lb_conv2d_variants(&n);
    lb_cpu cpu;
    lb_cpu_detect(&cpu);
    for (int i = 0; i < n; i++)
        if (v[i].nparams && lb_cpu_supports(&cpu, v[i].isa) && v[i].isa <= HERE.isa_cap) return &v[i];
    return NULL;
}

/* "params" by name: each at its minimum and maximum, and one left at 0 (not written), survive the
 * round trip; an unknown name, a value out of range, a real are refused naming the entry. */
static void test_params_round_trip(void **state) {
    (void)state;
    const conv2d_ops *v = tunable_conv2d();
    if (!v) {
        print_message("  no conv2d variant with tuning parameters runs here: params round trip not run\n");
        return;
    }
    char path[400], err[1400];
    path_in(path, sizeof path, "params.json");
    lb_profile_entry e[2] = {entry("conv2d", LB_PASS_FWD, "any", v->isa, 1, v->name),
                             entry("conv2d", LB_PASS_BWD_WEIGHTS, "any", v->isa, 1, v->name)};
    for (int i = 0; i < v->nparams; i++) e[0].params.v[i] = v->params[i].min, e[1].params.v[i] = v->params[i].max;
    e[1].params.v[0] = 0;
    lb_profile p = {.id = HERE, .n = 2, .entries = e}, q;
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    if (lb_profile_load(path, &HERE, &q, err, sizeof err) != LB_PROFILE_OK) fail_msg("%s", err);
    assert_int_equal(q.n, 2);
    for (int i = 0; i < 2; i++) assert_memory_equal(&q.entries[i], &e[i], sizeof e[i]);
    lb_profile_free(&q);
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    json_t *prm = json_object_get(json_array_get(json_object_get(root, "entries"), 1), "params");
    assert_null(json_object_get(prm, v->params[0].name));   /* 0, the default, is not written */
    assert_int_equal(json_integer_value(json_object_get(prm, v->params[1].name)), v->params[1].max);
    char want[3][160];
    snprintf(want[0], sizeof want[0], "entries[1].params: 'tile' is not a parameter of variant %s", v->name);
    snprintf(want[1], sizeof want[1], "entries[1].params.%s: %d is out of range (0 or %d..%d)", v->params[1].name,
             v->params[1].max + 1, v->params[1].min, v->params[1].max);
    snprintf(want[2], sizeof want[2], "entries[1].params.%s: not an integer", v->params[1].name);
    for (int c = 0; c < 3; c++) {
        json_t *copy = json_deep_copy(root);
        json_t *pc = json_object_get(json_array_get(json_object_get(copy, "entries"), 1), "params");
        if (c == 0) json_object_set_new(pc, "tile", json_integer(4));
        else json_object_set_new(pc, v->params[1].name, c == 1 ? json_integer(v->params[1].max + 1) : json_real(1.5));
        char *text = json_dumps(copy, JSON_PRESERVE_ORDER);
        expect_damaged(c == 0 ? "unknown param" : c == 1 ? "param out of range" : "param real", text, strlen(text), want[c]);
        free(text);
        json_decref(copy);
    }
    json_decref(root);
}

/* The lookup: exact problem before "any", the nearest higher isa, the nearest thread count. */
static void test_choice_rule(void **state) {
    (void)state;
    lb_profile_entry e[] = {
        entry("worm", LB_PASS_FWD, "any", LB_ISA_AVX512, 4, "scalar"),
        entry("worm", LB_PASS_FWD, "any", LB_ISA_AVX2, 1, "scalar"),
        entry("worm", LB_PASS_FWD, "any", LB_ISA_AVX2, 3, "scalar"),
        entry("worm", LB_PASS_FWD, "nt60_nx4_mu1", LB_ISA_AVX512, 8, "scalar"),
        entry("conv2d", LB_PASS_FWD, "any", LB_ISA_SCALAR, 1, "scalar"),
    };
    lb_profile p = {.n = 5, .entries = e};
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt60_nx4_mu1", LB_ISA_AVX2, 1), &e[3]);
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt8_nx8_mu0", LB_ISA_AVX2, 1), &e[1]);
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt8_nx8_mu0", LB_ISA_AVX2, 2), &e[1]);  /* tie: fewer */
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt8_nx8_mu0", LB_ISA_AVX2, 16), &e[2]);
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt8_nx8_mu0", LB_ISA_SCALAR, 1), &e[1]);
    assert_ptr_equal(lb_profile_choice(&p, "worm", LB_PASS_FWD, "nt8_nx8_mu0", LB_ISA_AVX512, 1), &e[0]);
    assert_null(lb_profile_choice(&p, "conv2d", LB_PASS_FWD, "x", LB_ISA_AVX2, 1));   /* a lower isa's winner: no */
    assert_null(lb_profile_choice(&p, "conv2d", LB_PASS_BWD_DATA, "x", LB_ISA_SCALAR, 1));
    assert_null(lb_profile_choice(NULL, "worm", LB_PASS_FWD, "x", LB_ISA_SCALAR, 1));
}

/* ---- through latbench ---- */

static void save_valid(const char *path) {
    char err[1400];
    lb_profile p = valid_profile();
    assert_true(lb_profile_save(path, &p, err, sizeof err));
}

static void test_cli_env_file_errors(void **state) {
    (void)state;
    char env[600], path[400];
    path_in(path, sizeof path, "cli-bad.json");
    char *text = mutated("entries.0.variant", "\"avx9\"");
    write_text(path, text, strlen(text));
    free(text);
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s", path);
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    char want[600];
    snprintf(want, sizeof want, "latbench: profile %s: entries[0].variant: 'avx9' is not a worm variant\n", path);
    assert_string_equal(R.out, want);
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s/absent.json", tmpdir);
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 2);
    assert_int_equal(R.lines, 1);
    assert_non_null(strstr(R.out, "absent.json: no such file"));
}

/* At the default location ($XDG_CACHE_HOME/latbench/profile-<slug>.json): damaged is a warning,
 * foreign one line why; the command runs on the defaults either way. */
static void test_cli_default_location(void **state) {
    (void)state;
    char env[600], dir[400], path[600], cmd[700];
    path_in(dir, sizeof dir, "xdg/latbench");
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/profile-%s.json", dir, HERE.slug);
    snprintf(env, sizeof env, "LATBENCH_PROFILE= XDG_CACHE_HOME=%s/xdg", tmpdir);
    cli_latbench(&R, env, "info");   /* nothing there: silent */
    assert_int_equal(R.status, 0);
    assert_null(strstr(R.out, "latbench: profile"));
    assert_non_null(strstr(R.out, "  none there: the defaults run"));
    write_text(path, "{\"schema\":", 10);
    print_message("  default location: %s\n", path);
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "not valid JSON"));
    assert_non_null(strstr(R.out, "(ignored: the defaults run)"));
    lb_profile p = valid_profile();
    snprintf(p.id.commit, sizeof p.id.commit, "0123456789ab");
    snprintf(p.id.kernels, sizeof p.id.kernels, "kernels/worm=0123456789ab");
    char err[1400];
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "at commit 0123456789ab, this is"));
    assert_non_null(strstr(R.out, ": not applied (kernels differs: kernels/worm"));
    save_valid(path);
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "matches this machine and build, applied"));
    assert_non_null(strstr(R.out, "entries: 3 (conv2d 2, pool 0, gpool 0, act 0, dense 0, loss 0, optim 0, worm 1, chain1x1 0)"));
    assert_non_null(strstr(R.out, "untuned shapes: the nearest tuned shape"));
    cli_latbench(&R, "LATBENCH_PROFILE=off LATBENCH_VERBOSE=1", "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "tuning profile: off (LATBENCH_PROFILE=off)"));
}

/* A worm entry choosing the scalar variant is applied (verbose says so); the chains are bit for
 * bit those of the default variant, so the dataset is byte-identical. */
static void test_cli_worm_entry_applied(void **state) {
    (void)state;
    char env[600], path[400], args[1200], cmd[1200];
    path_in(path, sizeof path, "worm.json");
    save_valid(path);
    const char *gen = "generate --task count --lattice 8x8 --points 4.25:1 --lambda 1 --count 40 --worms 0:2 "
                      "--therm 80 --chains 4 --seed 7 --threads 1 --out";
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s LATBENCH_VERBOSE=1", path);
    snprintf(args, sizeof args, "%s %s/with", gen, tmpdir);
    cli_latbench(&R, env, args);
    if (R.status) fail_msg("%s", R.out);
    assert_non_null(strstr(R.out, "latbench: profile: worm uses scalar"));
    assert_non_null(strstr(R.out, "  worm    scalar"));
    snprintf(args, sizeof args, "%s %s/without", gen, tmpdir);
    cli_latbench(&R, "LATBENCH_PROFILE=off", args);
    if (R.status) fail_msg("%s", R.out);
    snprintf(cmd, sizeof cmd, "cd '%s' && cmp with/x.npy without/x.npy && cmp with/y.npy without/y.npy && "
                              "cmp with/meta.json without/meta.json", tmpdir);
    cli_sh(&R, cmd);
    if (R.status) fail_msg("output differs with the profile: %s", R.out);
    /* a cap below the profile's isa: the entry's winner (scalar) is still within it */
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s LATBENCH_VERBOSE=1 LATBENCH_ISA=scalar", path);
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 0);
    assert_non_null(strstr(R.out, "  worm    scalar"));
}

/* LATBENCH_ISA still caps: a profile naming the best ISA's worm under LATBENCH_ISA=scalar is not
 * used (verbose says so), and the scalar default runs. */
static void test_cli_variant_above_cap(void **state) {
    (void)state;
    if (HERE.isa_cap == LB_ISA_SCALAR) {
        print_message("NOTE no SIMD worm on this CPU: nothing above the scalar cap\n");
        return;
    }
    char env[600], path[400], err[1400];
    path_in(path, sizeof path, "above.json");
    lb_profile_entry e = entry("worm", LB_PASS_FWD, "any", HERE.isa_cap, 1, lb_isa_name(HERE.isa_cap));
    lb_profile p = {.id = HERE, .n = 1, .entries = &e};
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s LATBENCH_VERBOSE=1 LATBENCH_ISA=scalar", path);
    cli_latbench(&R, env, "info");
    assert_int_equal(R.status, 0);
    char want[200];
    snprintf(want, sizeof want, "latbench: profile: worm variant %s is above the cap scalar: not used", lb_isa_name(HERE.isa_cap));
    if (!strstr(R.out, want) || !strstr(R.out, "  worm    scalar")) fail_msg("%s", R.out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_params_round_trip),
        cmocka_unit_test(test_foreign_refused),
        cmocka_unit_test(test_slug),
        cmocka_unit_test(test_corrupt_profiles),
        cmocka_unit_test(test_timing_absent_is_warm),
        cmocka_unit_test(test_choice_rule),
        cmocka_unit_test(test_cli_env_file_errors),
        cmocka_unit_test(test_cli_default_location),
        cmocka_unit_test(test_cli_worm_entry_applied),
        cmocka_unit_test(test_cli_variant_above_cap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

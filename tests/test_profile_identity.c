/* The tuning profile's identity (arch/profile_id.c, arch/build_info.c): a profile is keyed by the
 * build's kernel-relevant identity (hashes of the kernel sources per group, the compiler, the
 * flags), not by the commit: a profile from another commit with the same kernels applies; one whose
 * kernel sources differ is FOREIGN with a line naming the groups that changed; the identity the
 * Makefile compiled in is the hash of the sources in this tree; a version 1 file (keyed by the
 * commit) is refused with a line saying to re-tune, also through `latbench info`; `latbench gate`
 * says which profile ran (this machine's committed results/<slug>/profile.json given by
 * LATBENCH_PROFILE, off, none).
 * LATBENCH_BIN (set by tests/run.sh) names the binary of the build under test. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch/build_info.h"
#include "arch/profile.h"
#include "tests/profile_fixture.h"

static cli_result R;
static char tmpdir[256];
static lb_profile_identity HERE;
static lb_profile_entry ENTRY = {.op = "worm", .pass = LB_PASS_FWD, .problem = "any", .isa = LB_ISA_SCALAR,
                                 .threads = 1, .variant = "scalar", .time_s = 1e-3, .default_time_s = 2e-3,
                                 .speedup = 2.0, .spread = 0.05};

static int setup(void **state) {
    (void)state;
    return profile_fixture_setup(tmpdir, sizeof tmpdir, "latbench-test-profile-id-", &HERE);
}

static int teardown(void **state) {
    (void)state;
    return test_tmpdir_remove(tmpdir);
}

/* Saves this machine's one-entry profile with identity id to tmpdir/name; its path in path. */
static void save_with(const lb_profile_identity *id, const char *name, char *path, size_t len) {
    snprintf(path, len, "%.200s/%.180s", tmpdir, name);
    lb_profile p = {.id = *id, .n = 1, .entries = &ENTRY};
    char err[1400];
    if (!lb_profile_save(path, &p, err, sizeof err)) fail_msg("%s", err);
}

static lb_profile_status load(const char *path, char *err, size_t len) {
    lb_profile q;
    const lb_profile_status st = lb_profile_load(path, &HERE, &q, err, len);
    lb_profile_free(&q);
    return st;
}

/* The identity compiled in: one 12-hex hash per kernels/<op>/ group, the kernels/ headers, arch. */
static void test_kernel_id_form(void **state) {
    (void)state;
    const char *k = lb_build_kernel_id();
    print_message("  kernel identity: %s\n", k);
    assert_string_equal(HERE.kernels, k);
    static const char *const groups[] = {"kernels/conv2d=", "kernels/worm=", "kernels/act=", "kernels=", "arch="};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        const char *g = strstr(k, groups[i]);
        if (!g || (g != k && g[-1] != ' ')) fail_msg("no group %s in %s", groups[i], k);
        g += strlen(groups[i]);
        assert_true(strspn(g, "0123456789abcdef") == 12 && (g[12] == ' ' || !g[12]));
    }
}

/* The conv2d group's hash is that of its sources in this tree, computed as the Makefile does. */
static void test_kernel_id_matches_sources(void **state) {
    (void)state;
    if (access("kernels/conv2d/conv2d.h", R_OK)) {
        print_message("  not run from the source tree: the hash of the sources is not checked\n");
        return;
    }
    cli_sh(&R, "f=$(ls kernels/conv2d/*.[ch] kernels/conv2d/*.inc | LC_ALL=C sort); "
               "(echo $f; cat $f) | sha256sum | cut -c1-12");
    assert_int_equal(R.status, 0);
    char want[64];
    snprintf(want, sizeof want, "kernels/conv2d=%.12s", R.out);
    if (!strstr(lb_build_kernel_id(), want))
        fail_msg("%s not in %s (rebuild after a kernel edit?)", want, lb_build_kernel_id());
}

/* Another commit, the same kernels: applied.  Other kernels: FOREIGN naming the groups. */
static void test_commit_alone_keeps_profile(void **state) {
    (void)state;
    char path[400], err[1400];
    lb_profile_identity id = HERE;
    snprintf(id.commit, sizeof id.commit, "0123456789ab");
    save_with(&id, "other-commit.json", path, sizeof path);
    if (load(path, err, sizeof err) != LB_PROFILE_OK) fail_msg("%s", err);

    char *conv = strstr(id.kernels, "kernels/conv2d="), *arch = strstr(id.kernels, "arch=");
    assert_true(conv && arch);
    conv[strlen("kernels/conv2d=")] ^= 1, arch[strlen("arch=")] ^= 1;   /* two groups' hashes differ */
    save_with(&id, "other-kernels.json", path, sizeof path);
    assert_int_equal(load(path, err, sizeof err), LB_PROFILE_FOREIGN);
    print_message("  %s\n", err);
    if (!strstr(err, "not applied (kernels differs: kernels/conv2d, arch changed; re-run latbench tune)") ||
        !strstr(err, "at commit 0123456789ab") || strchr(err, '\n'))
        fail_msg("%s", err);
}

static void test_kernel_id_diff(void **state) {
    (void)state;
    char out[128];
    lb_build_kernel_id_diff("a=1 b=2 c=3", "a=1 b=9 c=3", out, sizeof out);
    assert_string_equal(out, "b");
    lb_build_kernel_id_diff("a=1 b=2", "a=1 b=2 d=4", out, sizeof out);   /* a group added */
    assert_string_equal(out, "d");
    lb_build_kernel_id_diff("a=1 b=2 c=3", "a=0 c=3", out, sizeof out);   /* changed, removed */
    assert_string_equal(out, "a, b");
    lb_build_kernel_id_diff("unknown", "a=1", out, sizeof out);
    assert_string_equal(out, "the kernel identity");
    lb_build_kernel_id_diff("a=1 b=2", "a=1 b=3", out, 3);   /* truncated, still terminated */
    assert_true(strlen(out) < 3);
}

/* This identity with group g's hash (e.g. "kernels/worm=") flipped in its first digit. */
static lb_profile_identity with_group_changed(const char *g) {
    lb_profile_identity id = HERE;
    char *h = strstr(id.kernels, g);
    if (!h) fail_msg("no group %s in %s", g, id.kernels);
    h[strlen(g)] ^= 1;
    return id;
}

/* The per-op rule: a profile whose worm hash differs keeps its conv2d entries, drops its worm ones
 * with one line naming the op; one whose shared group (kernels=, arch=) differs is refused whole. */
static void test_per_op_validity(void **state) {
    (void)state;
    lb_profile_entry two[3] = {ENTRY, ENTRY, ENTRY};
    snprintf(two[1].op, sizeof two[1].op, "conv2d");
    snprintf(two[2].op, sizeof two[2].op, "conv2d");
    two[2].pass = LB_PASS_BWD_DATA;
    char path[400], err[1400];
    snprintf(path, sizeof path, "%s/per-op.json", tmpdir);
    static const char *const groups[] = {"kernels/worm=", "kernels/conv2d=", "kernels/act=", "kernels=", "arch="};
    static const int kept[] = {2, 1, 3, -1, -1};
    for (int i = 0; i < 5; i++) {
        lb_profile p = {.id = with_group_changed(groups[i]), .n = 3, .entries = two}, q;
        if (!lb_profile_save(path, &p, err, sizeof err)) fail_msg("%s", err);
        const lb_profile_status st = lb_profile_load(path, &HERE, &q, err, sizeof err);
        print_message("  %s changed: %s%s%s\n", groups[i], st == LB_PROFILE_OK ? "applied" : err,
                      q.dropped[0] ? "; " : "", q.dropped);
        if (kept[i] < 0) {
            assert_int_equal(st, LB_PROFILE_FOREIGN);
            assert_non_null(strstr(err, "not applied (kernels differs: "));
            continue;
        }
        if (st != LB_PROFILE_OK) fail_msg("%s: %s", groups[i], err);
        assert_int_equal(q.n, kept[i]);
        for (int k = 0; k < q.n; k++) assert_true(strncmp(groups[i] + 8, q.entries[k].op, strlen(q.entries[k].op)));
        if (i == 0) assert_string_equal(q.dropped, "worm entries not applied: kernels/worm changed since the profile; re-run latbench tune");
        if (i == 1) assert_string_equal(q.dropped, "conv2d entries not applied: kernels/conv2d changed since the profile; re-run latbench tune");
        if (i == 2) assert_string_equal(q.dropped, "");   /* no act entries: nothing to say */
        lb_profile_free(&q);
    }
    /* two ops changed at once: one line naming both */
    lb_profile_identity id = with_group_changed("kernels/worm=");
    char *c = strstr(id.kernels, "kernels/conv2d=");
    c[strlen("kernels/conv2d=")] ^= 1;
    lb_profile p = {.id = id, .n = 3, .entries = two}, q;
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    assert_int_equal(lb_profile_load(path, &HERE, &q, err, sizeof err), LB_PROFILE_OK);
    assert_int_equal(q.n, 0);
    assert_string_equal(q.dropped, "conv2d, worm entries not applied: kernels/conv2d, kernels/worm changed since the "
                                   "profile; re-run latbench tune");
    lb_profile_free(&q);
    /* a changed op's entries are dropped unread: a variant its new sources no longer have is no damage */
    lb_profile_entry gone[3] = {two[0], two[1], two[2]};
    snprintf(gone[1].variant, sizeof gone[1].variant, "avx9");
    p = (lb_profile){.id = with_group_changed("kernels/conv2d="), .n = 3, .entries = gone};
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    if (lb_profile_load(path, &HERE, &q, err, sizeof err) != LB_PROFILE_OK) fail_msg("%s", err);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.entries[0].op, "worm");
    assert_non_null(strstr(q.dropped, "conv2d entries not applied"));
    lb_profile_free(&q);
    lb_profile_identity here = HERE;   /* a build with an op more (its group new): the profile stays whole */
    size_t n = strlen(here.kernels);
    snprintf(here.kernels + n, sizeof here.kernels - n, " kernels/zz_newop=0123456789ab");
    p = (lb_profile){.id = HERE, .n = 3, .entries = two};
    assert_true(lb_profile_save(path, &p, err, sizeof err));
    assert_int_equal(lb_profile_load(path, &here, &q, err, sizeof err), LB_PROFILE_OK);
    assert_int_equal(q.n, 3);
    assert_string_equal(q.dropped, "");
    lb_profile_free(&q);
}

/* Through the command line: `latbench info` applies the kept entries and prints the line. */
static void test_per_op_info(void **state) {
    (void)state;
    char path[400], env[600];
    lb_profile_identity id = with_group_changed("kernels/worm=");
    save_with(&id, "per-op-info.json", path, sizeof path);
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s", path);
    cli_latbench(&R, env, "info");
    if (R.status || !strstr(R.out, "worm entries not applied: kernels/worm changed since the profile; re-run latbench tune") ||
        !strstr(R.out, "applied") || !strstr(R.out, "entries: 0 ("))
        fail_msg("status %d: %s", R.status, R.out);
}

/* A version 1 file (keyed by the commit, no build.kernels): refused with a line to re-tune, not as
 * damage; `latbench info` shows that line and runs the defaults. */
static void test_version1_refused(void **state) {
    (void)state;
    char path[400], err[1400];
    save_with(&HERE, "v1.json", path, sizeof path);
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    json_object_set_new(root, "version", json_integer(1));
    json_object_del(json_object_get(root, "build"), "kernels");
    assert_int_equal(json_dump_file(root, path, 0), 0);
    json_decref(root);
    assert_int_equal(load(path, err, sizeof err), LB_PROFILE_FOREIGN);
    assert_non_null(strstr(err, "profile version 1, keyed by the commit): not applied (re-run latbench tune"));
    char env[600];
    snprintf(env, sizeof env, "LATBENCH_PROFILE=%s", path);
    cli_latbench(&R, env, "info");
    if (R.status || !strstr(R.out, "re-run latbench tune") || !strstr(R.out, ": the defaults run"))
        fail_msg("status %d: %s", R.status, R.out);
}

/* A binary in a tree of its own with results/<slug>/profile.json: the gate names it when given,
 * applies it by itself with LATBENCH_PROFILE unset, and off says off. */
static void test_gate_committed_profile(void **state) {
    (void)state;
    SKIP_UNDER_EMULATION("the gate");
    char expect[600], cmd[3000], path[400];   /* path: tmpdir/name, < 400 */
    char *bin = realpath(cli_bin(), NULL), *cwd = getcwd(NULL, 0);
    assert_true(bin && cwd);
    snprintf(expect, sizeof expect, "%s/results/gate/%s.json", cwd, lb_isa_name(HERE.isa_cap));
    if (access(expect, R_OK)) {
        print_message("  NOTE: no %s: the gate's profile line is not checked\n", expect);
        free(bin), free(cwd);
        return;
    }
    snprintf(cmd, sizeof cmd, "mkdir -p %s/tree/results/%s && cp %s %s/tree/latbench", tmpdir, HERE.slug, bin, tmpdir);
    cli_sh(&R, cmd);
    assert_int_equal(R.status, 0);
    char name[200];
    snprintf(name, sizeof name, "tree/results/%s/profile.json", HERE.slug);
    save_with(&HERE, name, path, sizeof path);
    char given[500], cache[500], want[900];
    snprintf(given, sizeof given, "LATBENCH_PROFILE=%s", path);
    snprintf(cache, sizeof cache, "XDG_CACHE_HOME=%s/nocache", tmpdir);
    snprintf(want, sizeof want, "gate: tuning profile: %s (this machine's committed reference profile): applied", path);
    const char *const runs[][2] = {
        {given, want},
        {"LATBENCH_PROFILE=off", "gate: tuning profile: off (LATBENCH_PROFILE=off)"},
        {cache, want},   /* unset: the committed one, by itself */
    };
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "cd %s/tree && env -u LATBENCH_PROFILE %s ./latbench gate --expect %s --reps 3 --no-history",
                 tmpdir, runs[i][0], expect);
        cli_sh(&R, cmd);
        if (!strstr(R.out, runs[i][1]) || R.status > 1) fail_msg("%s: status %d: %s", cmd, R.status, R.out);
    }
    free(bin), free(cwd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_id_form),
        cmocka_unit_test(test_kernel_id_matches_sources),
        cmocka_unit_test(test_commit_alone_keeps_profile),
        cmocka_unit_test(test_kernel_id_diff),
        cmocka_unit_test(test_per_op_validity),
        cmocka_unit_test(test_per_op_info),
        cmocka_unit_test(test_version1_refused),
        cmocka_unit_test(test_gate_committed_profile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

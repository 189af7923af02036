/* Model specs: the presets reproduce the seed's parameter counts, shapes follow the lattice,
 * malformed specs are rejected with the line named, and netspec_load finds a net by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "lib/nn/netspec.h"
#include "lib/nn/nnio.h"

static void test_preset_param_counts(void **state) {
    (void)state;
    static const struct { const char *name; long params; int h, w; } table[] = {
        {"task1-eq", 33202, 60, 4}, {"task1-st", 26370, 60, 4}, {"task1-fl", 47394, 60, 4},
        {"task2-eq", 2657, 8, 8},   {"task2-st", 953, 8, 8},    {"task2-fl", 5600, 8, 8},
        {"task3-eq1", 1800, 8, 8},  {"task3-eq2", 456, 8, 8},   {"task3-eq3", 308, 8, 8},
        {"task3-st1", 2336, 8, 8},  {"task3-st2", 132, 8, 8},   {"task3-st3", 1184, 8, 8},
        {"task3-fl1", 640, 8, 8},   {"task3-fl2", 640, 8, 8},   {"task3-fl3", 2704, 8, 8},
    };
    int n;
    netspec_preset_names(&n);
    assert_int_equal(n, 15);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        net_spec net;
        char err[160];
        const char *text = netspec_preset(table[i].name);
        assert_non_null(text);
        assert_true(netspec_parse(text, &net, err, sizeof err));
        assert_int_equal(netspec_param_count(&net), table[i].params);
        act_shape s[NETSPEC_MAX_LAYERS + 1];
        assert_true(netspec_shapes(&net, table[i].h, table[i].w, s, err, sizeof err));
        int outputs = !strncmp(table[i].name, "task1", 5) ? 2 : 1;
        assert_int_equal(s[net.n_layers].c, outputs);
    }
    assert_null(netspec_preset("task4-eq"));
}

/* EQ nets run on any lattice; FL nets only on the size they were built for. */
static void test_shapes_follow_lattice(void **state) {
    (void)state;
    net_spec eq, fl;
    char err[160];
    act_shape s[NETSPEC_MAX_LAYERS + 1];
    assert_true(netspec_parse(netspec_preset("task1-eq"), &eq, err, sizeof err));
    assert_true(netspec_parse(netspec_preset("task1-fl"), &fl, err, sizeof err));
    static const int sizes[][2] = {{50, 2}, {60, 4}, {100, 5}, {125, 8}, {200, 10}};
    for (int i = 0; i < 5; i++) {
        assert_true(netspec_shapes(&eq, sizes[i][0], sizes[i][1], s, err, sizeof err));
        bool fits = netspec_shapes(&fl, sizes[i][0], sizes[i][1], s, err, sizeof err);
        assert_int_equal(fits, sizes[i][0] == 60 && sizes[i][1] == 4);
    }
    assert_true(netspec_shapes(&fl, 100, 5, s, err, sizeof err) == false);
    assert_non_null(strstr(err, "linear expects 360 inputs"));
    /* ST on 100x5: the pool floors 5 -> 2 */
    net_spec st;
    assert_true(netspec_parse(netspec_preset("task1-st"), &st, err, sizeof err));
    assert_true(netspec_shapes(&st, 100, 5, s, err, sizeof err));
    assert_int_equal(s[7].h, 50);
    assert_int_equal(s[7].w, 2);
}

static void test_errors_name_the_line(void **state) {
    (void)state;
    static const struct { const char *text, *needle; } bad[] = {
        {"conv 2x2 4 32\nlrelu\nconv 1x1 16 32\n", "line 3: conv expects 16 input channels but receives 32"},
        {"conv 4x4 4 8\n", "line 1: kernel size"},
        {"# comment\nconv 2x2 4\n", "line 2: expected 'conv"},
        {"conv 1x1 4 8\nrelu6\n", "line 2: unknown layer 'relu6'"},
        {"lrelu*\n", "line 1: '*' (no bias) applies to conv and linear only"},
        {"conv 1x1 4 8\nlinear 8 1\n", "line 2: linear needs a flatten or a global pool"},
        {"conv 1x1 4 8 /3\n", "line 1: stride must be"},
        {"avgpool 2x3 2\n", "line 1: pool window must be KxK"},
        {"\n# nothing\n", "no layers"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        net_spec net;
        char err[160] = "";
        act_shape s[NETSPEC_MAX_LAYERS + 1];
        bool ok = netspec_parse(bad[i].text, &net, err, sizeof err) && netspec_shapes(&net, 8, 8, s, err, sizeof err);
        assert_false(ok);
        if (!strstr(err, bad[i].needle)) fail_msg("spec %zu: error '%s' lacks '%s'", i, err, bad[i].needle);
    }
    /* a pool larger than the lattice */
    net_spec net;
    char err[160];
    act_shape s[NETSPEC_MAX_LAYERS + 1];
    assert_true(netspec_parse("avgpool 2x2 2\navgpool 2x2 2\n", &net, err, sizeof err));
    assert_false(netspec_shapes(&net, 3, 3, s, err, sizeof err));
    assert_non_null(strstr(err, "line 2: 2x2 pool does not fit a 1x1 lattice"));
}

/* Sizes that overflow an int are refused, not wrapped into garbage. */
static void test_sizes_in_64_bits(void **state) {
    (void)state;
    net_spec net;
    char err[200] = "";
    act_shape s[NETSPEC_MAX_LAYERS + 1];
    /* 4096 x 4096 x 823 = 13,807,648,768 values per sample (an int wraps it to 922,746,880) */
    assert_true(netspec_parse("conv 3x3 4 823\nflatten\n", &net, err, sizeof err));
    assert_false(netspec_shapes(&net, 4096, 4096, s, err, sizeof err));
    assert_non_null(strstr(err, "line 1: the output (4096x4096x823) has more than 2147483647 values"));
    /* the same net fits a small lattice, its flatten giving 8*8*823 features */
    assert_true(netspec_shapes(&net, 8, 8, s, err, sizeof err));
    assert_int_equal(s[2].c, 8 * 8 * 823);
    /* a lattice too large for even the input */
    assert_true(netspec_parse("gsumpool\n", &net, err, sizeof err));
    assert_false(netspec_shapes(&net, 1000000, 1000000, s, err, sizeof err));
    assert_non_null(strstr(err, "input values per sample"));
    /* parameters: 3x3 x 2^20 x 2^20 is about 10^13 */
    assert_false(netspec_parse("conv 3x3 1048576 1048576\n", &net, err, sizeof err));
    assert_non_null(strstr(err, "parameters, more than"));
}

/* netspec_load: a preset, a spec file, and a name that is neither (the presets named). */
static void test_load_by_name(void **state) {
    (void)state;
    netspec_loaded *s = malloc(sizeof *s);
    char err[512], path[] = "/tmp/test_netspec_XXXXXX";
    assert_non_null(s);
    assert_true(netspec_load("task2-eq", s, err, sizeof err));
    assert_string_equal(s->origin, "preset");
    assert_int_equal(netspec_param_count(&s->spec), 2657);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "conv 2x2 4 8\nlrelu\ngavgpool\nlinear 8 1\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_true(netspec_load(path, s, err, sizeof err));
    assert_string_equal(s->origin, "spec file");
    assert_int_equal(s->spec.n_layers, 4);
    unlink(path);
    assert_false(netspec_load(path, s, err, sizeof err));
    assert_non_null(strstr(err, "is neither a preset (task1-eq ... task3-fl3) nor a readable file"));
    free(s);
}

/* Every preset knows its native lattice, and runs on it (task1-fl's flatten fixes its input size,
 * so `latbench model task1-fl` works only there); spec files have none. */
static void test_native_lattice(void **state) {
    (void)state;
    int n;
    const char *const *names = netspec_preset_names(&n);
    for (int i = 0; i < n; i++) {
        netspec_loaded s;
        char err[400];
        assert_true(netspec_load(names[i], &s, err, sizeof err));
        const char *lat = netspec_preset_lattice(names[i]);
        assert_non_null(lat);
        assert_string_equal(s.native, lat);
        assert_string_equal(lat, strncmp(names[i], "task1-", 6) ? "8x8" : "60x4");
        int nt, nx;
        assert_int_equal(sscanf(lat, "%dx%d", &nt, &nx), 2);
        act_shape shapes[NETSPEC_MAX_LAYERS + 1];
        char why[400];
        if (!netspec_shapes(&s.spec, nt, nx, shapes, why, sizeof why)) fail_msg("%s on %s: %s", names[i], lat, why);
    }
    assert_null(netspec_preset_lattice("no-such-net"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preset_param_counts),
        cmocka_unit_test(test_shapes_follow_lattice),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_sizes_in_64_bits),
        cmocka_unit_test(test_load_by_name),
        cmocka_unit_test(test_native_lattice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

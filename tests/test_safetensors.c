/* The strict safetensors reader (buffer entry point and files) and the model-file tensor check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/io/safetensors.h"
#include "lib/nn/nnio.h"
#include "tests/test_util.h"

/* Parses header + ndata zero bytes; err receives the reason on failure. */
static bool parse(const char *header, size_t ndata, io_st_file *f, char *err, size_t errlen) {
    size_t hl = strlen(header), len = 8 + hl + ndata;
    unsigned char *buf = calloc(1, len);
    assert_non_null(buf);
    uint64_t le = hl;
    memcpy(buf, &le, 8);
    memcpy(buf + 8, header, hl);
    return io_safetensors_parse(buf, len, f, err, errlen);
}

static void test_parse_accepts_tiled_tensors(void **s) {
    (void)s;
    io_st_file f;
    char err[256];
    /* listed out of order, tiled in order b, a; a zero-size tensor anywhere */
    assert_true(parse("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]},"
                      "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"__metadata__\":{\"k\":\"v\"}}",
                      32, &f, err, sizeof err));
    assert_int_equal(f.n, 3);
    const io_st_tensor *a = io_safetensors_find(&f, "a"), *b = io_safetensors_find(&f, "b");
    assert_true(a && b && (const char *)a->data - (const char *)b->data == 8);
    assert_string_equal(io_safetensors_meta(&f, "k"), "v");
    io_safetensors_free(&f);
    /* an unaligned data start (a foreign writer's header length) is moved, not refused */
    assert_true(parse("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} ", 8, &f, err, sizeof err));
    assert_int_equal((uintptr_t)io_safetensors_find(&f, "b")->data % 4, 0);
    io_safetensors_free(&f);
}

static void test_parse_refuses_bad_layouts(void **s) {
    (void)s;
    static const struct {
        const char *header;
        size_t ndata;
        const char *why;
    } bad[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16, "overlap"}, /* shared bytes */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "gap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "after the last"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "past the end"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "JSON"}, /* duplicate key */
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "shape"},
        {"{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "F32"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,0]}}", 0, "overflow"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, "entry"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape"},
        {"[1,2]", 0, "JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        io_st_file f;
        char err[256] = "";
        bool ok = parse(bad[i].header, bad[i].ndata, &f, err, sizeof err);
        if (ok || !strstr(err, bad[i].why)) fprintf(stderr, "case %zu: %s\n", i, ok ? "accepted" : err);
        assert_false(ok);
        assert_non_null(strstr(err, bad[i].why));
        assert_null(f.buf); /* freed */
    }
    /* a header length past the end, and a huge one */
    io_st_file f;
    char err[256];
    unsigned char *buf = calloc(1, 16);
    uint64_t le = 1000;
    memcpy(buf, &le, 8);
    assert_false(io_safetensors_parse(buf, 16, &f, err, sizeof err));
    assert_non_null(strstr(err, "header length"));
}

static void test_read_refuses_non_regular(void **s) {
    (void)s;
    char dir[64] = "/tmp/latbench-st-XXXXXX", path[128], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/fifo.safetensors", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    io_st_file f;
    alarm(20); /* blocking on the FIFO fails the test instead of hanging it */
    assert_false(io_safetensors_read(path, &f, err, sizeof err));
    alarm(0);
    assert_non_null(strstr(err, "not a regular file"));
    unlink(path);
    rmdir(dir);
}

static void test_model_tensors_checked_against_spec(void **s) {
    (void)s;
    net_spec spec;
    char err[512];
    assert_true(netspec_parse("conv 2x2 4 3\nlrelu\ngsumpool\nlinear 3 2\n", &spec, err, sizeof err));
    /* right: 0.weight [3,4,2,2], 0.bias [3], 3.weight [2,3], 3.bias [2] */
    static float zero[64];
    io_st_tensor t[5] = {
        {"0.weight", 4, {3, 4, 2, 2}, zero}, {"0.bias", 1, {3}, zero}, {"3.weight", 2, {2, 3}, zero},
        {"3.bias", 1, {2}, zero}, {"7.weight", 1, {1}, zero},
    };
    char path[] = "/tmp/latbench-stm-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    io_st_file f;
    assert_true(io_safetensors_write(path, t, 4, NULL, NULL, 0, err, sizeof err));
    assert_true(io_safetensors_read(path, &f, err, sizeof err));
    assert_true(nn_model_check_tensors(&spec, &f, err, sizeof err));
    io_safetensors_free(&f);
    /* transposed linear weight: same element count, wrong shape */
    t[2].shape[0] = 3, t[2].shape[1] = 2;
    assert_true(io_safetensors_write(path, t, 4, NULL, NULL, 0, err, sizeof err));
    assert_true(io_safetensors_read(path, &f, err, sizeof err));
    assert_false(nn_model_check_tensors(&spec, &f, err, sizeof err));
    assert_non_null(strstr(err, "3.weight [3,2] (expected [2,3])"));
    io_safetensors_free(&f);
    /* missing 0.bias and 3.weight (each with the shape it needs), unexpected 7.weight: all named */
    t[2].shape[0] = 2, t[2].shape[1] = 3;
    io_st_tensor u[3] = {t[0], t[3], t[4]};
    assert_true(io_safetensors_write(path, u, 3, NULL, NULL, 0, err, sizeof err));
    assert_true(io_safetensors_read(path, &f, err, sizeof err));
    assert_false(nn_model_check_tensors(&spec, &f, err, sizeof err));
    assert_non_null(strstr(err, "missing 0.bias [3], 3.weight [2,3]"));
    assert_non_null(strstr(err, "unexpected 7.weight"));
    io_safetensors_free(&f);
    /* a NaN weight */
    float nan1[64] = {0};
    nan1[5] = __builtin_nanf("");
    t[0].data = nan1;
    assert_true(io_safetensors_write(path, t, 4, NULL, NULL, 0, err, sizeof err));
    assert_true(io_safetensors_read(path, &f, err, sizeof err));
    assert_false(nn_model_check_tensors(&spec, &f, err, sizeof err));
    assert_non_null(strstr(err, "0.weight: value 5 is not finite"));
    io_safetensors_free(&f);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_tiled_tensors),
        cmocka_unit_test(test_parse_refuses_bad_layouts),
        cmocka_unit_test(test_read_refuses_non_regular),
        cmocka_unit_test(test_model_tensors_checked_against_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

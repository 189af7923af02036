/* The strict .npy reader: the header parser on buffers, and whole files (sizes checked against
 * the real file length before anything is allocated; only regular files). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/io/npy.h"
#include "tests/test_util.h"

/* A version-1.0 file image of dict (padded so the data starts at 64) followed by nd data bytes. */
static size_t image(unsigned char *buf, const char *dict, const void *data, size_t nd) {
    size_t n = strlen(dict), total = (10 + n + 1 + 63) / 64 * 64, hl = total - 10;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hl & 0xff), buf[9] = (unsigned char)(hl >> 8);
    memcpy(buf + 10, dict, n);
    memset(buf + 10 + n, ' ', hl - n - 1);
    buf[total - 1] = '\n';
    if (nd) memcpy(buf + total, data, nd);
    return total + nd;
}

static bool parse_dict(const char *dict, io_npy_info *in, char *err, size_t errlen) {
    unsigned char buf[1024];
    size_t n = image(buf, dict, NULL, 0);
    return io_npy_parse(buf, n, in, err, errlen);
}

static void test_parse_accepts_python_literals(void **s) {
    (void)s;
    io_npy_info in;
    char err[256];
    assert_true(parse_dict("{'descr': '<i2', 'fortran_order': False, 'shape': (3, 4, 5, 6), }", &in, err, sizeof err));
    assert_string_equal(in.descr, "<i2");
    assert_int_equal(in.ndim, 4);
    assert_true(in.shape[0] == 3 && in.shape[3] == 6 && in.data_offset == 128 && !in.fortran_order);
    assert_true(parse_dict("{\"shape\":(5,),\"fortran_order\":True,\"descr\":\"<f4\"}", &in, err, sizeof err));
    assert_true(in.ndim == 1 && in.shape[0] == 5 && in.fortran_order);
    assert_true(parse_dict("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", &in, err, sizeof err));
    assert_int_equal(in.ndim, 0);
    assert_true(parse_dict("{'descr':'<f4','fortran_order':False,'shape':(2,3,)}", &in, err, sizeof err));
    assert_int_equal(in.ndim, 2);
    /* the header numpy itself writes (io_npy_header is its twin) */
    char h[IO_NPY_HEADER_MAX];
    long shape[2] = {7, 2};
    size_t hl = io_npy_header(h, "<f4", shape, 2);
    assert_true(io_npy_parse(h, hl, &in, err, sizeof err));
    assert_true(in.ndim == 2 && in.shape[0] == 7 && in.data_offset == hl);
    /* version 2.0: a 4-byte header length */
    unsigned char v2[256];
    const char *d = "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }";
    size_t n = strlen(d), total = 128, hl2 = total - 12;
    memcpy(v2, "\x93NUMPY\x02\x00", 8);
    v2[8] = (unsigned char)hl2, v2[9] = v2[10] = v2[11] = 0;
    memcpy(v2 + 12, d, n);
    memset(v2 + 12 + n, ' ', hl2 - n - 1);
    v2[total - 1] = '\n';
    assert_true(io_npy_parse(v2, total, &in, err, sizeof err));
    assert_int_equal(in.data_offset, 128);
}

static void test_parse_refuses_malformed(void **s) {
    (void)s;
    static const char *bad[] = {
        "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), 'x': '<i2'}", /* another key */
        "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), 'descr': '<i2'}", /* a key twice */
        "{'descr': '<i2', 'fortran_order': False}",                            /* no shape */
        "{'descr': '<i2', 'fortran_order': 'False', 'shape': (2,)}",           /* not a bool */
        "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3}",            /* unclosed tuple */
        "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3",
        "{'descr': '<i2', 'fortran_order': False, 'shape': (5)}",              /* an int, not a tuple */
        "{'descr': '<i2', 'fortran_order': False, 'shape': (-1,)}",
        "{'descr': '<i2', 'fortran_order': False, 'shape': (99999999999999999999,)}",
        "{'descr': '<i2', 'fortran_order': False, 'shape': (1,2,3,4,5,6,7,8,9)}",
        "{'descr': '<i2, 'fortran_order': False, 'shape': (2,)}",
        "{'descr': '<i2', 'fortran_order': False, 'shape': (2,)} junk",
        "{'descr': '<i2' 'fortran_order': False, 'shape': (2,)}",
        "{'descr': '<i2', 'fortran_order': False, 'shape': (2,),,}",
        "['descr', '<i2']",
    };
    io_npy_info in;
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (parse_dict(bad[i], &in, err, sizeof err)) fprintf(stderr, "accepted: %s\n", bad[i]);
        assert_false(parse_dict(bad[i], &in, err, sizeof err));
        assert_true(err[0] != 0);
    }
    unsigned char buf[256];
    size_t n = image(buf, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,)}", NULL, 0);
    assert_false(io_npy_parse(buf, n - 1, &in, err, sizeof err)); /* header cut short */
    assert_false(io_npy_parse(buf, 9, &in, err, sizeof err));
    buf[n - 1] = ' '; /* no newline at the end of the header */
    assert_false(io_npy_parse(buf, n, &in, err, sizeof err));
    buf[n - 1] = '\n', buf[6] = 4; /* version 4.0 */
    assert_false(io_npy_parse(buf, n, &in, err, sizeof err));
    buf[6] = 1, buf[8] = 50; /* data offset 60: not a multiple of 16 */
    assert_false(io_npy_parse(buf, n, &in, err, sizeof err));
}

static char dir[64];

static const char *write_file(const char *name, const void *buf, size_t n) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    return path;
}

static void read_fails(const char *name, const char *dict, size_t nd, const char *descr, const char *why) {
    static unsigned char buf[4096], data[1024];
    memset(data, 0, sizeof data);
    size_t n = image(buf, dict, data, nd);
    const char *path = write_file(name, buf, n);
    void *p = (void *)1;
    long shape[IO_NPY_MAX_DIMS];
    int nd2;
    char err[512];
    assert_false(io_npy_read(path, descr, &p, shape, &nd2, err, sizeof err));
    assert_null(p);
    if (!strstr(err, why)) fprintf(stderr, "%s: %s\n", name, err);
    assert_non_null(strstr(err, why));
    assert_non_null(strstr(err, path));
}

static void test_read_checks_sizes_before_allocating(void **s) {
    (void)s;
    snprintf(dir, sizeof dir, "/tmp/latbench-npy-XXXXXX");
    assert_non_null(mkdtemp(dir));
    const char *i2 = io_npy_descr_i16();
    /* 2^61+1 x 4 x 1 x 1 int16: count * 2 wraps to 8 bytes */
    read_fails("wrap.npy", "{'descr': '<i2', 'fortran_order': False, 'shape': (2305843009213693953, 4, 1, 1), }", 8, i2,
               "overflows");
    /* 22 GB asked for by a 147-byte file */
    read_fails("big.npy", "{'descr': '<i2', 'fortran_order': False, 'shape': (100000, 4, 300, 300), }", 19, i2,
               "truncated");
    read_fails("trail.npy", "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 2), }", 9, i2, "trailing");
    read_fails("short.npy", "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 2), }", 7, i2, "truncated");
    read_fails("f8.npy", "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", 8, i2, "dtype");
    read_fails("pipe.npy", "{'descr': '|i2', 'fortran_order': False, 'shape': (1,), }", 2, i2, "dtype");
    read_fails("fortran.npy", "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 2), }", 8, i2, "Fortran");
    /* a good one */
    unsigned char buf[256];
    int16_t v[6] = {1, 2, 3, 4, 5, -6};
    size_t n = image(buf, "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }", v, sizeof v);
    const char *path = write_file("ok.npy", buf, n);
    void *p;
    long shape[IO_NPY_MAX_DIMS];
    int nd;
    char err[512];
    assert_true(io_npy_read(path, i2, &p, shape, &nd, err, sizeof err));
    assert_true(nd == 2 && shape[0] == 2 && shape[1] == 3);
    assert_memory_equal(p, v, sizeof v);
    free(p);
}

static void test_read_refuses_fifo_without_blocking(void **s) {
    (void)s;
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/fifo.npy", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(20); /* a reader that blocks on the FIFO fails the test instead of hanging it */
    void *p;
    long shape[IO_NPY_MAX_DIMS];
    int nd;
    assert_false(io_npy_read(path, io_npy_descr_i16(), &p, shape, &nd, err, sizeof err));
    alarm(0);
    assert_non_null(strstr(err, "not a regular file"));
    assert_false(io_npy_read(dir, io_npy_descr_i16(), &p, shape, &nd, err, sizeof err)); /* a directory */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_accepts_python_literals),
        cmocka_unit_test(test_parse_refuses_malformed),
        cmocka_unit_test(test_read_checks_sizes_before_allocating),
        cmocka_unit_test(test_read_refuses_fifo_without_blocking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

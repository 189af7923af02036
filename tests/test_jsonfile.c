/* lib/io/jsonfile.h: JSON outputs through jansson.  Values JSON cannot hold become null, a double
 * reads back as the double written, and a tree is committed whole with no temporary left. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/test_util.h"
#include "lib/io/jsonfile.h"

static void test_values(void **state) {
    (void)state;
    json_t *o = json_object();
    io_json_set_num(o, "nan", NAN);
    io_json_set_num(o, "inf", -INFINITY);
    io_json_set_num(o, "third", 1.0 / 3.0);
    io_json_set_num(o, "whole", 2097152.0);
    io_json_set_str(o, "none", NULL);
    io_json_set_str(o, "quote", "a \"b\"\n\tc");
    io_json_set_int(o, "big", 1LL << 40);
    io_json_set_bool(o, "yes", true);
    char *text = json_dumps(o, IO_JSON_DUMP_FLAGS);
    json_decref(o);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"nan\": null"));
    assert_non_null(strstr(text, "\"inf\": null"));
    assert_non_null(strstr(text, "\"none\": null"));
    json_error_t err;
    json_t *back = json_loads(text, 0, &err);
    free(text);
    assert_non_null(back);
    assert_true(json_number_value(json_object_get(back, "third")) == 1.0 / 3.0); /* bit for bit */
    assert_true(json_is_real(json_object_get(back, "whole")));                    /* a double stays a real */
    assert_true(json_is_integer(json_object_get(back, "big")));
    assert_string_equal(json_string_value(json_object_get(back, "quote")), "a \"b\"\n\tc");
    assert_true(json_is_true(json_object_get(back, "yes")));
    /* insertion order is kept: the files list their keys as the writers set them */
    const char *key;
    json_t *v;
    const char *order[] = {"nan", "inf", "third", "whole", "none", "quote", "big", "yes"};
    int i = 0;
    json_object_foreach(back, key, v) assert_string_equal(key, order[i++]);
    json_decref(back);
}

static int entries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.' || strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static void test_write_atomic(void **state) {
    (void)state;
    char dir[] = "/tmp/lb_jsonfile_XXXXXX", path[64], err[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.json", dir);
    json_t *root = json_pack("{s:[i,i], s:s}", "a", 1, 2, "b", "x");
    assert_true(io_json_write_atomic(root, path, 0, err, sizeof err));
    assert_int_equal(entries(dir), 1); /* the file, no temporary */
    /* the store's mode refuses to replace it, and leaves it whole */
    assert_false(io_json_write_atomic(root, path, IO_ATOMIC_NOREPLACE, err, sizeof err));
    assert_non_null(strstr(err, "already exists"));
    assert_int_equal(entries(dir), 1);
    json_error_t jerr;
    json_t *back = json_load_file(path, 0, &jerr);
    assert_non_null(back);
    assert_true(json_equal(root, back));
    json_decref(back);
    json_decref(root);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char last = 0;
    for (int c; (c = fgetc(f)) != EOF;) last = (char)c;
    fclose(f);
    assert_int_equal(last, '\n'); /* a text file */
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_values), cmocka_unit_test(test_write_atomic)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

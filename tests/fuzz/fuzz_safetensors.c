/* Fuzz target: the safetensors reader, on the input as a file; every tensor it returns is read
 * through (a success promises shape-many floats inside the file). */
#include "tests/fuzz/fuzz_util.h"
#include "lib/io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64], err[512];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    io_st_file f;
    if (io_safetensors_read(path, &f, err, sizeof err)) {
        volatile float sink = 0;
        for (int i = 0; i < f.n; i++) {
            const io_st_tensor *t = &f.t[i];
            if (t->ndim < 0 || t->ndim > IO_ST_MAX_DIMS || !memchr(t->name, 0, sizeof t->name)) abort();
            size_t n = io_st_numel(t);
            if (n) sink += t->data[0] + t->data[n - 1];
            if (io_safetensors_find(&f, t->name) == NULL) abort();
        }
        for (int i = 0; i < f.n_meta; i++)
            if (!f.meta_key[i] || !f.meta_val[i] || io_safetensors_meta(&f, f.meta_key[i]) == NULL) abort();
        (void)sink;
        io_safetensors_free(&f);
    }
    close(fd);
    return 0;
}

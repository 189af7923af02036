/* Fuzz target: the .npy reader, on the input as a file, for both dtypes the datasets use. */
#include "tests/fuzz/fuzz_util.h"
#include "lib/io/npy.h"

/* The reader under test: the one line to change when the reader moves (lib/io/npy.h). */
#define FUZZ_NPY_READ io_npy_read

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64], err[512];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    static const char *const descr[] = {"<i2", "<f4"};
    for (int k = 0; k < 2; k++) {
        void *arr = NULL;
        long shape[8];
        int ndim = 0;
        if (FUZZ_NPY_READ(path, descr[k], &arr, shape, &ndim, err, sizeof err)) {
            /* a success promises shape[0..ndim) elements of the dtype: touch the last byte */
            size_t count = 1, esz = k ? 4 : 2, bytes;
            for (int i = 0; i < ndim; i++)
                if (shape[i] < 0 || __builtin_mul_overflow(count, (size_t)shape[i], &count)) abort();
            if (ndim < 0 || ndim > 8 || __builtin_mul_overflow(count, esz, &bytes) || bytes > size) abort();
            if (bytes) ((volatile unsigned char *)arr)[bytes - 1]++;
        } else if (!memchr(err, 0, sizeof err) || !err[0]) {
            abort();   /* a failure must say why */
        }
        free(arr);
    }
    close(fd);
    return 0;
}

/* Fuzz target: the dataset loader (x.npy, y.npy, meta.json of a directory).  The input is split at
 * "\n--8<--\n" into x.npy, y.npy and meta.json (missing parts: absent files), written into the
 * scratch directory. */
#include "tests/fuzz/fuzz_util.h"
#include "lib/nn/nnio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *part[3];
    size_t plen[3];
    int n = fuzz_split(data, size, "\n--8<--\n", part, plen, 3);
    static const char *const names[] = {"x.npy", "y.npy", "meta.json"};
    char path[512];
    for (int i = 0; i < 3; i++) fuzz_put(names[i], i < n ? part[i] : NULL, i < n ? plen[i] : 0, i < n, path, sizeof path);
    nn_dataset d;
    char err[512];
    if (nn_dataset_load(fuzz_scratch_dir(), &d, err, sizeof err)) {
        /* a success promises n samples of [4][nt][nx] and [outs]: touch the last of each */
        size_t nx = (size_t)d.n * 4 * (size_t)d.nt * (size_t)d.nx, ny = (size_t)d.n * (size_t)d.outs;
        if (nx) ((volatile int16_t *)d.x)[nx - 1]++;
        if (ny) ((volatile float *)d.y)[ny - 1] += 1;
        for (int i = 0; i < d.npoints; i++)
            if (d.points[i].offset < 0 || d.points[i].count < 1 || d.points[i].offset + d.points[i].count > d.n) abort();
        nn_dataset_free(&d);
    }
    return 0;
}

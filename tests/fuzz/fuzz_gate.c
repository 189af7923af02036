/* Fuzz target: the expectation-file reader of `latbench gate`. */
#include "tests/fuzz/fuzz_util.h"
#include "tools/track/gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64], err[1024];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    gate_expect e;
    err[0] = 0;
    if (gate_load_expect(path, &e, err, sizeof err)) gate_expect_free(&e);
    else if (!err[0] || e.root) abort();   /* a failure says why and holds nothing */
    close(fd);
    return 0;
}

/* Fuzz target: the input checks of `latbench report` (an experiment's results.json, a benchmark
 * result, a search's results.json, a dataset's meta.json). */
#include "tests/fuzz/fuzz_util.h"
#include "tools/cli/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64], err[2048];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    bool is_bench = false;
    err[0] = 0;
    if (!report_check_results(path, &is_bench, err, sizeof err) && !err[0]) abort();
    err[0] = 0;
    if (!report_check_meta(path, err, sizeof err) && !err[0]) abort();
    close(fd);
    return 0;
}

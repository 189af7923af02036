/* Fuzz target: the result-file reader of `latbench compare`, plain and --ratio. */
#include "tests/fuzz/fuzz_util.h"
#include <math.h>
#include "tools/track/compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64], err[1024];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    for (int ratio = 0; ratio < 2; ratio++) {
        compare_opts o = {0.2, 0.01, ratio != 0, NULL, false, COMPARE_DEFAULT_MACHINE_DRIFT};
        compare_series_set set = {0};
        if (compare_load_results(path, &o, &set, err, sizeof err)) {
            /* what a success returns must be fit for statistics: positive finite values */
            for (int i = 0; i < set.n; i++) {
                if (!set.v[i].name || set.v[i].n < 0 || set.v[i].n > COMPARE_MAX_SAMPLES) abort();
                for (int k = 0; k < set.v[i].n; k++)
                    if (!(isfinite(set.v[i].s[k]) && set.v[i].s[k] > 0)) abort();
                if (set.v[i].n) (void)mann_whitney_p(set.v[i].s, set.v[i].n, set.v[i].s, set.v[i].n);
            }
        } else if (!err[0]) {
            abort();   /* a failure must say why */
        }
        compare_series_free(&set);
    }
    close(fd);
    return 0;
}

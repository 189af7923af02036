/* Fuzz target: the readers of `latbench search`'s study - a trial's params JSON into a point of
 * each family's space, and a spec text into a point (search_space_decode). */
#include "tests/fuzz/fuzz_util.h"
#include <stdlib.h>
#include <string.h>
#include "tools/search/study.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1), err[512], spec[8192];
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    for (int f = 0; f < 3; f++) {
        search_space s;
        search_space_init(&s, (search_task)(f % 3), (search_family)f);
        search_point x;
        err[0] = 0;
        if (search_point_from_json(&s, text, &x, err, sizeof err)) {
            for (int i = 0; i < s.n; i++)   /* a success is a point of the space */
                if (!(x.v[i] >= s.p[i].lo && x.v[i] <= s.p[i].hi)) abort();
            (void)search_space_encode(&s, &x, spec, sizeof spec);
        } else if (!err[0]) {
            abort(); /* a failure must say why */
        }
        err[0] = 0;
        if (!search_space_decode(&s, text, &x, err, sizeof err) && !err[0]) abort();
    }
    free(text);
    return 0;
}

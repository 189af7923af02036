/* Fuzz target: the tuning profile reader (lb_profile_load, arch/profile.h), with no identity to
 * match so that every entry is checked.  A refusal must say why and hold nothing; an accepted
 * profile's every entry must be what the lookup finds for its own key (no duplicates got in). */
#include "tests/fuzz/fuzz_util.h"
#include "arch/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64], err[1400];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    lb_profile p;
    err[0] = 0;
    lb_profile_status st = lb_profile_load(path, NULL, &p, err, sizeof err);
    if (st != LB_PROFILE_OK) {
        if (!err[0] || p.entries || strchr(err, '\n')) abort();
    } else {
        for (int i = 0; i < p.n; i++) {
            const lb_profile_entry *e = &p.entries[i];
            if (lb_profile_choice(&p, e->op, e->pass, e->problem, e->isa, e->threads) != e) abort();
        }
        lb_profile_free(&p);
    }
    close(fd);
    return 0;
}

/* Fuzz target: the tuning profile reader (lb_profile_load, arch/profile.h), with no identity to
 * match so that every entry is checked.  A refusal must say why and hold nothing; an accepted
 * profile's every entry must be what the lookup finds for its own key (no duplicates got in).
 * The input as a chain1x1 descriptor too (lb_chain1x1_problem_parse, which the reader applies to
 * chain1x1 entries' problems): an accepted one is valid, written back the same, and at distance 0. */
#include "tests/fuzz/fuzz_util.h"
#include "kernels/chain1x1/chain1x1_problem.h"
#include "arch/profile.h"

static void chain_descriptor(const uint8_t *data, size_t size) {
    char *s = fuzz_cstr(data, size), back[160];
    chain1x1_desc d;
    if (s && lb_chain1x1_problem_parse(s, &d)) {
        lb_chain1x1_problem_str(&d, back, sizeof back);
        if (!chain1x1_valid(&d) || strcmp(back, s) || lb_chain1x1_distance(s, back) != 0) abort();
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64], err[1400];
    chain_descriptor(data, size);
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

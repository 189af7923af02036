/* Which tuning profile the gate runs with (tools/track/gate.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arch/profile.h"
#include "lib/io/srcfile.h"
#include "tools/track/gate.h"

/* results/<slug>/profile.json next to the binary into path; false when there is none. */
static bool committed_path(const char *slug, char *rel, size_t rlen, char *path, size_t len) {
    snprintf(rel, rlen, "results/%s/profile.json", slug);
    return io_find_near_binary(rel, path, len) == 1;
}

void gate_profile_say(const char *slug) {
    const lb_profile_state *s = lb_profile_state_get();
    char rel[160], path[4096];
    const bool committed = committed_path(slug, rel, sizeof rel, path, sizeof path);
    if (s->off) {
        printf("gate: tuning profile: off (LATBENCH_PROFILE=off): the defaults run\n");
    } else if (!s->path[0] || s->status == LB_PROFILE_MISSING) {
        printf("gate: tuning profile: none: the defaults run%s%s%s\n", committed ? " (this machine's reference: LATBENCH_PROFILE=" : "",
               committed ? path : "", committed ? ")" : "");
    } else {
        const char *how = committed && !strcmp(path, s->path) ? "this machine's committed reference profile"
                          : s->from_env                     ? "LATBENCH_PROFILE"
                                                            : "the user's cache";
        printf("gate: tuning profile: %s (%s): %s\n", s->path, how, s->applied ? "applied" : s->why);
    }
}

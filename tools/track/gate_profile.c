/* The gate's tuning profile: this machine's committed reference profile when LATBENCH_PROFILE is
 * unset (tools/track/gate.h). */
#include <errno.h>
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

void gate_profile_reexec(const char *slug, int argc, char **argv) {
    char rel[160], path[4096];
    if (getenv("LATBENCH_PROFILE") || !committed_path(slug, rel, sizeof rel, path, sizeof path)) return;
    char **av = calloc((size_t)argc + 2, sizeof *av);
    if (!av) return;
    av[0] = "latbench";
    for (int i = 0; i < argc; i++) av[i + 1] = argv[i];
    if (setenv("LATBENCH_PROFILE", path, 1) == 0) {
        fflush(stdout), fflush(stderr);
        execv("/proc/self/exe", av);
    }
    fprintf(stderr, "latbench gate: cannot run again with the committed profile %s (%s): the defaults run\n", path,
            strerror(errno));
    unsetenv("LATBENCH_PROFILE");
    free(av);
}

void gate_profile_say(const char *slug) {
    const lb_profile_state *s = lb_profile_state_get();
    char rel[160], path[4096];
    const bool committed = committed_path(slug, rel, sizeof rel, path, sizeof path);
    if (s->off) {
        printf("gate: tuning profile: off (LATBENCH_PROFILE=off): the defaults run\n");
    } else if (!s->path[0] || s->status == LB_PROFILE_MISSING) {
        printf("gate: tuning profile: none (no %s next to the binary): the defaults run\n", rel);
    } else {
        const char *how = committed && !strcmp(path, s->path) ? "this machine's committed reference profile"
                          : s->from_env                     ? "LATBENCH_PROFILE"
                                                            : "the user's cache";
        printf("gate: tuning profile: %s (%s): %s\n", s->path, how, s->applied ? "applied" : s->why);
    }
}

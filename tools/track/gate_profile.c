/* Which tuning profile the gate runs with (tools/track/gate.h). */
#include <stdint.h>
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

/* With LATBENCH_PROFILE unset: the committed profile replaces what start-up found when it is valid
 * here; *why says why not otherwise ("" when it was applied or there is none). */
static void use_committed(const char *path, const lb_cpu *cpu, char *why, size_t len) {
    lb_profile_identity here;
    lb_profile_identity_here(&here, cpu, lb_cpu_cores());
    lb_profile p;
    char err[1400];
    const lb_profile_status st = lb_profile_load(path, &here, &p, err, sizeof err);
    lb_profile_free(&p);
    why[0] = 0;
    if (st != LB_PROFILE_OK) {
        snprintf(why, len, "%.1300s", err);
        return;
    }
    const char *env = getenv("LATBENCH_PROFILE");
    char *saved = env ? strdup(env) : NULL;
    setenv("LATBENCH_PROFILE", path, 1);
    lb_profile_startup(cpu, lb_cpu_cores());   /* valid: it loads as it did here, and says nothing */
    if (saved) setenv("LATBENCH_PROFILE", saved, 1);
    else unsetenv("LATBENCH_PROFILE");
    free(saved);
}

void gate_profile_apply(const char *slug, const lb_cpu *cpu) {
    char rel[160], path[4096], why[1400] = "";
    const bool committed = committed_path(slug, rel, sizeof rel, path, sizeof path);
    const char *env = getenv("LATBENCH_PROFILE");
    if (committed && (!env || !*env)) use_committed(path, cpu, why, sizeof why);
    const lb_profile_state *s = lb_profile_state_get();
    if (why[0])   /* the committed one is not valid here: say so, and what runs instead */
        printf("gate: tuning profile: %s (this machine's committed reference profile): %s\n", path, why);
    if (s->off) {
        printf("gate: tuning profile: off (LATBENCH_PROFILE=off): the defaults run\n");
    } else if (!s->path[0] || s->status == LB_PROFILE_MISSING) {
        printf("gate: tuning profile: none: the defaults run%s\n", committed ? "" : " (no committed profile of this machine)");
    } else {
        const char *how = committed && !strcmp(path, s->path) ? "this machine's committed reference profile"
                          : s->from_env                     ? "LATBENCH_PROFILE"
                                                            : "the user's cache";
        printf("gate: tuning profile: %s (%s): %s%s%s\n", s->path, how, s->applied ? "applied" : s->why,
               s->applied && s->profile.dropped[0] ? "; " : "", s->applied ? s->profile.dropped : "");
    }
}

void gate_profile_id(char *out, size_t len) {
    const lb_profile_state *s = lb_profile_state_get();
    snprintf(out, len, "%s", s->off ? "off" : "none");
    if (s->off || !s->applied || !s->path[0]) return;
    FILE *f = fopen(s->path, "rb");
    if (!f) return;
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a 64 */
    for (int c; (c = getc(f)) != EOF;) h = (h ^ (uint64_t)(unsigned char)c) * 0x100000001b3ull;
    if (!ferror(f)) snprintf(out, len, "profile:%016llx", (unsigned long long)h);
    fclose(f);
}

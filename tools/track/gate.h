/* latbench gate's expectation files (results/gate/<isa>.json, see gate.c): the reader, exported
 * for the fuzz target tests/fuzz/fuzz_gate.c. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "arch/cpu.h"

#define GATE_NAME_LEN 112

typedef struct {
    json_t *root;          /* {"machine": {...}, "ratios": {name: {"vs_scalar": x, "vs_onednn": y}}} */
    const char *uarch;     /* the reference machine's microarchitecture, or NULL */
} gate_expect;

/* Loads path and checks it covers every gated problem with positive ratios; false with a one-line
 * message naming the file (and the entry) in err.  Free with gate_expect_free. */
bool gate_load_expect(const char *path, gate_expect *e, char *err, size_t errlen);
void gate_expect_free(gate_expect *e);

/* `latbench gate`: the process exit status (1 when a ratio falls below its expectation). */
int cmd_gate(int argc, char **argv);

/* Which tuning profile the gate runs with (tools/track/gate_profile.c): with LATBENCH_PROFILE unset
 * or empty, this machine's committed results/<slug>/profile.json of the source tree next to the
 * binary (the lookup of results/gate/<isa>.json) when it is there and valid for this build, so
 * "ours" is what users of the machine run (the gate times ours as the profile's choice and no
 * extra tuned sequence); else what start-up found.  One line on stdout says which ("gate: tuning
 * profile: <path> (this machine's committed reference profile | LATBENCH_PROFILE | the user's
 * cache): applied", or why not, "off", "none"). */
void gate_profile_apply(const char *slug, const lb_cpu *cpu);
/* The tuning profile the gate runs with, as its history runs record it: "profile:<16 hex digits>" (a
 * 64-bit FNV-1a hash of the applied profile file's bytes), "off" (LATBENCH_PROFILE=off) or "none". */
void gate_profile_id(char *out, size_t len);

/* latbench gate's expectation files (results/gate/<isa>.json, see gate.c): the reader, exported
 * for the fuzz target tests/fuzz/fuzz_gate.c. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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

/* One line on stdout: which tuning profile this gate runs with ("gate: tuning profile: <path>
 * (this machine's committed reference profile | LATBENCH_PROFILE | the user's cache): applied", or
 * why not, "off", "none") (tools/track/gate_profile.c).  The gate does not switch to the committed
 * results/<slug>/profile.json by itself: with a profile applied, bench's extra "tuned" sequence
 * runs interleaved with the gated ones and the gate's own slowdown test (tests/test_gate.c) failed
 * its unslowed runs 3 of 3, twice; give LATBENCH_PROFILE=results/<slug>/profile.json to use it. */
void gate_profile_say(const char *slug);

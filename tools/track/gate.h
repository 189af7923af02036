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

/* The committed reference profile of this machine, results/<slug>/profile.json of the source tree
 * the binary sits in (found as the expectations are, lib/io/srcfile.h), which the gate runs with
 * when LATBENCH_PROFILE is unset (tools/track/gate_profile.c).  The profile is loaded at start-up,
 * before dispatch, so gate_profile_reexec runs the gate again with LATBENCH_PROFILE naming that
 * file; it returns only when it did not (no such file, LATBENCH_PROFILE set, or the exec failed:
 * said so on stderr, the defaults run).  argv: cmd_gate's ("gate", options...). */
void gate_profile_reexec(const char *slug, int argc, char **argv);
/* One line on stdout: which tuning profile this gate runs with ("gate: tuning profile: ..."). */
void gate_profile_say(const char *slug);

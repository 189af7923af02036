/* Helpers shared by the model/train/eval/experiment subcommands (a net by name: netspec_load,
 * lib/nn/netspec.h). */
#pragma once

/* Prints "latbench CMD: msg" on stderr; returns 2. */
int nncli_fail(const char *cmd, const char *msg);

/* Helpers shared by the model/train/eval/experiment subcommands (a net by name: netspec_load,
 * lib/nn/netspec.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Prints "latbench CMD: msg" on stderr; returns 2. */
int nncli_fail(const char *cmd, const char *msg);
/* An output (option opt) must not be one of the files the command reads: the --model file or the
 * dataset's files in data.  false with the line in err. */
bool nncli_out_not_input(const char *opt, const char *out, const char *model, const char *data, char *err, size_t errlen);

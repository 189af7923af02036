/* Helpers shared by the model/train/eval/experiment subcommands (a net by name: netspec_load,
 * lib/nn/netspec.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "lib/nn/netspec.h"

/* Prints "latbench CMD: msg" on stderr; returns 2. */
int nncli_fail(const char *cmd, const char *msg);
/* An output (option opt) must not be one of the files the command reads: the --model file or the
 * dataset's files in data.  false with the line in err. */
bool nncli_out_not_input(const char *opt, const char *out, const char *model, const char *data, char *err, size_t errlen);
/* The net of a command's model argument (--model of train, model's NAME|FILE): a preset or a spec
 * file as netspec_load takes it, or a model file (.safetensors) through nn_model_open, its tensors
 * checked against the net - the spec in its metadata, or spec (--spec PRESET|FILE) for a state_dict
 * PyTorch saved without it.  spec with a name that is not a model file is refused.  false with one
 * line in err. */
bool nncli_net(const char *name, const char *spec, netspec_loaded *s, char *err, size_t errlen);

/* Helpers shared by the model/train/eval subcommands. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "lib/nn/netspec.h"

typedef struct {
    net_spec spec;
    char text[8192];     /* the spec text */
    char origin[64];     /* "preset", "spec file", "trained model" */
    char lattice[32];    /* a trained model's lattice, else "" */
} nncli_spec;

/* NAME: a preset, a .safetensors model file, or a spec text file. */
bool nncli_load_spec(const char *name, nncli_spec *s, char *err, size_t errlen);
/* Prints "latbench CMD: msg" on stderr; returns 2. */
int nncli_fail(const char *cmd, const char *msg);

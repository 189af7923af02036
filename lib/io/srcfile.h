/* Files of the source tree that the binary needs at run time (the plotting and PyTorch scripts),
 * found next to the running binary: its own directory (./latbench at the tree root), then up to 4
 * parents (build/<name>/latbench -> ../..). */
#pragma once
#include <stddef.h>

/* 1: out holds DIR/rel, a regular file; 0: not found; -1: /proc/self/exe cannot be read. */
int io_find_near_binary(const char *rel, char *out, size_t len);

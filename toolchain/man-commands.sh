#!/usr/bin/env bash
# Writes the help2man include file of latbench(1) to stdout: a COMMANDS section with every command's
# `latbench COMMAND --help` verbatim, an ENVIRONMENT and a SEE ALSO section.  make install runs
#   help2man --include=<this output> BINARY
# so that one page, `man latbench`, holds the usage of every command.
# Usage: toolchain/man-commands.sh LATBENCH_BINARY > commands.h2m
set -euo pipefail
bin=${1:?"usage: man-commands.sh LATBENCH_BINARY"}
cmds=$("$bin" --help | sed -n 's/^  \([a-z][a-z]*\)  *[^ ].*/\1/p')
[ -n "$cmds" ] || { echo "man-commands.sh: no commands in '$bin --help'" >&2; exit 1; }
# roff: a backslash is \e, a line starting with . or ' is kept literal by a leading \&
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
echo "[NAME]"
echo "latbench \\- SIMD kernel benchmark harness, worm sampler and neural-net runtime for lattice field theory"
echo "[SYNOPSIS]"
echo ".B latbench"
echo "\\fICOMMAND\\fR [\\fIoptions\\fR]"
echo ".br"
echo ".B latbench"
echo "\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR"
# the top-level help verbatim, instead of help2man's reflowing of its command table
echo "[=DESCRIPTION]"
echo "A benchmark harness for SIMD kernels (conv2d, pooling, activations, dense, loss, optimizer, the"
echo "worm update) against a scalar reference and oneDNN, with the worm sampler, datasets and"
echo "neural-net training of a lattice field theory study built on them."
echo ".PP"
echo ".nf"
"$bin" --help | roff
echo ".fi"
echo "[COMMANDS]"
echo "Every command answers \\fB\\-\\-help\\fR; each one's help follows."
for c in $cmds; do
    echo ".SS \"latbench $c\""
    echo ".nf"
    "$bin" "$c" --help 2>&1 | roff
    echo ".fi"
done
cat <<'TAIL'
[ENVIRONMENT]
.TP
.B LATBENCH_ISA
caps the kernels: scalar, avx2, avx512 or neon.
.TP
.B LATBENCH_VERBOSE
1 prints the kernel choice.
.TP
.B LATBENCH_PROFILE
FILE or off: the tuning profile (README, "Tuning profile").
.TP
.B LATBENCH_SHARE
the source tree, where \fBlatbench report\fR finds its plotting scripts (else next to the binary, or PREFIX/share/latbench).
[EXIT STATUS]
0 the work was done, 1 a check or the work failed, 2 a usage or input error (one line on stderr).
[SEE ALSO]
The README.md of the source tree; the C API: latbench.h (pkg-config latbench).
TAIL
# a page per command: latbench-COMMAND(1)
echo ".PP"
for c in $cmds; do printf '.BR latbench\-%s (1)\n' "$c"; done

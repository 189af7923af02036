#!/usr/bin/env bash
# Writes one man page per command, latbench-COMMAND(1), into DIR: help2man over `latbench COMMAND
# --help` (through a small wrapper named latbench-COMMAND, so that the page is titled after it), with
# a NAME line from the command's line in `latbench --help` and SEE ALSO latbench(1).  make install runs it.
# Usage: toolchain/man-pages.sh LATBENCH_BINARY VERSION DIR
set -euo pipefail
bin=${1:?"usage: man-pages.sh LATBENCH_BINARY VERSION DIR"}
ver=${2:?"usage: man-pages.sh LATBENCH_BINARY VERSION DIR"}
dir=${3:?"usage: man-pages.sh LATBENCH_BINARY VERSION DIR"}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
mkdir -p "$dir/wrap"
"$bin" --help | sed -n 's/^  \([a-z][a-z]*\)  *\([^ ].*\)/\1 \2/p' | while read -r c what; do
    w=$dir/wrap/latbench-$c
    printf '#!/bin/sh\ncase "$1" in --version) echo "latbench-%s %s";; *) exec "%s" %s "$@";; esac\n' "$c" "$ver" "$bin" "$c" >"$w"
    chmod 755 "$w"
    printf '[NAME]\nlatbench-%s \\- %s\n[SEE ALSO]\n.BR latbench (1)\n' "$c" "$(echo "$what" | sed 's/\\/\\e/g')" >"$dir/wrap/$c.h2m"
    help2man --no-info --no-discard-stderr --section=1 --include="$dir/wrap/$c.h2m" -o "$dir/latbench-$c.1.tmp" "$w"
    mv -f "$dir/latbench-$c.1.tmp" "$dir/latbench-$c.1"
done
rm -rf "$dir/wrap"
ls "$dir"/latbench-*.1 >/dev/null 2>&1 || { echo "man-pages.sh: no commands in '$bin --help'" >&2; exit 1; }

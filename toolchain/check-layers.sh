#!/usr/bin/env bash
# The floors of the source tree, lowest first (README, "Layout"; docs/design.md §5): a file may include
# headers of its own room and of rooms below it, never of a room above.  So there is no dependency
# circle between rooms, and the library (kernels/, arch/, lib/) never includes a tools/ header.
# Usage: toolchain/check-layers.sh [ROOT]   prints one line per upward include; exit 1 if any.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
rooms=(kernels arch lib/io lib/lattice lib/nn lib/api tools/opts tools/mpi
       tools/stats tools/problems tools/timing tools/machine tools/baseline tools/verify tools/bench tools/gbench tools/track
       tools/tune tools/report tools/experiment tools/search tools/cli)
rank() {   # the rank of the room holding path $1 (-1: not in a room)
    local i best=-1 len=0
    for i in "${!rooms[@]}"; do
        case "$1" in "${rooms[$i]}"/*) if [ ${#rooms[$i]} -gt $len ]; then best=$i; len=${#rooms[$i]}; fi ;; esac
    done
    echo $best
}
bad=0 n=0
cd "$root" || { echo "check-layers: no source tree at $root"; exit 2; }
while IFS= read -r f; do
    fr=$(rank "$f")
    [ "$fr" -ge 0 ] || { echo "check-layers: $f is in no room (add its folder to toolchain/check-layers.sh)"; bad=$((bad + 1)); continue; }
    while IFS=: read -r line inc; do
        n=$((n + 1))
        ir=$(rank "$inc")
        [ "$ir" -lt 0 ] && continue    # a header outside the rooms (tests/, toolchain/)
        if [ "$ir" -gt "$fr" ]; then
            echo "check-layers: $f:$line includes $inc: ${rooms[$ir]} is above ${rooms[$fr]}"
            bad=$((bad + 1))
        fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | sed -E 's/^([0-9]+):[^"]*"([^"]*)".*/\1:\2/')
done < <(find kernels arch lib tools -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' -o -name '*.inc' \) | sort)
echo "check-layers: $n includes checked, $bad upward"
[ $bad -eq 0 ]

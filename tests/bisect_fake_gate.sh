#!/bin/sh
# The stand-in for a built latbench in tests/test_bisect.c: `latbench gate ... --json FILE` writes a
# gate-like JSON (latbench bench records) of two problems: ours/oneDNN of conv2d_fwd/p0 at the factor
# in the file `ratio` beside this script, of conv2d_fwd/p1 at 1, each time with 1 % noise.
out=
while [ $# -gt 0 ]; do
    [ "$1" = --json ] && out=$2
    shift
done
[ -n "$out" ] || { echo "bisect_fake_gate: no --json FILE" >&2; exit 2; }
r=$(cat "$(dirname "$0")/ratio") || exit 2
awk -v r="$r" -v seed="$$" 'BEGIN {
    srand(seed)
    printf "{\"benchmarks\": ["
    for (p = 0; p < 2; p++) {
        name = "conv2d_fwd/p" p
        printf "%s{\"name\": \"%s/ours/threads:1\", \"impl\": \"ours\", \"problem\": \"%s\", \"threads\": 1, ", (p ? ", " : ""), name, name
        printf "\"onednn_best_path\": \"any\", \"time_unit\": \"ns\", \"samples\": ["
        for (i = 0; i < 15; i++) printf "%s%.4f", (i ? ", " : ""), 1000 * (p == 0 ? r : 1) * (1 + 0.01 * rand())
        printf "]}, {\"name\": \"%s/onednn_any/threads:1\", \"impl\": \"onednn\", \"time_unit\": \"ns\", \"samples\": [", name
        for (i = 0; i < 15; i++) printf "%s%.4f", (i ? ", " : ""), 1000 * (1 + 0.01 * rand())
        printf "]}"
    }
    printf "]}\n"
}' > "$out"

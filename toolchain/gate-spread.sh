#!/usr/bin/env bash
# Two latbench binaries' gate runs interleaved (old, new, old, new, ...), and per gated ratio its
# run-to-run spread in each: 1.4826 x the median absolute deviation of log(q1 ratio) over the runs, in
# percent; and each binary's median wall and CPU time a gate run with the load seen.  For a change to
# the gate's problems or repetitions (README, "How well change points catch a step").  Only the first
# check of a run counts (a failing check's confirming run is left out).
# Usage: toolchain/gate-spread.sh OLD_LATBENCH NEW_LATBENCH RUNS OUTDIR   (from the source tree's root)
set -u
if [ $# -ne 4 ] || [ ! -x "$1" ] || [ ! -x "$2" ] || ! [ "$3" -ge 3 ] 2>/dev/null; then
    echo "usage: toolchain/gate-spread.sh OLD_LATBENCH NEW_LATBENCH RUNS(>=3) OUTDIR" >&2
    exit 2
fi
old=$1 new=$2 n=$3 out=$4
expect=results/gate/avx512.json   # any ISA's file: the ratios are read, the verdicts not used
[ -f "$expect" ] || { echo "gate-spread: run it from the source tree's root (no $expect here)" >&2; exit 2; }
mkdir -p "$out" || exit 2
: > "$out/ratios.tsv"; : > "$out/times.tsv"
for i in $(seq 1 "$n"); do
    for b in old new; do
        bin=$old; [ "$b" = new ] && bin=$new
        LATBENCH_HISTORY=$out/h.sqlite /usr/bin/time -f "%e %U %S" -o "$out/t" "$bin" gate --no-history --expect "$expect" \
            > "$out/$b.$i.txt" 2>&1
        echo "$b $i $(cat "$out/t") $(cut -d' ' -f1 /proc/loadavg)" >> "$out/times.tsv"
        awk -v b="$b" -v i="$i" '/^== gate: ours/{on++} /^gate: (passed|FAILED)/{if(on==1)on=9}
            on==1 && ($2=="scalar"||$2=="oneDNN") && $3+0>0 {print b"\t"i"\t"$1"\t"$2"\t"$3}' "$out/$b.$i.txt" >> "$out/ratios.tsv"
    done
done
python3 - "$out" <<'PY'
import collections, math, statistics as st, sys
out = sys.argv[1]
d = collections.defaultdict(list)
for l in open(out + "/ratios.tsv"):
    b, i, name, vs, q = l.split("\t")
    d[(name, vs, b)].append(math.log(float(q)))
def mad(v):
    m = st.median(v)
    return 1.4826 * st.median([abs(x - m) for x in v])
print("%-58s %-7s %9s %9s" % ("problem", "vs", "old MAD%", "new MAD%"))
for name, vs in sorted({(k[0], k[1]) for k in d}):
    o, n = d.get((name, vs, "old"), []), d.get((name, vs, "new"), [])
    print("%-58s %-7s %9.2f %9.2f  (runs %d/%d)" % (name, vs, 100 * mad(o) if o else float("nan"),
                                                    100 * mad(n) if n else float("nan"), len(o), len(n)))
t = collections.defaultdict(list)
for l in open(out + "/times.tsv"):
    b, i, w, u, s, la = l.split()
    t[b].append((float(w), float(u) + float(s), float(la)))
for b in ("old", "new"):
    v = t[b]
    print("%s: wall median %.2f s, CPU median %.2f s, load %.1f-%.1f" % (b, st.median(x[0] for x in v),
          st.median(x[1] for x in v), min(x[2] for x in v), max(x[2] for x in v)))
PY

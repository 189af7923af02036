#!/usr/bin/env bash
# Runs every test binary of the given build directories and prints one summary line,
# "N passed, N failed", summed over all of them; exits non-zero if any test failed.
# A cmocka binary reports "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)"; a binary that
# dies without its summary (crash, sanitizer abort, timeout) counts as one more failure.
set -u
passed=0
failed=0
for dir in "$@"; do
    for bin in "$dir"/tests/test_*; do
        [ -x "$bin" ] || continue
        case "$bin" in *.d|*.o) continue ;; esac
        name="${bin#./}"
        log=$(mktemp)
        start=$(date +%s%N)
        LATBENCH_BIN="$dir/latbench" timeout 600 "$bin" >"$log" 2>&1
        rc=$?
        ms=$(( ($(date +%s%N) - start) / 1000000 ))
        p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$log" | tail -1)
        f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | tail -1)
        p=${p:-0}
        f=${f:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        passed=$((passed + p))
        failed=$((failed + f))
        printf '%-44s %3d passed %3d failed  %4d.%01ds\n' "$name" "$p" "$f" $((ms / 1000)) $((ms % 1000 / 100))
        # The whole log of a failing binary, and the ISA skip notes of every binary.
        if [ "$f" -ne 0 ]; then sed 's/^/    | /' "$log" | tail -60; else grep -E '^(SKIP|NOTE)' "$log" | sort -u | sed 's/^/    | /'; fi
        rm -f "$log"
    done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

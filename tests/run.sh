#!/usr/bin/env bash
# Runs every test binary of the given build directories and prints one summary line,
# "N passed, N failed", summed over all of them; exits non-zero if any test failed.
# A cmocka binary reports "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)"; a binary that
# dies without its summary (crash, sanitizer abort, timeout) counts as one more failure.
# A build for another architecture (an AArch64 cross build on x86-64: its latbench is an arm64 ELF)
# runs under toolchain/qemu-run: the test binaries themselves, and the latbench they start, since
# LATBENCH_BIN is then "RUNNER BINARY" (tests run it through the shell) and LATBENCH_RUNNER names
# the runner (tests may size their problems down under emulation).
# An argument fuzz:DIR runs a short smoke of every fuzz target in DIR/fuzz/ (tests/fuzz/fuzz.sh
# smoke: the committed corpus, then a few seconds of fuzzing): one test each, failed on any finding.
# Without the targets (clang's libFuzzer missing) it says so in the summary line.
# -j N runs up to N test binaries (and fuzz smokes) at once (make test passes one per core; default 1);
# the binaries that time something (SERIAL below) run alone, before the others, so that no load of
# ours skews them (under emulation they time nothing: they join the others).  The others run with
# OMP_WAIT_POLICY=passive (unless set): beside another test an OpenMP team that spins at its barriers
# burns the core its partner needs (test_parallel: 3x the CPU time with spinning threads).
# Each binary's lines are printed together, in the order the binaries are listed; the fuzz smokes last.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
passed=0
failed=0
jobs=1
if [ "${1:-}" = "-j" ]; then jobs=${2:?"run.sh: -j needs a count"}; shift 2; fi
case "$jobs" in ''|*[!0-9]*|0) echo "run.sh: -j $jobs: not a positive count" >&2; exit 2 ;; esac
# binaries whose tests compare timings (a slowed kernel must be caught): alone, never beside others
SERIAL=" test_gate test_compare "
work=$(mktemp -d)
# bench and gate append their runs to the history: the tests' runs go to one of their own, not the user's
export LATBENCH_HISTORY="$work/history.sqlite"
# bench's STREAM roof over 64 MiB, not 4x the LLC (GiBs: ~10 CPU-s per thread count per bench run)
export LATBENCH_STREAM_MB=${LATBENCH_STREAM_MB:-64}
trap 'rm -rf "$work"' EXIT
# The ELF machine of a file: 62 x86-64, 183 AArch64 (e_machine, little-endian, at byte 18).
elf_machine() { od -An -tu2 -j18 -N2 "$1" 2>/dev/null | tr -d ' '; }
host_machine=$(elf_machine /bin/sh)
fuzz_note=""
# The fuzz smoke of one target (queue item "fuzz:DIR/fuzz/T"): its first line is the summary.
run_fuzz() {
    local bin=${1#fuzz:} k start rc
    k=$(key_of "$1")
    start=$(date +%s%N)
    timeout 300 "$root/tests/fuzz/fuzz.sh" smoke "$(dirname "$(dirname "$bin")")" "$(basename "$bin")" >"$work/$k.log" 2>&1
    rc=$?
    echo "$rc $(( ($(date +%s%N) - start) / 1000000 ))" >"$work/$k.rc"
}
report_fuzz() {
    local bin=${1#fuzz:} k rc ms log
    k=$(key_of "$1")
    log="$work/$k.log"
    read -r rc ms <"$work/$k.rc"
    if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    printf '%-44s %3d passed %3d failed  %4d.%01ds  %s\n' "fuzz smoke $(basename "$bin")" $((rc == 0)) $((rc != 0)) $((ms / 1000)) \
        $((ms % 1000 / 100)) "$(head -1 "$log" | sed 's/^fuzz smoke [^:]*: //')"
    [ "$rc" -ne 0 ] && tail -n +2 "$log" | tail -60
}
# Runs one test binary into $work/<n>.log and $work/<n>.rc (its exit status and milliseconds).
key_of() { echo "$1" | tr '/.' '__'; }
run_one() {
    local bin=$1 runner=$2 absdir=$3 k start rc
    k=$(key_of "$bin")
    start=$(date +%s%N)
    LATBENCH_RUNNER="$runner" LATBENCH_BIN="${runner:+$runner }$absdir/latbench" timeout 600 ${runner:+"$runner"} "$bin" >"$work/$k.log" 2>&1
    rc=$?
    echo "$rc $(( ($(date +%s%N) - start) / 1000000 ))" >"$work/$k.rc"
}
# Adds one binary's counts to the totals and prints its line (and its whole log when it failed).
report_one() {
    local bin=$1 k rc ms p f log
    k=$(key_of "$bin")
    log="$work/$k.log"
    read -r rc ms <"$work/$k.rc"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | tail -1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
    printf '%-44s %3d passed %3d failed  %4d.%01ds\n' "${bin#./}" "$p" "$f" $((ms / 1000)) $((ms % 1000 / 100))
    # The whole log of a failing binary, and the ISA skip notes of every binary.
    if [ "$f" -ne 0 ]; then sed 's/^/    | /' "$log" | tail -60; else grep -E '^(SKIP|NOTE)' "$log" | sort -u | sed 's/^/    | /'; fi
}
# The queue: every test binary of every build directory, with its runner and the header line of
# its directory (printed before the directory's first result).
queue=() runners=() absdirs=() headers=() fuzz_dirs=()
for dir in "$@"; do
    case "$dir" in fuzz:*) fuzz_dirs+=("${dir#fuzz:}"); continue ;; esac
    runner="" header=""
    # an absolute path: tests run the binary from their own temporary directories
    absdir=$(cd "$dir" && pwd)
    machine=$(elf_machine "$dir/latbench")
    if [ -n "$machine" ] && [ "$machine" != "$host_machine" ]; then
        if [ "$machine" != 183 ]; then
            echo "$dir: binaries for ELF machine $machine, which this host cannot run" >&2
            failed=$((failed + 1))
            continue
        fi
        runner="$root/toolchain/qemu-run"
        header="$dir: AArch64 build, run under qemu-aarch64 (CPU ${QEMU_CPU:-max}; timings mean nothing)"
    fi
    for bin in "$dir"/tests/test_*; do
        [ -x "$bin" ] || continue
        case "$bin" in *.d|*.o) continue ;; esac
        queue+=("$bin") runners+=("$runner") absdirs+=("$absdir") headers+=("$header")
        header=""
    done
done
# Results are printed in queue order as soon as every earlier one is in.
next=0
flush_ready() {
    while [ "$next" -lt "${#queue[@]}" ] && [ -f "$work/$(key_of "${queue[$next]}").rc" ]; do
        [ -n "${headers[$next]}" ] && echo "${headers[$next]}"
        case "${queue[$next]}" in fuzz:*) report_fuzz "${queue[$next]}" ;; *) report_one "${queue[$next]}" ;; esac
        next=$((next + 1))
    done
}
# the fuzz smokes: one item per target, after the test binaries (printed last)
for d in "${fuzz_dirs[@]}"; do
    n=0
    for bin in "$d"/fuzz/*; do
        [ -x "$bin" ] || continue
        queue+=("fuzz:$bin") runners+=("") absdirs+=("") headers+=("")
        n=$((n + 1))
    done
    if [ $n -eq 0 ]; then
        why=$("$root/tests/fuzz/fuzz.sh" check || true)
        fuzz_note=" (fuzz smoke NOT RUN: no fuzz targets in $d/fuzz: ${why:-they were not built, make fuzz-bins})"
        echo "fuzz smoke: NOT RUN: no targets in $d/fuzz (clang's libFuzzer unavailable?)"
    fi
done
# A timing binary of a native build (an emulated one times nothing: it runs with the others).
is_serial() {
    [ -z "${runners[$1]}" ] || return 1
    case "$SERIAL" in *" $(basename "${queue[$1]}") "*) return 0 ;; esac
    return 1
}
# the timing binaries first, alone
for i in "${!queue[@]}"; do
    is_serial "$i" || continue
    run_one "${queue[$i]}" "${runners[$i]}" "${absdirs[$i]}"
    flush_ready
done
# then the rest, up to $jobs at once, the slowest first so that none is left alone at the end: the
# emulated ones, the sanitizer builds' (their directories listed after the release build's), the
# release ones, then the fuzz smokes (a few seconds each)
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
order=()
for i in "${!queue[@]}"; do [ -n "${runners[$i]}" ] && order+=("$i"); done
for ((i = ${#queue[@]} - 1; i >= 0; i--)); do
    case "${queue[$i]}" in fuzz:*) continue ;; esac
    [ -z "${runners[$i]}" ] && order+=("$i")
done
for i in "${!queue[@]}"; do case "${queue[$i]}" in fuzz:*) order+=("$i") ;; esac; done
running=0
for i in "${order[@]}"; do
    is_serial "$i" && continue
    while [ "$running" -ge "$jobs" ]; do wait -n; running=$((running - 1)); flush_ready; done
    case "${queue[$i]}" in
    fuzz:*) run_fuzz "${queue[$i]}" & ;;
    *) run_one "${queue[$i]}" "${runners[$i]}" "${absdirs[$i]}" & ;;
    esac
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do wait -n; running=$((running - 1)); flush_ready; done
flush_ready
echo "$passed passed, $failed failed$fuzz_note"
[ "$failed" -eq 0 ]

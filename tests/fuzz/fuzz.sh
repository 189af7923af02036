#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz/ (built by `make fuzz-bins` into BUILD/fuzz/<target>).
#   fuzz.sh check                     exit 0 when clang can link libFuzzer, else 1 with the reason
#   fuzz.sh run BUILD SECONDS [T...]  fuzz each target SECONDS (its corpus grows in BUILD/corpus/T,
#                                     findings go to BUILD/artifacts/T/); exit 1 on any finding
#   fuzz.sh smoke BUILD T             the suite's smoke: the committed corpus, then a short fixed-seed
#                                     run in a scratch corpus ($FUZZ_SMOKE_TIME s, default 3)
#   fuzz.sh coverage COVBUILD [T...]  replay each corpus through the coverage build; llvm-cov report
#                                     of the target's parser sources
# A finding is a crash, a sanitizer report, a leak, a timeout (-timeout, s per input) or running out
# of memory (-rss_limit_mb / -malloc_limit_mb).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}

targets_of() { for f in "$1"/fuzz/*; do [ -x "$f" ] && basename "$f"; done; }

# The parser sources each target is meant to cover (for the coverage report).
sources_of() {
    case "$1" in
        npy) echo lib/io/npy.c lib/io/infile.c ;;
        dataset) echo lib/nn/nnio.c lib/io/npy.c ;;
        safetensors) echo lib/io/safetensors.c lib/io/infile.c ;;
        model_file) echo lib/io/safetensors.c tools/cli/nncli.c lib/nn/nnio.c lib/nn/netspec.c ;;
        netspec) echo lib/nn/netspec.c lib/nn/model.c ;;
        compare) echo tools/track/compare.c ;;
        gate) echo tools/track/gate.c ;;
        report) echo tools/cli/report.c ;;
        params) echo lib/lattice/params.c ;;
        opts) echo tools/opts/opts.c ;;
        profile) echo arch/profile.c ;;
        *) echo "" ;;
    esac
}

llvm_tool() {
    for c in "$1" "$1-14" "/usr/lib/llvm-14/bin/$1"; do command -v "$c" >/dev/null 2>&1 && { echo "$c"; return 0; }; done
    return 1
}

check() {
    command -v clang >/dev/null 2>&1 || { echo "clang is not installed (toolchain/install-deps.sh installs it)"; return 1; }
    local tmp
    tmp=$(mktemp -d)
    printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$tmp/t.c"
    if ! clang -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" >"$tmp/log" 2>&1; then
        echo "clang cannot link libFuzzer ($(head -1 "$tmp/log"); Debian: libclang-rt-14-dev)"
        rm -rf "$tmp"
        return 1
    fi
    rm -rf "$tmp"
}

# fuzz_one BIN TARGET LOG WORKDIR ARTIFACTS EXTRA...: runs libFuzzer; its exit status.
fuzz_one() {
    local bin=$1 t=$2 log=$3 work=$4 art=$5
    shift 5
    local dict=()
    [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
    mkdir -p "$work" "$art"
    "$bin" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" -malloc_limit_mb="$FUZZ_RSS_MB" -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" "$@" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
}

# One line of figures from a libFuzzer log: executions, coverage (cov: edges, ft: features), corpus.
summary() {
    local execs last
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1)
    last=$(grep -E '^#[0-9]+' "$1" | grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*/[0-9a-zA-Z]*' | tail -1)
    echo "${execs:-?} runs, ${last:-no coverage line}"
}

# The finding of a failed run: its kind, where, and the input that triggers it.
finding() {
    local log=$1
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|SUMMARY:|Test unit written to|ALARM|out-of-memory|^ +#[0-9] ' "$log" | head -14 | sed 's/^/    | /'
}

run() {
    local build=$1 secs=$2
    shift 2
    local ts=("$@") bad=0
    [ ${#ts[@]} -eq 0 ] && mapfile -t ts < <(targets_of "$build")
    [ ${#ts[@]} -eq 0 ] && { echo "fuzz: no targets in $build/fuzz (make fuzz-bins)" >&2; return 2; }
    mkdir -p "$build/logs"
    for t in "${ts[@]}"; do
        local log="$build/logs/$t.log"
        fuzz_one "$build/fuzz/$t" "$t" "$log" "$build/corpus/$t" "$build/artifacts/$t" -max_total_time="$secs"
        local rc=$?
        if [ $rc -eq 0 ]; then
            printf 'fuzz %-12s ok     %s\n' "$t" "$(summary "$log")"
        else
            printf 'fuzz %-12s FAILED (exit %d) %s; log %s\n' "$t" "$rc" "$(summary "$log")" "$log"
            finding "$log"
            bad=1
        fi
    done
    return $bad
}

smoke() {
    local build=$1 t=$2 tmp rc
    tmp=$(mktemp -d)
    fuzz_one "$build/fuzz/$t" "$t" "$tmp/log" "$tmp/corpus" "$tmp/artifacts" -seed=1 -max_total_time="${FUZZ_SMOKE_TIME:-3}"
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "fuzz smoke $t: ok: $(summary "$tmp/log")"
    else
        echo "fuzz smoke $t: FAILED (exit $rc): $(summary "$tmp/log")"
        finding "$tmp/log"
        # keep the input that triggered it
        mkdir -p "$build/artifacts/$t" && cp "$tmp"/artifacts/* "$build/artifacts/$t/" 2>/dev/null &&
            echo "    | input kept in $build/artifacts/$t/"
    fi
    rm -rf "$tmp"
    return $rc
}

coverage() {
    local build=$1
    shift
    local ts=("$@") profdata cov
    profdata=$(llvm_tool llvm-profdata) && cov=$(llvm_tool llvm-cov) || { echo "fuzz-coverage: llvm-profdata/llvm-cov not found (Debian: llvm-14)" >&2; return 2; }
    [ ${#ts[@]} -eq 0 ] && mapfile -t ts < <(targets_of "$build")
    mkdir -p "$build/prof"
    # Per source file: the whole file (CLI code included), and the functions the target reaches
    # (the parser proper: every function with any coverage, their regions and lines summed).
    printf '%-12s %-28s %16s %16s %22s\n' target file "regions (file)" "lines (file)" "reached fns: reg/lines"
    for t in "${ts[@]}"; do
        rm -f "$build/prof/$t".*
        # the committed corpus, and what `make fuzz` grew in build/fuzz/corpus
        LLVM_PROFILE_FILE="$build/prof/$t.profraw" "$build/fuzz/$t" "tests/fuzz/corpus/$t" "build/fuzz/corpus/$t" >/dev/null 2>&1
        "$profdata" merge -sparse -o "$build/prof/$t.profdata" "$build/prof/$t.profraw" || return 1
        for src in $(sources_of "$t"); do
            "$cov" report "$build/fuzz/$t" -instr-profile="$build/prof/$t.profdata" -show-functions "$src" 2>/dev/null |
                awk -v t="$t" -v f="$src" '
                    $1 != "TOTAL" && $2 ~ /^[0-9]+$/ && $4 ~ /%$/ {
                        R += $2; RM += $3; L += $5; LM += $6
                        if ($3 < $2) { r += $2; rm += $3; l += $5; lm += $6 }
                    }
                    function pct(n, m) { return n ? sprintf("%.1f%%", 100 * (n - m) / n) : "-" }
                    END { printf "%-12s %-28s %16s %16s %11s / %-8s\n", t, f, pct(R, RM), pct(L, LM), pct(r, rm), pct(l, lm) }'
        done
    done
}

case "${1:-}" in
    check) check ;;
    run) shift; run "$@" ;;
    smoke) shift; smoke "$@" ;;
    coverage) shift; coverage "$@" ;;
    *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac

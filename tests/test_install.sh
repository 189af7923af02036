#!/usr/bin/env bash
# `make install` end to end, from a build's existing objects (tests/test_install.c runs it for
# build/release): installs into a temporary PREFIX, checks the files, the shared library's exports
# and SONAME, builds a small program with pkg-config against the shared and the static library and
# runs it, renders the man page, loads the bash completion, and uninstalls.
# Usage: tests/test_install.sh ROOT BUILD    (BUILD relative to ROOT, e.g. build/release)
# Prints one line per check; the last line is "install: all checks passed", or the failing check's
# line and exit 1.
set -u
root=${1:?"usage: test_install.sh ROOT BUILD"}
build=${2:?"usage: test_install.sh ROOT BUILD"}
cd "$root" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
p=$tmp/prefix
fail() { echo "install: FAILED: $*"; exit 1; }
ok() { echo "install: ok: $*"; }

so=$(ls "$build"/liblatbench.so.*.* 2>/dev/null | head -1)
[ -n "$so" ] || fail "no $build/liblatbench.so.MAJOR.MINOR (make test-bins builds it)"
# -o: the binary and the libraries are taken as they are, never rebuilt (other tests may be running them)
make --no-print-directory -s install BUILD="$build" PREFIX="$p" -o "$build/latbench" -o "$build/liblatbench.a" \
    -o "$so" >"$tmp/make.log" 2>&1 || { tail -20 "$tmp/make.log"; fail "make install PREFIX=$p"; }
major=$(sed -n 's/^#define LATBENCH_VERSION_MAJOR \([0-9]*\).*/\1/p' include/latbench.h)
for f in bin/latbench lib/liblatbench.a lib/liblatbench.so "lib/liblatbench.so.$major" "lib/$(basename "$so")" \
         lib/pkgconfig/latbench.pc include/latbench.h share/man/man1/latbench.1 \
         share/bash-completion/completions/latbench share/latbench/plot_experiment.py share/latbench/plot_bench.py share/latbench/plot_study.py share/latbench/plot_common.py; do
    [ -e "$p/$f" ] || fail "$f was not installed"
done
ok "files installed under PREFIX"

# exports: the API only
syms=$(nm -D --defined-only "$p/lib/liblatbench.so" | awk 'NF >= 3 {print $3}')
n=$(echo "$syms" | grep -c '^latbench_')
bad=$(echo "$syms" | grep -v '^latbench_' | head -5 | tr '\n' ' ')
[ -z "$bad" ] || fail "the shared library exports non-API symbols: $bad"
[ "$n" -ge 20 ] || fail "only $n latbench_ symbols exported"
readelf -d "$p/lib/liblatbench.so" | grep -q "SONAME.*\[liblatbench.so.$major\]" || fail "SONAME is not liblatbench.so.$major"
ok "$n symbols exported, all latbench_*; SONAME liblatbench.so.$major"
# the static archive alike: its internal names (lb_, io_, nn_, ...) are local, a program linking it
# with its own helpers of those names does not clash
ssyms=$(nm -g --defined-only "$p/lib/liblatbench.a" | awk 'NF >= 3 {print $3}')
sn=$(echo "$ssyms" | grep -c '^latbench_')
bad=$(echo "$ssyms" | grep -v '^latbench_' | head -5 | tr '\n' ' ')
[ -z "$bad" ] || fail "the static library defines non-API global symbols: $bad"
[ "$sn" -eq "$n" ] || fail "the static library defines $sn latbench_ symbols, the shared one exports $n"
ok "static archive: $sn global symbols, all latbench_*, the same count as the shared library"

cat >"$tmp/prog.c" <<'PROG'
#include <latbench.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    char err[256], want[32];
    if (!latbench_init(err, sizeof err)) return printf("init: %s\n", err), 1;
    snprintf(want, sizeof want, "%d.%d.%d", LATBENCH_VERSION_MAJOR, LATBENCH_VERSION_MINOR, LATBENCH_VERSION_PATCH);
    if (strcmp(latbench_version(), want)) return printf("version %s, header %s\n", latbench_version(), want), 1;
    if (!latbench_variant("conv2d") || latbench_variant_count("conv2d") < 1) return printf("no conv2d variant\n"), 1;
    /* 2x3 lattice, kernel 1x2: out(t, x) = in(t, x) + 10 in(t, (x+1) mod 3) + 0.5 */
    latbench_conv2d_desc d = {1, 2, 3, 1, 1, 1, 2, 1, 1, 1};
    const float in[6] = {1, 2, 3, 4, 5, 6}, w[2] = {1, 10}, b[1] = {0.5f}, o[6] = {21.5f, 32.5f, 13.5f, 54.5f, 65.5f, 46.5f};
    float out[6];
    if (!latbench_conv2d_fwd(&d, in, w, b, out, err, sizeof err)) return printf("conv2d: %s\n", err), 1;
    for (int i = 0; i < 6; i++)
        if (fabsf(out[i] - o[i]) > 1e-5f) return printf("conv2d out[%d] = %g, not %g\n", i, out[i], o[i]), 1;
    latbench_sampler_params p = latbench_sampler_defaults();
    p.nt = 4, p.nx = 4, p.count = 4, p.chains = 2, p.therm = 16, p.threads = 1;
    int16_t x1[4 * 64], x2[4 * 64];
    float y[8];
    if (!latbench_sample(&p, x1, y, err, sizeof err) || !latbench_sample(&p, x2, NULL, err, sizeof err))
        return printf("sampler: %s\n", err), 1;
    if (memcmp(x1, x2, sizeof x1)) return printf("sampler: not reproducible\n"), 1;
    printf("prog ok: latbench %s, isa %s, conv2d %s, worm %s\n", latbench_version(), latbench_isa(),
           latbench_variant("conv2d"), latbench_variant("worm"));
    return 0;
}
PROG
export PKG_CONFIG_PATH=$p/lib/pkgconfig
cflags=$(pkg-config --cflags latbench) || fail "pkg-config --cflags latbench"
libs=$(pkg-config --libs latbench) || fail "pkg-config --libs latbench"
slibs=$(pkg-config --static --libs latbench) || fail "pkg-config --static --libs latbench"
cc -std=c99 -pedantic -Wall -Wextra -Werror $cflags -o "$tmp/prog" "$tmp/prog.c" $libs -lm >"$tmp/cc.log" 2>&1 ||
    { cat "$tmp/cc.log"; fail "cc prog.c \$(pkg-config --cflags --libs latbench)"; }
readelf -d "$tmp/prog" | grep -q "NEEDED.*liblatbench.so.$major" || fail "prog does not need liblatbench.so.$major"
out=$(LD_LIBRARY_PATH=$p/lib "$tmp/prog" 2>&1) || fail "the program linked to the shared library: $out"
echo "$out" | grep -q '^prog ok' || fail "the shared program said: $out"
ok "shared: $out"
# static: the archive (-Bstatic for it alone), with Libs.private and Requires.private
static_libs=${slibs/-llatbench/-Wl,-Bstatic -llatbench -Wl,-Bdynamic}
# with a helper of the program named as library internals are (lb_, nn_, io_): no clash with the archive
printf 'int lb_dispatch_get(void) { return 1; }\nint nn_model_params(void) { return 2; }\nint io_npy_write_fd(void) { return 3; }\n' \
    >"$tmp/clash.c"
cc -std=c99 $cflags -o "$tmp/prog-static" "$tmp/prog.c" "$tmp/clash.c" $static_libs -lm >"$tmp/cc.log" 2>&1 ||
    { cat "$tmp/cc.log"; fail "cc prog.c clash.c --static: $static_libs"; }
readelf -d "$tmp/prog-static" | grep -q 'NEEDED.*liblatbench' && fail "the static program needs liblatbench.so"
out=$("$tmp/prog-static" 2>&1) || fail "the program linked to liblatbench.a: $out"
ok "static ($static_libs, beside the program's own lb_/nn_/io_ names): $out"
if command -v g++ >/dev/null; then
    echo '#include <latbench.h>' | g++ -x c++ -fsyntax-only -Wall -Wextra -Werror $cflags - || fail "latbench.h in C++"
    ok "latbench.h compiles as C++"
fi

ver=$("$p/bin/latbench" --version | head -1)
[[ $ver == "latbench $(pkg-config --modversion latbench) "* ]] || fail "installed --version says '$ver'"
ok "$ver"
# the installed binary finds its plotting scripts in PREFIX/share/latbench (an empty benchmark result:
# refused as input, after the script was found)
echo '{"benchmarks": []}' >"$tmp/r.json"
out=$(env -u LATBENCH_SHARE "$p/bin/latbench" report "$tmp/r.json" --out "$tmp/plots" 2>&1)
echo "$out" | grep -q 'cannot find' && fail "the installed latbench report: $out"
echo "$out" | grep -q 'no conv/pool or pipeline records' || fail "the installed latbench report said: $out"
ok "the installed latbench report finds its scripts in PREFIX/share/latbench"

# the man page: every command in it
if command -v man >/dev/null; then
    page=$(MANPATH=$p/share/man MANWIDTH=120 man latbench 2>"$tmp/man.err") || { cat "$tmp/man.err"; fail "man latbench"; }
else
    echo "install: NOTE: man is not installed: the page is checked as roff source only"
    page=$(cat "$p/share/man/man1/latbench.1")
fi
for c in $("$p/bin/latbench" --help | sed -n 's/^  \([a-z][a-z]*\)  *[^ ].*/\1/p'); do
    echo "$page" | grep -q "latbench $c" || fail "the man page has no section for 'latbench $c'"
done
echo "$page" | grep -q -- '--worms-per-sweep' || fail "the man page lacks the commands' options"
ok "man latbench renders, with every command's help"
# a page per command, listed in latbench(1)'s SEE ALSO
if command -v man >/dev/null; then
    tp=$(MANPATH=$p/share/man MANWIDTH=120 man latbench-train 2>"$tmp/man.err") || { cat "$tmp/man.err"; fail "man latbench-train"; }
    echo "$tp" | grep -q -- '--spec' || fail "man latbench-train lacks train's options"
fi
for c in $("$p/bin/latbench" --help | sed -n 's/^  \([a-z][a-z]*\)  *[^ ].*/\1/p'); do
    [ -e "$p/share/man/man1/latbench-$c.1" ] || fail "no man page latbench-$c(1)"
    grep -q "latbench\\\\-$c" "$p/share/man/man1/latbench.1" || fail "latbench(1) SEE ALSO does not list latbench-$c(1)"
done
ok "a man page per command (man latbench-train renders), each in latbench(1)'s SEE ALSO"

# the completion: loads, completes a command and an option
comp=$p/share/bash-completion/completions/latbench
res=$(bash -c 'source "$1" || exit 1; complete -p latbench
  COMP_WORDS=(latbench gen); COMP_CWORD=1; _latbench; echo "cmd: ${COMPREPLY[*]}"
  COMP_WORDS=(latbench generate --ta); COMP_CWORD=2; _latbench; echo "opt: ${COMPREPLY[*]}"' _ "$comp" 2>&1)
echo "$res" | grep -q 'complete .*-F _latbench latbench' || fail "completion: complete -F not loaded: $res"
echo "$res" | grep -qx 'cmd: generate' || fail "completion of 'latbench gen': $res"
echo "$res" | grep -qx 'opt: --task --tau-factor' || fail "completion of 'latbench generate --ta': $res"
ok "bash completion loads (complete -F _latbench), completes commands and options"

make --no-print-directory -s uninstall BUILD="$build" PREFIX="$p" -o "$build/latbench" -o "$build/liblatbench.a" \
    -o "$so" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make uninstall"; }
left=$(find "$p" -type f -o -type l | head -5 | tr '\n' ' ')
[ -z "$left" ] || fail "make uninstall left: $left"
ok "make uninstall removes every file"
echo "install: all checks passed"

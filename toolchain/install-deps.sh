#!/usr/bin/env bash
# Installs the Debian packages latbench needs, only those that are missing: what building and running
# it needs (make run, make install without its man pages), and with --test also what only the tests,
# the fuzzing and the man pages need (make test).
# Usage: toolchain/install-deps.sh [--test] [extra-package ...]
set -euo pipefail
# To build and run: the compiler, oneDNN (the baseline), hwloc, Google Benchmark (gbench), jansson,
# sqlite (the history), numpy, matplotlib (report), torch (the PyTorch side of the pipelines) and Open MPI
# (mpirun -n R latbench experiment: trials over ranks; MPI=0 builds without).
pkgs=(build-essential pkg-config libdnnl-dev libhwloc-dev libbenchmark-dev libjansson-dev libsqlite3-dev python3-numpy
      python3-matplotlib python3-torch libopenmpi-dev openmpi-bin)
# To test: clang and its OpenMP (the clang build), libclang-rt-dev: clang's libFuzzer and sanitizer runtimes
# (make fuzz, the fuzz smoke of make test; on Debian 12 it pulls libclang-rt-14-dev); llvm: llvm-profdata
# and llvm-cov (make fuzz-coverage); cmocka; libbenchmark-tools and scipy (the tests' cross-checks);
# chromium: tests/test_dashboard.c loads the dashboard page headless (screenshot, DOM); help2man: the man
# pages of make install (tests/test_install.sh).
test_pkgs=(clang libomp-dev libclang-rt-dev llvm libcmocka-dev libbenchmark-tools python3-scipy chromium help2man)
if [ "${1:-}" = --test ]; then
    shift
    pkgs+=("${test_pkgs[@]}")
fi
pkgs+=("$@")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "toolchain: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "toolchain: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists once per boot at most: a fresh machine has none.
stamp=/tmp/latbench-apt-updated
[ -f "$stamp" ] || { $SUDO apt-get update -qq && touch "$stamp"; }
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# Installs the Debian packages latbench needs, only those that are missing.
# Usage: toolchain/install-deps.sh [extra-package ...]
set -euo pipefail
# libclang-rt-dev: clang's libFuzzer and sanitizer runtimes (make fuzz, the fuzz smoke of make test; on
# Debian 12 it pulls libclang-rt-14-dev); llvm: llvm-profdata and llvm-cov (make fuzz-coverage);
# chromium: tests/test_dashboard.c loads the dashboard page headless (screenshot, DOM); help2man: the
# man page latbench(1) of make install.
pkgs=(build-essential clang libomp-dev libclang-rt-dev llvm libdnnl-dev libcmocka-dev libhwloc-dev libbenchmark-dev libbenchmark-tools python3-scipy pkg-config libjansson-dev libsqlite3-dev python3-numpy python3-torch python3-matplotlib chromium help2man "$@")
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

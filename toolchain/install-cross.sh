#!/usr/bin/env bash
# Installs what the AArch64 cross build and its qemu test run need, only what is missing:
# the cross compiler, qemu-user, and the arm64 (Debian multiarch) builds of libc and of the
# libraries latbench links; toolchain/qemu-run runs the binaries against those (-L /).
# oneDNN and google-benchmark are not among them: the aarch64 build is made without both
# (ONEDNN=0 GBENCH=0, see the Makefile).  Debian's libdnnl-dev:arm64 cannot be installed beside
# libdnnl-dev (both ship a different /usr/include/oneapi/dnnl/dnnl_config.h), and verify and bench
# then report the oneDNN comparisons as not available on this build.
# Usage: toolchain/install-cross.sh [extra-package ...]
set -euo pipefail
host_pkgs=(gcc-aarch64-linux-gnu qemu-user)
arm64_pkgs=(libc6-dev:arm64 libgomp1:arm64 libcmocka-dev:arm64 libjansson-dev:arm64 libsqlite3-dev:arm64 libhwloc-dev:arm64 "$@")

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || SUDO=missing
    [ "$SUDO" = missing ] || SUDO=sudo
fi
as_root() {
    if [ "$SUDO" = missing ]; then echo "toolchain: need root (or sudo) to run: $*" >&2; exit 1; fi
    $SUDO "$@"
}
export DEBIAN_FRONTEND=noninteractive
# Other apt users (a concurrent install-deps.sh) hold the lock for a while: wait for it.
APT_OPTS=(-o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends)

missing=()
for p in "${host_pkgs[@]}" "${arm64_pkgs[@]}"; do installed "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "toolchain: installing (cross) ${missing[*]}"

# arm64 packages need the architecture enabled and its package lists fetched (once per
# architecture change; the stamp is shared with install-deps.sh's once-per-boot refresh).
stamp=/tmp/latbench-apt-updated
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    as_root dpkg --add-architecture arm64
    rm -f "$stamp"
fi
if [ ! -f "$stamp" ] || ! apt-cache show libcmocka-dev:arm64 >/dev/null 2>&1; then
    as_root apt-get -o DPkg::Lock::Timeout=300 update -qq && touch "$stamp"
fi
as_root apt-get install "${APT_OPTS[@]}" "${missing[@]}" >/dev/null

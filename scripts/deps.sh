#!/usr/bin/env bash
# Installs everything weft needs to build, test and benchmark on Debian 12.
# --demo: only what the library and the demo need (a C compiler, meson,
# ninja, pkg-config, liburcu). Idempotent: skips apt when every package is
# already installed.
set -euo pipefail
if [ "${1:-}" = --demo ]; then
    pkgs=(build-essential meson ninja-build pkg-config liburcu-dev)
else
    pkgs=(build-essential meson ninja-build pkg-config liburcu-dev libcriterion-dev
          libbenchmark-dev g++ clang libclang-rt-14-dev libtbb-dev libomp-dev
          libglib2.0-dev libck-dev gnuplot-nox python3)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Installs dependencies, builds weft and runs the demo (examples/demo.c).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
[ -d build ] || meson setup build
ninja -C build
./build/examples/demo

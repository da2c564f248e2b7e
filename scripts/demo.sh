#!/usr/bin/env bash
# Installs what the library and the demo need (scripts/deps.sh --demo: no
# test or benchmark dependencies), builds weft and runs the demo
# (examples/demo.c).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --demo
[ -d build-demo ] || meson setup build-demo -Dtests=false -Dbench=false
ninja -C build-demo examples/demo
./build-demo/examples/demo

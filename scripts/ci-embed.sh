#!/usr/bin/env bash
# CI for embedding weft (issue 9): the strict header matrix (C and C++), the
# C and C++ consumers (tests/consumer, also part of the meson test suite),
# the ABI list. The subproject/pkg-config/CMake consumers are .ci/run's
# scripts/subproject-check.sh step.
# Budget: about 6 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== embed: strict header matrix (C11/17/23, C++11..23, gcc and clang)"
bash scripts/ci-headers.sh

echo "== embed: C and C++ consumers with clang/clang++ (the gcc build runs them in scripts/test.sh)"
# Reuses .ci/run's clang build when it is there.
dir=build-ci-clang
[ -d "$dir" ] || CC=clang CXX=clang++ meson setup "$dir" -Dwerror=true -Dbench=false >/dev/null
ninja -C "$dir" >/dev/null
meson test -C "$dir" --suite consumer --print-errorlogs --no-rebuild

echo "== embed: exported symbols against abi/weft.symbols"
bash scripts/abi-check.sh "$dir"

echo "== embed: API reference (doxygen; fails on an undocumented public function)"
bash scripts/doxygen.sh

echo "== embed: the README's C block (-Wall -Wextra -Werror)"
bash scripts/readme-check.sh "$dir"

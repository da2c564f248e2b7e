#!/usr/bin/env bash
# CI for embedding weft (issue 9): the strict header matrix (C and C++), the
# C and C++ consumers (tests/consumer, also part of the meson test suite).
# Budget: about 6 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== embed: strict header matrix (C11/17/23, C++11..23, gcc and clang)"
bash scripts/ci-headers.sh

echo "== embed: C and C++ consumers (g++ and clang++)"
for c in gcc:g++ clang:clang++; do
    dir=build-ci-consumer-${c%%:*}
    [ -d "$dir" ] || CC=${c%%:*} CXX=${c##*:} meson setup "$dir" -Dwerror=true -Dbench=false >/dev/null
    ninja -C "$dir" tests/consumer/consumer_c tests/consumer/consumer_cpp >/dev/null
    meson test -C "$dir" --suite consumer --print-errorlogs --no-rebuild
done

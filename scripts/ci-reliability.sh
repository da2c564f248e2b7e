#!/usr/bin/env bash
# CI: weft's reliability checks (docs/RELIABILITY.md), within 8 minutes:
#   1. fork: 1000 children of a busy process (capped at 240 s; the count
#      forked is printed), none may crash, hang or fail a check;
#   2. the allocation-failure sweep over every call of its scenario, once and
#      from there on, in the ASan+UBSan build (LeakSanitizer at exit);
#   3. the libFuzzer target for 60 s (clang, address+undefined), from the
#      committed seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "-- fork: 1000 children of a busy process"
[ -d build-ci-rel ] || meson setup build-ci-rel -Dwerror=true -Dbench=false >/dev/null
ninja -C build-ci-rel tests/fork/fork_children
timeout 300 build-ci-rel/tests/fork/fork_children 1000 240

echo "-- allocation-failure sweep (ASan+UBSan, LSan at exit)"
[ -d build-ci-asan ] || meson setup build-ci-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dwerror=true -Dbench=false >/dev/null
ninja -C build-ci-asan tests/fault/fault_sweep
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    timeout 240 build-ci-asan/tests/fault/fault_sweep

echo "-- libFuzzer: 60 s"
bash tests/fuzz/build.sh build-ci-fuzz
mkdir -p build-ci-fuzz/corpus
timeout 120 build-ci-fuzz/fuzz_api -max_total_time=60 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 build-ci-fuzz/corpus tests/fuzz/corpus 2>&1 | tail -25

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

# Build directories of earlier .ci/run steps are reused when they exist.
rel=${REL_BUILD:-build-ci-clang}
asan=${ASAN_BUILD:-build-ci-asan}
fuzz=${FUZZ_BUILD:-build-ci-fuzz}

echo "-- fork: 1000 children of a busy process"
[ -d "$rel" ] || meson setup "$rel" -Dwerror=true -Dbench=false >/dev/null
ninja -C "$rel" tests/fork/fork_children
timeout 300 "$rel"/tests/fork/fork_children 1000 240

echo "-- allocation-failure sweep (ASan+UBSan, LSan at exit)"
[ -d "$asan" ] || meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dwerror=true -Dbench=false >/dev/null
ninja -C "$asan" tests/fault/fault_sweep
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    timeout 240 "$asan"/tests/fault/fault_sweep

echo "-- libFuzzer: 60 s"
bash tests/fuzz/build.sh "$fuzz"
mkdir -p "$fuzz"/corpus
timeout 120 "$fuzz"/fuzz_api -max_total_time=60 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$fuzz"/ "$fuzz"/corpus tests/fuzz/corpus 2>&1 | tail -25

#!/usr/bin/env bash
# Builds the libFuzzer target: every weft source and tests/fuzz/fuzz_api.c
# with clang -fsanitize=fuzzer,address,undefined. Usage: build.sh [outdir]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build-fuzz}
mkdir -p "$out"
mapfile -t srcs < <(find src -name '*.c' | sort)
clang -std=c11 -D_GNU_SOURCE -DWEFT_BUILDING -O1 -g -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Iinclude -Isrc $(pkg-config --cflags liburcu-qsbr) \
    "${srcs[@]}" tests/fuzz/fuzz_api.c \
    $(pkg-config --libs liburcu-qsbr) -lpthread -lm -o "$out/fuzz_api"
echo "built $out/fuzz_api"

#!/usr/bin/env bash
# The ABI check: the dynamic symbols libweft.so exports must be exactly the
# committed list abi/weft.symbols, so that an ABI change is never accidental.
# Also checks that every function declared WEFT_API in include/ is exported
# and that nothing internal (weft__*, non-weft names) is.
#
#   scripts/abi-check.sh [BUILD_DIR]            check (BUILD_DIR holding
#                                               libweft.so; default: a
#                                               shared build in build-abi)
#   scripts/abi-check.sh --update [BUILD_DIR]   rewrite abi/weft.symbols
#
# After adding a public function: run with --update, commit the list, and
# note the function under "Unreleased / Added" in CHANGELOG.md (a MINOR bump).
# A removed or renamed symbol breaks the ABI: the next release bumps MAJOR
# (meson.build's version and include/weft/version.h; the SONAME follows).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
dir=${1:-}
if [ -z "$dir" ]; then
    dir=$root/build-abi
    [ -d "$dir" ] || meson setup "$dir" "$root" -Ddefault_library=shared -Dtests=false -Dbench=false >/dev/null
    ninja -C "$dir" >/dev/null
fi
lib=$(find "$dir" -maxdepth 1 -name 'libweft.so*' ! -name '*.p' | sort | head -n 1)
[ -n "$lib" ] || { echo "abi-check: no libweft.so* in $dir (a build with default_library=shared or both)" >&2; exit 1; }
list=$root/abi/weft.symbols
version=$(sed -n "s/^  version : '\(.*\)',/\1/p" "$root/meson.build")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '{print $NF}' | sort -u >"$tmp/exported"
# Names declared WEFT_API in the public headers (the identifier before "(").
grep -rhE '^[^#]*WEFT_API' "$root/include" | grep -oE 'WEFT_API[^;(]*\(' | sed -E 's/.*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\($/\1/' |
    sort -u >"$tmp/declared"

rc=0
if leaks=$(grep -vE '^weft_' "$tmp/exported" || grep -E '^weft__' "$tmp/exported"); then
    echo "abi-check: internal or foreign symbols exported by libweft.so:" >&2
    echo "$leaks" | sed 's/^/    /' >&2
    rc=1
fi
if missing=$(comm -23 "$tmp/declared" "$tmp/exported") && [ -n "$missing" ]; then
    echo "abi-check: declared WEFT_API in include/ but not exported (undefined or hidden):" >&2
    echo "$missing" | sed 's/^/    /' >&2
    rc=1
fi

if [ $update -eq 1 ]; then
    {
        echo "# Dynamic symbols exported by libweft.so (weft $version), one per line, sorted."
        echo "# Checked in CI by scripts/abi-check.sh; regenerate deliberately with"
        echo "# scripts/abi-check.sh --update and record the change in CHANGELOG.md."
        cat "$tmp/exported"
    } >"$list"
    echo "abi-check: wrote $(wc -l <"$tmp/exported") symbols to abi/weft.symbols"
    exit $rc
fi

grep -v '^#' "$list" | sort -u >"$tmp/committed"
if ! cmp -s "$tmp/committed" "$tmp/exported"; then
    echo "abi-check: libweft.so's exported symbols differ from abi/weft.symbols:" >&2
    comm -13 "$tmp/committed" "$tmp/exported" | sed 's/^/  + added:   /' >&2
    comm -23 "$tmp/committed" "$tmp/exported" | sed 's/^/  - removed: /' >&2
    echo "Added symbols are a MINOR change; removed ones break the ABI (MAJOR)." >&2
    echo "If the change is deliberate: scripts/abi-check.sh --update, commit abi/weft.symbols, note it in CHANGELOG.md." >&2
    rc=1
fi
[ $rc -ne 0 ] || echo "abi-check: $(wc -l <"$tmp/exported") exported symbols match abi/weft.symbols"
exit $rc

#!/usr/bin/env bash
# The README's first C block must compile with -Wall -Wextra -Werror (gcc and
# clang) and run: extracts it, builds it against include/ and BUILD_DIR's
# libweft.a (default: build-ci-clang, else build), runs it.
# Usage: scripts/readme-check.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-}
[ -n "$dir" ] || { [ -d "$root/build-ci-clang" ] && dir=$root/build-ci-clang || dir=$root/build; }
[ -e "$dir/libweft.a" ] || { echo "readme-check: no $dir/libweft.a (a default_library=both or static build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/ { on = 1; next } on && /^```$/ { exit } on { print }' "$root/README.md" >"$tmp/readme.c"
[ -s "$tmp/readme.c" ] || { echo "readme-check: no \`\`\`c block in README.md" >&2; exit 1; }
# The archive's own dependencies: liburcu-qsbr always, elfutils' libdw when
# the build found it (lockdep's file:line, -Dlibdw=auto).
libs="$(pkg-config --libs liburcu-qsbr) -pthread -lm -ldl"
if nm -u "$dir/libweft.a" 2>/dev/null | grep 'dwfl_' >/dev/null; then
    libs="$libs $(pkg-config --libs libdw)"
fi
for cc in gcc clang; do
    # shellcheck disable=SC2086 # $libs is a list of flags
    $cc -std=c11 -O2 -Wall -Wextra -Werror -I"$root/include" "$tmp/readme.c" "$dir/libweft.a" \
        $libs -o "$tmp/readme-$cc"
    out=$("$tmp/readme-$cc")
    [ "$out" = 49 ] || { echo "readme-check: the README's C block printed '$out' (built with $cc), expected 49" >&2; exit 1; }
done
echo "readme-check: the README's C block compiles with -Wall -Wextra -Werror (gcc, clang) and prints 49"

#!/usr/bin/env bash
# The strict-consumer matrix: every public header alone (included twice, to
# check its guard) and the umbrella weft.h with every static initialiser at
# file/namespace scope, as C11/C17/C23 with gcc and clang and as
# C++11/14/17/20/23 with g++ and clang++, under the warnings a strict consumer
# uses, with -Werror. Compiles only (no link). Usage: scripts/ci-headers.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
warn=(-Wall -Wextra -Wpedantic -Wcast-qual -Wfloat-equal -Wshadow -Wundef -Werror)
cwarn=(-Wstrict-prototypes -Wmissing-prototypes) # C-only warnings
headers=(weft.h)
for h in "$root"/include/weft/*.h; do headers+=("weft/$(basename "$h")"); done

jobs=()
for h in "${headers[@]}"; do
    tu=$tmp/$(echo "$h" | tr '/.' '__')
    if [ "$h" = weft.h ]; then
        printf '#include <weft.h>\n#include <weft.h>\n#include "%s"\nint main(void) { return initialisers_sane() ? 0 : 1; }\n' \
            "$root/tests/consumer/initialisers.inc" >"$tu.c"
    else
        printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$h" "$h" >"$tu.c"
    fi
    cp "$tu.c" "$tu.cpp"
    for cc in gcc clang; do
        for std in c11 c17 c2x; do
            jobs+=("$cc -std=$std ${warn[*]} ${cwarn[*]} -I$root/include -c $tu.c -o /dev/null")
        done
    done
    for cxx in g++ clang++; do
        for std in c++11 c++14 c++17 c++20 c++2b; do
            jobs+=("$cxx -std=$std ${warn[*]} -I$root/include -c $tu.cpp -o /dev/null")
        done
    done
done

fail=0
printf '%s\n' "${jobs[@]}" >"$tmp/jobs"
# Two at a time; each failing command is printed with its diagnostics.
xargs -P 2 -d '\n' -I{} sh -c '{} >"$0/out.$$" 2>&1 || { echo "FAIL: {}"; cat "$0/out.$$"; exit 255; }; rm -f "$0/out.$$"' "$tmp" \
    <"$tmp/jobs" || fail=1
[ $fail -eq 0 ] || { echo "headers: strict matrix failed" >&2; exit 1; }
echo "headers: ${#jobs[@]} strict compiles passed (${#headers[@]} headers x C11/17/23, C++11/14/17/20/23 x gcc, clang)"

#!/usr/bin/env bash
# Checks that a meson project can pull weft in as a subproject: builds a tiny
# consumer in a temporary folder with weft linked under subprojects/ and runs
# it. Only weft's library is built there (no tests, no benchmarks).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/subprojects"
ln -s "$root" "$tmp/subprojects/weft"
cat > "$tmp/meson.build" <<'MESON'
project('consumer', 'c', default_options : ['c_std=c11'])
weft_dep = dependency('weft', fallback : ['weft', 'weft_dep'])
executable('consumer', 'main.c', dependencies : weft_dep)
MESON
cat > "$tmp/main.c" <<'C'
#include <stdio.h>
#include <weft.h>
static int twice(void *arg, void **result) { *result = (void *)(2 * (long)arg); return 0; }
int main(void)
{
    weft_pool *p;
    weft_future *f;
    void *r = NULL;
    if (weft_pool_create(&p, NULL) || weft_pool_submit(p, twice, (void *)21, &f) ||
        weft_future_result(f, WEFT_FOREVER, &r))
        return 1;
    weft_future_release(f);
    weft_pool_destroy(p);
    printf("consumer: %ld\n", (long)r);
    return (long)r == 42 ? 0 : 1;
}
C
meson setup "$tmp/build" "$tmp" >/dev/null
ninja -C "$tmp/build" >/dev/null
[ ! -e "$tmp/build/subprojects/weft/tests" ] || { echo "weft built its tests as a subproject" >&2; exit 1; }
"$tmp/build/consumer"

#!/usr/bin/env bash
# The API reference: runs doxygen over the public headers (docs/Doxyfile) into
# build-doc/html/ and fails when a public function (a WEFT_API declaration or
# an inline function of a header) has no doxygen comment (/** ... */ before
# it, or ///< after it). Other doxygen warnings (an undocumented struct field,
# macro, ...) are printed; --strict fails on those too.
# Usage: scripts/doxygen.sh [--strict]
set -euo pipefail
cd "$(dirname "$0")/.."
strict=0
[ "${1:-}" = --strict ] && strict=1
command -v doxygen >/dev/null || { echo "doxygen.sh: doxygen is not installed (apt-get install doxygen)" >&2; exit 1; }
rm -rf build-doc
mkdir -p build-doc
WEFT_VERSION=$(sed -n "s/^  version : '\(.*\)',/\1/p" meson.build) doxygen docs/Doxyfile
log=build-doc/warnings.log
sed -i "s|^$PWD/||" "$log"
funcs=$(grep -c '(function) of file .* is not documented' "$log" || true)
total=$(grep -c 'warning:' "$log" || true)
if [ "$total" -gt 0 ]; then
    echo "doxygen warnings ($total):" >&2
    sed 's/^/    /' "$log" >&2
fi
if [ "$funcs" -gt 0 ]; then
    echo "doxygen.sh: $funcs public function(s) without a doxygen comment (/** ... */ before the declaration)" >&2
    exit 1
fi
if [ $strict -eq 1 ] && [ "$total" -gt 0 ]; then
    echo "doxygen.sh: --strict: $total warning(s)" >&2
    exit 1
fi
[ -s build-doc/html/index.html ] || { echo "doxygen.sh: no build-doc/html/index.html" >&2; exit 1; }
echo "doxygen.sh: API reference in build-doc/html/index.html ($(ls build-doc/html/*.html | wc -l) pages, $total warnings)"

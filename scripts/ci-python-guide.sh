#!/usr/bin/env bash
# CI: the examples of docs/PYTHON.md ("Python threading to weft"). Builds
# weft, compiles every examples/py_*.c with -Werror (gcc, and clang when
# present), runs each and compares:
#   - the C listing after "<!-- example: PATH -->" in the guide with PATH;
#   - the text block after "<!-- output: PATH -->" with the program's stdout.
# Every examples/py_*.c must appear in the guide. Budget: a minute or two.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-ci-guide
[ -d "$build" ] || meson setup "$build" -Dwerror=true -Dtests=false -Dbench=false >/dev/null
ninja -C "$build" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
libs="$build/libweft.a $(pkg-config --libs liburcu-qsbr) -lpthread -lm -ldl"
# elfutils' libdw when the build found it (lockdep's file:line, -Dlibdw=auto).
if nm -u "$build/libweft.a" 2>/dev/null | grep 'dwfl_' >/dev/null; then
    libs="$libs $(pkg-config --libs libdw)"
fi
compilers=(cc)
command -v clang >/dev/null && compilers+=(clang)
for f in examples/py_*.c; do
    for c in "${compilers[@]}"; do
        # shellcheck disable=SC2086
        "$c" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wpedantic -Werror -Iinclude "$f" $libs -o "$out/$(basename "$f" .c)"
    done
done
python3 - "$out" <<'PY'
import pathlib, re, subprocess, sys
out = pathlib.Path(sys.argv[1])
guide = pathlib.Path("docs/PYTHON.md").read_text()
def block_after(marker):
    m = re.search(re.escape(marker) + r"\n```[a-z]*\n(.*?)\n```", guide, re.S)
    return None if m is None else m.group(1)
bad = 0
for src in sorted(pathlib.Path("examples").glob("py_*.c")):
    path = str(src)
    listing = block_after(f"<!-- example: {path} -->")
    expected = block_after(f"<!-- output: {path} -->")
    if listing is None or expected is None:
        print(f"{path}: missing from docs/PYTHON.md (example or output block)"); bad += 1; continue
    if listing != src.read_text().rstrip("\n"):
        print(f"{path}: differs from its listing in docs/PYTHON.md"); bad += 1
    run = subprocess.run([str(out / src.stem)], capture_output=True, text=True, timeout=60)
    got = run.stdout.rstrip("\n")
    if run.returncode != 0 or got != expected:
        print(f"{path}: exit {run.returncode}; output differs from the guide:\n--- guide\n{expected}\n--- got\n{got}")
        bad += 1
    else:
        print(f"{path}: ok")
sys.exit(1 if bad else 0)
PY

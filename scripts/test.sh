#!/usr/bin/env bash
# Installs dependencies, builds weft with -Werror and runs every test: the
# Criterion suites and the stress programs (briefly). Ends with one line
# "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
dir=${WEFT_TEST_BUILD:-build-test}
[ -d "$dir" ] || meson setup "$dir" -Dwerror=true -Dbench=false
ninja -C "$dir"
set +e
meson test -C "$dir" --print-errorlogs --num-processes 1 "$@"
rc=$?
set -e
python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP": skip += 1
    else: bad += 1
print(f"tests: {ok} passed, {bad} failed" + (f", {skip} skipped" if skip else ""))
PY
exit $rc

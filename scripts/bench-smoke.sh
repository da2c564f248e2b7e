#!/usr/bin/env bash
# Builds the benchmarks and runs every case once at tiny sizes (1 and 2
# threads). Checks that they build, run and compute the right answers; it
# asserts nothing about speed. The full suite is tools/bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 tools/bench.py --smoke --build-dir build-ci-bench --out build-ci-bench/smoke

#!/usr/bin/env python3
"""Instructions per spawn+join at one worker, counted by callgrind (noise-free).

    tools/callgrind_spawn.py                       # build-bench/, fib(26) - fib(22), every contender
    tools/callgrind_spawn.py --bin-dir DIR --small 18 --large 20 --impls weft,lace

Each contender of bench/fib.c runs under `valgrind --tool=callgrind
--instr-atstart=no` at one worker (`--wb_threads=1`), once at fib(small) and
once at fib(large), in smoke mode: one untimed warm-up round, then one timed
round, and bench/shim.cc turns instrumentation on only around the timed
round (CALLGRIND_START/STOP_INSTRUMENTATION, all threads), so set-up, the
warm-up, tear-down and workers idling between rounds are not counted. What
a round costs besides its tasks (entering the pool from outside, waking the
worker, the result check) is the same at both sizes and cancels in the
difference, which leaves the instructions of spawns(large) - spawns(small)
spawn+join pairs, with the calls they belong to:

    instructions per spawn+join = (Ir(large) - Ir(small)) / (spawns(large) - spawns(small))

How many spawns a round makes depends on the shape (bench/fib.c's `spawns`):
  spawns:1 (Lace's fib: fork fib(n-1), call fib(n-2), join): one spawn per
      call with n >= 2, i.e. fib(n+1) - 1 spawns; fib(20) - fib(18) rounds
      differ by fib(21) - fib(19) = 10946 - 4181 = 6765 spawns;
  spawns:2 (fork both, join both): every call but the root is spawned,
      calls(n) - 1 = 2 fib(n+1) - 2 spawns; the difference is 2 x 6765 = 13530.
So "divide by the 6765 spawns between them" holds for Lace's shape only;
the figure per spawn includes the work of the calls themselves (about one
call per spawn with spawns:2, two with spawns:1: a call is a handful of
instructions). Rows for both shapes are printed.

What can still vary is the idle work inside the round: a worker that finds
nothing to run for a moment (at the start and the end of the round) searches
(weft) or steals in a loop (Lace), and how long depends on valgrind's thread
scheduling; --runs N repeats each measurement and prints the spread. For
weft, its mutex twin, oneTBB and both OpenMPs that is below 0.5 instruction
per spawn already at fib(20) - fib(18); Lace's worker steals in a tight loop
for a whole valgrind time slice after the round's last task, which at
fib(20) - fib(18) (6765 spawns) swings its figure by hundreds of
instructions per spawn, even below zero. Hence the default fib(26) -
fib(22): 167761 spawns with spawns:1, where every contender, Lace included,
repeats to 0.1 instruction.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (executable, contender) pairs of bench/fib.c.
CONTENDERS = [("bench_weft", "weft"), ("bench_weft", "weft_frames"), ("bench_weft", "weft_mutex"), ("bench_weft", "tbb"),
              ("bench_omp_gomp", "omp_gomp"), ("bench_omp_llvm", "omp_llvm"), ("bench_lace", "lace")]


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def spawns(n, shape):
    """Spawns of one round of bench/fib.c at fib(n) with `spawns:shape`."""
    return fib(n + 1) - 1 if shape == 1 else 2 * fib(n + 1) - 2


def instructions(exe, impl, shape, n):
    """Total instructions (callgrind's "Collected") of one smoke run of one contender at fib(n)."""
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null", exe, "--wb_smoke",
           "--wb_threads=1", f"--wb_size={n}", f"--benchmark_filter=^fib/{impl}/spawns:{shape}/threads:1/"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"Collected\s*:\s*(\d+)", p.stderr)
    if p.returncode != 0 or m is None or f"fib/{impl}/" not in p.stdout:
        sys.exit(f"{' '.join(cmd)} failed (status {p.returncode}):\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build-bench", "bench"))
    ap.add_argument("--small", type=int, default=22)
    ap.add_argument("--large", type=int, default=26)
    ap.add_argument("--impls", help="comma-separated contenders (default: all that are built)")
    ap.add_argument("--shapes", default="1,2", help="spawns per call: 1 (Lace's fib), 2 (both forked)")
    ap.add_argument("--runs", type=int, default=1, help="measure each this many times (min and max shown)")
    a = ap.parse_args()
    want = set(a.impls.split(",")) if a.impls else None
    print(f"instructions per spawn+join at one worker: (Ir(fib({a.large})) - Ir(fib({a.small}))) / "
          f"(spawn difference), one timed round each, valgrind --tool=callgrind --instr-atstart=no")
    print(f"| contender | shape | spawns per round, fib({a.small}) / fib({a.large}) | instructions per spawn+join |")
    print("|---|---|---|---|")
    for exe_name, impl in CONTENDERS:
        exe = os.path.join(a.bin_dir, exe_name)
        if (want and impl not in want) or not os.access(exe, os.X_OK):
            continue
        for shape in [int(s) for s in a.shapes.split(",")]:
            d = spawns(a.large, shape) - spawns(a.small, shape)
            per = []
            for _ in range(a.runs):
                diff = instructions(exe, impl, shape, a.large) - instructions(exe, impl, shape, a.small)
                per.append(diff / d)
            fig = f"{min(per):.1f}" if len(per) == 1 else f"{min(per):.1f} .. {max(per):.1f}"
            print(f"| {impl} | spawns:{shape} | {spawns(a.small, shape)} / {spawns(a.large, shape)} | {fig} |",
                  flush=True)


if __name__ == "__main__":
    main()

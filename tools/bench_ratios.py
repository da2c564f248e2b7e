#!/usr/bin/env python3
"""Time ratios from one or more tools/bench.py results: weft's time over a peer's.

    tools/bench_ratios.py .bench-out/results.json [more.json ...] [--vs lace,tbb] [--of weft]

For every case, argument and thread count: the median over the (interleaved)
repetitions of each contender, and `of`'s time divided by each `vs`
contender's time (above 1: `of` is slower), the way the issue's targets read
("weft <= 3x Lace's time"). Rates are turned into times per item; latency
metrics are times already. Rows with more threads than CPUs are marked.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import collect  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+")
    ap.add_argument("--of", default="weft")
    ap.add_argument("--vs", default="lace,tbb,omp_gomp,omp_llvm,weft_mutex")
    a = ap.parse_args()
    vs = a.vs.split(",")
    print(f"| case | threads | " + " | ".join(f"{a.of} / {v}" for v in vs) + " | reps |")
    print("|---|---|" + "---|" * len(vs) + "---|")
    for path in a.results:
        with open(path) as f:
            results = json.load(f)
        ncpu = (results.get("context") or {}).get("num_cpus") or 0
        reps = results.get("settings", {}).get("reps")
        sizes = results.get("case_settings") or {}
        metas, table = collect(results)
        for case, by_arg in table.items():
            meta = metas[case]
            rate = meta["metric"] == "items_per_second" or not meta["lower_is_better"]
            for arg, by_impl in by_arg.items():
                if a.of not in by_impl:
                    continue
                label = case + (f" ({meta['arg_name']} {arg})" if arg is not None else "")
                if sizes.get(case, {}).get("size"):
                    label += f" size {sizes[case]['size']}"
                for t in sorted(by_impl[a.of]):
                    mine = by_impl[a.of][t][0]
                    cells = []
                    for v in vs:
                        other = by_impl.get(v, {}).get(t, (None, None))[0]
                        if mine is None or other is None or mine <= 0 or other <= 0:
                            cells.append("–")
                        else:
                            cells.append(f"{(other / mine) if rate else (mine / other):.2f}")
                    over = " (over-subscribed)" if ncpu and t > ncpu else ""
                    print(f"| {label} | {t}{over} | " + " | ".join(cells) + f" | {reps} |")


if __name__ == "__main__":
    main()

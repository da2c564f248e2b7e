#!/usr/bin/env python3
"""Drive examples/http_server with wrk and compare its pool modes.

    tools/bench_server.py [--server build/examples/http_server] [--reps 3]
                          [--duration 10] [--connections 64] [--threads 2]
                          [--workers 2] [--costs 1,60]
                          [--modes stealing,mutex,pthread] [--json out.json]
                          [--baseline OTHER/examples/http_server]

For each repetition, every (cost, mode) pair runs once, in an order rotated
from one repetition to the next (interleaved: a slow moment on a shared
machine hits every mode alike). Each run starts a fresh server on
127.0.0.1 with an ephemeral port, drives it with
`wrk --latency -t T -c C -d Ds` (C <= 64, D <= 10), stops it with SIGTERM
and reads its counters. Reports per (cost, mode) the median over the
repetitions of requests/s, p50 and p99 latency, eventfd writes per
completion, completions per loop wake-up and writes per wake-up, and the median of the per-repetition ratios against the pthread
pool (ratios from the same repetition only). Fails (exit 1) if any response
was not 2xx or wrk saw socket errors. Prints a Markdown table.

--baseline adds, for each weft mode, a contender MODE@baseline run from
another build of the server (e.g. main before a change), interleaved with
the rest: a before/after comparison under the same load.
"""
import argparse
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import time

UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * UNIT[m.group(2)]


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": rps,
        "p50_ms": ms(lat["50"]),
        "p99_ms": ms(lat["99"]),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
        "requests": total,
    }


def thread_cpu(pid):
    """Per-thread CPU seconds and context switches of a live process, from /proc: {tid: (comm, cpu_s, vcs, ivcs)}."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                status = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime (fields 14 and 15)
        vcs = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))
        ivcs = int(re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))
        out[int(tid)] = (comm, cpu, vcs, ivcs)
    return out


def cpu_summary(pid, threads, wrk_cpu, duration):
    """Loop thread (the main thread), pool workers (the rest), wrk: CPU seconds per second of the run."""
    loop = threads.get(pid, ("", 0.0, 0, 0))
    workers = [v for t, v in threads.items() if t != pid]
    return {
        "loop_cpu": loop[1] / duration,
        "workers_cpu": sum(v[1] for v in workers) / duration,
        "worker_cpu_each": [round(v[1] / duration, 3) for v in workers],
        "wrk_cpu": wrk_cpu / duration,
        "loop_vcs": loop[2], "loop_ivcs": loop[3],
        "workers_vcs": sum(v[2] for v in workers), "workers_ivcs": sum(v[3] for v in workers),
    }


def run_one(args, mode, cost):
    server = args.server
    if mode.endswith("@baseline"):
        server, mode = args.baseline, mode[:-len("@baseline")]
    srv = subprocess.Popen(
        [server, "-a", "127.0.0.1", "-p", "0", "-q", "-m", mode, "-c", str(cost), "-w", str(args.workers)],
        stdout=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline()
        m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError(f"server did not start: {line!r}")
        url = f"http://127.0.0.1:{m.group(1)}/bench"
        before = thread_cpu(srv.pid) if args.cpu else None
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk = subprocess.run(
            ["wrk", "--latency", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
             url], capture_output=True, text=True, timeout=args.duration + 60)
        if wrk.returncode != 0:
            raise RuntimeError(f"wrk failed: {wrk.stderr}")
        res = parse_wrk(wrk.stdout)
        if args.cpu:
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            wrk_cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
            after = thread_cpu(srv.pid)
            delta = {t: (v[0], v[1] - before.get(t, ("", 0.0, 0, 0))[1], v[2] - before.get(t, ("", 0, 0, 0))[2],
                         v[3] - before.get(t, ("", 0, 0, 0))[3]) for t, v in after.items()}
            res.update(cpu_summary(srv.pid, delta, wrk_cpu, args.duration))
            res["loadavg"] = os.getloadavg()[0]
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            tail, _ = srv.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
            raise
    m = re.search(r"completions (\d+), eventfd writes (\d+) \(([\d.]+) per completion\)", tail)
    res["writes_per_completion"] = float(m.group(3)) if m else float("nan")
    res["completions"] = int(m.group(1)) if m else 0
    m = re.search(r"completion wake-ups (\d+) \(([\d.]+) writes per wake-up\)", tail)
    res["writes_per_wakeup"] = float(m.group(2)) if m else float("nan")  # a baseline may not print it
    res["wakeups"] = int(m.group(1)) if m else 0
    return res


def per_wakeup(rs):
    """Median completions per loop wake-up for completions ("" if the server does not count them)."""
    v = [r["completions"] / r["wakeups"] for r in rs if r.get("wakeups")]
    return f"{statistics.median(v):.1f}" if v else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="build/examples/http_server")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--costs", default="1,60")
    ap.add_argument("--modes", default="stealing,mutex,pthread")
    ap.add_argument("--json")
    ap.add_argument("--cpu", action="store_true",
                    help="also report CPU per thread (loop, workers, wrk; from /proc) and context switches")
    ap.add_argument("--baseline", help="another http_server binary: adds MODE@baseline contenders")
    args = ap.parse_args()
    if not (1 <= args.duration <= 10 and 1 <= args.connections <= 64 and args.threads <= args.connections):
        sys.exit("bounded on purpose: --duration 1..10, --connections 1..64, threads <= connections")
    if not os.access(args.server, os.X_OK):
        sys.exit(f"{args.server}: not built (ninja -C build examples/http_server)")
    costs = [int(c) for c in args.costs.split(",")]
    modes = args.modes.split(",")
    if args.baseline:
        if not os.access(args.baseline, os.X_OK):
            sys.exit(f"{args.baseline}: not executable")
        modes += [f"{m}@baseline" for m in modes if m != "pthread"]
    pairs = [(c, m) for c in costs for m in modes]
    runs = {p: [] for p in pairs}
    bad = []
    for rep in range(args.reps):
        order = pairs[rep % len(pairs):] + pairs[:rep % len(pairs)]
        for cost, mode in order:
            r = run_one(args, mode, cost)
            runs[(cost, mode)].append(r)
            print(f"rep {rep + 1} cost {cost:>3} {mode:>17}: {r['rps']:9.0f} req/s  p50 {r['p50_ms']:.3f} ms  "
                  f"p99 {r['p99_ms']:.3f} ms  writes/completion {r['writes_per_completion']:.3f}  "
                  f"writes/wake-up {r['writes_per_wakeup']:.3f}", file=sys.stderr, flush=True)
            if args.cpu:
                print(f"      cpu/s: loop {r['loop_cpu']:.2f} workers {r['workers_cpu']:.2f} "
                      f"{r['worker_cpu_each']} wrk {r['wrk_cpu']:.2f}  ctxsw loop {r['loop_vcs']}+{r['loop_ivcs']} "
                      f"workers {r['workers_vcs']}+{r['workers_ivcs']}  load {r['loadavg']:.2f}",
                      file=sys.stderr, flush=True)
            if r["non2xx"] or r["socket_errors"]:
                bad.append((rep, cost, mode, r["non2xx"], r["socket_errors"]))
            time.sleep(0.5)

    med = statistics.median
    print(f"\nServer benchmark: examples/http_server, wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s, {args.workers} pool workers, {args.reps} interleaved repetitions (medians; "
          f"ratios are medians of same-repetition ratios against the pthread pool).\n")
    print("| SHA-256 rounds | mode | requests/s | vs pthread | p50 ms | p99 ms | p99 vs pthread | "
          "eventfd writes / completion | completions / wake-up | writes / wake-up |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cost in costs:
        for mode in modes:
            rs = runs[(cost, mode)]
            base = runs.get((cost, "pthread"))
            ratio = p99r = ""
            if base and mode != "pthread":
                ratio = f"{med([a['rps'] / b['rps'] for a, b in zip(rs, base)]):.2f}x"
                p99r = f"{med([a['p99_ms'] / b['p99_ms'] for a, b in zip(rs, base)]):.2f}x"
            print(f"| {cost} | {mode} | {med([r['rps'] for r in rs]):.0f} | {ratio} | "
                  f"{med([r['p50_ms'] for r in rs]):.3f} | {med([r['p99_ms'] for r in rs]):.3f} | {p99r} | "
                  f"{med([r['writes_per_completion'] for r in rs]):.3f} | {per_wakeup(rs)} | "
                  f"{med([r['writes_per_wakeup'] for r in rs]):.3f} |")
    print("\nPer repetition, against the pthread pool of the same repetition (requests/s ratio, p99 ratio):\n")
    for cost in costs:
        base = runs.get((cost, "pthread"))
        if not base:
            continue
        for mode in modes:
            if mode == "pthread":
                continue
            rs = runs[(cost, mode)]
            rr = ", ".join(f"{a['rps'] / b['rps']:.2f}" for a, b in zip(rs, base))
            pr = ", ".join(f"{a['p99_ms'] / b['p99_ms']:.2f}" for a, b in zip(rs, base))
            print(f"- {cost} rounds, {mode}: requests/s {rr}; p99 {pr}")
    if args.cpu:
        loads = [r["loadavg"] for rs in runs.values() for r in rs]
        print(f"\nLoad average (1 min) at the end of the runs: {min(loads):.1f}-{max(loads):.1f}.")
        print("\nCPU seconds per second of run (medians): loop thread, pool workers, wrk; "
              "context switches voluntary+involuntary of the loop and of the workers:\n")
        for cost in costs:
            for mode in modes:
                rs = runs[(cost, mode)]
                print(f"- {cost} rounds, {mode}: loop {med([r['loop_cpu'] for r in rs]):.2f}, workers "
                      f"{med([r['workers_cpu'] for r in rs]):.2f}, wrk {med([r['wrk_cpu'] for r in rs]):.2f}; "
                      f"switches loop {med([r['loop_vcs'] for r in rs]):.0f}+{med([r['loop_ivcs'] for r in rs]):.0f}, "
                      f"workers {med([r['workers_vcs'] for r in rs]):.0f}+{med([r['workers_ivcs'] for r in rs]):.0f}")
    print(f"\nnon-2xx responses and socket errors: {'none' if not bad else bad}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{c}:{m}": v for (c, m), v in runs.items()}, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Build and run weft's benchmark suite, then write the JSON and a Markdown report.

    tools/bench.py                      # full suite: release build, sweep 1,2,4,8,16, 5 repetitions
    tools/bench.py --smoke              # CI: tiny sizes, threads 1,2, one round each
    tools/bench.py --max-threads 4      # a quicker sweep
    tools/bench.py --filter 'lock|fib'  # only the cases whose name matches
    tools/bench.py --bin-dir bundle/bin # run a bundle made by tools/bundle.sh (no build)
    tools/bench.py --publish            # full suite, report spliced into docs/BENCHMARKS.md
    tools/bench.py --filter server      # the server case alone (below)

Every case runs in every executable that has it (bench_weft: weft, its mutex
twin, pthreads, oneTBB, GLib, Concurrency Kit; bench_omp_gomp and
bench_omp_llvm: OpenMP on libgomp and on LLVM's libomp). The results go to
OUT/results.json (Google Benchmark's JSON, merged), OUT/REPORT.md (one table per
case, ratios to the baseline and to the best peer) and OUT/plots/*.png.
See docs/BENCHMARKS.md.

The `server` case (issue 9) is not a Google Benchmark case: it runs when
--filter matches "server", and then on its own. It builds
examples/http_server in the build folder (or takes BIN_DIR/http_server),
and tools/bench_server.py starts it on 127.0.0.1 and drives it with wrk
(-d 10s, 64 connections), --reps (at least 3) interleaved repetitions over
the modes stealing|mutex|pthread and the handler costs of --server-costs
(SHA-256 rounds: 1 is about 2 us, 60 about 100 us). It writes
OUT/server.md (requests/s, p50, p99 per mode and cost, ratios to the
pthread pool, eventfd writes per completion) and OUT/server.json, and
fails if any response was not 2xx.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXECUTABLES = ["bench_weft", "bench_omp_gomp", "bench_omp_llvm", "bench_lace", "bench_lace14"]


def log(msg):
    print(msg, flush=True)


def build(build_dir, lace_src=None):
    """Configures (once) and builds a release tree with the benchmarks on."""
    # Reconfigure every time: bench/meson.build decides at configure time which
    # cases and peers it can build.
    setup = ["meson", "setup", build_dir, "--buildtype=release", "-Dbench=true", "-Dtests=false"]
    if lace_src is not None:
        setup.append(f"-Dlace_src={os.path.abspath(lace_src) if lace_src else ''}")
    if os.path.exists(os.path.join(build_dir, "build.ninja")):
        setup.append("--reconfigure")
    log(f"== configuring {build_dir} (release)")
    subprocess.run(setup, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    # Only the benchmark executables (and what they link): the rest of the
    # tree need not build for the suite to run.
    listing = subprocess.run(["ninja", "-C", build_dir, "-t", "targets", "all"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    targets = [f"bench/{e}" for e in EXECUTABLES if re.search(rf"^bench/{e}:", listing, re.M)]
    log(f"== building {', '.join(targets)} in {build_dir}")
    built = subprocess.run(["ninja", "-C", build_dir] + targets, cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        sys.exit(built.stdout[-4000:] + built.stderr[-2000:] + "\nbuild failed")


def lscpu():
    """The lines of lscpu that describe the machine, for the report."""
    keep = ["Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Socket(s)", "NUMA node(s)",
            "Hypervisor vendor", "L2 cache", "L3 cache"]
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return {}
    found = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        if k.strip() in keep and k.strip() not in found:
            found[k.strip()] = v.strip()
    return found


def busy_fraction(interval=1.0):
    """How busy the CPUs were over `interval` seconds (0..1), from /proc/stat; None if unreadable."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + (v[4] if len(v) > 4 else 0)
    try:
        t0, i0 = snap()
        time.sleep(interval)
        t1, i1 = snap()
    except OSError:
        return None
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_for_quiet(limit, threshold=0.15):
    """On a shared machine: waits (at most `limit` s) until other work leaves the CPUs mostly idle.
    Returns how busy they were when the run started."""
    start = time.monotonic()
    while True:
        b = busy_fraction()
        if b is None or b < threshold or time.monotonic() - start >= limit:
            if b is not None and b >= threshold:
                log(f"    !! CPUs still {b:.0%} busy with other work after {limit:.0f}s: running anyway")
            return b
        log(f"    .. CPUs {b:.0%} busy with other work: waiting")
        time.sleep(4)


def describe(exe):
    out = subprocess.run([exe, "--wb_describe"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["cases"]


def min_time_flag(exe, seconds):
    """Google Benchmark 1.8 wants "0.05s"; Debian's 1.7.1 only takes a plain number."""
    probe = subprocess.run([exe, "--benchmark_filter=^$", f"--benchmark_min_time={seconds}s"],
                           capture_output=True, text=True)
    if "expected to be a double" in probe.stdout + probe.stderr:
        return f"--benchmark_min_time={seconds}"
    return f"--benchmark_min_time={seconds}s"


def run_case(exe, case, args, json_path, show, only=None):
    """Runs one case of one executable; streams its result lines; returns the parsed JSON.
    `only`, a regular expression, narrows the runs to the names case/<only>..."""
    pattern = f"^{re.escape(case)}/" + (f"({only})" if only else "")
    cmd = [exe, f"--benchmark_filter={pattern}", f"--benchmark_out={json_path}",
           "--benchmark_out_format=json", "--benchmark_color=false"] + args
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail = []
    for line in proc.stdout:
        line = line.rstrip()
        tail = (tail + [line])[-20:]
        if line.startswith(case + "/") and (show == "all" or not re.search(r"_(mean|stddev|cv)\b", line)):
            log("    " + line)
    rc = proc.wait()
    if rc != 0:
        log(f"    !! {os.path.basename(exe)} exited with status {rc} on {case}; its last lines:")
        for line in tail:
            log("    | " + line)
        return None
    with open(json_path) as f:
        text = f.read()
    if not text.strip():  # the filter matched none of this executable's runs
        return {"context": {}, "benchmarks": []}
    return json.loads(text)


def update(path, new, rerun):
    """The results at `path` with the cases in `rerun` replaced by those of `new`."""
    with open(path) as f:
        old = json.load(f)
    keep = [b for b in old["benchmarks"] if b.get("run_name", b["name"]).split("/")[0] not in rerun]
    old["benchmarks"] = keep + new["benchmarks"]
    metas = {c["name"]: c for c in new["cases"]}
    old["cases"] = [metas.pop(c["name"], c) for c in old["cases"]] + list(metas.values())
    old.setdefault("busy_before", {}).update(new["busy_before"])
    old.setdefault("case_settings", {}).update(new.get("case_settings", {}))
    old["executables"].update(new["executables"])
    old["settings"]["command"] += f"; then {new['settings']['command']}"
    return old


def wants_server(args):
    """The server case runs when the filter names it (never in the full suite or the smoke)."""
    return bool(args.filter) and re.search(args.filter, "server") is not None and not args.smoke


def run_server_case(args):
    """The `server` case: examples/http_server under wrk, through tools/bench_server.py."""
    if args.bin_dir:
        server = os.path.join(os.path.abspath(args.bin_dir), "http_server")
    else:
        server = os.path.join(args.build_dir, "examples", "http_server")
        if not args.no_build:
            if not os.path.exists(os.path.join(args.build_dir, "build.ninja")):
                log(f"== configuring {args.build_dir} (release)")
                subprocess.run(["meson", "setup", args.build_dir, "--buildtype=release", "-Dbench=true",
                                "-Dtests=false"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            log(f"== building examples/http_server in {args.build_dir}")
            subprocess.run(["ninja", "-C", args.build_dir, "examples/http_server"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
    os.makedirs(args.out, exist_ok=True)
    md, js = os.path.join(args.out, "server.md"), os.path.join(args.out, "server.json")
    cmd = [sys.executable, os.path.join(ROOT, "tools", "bench_server.py"), "--server", server,
           "--reps", str(max(3, args.reps)), "--duration", "10", "--connections", "64",
           "--costs", args.server_costs, "--modes", "stealing,mutex,pthread", "--json", js, "--cpu"]
    if args.server_baseline:
        cmd += ["--baseline", args.server_baseline]
    log(f"== server case: {' '.join(cmd[1:])}")
    with open(md, "w") as out:
        rc = subprocess.run(cmd, cwd=ROOT, stdout=out).returncode
    with open(md) as f:
        log(f.read())
    log(f"== server report: {md}")
    return rc == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, threads 1,2, one round, no repetitions")
    ap.add_argument("--threads", help="the thread sweep, e.g. 1,2,4,8,16 (default; smoke: 1,2)")
    ap.add_argument("--max-threads", type=int, help="drop sweep entries above this (env WB_MAX_THREADS too)")
    ap.add_argument("--reps", type=int, default=5,
                    help="repetitions, interleaved (every contender once per repetition); the report uses medians")
    ap.add_argument("--min-time", type=float, default=0.05, help="seconds per repetition (at least one round)")
    ap.add_argument("--filter", default="", help="regular expression on case names")
    ap.add_argument("--only", metavar="RE",
                    help="only the runs of each case whose name after 'case/' matches RE from its start, "
                         "e.g. '(weft|lace)/spawns:1/' or '[^/]*/threads:[12]$'")
    ap.add_argument("--size", type=int, help="problem size instead of each case's (e.g. 35 with --filter '^fib$')")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--lace-src", default=os.environ.get("WB_LACE_SRC"), metavar="PATH",
                    help="a Lace source tree (github.com/trolando/lace) to build the Lace contenders from "
                         "(env WB_LACE_SRC; default: keep the build folder's setting, none at first)")
    ap.add_argument("--bin-dir", help="run the executables in this folder (a bundle); do not build")
    ap.add_argument("--out", default=os.path.join(ROOT, ".bench-out"), help="results folder")
    ap.add_argument("--no-build", action="store_true", help="use the build folder as it is")
    ap.add_argument("--no-report", action="store_true", help="write the JSON only")
    ap.add_argument("--quiet-wait", type=float, default=0, metavar="S",
                    help="before each run wait up to S seconds for other work to leave the CPUs idle "
                         "(for shared machines); how busy they were is recorded in the report")
    ap.add_argument("--update", action="store_true",
                    help="replace only the cases run now (see --filter) in OUT/results.json, keep the others")
    ap.add_argument("--publish", action="store_true",
                    help="also put the report into docs/BENCHMARKS.md and its plots into docs/bench/")
    ap.add_argument("--server-costs", default="1,60",
                    help="server case: handler costs in SHA-256 rounds (1 ~ 2 us, 60 ~ 100 us)")
    ap.add_argument("--server-baseline", metavar="HTTP_SERVER",
                    help="server case: another build's http_server, run interleaved as MODE@baseline")
    args = ap.parse_args()

    if wants_server(args):
        if not run_server_case(args):
            sys.exit("server case failed (non-2xx responses, socket errors, or the server did not run)")
        return

    if args.bin_dir:
        bin_dir = os.path.abspath(args.bin_dir)
    else:
        if not args.no_build:
            build(args.build_dir, args.lace_src)
        bin_dir = os.path.join(args.build_dir, "bench")
    exes = [os.path.join(bin_dir, e) for e in EXECUTABLES if os.access(os.path.join(bin_dir, e), os.X_OK)]
    if not exes:
        sys.exit(f"no benchmark executables in {bin_dir}")
    for e in EXECUTABLES:
        if not os.access(os.path.join(bin_dir, e), os.X_OK):
            log(f"-- {e} not built (its peer is missing): skipped")

    wb_args = []
    if args.smoke:
        wb_args.append("--wb_smoke")
    if args.threads:
        wb_args.append(f"--wb_threads={args.threads}")
    max_threads = args.max_threads or int(os.environ.get("WB_MAX_THREADS", "0") or 0)
    if max_threads:
        wb_args.append(f"--wb_max_threads={max_threads}")
    if args.size:
        wb_args.append(f"--wb_size={args.size}")

    cases = []  # (name, description, [executables])
    seen = {}
    for exe in exes:
        for c in describe(exe):
            if args.filter and not re.search(args.filter, c["name"]):
                continue
            if c["name"] not in seen:
                seen[c["name"]] = {"meta": c, "exes": []}
                cases.append(c["name"])
            seen[c["name"]]["exes"].append(exe)
            for i in c["impls"]:
                if i not in seen[c["name"]]["meta"]["impls"]:
                    seen[c["name"]]["meta"]["impls"].append(i)

    os.makedirs(os.path.join(args.out, "json"), exist_ok=True)
    reps = 1 if args.smoke else args.reps
    runs = sum(len(seen[c]["exes"]) for c in cases) * reps
    log(f"== {len(cases)} cases, {runs} runs ({reps} interleaved repetition(s)), results in {args.out}")
    merged = {"context": None, "benchmarks": [], "cases": [seen[c]["meta"] for c in cases],
              "settings": {"smoke": args.smoke, "reps": reps, "interleaved": True,
                           "min_time": args.min_time, "threads": args.threads, "max_threads": max_threads,
                           "size": args.size, "only": args.only,
                           "command": " ".join(["tools/bench.py"] + sys.argv[1:])},
              "executables": {}, "machine": lscpu(), "busy_before": {},
              "case_settings": {c: {"size": args.size} for c in cases} if args.size else {}}
    start = time.monotonic()
    k = 0
    failures = 0
    # Interleaved repetitions: repetition r runs every contender of the case
    # once (each executable in turn, each of its contenders in turn) before
    # repetition r + 1 starts, so that a slow spell of a shared machine falls
    # on all contenders alike instead of on whichever ran back to back
    # through it. The report takes the median over the repetitions.
    for case in cases:
        for rep in range(reps):
            for exe in seen[case]["exes"]:
                k += 1
                name = os.path.basename(exe)
                gb_args = list(wb_args)
                if not args.smoke:
                    gb_args.append(min_time_flag(exe, args.min_time))
                log(f"[{k:2d}/{runs}] {case} ({name}, repetition {rep + 1}/{reps})  "
                    f"t+{time.monotonic() - start:.0f}s")
                if args.quiet_wait > 0 and exe == seen[case]["exes"][0]:
                    busy = wait_for_quiet(args.quiet_wait)
                    if busy is not None:
                        merged["busy_before"][f"{case}/rep{rep + 1}"] = round(busy, 3)
                data = run_case(exe, case, gb_args,
                                os.path.join(args.out, "json", f"{case}.{name}.{rep + 1}.json"),
                                show="all", only=args.only)
                if data is None:
                    failures += 1
                    continue
                if not data["benchmarks"]:
                    continue
                if merged["context"] is None or name == "bench_weft":
                    merged["context"] = data["context"]
                merged["executables"][name] = data["context"].get("executable")
                for b in data["benchmarks"]:
                    b["executable"] = name
                    b["repetition"] = rep
                    merged["benchmarks"].append(b)
    # A weft contender that could not even be set up is a failure (a peer
    # may legitimately decline, e.g. ck_ring on an over-subscribed machine).
    for b in merged["benchmarks"]:
        impl = b.get("run_name", b["name"]).split("/")[1]
        if b.get("error_occurred") and impl.startswith("weft"):
            log(f"!! {b['name']}: {b.get('error_message')}")
            failures += 1
    results = os.path.join(args.out, "results.json")
    if args.update and os.path.exists(results):
        merged = update(results, merged, cases)
    with open(results, "w") as f:
        json.dump(merged, f, indent=1)
    log(f"== done in {time.monotonic() - start:.0f}s: {results}")

    if not args.no_report:
        report = os.path.join(args.out, "REPORT.md")
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench_report.py"), results,
                        "--out", report, "--plots", os.path.join(args.out, "plots")], check=True)
        log(f"== report: {report}")
        if args.publish:
            subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench_report.py"), results,
                            "--plots", os.path.join(ROOT, "docs", "bench"),
                            "--splice", os.path.join(ROOT, "docs", "BENCHMARKS.md")], check=True)
            log("== published into docs/BENCHMARKS.md and docs/bench/")
    if failures:
        sys.exit(f"{failures} run(s) failed")


if __name__ == "__main__":
    main()

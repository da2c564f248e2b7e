#!/usr/bin/env python3
"""Turns tools/bench.py's results.json into a Markdown report with PNG plots.

    tools/bench_report.py .bench-out/results.json --out .bench-out/REPORT.md --plots .bench-out/plots

One table per case (and per value of its extra argument): a row per thread
count, a column per implementation (the median over the repetitions), then
two ratios: weft against the case's baseline (the mutex twin, or pthreads for
the sync cases) and weft against the best peer (the best implementation whose
name does not start with "weft"). Ratios read "how many times better weft is":
above 1 weft wins, whether the metric is a rate or a time. Scaling cases (those
run over the thread sweep) also get a plot of the metric against threads,
drawn by gnuplot.
"""
import argparse
import os
import shutil
import subprocess
import json
from collections import OrderedDict, defaultdict


def parse_name(run_name):
    parts = run_name.split("/")
    kv = {}
    for p in parts[2:]:
        if ":" in p:
            k, v = p.split(":", 1)
            kv[k] = v
    return parts[0], parts[1], kv


def collect(results):
    """{case: {arg: {impl: {threads: (value or None, error or None)}}}} from medians (or single runs)."""
    metas = {c["name"]: c for c in results["cases"]}
    medians = {}
    singles = defaultdict(list)
    for b in results["benchmarks"]:
        run_name = b.get("run_name", b["name"])
        key = run_name
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[key] = b
        else:
            singles[key].append(b)
    table = OrderedDict()
    for key in list(medians) + [k for k in singles if k not in medians]:
        case, impl, kv = parse_name(key)
        meta = metas.get(case)
        if meta is None:
            continue
        arg = kv.get(meta["arg_name"]) if meta.get("arg_name") else None
        threads = int(kv.get("threads", "0"))
        entries = [medians[key]] if key in medians else singles[key]
        err = next((e.get("error_message", "error") for e in entries if e.get("error_occurred")), None)
        value = None
        if err is None:
            vals = [e.get(meta["metric"]) for e in entries if e.get(meta["metric"]) is not None]
            if vals:
                value = sorted(vals)[len(vals) // 2]
            else:
                err = f"no {meta['metric']}"
        table.setdefault(case, OrderedDict()).setdefault(arg, OrderedDict()).setdefault(impl, {})[threads] = (
            value, err)
    return metas, table


def fmt(value, metric):
    if value is None:
        return "–"
    if metric == "items_per_second":
        for div, unit in ((1e9, "G/s"), (1e6, "M/s"), (1e3, "k/s")):
            if value >= div:
                return f"{value / div:.3g} {unit}"
        return f"{value:.3g} /s"
    if metric.endswith("_ns"):
        if value >= 1e6:
            return f"{value / 1e6:.3g} ms"
        if value >= 1e3:
            return f"{value / 1e3:.3g} µs"
        return f"{value:.3g} ns"
    if metric.endswith("_pct"):
        return f"{value:.3g} %"
    return f"{value:.4g}"


def metric_label(meta):
    m = meta["metric"]
    if m == "items_per_second":
        return f"{meta['item']}s per second (higher is better)"
    better = "lower is better" if meta["lower_is_better"] else "higher is better"
    return f"{m} ({better})"


def advantage(weft, other, lower_is_better):
    if weft is None or other is None or weft <= 0 or other <= 0:
        return None
    return other / weft if lower_is_better else weft / other


# Below this CPU percentage an idle pool is asleep; differences are noise.
IDLE_FLOOR_PCT = 1.0


def ratio_text(meta, weft, other, lower, name=None):
    r = advantage(weft, other, lower)
    if r is None:
        return "–"
    who = f" (`{name}`)" if name else ""
    if meta["metric"].endswith("_pct") and max(weft, other) < IDLE_FLOOR_PCT:
        return f"≈ (both < {IDLE_FLOOR_PCT:g} %){who}"
    return f"{r:.2f}×{who}"


def order_impls(impls, meta):
    first = [i for i in impls if i == "weft"]
    weft_variants = [i for i in impls if i.startswith("weft") and i != "weft"]
    base = [i for i in impls if i == meta["baseline"] and i not in first + weft_variants]
    rest = [i for i in impls if i not in first + weft_variants + base]
    return first + weft_variants + base + rest


def best_peer(row, impls, lower):
    best = None
    for i in impls:
        if i.startswith("weft"):
            continue
        v = row.get(i, (None, None))[0]
        if v is None or v <= 0:
            continue
        if best is None or (v < best[1] if lower else v > best[1]):
            best = (i, v)
    return best


def plot(path, title, meta, series, threads):
    gp = shutil.which("gnuplot")
    if gp is None:
        return False
    lower = meta["lower_is_better"]
    ylabel = metric_label(meta)
    lines = [
        "set terminal pngcairo size 900,560 font 'sans,10'" if _has_cairo(gp) else "set terminal png size 900,560",
        f"set output '{path}'",
        f"set title \"{title}\" noenhanced",
        "set xlabel 'threads'",
        f"set ylabel \"{ylabel}\" noenhanced",
        "set logscale x 2",
        f"set xrange [{min(threads) * 0.8}:{max(threads) * 1.25}]",
        f"set xtics ({', '.join(str(t) for t in threads)})",
        "set format y '%g'" if lower else "set format y '%.1s%c'",
        "set key outside right top noenhanced",
        "set grid",
        "set yrange [0:*]" if not lower else "set logscale y",
    ]
    plots = []
    for idx, (impl, pts) in enumerate(series.items()):
        name = f"$d{idx}"
        lines.append(f"{name} << EOD")
        lines += [f"{t} {v}" for t, v in sorted(pts.items()) if v is not None]
        lines.append("EOD")
        width = 3 if impl == "weft" else 1.5
        plots.append(f"{name} using 1:2 with linespoints lw {width} title '{impl}'")
    if not plots:
        return False
    lines.append("plot " + ", ".join(plots))
    r = subprocess.run([gp], input="\n".join(lines) + "\n", text=True, capture_output=True)
    return r.returncode == 0 and os.path.exists(path)


_cairo = None


def _has_cairo(gp):
    global _cairo
    if _cairo is None:
        out = subprocess.run([gp, "-e", "set terminal"], capture_output=True, text=True)
        _cairo = "pngcairo" in out.stdout + out.stderr
    return _cairo


def machine_lines(results):
    ctx = results.get("context") or {}
    out = []
    if ctx:
        out.append(f"- Host `{ctx.get('host_name', '?')}`: {ctx.get('num_cpus', '?')} CPUs at "
                   f"{ctx.get('mhz_per_cpu', '?')} MHz; load average at start "
                   f"{', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))}; run {ctx.get('date', '?')}.")
        caches = ctx.get("caches", [])
        if caches:
            out.append("- Caches: " + ", ".join(
                f"L{c['level']} {c['type'].lower()} {c['size'] // 1024} KiB x{ctx.get('num_cpus', 1) // max(1, c.get('num_sharing', 1))}"
                for c in caches) + ".")
        out.append(f"- Google Benchmark library build: {ctx.get('library_build_type', '?')}.")
    if ctx.get("num_cpus"):
        out.append(f"- With {ctx['num_cpus']} CPUs, rows with more runnable threads than that are over-subscribed: "
                   "they show how a runtime copes with preemption, not how it scales.")
    m = results.get("machine")
    if m:
        out.append("- lscpu: " + "; ".join(f"{k}: {v}" for k, v in m.items()) + ".")
    s = results.get("settings", {})
    if s:
        order = ("interleaved: each repetition runs every contender once, A B C A B C"
                 if s.get("interleaved") else "back to back")
        out.append(f"- Command: `{s.get('command')}` ({'smoke mode' if s.get('smoke') else 'full mode'}; "
                   f"{s.get('reps')} repetition(s) per run, {order}; median shown; at least "
                   f"{s.get('min_time')} s per repetition).")
    return out


def render(results, plots_dir, rel_dir, title, shift=0):
    """The report as Markdown; images are linked relative to rel_dir; headings go `shift` levels deeper."""
    metas, table = collect(results)
    os.makedirs(plots_dir, exist_ok=True)
    h = "#" * shift

    md = [f"{h}# {title}", ""]
    md += machine_lines(results)
    md += ["", "Ratios read \"how many times better weft is\" (above 1: weft wins), for rates and times alike. "
           "*baseline* is the case's reference (weft's mutex twin for the pool and queue cases, pthreads for "
           "the sync cases); *best peer* is the best contender whose name does not start with `weft`.", ""]

    ncpu = (results.get("context") or {}).get("num_cpus") or 0
    head = ["| case | metric | threads | weft | vs baseline | vs best peer |", "|---|---|---|---|---|---|"]
    summary = [f"{h}## Summary", "", f"Rows with at most {ncpu or '?'} threads (the CPUs of this machine).", ""] + head
    oversub = [f"{h}### Over-subscribed rows", "",
               f"More threads than the {ncpu or '?'} CPUs: how a runtime copes with preemption, not how it "
               "scales; kept out of the summary above.", ""] + head
    n_oversub = 0
    body = []
    for case in [c["name"] for c in results["cases"] if c["name"] in table]:
        by_arg = table[case]
        meta = metas[case]
        lower = meta["lower_is_better"]
        body += [f"{h}## {case}", "", meta["what"], "",
                 f"Metric: {metric_label(meta)}. Baseline: `{meta['baseline']}`.", ""]
        size = (results.get("case_settings") or {}).get(case, {}).get("size")
        if size:
            body += [f"Run at size {size} (`--size {size}`) instead of the case's default.", ""]
        busy = {k.split("/", 1)[1]: v for k, v in results.get("busy_before", {}).items()
                if k.split("/", 1)[0] == case}
        if busy:
            body += ["CPU time taken by other work just before the runs: " +
                     ", ".join(f"{v:.0%} ({k})" for k, v in busy.items()) + ".", ""]
        for arg, by_impl in by_arg.items():
            impls = order_impls(list(by_impl), meta)
            threads = sorted({t for i in by_impl.values() for t in i})
            label = case if arg is None else f"{case} ({meta['arg_name']} = {arg})"
            if arg is not None:
                body += [f"{h}### {meta['arg_name']} = {arg}", ""]
            body.append("| threads | " + " | ".join(f"`{i}`" for i in impls) + " | weft vs baseline | "
                        "weft vs best peer |")
            body.append("|---" * (len(impls) + 3) + "|")
            notes = []
            for t in threads:
                row = {i: by_impl[i].get(t, (None, "not run")) for i in impls}
                cells = []
                for i in impls:
                    v, err = row[i]
                    if err is None:
                        cells.append(fmt(v, meta["metric"]))
                        continue
                    if err not in notes:
                        notes.append(err)
                    cells.append(f"skipped [{notes.index(err) + 1}]")
                weft = row.get("weft", (None, None))[0]
                base = row.get(meta["baseline"], (None, None))[0]
                rb = ratio_text(meta, weft, base, lower) if meta["baseline"] != "weft" else "–"
                bp = best_peer(row, impls, lower)
                rp = ratio_text(meta, weft, bp[1], lower, bp[0]) if bp else "–"
                over = ncpu and t > ncpu
                body.append(f"| {t}{' (over-subscribed)' if over else ''} | " + " | ".join(cells) +
                            f" | {rb} | {rp} |")
                line = f"| {label} | {meta['metric']} | {t} | {fmt(weft, meta['metric'])} | {rb} | {rp} |"
                if over:
                    oversub.append(line)
                    n_oversub += 1
                else:
                    summary.append(line)
            body.append("")
            if notes:
                body += [" ".join(f"[{k + 1}] {n}." for k, n in enumerate(notes)), ""]
            if meta["sweep"] and len(threads) > 1:
                fname = case if arg is None else f"{case}_{meta['arg_name']}{arg}"
                png = os.path.join(plots_dir, fname + ".png")
                series = OrderedDict((i, {t: v for t, (v, e) in by_impl[i].items() if e is None}) for i in impls)
                if plot(png, label, meta, series, threads):
                    body += [f"![{label}]({os.path.relpath(png, rel_dir)})", ""]
    if n_oversub:
        summary += [""] + oversub
    return "\n".join(md + summary + [""] + body) + "\n"


BEGIN, END = "<!-- bench-report:begin -->", "<!-- bench-report:end -->"


def splice(doc, text):
    """Replaces what lies between the two markers of doc with text."""
    with open(doc) as f:
        old = f.read()
    if BEGIN not in old or END not in old:
        raise SystemExit(f"{doc}: markers {BEGIN} / {END} not found")
    head, rest = old.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(doc, "w") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--out", help="write the report here")
    ap.add_argument("--plots", required=True, help="folder for the PNG plots")
    ap.add_argument("--splice", metavar="DOC",
                    help=f"also put the report into DOC between the lines {BEGIN} and {END}")
    ap.add_argument("--title", default="weft benchmark report")
    a = ap.parse_args()
    with open(a.results) as f:
        results = json.load(f)
    if a.out:
        with open(a.out, "w") as f:
            f.write(render(results, a.plots, os.path.dirname(os.path.abspath(a.out)), a.title))
    if a.splice:
        splice(a.splice, render(results, a.plots, os.path.dirname(os.path.abspath(a.splice)),
                                "Latest report", shift=1))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Turns bench_cpu's Google Benchmark JSON into bench/RESULTS.md and a chart
(bench/results.svg). Python 3 standard library, and matplotlib for the chart
(Debian's python3-matplotlib, hence /usr/bin/python3). Every number written is
a median from the JSON or a ratio of two medians of the same run.

  bench/report.py RESULTS_JSON --md OUT.md --svg OUT.svg --command "..." \
      --load-before "a b c" --load-after "a b c" --load-samples FILE --started T --finished T
      (also writes RESULTS_JSON's .meta.json: the run's facts, for regenerating later)
  bench/report.py RESULTS_JSON --meta RESULTS.meta.json --md OUT.md --svg OUT.svg
"""
import argparse
import json
import os
import re
import statistics
import subprocess
from collections import OrderedDict

OPS = ["forward_training", "forward_inference", "backward"]
KERNELS = ["eigen", "onednn", "onednn_nspc", "libtorch", "two_pass", "triad"]
KERNEL_TITLE = {"eigen": "eigen (ours)", "onednn": "oneDNN", "onednn_nspc": "oneDNN, nc as N×C×1×1 nhwc",
                "libtorch": "libtorch", "two_pass": "two passes (channel-last bound)",
                "triad": "triad (timed with this case)"}
# The chart's and the summary's oneDNN: on nc, the N×C×1×1 nhwc descriptor (oneDNN's JIT kernel).
CHART_KERNELS = ["eigen", "onednn", "libtorch"]


def onednn_key(lay):
    return "onednn_nspc" if lay == "nc" else "onednn"
NOTES_MARK = "<!-- Hand-written notes below this line are kept by bench/report.py. -->"


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def load(path):
    """{(op, layout, shape, kernel): {'median': ms, 'cv': x, 'op_bytes': b, 'label': s, 'error': msg}}."""
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for b in data["benchmarks"]:
        name = b.get("run_name", b["name"])
        name = re.sub(r"/real_time$", "", name)
        parts = name.split("/")
        if len(parts) != 4:
            continue
        key = tuple(parts)
        row = rows.setdefault(key, {})
        if b.get("error_occurred"):
            row["error"] = b.get("error_message", "error")
            continue
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
        agg = b.get("aggregate_name")
        if agg == "median" or (agg is None and b.get("run_type") == "iteration" and "median" not in row):
            row["median"] = b["real_time"] * scale
            row["op_bytes"] = b["op_bytes"]
            row["sets"] = b.get("sets")
            row["working_set_MiB"] = b.get("working_set_MiB")
            row["label"] = b.get("label", "")
            row["faults"] = b.get("faults_per_call")
        elif agg == "cv":
            row["cv"] = b["real_time"]
        if "repetitions" in b:
            row["reps"] = b["repetitions"]
    return data["context"], rows


def gbs(row):
    return row["op_bytes"] / (row["median"] * 1e-3) / 1e9


def triad_of(rows, shape):
    """The triad an op's floor comes from: the median of the medians of every triad of the shape (the
    one each case times in its own bench_cpu process, its repetitions interleaved with its kernels',
    and the shape's own baseline), all the same loop over the same buffers. The ordinary-store triad
    swings more than the kernels do: in one run its medians spread by up to 1.79x between the cases
    of one shape, and over four runs of two cases our median divided by its case's triad spread
    1.49x and 1.62x where our median alone spread 1.24x and 1.09x (bench/RESULTS.md, notes of
    2026-12-06). The shape's median keeps that swing out of "x floor"; what it gives up is following
    a drift of the machine from one case to the next. Returns a row with "median" and "op_bytes", or
    {} where the shape has none."""
    found = [r for (o, l, s, k), r in rows.items() if s == shape and "median" in r
             and (k == "triad" or (o, l, k) == ("triad", "any", "stream"))]
    if not found:
        return {}
    bandwidth = statistics.median(gbs(r) for r in found)  # the same bytes in each, as bench_cpu counts them
    return {"median": found[0]["op_bytes"] / (bandwidth * 1e9) * 1e3, "op_bytes": found[0]["op_bytes"]}


def fmt_ms(x):
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


def shapes_in(rows):
    out = OrderedDict()
    for op, lay, shape, kernel in rows:
        if op in OPS:
            out.setdefault(shape, [])
            if lay not in out[shape]:
                out[shape].append(lay)
    return out


def pretty_shape(shape):
    m = re.fullmatch(r"N(\d+)C(\d+)H(\d+)W(\d+)", shape)
    if m:
        return f"N{m[1]} C{m[2]} {m[3]}×{m[4]}"
    m = re.fullmatch(r"N(\d+)C(\d+)", shape)
    return f"{m[1]} × {m[2]}" if m else shape


def targets(op, lay, e, floor, speedup):
    """Whether the summary row meets issues 5 and 15's targets: [floor, peers], each "met", "missed" or "–".

    Floor: inference 1.1; training 1.25 (issue 5); backward 1.25 on nchw (issue 5) and 1.5 on
    channel-last layouts, whose backward reads x and dy twice (issue 15). Peers: nchw 2x both
    (issue 5), except inference, where the floor bounds it: 2x oneDNN and at least as fast as
    libtorch (issue 15); channel-last (nhwc, nc) at least as fast as both (issue 15; nc against
    oneDNN's channel-last kernel).
    """
    channel_last = lay != "nchw"
    if op == "forward_inference":
        limit = 1.1
    elif op == "backward" and channel_last:
        limit = 1.5
    else:
        limit = 1.25
    out = ["–" if not floor else ("met" if e["median"] / floor <= limit else "missed") + f" (≤ {limit})"]
    if not channel_last:
        need = {"onednn": 2.0, "libtorch": 1.0 if op == "forward_inference" else 2.0}
    else:
        need = {"onednn": 1.0, "libtorch": 1.0}
    if any(k not in speedup for k in need):
        out.append("–")
    else:
        out.append("met" if all(speedup[k] >= v for k, v in need.items()) else "missed")
    return out


def short_shape(shape):
    """The chart's group label: N is 32 in every spatial shape."""
    m = re.fullmatch(r"N32C(\d+)H(\d+)W(\d+)", shape)
    return f"C{m[1]} {m[2]}×{m[3]}" if m else pretty_shape(shape)


def machine():
    lines = []
    want = ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Hypervisor vendor",
            "L1d cache", "L2 cache", "L3 cache", "Flags")
    for line in sh("lscpu").splitlines():
        k, _, v = line.partition(":")
        if k.strip() in want:
            v = v.strip()
            if k.strip() == "Flags":
                simd = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512_bf16", "amx_tile") if f in v.split()]
                v = "… " + " ".join(simd) + " …"
            lines.append(f"{k.strip()}: {v}")
    mem = sh("sh", "-c", "free -g | awk '/Mem:/ {print $2}'")
    return lines, mem


def write_md(args, context, rows):
    out = []
    w = out.append
    w("# Benchmark results: our Eigen kernel, oneDNN and libtorch")
    w("")
    w("Written by `bench/run` (bench/report.py) from one run of `bench_cpu` (bench/bench_cpu.cpp);")
    w("the raw Google Benchmark JSON is `bench/results.json`, the chart `bench/results.svg`. Every")
    w("number below was measured in that run or is a ratio of two medians of it. To regenerate this")
    w("file and the chart from those: `bench/report.py bench/results.json --meta bench/results.meta.json")
    w("--md bench/RESULTS.md --svg bench/results.svg`.")
    w("")
    if args.others is None or args.others >= 0.05:
        if args.others is None:
            w("**Not known to be a quiet machine**: no CPU samples were taken during the run.")
        else:
            w(f"**Taken on a busy machine**: other processes used {args.others * 100:.0f} % of the"
              f" {os.cpu_count()} CPUs' time during the run.")
        w("Two-thread kernels and baselines wait for whichever thread is descheduled, so such figures")
        w("check the pipeline; they do not judge the targets.")
        w("")
    w("## Machine, build and run")
    w("")
    lines, mem = machine()
    w("- `lscpu`: " + "; ".join(lines) + ".")
    thp = sh("cat", "/sys/kernel/mm/transparent_hugepage/enabled") or "unknown"
    w(f"- Memory: {mem} GiB. Kernel: {sh('uname', '-sr')}. Transparent huge pages: `{thp}`"
      " (bench_cpu does not madvise its buffers).")
    w(f"- Compiler: {sh('sh', '-c', 'c++ --version | head -1')}; `CMAKE_BUILD_TYPE=Release` (`-O3 -DNDEBUG`),")
    w("  `-ffp-contract=off`, no `-march`: our kernel compiles its data loops for several instruction")
    w("  sets and picks one at run time, oneDNN its JIT ISA (both in the impl column); the copy and")
    w("  triad loops are x86-64 baseline (SSE2). Debian's libbenchmark")
    w("  warns that it was built as DEBUG; that concerns the timing loop's own code, not the kernels.")
    vers = []
    for pkg in ("libdnnl2", "libtorch1.13", "libbenchmark1debian", "libeigen3-dev"):
        v = sh("dpkg-query", "-W", "-f=${Version}", pkg)
        if v:
            vers.append(f"{pkg} {v}")
    w(f"- Packages: {', '.join(vers)}.")
    w(f"- Threads: {context.get('bncheck_threads', '?')} for every kernel (oneDNN through OpenMP, libtorch through")
    w("  `at::set_num_threads`, ours through `eigen::set_threads`, copy and triad through OpenMP).")
    if "bncheck_eigen" in context:
        w(f"- Our kernel: instruction set, threads and the cache sizes its budgets come from, as it reported them: {context['bncheck_eigen']}.")
    w(f"- Commit: {args.commit}. Date: {args.started} to {args.finished} (UTC).")
    if args.others is not None:
        w(f"- Other processes used {args.others * 100:.1f} % of the machine's CPU time during the run"
          f" (/proc/stat busy time less bench_cpu's own, sampled every 5 s); steal {args.steal * 100:.1f} %.")
    w(f"- Load average (1, 5, 15 min): {args.load_before} before, {args.load_after} after;"
      f" 1-min load average during the run: {args.load_range}. {args.load_note}")
    w("")
    w("```")
    w(args.command)
    w("```")
    w("")
    w("## What is measured")
    w("")
    reps = sorted({r.get("reps", 1) for r in rows.values() if "median" in r})
    reps = "/".join(str(x) for x in reps) or "?"
    w("- f32 data and parameters, default fills, pytorch profile. One call per iteration; time is wall")
    w(f"  time; each benchmark runs {reps} repetition(s) (Google Benchmark picks the iterations of each)")
    w(f"  and the tables give the median repetition; CV is the coefficient of variation of the {reps}.")
    if "random_interleaving=true" in args.command:
        w("  The repetitions of one case's kernels (and of one shape's copy and triad) take turns in a random")
        w("  order, one bench_cpu process per case, so a slow spell of the machine falls on all of them alike.")
    w("- Kernels: ours through `make_kernel(\"eigen\")`; oneDNN 2.6 through a primitive created once before")
    w("  timing with the adapter's flags (scale and shift; global statistics for inference); libtorch through")
    w("  `at::native_batch_norm` / `at::native_batch_norm_backward` on `at::from_blob` tensors (channels_last")
    w("  strides for nhwc), whose outputs libtorch allocates itself as for any PyTorch caller. Backward")
    w("  computes dx, dgamma and dbeta in all three. Before timing, each kernel's output on the first buffer")
    w("  set is checked against our Eigen kernel's (largest difference within 1e-3 of the largest value),")
    w("  so no kernel is timed doing the wrong thing.")
    w("- Cache: every benchmark rotates through K sets of buffers, one set per iteration, so that the")
    w(f"  working set between two uses of a buffer is at least {int(context.get('bncheck_rotation_bytes', 0)) >> 20} MiB"
      " (max of 1 GiB and twice the L3 the OS reports).")
    w("- GB/s = the fewest bytes the op must move / median time, in 10^9 bytes/s: forward (training and")
    w("  inference) reads x and writes y (2 tensors); backward reads x and dy and writes dx (3 tensors);")
    w("  copy moves 2 tensors and the triad a = b + s·c moves 3. Per-channel tensors are not counted.")
    w("- **Triad baseline**: a STREAM-like triad over tensors of the same size, rotated the same way, on the")
    w("  same threads, with ordinary stores (the processor also reads each line it writes, for copy and")
    w("  triad as for the kernels; a kernel with non-temporal stores can beat the floor).")
    w("  \"÷ triad\" = op GB/s ÷ the floor's triad GB/s. The **floor** of an op is the time it would take")
    w("  to move its fewest bytes at the triad's bandwidth; \"× floor\" = median time ÷ floor (1.00 means the")
    w("  op runs at triad bandwidth; the targets are 1.25 for training and nchw backward, 1.5 for")
    w("  channel-last backward, 1.1 for inference).")
    if any(k[3] == "triad" for k in rows):
        w("  Each case also times the triad, in its own process, its repetitions interleaved with the")
        w("  kernels' (the row \"triad (timed with this case)\"). The floor of every case of a shape comes")
        w("  from the median of all that shape's triads (each case's and the Baselines table's, their")
        w("  medians): the ordinary-store triad swings more than the kernels do, so one case's own triad")
        w("  added noise to its \"× floor\" rather than taking the machine's drift out (notes of 2026-12-06);")
        w("  the triad row's own \"× floor\" shows how far it was from the shape's.")
    if any(k[3] == "two_pass" for k in rows):
        w("- **Two passes** (channel-last training and backward): no channel's statistics are complete before")
        w("  the last row, so a channel-last kernel reads x (and dy) twice unless a cache holds them in between.")
        w("  The row \"two passes (channel-last bound)\" times exactly that, rotated like the kernels, on the same")
        w("  threads: each thread sums its contiguous share of x (and dy), all threads meet, then each reads its")
        w("  share again, in blocks of one core's L2 from the last, and writes y = s·x (dx = x + s·dy) with")
        w("  non-temporal stores (bench_stream.cpp). Its \"× floor\" (summary: \"two passes × floor\") is what")
        w("  the memory traffic of two passes alone costs, against the floor's one; a kernel above it spends the")
        w("  difference on something other than moving those bytes.")
    w("- \"÷ eigen\": this kernel's median time ÷ our kernel's median time, same case, same run (2.0 means")
    w("  ours is twice as fast). \"faults/call\": minor page faults per timed call (median repetition), after")
    w("  two untimed calls; about one per 4 KiB means the kernel writes into freshly mapped memory.")
    w("")

    # Summary
    w("## Summary: our kernel against the floor and the peers")
    w("")
    w("Targets (issue 5, section 2, and issue 15): × floor at most 1.25 for training and nchw backward,")
    w("1.5 for channel-last backward and 1.1 for inference; on nchw at least 2× faster than both peers")
    w("(÷ eigen ≥ 2), except inference: 2× oneDNN and at least as fast as libtorch; on nhwc and nc at least")
    w("as fast as both (÷ eigen ≥ 1; nc against oneDNN's channel-last kernel, †).")
    w("")
    w("| shape | layout | op | floor ms | eigen ms | × floor | two passes × floor | oneDNN ms | libtorch ms | oneDNN ÷ eigen | libtorch ÷ eigen | floor target | peer target |")
    w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for shape, lays in shapes_in(rows).items():
        t = triad_of(rows, shape)
        for lay in lays:
            for op in OPS:
                e = rows.get((op, lay, shape, "eigen"), {})
                if "median" not in e:
                    continue
                cells = [pretty_shape(shape), lay, op]
                floor = e["op_bytes"] / (gbs(t) * 1e9) * 1e3 if "median" in t else None
                cells.append(fmt_ms(floor) if floor else "–")
                cells.append(fmt_ms(e["median"]))
                cells.append(f"{e['median'] / floor:.2f}" if floor else "–")
                tp = rows.get((op, lay, shape, "two_pass"), {})
                cells.append(f"{tp['median'] / floor:.2f}" if floor and "median" in tp else "–")
                peer_ms, peer_ratio, speedup = [], [], {}
                for k in (onednn_key(lay), "libtorch"):
                    r = rows.get((op, lay, shape, k), {})
                    mark = "†" if k == "onednn_nspc" else ""
                    peer_ms.append(fmt_ms(r["median"]) + mark if "median" in r else ("skipped" if "error" in r else "–"))
                    peer_ratio.append(f"{r['median'] / e['median']:.2f}" if "median" in r else "–")
                    if "median" in r:
                        speedup["onednn" if k == "onednn_nspc" else k] = r["median"] / e["median"]
                w("| " + " | ".join(cells + peer_ms + peer_ratio + targets(op, lay, e, floor, speedup)) + " |")
    w("")
    w("† nc: oneDNN on the same memory described as N×C×1×1 nhwc, where oneDNN 2.6 runs its channel-last")
    w("JIT kernel; the adapter's nc descriptor gets its generic kernel (ncsp_bnorm), timed in the next table.")
    w("")

    # Detail
    w("## Every kernel, by case")
    w("")
    w("| shape | layout | op | kernel | median ms | CV | GB/s | ÷ triad | × floor | ÷ eigen | faults/call | impl |")
    w("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for shape, lays in shapes_in(rows).items():
        t = triad_of(rows, shape)
        tb = gbs(t) if "median" in t else None
        for lay in lays:
            for op in OPS:
                e = rows.get((op, lay, shape, "eigen"), {})
                for k in KERNELS:
                    r = rows.get((op, lay, shape, k))
                    if r is None:
                        continue
                    head = [pretty_shape(shape), lay, op, KERNEL_TITLE[k]]
                    if "median" not in r:
                        w("| " + " | ".join(head) + f" | skipped: {r.get('error', '?')} | | | | | | | |")
                        continue
                    b = gbs(r)
                    cells = [fmt_ms(r["median"]), f"{r.get('cv', 0) * 100:.1f} %", f"{b:.1f}",
                             f"{b / tb:.2f}" if tb else "–", f"{tb / b:.2f}" if tb else "–",
                             f"{r['median'] / e['median']:.2f}" if "median" in e and k != "triad" else "–",
                             f"{r['faults']:.0f}" if r.get("faults") is not None else "–", r.get("label") or ""]
                    w("| " + " | ".join(head + cells) + " |")
    w("")

    # Baselines and cache
    w("## Baselines, and what the cache gives")
    w("")
    w("Copy and triad per data-tensor size; `copy unrotated` reuses one pair of buffers every")
    w("iteration (the working set of the old bench_eigen), `copy` rotates like every other benchmark.")
    w("")
    w("| shape | tensor MB | copy GB/s | copy unrotated GB/s | triad GB/s | rotated sets (copy) |")
    w("|---|---:|---:|---:|---:|---:|")
    for shape in shapes_in(rows):
        c = rows.get(("copy", "any", shape, "stream"), {})
        u = rows.get(("copy_unrotated", "any", shape, "stream"), {})
        t = rows.get(("triad", "any", shape, "stream"), {})
        if "median" not in c:
            continue
        w(f"| {pretty_shape(shape)} | {c['op_bytes'] / 2 / 1e6:.1f} | {gbs(c):.1f} | "
          f"{gbs(u):.1f} | {gbs(t):.1f} | {int(c['sets'])} |" if "median" in u and "median" in t else
          f"| {pretty_shape(shape)} | {c['op_bytes'] / 2 / 1e6:.1f} | {gbs(c):.1f} | – | – | {int(c['sets'])} |")
    w("")
    probes = sorted(((int(re.sub(r"\D", "", s)), r) for (op, _, s, _), r in rows.items()
                     if op == "cache_probe" and "median" in r), key=lambda x: x[0])
    if probes:
        w("Copy of 8 MiB tensors (16 MiB per set) rotating through a growing working set: where the")
        w(f"bandwidth falls is the cache this guest really has (the OS reports an L3 of "
          f"{l3_reported(context)}).")
        w("")
        w("| working set MiB | " + " | ".join(str(m) for m, _ in probes) + " |")
        w("|---|" + "---:|" * len(probes))
        w("| copy GB/s | " + " | ".join(f"{gbs(r):.1f}" for _, r in probes) + " |")
        w("")
    return out


def l3_reported(context):
    for c in context.get("caches", []):
        if c.get("level") == 3:
            return f"{c['size'] >> 20} MiB"
    return "unknown size"


def keep_notes(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return []
    i = text.find(NOTES_MARK)
    return text[i + len(NOTES_MARK):].strip("\n").splitlines() if i >= 0 else []


def write_svg(rows, context, caption, path):
    """Grouped bars of GB/s per case, one panel per op; the triad its floor comes from (triad_of) as a
    dashed line per group.
    Drawn by matplotlib's SVG backend with text kept as text; the same input gives the same bytes
    (fixed hash salt for element ids, no date in the metadata)."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("bench/report.py: the chart needs matplotlib (Debian: python3-matplotlib, in ci/deps)")
    matplotlib.use("svg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colors = {"eigen": "#1b7837", "onednn": "#2166ac", "libtorch": "#d6604d"}
    groups = [(s, lay) for s, lays in shapes_in(rows).items() for lay in lays]
    top = max([gbs(r) for r in rows.values() if "median" in r and "op_bytes" in r] + [1])
    step = 5 if top <= 40 else 10
    ymax = (int(top / step) + 1) * step
    bar_w = 0.8 / len(CHART_KERNELS)  # a group is 0.8 wide, 0.2 between groups
    rc = {"svg.hashsalt": "bncheck", "svg.fonttype": "none", "font.family": "sans-serif", "font.size": 9}
    with plt.rc_context(rc):
        fig, axes = plt.subplots(len(OPS), 1, figsize=(max(0.85 * len(groups) + 1.5, 8), 3.3 * len(OPS) + 1.2),
                                 sharey=True)
        fig.suptitle(f"Batch norm, f32, {context.get('bncheck_threads', '?')} threads: "
                     "GB/s from the fewest bytes and the median time", fontsize=12, fontweight="bold",
                     x=0.01, y=0.995, ha="left")
        fig.text(0.01, 1 - 0.45 / fig.get_figheight(), caption, color="#555", fontsize=8, ha="left", va="top")
        for ax, op in zip(axes, OPS):
            ax.set_title(op, loc="left", fontweight="bold", fontsize=10)
            for gi, (shape, lay) in enumerate(groups):
                x0 = gi - 0.4
                for ki, k in enumerate(CHART_KERNELS):
                    key = onednn_key(lay) if k == "onednn" else k
                    r = rows.get((op, lay, shape, key), {})
                    x = x0 + (ki + 0.5) * bar_w
                    if "median" in r:
                        ax.bar(x, gbs(r), width=bar_w * 0.9, color=colors[k])
                    elif r:  # measured but skipped (a failed set-up or output check)
                        ax.text(x, 0.01 * ymax, "×", color=colors[k], ha="center", va="bottom")
                t = triad_of(rows, shape)
                if "median" in t:
                    ax.hlines(gbs(t), x0 - 0.03, x0 + 0.83, colors="black", linestyles=(0, (4, 2)), linewidth=1.5)
            ax.set_xlim(-0.6, len(groups) - 0.4)
            ax.set_ylim(0, ymax)
            ax.set_yticks(range(0, ymax + 1, step))
            ax.set_ylabel("GB/s")
            ax.grid(axis="y", color="#ddd", linewidth=0.8)
            ax.set_axisbelow(True)
            ax.spines[["top", "right"]].set_visible(False)
            ax.set_xticks(range(len(groups)))
            ax.set_xticklabels([f"{short_shape(s)}\n{lay}" + ("\noneDNN: nhwc 1×1" if lay == "nc" else "")
                                for s, lay in groups])
            ax.tick_params(axis="x", length=0)
        handles = [Patch(color=colors[k], label=KERNEL_TITLE[k]) for k in CHART_KERNELS]
        handles.append(Line2D([], [], color="black", linestyle=(0, (4, 2)), linewidth=1.5,
                              label="triad (same tensor size)"))
        fig.legend(handles=handles, loc="upper right", ncol=len(handles), frameon=False,
                   bbox_to_anchor=(0.99, 1 - 0.6 / fig.get_figheight()))
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.75 / fig.get_figheight()), h_pad=1.5)
        fig.savefig(path, format="svg", metadata={"Date": None})
        plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json")
    ap.add_argument("--md", required=True)
    ap.add_argument("--svg", required=True)
    ap.add_argument("--command", default="?")
    ap.add_argument("--commit", default=None)
    ap.add_argument("--started", default="?")
    ap.add_argument("--finished", default="?")
    ap.add_argument("--load-before", default="?")
    ap.add_argument("--load-after", default="?")
    ap.add_argument("--load-samples", default=None, help="file of /proc/loadavg lines taken during the run")
    ap.add_argument("--load-note", default="", help="a sentence on what else ran")
    ap.add_argument("--meta", default=None,
                    help="regenerate from the run's facts saved in this file (bench/results.meta.json) "
                         "instead of the options above")
    args = ap.parse_args()
    if args.meta:
        with open(args.meta) as f:
            for k, v in json.load(f).items():
                setattr(args, k, v)
    else:
        run_facts(args)
        with open(re.sub(r"(\.json)?$", ".meta.json", args.json, count=1), "w") as f:
            json.dump({k: getattr(args, k) for k in META_KEYS}, f, indent=1)
            f.write("\n")
    context, rows = load(args.json)
    notes = keep_notes(args.md)
    md = write_md(args, context, rows)
    md += [NOTES_MARK, ""] + notes
    with open(args.md, "w") as f:
        f.write("\n".join(md).rstrip("\n") + "\n")
    others = "unknown" if args.others is None else f"{args.others * 100:.0f} %"
    caption = (f"{args.started} UTC, commit {args.commit.split()[0]}, other processes' CPU share during the run:"
               f" {others}" + (" (a busy machine: not for judging)" if args.others is None or args.others >= 0.05
                               else "") + " (bench/RESULTS.md)")
    write_svg(rows, context, caption, args.svg)


# The facts of a run that are not in Google Benchmark's JSON, saved beside it.
META_KEYS = ("command", "commit", "started", "finished", "load_before", "load_after", "load_note", "load_max",
             "load_range", "others", "steal")


def run_facts(args):
    """The commit and the CPU share of other processes, from git and the samples bench/run took."""
    if args.commit is None:
        dirty = sh("git", "status", "--porcelain", "--untracked-files=no", "--", "bench", "impl", "core", "adapters",
                   ":!bench/RESULTS.md", ":!bench/results.json", ":!bench/results.meta.json", ":!bench/results.svg")
        args.commit = sh("git", "rev-parse", "--short", "HEAD") + (
            " (with uncommitted changes in bench/, impl/, core/ or adapters/)" if dirty else "")
    samples = []
    if args.load_samples and os.path.exists(args.load_samples):
        with open(args.load_samples) as f:
            samples = [[float(v) for v in line.split()] for line in f if len(line.split()) == 5]
    loads = [s[0] for s in samples]
    args.load_max = max(loads) if loads else 0.0
    args.load_range = f"{min(loads):.2f} to {max(loads):.2f} ({len(loads)} samples)" if loads else "none taken"
    # Other processes' share of the machine between the first and last sample:
    # (busy jiffies - bench_cpu's own) / total jiffies; steal likewise.
    args.others = args.steal = None
    if len(samples) >= 2 and samples[-1][2] > samples[0][2]:
        total = samples[-1][2] - samples[0][2]
        others = (samples[-1][1] - samples[0][1]) - (samples[-1][4] - samples[0][4])
        args.others = max(0.0, others / total)
        args.steal = (samples[-1][3] - samples[0][3]) / total


if __name__ == "__main__":
    main()

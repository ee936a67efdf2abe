#!/usr/bin/python3
"""bench/report.py on the committed bench/results.json: RESULTS.md and the
chart are written, the chart is SVG that parses as XML, it has one bar per
measured (op, case, kernel) the chart shows (counted from the JSON here, not
from report.py), a skipped benchmark is a missing bar, the same input
gives the same bytes, and a case with its own triad takes its floor from it.
Exits 77 (skipped) when matplotlib is not installed.

  report_test.py SOURCE_DIR
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

try:
    import matplotlib  # noqa: F401  (only whether it is there)
except ImportError:
    print("SKIP: /usr/bin/python3 cannot import matplotlib (install python3-matplotlib; ci/deps does)")
    sys.exit(77)

SVG = "{http://www.w3.org/2000/svg}"
OPS = ["forward_training", "forward_inference", "backward"]
# (op, layout) of the cases of a spatial shape.
ALL_CASES = [(op, lay) for lay in ("nchw", "nhwc") for op in OPS]
# The chart's colours and kernels; on nc the chart's oneDNN bar is the nhwc 1×1 descriptor.
COLORS = {"eigen": "#1b7837", "onednn": "#2166ac", "libtorch": "#d6604d"}


def chart_key(kernel, layout):
    return "onednn_nspc" if kernel == "onednn" and layout == "nc" else kernel


def expected_bars(data):
    """{colour: number of bars}, from the benchmarks that have a median."""
    measured = set()
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median" and not b.get("error_occurred"):
            measured.add(tuple(re.sub(r"/real_time$", "", b["run_name"]).split("/")))
    groups = {(lay, shape) for op, lay, shape, _ in measured if op in OPS}
    return {COLORS[k]: sum((op, lay, shape, chart_key(k, lay)) in measured for op in OPS for lay, shape in groups)
            for k in COLORS}


def bars_drawn(svg_path):
    """{colour: number of filled paths inside the axes (the legend's swatches are outside)}, and
    the text of every <text> element."""
    root = ET.parse(svg_path).getroot()
    assert root.tag == SVG + "svg", root.tag
    counts = {c: 0 for c in COLORS.values()}
    for g in root.iter(SVG + "g"):
        if not g.get("id", "").startswith("axes_"):
            continue
        for p in g.iter(SVG + "path"):
            m = re.match(r"fill: (#[0-9a-f]{6})", p.get("style", ""))
            if m and m[1] in counts:
                counts[m[1]] += 1
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    return counts, texts


def report(source, results, folder, name):
    md, svg = os.path.join(folder, name + ".md"), os.path.join(folder, name + ".svg")
    subprocess.run([sys.executable, os.path.join(source, "bench", "report.py"), results,
                    "--meta", os.path.join(source, "bench", "results.meta.json"), "--md", md, "--svg", svg],
                   check=True)
    assert os.path.getsize(md) > 0 and os.path.getsize(svg) > 0, name
    with open(md) as f:
        assert f.read().startswith("# Benchmark results"), md
    return svg


def run_name(x):
    return re.sub(r"/real_time$", "", x["run_name"])


def eigen_median(data, case):
    """Our kernel's median (ms) and op bytes in a case (op, layout, shape) of results.json."""
    e = next(x for x in data["benchmarks"] if x.get("aggregate_name") == "median"
             and run_name(x) == "/".join(case + ("eigen",)))
    return e["real_time"] * {"ns": 1e-6, "us": 1e-3, "ms": 1.0}[e.get("time_unit", "ns")], e["op_bytes"]


def with_medians(data, medians):
    """A copy of results.json whose benchmark (op, layout, shape, kernel) has only the median (ms,
    op bytes) given, or is gone where None is given (the committed file may already have it)."""
    names = {"/".join(k): v for k, v in medians.items()}
    out = copy.deepcopy(data)
    out["benchmarks"] = [x for x in data["benchmarks"] if run_name(x) not in names]
    for name, v in names.items():
        if v is not None:
            out["benchmarks"].append({"name": name + "/real_time_median", "run_name": name + "/real_time",
                                      "run_type": "aggregate", "aggregate_name": "median", "repetitions": 5,
                                      "time_unit": "ms", "real_time": v[0], "op_bytes": v[1]})
    return out


def report_md(source, folder, name, data):
    """report.py on data; its RESULTS.md text."""
    path = os.path.join(folder, name + ".json")
    with open(path, "w") as f:
        json.dump(data, f)
    report(source, path, folder, name)
    with open(os.path.join(folder, name + ".md")) as f:
        return f.read()


def main():
    source = sys.argv[1]
    results = os.path.join(source, "bench", "results.json")
    with open(results) as f:
        data = json.load(f)
    with tempfile.TemporaryDirectory() as folder:
        a = report(source, results, folder, "a")
        b = report(source, results, folder, "b")
        with open(a, "rb") as fa, open(b, "rb") as fb:
            assert fa.read() == fb.read(), "two charts of the same results differ"
        counts, texts = bars_drawn(a)
        want = expected_bars(data)
        assert counts == want, f"bars by colour {counts}, expected {want}"
        assert all(n > 0 for n in want.values()), want
        for label in OPS + ["eigen (ours)", "oneDNN", "libtorch", "triad (same tensor size)"]:
            assert label in texts, f"no text '{label}' in the chart"
        assert "×" not in texts, "a skip mark where every benchmark was measured"

        # One eigen benchmark failed its check: Google Benchmark writes one
        # entry with error_occurred instead of its aggregates; the chart
        # loses that bar and marks the place.
        gone = "forward_training/nchw/N32C64H56W56/eigen"
        broken = copy.deepcopy(data)
        broken["benchmarks"] = [x for x in data["benchmarks"] if run_name(x) != gone]
        assert len(broken["benchmarks"]) < len(data["benchmarks"]), gone + " is not in results.json"
        broken["benchmarks"].append({"name": gone, "run_name": gone, "run_type": "iteration",
                                     "error_occurred": True, "error_message": "output check failed"})
        broken_json = os.path.join(folder, "broken.json")
        with open(broken_json, "w") as f:
            json.dump(broken, f)
        counts, texts = bars_drawn(report(source, broken_json, folder, "broken"))
        assert counts[COLORS["eigen"]] == want[COLORS["eigen"]] - 1, counts
        assert texts.count("×") == 1, "the skipped benchmark is not marked once"
        # Every case of a shape takes its floor from the median of all the
        # shape's triads (each case's and the baseline's): seven triads of
        # 1, 2, 3, 3, 3, 4 and 9 ms (3 tensors) put it at 3 ms, and the
        # 2-tensor forward floor at 2 ms, even for the case whose own triad
        # took 9 ms (its own triad would give 6; the mean triad, 3.57 ms, 2.38).
        shape = "N32C64H56W56"
        case = ("forward_inference", "nhwc", shape)
        e_ms, e_bytes = eigen_median(data, case)
        triad_bytes = e_bytes * 3 / 2
        others = [c + (shape, "triad") for c in ALL_CASES if c != case[:2]]
        times = dict(zip(others + [("triad", "any", shape, "stream")], [1.0, 2.0, 3.0, 3.0, 3.0, 4.0]))
        times[case + ("triad",)] = 9.0
        md = report_md(source, folder, "pooled", with_medians(data, {k: (v, triad_bytes) for k, v in times.items()}))
        row = f"| N32 C64 56×56 | nhwc | forward_inference | 2.00 | {e_ms:.2f} | {e_ms / 2.0:.2f} |"
        assert row in md, f"no summary row starting {row!r}"
        # The case's own triad is still shown, against the floor: 3.00x.
        assert "| N32 C64 56×56 | nhwc | forward_inference | triad (timed with this case) | 9.00 | " in md
        assert re.search(r"\| triad \(timed with this case\) \| 9\.00 \| [^|]+\| [^|]+\| 0\.33 \| 3\.00 \|", md), \
            "the case's own triad is not shown against the shape's floor"
        # A channel-last case's two passes (bench_cpu's two_pass) go in the
        # summary in units of the case's floor: triads of 3 ms over the
        # backward's 3 tensors puts the floor at 3 ms, two passes of 4.5 ms
        # at 1.50. Training's two passes of the same shape are taken out, so
        # that its summary row must show "–".
        case = ("backward", "nhwc", "N32C64H56W56")
        e_ms, e_bytes = eigen_median(data, case)
        triads = {c + (shape, "triad"): (3.0, e_bytes) for c in ALL_CASES}
        triads[("triad", "any", shape, "stream")] = (3.0, e_bytes)
        md = report_md(source, folder, "with_two", with_medians(
            data, {**triads, case + ("two_pass",): (4.5, e_bytes),
                   ("forward_training", "nhwc", "N32C64H56W56", "two_pass"): None}))
        row = f"| N32 C64 56×56 | nhwc | backward | 3.00 | {e_ms:.2f} | {e_ms / 3.0:.2f} | 1.50 |"
        assert row in md, f"no summary row starting {row!r}"
        assert "| N32 C64 56×56 | nhwc | backward | two passes (channel-last bound) | 4.50 |" in md
        assert re.search(r"\| N32 C64 56×56 \| nhwc \| forward_training \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| – \|", md), \
            "a case without two passes does not show –"
    print("report.py: chart and RESULTS.md written, bars as measured, output reproducible, "
          "a shape's triads give its floor, two passes in units of it")


if __name__ == "__main__":
    main()

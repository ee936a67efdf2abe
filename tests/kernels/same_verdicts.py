#!/usr/bin/env python3
"""Two routes to one library must reach one verdict: runs `bncheck run` on
kernel A and on kernel B with the same arguments and --json, and compares
the verdict of every golden case and every property. Prints the table of
verdicts (markdown) and exits 1 when a verdict differs or either run did
not exit 0.

usage: same_verdicts.py [--failing] BNCHECK KERNEL_A KERNEL_B [bncheck run arguments ...]
--failing: both runs are expected to exit 1 (failures, not bad input); a
failed property must then also have shrunk to the same number of elements."""
import collections
import json
import os
import subprocess
import sys
import tempfile
import time


def run(bncheck, kernel, args, folder, tag, expected_status):
    report = os.path.join(folder, tag + ".json")
    start = time.monotonic()
    p = subprocess.run([bncheck, "run", "--kernel", kernel, "--quiet", "--json", report, *args],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - start
    if p.returncode != expected_status:
        print(p.stdout)
        print(f"FAIL: bncheck run --kernel {kernel} exited {p.returncode}, expected {expected_status}")
        sys.exit(1)
    verdicts = collections.OrderedDict()
    for suite in json.load(open(report))["suites"]:
        for o in suite["cases"]:
            shrunk = f" (shrunk to {o.get('shrunk_elements')} elements)" if suite["name"] == "properties" and o["verdict"] == "fail" else ""
            verdicts[(suite["name"], o["name"])] = o["verdict"] + shrunk
    return verdicts, seconds


def main():
    argv = sys.argv[1:]
    failing = argv[:1] == ["--failing"]
    bncheck, a, b, *args = argv[1:] if failing else argv
    with tempfile.TemporaryDirectory() as folder:
        va, ta = run(bncheck, a, args, folder, "a", 1 if failing else 0)
        vb, tb = run(bncheck, b, args, folder, "b", 1 if failing else 0)
    keys = list(va) + [k for k in vb if k not in va]
    differ = [k for k in keys if va.get(k) != vb.get(k)]
    counts = collections.Counter((k[0], va.get(k), vb.get(k)) for k in keys)
    print(f"| suite | {a} | {b} | count |")
    print("|---|---|---|---|")
    for (suite, x, y), n in sorted(counts.items(), key=lambda i: (i[0][0], str(i[0][1]), str(i[0][2]))):
        print(f"| {suite} | {x} | {y} | {n} |")
    print(f"\n{len(keys)} verdicts compared, {len(differ)} differ; wall time {ta:.1f} s ({a}), {tb:.1f} s ({b})")
    for k in differ:
        print(f"DIFFER {k[0]}/{k[1]}: {va.get(k)} ({a}) vs {vb.get(k)} ({b})")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

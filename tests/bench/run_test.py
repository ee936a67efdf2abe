#!/usr/bin/python3
"""bench/run on the nc shape, small rotation, 2 repetitions, into a temporary
folder: it runs one bench_cpu process per case and merges their JSON, so
results.json holds every benchmark bench_cpu lists for the filter (listed
here by bench_cpu itself) exactly once, with a median of 2 repetitions, each
case's benchmarks together and the cases in bench_cpu's order; RESULTS.md
gives the command with the number of cases and says that the repetitions
take turns. A filter that matches nothing exits 2 with one line and writes
no results. Exits 77 (skipped) when matplotlib is not installed.

  run_test.py SOURCE_DIR BUILD_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import matplotlib  # noqa: F401  (bench/run's report.py draws the chart with it)
except ImportError:
    print("SKIP: /usr/bin/python3 cannot import matplotlib (install python3-matplotlib; ci/deps does)")
    sys.exit(77)

source, build = sys.argv[1], sys.argv[2]
bench_cpu = os.path.join(build, "bench", "bench_cpu")
FILTER = "--benchmark_filter=/N4096C1024/"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def case_of(name):
    """The case a benchmark belongs to: its op, layout and shape, or the shape for copy and triad."""
    p = name.split("/")
    return p[2] if p[3] == "stream" else "/".join(p[:3])


def run(out, *args):
    env = dict(os.environ, BNCHECK_BENCH_BUILD=build, BNCHECK_BENCH_OUT=out, BNCHECK_BENCH_ROTATE_MIB="64")
    return subprocess.run([os.path.join(source, "bench", "run"), *args], cwd=source, env=env,
                          capture_output=True, text=True)


listed = subprocess.run([bench_cpu, "--benchmark_list_tests=true", FILTER], capture_output=True, text=True,
                        check=True).stdout.split()
listed = [re.sub(r"/real_time$", "", n) for n in listed]
cases = list(dict.fromkeys(case_of(n) for n in listed))
if len(listed) < 8 or len(cases) < 3:
    fail(f"bench_cpu lists {len(listed)} benchmarks in {len(cases)} cases for {FILTER}; expected more")

with tempfile.TemporaryDirectory() as tmp:
    r = run(tmp, FILTER, "--benchmark_min_time=0.001", "--benchmark_repetitions=2")
    if r.returncode != 0:
        fail(f"bench/run exited {r.returncode}:\n{r.stderr[-3000:]}")
    with open(os.path.join(tmp, "results.json")) as f:
        data = json.load(f)
    medians = [re.sub(r"/real_time$", "", b["run_name"]) for b in data["benchmarks"]
               if b.get("aggregate_name") == "median"]
    if sorted(medians) != sorted(listed):
        fail(f"medians in results.json {sorted(medians)} are not the benchmarks listed {sorted(listed)}")
    reps = {b["repetitions"] for b in data["benchmarks"] if b.get("aggregate_name") == "median"}
    if reps != {2}:
        fail(f"repetitions per benchmark {reps}, expected 2")
    order = list(dict.fromkeys(case_of(n) for n in medians))
    if order != cases:
        fail(f"cases in results.json in the order {order}, bench_cpu lists {cases}")
    # Each case's benchmarks in one run of the JSON: a case seen again after another began is split.
    seen, last = set(), None
    for n in medians:
        if case_of(n) != last and case_of(n) in seen:
            fail(f"the benchmarks of case {case_of(n)} are not together in results.json")
        last = case_of(n)
        seen.add(last)
    with open(os.path.join(tmp, "RESULTS.md")) as f:
        md = f.read()
    if f"one process per case (--benchmark_filter=^(its benchmarks)$), {len(cases)} cases" not in md:
        fail(f"RESULTS.md does not give the command with {len(cases)} cases")
    if "--benchmark_enable_random_interleaving=true" not in md or "take turns in a random" not in md:
        fail("RESULTS.md does not say that the repetitions were interleaved")

with tempfile.TemporaryDirectory() as tmp:
    r = run(tmp, "--benchmark_filter=no_such_benchmark")
    if r.returncode != 2 or r.stderr.strip().count("\n") != 0 or "no benchmark matches" not in r.stderr:
        fail(f"a filter matching nothing: exit {r.returncode}, stderr {r.stderr!r}")
    if os.listdir(tmp):
        fail(f"a filter matching nothing wrote {os.listdir(tmp)}")

print(f"bench/run: {len(listed)} benchmarks of {len(cases)} cases merged from one process per case")

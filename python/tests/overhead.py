"""Requests per second through the fake driver, for a tiny problem:
/usr/bin/python3 python/tests/overhead.py [SECONDS]. The echo worker measures
the protocol and serve() alone; the numpy kernel adds its arithmetic."""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import Worker, problem  # noqa: E402


def rate(worker, op, seconds):
    p = problem(op, "nchw", "f32", "f32", 2, 3, h=2, w=2)
    c = np.ones(3, np.float32)
    inputs = {"x": ("f32", np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2)), "gamma": ("f32", c),
              "beta": ("f32", c), "running_mean": ("f32", c), "running_var": ("f32", c)}
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        header, _ = worker.run(p, inputs)
        assert header["type"] == "done", header
        count += 1
    worker.close()
    return count / (time.perf_counter() - start)


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    here = os.path.dirname(os.path.abspath(__file__))
    for label, command, op in (("echo worker, forward_inference", ("python", os.path.join(here, "workers.py"), "echo"),
                                "forward_inference"),
                               ("numpy kernel, forward_training", ("python", "examples/numpy/kernel.py"),
                                "forward_training")):
        print(f"{label}: {rate(Worker(*command), op, seconds):.0f} requests/s (mb2ic3ih2iw2 f32)")

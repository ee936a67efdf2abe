"""Small workers for test_protocol.py, one per behaviour: `python
workers.py NAME` serves the kernel functions WORKERS[NAME]."""
import dataclasses
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bncheck  # noqa: E402


def echo(problem, x, **_):
    """y = x: the bytes bncheck sent come back unchanged (bf16 included)."""
    return {"y": x}


def without_var(problem, x, gamma, beta, running_mean, running_var):
    return {"y": x, "mean": gamma, "invstd": beta, "running_mean": running_mean, "running_var": running_var}


def raises(problem, **_):
    return {"y": 1 / 0}


def unimplemented(problem, **_):
    raise bncheck.Unimplemented(f"{problem.data_type} is not supported")


def writes_input(problem, x, beta, **_):
    beta[0] = 1
    return {"y": x}


def reports_strides(problem, **inputs):
    """Unimplemented, the reason saying how each data input arrived: strides
    in bytes, writeable, C-contiguous, and the problem's storages."""
    facts = {name: [a.strides, a.flags.writeable, a.flags.c_contiguous] for name, a in inputs.items() if a.ndim > 1}
    storages = {name: dataclasses.asdict(s) for name, s in problem.storages.items()}
    raise bncheck.Unimplemented(json.dumps({"arrays": facts, "storages": storages}))


def writes_x(problem, x, **_):
    x[(0,) * x.ndim] = 1
    return {"y": x}


def writes_through_torch(problem, x, **_):
    bncheck.to_torch(x).add_(1)
    return {"y": x}


def prints(problem, x, **_):
    print("a print inside the kernel")
    os.write(1, b"a write to fd 1, as C code does\n")
    return {"y": x}


def unrounded(problem, x, **_):
    """y in float64 with bits below f32's precision (or float32 below bf16's)."""
    wider = np.float64 if problem.data_type == "f32" else np.float32
    return {"y": x.astype(wider) * (1 + np.finfo(np.float32).eps / 4 if wider is np.float64 else 1 + 2 ** -20)}


def widened(problem, x, **_):
    """y in float64 holding exactly the f32 values: no rounding is needed."""
    return {"y": x.astype(np.float64)}


def logical_y(problem, x, **_):
    """y channel-first for an nhwc problem: the wrong shape."""
    return {"y": np.ascontiguousarray(bncheck.to_logical(x, problem))}


def no_outputs(problem, **_):
    return {}


def extra_output(problem, x, **_):
    return {"y": x, "z": x}


def merge(problem, shard_count, shard_mean, shard_m2):
    """The sum form of the merge, in float64, without invstd."""
    n = shard_count[:, None]
    mean = (n * shard_mean).sum(axis=0) / shard_count.sum()
    var = (shard_m2.sum(axis=0) + (n * (shard_mean - mean) ** 2).sum(axis=0)) / shard_count.sum()
    dtype = shard_mean.dtype
    return {"mean": mean.astype(dtype), "var": var.astype(dtype)}


WORKERS = {
    "echo": {"forward_inference": echo},
    "without_var": {"forward_training": without_var},
    "raises": {"forward_inference": raises},
    "unimplemented": {"forward_inference": unimplemented},
    "writes_input": {"forward_inference": writes_input},
    "writes_through_torch": {"forward_inference": writes_through_torch},
    "reports_strides": {"forward_inference": reports_strides, "backward": reports_strides},
    "writes_x": {"forward_inference": writes_x},
    "dense_only": {"forward_inference": echo},
    "prints": {"forward_inference": prints},
    "unrounded": {"forward_inference": unrounded},
    "widened": {"forward_inference": widened},
    "logical_y": {"forward_inference": logical_y},
    "no_outputs": {"forward_inference": no_outputs},
    "extra_output": {"forward_inference": extra_output},
    "merge": {"merge_statistics": merge},
}

if __name__ == "__main__":
    bncheck.serve(**WORKERS[sys.argv[1]], name=sys.argv[1], strides=sys.argv[1] != "dense_only")

#!/usr/bin/python3
"""The numpy kernel of batch_norm.py as a worker of bncheck run:

    bncheck run --kernel 'exec:/usr/bin/python3 examples/numpy/kernel.py'

The same arithmetic (float64, two-pass variance of the data shifted by each
channel's first element, each output rounded once to its format), on the
arrays bncheck.serve hands over instead of .npy files.
"""
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "python"))     # the bncheck package, without installing it

import bncheck                                            # noqa: E402
import batch_norm                                         # noqa: E402  (this folder: the arithmetic)


def compute(problem, **arrays):
    """Every output of problem.op: the channel axis moved to the front, the
    data viewed as (C, M) in float64, the results rounded and moved back."""
    axis = problem.channel_axis
    moved = np.moveaxis(arrays["x"], axis, 0).shape
    inputs = {name: np.moveaxis(a, axis, 0).reshape(problem.c, -1).astype(np.float64) if a.ndim > 1
              else a.reshape(-1, 1).astype(np.float64) for name, a in arrays.items()}
    with np.errstate(all="ignore"):
        outputs = batch_norm.batch_norm(problem.op, inputs, problem.eps, problem.momentum, problem.profile)
    return {name: batch_norm.round_to(problem.data_type, np.moveaxis(v.reshape(moved), 0, axis))
            if name in ("y", "dx") else batch_norm.round_to(problem.param_type, v.reshape(-1))
            for name, v in outputs.items()}


def merge(problem, shard_count, shard_mean, shard_m2):
    """merge_statistics: the shards' statistics merged in float64, rounded once."""
    outputs = batch_norm.merge_statistics(shard_count, shard_mean, shard_m2, problem.eps)
    return {name: batch_norm.round_to(problem.param_type, v) for name, v in outputs.items()}


def main(name="numpy two-pass"):
    bncheck.serve(compute, compute, compute, merge_statistics=merge, name=name)


if __name__ == "__main__":
    main()

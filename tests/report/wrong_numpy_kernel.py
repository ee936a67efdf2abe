#!/usr/bin/python3
"""examples/numpy/batch_norm.py with a classic bug for the end-to-end test:
the variance as E[x^2] - E[x]^2 in float32, which cancels at large offsets."""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples" / "numpy"))
import batch_norm  # noqa: E402


def naive_moments(x):
    x32 = x.astype(np.float32)
    mean = x32.mean(axis=1, keepdims=True, dtype=np.float32)
    mean_square = (x32 * x32).mean(axis=1, keepdims=True, dtype=np.float32)
    return mean.astype(np.float64), (mean_square - mean * mean).astype(np.float64) * x.shape[1]


batch_norm.batch_moments = naive_moments
batch_norm.main(sys.argv)

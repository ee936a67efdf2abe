#!/usr/bin/python3
"""kernel.py with the classic bug: the variance as E[x²] − E[x]² in float32,
which cancels when the mean is large against the spread. bncheck must fail
it (the large-offset golden cases, the offset properties):

    bncheck run --kernel 'exec:/usr/bin/python3 examples/numpy/broken_kernel.py'
"""
import numpy as np

import batch_norm
import kernel


def naive_moments(x):
    """Per-channel mean and M2 = M·(E[x²] − E[x]²), all in float32."""
    x = x.astype(np.float32)
    mean = x.mean(axis=1, keepdims=True, dtype=np.float32)
    m2 = ((x * x).mean(axis=1, keepdims=True, dtype=np.float32) - mean * mean) * np.float32(x.shape[1])
    return mean.astype(np.float64), m2.astype(np.float64)


if __name__ == "__main__":
    batch_norm.batch_moments = naive_moments     # batch_norm.batch_norm looks it up at each call
    kernel.main(name="numpy E[x^2]-E[x]^2 (broken)")

#!/usr/bin/python3
"""Batch normalization in numpy, as a kernel that bncheck judges through files.

    build/cli/bncheck export --golden golden/cases --out /tmp/bn
    /usr/bin/python3 examples/numpy/batch_norm.py /tmp/bn
    build/cli/bncheck judge --in /tmp/bn

bncheck export writes one folder per case holding problem.txt (the problem in
bncheck's text form), outputs.txt (the outputs to write, one name a line) and
the inputs as .npy. This script writes every output outputs.txt names as
<name>.npy in the case's storage format. It computes in float64 with a
shifted two-pass variance and rounds each output once.
"""
import pathlib
import sys

import numpy as np

# Precision (bits) and smallest normal exponent of the narrow formats.
FORMATS = {"f16": (11, -14, 15), "bf16": (8, -126, 127)}


def round_to(fmt, v):
    """v (float64) rounded once, ties to even, to format fmt, as the numpy
    array that stores it (bf16 is stored as float32, as bncheck expects)."""
    v = np.asarray(v, dtype=np.float64)
    if fmt == "f64":
        return v
    if fmt == "f32":
        return v.astype(np.float32)
    p, emin, emax = FORMATS[fmt]
    with np.errstate(all="ignore"):
        _, e = np.frexp(v)                      # v = m 2^e with 0.5 <= |m| < 1
        q = np.ldexp(1.0, np.maximum(e - 1, emin) - (p - 1))  # the format's spacing at v
        r = np.where(np.isfinite(v), np.round(v / q) * q, v)
        largest = (2 - 2.0 ** (1 - p)) * 2.0 ** emax
        r = np.where(np.abs(r) > largest, np.copysign(np.inf, r), r)
    return r.astype(np.float16 if fmt == "f16" else np.float32)


def parse_problem(text):
    """op, layout, data format, parameter format, eps, momentum, profile."""
    tokens = text.split()
    data_fmt, param_fmt = tokens[2].split(":")
    options = dict(t.split("=", 1) for t in tokens[3:] if "=" in t)
    return (tokens[0], tokens[1], data_fmt, param_fmt, float(options["eps"]),
            float(options["momentum"]), options["profile"])


def batch_moments(x):
    """Per-channel mean and sum of squared deviations (M2) of x, shaped
    (channels, reduction): two passes over x shifted by each channel's first
    element, so a constant channel gives M2 = 0 exactly (and y = beta)."""
    k = x[:, :1]
    mean = k + (x - k).mean(axis=1, keepdims=True)
    xc = x - mean
    return mean, (xc * xc).sum(axis=1, keepdims=True)


def batch_norm(op, inputs, eps, m, profile):
    """Every output of op in float64. Data arrays are (C, M): channels by the
    reduction; per-channel ones (C, 1)."""
    x, g = inputs["x"], inputs["gamma"]
    M = x.shape[1]
    if op == "forward_training":
        mean, m2 = batch_moments(x)
        var = m2 / M
        invstd = 1 / np.sqrt(var + eps)
        y = (x - mean) * (g * invstd) + inputs["beta"]
        rm, rv = inputs["running_mean"], inputs["running_var"]
        if profile == "onnx":
            rm, rv = m * rm + (1 - m) * mean, m * rv + (1 - m) * var
        else:
            unbiased = m2 / (M - 1) if M > 1 else np.full_like(m2, np.nan)
            rm, rv = (1 - m) * rm + m * mean, (1 - m) * rv + m * unbiased
        return {"y": y, "mean": mean, "var": var, "invstd": invstd, "running_mean": rm, "running_var": rv}
    if op == "forward_inference":
        scale = g * (1 / np.sqrt(inputs["running_var"] + eps))
        return {"y": (x - inputs["running_mean"]) * scale + inputs["beta"]}
    # backward, with the saved mean and invstd: xhat = (x - mean) invstd,
    # dx = gamma invstd (dy - sum(dy)/M - xhat sum(dy xhat)/M)
    dy, mean, invstd = inputs["dy"], inputs["mean"], inputs["invstd"]
    xc = x - mean
    dbeta = dy.sum(axis=1, keepdims=True)
    dgamma = (dy * xc).sum(axis=1, keepdims=True) * invstd
    dx = (g * invstd) * ((dy - dbeta / M) - xc * ((invstd * dgamma) / M))
    return {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}


def merge_statistics(count, mean, m2, eps):
    """Shards' (count, mean, M2) per channel merged into the batch's mean, var,
    invstd, in float64: the weighted mean, then the shards' M2 plus the spread
    of their means around it (SyncBatchNorm's gather)."""
    n = np.asarray(count, dtype=np.float64)[:, None]
    mean, m2 = np.asarray(mean, dtype=np.float64), np.asarray(m2, dtype=np.float64)
    merged = (n * mean).sum(axis=0) / n.sum()
    var = (m2.sum(axis=0) + (n * (mean - merged) ** 2).sum(axis=0)) / n.sum()
    with np.errstate(divide="ignore"):
        return {"mean": merged, "var": var, "invstd": 1 / np.sqrt(var + eps)}


def run_case(folder):
    op, layout, data_fmt, param_fmt, eps, m, profile = parse_problem((folder / "problem.txt").read_text())
    arrays = {f.stem: np.load(f).astype(np.float64) for f in folder.glob("*.npy")}
    if op == "merge_statistics":
        merged = merge_statistics(arrays["shard_count"], arrays["shard_mean"], arrays["shard_m2"], eps)
        for name in (folder / "outputs.txt").read_text().split():
            np.save(folder / f"{name}.npy", round_to(param_fmt, merged[name]))
        return
    # The channel axis: 1 for nc, nchw, ncdhw; the last for nhwc, ndhwc.
    axis = 1 if layout in ("nc", "nchw", "ncdhw") else arrays["x"].ndim - 1
    moved = np.moveaxis(arrays["x"], axis, 0).shape      # (C, N, ...) for the way back
    inputs = {name: np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1) if a.ndim > 1 else a.reshape(-1, 1)
              for name, a in arrays.items()}
    with np.errstate(all="ignore"):
        outputs = batch_norm(op, inputs, eps, m, profile)
    for name in (folder / "outputs.txt").read_text().split():
        if name in ("y", "dx"):
            value, fmt = np.moveaxis(outputs[name].reshape(moved), 0, axis), data_fmt
        else:
            value, fmt = outputs[name].reshape(-1), param_fmt
        np.save(folder / f"{name}.npy", round_to(fmt, value))


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} EXPORT_FOLDER")
    cases = sorted(pathlib.Path(argv[1]).glob("*/problem.txt"))
    for problem_file in cases:
        run_case(problem_file.parent)
    print(f"wrote the outputs of {len(cases)} cases")


if __name__ == "__main__":
    main(sys.argv)

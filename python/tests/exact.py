"""Batch norm computed exactly for the tests, independently of the kernels:
sums as Fractions, the one square root in 50-digit Decimal."""
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np


def dec(q):
    return Decimal(q.numerator) / Decimal(q.denominator)


def invstd(var_plus_eps):
    with localcontext() as ctx:
        ctx.prec = 50
        return 1 / dec(var_plus_eps).sqrt()


def channels(x, layout):
    """The data's channels as lists of Fractions, whatever the layout."""
    axis = 1 if layout in ("nc", "nchw", "ncdhw") else x.ndim - 1
    moved = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    return [[Fraction(float(v)) for v in row.ravel()] for row in moved]


def to_layout(values, x, layout):
    """Per-channel lists (as channels() gives them) back to an array shaped as x."""
    axis = 1 if layout in ("nc", "nchw", "ncdhw") else x.ndim - 1
    moved_shape = np.moveaxis(np.empty(x.shape), axis, 0).shape
    return np.moveaxis(np.array(values, dtype=object).reshape(moved_shape), 0, axis)


def forward_training(x, layout, gamma, beta, running_mean, running_var, eps, momentum, profile):
    """Every output, as Decimals (per-channel lists; y shaped as x)."""
    eps, m = Fraction(eps), Fraction(momentum)
    out = {k: [] for k in ("y", "mean", "var", "invstd", "running_mean", "running_var")}
    for c, row in enumerate(channels(x, layout)):
        M = len(row)
        mean = sum(row) / M
        m2 = sum((v - mean) ** 2 for v in row)
        s = invstd(m2 / M + eps)
        g, b = dec(Fraction(float(gamma[c]))), dec(Fraction(float(beta[c])))
        out["y"].append([dec(v - mean) * g * s + b for v in row])
        rm, rv = Fraction(float(running_mean[c])), Fraction(float(running_var[c]))
        if profile == "onnx":
            rm, rv = m * rm + (1 - m) * mean, m * rv + (1 - m) * m2 / M
        else:
            rm, rv = (1 - m) * rm + m * mean, (1 - m) * rv + m * m2 / (M - 1)
        for k, v in (("mean", mean), ("var", m2 / M), ("invstd", s), ("running_mean", rm), ("running_var", rv)):
            out[k].append(v if isinstance(v, Decimal) else dec(v))
    out["y"] = to_layout(out["y"], x, layout)
    return out


def forward_inference(x, layout, gamma, beta, running_mean, running_var, eps):
    ys = []
    for c, row in enumerate(channels(x, layout)):
        s = invstd(Fraction(float(running_var[c])) + Fraction(eps))
        g, b, rm = (Fraction(float(a[c])) for a in (gamma, beta, running_mean))
        ys.append([dec(v - rm) * dec(g) * s + dec(b) for v in row])
    return {"y": to_layout(ys, x, layout)}


def backward(x, layout, gamma, dy, mean, invstd_saved):
    """From the saved mean and invstd: all rational, exact."""
    out = {"dx": [], "dgamma": [], "dbeta": []}
    for c, (row, drow) in enumerate(zip(channels(x, layout), channels(dy, layout))):
        M = len(row)
        mu, s, g = (Fraction(float(a[c])) for a in (mean, invstd_saved, gamma))
        xc = [v - mu for v in row]
        dbeta = sum(drow)
        dgamma = sum(d * v for d, v in zip(drow, xc)) * s
        out["dx"].append([dec(g * s * (d - dbeta / M - v * s * dgamma / M)) for d, v in zip(drow, xc)])
        out["dgamma"].append(dec(dgamma))
        out["dbeta"].append(dec(dbeta))
    out["dx"] = to_layout(out["dx"], x, layout)
    return out


def spacing(exact, fmt):
    """The spacing of format fmt's numbers at the value exact (a float)."""
    if fmt == "bf16":
        return 2.0 ** (np.floor(np.log2(np.maximum(np.abs(exact), 2.0 ** -126))) - 7)
    return np.abs(np.spacing(np.abs(exact).astype({"f64": np.float64, "f32": np.float32, "f16": np.float16}[fmt]))
                  ).astype(np.float64)


def ulps(got, exact, fmt):
    """|got − exact| in units of fmt's spacing at exact, elementwise."""
    exact = np.array(exact, dtype=object).astype(np.float64)
    return np.abs(np.asarray(got, dtype=np.float64) - exact) / spacing(exact, fmt)

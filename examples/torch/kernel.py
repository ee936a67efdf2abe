#!/usr/bin/python3
"""PyTorch's CPU batch norm (Debian's python3-torch 1.13) as a worker:

    bncheck run --kernel 'exec:/usr/bin/python3 examples/torch/kernel.py'

The same library as the libtorch adapter (adapters/libtorch/libtorch_kernel.cpp)
through another route, asked exactly what the adapter asks, op by op, so the
two reach the same verdicts: the same aten operators and arguments, nhwc and
ndhwc as channels_last tensors, the same formats answered unimplemented, var
not produced, BNCHECK_THREADS threads (default 2). Like the adapter, it
takes data tensors in any storage (x_storage ...: "strides" in its hello),
and PyTorch gets them as the non-contiguous tensors they are (torch.from_numpy
of serve's strided views); with --dense it takes dense tensors only, and such
problems are skipped:

    bncheck run --kernel 'exec:/usr/bin/python3 examples/torch/kernel.py --dense'
"""
import os
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent.parent / "python"))
import bncheck                                            # noqa: E402
from bncheck import Unimplemented, from_torch, to_torch   # noqa: E402


def thread_count():
    """BNCHECK_THREADS if it is a positive integer (below 4096), else 2: the adapter's rule."""
    try:
        n = int(os.environ.get("BNCHECK_THREADS", ""))
    except ValueError:
        return 2
    return n if 0 < n < 4096 else 2


def check_formats(problem):
    """libtorch 1.13's CPU batch norm takes f32:f32, f64:f64 or bf16:f32; f16 has no CPU kernel."""
    if (problem.data_type, problem.param_type) not in (("f32", "f32"), ("f64", "f64"), ("bf16", "f32")):
        raise Unimplemented("libtorch: the CPU batch norm of libtorch 1.13 takes f32:f32, f64:f64 or bf16:f32 "
                            f"(data:parameters), not {problem.data_type}:{problem.param_type}")


def forward_training(problem, x, gamma, beta, running_mean, running_var):
    """native_batch_norm(training): y, save_mean and save_invstd = 1/sqrt(var + eps); it updates the
    running statistics in place (on copies here: the inputs are read-only). PyTorch saves no variance."""
    check_formats(problem)
    if problem.profile == "onnx":
        raise Unimplemented("libtorch: PyTorch updates the running statistics with the pytorch profile's formulas "
                            "(momentum on the batch statistic, unbiased variance), not onnx's")
    rm, rv = torch.from_numpy(running_mean.copy()), torch.from_numpy(running_var.copy())
    y, mean, invstd = torch.ops.aten.native_batch_norm(to_torch(x, problem), to_torch(gamma), to_torch(beta),
                                                       rm, rv, True, problem.momentum, problem.eps)
    return {"y": from_torch(y, problem), "mean": mean, "invstd": invstd, "running_mean": rm, "running_var": rv}


def forward_inference(problem, x, gamma, beta, running_mean, running_var):
    check_formats(problem)
    y, _, _ = torch.ops.aten.native_batch_norm(to_torch(x, problem), to_torch(gamma), to_torch(beta),
                                               to_torch(running_mean), to_torch(running_var), False,
                                               problem.momentum, problem.eps)
    return {"y": from_torch(y, problem)}


def backward(problem, x, gamma, dy, mean, var, invstd):
    """train=True: the gradient through the batch statistics, from the saved mean and invstd (var unused)."""
    check_formats(problem)
    dx, dgamma, dbeta = torch.ops.aten.native_batch_norm_backward(
        to_torch(dy, problem), to_torch(x, problem), to_torch(gamma), None, None, to_torch(mean),
        to_torch(invstd), True, problem.eps, [True, True, True])
    return {"dx": from_torch(dx, problem), "dgamma": dgamma, "dbeta": dbeta}


if __name__ == "__main__":
    torch.set_num_threads(thread_count())
    bncheck.serve(forward_training, forward_inference, backward, name=f"PyTorch {torch.__version__} CPU",
                  strides="--dense" not in sys.argv[1:])

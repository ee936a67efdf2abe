"""examples/torch/kernel.py through the fake driver: the bits PyTorch gives
when called directly the way the libtorch adapter calls it, and the
adapter's unimplemented formats and profile, var not produced."""
import numpy as np
import pytest

from driver import Worker, problem, stored
from test_protocol import forward_inputs, values, with_storages

torch = pytest.importorskip("torch", reason="python3-torch is not installed: no PyTorch worker to test")


@pytest.fixture(scope="module")
def torch_kernel():
    # PyTorch's reductions depend on its thread count: the worker's (BNCHECK_THREADS unset: 2) here too.
    torch.set_num_threads(2)
    worker = Worker("python", "examples/torch/kernel.py")
    yield worker
    status, stderr = worker.close()
    assert status == 0, stderr


def logical(array, layout, dtype=None):
    """array (memory order) as PyTorch's (N, C, ...) tensor with the layout's
    strides, built here independently of bncheck.to_torch."""
    t = torch.tensor(np.asarray(array))
    if layout in ("nhwc", "ndhwc"):
        t = t.permute(0, t.dim() - 1, *range(1, t.dim() - 1))
        assert t.is_contiguous(memory_format=torch.channels_last if t.dim() == 4 else torch.channels_last_3d)
    return t if dtype is None else t.to(dtype)


def memory(t, layout):
    if layout in ("nhwc", "ndhwc"):
        t = t.permute(0, *range(2, t.dim()), 1)
    return t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()


@pytest.mark.parametrize("layout,data_type,param_type", [("nchw", "f32", "f32"), ("nhwc", "f32", "f32"),
                                                         ("ndhwc", "bf16", "f32"), ("nc", "f64", "f64")])
def test_training_gives_pytorchs_own_bits_and_no_var(torch_kernel, layout, data_type, param_type):
    p = problem("forward_training", layout, data_type, param_type, 3, 4, d=2, h=3, w=2)
    inputs = forward_inputs(np.random.default_rng(11), p, offset=5.0)
    header, out = torch_kernel.run(p, inputs)
    assert header["type"] == "done" and header["not_produced"] == ["var"], header
    a = values(inputs)
    rm, rv = torch.tensor(a["running_mean"]), torch.tensor(a["running_var"])
    y, mean, invstd = torch.ops.aten.native_batch_norm(
        logical(a["x"], layout, torch.bfloat16 if data_type == "bf16" else None), torch.tensor(a["gamma"]),
        torch.tensor(a["beta"]), rm, rv, True, p["momentum"], p["eps"])
    got_y = (out["y"].astype(np.uint32) << 16).view(np.float32) if data_type == "bf16" else out["y"]
    assert np.array_equal(got_y, memory(y, layout))
    for name, want in (("mean", mean), ("invstd", invstd), ("running_mean", rm), ("running_var", rv)):
        assert np.array_equal(out[name], want.numpy()), name
    assert not np.array_equal(out["running_mean"], a["running_mean"]), "the running mean moved"


def test_backward_gives_pytorchs_own_bits(torch_kernel):
    rng = np.random.default_rng(4)
    p = problem("backward", "nhwc", "f32", "f32", 2, 3, h=3, w=3)
    x, dy = (rng.standard_normal((2, 3, 3, 3)).astype(np.float32) for _ in range(2))
    gamma, mean = np.float32([1, 2, 0.5]), x.reshape(-1, 3).mean(axis=0).astype(np.float32)
    var = x.reshape(-1, 3).var(axis=0).astype(np.float32)
    invstd = (1 / np.sqrt(var + 1e-5)).astype(np.float32)
    header, out = torch_kernel.run(p, {"x": ("f32", x), "gamma": ("f32", gamma), "dy": ("f32", dy),
                                       "mean": ("f32", mean), "var": ("f32", var), "invstd": ("f32", invstd)})
    assert header["type"] == "done", header
    dx, dgamma, dbeta = torch.ops.aten.native_batch_norm_backward(
        logical(dy, "nhwc"), logical(x, "nhwc"), torch.tensor(gamma), None, None, torch.tensor(mean),
        torch.tensor(invstd), True, 1e-5, [True, True, True])
    assert np.array_equal(out["dx"], memory(dx, "nhwc"))
    assert np.array_equal(out["dgamma"], dgamma.numpy()) and np.array_equal(out["dbeta"], dbeta.numpy())


@pytest.mark.parametrize("op,data_type,param_type,profile,reason", [
    ("forward_inference", "f16", "f32", "pytorch", "takes f32:f32, f64:f64 or bf16:f32 (data:parameters), not f16:f32"),
    ("backward", "f32", "f64", "pytorch", "not f32:f64"),
    ("forward_training", "f32", "f32", "onnx", "not onnx's")])
def test_what_the_adapter_leaves_unimplemented(torch_kernel, op, data_type, param_type, profile, reason):
    p = problem(op, "nchw", data_type, param_type, 2, 3, h=2, w=2, profile=profile)
    inputs = forward_inputs(np.random.default_rng(1), p)
    if op == "backward":
        inputs = {"x": inputs["x"], "gamma": inputs["gamma"], "dy": inputs["x"], "mean": inputs["running_mean"],
                  "var": inputs["running_var"], "invstd": inputs["running_var"]}
    header, _ = torch_kernel.run(p, inputs)
    assert header["type"] == "unimplemented" and reason in header["reason"], header


def test_strides_unless_dense_is_asked_as_the_adapter_takes_them(torch_kernel):
    assert torch_kernel.strides is True
    dense = Worker("python", "examples/torch/kernel.py", "--dense")
    assert dense.strides is False
    assert dense.close()[0] == 0


def test_with_strides_backward_takes_x_in_another_format_than_dy():
    """x stored nchw under an nhwc problem reaches PyTorch as a contiguous NCHW
    tensor beside a channels_last dy (the mix of PyTorch #64039): its answer
    is PyTorch's own for exactly those tensors."""
    strided = Worker("python", "examples/torch/kernel.py")
    rng = np.random.default_rng(6)
    p = with_storages(problem("backward", "nhwc", "f32", "f32", 2, 3, h=3, w=4), x=("nchw", 3, 0))
    x, dy = (rng.standard_normal((2, 3, 4, 3)).astype(np.float32) for _ in range(2))
    gamma, mean = np.float32([1, 2, 0.5]), x.reshape(-1, 3).mean(axis=0).astype(np.float32)
    invstd = (1 / np.sqrt(x.reshape(-1, 3).var(axis=0) + 1e-5)).astype(np.float32)
    header, out = strided.run(p, {"x": ("f32", stored(x, "nhwc", "nchw")), "gamma": ("f32", gamma),
                                  "dy": ("f32", dy), "mean": ("f32", mean), "var": ("f32", invstd),
                                  "invstd": ("f32", invstd)})
    assert strided.close()[0] == 0
    assert header["type"] == "done", header
    x_nchw = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    assert x_nchw.is_contiguous()
    dx, dgamma, dbeta = torch.ops.aten.native_batch_norm_backward(
        logical(dy, "nhwc"), x_nchw, torch.tensor(gamma), None, None, torch.tensor(mean), torch.tensor(invstd),
        True, 1e-5, [True, True, True])
    assert np.array_equal(out["dx"], memory(dx, "nhwc"))
    assert np.array_equal(out["dgamma"], dgamma.numpy()) and np.array_equal(out["dbeta"], dbeta.numpy())

"""The Python worker side of docs/protocol.md, driven by a fake bncheck
(driver.py): the numpy example kernel against exact results, and the
package's handling of formats, missing outputs, errors and a noisy kernel."""
import os
import struct

import numpy as np
import pytest

import exact
from driver import Worker, merge_problem, problem

NUMPY_KERNEL = ("python", "examples/numpy/kernel.py")
WORKERS = ("python", os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers.py"))


def bf16_round(values):
    """float32 values rounded to the nearest bf16 (ties to even), as float32."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32)


def forward_inputs(rng, p, offset=0.0, scale=1.0):
    shape = [{"n": p["n"], "c": p["c"], "d": p["d"], "h": p["h"], "w": p["w"]}[k] for k in p["layout"]]
    x = (offset + scale * rng.standard_normal(shape)).astype(np.float32)
    if p["data_type"] == "bf16":
        x = bf16_round(x)
    pt = {"f32": np.float32, "f64": np.float64}[p["param_type"]]
    c = p["c"]
    x = x.astype({"f64": np.float64, "f16": np.float16}.get(p["data_type"], np.float32))
    return {"x": (p["data_type"], x),
            "gamma": (p["param_type"], rng.uniform(0.5, 2, c).astype(pt)),
            "beta": (p["param_type"], rng.uniform(-1, 1, c).astype(pt)),
            "running_mean": (p["param_type"], rng.uniform(-1, 1, c).astype(pt)),
            "running_var": (p["param_type"], rng.uniform(0.5, 2, c).astype(pt))}


def values(inputs):
    return {k: a for k, (_, a) in inputs.items()}


@pytest.fixture
def numpy_kernel():
    worker = Worker(*NUMPY_KERNEL)
    yield worker
    status, stderr = worker.close()
    assert status == 0, stderr


def worker(name):
    return Worker(WORKERS[0], WORKERS[1], name)


@pytest.mark.parametrize("layout,sizes", [("nchw", dict(n=2, c=3, h=3, w=2)), ("nhwc", dict(n=2, c=3, h=3, w=2)),
                                          ("ndhwc", dict(n=2, c=2, d=2, h=2, w=3)), ("nc", dict(n=7, c=4))])
@pytest.mark.parametrize("profile", ["pytorch", "onnx"])
def test_numpy_kernel_forward_training_is_within_an_ulp_of_exact(numpy_kernel, layout, sizes, profile):
    p = problem("forward_training", layout, "f32", "f32", **sizes, profile=profile)
    inputs = forward_inputs(np.random.default_rng(7), p, offset=100.0)
    header, out = numpy_kernel.run(p, inputs)
    assert header["type"] == "done" and "not_produced" not in header, header
    want = exact.forward_training(**values(inputs), layout=layout, eps=p["eps"],
                                  momentum=p["momentum"], profile=profile)
    assert out["y"].dtype == np.float32 and out["y"].shape == values(inputs)["x"].shape
    for name, expected in want.items():
        assert out[name].dtype == np.float32
        assert exact.ulps(out[name], expected, "f32").max() <= 1, name


def test_numpy_kernel_backward_is_within_an_ulp_of_exact(numpy_kernel):
    rng = np.random.default_rng(3)
    p = problem("backward", "nhwc", "f32", "f32", 3, 2, h=2, w=2)
    x = rng.standard_normal((3, 2, 2, 2)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    mean = x.reshape(-1, 2).mean(axis=0).astype(np.float32)
    invstd = (1 / np.sqrt(x.reshape(-1, 2).var(axis=0) + 1e-5)).astype(np.float32)
    gamma = np.array([0.5, 2], np.float32)
    var = x.reshape(-1, 2).var(axis=0).astype(np.float32)
    header, out = numpy_kernel.run(p, {"x": ("f32", x), "gamma": ("f32", gamma), "dy": ("f32", dy),
                                       "mean": ("f32", mean), "var": ("f32", var), "invstd": ("f32", invstd)})
    assert header["type"] == "done", header
    want = exact.backward(x, "nhwc", gamma, dy, mean, invstd)
    for name in ("dx", "dgamma", "dbeta"):
        assert exact.ulps(out[name], want[name], "f32").max() <= 1, name


@pytest.mark.parametrize("data_type", ["f16", "bf16"])
def test_numpy_kernel_narrow_data_rounds_y_to_its_format(numpy_kernel, data_type):
    p = problem("forward_inference", "nchw", data_type, "f32", 2, 3, h=2, w=4)
    inputs = forward_inputs(np.random.default_rng(5), p)
    header, out = numpy_kernel.run(p, inputs)
    assert header["type"] == "done", header
    assert header["outputs"][0]["dtype"] == data_type and header["outputs"][0]["nbytes"] == 2 * 2 * 3 * 2 * 4
    y = out["y"].astype(np.float32) if data_type == "f16" else (out["y"].astype(np.uint32) << 16).view(np.float32)
    want = exact.forward_inference(**values(inputs), layout="nchw", eps=p["eps"])["y"]
    assert exact.ulps(y, want, data_type).max() <= 0.5 + 1e-6


def test_numpy_kernel_bf16_training_reads_the_bit_patterns(numpy_kernel):
    p = problem("forward_training", "nhwc", "bf16", "f32", 2, 3, h=2, w=2)
    inputs = forward_inputs(np.random.default_rng(9), p, offset=3.0)
    header, out = numpy_kernel.run(p, inputs)
    want = exact.forward_training(**values(inputs), layout="nhwc", eps=p["eps"], momentum=p["momentum"],
                                  profile="pytorch")
    assert exact.ulps(out["mean"], want["mean"], "f32").max() <= 1
    assert exact.ulps((out["y"].astype(np.uint32) << 16).view(np.float32), want["y"], "bf16").max() <= 0.5 + 1e-6


def test_broken_kernel_loses_the_variance_at_a_large_offset():
    broken = Worker("python", "examples/numpy/broken_kernel.py")
    p = problem("forward_training", "nchw", "f32", "f32", 4, 3, h=5, w=5)
    inputs = forward_inputs(np.random.default_rng(31), p, offset=1e4)
    header, out = broken.run(p, inputs)
    assert broken.close()[0] == 0
    want = exact.forward_training(**values(inputs), layout="nchw", eps=p["eps"], momentum=p["momentum"],
                                  profile="pytorch")
    err = exact.ulps(out["var"], want["var"], "f32")
    assert not np.all(err <= 1000), err          # cancellation: thousands of ulps, or NaN


@pytest.mark.parametrize("data_type,bits", [
    ("f16", [0x0000, 0x8000, 0x0001, 0x03FF, 0x3C00, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0xC170]),
    ("bf16", [0x0000, 0x8000, 0x0001, 0x007F, 0x3F80, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0xC170])])
def test_narrow_formats_round_trip_bit_exactly(data_type, bits):
    echo = worker("echo")
    p = problem("forward_inference", "nc", data_type, "f32", 2, 5)
    raw = np.array(bits, np.uint16).reshape(2, 5)
    x = raw.view(np.float16) if data_type == "f16" else (raw.astype(np.uint32) << 16).view(np.float32)
    c = np.ones(5, np.float32)
    header, out = echo.run(p, {"x": (data_type, x), "gamma": ("f32", c), "beta": ("f32", c),
                               "running_mean": ("f32", c), "running_var": ("f32", c)})
    assert header["type"] == "done", header
    assert out["y"].view(np.uint16).tolist() == raw.tolist()
    assert echo.close()[0] == 0


def inference_request(name, layout="nchw", data_type="f32"):
    """A worker from workers.py and its answer to a small forward_inference."""
    w = worker(name)
    p = problem("forward_inference", layout, data_type, "f32", 2, 3, h=2, w=2)
    header, out = w.run(p, forward_inputs(np.random.default_rng(1), p))
    return w, header, out


def test_an_omitted_optional_output_is_declared_not_produced():
    w = worker("without_var")
    p = problem("forward_training", "nchw", "f32", "f32", 2, 3, h=2, w=2)
    header, out = w.run(p, forward_inputs(np.random.default_rng(1), p))
    assert header["type"] == "done" and header["not_produced"] == ["var"]
    assert sorted(out) == ["invstd", "mean", "running_mean", "running_var", "y"]
    assert w.close()[0] == 0


def test_a_missing_function_is_unimplemented():
    w = worker("echo")
    p = problem("backward", "nchw", "f32", "f32", 2, 3, h=2, w=2)
    header, _ = w.run(p, {})
    assert header == {"type": "unimplemented", "id": 1, "reason": "no backward function"}


def test_merge_statistics_carries_the_shards_and_may_leave_out_invstd():
    w = worker("merge")
    p = merge_problem("f64", [1, 3], 1)
    # shards {0} and {2, 4, 6}: means 0 and 4, M2 0 and 8; the batch {0, 2, 4, 6} has mean 3, var 5
    inputs = {"shard_count": ("f64", np.array([1.0, 3.0])), "shard_mean": ("f64", np.array([[0.0], [4.0]])),
              "shard_m2": ("f64", np.array([[0.0], [8.0]]))}
    header, out = w.run(p, inputs, [("mean", "f64", [1]), ("var", "f64", [1]), ("invstd", "f64", [1])])
    assert header["type"] == "done" and header["not_produced"] == ["invstd"]
    assert out["mean"].tolist() == [3.0] and out["var"].tolist() == [5.0]
    assert w.close()[0] == 0


def test_a_worker_without_a_merge_function_answers_it_unimplemented():
    w = worker("echo")
    header, _ = w.run(merge_problem("f32", [1, 1000000], 2), {})
    assert header == {"type": "unimplemented", "id": 1, "reason": "no merge_statistics function"}


def test_raising_unimplemented_is_unimplemented_with_the_reason():
    _, header, _ = inference_request("unimplemented", data_type="f16")
    assert header["type"] == "unimplemented" and header["reason"] == "f16 is not supported"


def test_an_exception_is_an_error_reply_and_the_traceback_goes_to_stderr():
    w, header, _ = inference_request("raises")
    assert header["type"] == "error"
    assert "ZeroDivisionError: division by zero" in header["message"] and "workers.py" in header["message"]
    again = problem("forward_inference", "nchw", "f32", "f32", 1, 1, h=1, w=2)
    header, _ = w.run(again, forward_inputs(np.random.default_rng(2), again))
    assert header["type"] == "error" and header["id"] == 2, "the worker goes on after an error"
    status, stderr = w.close()
    assert status == 0 and "Traceback" in stderr and "1 / 0" in stderr


def test_writing_into_an_input_is_an_error_naming_it():
    _, header, _ = inference_request("writes_input")
    assert header["type"] == "error"
    assert "input beta" in header["message"] and "read-only" in header["message"], header


def test_writing_into_an_input_through_torch_is_an_error_naming_it():
    pytest.importorskip("torch")
    _, header, _ = inference_request("writes_through_torch")
    assert header["type"] == "error" and "input x" in header["message"], header


def test_prints_go_to_stderr_not_into_the_channel():
    w, header, out = inference_request("prints")
    assert header["type"] == "done" and out["y"].shape == (2, 3, 2, 2)
    status, stderr = w.close()
    assert status == 0
    for text in ("a print inside the kernel", "a write to fd 1, as C code does"):
        assert text in stderr


@pytest.mark.parametrize("data_type,expected", [("f32", "y is float64, expected f32: round it to f32"),
                                                ("bf16", "not bf16 numbers, expected bf16")])
def test_an_unrounded_output_is_an_error_not_rounded_silently(data_type, expected):
    _, header, _ = inference_request("unrounded", data_type=data_type)
    assert header["type"] == "error" and expected in header["message"], header


def test_a_wider_array_holding_exact_values_is_accepted():
    _, header, out = inference_request("widened")
    assert header["type"] == "done" and out["y"].dtype == np.float32


@pytest.mark.parametrize("name,expected", [
    ("logical_y", "y has shape [2, 3, 2, 2], expected [2, 2, 2, 3]"),
    ("no_outputs", "returned no y"),
    ("extra_output", "unknown output z")])
def test_a_wrong_missing_or_unknown_output_is_an_error(name, expected):
    _, header, _ = inference_request(name, layout="nhwc")
    assert header["type"] == "error" and expected in header["message"], header


def test_hello_names_the_kernel_and_bye_exits_0(numpy_kernel):
    assert numpy_kernel.kernel == "numpy two-pass"


def test_end_of_input_exits_0():
    w = worker("echo")
    assert w.close(bye=False)[0] == 0


def test_another_protocol_is_an_error_and_exit_1():
    w = Worker(*WORKERS, "echo", hello=False)
    header, _ = w.exchange({"type": "hello", "protocol": 2, "bncheck": "9.0"})
    assert header["type"] == "error" and "protocol 1" in header["message"]
    assert w.proc.wait(timeout=30) == 1


def test_a_truncated_frame_exits_1_saying_why():
    w = worker("echo")
    w.proc.stdin.write(struct.pack("<I", 100) + b'{"type"')
    status, stderr = w.close(bye=False)
    assert status == 1 and "end of input" in stderr

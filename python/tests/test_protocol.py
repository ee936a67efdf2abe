"""The Python worker side of docs/protocol.md, driven by a fake bncheck
(driver.py): the numpy example kernel against exact results, and the
package's handling of formats, missing outputs, errors and a noisy kernel."""
import json
import os
import struct
import sys

import numpy as np
import pytest

import exact
from driver import Stored, Worker, merge_problem, problem, stored

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from bncheck import arrays  # noqa: E402

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


# Inputs in a storage (docs/protocol.md, "Inputs in a storage").

def with_storages(p, **storages):
    """p with data tensors in storages, name=(format, channels, first): its
    "storages" object as bncheck sends it, and the text form."""
    p = dict(p, storages={n: {"format": f, "channels": c, "first": first} for n, (f, c, first) in storages.items()})
    for n, (f, c, first) in storages.items():
        p["text"] += f" {n}_storage={f}" + (f",slice={first}/{c}" if c != p["c"] else "")
    return p


def test_serve_says_strides_in_its_hello_unless_told_not_to(numpy_kernel):
    assert numpy_kernel.strides is True
    w = worker("dense_only")
    assert w.strides is False
    assert w.close()[0] == 0


def test_decode_strided_is_a_read_only_view_of_the_allocation_at_the_offset():
    x = np.arange(2 * 3 * 4 * 3, dtype=np.float32).reshape(2, 3, 4, 3)             # nhwc
    s = stored(x, "nhwc", "nchw", channels=5, first=1)
    assert s.strides == [60, 4, 1, 12] and s.offset == 12 and s.allocation.size == 120
    payload = memoryview(s.allocation.tobytes()).toreadonly()
    v = arrays.decode_strided("f32", tuple(s.shape), tuple(s.strides), s.offset, payload)
    assert np.array_equal(v, x) and v.strides == (240, 16, 4, 48)
    assert not v.flags.writeable and not v.flags.c_contiguous and not v.flags.owndata
    with pytest.raises(ValueError):
        v.flags.writeable = True
    assert np.shares_memory(v, np.frombuffer(payload, dtype=np.float32))              # a view, not a copy
    with pytest.raises(ValueError, match="outside"):
        arrays.decode_strided("f32", tuple(s.shape), tuple(s.strides), s.offset + 49, payload)
    with pytest.raises(ValueError, match="do not fit"):
        arrays.decode_strided("f32", tuple(s.shape), (60, 4, 1), s.offset, payload)


def test_decode_strided_widens_bf16_keeping_the_strides():
    raw = np.array([0x3F80, 0xC170, 0x7FC0, 0x0001, 0x7F7F, 0x8000], np.uint16)   # 1, -15, NaN, tiny, max, -0
    v = arrays.decode_strided("bf16", (2, 2), (3, 1), 1, memoryview(raw.tobytes()))
    bits = (raw.astype(np.uint32) << 16).view(np.float32)
    assert v.dtype == np.float32 and v.strides == (12, 4) and not v.flags.writeable
    assert v.view(np.uint32).tolist() == bits[[1, 2, 4, 5]].reshape(2, 2).view(np.uint32).tolist()


def backward_inputs(rng, shape, channel_axis):
    x = rng.standard_normal(shape).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    flat = np.moveaxis(x, channel_axis, 0).reshape(shape[channel_axis], -1).astype(np.float64)
    mean, var = flat.mean(axis=1), flat.var(axis=1)
    return x, dy, {"gamma": ("f32", np.linspace(0.5, 2, shape[channel_axis], dtype=np.float32)),
                   "mean": ("f32", mean.astype(np.float32)), "var": ("f32", var.astype(np.float32)),
                   "invstd": ("f32", (1 / np.sqrt(var + 1e-5)).astype(np.float32))}


def test_an_input_in_a_storage_reaches_the_kernel_as_a_read_only_strided_view():
    w = worker("reports_strides")
    p = with_storages(problem("backward", "nhwc", "f32", "f32", 2, 3, h=3, w=4), x=("nchw", 3, 0), dy=("nhwc", 5, 2))
    x, dy, rest = backward_inputs(np.random.default_rng(4), (2, 3, 4, 3), 3)
    header, _ = w.run(p, {"x": ("f32", stored(x, "nhwc", "nchw")), "dy": ("f32", stored(dy, "nhwc", "nhwc", 5, 2)),
                          **rest})
    assert header["type"] == "unimplemented", header
    facts = json.loads(header["reason"])
    # Strides in bytes, in memory order (N, H, W, C): x lies as nchw, dy as channels 2..4 of 5 (nhwc).
    assert facts["arrays"]["x"] == [[144, 16, 4, 48], False, False]
    assert facts["arrays"]["dy"] == [[240, 80, 20, 4], False, False]
    assert facts["storages"] == {"x": {"format": "nchw", "channels": 3, "first": 0},
                                 "dy": {"format": "nhwc", "channels": 5, "first": 2}}
    assert w.close()[0] == 0


def test_numpy_kernel_backward_reads_inputs_in_their_storages(numpy_kernel):
    """NaN padding between the elements: a wrong stride or offset makes NaN."""
    p = with_storages(problem("backward", "nhwc", "f32", "f32", 2, 3, h=3, w=4), x=("nchw", 6, 1), dy=("nchw", 3, 0))
    x, dy, rest = backward_inputs(np.random.default_rng(8), (2, 3, 4, 3), 3)
    header, out = numpy_kernel.run(p, {"x": ("f32", stored(x, "nhwc", "nchw", 6, 1)),
                                       "dy": ("f32", stored(dy, "nhwc", "nchw")), **rest})
    assert header["type"] == "done", header
    assert out["dx"].shape == x.shape                                               # dense in the layout
    want = exact.backward(x, "nhwc", rest["gamma"][1], dy, rest["mean"][1], rest["invstd"][1])
    for name in ("dx", "dgamma", "dbeta"):
        assert exact.ulps(out[name], want[name], "f32").max() <= 1, name


def test_numpy_kernel_forward_training_reads_a_channel_slice(numpy_kernel):
    p = with_storages(problem("forward_training", "nchw", "f32", "f32", 2, 3, h=3, w=3), x=("nchw", 6, 1))
    inputs = forward_inputs(np.random.default_rng(12), p, offset=10.0)
    sent = dict(inputs, x=("f32", stored(inputs["x"][1], "nchw", "nchw", 6, 1)))
    header, out = numpy_kernel.run(p, sent)
    assert header["type"] == "done", header
    want = exact.forward_training(**values(inputs), layout="nchw", eps=p["eps"], momentum=p["momentum"],
                                  profile="pytorch")
    for name, expected in want.items():
        assert exact.ulps(out[name], expected, "f32").max() <= 1, name


def test_a_strided_bf16_input_round_trips_bit_exactly():
    echo = worker("echo")
    p = with_storages(problem("forward_inference", "nchw", "bf16", "f32", 2, 3, h=1, w=2), x=("nhwc", 4, 1))
    raw = np.array([0x0000, 0x8000, 0x0001, 0x007F, 0x3F80, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0xC170, 0x4000, 0xBF80],
                   np.uint16).reshape(2, 3, 1, 2)
    x = (raw.astype(np.uint32) << 16).view(np.float32)
    c = np.ones(3, np.float32)
    header, out = echo.run(p, {"x": ("bf16", stored(x, "nchw", "nhwc", 4, 1, padding=np.float32(-2))),
                               "gamma": ("f32", c), "beta": ("f32", c), "running_mean": ("f32", c),
                               "running_var": ("f32", c)})
    assert header["type"] == "done", header
    assert out["y"].view(np.uint16).tolist() == raw.tolist()
    assert echo.close()[0] == 0


def test_strides_reaching_outside_the_payload_are_a_bad_request():
    echo = worker("echo")
    p = problem("forward_inference", "nc", "f32", "f32", 2, 3)
    c = np.ones(3, np.float32)
    wide = Stored(np.zeros(6, np.float32), [2, 3], [4, 1], 0)                          # needs 7 elements
    header, _ = echo.run(p, {"x": ("f32", wide), "gamma": ("f32", c), "beta": ("f32", c),
                             "running_mean": ("f32", c), "running_var": ("f32", c)})
    assert header["type"] == "error" and "bad request: ValueError" in header["message"], header
    assert "outside" in header["message"]
    assert echo.close()[0] == 0


def strided_inference_request(name):
    w = worker(name)
    p = with_storages(problem("forward_inference", "nhwc", "f32", "f32", 2, 3, h=2, w=2), x=("nchw", 5, 2))
    inputs = forward_inputs(np.random.default_rng(1), p)
    header, _ = w.run(p, dict(inputs, x=("f32", stored(inputs["x"][1], "nhwc", "nchw", 5, 2))))
    return header


def test_writing_into_a_strided_input_is_an_error_naming_it():
    header = strided_inference_request("writes_x")
    assert header["type"] == "error"
    assert "input x" in header["message"] and "read-only" in header["message"], header


def test_writing_into_a_strided_input_through_torch_is_an_error_naming_it():
    pytest.importorskip("torch")
    header = strided_inference_request("writes_through_torch")
    assert header["type"] == "error" and "input x" in header["message"], header

"""bncheck.gate against a stand-in bncheck (a script that records its
arguments and exits with the status it is told), and the layout and torch
helpers."""
import os
import shlex
import stat
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import bncheck  # noqa: E402
from driver import problem  # noqa: E402

FAKE = """#!{python}
import sys
print("ARGV " + repr(sys.argv[1:]))
print("FAIL offset_1e4_f32_nchw" if {status} == 1 else "PASS")
print("bncheck: bad --kernel", file=sys.stderr)
sys.exit({status})
"""


def fake_bncheck(tmp_path, status):
    path = tmp_path / f"bncheck{status}"
    path.write_text(FAKE.format(python=sys.executable, status=status))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_gate_returns_the_output_when_bncheck_passes(tmp_path):
    out = bncheck.gate("python3 kernel.py", "--no-properties", bncheck=fake_bncheck(tmp_path, 0))
    assert "ARGV ['run', '--kernel', 'exec:python3 kernel.py', '--no-properties']" in out


def test_gate_runs_a_py_path_with_this_interpreter(tmp_path):
    kernel = tmp_path / "my kernel.py"
    kernel.write_text("")
    out = bncheck.gate(kernel, bncheck=fake_bncheck(tmp_path, 0))
    assert "exec:" + shlex.join([sys.executable, str(kernel)]) in out


def test_gate_raises_assertion_error_with_the_reports_on_exit_1(tmp_path, monkeypatch):
    monkeypatch.setenv("BNCHECK", fake_bncheck(tmp_path, 1))
    with pytest.raises(AssertionError, match="FAIL offset_1e4_f32_nchw"):
        bncheck.gate(["python3", "k.py"])


def test_gate_raises_runtime_error_with_stderr_on_exit_2(tmp_path):
    with pytest.raises(RuntimeError, match="(?s)status 2.*bad --kernel"):
        bncheck.gate("python3 k.py", bncheck=fake_bncheck(tmp_path, 2))


def test_gate_without_a_bncheck_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("BNCHECK", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(FileNotFoundError, match="BNCHECK"):
        bncheck.gate("python3 k.py")


@pytest.mark.parametrize("layout", ["nc", "nchw", "nhwc", "ncdhw", "ndhwc"])
def test_to_logical_puts_channels_second_and_to_memory_undoes_it(layout):
    p = bncheck.Problem.from_json(problem("forward_training", layout, "f32", "f32", 2, 3, d=4, h=5, w=6))
    x = np.arange(np.prod(p.memory_shape)).reshape(p.memory_shape)
    logical = bncheck.to_logical(x, p)
    assert logical.shape == p.logical_shape
    assert np.array_equal(np.moveaxis(x, p.channel_axis, 1), logical)
    assert np.array_equal(bncheck.to_memory(logical, p), x)
    assert p.reduction_size * p.c == x.size


def test_to_torch_and_back_share_layout_and_keep_bf16_exact():
    torch = pytest.importorskip("torch", reason="python3-torch is not installed")
    p = bncheck.Problem.from_json(problem("forward_training", "nhwc", "bf16", "f32", 2, 3, h=4, w=5))
    bits = np.random.default_rng(0).integers(0, 0x7F80, size=p.memory_shape, dtype=np.uint32)
    x = (bits << 16).view(np.float32)
    t = bncheck.to_torch(x, p)
    assert t.dtype == torch.bfloat16 and tuple(t.shape) == p.logical_shape
    assert t.is_contiguous(memory_format=torch.channels_last)
    back = bncheck.from_torch(t, p)
    assert back.dtype == np.float32 and np.array_equal(back, x)
    gamma = np.float32([1, 2, 3])
    assert np.shares_memory(bncheck.to_torch(gamma).numpy(), gamma)

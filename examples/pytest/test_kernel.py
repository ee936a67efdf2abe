"""Gating a Python kernel from pytest: one call per kernel. Needs bncheck
(BNCHECK=build/cli/bncheck, or bncheck on PATH):

    BNCHECK=build/cli/bncheck /usr/bin/python3 -m pytest examples/pytest
"""
import os
import pathlib
import shutil
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "python"))
import bncheck  # noqa: E402

if not (os.environ.get("BNCHECK") or shutil.which("bncheck")):
    pytest.skip("no bncheck to gate with: set BNCHECK or put bncheck on PATH", allow_module_level=True)


def test_numpy_kernel_passes_the_gate():
    bncheck.gate([sys.executable, REPO / "examples/numpy/kernel.py"], "--no-properties")


def test_broken_kernel_fails_the_gate():
    with pytest.raises(AssertionError, match="FAIL"):
        bncheck.gate([sys.executable, REPO / "examples/numpy/broken_kernel.py"], "--no-properties")

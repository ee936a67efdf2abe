#!/usr/bin/env python3
"""--save-regressions for a Python worker: the broken numpy kernel's shrunk
agreement failure is saved as a golden case; the REPRO line printed for it
fails the broken kernel again and the correct kernel passes it.

usage: regression_roundtrip.py BNCHECK PYTHON"""
import re
import shlex
import subprocess
import sys
import tempfile

bncheck, python = sys.argv[1:3]
broken = f"exec:{python} examples/numpy/broken_kernel.py"
good = f"exec:{python} examples/numpy/kernel.py"
with tempfile.TemporaryDirectory() as folder:
    first = subprocess.run([bncheck, "run", "--kernel", broken, "--property", "agreement", "--quiet",
                            "--save-regressions", folder], capture_output=True, text=True)
    print(first.stdout)
    assert first.returncode == 1, f"the broken kernel exited {first.returncode}"
    repro = re.search(r"^REPRO: (bncheck run .* --golden .* --case \S+)$", first.stdout, re.M)
    assert repro, "no REPRO line naming the saved case"
    argv = shlex.split(repro.group(1))
    assert argv[argv.index("--golden") + 1] == folder, "the REPRO line names another corpus than the one saved to"
    again = subprocess.run([bncheck] + argv[1:], capture_output=True, text=True)
    assert again.returncode == 1 and "FAIL" in again.stdout, f"the saved case did not fail again:\n{again.stdout}"
    argv[argv.index("--kernel") + 1] = good
    fixed = subprocess.run([bncheck] + argv[1:], capture_output=True, text=True)
    assert fixed.returncode == 0, f"the correct kernel failed the saved case:\n{fixed.stdout}"
print("the saved case fails the broken worker again and passes the correct one")

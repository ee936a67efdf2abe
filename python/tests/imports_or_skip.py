#!/usr/bin/env python3
"""Runs a command when this interpreter can import the modules named, and
exits 77 (ctest: skipped), saying which is missing, when it cannot.

usage: imports_or_skip.py MODULE [MODULE ...] -- COMMAND [ARG ...]"""
import importlib
import os
import sys

split = sys.argv.index("--")
for module in sys.argv[1:split]:
    try:
        importlib.import_module(module)
    except ImportError as e:
        print(f"skipped: {sys.executable} cannot import {module} ({e})")
        sys.exit(77)
os.execvp(sys.argv[split + 1], sys.argv[split + 1:])

"""ctest's entry to python/tests: pytest, or exit 77 (skipped) saying what
this interpreter lacks."""
import importlib.util
import os
import sys

missing = [m for m in ("numpy", "pytest") if importlib.util.find_spec(m) is None]
if missing:
    print(f"skipped: {sys.executable} has no {' and no '.join(missing)} (Debian: python3-numpy, python3-pytest)")
    sys.exit(77)

import pytest  # noqa: E402

sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", os.path.dirname(os.path.abspath(__file__))]))

"""bncheck's Python side: serve a kernel written in Python to `bncheck run
--kernel 'exec:...'` (docs/protocol.md), gate one from a test, and move
arrays between numpy, the layouts and the frameworks. python/README.md."""
from .arrays import to_logical, to_memory
from .gate import gate
from .interop import from_cupy, from_jax, from_torch, to_cupy, to_jax, to_torch
from .problem import Problem, Storage
from .serve import Unimplemented, serve

__all__ = ["serve", "Unimplemented", "Problem", "Storage", "gate", "to_logical", "to_memory", "to_torch", "from_torch",
           "to_cupy", "from_cupy", "to_jax", "from_jax"]

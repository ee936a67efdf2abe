"""Arrays to and from the frameworks, each imported only when its helper is
called. serve hands a kernel numpy arrays; these give them to PyTorch (tested
here, CPU), CuPy and JAX (DLPack; not installed here, so untested here)."""
import zlib

import numpy as np

from .arrays import to_logical, to_memory

# Inputs a framework tensor shares memory with: (array, crc32 of its bytes).
# Frameworks do not honour numpy's read-only flag, so serve compares these
# after the kernel returns to catch a write into an input.
_shared_inputs = []


def _share(array):
    if isinstance(array, np.ndarray) and not array.flags.writeable:
        _shared_inputs.append((array, zlib.crc32(np.ascontiguousarray(array).data)))


def changed_shared_inputs():
    """The arrays handed to a framework since the last call whose bytes have
    changed since; forgets them all."""
    changed = [a for a, crc in _shared_inputs if zlib.crc32(np.ascontiguousarray(a).data) != crc]
    _shared_inputs.clear()
    return changed


def to_torch(array, problem=None):
    """A CPU torch tensor sharing array's memory (torch.from_numpy). With the
    problem, a data array (x, dy) is also viewed channel-first (nhwc/ndhwc
    become channels_last tensors, no copy) and bf16 data becomes
    torch.bfloat16 (a copy, exact, with the same strides)."""
    import torch
    import warnings
    _share(array)
    with warnings.catch_warnings():     # "not writable": serve checks the bytes instead (_shared_inputs)
        warnings.simplefilter("ignore", UserWarning)
        tensor = torch.from_numpy(np.asarray(array))
    if problem is not None and tensor.dim() == len(problem.memory_shape) and tensor.dim() > 1:
        tensor = to_logical(tensor, problem)
        if problem.data_type == "bf16":
            # The same strides, whatever they are: .to() keeps only those of a
            # dense tensor and would make a channel slice contiguous.
            narrow = torch.empty_strided(tensor.size(), tensor.stride(), dtype=torch.bfloat16)
            tensor = narrow.copy_(tensor)
    return tensor


def from_torch(tensor, problem=None):
    """A numpy array of a torch tensor (moved to the CPU; bfloat16 widened to
    float32 exactly). With the problem, a channel-first data tensor (N, C, ...)
    is returned in the problem's memory order."""
    import torch
    tensor = tensor.detach().cpu()
    if problem is not None and tensor.dim() == len(problem.logical_shape) and tensor.dim() > 1:
        tensor = to_memory(tensor, problem)
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.float()
    return tensor.numpy()


def to_cupy(array):
    """A CuPy array on the current GPU holding array's values: a copy to the
    device (DLPack shares memory only within one device; cupy.from_dlpack
    takes a GPU framework's tensor as it is). Untested here: no CuPy."""
    import cupy
    return cupy.asarray(array)


def from_cupy(array):
    """A numpy array of a CuPy array (copied to the host). Untested here."""
    import cupy
    return cupy.asnumpy(array)


def to_jax(array):
    """A JAX array on JAX's default device holding array's values, a copy
    (serve's inputs are read-only, and numpy refuses to export a read-only
    array through DLPack). Untested here: no JAX."""
    import jax.numpy as jnp
    return jnp.asarray(array)


def from_jax(array):
    """A numpy array of a JAX array (copied to the host). Untested here."""
    return np.asarray(array)

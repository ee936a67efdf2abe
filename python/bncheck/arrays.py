"""Arrays on the wire and in a kernel: payload bytes to numpy arrays (bf16
widened to float32), a kernel's outputs checked and turned back into bytes,
and the memory-order <-> channel-first views."""
import numpy as np

# Wire dtype -> the numpy dtype a kernel sees (bf16: float32 holding bf16 numbers).
NUMPY = {"f64": np.dtype("<f8"), "f32": np.dtype("<f4"), "f16": np.dtype("<f2"), "bf16": np.dtype("<f4")}
ITEMSIZE = {"f64": 8, "f32": 4, "f16": 2, "bf16": 2}


class OutputError(ValueError):
    """An output a kernel returned that bncheck must not receive."""


def decode(dtype, shape, view):
    """The read-only array a payload slice holds. f64/f32/f16 are views
    without a copy; bf16's 16-bit patterns become float32 values exactly."""
    if dtype == "bf16":
        bits = np.frombuffer(view, dtype="<u2")
        array = (bits.astype(np.uint32) << 16).view(np.float32)
        array.flags.writeable = False
    else:
        array = np.frombuffer(view, dtype=NUMPY[dtype])   # read-only: view is a read-only memoryview
    return array.reshape(shape)


def decode_strided(dtype, shape, strides, offset, view):
    """The read-only strided array an input in a storage is (docs/protocol.md,
    "Inputs in a storage"): element (i0, i1, ...) at offset + sum(ik * strides[k])
    elements of the payload slice `view`, which holds the whole allocation.
    A view of the payload for f64/f32/f16; bf16's allocation is widened to
    float32 whole first, so the array is a view with the same strides.
    Raises ValueError for strides or an offset that reach outside the slice."""
    itemsize = ITEMSIZE[dtype]
    span = len(view) // itemsize
    if len(strides) != len(shape) or any(not isinstance(s, int) or s < 0 for s in (*strides, offset)):
        raise ValueError(f"strides {list(strides)} and offset {offset} do not fit shape {list(shape)}")
    last = offset + sum((n - 1) * s for n, s in zip(shape, strides))
    if len(view) % itemsize or (min(shape, default=1) > 0 and last >= span):
        raise ValueError(f"strides {list(strides)} and offset {offset} reach element {last}, outside the "
                         f"{span} elements of the payload")
    if dtype == "bf16":
        base = (np.frombuffer(view, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        base.flags.writeable = False
    else:
        base = np.frombuffer(view, dtype=NUMPY[dtype])        # read-only, and cannot be made writeable
    size = base.dtype.itemsize
    return np.ndarray(shape, base.dtype, buffer=base, offset=offset * size, strides=[s * size for s in strides])


def encode(name, value, dtype, shape):
    """The bytes of output `name` as the wire wants them (dtype, shape in
    memory order, C order, little-endian). Raises OutputError when the value
    is not already in that format: a conversion that would round is the
    kernel's job, because its rounding is what bncheck judges."""
    if type(value).__module__.startswith("torch"):
        from .interop import from_torch                      # torch is imported only if it sent a tensor
        value = from_torch(value)
    try:
        array = np.asarray(value)
    except Exception as e:                                   # an object numpy cannot read
        raise OutputError(f"{name} is a {type(value).__name__}, not an array ({e})") from None
    if tuple(array.shape) != tuple(shape):
        raise OutputError(f"{name} has shape {list(array.shape)}, expected {list(shape)} (memory order; "
                          "bncheck.to_memory converts a channel-first array)")
    if array.dtype.kind != "f":
        raise OutputError(f"{name} is {array.dtype}, expected {dtype}")
    target = NUMPY[dtype]
    if array.dtype != target:
        with np.errstate(all="ignore"):
            converted = array.astype(target)
            exact = np.array_equal(converted.astype(array.dtype), array, equal_nan=True)
        if not exact:
            raise OutputError(f"{name} is {array.dtype}, expected {dtype}: round it to {dtype} in your "
                              "kernel (bncheck judges the kernel's own rounding)")
        array = converted
    if dtype == "bf16":
        bits = np.ascontiguousarray(array).view(np.uint32)
        if np.any(bits & 0xFFFF):
            raise OutputError(f"{name} holds float32 values that are not bf16 numbers, expected bf16: round it "
                              "to bf16 in your kernel (the low 16 bits of each float32 must be zero)")
        return (bits >> 16).astype("<u2")
    return np.ascontiguousarray(array)


def _channel_last_order(ndim):
    """Axes that take memory order (N, ..., C) to logical (N, C, ...)."""
    return (0, ndim - 1) + tuple(range(1, ndim - 1))


def _permute(x, axes):
    if isinstance(x, np.ndarray) or not hasattr(x, "permute"):
        return np.transpose(x, axes)
    return x.permute(*axes)                                   # torch: a strided view, no copy


def to_logical(x, problem):
    """A data array in memory order as a channel-first (N, C, [D,] H, W) view
    (numpy: a transposed view; torch: a channels_last tensor). Channel-first
    layouts are returned as they are."""
    if problem.channel_axis == 1:
        return x
    return _permute(x, _channel_last_order(len(problem.memory_shape)))


def to_memory(x, problem):
    """The inverse of to_logical: a channel-first (N, C, ...) array viewed in
    the problem's memory order (a view; serve copies it to C order)."""
    if problem.channel_axis == 1:
        return x
    ndim = len(problem.memory_shape)
    return _permute(x, (0,) + tuple(range(2, ndim)) + (1,))

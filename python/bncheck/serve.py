"""bncheck.serve: a Python kernel as a worker of `bncheck run --kernel
'exec:...'` (docs/protocol.md). Requests become numpy arrays and a Problem,
the kernel function's dict of outputs becomes the answer."""
import math
import os
import sys
import traceback

import numpy as np

from . import arrays, interop
from .channel import Channel, ProtocolError
from .problem import Problem

PROTOCOL = 1
OPS = ("forward_training", "forward_inference", "backward", "merge_statistics")
# Outputs a kernel may leave out (the answer's not_produced), per op.
OPTIONAL = {"forward_training": ("mean", "var", "invstd", "running_mean", "running_var"),
            "merge_statistics": ("var", "invstd")}


class Unimplemented(Exception):
    """Raised by a kernel function for a problem it does not support; bncheck
    reports the problem as skipped with str(exception) as the reason."""


def _protect_channel():
    """The protocol's private descriptors; fd 1 then points at standard error
    and fd 0 at /dev/null, so nothing a library prints or reads (Python or C)
    touches the channel."""
    read_fd, write_fd = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    sys.stdout.flush()                                # what was printed before serve goes to stderr too
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)   # prints reach the stderr file bncheck shows in order
    return read_fd, write_fd


def _input_arrays(header, payload):
    """The request's inputs as read-only arrays in memory order: dense views
    of the payload, or, for an input with "strides" (one in a storage), a
    strided view of its whole allocation."""
    inputs, offset = {}, 0
    for spec in header["inputs"]:
        dtype, shape, nbytes = spec["dtype"], tuple(spec["shape"]), int(spec["nbytes"])
        if dtype not in arrays.NUMPY:
            raise ValueError(f"input {spec['name']}: unknown dtype {dtype}")
        view = payload[offset:offset + nbytes]
        if "strides" in spec:
            inputs[spec["name"]] = arrays.decode_strided(dtype, shape, tuple(spec["strides"]), spec.get("offset", 0),
                                                         view)
        elif nbytes != arrays.ITEMSIZE[dtype] * math.prod(shape):
            raise ValueError(f"input {spec['name']}: {dtype} {list(shape)} is not {nbytes} bytes")
        else:
            inputs[spec["name"]] = arrays.decode(dtype, shape, view)
        offset += nbytes
    return inputs


def _where(tb):
    """The innermost traceback entry: file:line in function."""
    last = traceback.extract_tb(tb)[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno} in {last.name}"


def _written_input(error, inputs):
    """The name of the input a "read-only" ValueError was raised writing into:
    an array in the failing frame, named on the failing line, sharing memory
    with that input; None if it cannot be told."""
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    line = traceback.extract_tb(tb)[-1].line or ""
    for local, value in tb.tb_frame.f_locals.items():
        if isinstance(value, np.ndarray) and local in line:
            for name, array in inputs.items():
                if np.may_share_memory(value, array):
                    return name
    return None


def _error_message(error, inputs):
    where = _where(error.__traceback__)
    if isinstance(error, ValueError) and "read-only" in str(error):
        name = _written_input(error, inputs) or "an input"
        return (f"the kernel wrote into its input {name} ({where}: {error}); inputs are read-only: "
                "copy an input before changing it")
    return f"{type(error).__name__}: {error} ({where})"


def _answer(request, inputs, functions):
    """The answer to one run request whose input arrays are `inputs`: (header, buffers)."""
    rid = request.get("id")
    problem = Problem.from_json(request["problem"])
    function = functions.get(problem.op)
    if function is None:
        return {"type": "unimplemented", "id": rid, "reason": f"no {problem.op} function"}, ()
    try:
        outputs = function(problem, **inputs)
        changed = interop.changed_shared_inputs()
    except Unimplemented as e:
        interop.changed_shared_inputs()
        return {"type": "unimplemented", "id": rid, "reason": str(e) or "unimplemented"}, ()
    except Exception as e:
        interop.changed_shared_inputs()
        traceback.print_exc(file=sys.stderr)
        return {"type": "error", "id": rid, "message": _error_message(e, inputs)}, ()
    if changed:
        names = [n for n, a in inputs.items() if any(np.may_share_memory(a, c) for c in changed)]
        return {"type": "error", "id": rid, "message": f"the kernel changed its input {', '.join(names)} "
                "through a tensor sharing its memory; copy an input before changing it"}, ()
    if not isinstance(outputs, dict):
        return {"type": "error", "id": rid,
                "message": f"the {problem.op} function returned {type(outputs).__name__}, not a dict of outputs"}, ()
    wanted = {spec["name"]: spec for spec in request["outputs"]}
    unknown = [name for name in outputs if name not in wanted]
    if unknown:
        return {"type": "error", "id": rid, "message": f"unknown output {', '.join(unknown)}; "
                f"{problem.op} gives {', '.join(wanted)}"}, ()
    described, buffers, not_produced = [], [], []
    try:
        for name, spec in wanted.items():
            value = outputs.get(name)
            if value is None:
                if name not in OPTIONAL.get(problem.op, ()):
                    raise arrays.OutputError(f"the {problem.op} function returned no {name}")
                not_produced.append(name)
                continue
            data = arrays.encode(name, value, spec["dtype"], spec["shape"])
            described.append({"name": name, "dtype": spec["dtype"], "shape": spec["shape"], "nbytes": data.nbytes})
            buffers.append(data)
    except arrays.OutputError as e:
        return {"type": "error", "id": rid, "message": str(e)}, ()
    header = {"type": "done", "id": rid, "outputs": described}
    if not_produced:
        header["not_produced"] = not_produced
    return header, buffers


def serve(forward_training=None, forward_inference=None, backward=None, *, merge_statistics=None,
          name="python kernel", strides=True):
    """Runs the kernel-process protocol on standard input and output until
    bye or end of input, then returns. Each function is called as
    function(problem, **inputs) with a Problem and the op's inputs as
    read-only numpy arrays in memory order (docs/protocol.md's table), and
    returns a dict of its outputs. A function left None answers its op
    unimplemented. With strides (the default), the hello says so, and an
    input that lies in a storage (problem.storages: another format, a channel
    slice) arrives as a strided view of its allocation, not a C-contiguous
    array; with strides=False, bncheck skips the problems that set one.
    Exits with status 1 when bncheck speaks another protocol or the channel
    breaks."""
    read_fd, write_fd = _protect_channel()
    channel = Channel(read_fd, write_fd)
    functions = {"forward_training": forward_training, "forward_inference": forward_inference, "backward": backward,
                 "merge_statistics": merge_statistics}
    try:
        hello = channel.read()
        if hello is None:
            return
        hello = hello[0]
        if hello.get("type") != "hello" or hello.get("protocol") != PROTOCOL:
            channel.write({"type": "error", "message": f"this worker speaks protocol {PROTOCOL}; bncheck sent "
                           f"{hello.get('type')} protocol {hello.get('protocol')}"})
            sys.exit(1)
        channel.write({"type": "hello", "protocol": PROTOCOL, "kernel": name, "strides": bool(strides)})
        while (frame := channel.read()) is not None:
            request, payload = frame
            kind = request.get("type")
            if kind == "bye":
                return
            if kind != "run":
                channel.write({"type": "error", "id": request.get("id"), "message": f"unknown request {kind}"})
                continue
            try:
                header, buffers = _answer(request, _input_arrays(request, payload), functions)
            except (KeyError, TypeError, ValueError) as e:           # a request this worker cannot read
                header, buffers = {"type": "error", "id": request.get("id"),
                                   "message": f"bad request: {type(e).__name__}: {e}"}, ()
            channel.write(header, buffers)
    except ProtocolError as e:
        print(f"bncheck worker: {e}", file=sys.stderr)
        sys.exit(1)

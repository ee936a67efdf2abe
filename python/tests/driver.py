"""A fake bncheck for the tests: starts a worker and speaks
docs/protocol.md to it, written from the document (not from the package's
code): frames, hello, run requests built from numpy arrays."""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIRE = {"f64": "<f8", "f32": "<f4", "f16": "<f2", "bf16": "<u2"}


def bf16_bits(values):
    """float32 values that are bf16 numbers -> their 16-bit patterns."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    assert not np.any(bits & 0xFFFF), "not bf16 numbers"
    return (bits >> 16).astype(np.uint16)


def memory_shape(layout, n, c, d, h, w):
    dims = {"n": n, "c": c, "d": d, "h": h, "w": w}
    return [dims[k] for k in layout]


def problem(op, layout, data_type, param_type, n, c, d=1, h=1, w=1, eps=1e-5, momentum=0.1, profile="pytorch"):
    sizes = f"mb{n}ic{c}" + (f"id{d}" if "d" in layout else "") + ("" if layout == "nc" else f"ih{h}iw{w}")
    text = f"{op} {layout} {data_type}:{param_type} {sizes} eps={eps!r} momentum={momentum!r} profile={profile}"
    return {"text": text, "op": op, "layout": layout, "data_type": data_type, "param_type": param_type,
            "n": n, "c": c, "d": d, "h": h, "w": w, "eps": eps, "momentum": momentum, "profile": profile}


OUTPUTS = {"forward_training": ["y", "mean", "var", "invstd", "running_mean", "running_var"],
           "forward_inference": ["y"], "backward": ["dx", "dgamma", "dbeta"],
           "merge_statistics": ["mean", "var", "invstd"]}


def merge_problem(param_type, shards, c, eps=1e-5):
    """A merge_statistics request's problem: len(shards) shards of c channels."""
    n = len(shards)
    text = (f"merge_statistics nc {param_type}:{param_type} mb{n}ic{c} shards={','.join(map(str, shards))} "
            f"eps={eps!r} momentum=0.1 profile=pytorch")
    return {"text": text, "op": "merge_statistics", "layout": "nc", "data_type": param_type,
            "param_type": param_type, "n": n, "c": c, "d": 1, "h": 1, "w": 1, "eps": eps, "momentum": 0.1,
            "profile": "pytorch", "shards": list(shards)}


class Stored:
    """An input in a storage, as docs/protocol.md sends it: the whole
    allocation (flat, padding included), the array's shape in memory order,
    its strides in elements and the offset of its element 0."""

    def __init__(self, allocation, shape, strides, offset):
        self.allocation, self.shape, self.strides, self.offset = allocation.reshape(-1), shape, strides, offset


def stored(array, layout, storage_format, channels=None, first=0, padding=np.nan):
    """array (in `layout`'s memory order, e.g. nhwc: (N, H, W, C)) placed in
    storage_format (a layout of the same rank) as channels [first, first + c)
    of a tensor of `channels` channels (default c), padding elsewhere."""
    axes = [layout.index(k) for k in storage_format]      # storage axis k is array axis axes[k]
    channel = storage_format.index("c")
    shape = [array.shape[a] for a in axes]
    c = shape[channel]
    shape[channel] = channels or c
    allocation = np.full(shape, padding, dtype=array.dtype)
    index = [slice(None)] * len(shape)
    index[channel] = slice(first, first + c)
    allocation[tuple(index)] = np.transpose(array, axes)
    element = allocation.dtype.itemsize
    strides = [0] * array.ndim
    for k, a in enumerate(axes):
        strides[a] = allocation.strides[k] // element
    return Stored(allocation, list(array.shape), strides, first * allocation.strides[channel] // element)


class Worker:
    def __init__(self, *command, hello=True):
        self.stderr = tempfile.TemporaryFile()       # a file, as bncheck keeps it: never a full pipe
        self.proc = subprocess.Popen([sys.executable if command[0] == "python" else command[0], *command[1:]],
                                     cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.next_id = 1
        if hello:
            reply, _ = self.exchange({"type": "hello", "protocol": 1, "bncheck": "1.1"})
            assert reply["type"] == "hello" and reply["protocol"] == 1, reply
            self.kernel = reply.get("kernel")
            self.strides = reply.get("strides", False)

    def send(self, header, payload=b""):
        raw = json.dumps(header).encode()
        self.proc.stdin.write(struct.pack("<I", len(raw)) + raw + payload)
        self.proc.stdin.flush()

    def _read(self, n):
        data = self.proc.stdout.read(n)
        assert len(data) == n, f"worker sent {len(data)} of {n} bytes; stderr: {self.stderr_so_far()}"
        return data

    def receive(self):
        """(header, {name: raw numpy array}) of the worker's next frame."""
        (size,) = struct.unpack("<I", self._read(4))
        header = json.loads(self._read(size))
        arrays = {}
        for spec in header.get("outputs", []):
            raw = self._read(spec["nbytes"])
            arrays[spec["name"]] = np.frombuffer(raw, dtype=WIRE[spec["dtype"]]).reshape(spec["shape"])
        return header, arrays

    def exchange(self, header, payload=b""):
        self.send(header, payload)
        return self.receive()

    def run(self, prob, inputs, outputs=None):
        """inputs: {name: (dtype, numpy array in memory order; bf16 as float32 values)}, or for an
        input in a storage {name: (dtype, Stored)}.
        outputs: [(name, dtype, shape)]; by default the op's, y/dx in the data type."""
        if outputs is None:
            data_shape = memory_shape(prob["layout"], prob["n"], prob["c"], prob["d"], prob["h"], prob["w"])
            outputs = [(name, prob["data_type"], data_shape) if name in ("y", "dx")
                       else (name, prob["param_type"], [prob["c"]]) for name in OUTPUTS[prob["op"]]]
        described, payload = [], []
        for name, (dtype, array) in inputs.items():
            stored = array if isinstance(array, Stored) else None
            if stored:
                array = stored.allocation
            wire = bf16_bits(array) if dtype == "bf16" else np.ascontiguousarray(array, dtype=WIRE[dtype])
            described.append({"name": name, "dtype": dtype, "shape": list(array.shape), "nbytes": wire.nbytes})
            if stored:
                described[-1].update(shape=list(stored.shape), strides=list(stored.strides), offset=stored.offset)
            payload.append(wire.tobytes())
        rid, self.next_id = self.next_id, self.next_id + 1
        header, arrays = self.exchange({"type": "run", "id": rid, "problem": prob, "inputs": described,
                                        "outputs": [{"name": n, "dtype": d, "shape": list(s)} for n, d, s in outputs]},
                                       b"".join(payload))
        assert header.get("id") == rid, header
        return header, arrays

    def stderr_so_far(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def close(self, bye=True):
        """Ends the worker (bye, else end of input): (exit status, stderr)."""
        if bye:
            self.send({"type": "bye"})
        self.proc.stdin.close()
        status = self.proc.wait(timeout=30)
        return status, self.stderr_so_far()

"""Frames on a pair of file descriptors (docs/protocol.md, "Transport and
framing"): u32 little-endian header length, a JSON header, the payload."""
import io
import json
import os
import struct

MAX_HEADER = 16 << 20


class ProtocolError(Exception):
    """The peer sent something that is not a frame; the channel is lost."""


class Channel:
    """Reads frames from fd `read_fd`, writes them to `write_fd`. The payload
    of the last frame read stays in one reused buffer until the next read."""

    def __init__(self, read_fd, write_fd):
        self._reader = io.BufferedReader(io.FileIO(read_fd, "rb", closefd=False), buffer_size=1 << 16)
        self._write_fd = write_fd
        self._buffer = bytearray(0)

    def _read_exactly(self, view):
        """Fills view; False on end of input before its first byte."""
        done = 0
        while done < len(view):
            n = self._reader.readinto(view[done:])
            if not n:
                if done == 0:
                    return False
                raise ProtocolError(f"end of input inside a frame ({done} of {len(view)} bytes)")
            done += n
        return True

    def read(self):
        """(header dict, payload memoryview, read-only) or None at end of input.
        The payload's size is the sum of the `nbytes` of the header's "inputs"."""
        length = bytearray(4)
        if not self._read_exactly(memoryview(length)):
            return None
        (size,) = struct.unpack("<I", length)
        if not 1 <= size <= MAX_HEADER:
            raise ProtocolError(f"header length {size} out of range")
        raw = bytearray(size)
        if not self._read_exactly(memoryview(raw)):
            raise ProtocolError("end of input after a frame's length")
        try:
            header = json.loads(raw)
        except ValueError as e:
            raise ProtocolError(f"header is not JSON: {e}") from None
        if not isinstance(header, dict):
            raise ProtocolError("header is not a JSON object")
        nbytes = sum(int(a["nbytes"]) for a in header.get("inputs", ()))
        if nbytes > len(self._buffer):
            # A new buffer rather than a resize: arrays a kernel kept still export the old one.
            self._buffer = bytearray(nbytes)
        payload = memoryview(self._buffer)[:nbytes]
        if nbytes and not self._read_exactly(payload):
            raise ProtocolError("end of input before a frame's payload")
        return header, payload.toreadonly()

    def write(self, header, buffers=()):
        """One frame: the header and the buffers (objects with the buffer
        protocol, C-contiguous) back to back, in one writev where the pipe
        takes it whole."""
        raw = json.dumps(header, separators=(",", ":")).encode()
        parts = [memoryview(struct.pack("<I", len(raw)) + raw)]
        parts += [memoryview(b).cast("B") for b in buffers]
        while parts:
            written = os.writev(self._write_fd, parts)
            while parts and written >= len(parts[0]):
                written -= len(parts[0])
                parts.pop(0)
            if parts and written:
                parts[0] = parts[0][written:]

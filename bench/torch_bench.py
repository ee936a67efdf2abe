#!/usr/bin/env python3
"""PyTorch's own batch norm on CUDA, timed on bench_cuda's shapes (ci/gpu's
torch_bench step; docs/cuda.md).

torch.nn.functional.batch_norm in training (fwd) and inference (inf), and
autograd's backward of a training call (bwd: dx, dgamma, dbeta; the forward
runs outside the timed region), each with PyTorch's default dispatch and
with cuDNN disabled (native). CUDA events around each call, median of --reps
after --warmup calls, input sets rotated so they exceed the L2 cache. Bytes
are counted as bench_cuda counts them (fwd and inf: x read and y written;
bwd: x and dy read, dx written) against a device-to-device copy measured in
the same run. Times include PyTorch's per-call host overhead, as a user of
PyTorch sees it. Prints a Markdown table.

  bench/torch_bench.py            # the table (needs a CUDA device)
  bench/torch_bench.py --list     # the cases, one a line (no device)
  bench/torch_bench.py --check    # every call path once on a tiny CPU problem
"""

import argparse
import math
import statistics
import sys

# bench_cuda.cu's shapes and order: op, then shape, then layout, then dtype.
SHAPES = [(32, 64, 56, 56), (32, 256, 28, 28), (32, 512, 14, 14), (32, 2048, 7, 7),
          (256, 256, 28, 28), (256, 64, 56, 56)]
OPS = ("fwd", "inf", "bwd")
LAYOUTS = ("nchw", "nhwc")
DTYPES = ("f32", "bf16", "f16")
EPS, MOMENTUM = 1e-5, 0.1
ROTATE_BYTES = 512 << 20


def cases(shapes=SHAPES):
    """(op, shape, layout, dtype) in table order."""
    return [(op, s, lay, dt) for op in OPS for s in shapes for lay in LAYOUTS for dt in DTYPES]


def case_name(op, shape, lay, dt):
    n, c, h, w = shape
    return f"{op} N{n} C{c} {h}x{w} {lay} {dt}"


def min_bytes(op, shape, dt):
    elem = 4 if dt == "f32" else 2
    return math.prod(shape) * elem * (3 if op == "bwd" else 2)


class problem:
    """Rotated input sets of one case and the calls that time it."""

    def __init__(self, torch, op, shape, lay, dt, device, rotate_bytes):
        self.torch, self.op = torch, op
        self.F = torch.nn.functional
        dtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[dt]
        fmt = torch.channels_last if lay == "nhwc" else torch.contiguous_format
        c = shape[1]
        data = math.prod(shape) * (4 if dt == "f32" else 2)
        self.sets = max(2, -(-rotate_bytes // (2 * data)))
        gen = torch.Generator(device=device).manual_seed(17)

        def tensor():
            t = torch.randn(shape, generator=gen, device=device, dtype=torch.float32)
            return t.to(dtype=dtype).contiguous(memory_format=fmt)

        self.x = [tensor().requires_grad_(op == "bwd") for _ in range(self.sets)]
        self.dy = [tensor() for _ in range(self.sets)] if op == "bwd" else None
        f32 = dict(device=device, dtype=torch.float32)
        self.weight = (torch.rand(c, **f32) + 0.5).requires_grad_(op == "bwd")
        self.bias = torch.rand(c, **f32).requires_grad_(op == "bwd")
        self.running_mean = torch.zeros(c, **f32)
        self.running_var = torch.ones(c, **f32)

    def forward(self, k, training):
        return self.F.batch_norm(self.x[k], self.running_mean, self.running_var, self.weight, self.bias,
                                 training=training, momentum=MOMENTUM, eps=EPS)

    def prepare(self, i):
        """What must exist before the timed call: for bwd, the forward graph."""
        k = i % self.sets
        if self.op != "bwd":
            return k
        with self.torch.enable_grad():
            return k, self.forward(k, True)

    def call(self, prepared):
        if self.op == "bwd":
            k, y = prepared
            return self.torch.autograd.grad(y, (self.x[k], self.weight, self.bias), self.dy[k])
        with self.torch.no_grad():
            return self.forward(prepared, self.op == "fwd")


def time_us(torch, prob, reps, warmup):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for i in range(warmup):
        prob.call(prob.prepare(i))
    times = []
    for i in range(reps):
        prepared = prob.prepare(warmup + i)
        start.record()
        prob.call(prepared)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1e3)
    return statistics.median_high(times)


def copy_gbs(torch, reps, warmup):
    """GB/s of a 1 GiB device-to-device copy, bytes read plus written (as bench_cuda)."""
    a = torch.ones(1 << 28, device="cuda", dtype=torch.float32)
    b = torch.empty_like(a)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(warmup):
        b.copy_(a)
    times = []
    for _ in range(reps):
        start.record()
        b.copy_(a)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1e-3)
    return 2 * a.numel() * 4 / statistics.median_high(times) / 1e9


def bench(args):
    import torch
    if not torch.cuda.is_available():
        print("torch_bench: no CUDA device visible to PyTorch", file=sys.stderr)
        return 1
    copy = copy_gbs(torch, args.reps, args.warmup)
    print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}; "
          f"copy {copy:.0f} GB/s; median of {args.reps} calls after {args.warmup} warm-up")
    print()
    print("| case | default us | GB/s | of copy | native us | GB/s | of copy |")
    print("|---|---|---|---|---|---|---|")
    for op, shape, lay, dt in cases():
        prob = problem(torch, op, shape, lay, dt, "cuda", ROTATE_BYTES)
        cells = []
        for cudnn in (True, False):
            with torch.backends.cudnn.flags(enabled=cudnn):
                us = time_us(torch, prob, args.reps, args.warmup)
            gbs = min_bytes(op, shape, dt) / (us * 1e-6) / 1e9
            cells += [f"{us:.1f}", f"{gbs:.0f}", f"{100 * gbs / copy:.0f}%"]
        print(f"| {case_name(op, shape, lay, dt)} | " + " | ".join(cells) + " |", flush=True)
        del prob
        torch.cuda.empty_cache()
    return 0


def check():
    """Every op, layout and dtype once through the same calls on a tiny CPU
    problem: the script's own logic, without a device or timing. A dtype
    PyTorch has no CPU kernel for (f16 before 2.x) is reported, not failed:
    the device's kernels are another matter."""
    import torch
    failed = 0
    for op, shape, lay, dt in cases([(2, 3, 4, 4)]):
        name = case_name(op, shape, lay, dt)
        try:
            prob = problem(torch, op, shape, lay, dt, "cpu", 0)
            out = prob.call(prob.prepare(0))
        except RuntimeError as e:
            if "not implemented for" not in str(e):
                raise
            print(f"none  {name}: this PyTorch's CPU has no kernel ({e})")
            continue
        outs = out if isinstance(out, tuple) else (out,)
        ok = outs[0].shape == shape and all(bool(torch.isfinite(t.float()).all()) for t in outs)
        failed += not ok
        print(f"{'ok' if ok else 'FAIL':5} {name}")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="print the cases and exit")
    ap.add_argument("--check", action="store_true", help="run every call path once on a tiny CPU problem")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    if args.list:
        for c in cases():
            print(case_name(*c))
        return 0
    if args.check:
        return check()
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())

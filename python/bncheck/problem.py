"""The problem a request carries (docs/protocol.md, "A request"), as a
dataclass with the geometry helpers a kernel needs."""
import math
from dataclasses import dataclass, field, fields

CHANNEL_FIRST = ("nc", "nchw", "ncdhw")
LAYOUTS = CHANNEL_FIRST + ("nhwc", "ndhwc")


@dataclass(frozen=True)
class Storage:
    """Where a data tensor (x, dy, y, dx) lies when not dense in the problem's
    layout: its memory format, and channels [first, first + problem.c) of a
    tensor of `channels` channels in it (channels == problem.c, first == 0:
    not a slice)."""

    format: str        # nchw, nhwc, ncdhw, ndhwc or nc, of the layout's spatial rank
    channels: int
    first: int


@dataclass(frozen=True)
class Problem:
    """One batch-norm problem. `text` is bncheck's canonical one-line form
    (its REPRO), the other fields repeat it parsed."""

    text: str
    op: str            # forward_training, forward_inference, backward, merge_statistics
    layout: str        # nc, nchw, nhwc, ncdhw, ndhwc (memory order)
    data_type: str     # f64, f32, f16, bf16: x, y, dy, dx
    param_type: str    # f64, f32: gamma, beta, statistics, dgamma, dbeta
    n: int
    c: int
    d: int
    h: int
    w: int
    eps: float
    momentum: float
    profile: str       # onnx, pytorch, cudnn: the running-statistics convention
    shards: tuple = ()  # merge_statistics: the n shards' counts (absent from other requests)
    # The data tensors that lie in a storage, by name ("x": Storage(...)); the
    # others are dense in `layout`. Inputs arrive as strided views accordingly;
    # outputs are returned dense in `layout` all the same (bncheck stores them).
    storages: dict = field(default_factory=dict, hash=False)

    @classmethod
    def from_json(cls, obj):
        """From a request's "problem" object; fields this version does not know are ignored."""
        values = {f.name: obj[f.name] for f in fields(cls) if f.name not in ("shards", "storages")}
        storages = {name: Storage(s["format"], int(s["channels"]), int(s["first"]))
                    for name, s in obj.get("storages", {}).items()}
        return cls(**values, shards=tuple(obj.get("shards", ())), storages=storages)

    @property
    def channel_axis(self):
        """The channel's axis in memory order: 1 for nc/nchw/ncdhw, the last for nhwc/ndhwc."""
        return 1 if self.layout in CHANNEL_FIRST else len(self.memory_shape) - 1

    @property
    def reduction_size(self):
        """Elements per channel: N times the layout's spatial sizes (D·H·W, H·W or 1)."""
        return self.n * math.prod(self.spatial)

    @property
    def spatial(self):
        """(D, H, W) for 5-d layouts, (H, W) for 4-d, () for nc."""
        if self.layout == "nc":
            return ()
        return (self.d, self.h, self.w) if self.layout in ("ncdhw", "ndhwc") else (self.h, self.w)

    @property
    def logical_shape(self):
        """(N, C, [D,] H, W), channel first, whatever the layout."""
        return (self.n, self.c) + self.spatial

    @property
    def memory_shape(self):
        """The data arrays' shape as they travel: (N, C, ...) or (N, ..., C)."""
        if self.layout in CHANNEL_FIRST:
            return self.logical_shape
        return (self.n,) + self.spatial + (self.c,)

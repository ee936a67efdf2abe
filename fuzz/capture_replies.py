#!/usr/bin/env python3
# Captures real replies of the numpy example worker (examples/numpy/kernel.py)
# as seeds of fuzz/corpus/exec_reply: the selector byte, then the frames.
import json, struct, subprocess, sys, numpy as np
problems = [  # as fuzz/exec_reply.cpp lists them
    dict(text="forward_training nchw f32:f32 mb2ic3ih1iw2", op="forward_training", layout="nchw", dt="f32", pt="f32", n=2, c=3, d=1, h=1, w=2, profile="pytorch"),
    dict(text="forward_inference nhwc f16:f32 mb1ic2ih1iw3", op="forward_inference", layout="nhwc", dt="f16", pt="f32", n=1, c=2, d=1, h=1, w=3, profile="pytorch"),
    dict(text="backward nc bf16:f64 mb3ic2", op="backward", layout="nc", dt="bf16", pt="f64", n=3, c=2, d=1, h=1, w=1, profile="pytorch"),
    dict(text="forward_training ndhwc f64:f64 mb1ic1id2ih1iw1 profile=onnx", op="forward_training", layout="ndhwc", dt="f64", pt="f64", n=1, c=1, d=2, h=1, w=1, profile="onnx"),
]
slots = {"forward_training": [("x",0),("gamma",0),("beta",0),("y",1),("mean",1),("var",1),("invstd",1),("running_mean",1),("running_var",1)],
         "forward_inference": [("x",0),("gamma",0),("beta",0),("running_mean",0),("running_var",0),("y",1)],
         "backward": [("x",0),("gamma",0),("dy",0),("mean",0),("var",0),("invstd",0),("dx",1),("dgamma",1),("dbeta",1)]}
size = {"f64": 8, "f32": 4, "f16": 2, "bf16": 2}
def shape(p, name):
    if name in ("x", "y", "dx", "dy"):
        return {"nc": [p["n"], p["c"]], "nchw": [p["n"], p["c"], p["h"], p["w"]], "nhwc": [p["n"], p["h"], p["w"], p["c"]],
                "ndhwc": [p["n"], p["d"], p["h"], p["w"], p["c"]]}[p["layout"]]
    return [p["c"]]
def values(t, count, positive):
    v = np.linspace(0.5, 1.5, count) if positive else np.linspace(-1, 1, count)
    if t == "bf16": return (v.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16).tobytes()
    return v.astype({"f64": np.float64, "f32": np.float32, "f16": np.float16}[t]).tobytes()
def frame(header, payload=b""):
    h = json.dumps(header).encode()
    return struct.pack("<I", len(h)) + h + payload
def read_frame(out):
    n = struct.unpack("<I", out.read(4))[0]
    h = out.read(n)
    j = json.loads(h)
    payload = b"".join(out.read(o["nbytes"]) for o in j.get("outputs", []))
    return struct.pack("<I", n) + h + payload
w = subprocess.Popen([sys.executable, "examples/numpy/kernel.py"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
w.stdin.write(frame({"type": "hello", "protocol": 1, "bncheck": "1.1"})); w.stdin.flush()
open("fuzz/corpus/exec_reply/numpy_hello", "wb").write(b"\x01" + read_frame(w.stdout))
for k, p in enumerate(problems):
    inputs, outputs, payload = [], [], b""
    for name, written in slots[p["op"]]:
        t = p["dt"] if name in ("x", "y", "dx", "dy") else p["pt"]
        s = shape(p, name); count = int(np.prod(s))
        d = {"name": name, "dtype": t, "shape": s}
        read = not written or (p["op"] == "forward_training" and name.startswith("running_"))
        if read:
            inputs.append(dict(d, nbytes=count * size[t])); payload += values(t, count, name in ("var", "invstd", "running_var"))
        if written: outputs.append(d)
    prob = {"text": p["text"], "op": p["op"], "layout": p["layout"], "data_type": p["dt"], "param_type": p["pt"],
            "n": p["n"], "c": p["c"], "d": p["d"], "h": p["h"], "w": p["w"], "eps": 1e-05, "momentum": 0.1, "profile": p["profile"]}
    w.stdin.write(frame({"type": "run", "id": 1, "problem": prob, "inputs": inputs, "outputs": outputs}, payload)); w.stdin.flush()
    open(f"fuzz/corpus/exec_reply/numpy_done_{p['op']}_{p['layout']}", "wb").write(bytes([2 * k]) + read_frame(w.stdout))
w.stdin.close(); w.wait()

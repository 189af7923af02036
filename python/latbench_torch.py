#!/usr/bin/python3
"""latbench models in PyTorch (needs only torch and numpy).

  build(spec_text)            -> torch.nn.Sequential for any spec latbench accepts (lib/nn/netspec.h)
  load(path, spec=None)       -> (module, spec_text) from a latbench model file (.safetensors); a file
                                 without latbench's "spec" metadata (a PyTorch state_dict) needs spec
  save(module, spec, path)    writes a model file latbench reads (`latbench eval --model FILE`)
  preset(name)                -> the spec text of a latbench preset ("task1-eq", ...)
  predict(module, x)          -> float32 [N, outputs] for int16 configurations [N, 4, NT, NX]
  read_safetensors(path) / write_safetensors(path, tensors, metadata)   the file format itself

Module order.  The module is an nn.Sequential with exactly one module per spec line, in spec order,
parameterless layers included (lrelu, sigmoid, pools, global pools, flatten), so module i is spec
line i (comments and blank lines not counted) and its tensors are "{i}.weight" / "{i}.bias" in the
file, as `latbench model NAME` numbers the layers.  Example, task1-eq (a global-pool net):

  0 conv 1x1 4 64   Conv (circular padding)   0.weight [64,4,1,1]  0.bias [64]
  1 lrelu           LeakyReLU(0.01)
  2 conv 1x1 64 48  Conv                      2.weight, 2.bias
  3 lrelu
  4 conv 1x1 48 80  Conv                      4.weight, 4.bias
  5 lrelu
  6 conv 2x2 80 80  Conv                      6.weight [80,80,2,2], 6.bias
  7 lrelu
  8 gavgpool        GlobalPool('avg'): [N,C,H,W] -> [N,C]
  9 linear 80 2     Linear(80, 2)             9.weight [2,80]  9.bias [2]

A global pool is ONE module that already yields [N, C]: latbench's spec has no flatten after it (it
refuses one).  A PyTorch net written as nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(80, 2)
has one module more, so its Linear is index 10, not 9: its state_dict names ("10.weight") do not
match the spec and latbench refuses the file naming the tensors.  Rename the keys (or build the net
with build()) before saving.  For `flatten` nets (the FL presets) the numbering is the same in both:
nn.Flatten is the flatten line, and it flattens NCHW channel-major (index c*H*W + h*W + w), as
latbench does.

Layers: conv KHxKW CIN COUT [/S] is a circular ('periodic') pad then F.conv2d with PyTorch's
padding='same' split, (K-1)//2 before and the rest after in each dimension (kernels/conv2d/conv2d.h),
stride S; conv* and linear* have no bias; avgpool/maxpool KxK S are nn.AvgPool2d/MaxPool2d(K, S)
(floor mode, no padding); gavgpool/gmaxpool/gsumpool mean/max/sum over H and W; sigmoid is the
output (latbench fuses it with the BCE loss in training; predict() and `latbench eval --predictions`
give the probabilities after it).  Weights in PyTorch's layout: conv [COUT, CIN, KH, KW], linear
[OUT, IN], float32.
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FORMAT = "latbench-model-1"


class Conv(torch.nn.Module):
    """A latbench conv: circular padding with PyTorch's 'same' split, then F.conv2d."""

    def __init__(self, kh, kw, cin, cout, stride=1, bias=True):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(cout, cin, kh, kw))
        self.bias = torch.nn.Parameter(torch.empty(cout)) if bias else None
        self.kh, self.kw, self.stride = kh, kw, stride
        torch.nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        if self.bias is not None:
            bound = 1 / (cin * kh * kw) ** 0.5
            torch.nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        lh, lw = (self.kh - 1) // 2, (self.kw - 1) // 2
        if self.kh > 1 or self.kw > 1:
            x = F.pad(x, (lw, self.kw - 1 - lw, lh, self.kh - 1 - lh), mode="circular")
        return F.conv2d(x, self.weight, self.bias, stride=self.stride)

    def extra_repr(self):
        return "%dx%d, %d -> %d, stride %d, circular" % (self.kh, self.kw, self.weight.shape[1], self.weight.shape[0],
                                                          self.stride)


class GlobalPool(torch.nn.Module):
    """gavgpool / gmaxpool / gsumpool: [N, C, H, W] -> [N, C]."""

    def __init__(self, kind):
        super().__init__()
        if kind not in ("avg", "max", "sum"):
            raise ValueError("global pool kind must be avg, max or sum, not '%s'" % kind)
        self.kind = kind

    def forward(self, x):
        if self.kind == "avg":
            return x.mean(dim=(2, 3))
        if self.kind == "sum":
            return x.sum(dim=(2, 3))
        return x.flatten(2).max(dim=2).values

    def extra_repr(self):
        return self.kind


def _int(tok, what, line):
    try:
        v = int(tok)
    except (TypeError, ValueError):
        v = 0
    if v <= 0:
        raise ValueError("line %d: bad %s '%s'" % (line, what, tok))
    return v


def _kxk(tok, line):
    parts = tok.lower().split("x")
    if len(parts) != 2:
        raise ValueError("line %d: expected KxK, not '%s'" % (line, tok))
    return _int(parts[0], "size", line), _int(parts[1], "size", line)


def _layer(tok, line):
    kw = tok[0].lower()
    star = kw.endswith("*")
    kw = kw[:-1] if star else kw
    n = len(tok)
    if star and kw not in ("conv", "linear"):
        raise ValueError("line %d: '*' (no bias) applies to conv and linear only" % line)
    if kw == "conv" and n in (4, 5):
        kh, kwid = _kxk(tok[1], line)
        stride = _int(tok[4][1:], "stride", line) if n == 5 and tok[4].startswith("/") else 1 if n == 4 else 0
        if kh > 3 or kwid > 3 or stride not in (1, 2):
            raise ValueError("line %d: conv kernel 1..3 and stride /1 or /2 only" % line)
        return Conv(kh, kwid, _int(tok[2], "input channels", line), _int(tok[3], "output channels", line), stride,
                    not star)
    if kw == "linear" and n == 3:
        return torch.nn.Linear(_int(tok[1], "input size", line), _int(tok[2], "output size", line), bias=not star)
    if kw in ("avgpool", "maxpool") and n == 3:
        k, k2 = _kxk(tok[1], line)
        if k != k2:
            raise ValueError("line %d: pool window must be KxK" % line)
        s = _int(tok[2], "pool stride", line)
        return torch.nn.AvgPool2d(k, s) if kw == "avgpool" else torch.nn.MaxPool2d(k, s)
    simple = {"lrelu": lambda: torch.nn.LeakyReLU(0.01), "sigmoid": torch.nn.Sigmoid,
              "gavgpool": lambda: GlobalPool("avg"), "gmaxpool": lambda: GlobalPool("max"),
              "gsumpool": lambda: GlobalPool("sum"), "flatten": torch.nn.Flatten}
    if kw in simple and n == 1:
        return simple[kw]()
    raise ValueError("line %d: cannot read '%s' as a layer" % (line, " ".join(tok)))


def build(spec_text):
    """The nn.Sequential of a latbench spec: one module per spec line (see the module docstring)."""
    layers = []
    for no, line in enumerate(spec_text.splitlines(), 1):
        tok = line.split("#")[0].split()
        if tok:
            layers.append(_layer(tok, no))
    if not layers:
        raise ValueError("the spec has no layers")
    return torch.nn.Sequential(*layers)


def preset(name):
    """A preset's spec text, from the preset table in lib/nn/netspec.c."""
    with open(os.path.join(ROOT, "lib", "nn", "netspec.c")) as f:
        src = f.read()
    key = '{"%s",' % name
    if key not in src:
        raise ValueError("'%s' is not a latbench preset" % name)
    i = src.index(key) + len(key)
    parts = src[i:src.index("},", i)].split('"')[1::2]
    return "".join(parts).encode().decode("unicode_escape")


def read_safetensors(path):
    """{name: float32 ndarray}, {metadata key: value} of a safetensors file of F32 tensors."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: not a safetensors file (shorter than its header length)" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("%s: header length %d exceeds the file" % (path, n))
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", None) or {}
    data = memoryview(raw)[8 + n:]
    tensors = {}
    for name, t in header.items():
        if t.get("dtype") != "F32":
            raise ValueError("%s: tensor %s is %s, not F32" % (path, name, t.get("dtype")))
        b, e = t["data_offsets"]
        tensors[name] = np.frombuffer(data[b:e], dtype="<f4").astype(np.float32).reshape(t["shape"])
    return tensors, meta


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array} as float32 little-endian safetensors (tensors back to back in the given
    order, the header padded with spaces to a multiple of 8), through a temporary renamed into place."""
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(np.asarray(a, dtype="<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h)
            for b in blobs:
                f.write(b)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(module, spec, path, lattice="", metadata=None):
    """Writes module's state_dict as a latbench model file: tensors "{i}.weight"/"{i}.bias", and the
    spec text (spec=None: a plain state_dict file, which latbench reads with --spec), the lattice
    trained on ("NTxNX", may be "") and extra metadata strings."""
    tensors = {k: v.detach().cpu().float().numpy() for k, v in module.state_dict().items()}
    meta = None
    if spec is not None:
        meta = {"format": FORMAT, "spec": spec, "lattice": lattice}
        meta.update(metadata or {})
    elif metadata:
        meta = dict(metadata)
    write_safetensors(path, tensors, meta)


def load(path, spec=None):
    """(module, spec_text) of a model file: the spec from its metadata, or spec (text) when given
    (needed for a file without latbench's metadata).  Every tensor must match the spec (strict)."""
    tensors, meta = read_safetensors(path)
    if spec is None:
        spec = meta.get("spec")
        if spec is None:
            raise ValueError("%s: no model spec in its metadata (not written by latbench?): pass spec=" % path)
    net = build(spec)
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, strict=True)
    return net, spec


def predict(module, x, batch=256):
    """float32 [N, outputs]: the forward of int16 (or float) configurations x [N, 4, NT, NX]."""
    x = np.asarray(x)
    outs = []
    with torch.no_grad():
        for s in range(0, x.shape[0], batch):
            outs.append(module(torch.from_numpy(x[s:s + batch].astype(np.float32))).numpy())
    return np.concatenate(outs).astype(np.float32)

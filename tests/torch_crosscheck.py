#!/usr/bin/python3
"""Cross-checks latbench's model runtime against PyTorch.

usage: torch_crosscheck.py DUMP_DIR DATA_DIR LR WD [TOL]

DUMP_DIR holds what `latbench train --dump-step DUMP_DIR` wrote: init.safetensors (the initial
weights, with the spec in the metadata), out.npy (latbench's forward outputs on the first B samples),
grads.safetensors and updated.safetensors (after one AdamW(amsgrad) step).  This script builds the
same net in PyTorch from the spec (circular 'same' padding as explicit F.pad), loads the weights and
the dataset (x.npy int16 NCHW, y.npy), and compares outputs, gradients and updated weights.
Prints one line per quantity with the max relative difference (max |a-b| / max |b| per tensor)
and exits 1 when one exceeds TOL (default 1e-4).
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", t
        b, e = t["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").copy().reshape(t["shape"]))
    return tensors, meta


class Conv(torch.nn.Module):
    def __init__(self, kh, kw, cin, cout, stride, bias):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(cout, cin, kh, kw))
        self.bias = torch.nn.Parameter(torch.empty(cout)) if bias else None
        self.kh, self.kw, self.stride = kh, kw, stride

    def forward(self, x):
        # PyTorch's padding='same' split: left (k-1)//2, right the rest, wrapped around.
        lh, lw = (self.kh - 1) // 2, (self.kw - 1) // 2
        x = F.pad(x, (lw, self.kw - 1 - lw, lh, self.kh - 1 - lh), mode="circular")
        return F.conv2d(x, self.weight, self.bias, stride=self.stride)


class Fn(torch.nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


def build(spec):
    layers = []
    for line in spec.splitlines():
        tok = line.split("#")[0].split()
        if not tok:
            continue
        kw = tok[0].lower()
        star = kw.endswith("*")
        kw = kw.rstrip("*")
        if kw == "conv":
            kh, kwid = map(int, tok[1].split("x"))
            stride = int(tok[4][1:]) if len(tok) > 4 else 1
            layers.append(Conv(kh, kwid, int(tok[2]), int(tok[3]), stride, not star))
        elif kw == "linear":
            layers.append(torch.nn.Linear(int(tok[1]), int(tok[2]), bias=not star))
        elif kw == "lrelu":
            layers.append(torch.nn.LeakyReLU(0.01))
        elif kw == "sigmoid":
            layers.append(torch.nn.Sigmoid())
        elif kw in ("avgpool", "maxpool"):
            k, s = int(tok[1].split("x")[0]), int(tok[2])
            layers.append(torch.nn.AvgPool2d(k, s) if kw == "avgpool" else torch.nn.MaxPool2d(k, s))
        elif kw == "gavgpool":
            layers.append(Fn(lambda x: x.mean(dim=(2, 3))))
        elif kw == "gmaxpool":
            layers.append(Fn(lambda x: x.flatten(2).max(dim=2).values))
        elif kw == "gsumpool":
            layers.append(Fn(lambda x: x.sum(dim=(2, 3))))
        elif kw == "flatten":
            layers.append(torch.nn.Flatten())
        else:
            raise ValueError("unknown layer " + kw)
    return torch.nn.Sequential(*layers)


def rel(a, b):
    a, b = a.detach().double(), b.detach().double()
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)


def main():
    dump, data, lr, wd = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    tol = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-4
    torch.set_num_threads(1)
    init, meta = load_safetensors(dump + "/init.safetensors")
    grads, _ = load_safetensors(dump + "/grads.safetensors")
    upd, _ = load_safetensors(dump + "/updated.safetensors")
    out_lb = torch.from_numpy(np.load(dump + "/out.npy"))
    net = build(meta["spec"])
    net.load_state_dict(init, strict=True)
    n = out_lb.shape[0]
    x = torch.from_numpy(np.load(data + "/x.npy")[:n].astype(np.float32))
    y = torch.from_numpy(np.load(data + "/y.npy")[:n].astype(np.float32))
    fused = isinstance(net[-1], torch.nn.Sigmoid)
    body = net[:-1] if fused else net
    z = body(x)
    out = torch.sigmoid(z) if fused else z
    loss = F.binary_cross_entropy_with_logits(z, y) if fused else F.mse_loss(z, y)
    worst = 0.0
    r = rel(out_lb, out)
    worst = max(worst, r)
    print("outputs: max rel diff %.3g (%d x %d, loss %.9g)" % (r, out.shape[0], out.shape[1], loss.item()))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd, amsgrad=True, eps=1e-8, betas=(0.9, 0.999))
    opt.zero_grad()
    loss.backward()
    params = dict(net.named_parameters())
    gmax = max(rel(grads[k], params[k].grad) for k in params)
    print("gradients: max rel diff %.3g over %d tensors" % (gmax, len(params)))
    # The step from latbench's own gradients checks the optimizer alone: the first AdamW step moves
    # each weight by about lr * g / (|g| + eps), so where |g| ~ eps it amplifies any last-bit
    # gradient difference by orders of magnitude, and the end-to-end figure is reported for
    # information only.
    net2 = build(meta["spec"])
    net2.load_state_dict(init, strict=True)
    params2 = dict(net2.named_parameters())
    for k in params2:
        params2[k].grad = grads[k].clone()
    opt2 = torch.optim.AdamW(net2.parameters(), lr=lr, weight_decay=wd, amsgrad=True, eps=1e-8, betas=(0.9, 0.999))
    opt2.step()
    opt.step()
    umax = max(rel(upd[k], params2[k]) for k in params)
    e2e = max(rel(upd[k], params[k]) for k in params)
    print("updated weights: max rel diff %.3g (same gradients), %.3g (end to end)" % (umax, e2e))
    for k in params:
        g, u = rel(grads[k], params[k].grad), rel(upd[k], params2[k])
        if g > tol or u > tol:
            print("  %s: grad %.3g, updated %.3g" % (k, g, u))
    worst = max(worst, gmax, umax)
    print("crosscheck %s: worst %.3g (tolerance %g)" % ("ok" if worst <= tol else "FAILED", worst, tol))
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Cross-checks latbench's model runtime against PyTorch.

usage: torch_crosscheck.py DUMP_DIR DATA_DIR LR WD [TOL]

DUMP_DIR holds what `latbench train --dump-step DUMP_DIR` wrote: init.safetensors (the initial
weights, with the spec in the metadata), out.npy (latbench's forward outputs on the first B samples),
grads.safetensors and updated.safetensors (after one AdamW(amsgrad) step).  This script builds the
same net in PyTorch from the spec (python/latbench_torch.py build()), loads the weights and
the dataset (x.npy int16 NCHW, y.npy), and compares outputs, gradients and updated weights.
Prints one line per quantity with the max relative difference (max |a-b| / max |b| per tensor)
and exits 1 when one exceeds TOL (default 1e-4).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from latbench_torch import build, read_safetensors  # noqa: E402  (the one spec -> PyTorch translation)


def load_safetensors(path):
    tensors, meta = read_safetensors(path)
    return {k: torch.from_numpy(v) for k, v in tensors.items()}, meta


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

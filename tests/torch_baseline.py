#!/usr/bin/python3
"""PyTorch training throughput of a latbench net, for side-by-side comparison with
`latbench train` (same spec, lattice, batch, threads; AdamW amsgrad, MSE or fused sigmoid+BCE).

usage: torch_baseline.py SPEC_NAME_OR_FILE NTxNX BATCH THREADS [STEPS]
SPEC_NAME: a latbench preset (its text is taken from `latbench model`'s source of truth by
running LATBENCH_BIN, default ./latbench) or a spec file.  Prints samples/s of full training
steps (forward, backward, optimizer step) after a warm-up, on random integer inputs.
"""
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_crosscheck import build  # noqa: E402


def spec_text(name):
    if os.path.exists(name):
        return open(name).read()
    # The preset table lives in harness/nn/netspec.c; parse it from the source.
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness", "nn", "netspec.c")).read()
    key = '{"%s",' % name
    i = src.index(key) + len(key)
    j = src.index("},", i)
    parts = src[i:j].split('"')[1::2]
    return "".join(parts).encode().decode("unicode_escape")


def main():
    name, lat, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    steps = int(sys.argv[5]) if len(sys.argv) > 5 else 40
    nt, nx = map(int, lat.split("x"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = build(spec_text(name))
    fused = isinstance(net[-1], torch.nn.Sigmoid)
    body = net[:-1] if fused else net
    x = torch.randint(-2, 3, (batch, 4, nt, nx)).float()
    with torch.no_grad():
        outs = body(x).shape[1]
    y = torch.rand(batch, outs)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-2, amsgrad=True)

    def step():
        opt.zero_grad()
        z = body(x)
        loss = F.binary_cross_entropy_with_logits(z, y) if fused else F.mse_loss(z, y)
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t0
    print("torch %s %s batch %d threads %d: %.0f samples/s" % (name, lat, batch, threads, steps * batch / dt))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The PyTorch side of tests/test_torch_interop.c (python/latbench_torch.py against latbench).

usage:
  torch_interop.py export DIR PRESET...
      builds each preset in PyTorch (seed 7), saves DIR/PRESET.safetensors with the helper (spec in
      the metadata)
  torch_interop.py statedict PRESET PATH [--pool-flatten]
      saves the state_dict of the preset built in PyTorch with no latbench metadata (what a PyTorch
      user writes); --pool-flatten: the net as PyTorch users often write a global-pool net,
      AdaptiveAvgPool2d(1) + Flatten() where latbench has one gavgpool module (indices shift by one)
  torch_interop.py compare TOL MODEL:DATA:PRED[:PRESET] ...
      loads MODEL with the helper (the spec from its metadata, or PRESET's), runs PyTorch's forward on
      DATA/x.npy and compares with PRED (latbench eval --predictions); one line per model
      "MODEL: max abs diff D (outputs up to S)" and a last line "interop ok" or "interop FAILED"
      (exit 1) when D > TOL * max(1, S) or the shapes differ
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import latbench_torch as lt  # noqa: E402


def export(out, names):
    for name in names:
        torch.manual_seed(7)
        spec = lt.preset(name)
        net = lt.build(spec)
        lt.save(net, spec, os.path.join(out, name + ".safetensors"), lattice="")
    print("exported %d" % len(names))
    return 0


def statedict(name, path, pool_flatten):
    torch.manual_seed(7)
    net = lt.build(lt.preset(name))
    if pool_flatten:
        mods = []
        for m in net:
            if isinstance(m, lt.GlobalPool) and m.kind == "avg":
                mods += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()]
            else:
                mods.append(m)
        net = torch.nn.Sequential(*mods)
    lt.write_safetensors(path, {k: v.numpy() for k, v in net.state_dict().items()})
    print("state_dict %s: %s" % (name, " ".join(net.state_dict().keys())))
    return 0


def compare(tol, jobs):
    torch.set_num_threads(1)
    ok = True
    for job in jobs:
        parts = job.split(":")
        model, data, pred = parts[:3]
        spec = lt.preset(parts[3]) if len(parts) > 3 else None
        net, _ = lt.load(model, spec)
        ref = lt.predict(net, np.load(os.path.join(data, "x.npy")))
        got = np.load(pred)
        if got.shape != ref.shape or got.dtype != np.float32:
            print("%s: predictions %s %s, PyTorch %s" % (model, got.shape, got.dtype, ref.shape))
            ok = False
            continue
        d = float(np.max(np.abs(got.astype(np.float64) - ref)))
        s = float(np.max(np.abs(ref)))
        bad = not d <= tol * max(1.0, s)
        ok = ok and not bad
        print("%s: max abs diff %.3g (outputs up to %.3g)%s" % (os.path.basename(model), d, s, " FAILED" if bad else ""))
    print("interop %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "export":
        return export(argv[1], argv[2:])
    if len(argv) in (3, 4) and argv[0] == "statedict":
        return statedict(argv[1], argv[2], "--pool-flatten" in argv[3:])
    if len(argv) >= 3 and argv[0] == "compare":
        return compare(float(argv[1]), argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""PyTorch training throughput of a latbench net (a thin wrapper of tools/bench/torch_pipeline.py,
which `latbench bench` runs side by side with its own pipelines).

usage: torch_baseline.py SPEC_NAME_OR_FILE NTxNX BATCH THREADS [STEPS]
Prints samples/s of full training steps (forward, backward, AdamW step) after a warm-up.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "bench"))
import torch_pipeline  # noqa: E402


def main():
    if len(sys.argv) < 5:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    name, lat, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    steps = int(sys.argv[5]) if len(sys.argv) > 5 else 40
    nt, nx = map(int, lat.split("x"))
    torch, err = torch_pipeline.import_torch()
    if err:
        print(err, file=sys.stderr)
        return 2
    job = torch_pipeline.Job(torch, "train", torch_pipeline.spec_text(name), nt, nx, batch, threads)
    job.time(5)
    dt = job.time(steps)
    print("torch %s %s batch %d threads %d: %.0f samples/s" % (name, lat, batch, threads, steps * batch / dt))
    return 0


if __name__ == "__main__":
    sys.exit(main())

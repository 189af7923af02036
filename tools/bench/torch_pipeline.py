#!/usr/bin/python3
"""PyTorch baselines of latbench's training and inference pipelines, for side-by-side figures in
`latbench bench` (tools/bench/bench_pipeline.c) and on their own.

Same network (built from the latbench spec by python/latbench_torch.py's build(): circular
'same' padding, PyTorch's split), same lattice, batch and thread count as latbench, and the same
work per step:
  train  a batch gathered from a pool of 4*BATCH int16 configurations (x[idx].float()), forward,
         MSE (or BCE on the logits when the net ends in a sigmoid, fused as latbench does),
         backward, AdamW(amsgrad, lr 1e-2) step;
  infer  the same gather, forward of the whole net under torch.no_grad().
Configurations are random integers in [-2, 2], labels uniform in [0, 1) (throughput does not depend
on them).  1x1 convolutions use torch.nn.Conv2d directly (their circular pad is a no-op copy), the
fastest idiomatic PyTorch model.

usage:
  torch_pipeline.py [--reps N] [--min-time S] JOB...      JOB = KIND:NET:NTxNX:BATCH:THREADS
      KIND train|infer; NET a latbench preset name or a spec file.  Prints one JSON object:
      {"torch_version", "jobs": [{kind, net, lattice, batch, threads, samples_per_s,
      step_seconds (median), steps_per_rep, reps}]}; exit 2 on bad input or missing torch.
  torch_pipeline.py --serve
      Line protocol on stdin/stdout for interleaved timing (latbench bench):
        -> "ready torch VERSION"  (or "error MESSAGE" and exit)
        <- "job KIND BATCH THREADS NT NX SPEC"   (SPEC: the spec text, lines joined by ';')
        -> "ok STEP_SECONDS"  (a timed step after an untimed one)  |  "error MESSAGE"
        <- "run STEPS"         -> "time SECONDS" (wall time of STEPS steps of the current job)
        <- "quit"
"""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def spec_text(name):
    """A preset's spec text (python/latbench_torch.py preset()), or a spec file."""
    if os.path.exists(name):
        with open(name) as f:
            return f.read()
    sys.path.insert(0, os.path.join(ROOT, "python"))
    from latbench_torch import preset
    try:
        return preset(name)
    except ValueError:
        raise ValueError("'%s' is neither a latbench preset nor a spec file" % name)


class Job:
    def __init__(self, torch, kind, spec, nt, nx, batch, threads):
        import torch.nn.functional as F
        sys.path.insert(0, os.path.join(ROOT, "python"))
        from latbench_torch import Conv, build  # the one spec -> torch translation

        if kind not in ("train", "infer"):
            raise ValueError("job kind must be train or infer, not '%s'" % kind)
        if batch < 1 or threads < 1 or nt < 1 or nx < 1:
            raise ValueError("batch, threads and lattice sizes must be >= 1")
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        net = build(spec)
        for i, mod in enumerate(net):
            if isinstance(mod, Conv) and mod.kh == 1 and mod.kw == 1:
                c = torch.nn.Conv2d(mod.weight.shape[1], mod.weight.shape[0], 1, stride=mod.stride,
                                    bias=mod.bias is not None)
                net[i] = c
        self.torch, self.kind, self.batch = torch, kind, batch
        self.net = net
        fused = isinstance(net[-1], torch.nn.Sigmoid)
        self.body = net[:-1] if fused else net
        pool = 4 * batch
        self.x16 = torch.randint(-2, 3, (pool, 4, nt, nx), dtype=torch.int16)
        with torch.no_grad():
            outs = self.body(self.x16[:1].float()).shape[1]
        self.y = torch.rand(pool, outs)
        self.pool, self.next = pool, 0
        self.loss = F.binary_cross_entropy_with_logits if fused else F.mse_loss
        self.opt = torch.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.0, amsgrad=True) if kind == "train" else None

    def _batch(self):
        idx = (self.torch.arange(self.batch) + self.next) % self.pool
        self.next = (self.next + self.batch) % self.pool
        return self.x16[idx].float(), self.y[idx]

    def step(self):
        x, y = self._batch()
        if self.kind == "infer":
            with self.torch.no_grad():
                self.net(x)
            return
        self.opt.zero_grad()
        loss = self.loss(self.body(x), y)
        loss.backward()
        self.opt.step()

    def time(self, steps):
        t0 = time.perf_counter()
        for _ in range(steps):
            self.step()
        return time.perf_counter() - t0


def import_torch():
    try:
        import torch
        return torch, None
    except Exception as e:  # ImportError, or a broken install
        return None, "%s: cannot import torch (%s)" % (sys.executable, str(e).splitlines()[0] if str(e) else type(e).__name__)


def serve():
    torch, err = import_torch()
    out = sys.stdout
    if err:
        print("error " + err, file=out, flush=True)
        return 2
    print("ready torch " + torch.__version__, file=out, flush=True)
    job = None
    for line in sys.stdin:
        tok = line.rstrip("\n").split(" ", 6)
        try:
            if tok[0] == "quit":
                break
            elif tok[0] == "job" and len(tok) == 7:
                job = None
                job = Job(torch, tok[1], tok[6].replace(";", "\n"), int(tok[4]), int(tok[5]), int(tok[2]), int(tok[3]))
                job.time(1)
                reply = "ok %.9g" % job.time(1)
            elif tok[0] == "run" and len(tok) == 2 and job is not None:
                reply = "time %.9g" % job.time(max(1, int(tok[1])))
            else:
                reply = "error bad command: " + line.strip()[:80]
        except Exception as e:
            reply = "error %s: %s" % (type(e).__name__, " ".join(str(e).split())[:200])
        print(reply, file=out, flush=True)
    return 0


def parse_job(s):
    parts = s.split(":")
    if len(parts) != 5 or "x" not in parts[2]:
        raise ValueError("job '%s' is not KIND:NET:NTxNX:BATCH:THREADS" % s)
    nt, nx = map(int, parts[2].split("x"))
    return parts[0], parts[1], nt, nx, int(parts[3]), int(parts[4])


def main(argv):
    if len(argv) == 1 and argv[0] == "--serve":
        return serve()
    reps, min_time, jobs = 5, 0.2, []
    it = iter(argv)
    try:
        for a in it:
            if a == "--reps":
                reps = int(next(it))
            elif a == "--min-time":
                min_time = float(next(it))
            elif a in ("-h", "--help"):
                print(__doc__)
                return 0
            else:
                jobs.append(parse_job(a))
        if not jobs or reps < 1 or not min_time >= 0:
            raise ValueError("no job given (see --help)" if not jobs else "--reps must be >= 1, --min-time >= 0")
    except (ValueError, StopIteration) as e:
        print("torch_pipeline.py: %s" % (e if str(e) else "an option needs a value"), file=sys.stderr)
        return 2
    torch, err = import_torch()
    if err:
        print("torch_pipeline.py: " + err, file=sys.stderr)
        return 2
    res = []
    for kind, name, nt, nx, batch, threads in jobs:
        try:
            job = Job(torch, kind, spec_text(name), nt, nx, batch, threads)
        except (ValueError, OSError) as e:
            print("torch_pipeline.py: %s" % e, file=sys.stderr)
            return 2
        job.time(2)
        steps = max(1, int(min_time / max(job.time(1), 1e-9)))
        samples = [job.time(steps) / steps for _ in range(reps)]
        med = statistics.median(samples)
        res.append({"kind": kind, "net": name, "lattice": "%dx%d" % (nt, nx), "batch": batch, "threads": threads,
                    "samples_per_s": batch / med, "step_seconds": med, "steps_per_rep": steps, "reps": reps})
    import json
    print(json.dumps({"torch_version": torch.__version__, "jobs": res}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

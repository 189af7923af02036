"""The rank-scaling model of an experiment (`mpirun -n R latbench experiment`), from its measured
per-trial times (train_seconds, in the timing.json beside results.json, or inline in results.json
as older runs wrote them; without them nothing is drawn): report_scaling.png and report_scaling.md.

The model replays the experiment's own scheduler (tools/experiment/spread.c): jobs are drawn in the
order of their estimated cost (parameters x epoch limit x training samples, longest first, ties by
job number) by whichever rank is free first. A job's duration is its trial's epochs times its
architecture's median seconds per epoch over the trials: an architecture's epoch costs the same in
every trial, and the median drops the load spikes of a shared machine. Dataset generation and the
evaluation grid stay on one rank (an Amdahl term). Ranks are assumed not to slow each other (one
rank per node or per disjoint core set). The wall time can never go below the longest trial (the
critical path); "more ranks stop helping" at the smallest R within 5 % of that floor."""
import json
import os

from plot_common import median, save_atomic, write_text_atomic

RANKS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def load_timing(r):
    """The timing.json beside results.json (None when there is none)."""
    tpath = os.path.join(os.path.dirname(r.get("_path", "")) or ".", "timing.json")
    if not os.path.exists(tpath):
        return None
    with open(tpath) as f:
        return json.load(f)


def trial_times(r, timing):
    """[(estimated cost, job number, seconds)] for every trial; None when no trial time is recorded."""
    limit = (r.get("settings") or {}).get("epochs") or 1
    n = r.get("train_count") or 1
    jobs = []
    for g, a in enumerate(r.get("archs") or []):
        trials = a.get("trials") or []
        secs = []
        for t, tr in enumerate(trials):
            s = tr.get("train_seconds")
            if s is None and timing:
                s = (((timing.get("archs") or [])[g].get("trials") or [])[t] or {}).get("train_seconds")
            if s is None or not tr.get("epochs"):
                return None
            secs.append(s / tr["epochs"])
        per_epoch = median(secs) if secs else 0
        for t, tr in enumerate(trials):
            jobs.append(((a.get("params") or 0) * limit * n, g * 1000 + t, tr["epochs"] * per_epoch))
    return jobs or None


def makespan(jobs, ranks):
    """List scheduling in the scheduler's order: each job to the rank that is free first."""
    free = [0.0] * ranks
    for _, _, d in sorted(jobs, key=lambda j: (-j[0], j[1])):
        k = min(range(ranks), key=free.__getitem__)
        free[k] += d
    return max(free)


def scaling(plt, r, outdir, written, notes):
    timing = load_timing(r)
    jobs = trial_times(r, timing)
    if not jobs:  # a results file without trial times (hand-made, or trimmed): nothing to model
        return
    secs = r.get("seconds") or (timing or {}).get("seconds") or {}
    if not isinstance(secs, dict):
        secs = {}
    serial = (secs.get("generation") or 0) + (secs.get("evaluation") or 0)
    floor = max(d for _, _, d in jobs)
    rows = [(R, makespan(jobs, R)) for R in RANKS]
    one = rows[0][1] + serial
    knee = next(R for R, m in rows if m <= 1.05 * floor)
    lines = ["# Rank-scaling model of %s (%d trials)" % (os.path.basename(os.path.dirname(os.path.abspath(r["_path"]))), len(jobs)),
             "",
             "Trial time = epochs x its architecture's median s/epoch; jobs longest-estimate first to the first free rank;",
             "generation + evaluation on one rank: %.0f s. Longest trial (critical path): %.0f s. Total training: %.0f s."
             % (serial, floor, sum(d for _, _, d in jobs)),
             "",
             "| ranks | wall (s) | speedup | efficiency |", "|---:|---:|---:|---:|"]
    for R, m in rows:
        w = m + serial
        lines.append("| %d | %.0f | %.2f | %.0f %% |" % (R, w, one / w, 100 * one / w / R))
    lines += ["", "More ranks stop helping at %d ranks (training within 5 %% of the longest trial)." % knee, ""]
    write_text_atomic("\n".join(lines), outdir, "report_scaling.md", written)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog([R for R, _ in rows], [m + serial for _, m in rows], "o-", label="modelled wall time")
    ax.axhline(floor + serial, color="tab:red", ls="--", label="longest trial + serial part")
    ax.loglog([R for R, _ in rows], [one / R for R, _ in rows], ":", color="gray", label="ideal 1/R")
    ax.axvline(knee, color="gray", lw=0.8)
    ax.set_xlabel("MPI ranks")
    ax.set_ylabel("wall time (s)")
    ax.set_title("experiment over ranks: modelled from measured trial times")
    ax.legend(fontsize=8)
    save_atomic(fig, outdir, "report_scaling.png", written)
    plt.close(fig)

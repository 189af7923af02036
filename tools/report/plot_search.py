#!/usr/bin/python3
"""The report of a `latbench search` (its results.json, tools/search/search_report.c), run by
`latbench report SEARCH_DIR` or `latbench report SEARCH_DIR/results.json`.

    /usr/bin/python3 tools/report/plot_search.py RESULTS.json --out DIR

Writes into DIR, each file atomically (a temporary ".NAME.tmp-PID-XXXXXX", then a rename):
  report_search.png       left: the best validation loss so far against the trial number (a step line,
                          log y), every complete trial a dot, pruned trials a cross at their last value
                          (at the bottom edge when they have none), failed ones a red mark; right: the
                          seconds each trial took, by state, with the median dashed
  report_search_table.md  the trials by state, time per trial (median, min, max), the top K with their
                          parameter counts beside the seed's winners of the same task and family (and
                          the ratio to the smallest of them)
Exit status: 0 done, 2 bad input (one line on stderr), 3 anything else (missing matplotlib, a write
error; one line on stderr).
"""
import sys

from plot_common import read_json, run_main, BadInput, die, fmt, median, num, save_atomic, write_text_atomic

STATE_STYLE = {"complete": ("o", "tab:blue"), "pruned": ("x", "tab:orange"), "failed": ("v", "tab:red"),
               "running": ("s", "0.6")}


def load(path):
    r = read_json(path)
    ok = isinstance(r, dict) and all(isinstance(r.get(k), list) for k in ("trials", "top", "seed_winners"))
    if ok:
        ok = all(isinstance(t, dict) and isinstance(t.get("number"), int) and isinstance(t.get("state"), str)
                 for t in r["trials"]) and all(isinstance(t, dict) for t in r["top"] + r["seed_winners"])
    if not ok:
        raise BadInput("%s: not a latbench search results.json (trials, top, seed_winners)" % path)
    return r


def title(r):
    return "search %s %s: %d trials" % (r.get("task", "?"), r.get("family", "?"), len(r["trials"]))


def plot_best(ax, r):
    trials = sorted(r["trials"], key=lambda t: t["number"])
    best, steps = float("inf"), []
    for t in trials:
        v = num(t.get("value"))
        if t["state"] == "complete" and v is not None and v < best:
            best = v
        if best < float("inf"):
            steps.append((t["number"], best))
    vals = [num(t.get("value")) for t in trials if num(t.get("value")) is not None]
    log = bool(vals) and min(vals) > 0
    floor = min(vals) if vals else 1.0
    for state, (marker, colour) in STATE_STYLE.items():
        pts = [(t["number"], num(t.get("value"))) for t in trials if t["state"] == state]
        if not pts:
            continue
        with_v = [(n, v) for n, v in pts if v is not None]
        without = [n for n, v in pts if v is None]
        if with_v:
            ax.scatter(*zip(*with_v), marker=marker, color=colour, s=22, label="%s (%d)" % (state, len(pts)), zorder=3)
        if without:
            ax.scatter(without, [floor] * len(without), marker=marker, color=colour, s=22, zorder=3,
                       label=None if with_v else "%s (%d, no value)" % (state, len(pts)))
    if steps:
        ax.step(*zip(*steps), where="post", color="k", lw=1.6, label="best complete so far")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("trial number")
    ax.set_ylabel("validation loss" + (" [log scale]" if log else ""))
    ax.set_title("best loss against trials", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def plot_seconds(ax, r):
    trials = sorted(r["trials"], key=lambda t: t["number"])
    for state, (_, colour) in STATE_STYLE.items():
        pts = [(t["number"], num(t.get("seconds"))) for t in trials if t["state"] == state]
        pts = [(n, s) for n, s in pts if s is not None]
        if pts:
            ax.bar(*zip(*pts), color=colour, width=0.8, label=state)
    med = num(r.get("median_seconds_per_trial"))
    if med is not None:
        ax.axhline(med, color="k", ls="--", lw=1, label="median %.3g s (finished trials)" % med)
    ax.set_xlabel("trial number")
    ax.set_ylabel("seconds")
    ax.set_title("time per trial", fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    if ax.containers or ax.lines:
        ax.legend(fontsize=8)


def table(r, outdir, written):
    trials = r["trials"]
    states = {}
    for t in trials:
        states[t["state"]] = states.get(t["state"], 0) + 1
    secs = [num(t.get("seconds")) for t in trials if t["state"] != "running" and num(t.get("seconds")) is not None]
    seeds = [s for s in r["seed_winners"] if isinstance(s.get("n_params"), int) and s["n_params"] > 0]
    smallest = min((s["n_params"] for s in seeds), default=None)
    md = ["# %s" % title(r), "",
          "Trials: " + ", ".join("%d %s" % (n, s) for s, n in sorted(states.items())), "",
          "Time per trial (finished trials): median %s s, min %s s, max %s s" % (
              fmt(median(secs)) if secs else "—", fmt(min(secs)) if secs else "—", fmt(max(secs)) if secs else "—"), "",
          "## Best %d trials beside the seed's winners (%s %s)" % (len(r["top"]), r.get("task", "?"), r.get("family", "?")),
          "", "| rank | trial | validation loss | params | params / smallest seed winner | file |",
          "|---:|---:|---:|---:|---:|---|"]
    for t in r["top"]:
        p = t.get("n_params")
        md.append("| %s | %s | %s | %s | %s | %s |" % (
            t.get("rank", "?"), t.get("number", "?"), fmt(t.get("value")), p if p is not None else "?",
            "%.2f" % (p / smallest) if isinstance(p, int) and smallest else "—", t.get("file", "")))
    md += ["", "| seed winner | params |", "|---|---:|"]
    for s in r["seed_winners"]:
        p = s.get("n_params")
        md.append("| %s | %s |" % (s.get("name", "?"), p if isinstance(p, int) and p >= 0 else "?"))
    md += ["", "The seed's winners are the presets of `latbench model` (their parameter counts; their losses are "
           "not part of a search)."]
    write_text_atomic("\n".join(md) + "\n", outdir, "report_search_table.md", written)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    path, outdir, rest = argv[1], None, argv[2:]
    while rest:
        if rest[0] == "--out" and len(rest) > 1:
            outdir, rest = rest[1], rest[2:]
        else:
            raise BadInput("unknown argument %r" % rest[0])
    import os
    outdir = outdir or os.path.dirname(path) or "."
    r = load(path)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        die("%s needs matplotlib (%s): apt-get install python3-matplotlib" % (sys.executable, e), 3)
    written = []
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    plot_best(axes[0], r)
    plot_seconds(axes[1], r)
    fig.suptitle(title(r), fontsize=11)
    fig.tight_layout()
    save_atomic(fig, outdir, "report_search.png", written)
    plt.close(fig)
    table(r, outdir, written)
    for w in written:
        print("wrote " + w)
    return 0


if __name__ == "__main__":
    run_main(main)

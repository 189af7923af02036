"""The figures and tables of a `latbench experiment` study's results.json ("study": train_sizes,
augment, tools/experiment/studies.c; convergence, tools/experiment/convergence.c), drawn by
plot_experiment.py (its docstring lists the files)."""
import json
import os

from plot_common import family, fmt, header, loss_name, median, num, save_atomic, write_text_atomic


FAMILY_COLOURS = {"EQ": "tab:blue", "ST": "tab:orange", "FL": "tab:green", "dense": "tab:red", "?": "tab:gray"}


def trial_losses(a, r):
    """Per trial: (test loss on the training lattice, mean test loss over every test lattice or None)."""
    lats, out = r["test_lattices"], []
    for t in a["trials"]:
        test = t.get("test") or {}
        own = num((test.get(r["train_lattice"]) or {}).get("loss"))
        every = [num((test.get(l) or {}).get("loss")) for l in lats]
        out.append((own, sum(every) / len(every) if every and all(v is not None for v in every) else None))
    return out


def spread(v):
    v = [x for x in v if x is not None]
    return (median(v), min(v), max(v)) if v else (None, None, None)


def study_arch_label(a):
    if "augment" in a:
        return "%s%s" % (a["arch"], " +translations" if a["augment"] == "translations" else "")
    return a["arch"]


def plot_study_sizes(plt, r, outdir, written):
    """report_study_sizes.png: test loss (log) against training-set size (log), one line per
    architecture, median over trials with a min-max band; left the training lattice, right the mean
    over every test lattice (nets that do not run on every size have none)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    archs = []
    for a in r["archs"]:
        if a["arch"] not in archs:
            archs.append(a["arch"])
    for arch in archs:
        rows = sorted((a["train_size"], trial_losses(a, r)) for a in r["archs"] if a["arch"] == arch)
        for k, ax in enumerate(axes):
            pts = [(n, spread([tl[k] for tl in ls])) for n, ls in rows]
            pts = [(n, m) for n, m in pts if m[0] is not None]
            if not pts:
                continue
            xs = [n for n, _ in pts]
            c = FAMILY_COLOURS[family(arch)]
            ax.plot(xs, [m[0] for _, m in pts], "o-", color=c, label=arch)
            ax.fill_between(xs, [m[1] for _, m in pts], [m[2] for _, m in pts], color=c, alpha=0.2)
    for k, ax in enumerate(axes):
        ax.set_xscale("log"), ax.set_yscale("log")
        ax.set_xlabel("training-set size (samples)")
        ax.set_ylabel("test %s loss" % loss_name(r["task"]))
        ax.set_title("on the training lattice %s" % r["train_lattice"] if k == 0 else
                     "mean over %s" % ", ".join(r["test_lattices"]))
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    fig.suptitle("%s: test loss against training-set size (median over trials, min-max band)\n%s" % (
        r["task"], header(r)), fontsize=10)
    fig.tight_layout()
    save_atomic(fig, outdir, "report_study_sizes.png", written)
    plt.close(fig)


def plot_study_augment(plt, r, outdir, written):
    """report_study_augment.png: per architecture (and augmentation) the test loss on the training
    lattice and over every test lattice: median over trials (bar), min-max (whisker), log scale."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for k, ax in enumerate(axes):
        labels, meds, errs, cols, hatch = [], [], [], [], []
        for a in r["archs"]:
            m = spread([tl[k] for tl in trial_losses(a, r)])
            labels.append(study_arch_label(a))
            meds.append(m[0] if m[0] is not None else 0)
            errs.append((m[0] - m[1], m[2] - m[0]) if m[0] is not None else (0, 0))
            cols.append(FAMILY_COLOURS[family(a["arch"])])
            hatch.append("//" if a.get("augment") == "translations" else "")
        xs = range(len(labels))
        bars = ax.bar(xs, meds, color=cols, yerr=list(zip(*errs)) if errs else None, capsize=3)
        for b, h, m in zip(bars, hatch, meds):
            b.set_hatch(h)
            if m == 0:
                ax.text(b.get_x() + b.get_width() / 2, 0, "not run\non every size", ha="center", va="bottom",
                        fontsize=7, transform=ax.get_xaxis_transform())
        ax.set_xticks(list(xs))
        ax.set_xticklabels(labels, rotation=25, ha="right", fontsize=8)
        if any(m > 0 for m in meds):
            ax.set_yscale("log")
        ax.set_ylabel("test %s loss" % loss_name(r["task"]))
        ax.set_title("on the training lattice %s" % r["train_lattice"] if k == 0 else
                     "mean over %s" % ", ".join(r["test_lattices"]))
        ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.suptitle("%s: translation augmentation (hatched) of ST and FL against EQ without it\n%s" % (
        r["task"], header(r)), fontsize=10)
    fig.tight_layout()
    save_atomic(fig, outdir, "report_study_augment.png", written)
    plt.close(fig)


def convergence_timing(r):
    """The wall_seconds series of timing.json beside results.json (r["_path"]), per arch: a list per
    trial; {} when there is none (the wall-time panel and column stay empty)."""
    path = os.path.join(os.path.dirname(r.get("_path", "")) or ".", "timing.json")
    try:
        with open(path, "rb") as f:
            tm = json.loads(f.read().decode("utf-8"))
        return {a["arch"]: [t.get("wall_seconds") or [] for t in a["trials"]] for a in tm["archs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def conv_family(a):
    return a.get("family") or family(a["arch"])


def conv_series(a, walls):
    """Per epoch (1-based): the median, min and max over trials of the validation loss, and the
    median wall time (None without timing.json)."""
    curves = [t["curve"]["val_loss"] for t in a["trials"]]
    n = min(len(c) for c in curves) if curves else 0
    w = [s for s in walls.get(a["arch"], []) if len(s) >= n]
    out = []
    for e in range(n):
        v = [num(c[e]) for c in curves]
        v = [x for x in v if x is not None]
        out.append((e + 1, median(v) if v else None, min(v) if v else None, max(v) if v else None,
                    median([s[e] for s in w]) if w else None))
    return out


def plot_study_convergence(plt, r, outdir, written):
    """report_study_convergence.png: validation loss (log) against epochs (left) and against wall
    time since the trial's start (right, from timing.json), one line per net (median over trials,
    min-max band against epochs), the target dashed."""
    walls = convergence_timing(r)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for a in r["archs"]:
        pts = [p for p in conv_series(a, walls) if p[1] is not None]
        if not pts:
            continue
        c = FAMILY_COLOURS.get(conv_family(a), "tab:gray")
        label = "%s (%s, %s params)" % (a["arch"], conv_family(a), a.get("params", "?"))
        axes[0].plot([p[0] for p in pts], [p[1] for p in pts], "-", color=c, label=label)
        axes[0].fill_between([p[0] for p in pts], [p[2] for p in pts], [p[3] for p in pts], color=c, alpha=0.15)
        tw = [p for p in pts if p[4] is not None]
        if tw:
            axes[1].plot([p[4] for p in tw], [p[1] for p in tw], "-", color=c, label=label)
    target = num(r.get("target"))
    for k, ax in enumerate(axes):
        if target is not None:
            ax.axhline(target, color="k", ls="--", lw=1, label="target %g" % target if k == 0 else None)
        ax.set_yscale("log")
        if k == 1 and ax.lines:
            ax.set_xscale("log")  # the dense net's epochs take a fraction of the conv nets'
        ax.set_xlabel("epoch" if k == 0 else "wall time since the trial's start (s, log)")
        ax.set_ylabel("validation %s loss" % loss_name(r["task"]))
        ax.set_title("against epochs" if k == 0 else "against wall time" if axes[1].lines else
                     "against wall time: no timing.json beside results.json")
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    fig.suptitle("%s: convergence of the EQ, ST, FL winners and a dense net (median over trials)\n%s" % (
        r["task"], header(r)), fontsize=10)
    fig.tight_layout()
    save_atomic(fig, outdir, "report_study_convergence.png", written)
    plt.close(fig)


def convergence_table(r, outdir, written, extra_md=()):
    """report_table.md of the convergence study: per net its parameters (and their ratio to the EQ
    net's), the epochs and seconds to reach the target, the best and last validation loss and the
    test loss, medians over trials."""
    walls = convergence_timing(r)
    eq = next((a.get("params") for a in r["archs"] if conv_family(a) == "EQ"), None)
    md = ["# %s experiment, study convergence%s: validation %s loss to reach %s" % (
          r["task"], " (quick)" if r.get("quick") else "", loss_name(r["task"]), fmt(num(r.get("target")))),
          "", header(r), "",
          "| net | family | params | params / EQ | reached | epochs to target | seconds to target | best val | "
          "last val | test (%s) |" % r["train_lattice"], "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for a in r["archs"]:
        ts, ws = a["trials"], walls.get(a["arch"], [])
        ep = [t.get("epochs_to_target") for t in ts]
        sec = [ws[i][e - 1] for i, e in enumerate(ep) if e and i < len(ws) and len(ws[i]) >= e]
        reached = [e for e in ep if e]
        p = a.get("params")
        md.append("| %s | %s | %s | %s | %d/%d | %s | %s | %s | %s | %s |" % (
            a["arch"], conv_family(a), p if p is not None else "?",
            "%.2f" % (p / eq) if p and eq else "—", len(reached), len(ts),
            fmt(median(reached)) if reached else "—", fmt(median(sec)) if sec else "—",
            fmt(median([num(t.get("val_loss")) for t in ts if num(t.get("val_loss")) is not None] or [None])),
            fmt(median([num(t["curve"]["val_loss"][-1]) for t in ts if t["curve"]["val_loss"]] or [None])),
            fmt(median([num((t.get("test", {}).get(r["train_lattice"]) or {}).get("loss")) for t in ts
                        if num((t.get("test", {}).get(r["train_lattice"]) or {}).get("loss")) is not None] or [None]))))
    md += ["", "epochs and seconds to target: medians over the trials that reach it; seconds: wall time since the "
           "trial's start (timing.json), on %s with %s threads" % (
               (r.get("machine") or {}).get("cpu", "this machine"), r.get("settings", {}).get("threads", "?"))]
    md += list(extra_md)
    write_text_atomic("\n".join(md) + "\n", outdir, "report_table.md", written)


def study_table(r, outdir, written, extra_md=()):
    """report_table.md of a study: one row per architecture (and size or augmentation): median,
    min and max over trials of the test loss on the training lattice and over every lattice."""
    study = r["study"]
    if study == "convergence":
        return convergence_table(r, outdir, written, extra_md)
    key = {"train_sizes": ("training samples", lambda a: str(a.get("train_size", "?"))),
           "augment": ("augmentation", lambda a: a.get("augment", "?"))}.get(study, ("", lambda a: ""))
    md = ["# %s experiment, study %s%s: %s test loss" % (r["task"], study, " (quick)" if r.get("quick") else "",
                                                          loss_name(r["task"])),
          "", header(r), "",
          "| arch | params | %s | trials | test (%s) median | min | max | test (all sizes) median | min | max |"
          % (key[0], r["train_lattice"]), "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for a in r["archs"]:
        ls = trial_losses(a, r)
        cells = []
        for k in range(2):
            cells += [fmt(v) for v in spread([tl[k] for tl in ls])]
        md.append("| %s | %s | %s | %d | %s |" % (a["arch"], a.get("params", "?"), key[1](a), len(a["trials"]),
                                                  " | ".join(cells)))
    md += ["", "all sizes: per trial the mean over %s; — : the net does not run on every size"
           % ", ".join(r["test_lattices"])]
    md += list(extra_md)
    write_text_atomic("\n".join(md) + "\n", outdir, "report_table.md", written)


STUDY_PLOTS = {"train_sizes": plot_study_sizes, "augment": plot_study_augment, "convergence": plot_study_convergence}

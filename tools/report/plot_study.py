"""The figures and tables of a `latbench experiment` study's results.json ("study": train_sizes,
augment; tools/experiment/studies.c), drawn by plot_experiment.py (its docstring lists the files)."""
from plot_experiment import family, fmt, header, loss_name, median, num, save_atomic, write_text_atomic


FAMILY_COLOURS = {"EQ": "tab:blue", "ST": "tab:orange", "FL": "tab:green", "?": "tab:gray"}


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


def study_table(r, outdir, written):
    """report_table.md of a study: one row per architecture (and size or augmentation): median,
    min and max over trials of the test loss on the training lattice and over every lattice."""
    study = r["study"]
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
    write_text_atomic("\n".join(md) + "\n", outdir, "report_table.md", written)


STUDY_PLOTS = {"train_sizes": plot_study_sizes, "augment": plot_study_augment}

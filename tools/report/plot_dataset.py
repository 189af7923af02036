#!/usr/bin/python3
"""The label distributions of a dataset directory (`latbench generate` output, or an experiment's
cached dataset: meta.json, x.npy, y.npy; lib/lattice/gendata.c), run by `latbench report DIR`.

    /usr/bin/python3 tools/report/plot_dataset.py DIR --out OUTDIR

Writes into OUTDIR, each file atomically (a temporary ".NAME.tmp-PID-XXXXXX", then a rename):
  report_dataset_labels.png  regression: one panel per label (n, |phi|^2) against mu, every sample a
                             dot (spread sideways), the median per (eta, mu) point as a line with the
                             16-84 % band, one colour per eta; detect: the class balance per (eta, mu)
                             point (stacked bars, fraction with a violation); count: the histogram of
                             the number of open worms K (log y), one panel per lattice size
  report_dataset_table.md    count, mean, std, min, max per label over the whole set, then per
                             (eta, mu) point
An experiment's report (plot_experiment.py) draws each dataset its results.json names ("datasets")
the same way, as report_dataset_<NAME>_labels.png and report_dataset_<NAME>_table.md beside its own
figures (dataset_section below); a dataset that is gone is a note, not an error.
Exit status: 0 done, 2 bad input (not a dataset, a damaged meta.json or .npy; one line on stderr),
3 anything else (missing numpy/matplotlib, a write error; one line on stderr).
"""
import os
import sys

from plot_common import read_json, run_main, BadInput, die, save_atomic, write_text_atomic

TASKS = ("regression", "detect", "count")
LABEL_NAMES = {"n": "n (winding number density)", "phi2": "|\u03c6|\u00b2", "violation": "violation (K > 0)",
               "open_worms": "K (open worms)"}


def load_meta(d):
    path = os.path.join(d, "meta.json")
    m = read_json(path)
    ok = isinstance(m, dict) and str(m.get("format", "")).startswith("latbench-dataset") and m.get("task") in TASKS
    lat = m.get("lattice") if ok else None
    if not ok or not (isinstance(lat, list) and len(lat) == 2 and all(isinstance(v, int) for v in lat)):
        raise BadInput("%s: not a latbench dataset's meta.json (format, task, lattice)" % path)
    pts = m.get("points")
    good = isinstance(pts, list) and pts and all(
        isinstance(p, dict) and all(isinstance(p.get(k), (int, float)) and not isinstance(p.get(k), bool)
                                    for k in ("eta", "mu", "offset", "count")) for p in pts)
    if not good:
        raise BadInput("%s: no \"points\" list with eta, mu, offset, count" % path)
    return m


def load_npy(np, d, name, shape0):
    path = os.path.join(d, name)
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except OSError as e:
        raise BadInput("%s: %s" % (path, e.strerror or e))
    except (ValueError, EOFError) as e:
        raise BadInput("%s: not a readable .npy (%s)" % (path, " ".join(str(e).split())))
    if a.ndim < 1 or a.shape[0] != shape0:
        raise BadInput("%s: shape %s, meta.json says %d samples" % (path, a.shape, shape0))
    return a


def load(np, d):
    m = load_meta(d)
    count = m.get("count")
    if not isinstance(count, int) or count < 1:
        raise BadInput("%s: no positive \"count\"" % os.path.join(d, "meta.json"))
    load_npy(np, d, "x.npy", count)  # the header and size are checked; the configurations are not read
    y = np.array(load_npy(np, d, "y.npy", count), dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    cols = (m.get("y") or {}).get("columns") or ["y%d" % i for i in range(y.shape[1])]
    if len(cols) != y.shape[1]:
        raise BadInput("%s: %d label columns, meta.json names %d" % (os.path.join(d, "y.npy"), y.shape[1], len(cols)))
    for p in m["points"]:
        if p["offset"] < 0 or p["count"] < 0 or p["offset"] + p["count"] > count:
            raise BadInput("%s: point (eta %g, mu %g) outside the %d samples" % (
                os.path.join(d, "meta.json"), p["eta"], p["mu"], count))
    return m, y, cols


def lattice_name(m):
    return "%dx%d" % tuple(m["lattice"])


def point_slices(m):
    """[((eta, mu), slice of the samples)], in meta.json's order."""
    return [((float(p["eta"]), float(p["mu"])), slice(int(p["offset"]), int(p["offset"]) + int(p["count"])))
            for p in m["points"]]


def plot_regression(np, plt, m, y, cols, fig_axes):
    fig, axes = fig_axes
    pts = point_slices(m)
    etas = sorted({k[0] for k, _ in pts})
    cmap = plt.get_cmap("tab10")
    mus = sorted({k[1] for k, _ in pts})
    spacing = min((b - a for a, b in zip(mus, mus[1:])), default=0.1)
    rng = np.random.default_rng(0)
    for j, (ax, col) in enumerate(zip(axes, cols)):
        for e_i, eta in enumerate(etas):
            c = cmap(e_i % 10)
            line = []
            for (eta_p, mu), sl in pts:
                v = y[sl, j]
                if eta_p != eta or not len(v):
                    continue
                ax.scatter(mu + rng.uniform(-0.15, 0.15, len(v)) * spacing, v, s=6, color=c, alpha=0.35, lw=0)
                line.append((mu, np.median(v), np.percentile(v, 16), np.percentile(v, 84)))
            if line:
                line.sort()
                x, med, lo, hi = (np.array(t) for t in zip(*line))
                ax.plot(x, med, "o-", color=c, lw=1.8, ms=4, label="\u03b7 = %g: median" % eta)
                ax.fill_between(x, lo, hi, color=c, alpha=0.2, lw=0)
        ax.set_xlabel("chemical potential \u03bc")
        ax.set_ylabel(LABEL_NAMES.get(col, col))
        ax.set_title("label %s" % col, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, title="dots: samples; band: 16-84 %", title_fontsize=8)


def plot_detect(np, plt, m, y, cols, fig_axes):
    fig, axes = fig_axes
    ax = axes[0]
    pts = point_slices(m)
    names = ["\u03b7 %g\n\u03bc %g" % k for k, _ in pts]
    pos = [float(np.mean(y[sl, 0] > 0.5)) if sl.stop > sl.start else 0.0 for _, sl in pts]
    x = np.arange(len(pts))
    ax.bar(x, [1 - p for p in pos], color="tab:blue", label="clean (y = 0)")
    ax.bar(x, pos, bottom=[1 - p for p in pos], color="tab:red", label="violated (y = 1)")
    for xi, (p, (_, sl)) in zip(x, zip(pos, pts)):
        ax.text(xi, 1.01, "%d" % (sl.stop - sl.start), ha="center", va="bottom", fontsize=8)
    ax.axhline(0.5, color="k", ls="--", lw=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("fraction of the point's samples (number above)")
    ax.set_title("class balance per (\u03b7, \u03bc) point", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")


def plot_count(np, plt, datasets, ax):
    """datasets: [(lattice name, y)]: one histogram of K per lattice size, log y."""
    kmax = int(max(np.max(y[:, 0]) for _, y in datasets)) if datasets else 0
    cmap = plt.get_cmap("tab10")
    n = len(datasets)
    width = 0.8 / max(n, 1)
    for i, (lat, y) in enumerate(datasets):
        k = np.rint(y[:, 0]).astype(int)
        h = np.bincount(k[k >= 0], minlength=kmax + 1)
        ax.bar(np.arange(kmax + 1) + (i - (n - 1) / 2) * width, h, width=width, color=cmap(i % 10), alpha=0.85,
               label="%s (%d samples)" % (lat, len(y)))
    ax.set_ylim(bottom=0.5)
    ax.set_yscale("log")
    ax.set_xticks(range(kmax + 1))
    ax.set_xlabel("K (number of open worms)")
    ax.set_ylabel("samples [log scale]")
    ax.set_title("histogram of the counts per lattice size", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def stats_rows(np, name, v):
    if not len(v):
        return "| %s | 0 | — | — | — | — |" % name
    return "| %s | %d | %.5g | %.5g | %.5g | %.5g |" % (name, len(v), np.mean(v), np.std(v), np.min(v), np.max(v))


def table(np, d, m, y, cols, outdir, name, written):
    md = ["# Dataset %s: task %s on %s, %d samples" % (os.path.basename(os.path.normpath(d)) or d, m["task"],
                                                         lattice_name(m), len(y)), "",
          "seed %s, %s chains per point, %s thermalization sweeps, spacing: %s" % (
              m.get("seed", "?"), m.get("chains_per_point", "?"), m.get("therm", "?"), m.get("spacing_rule", "?")), ""]
    for j, col in enumerate(cols):
        md += ["## Label %s" % col, "", "| samples | count | mean | std | min | max |", "|---|---:|---:|---:|---:|---:|",
               stats_rows(np, "all", y[:, j])]
        for (eta, mu), sl in point_slices(m):
            md.append(stats_rows(np, "\u03b7 %g, \u03bc %g" % (eta, mu), y[sl, j]))
        md.append("")
    md.append("std: population standard deviation (ddof 0)")
    write_text_atomic("\n".join(md) + "\n", outdir, name, written)


def draw(np, plt, d, m, y, cols, outdir, stem, written):
    """Dataset d's label figure and table (load's m, y, cols) into outdir as STEM_labels.png and
    STEM_table.md."""
    task = m["task"]
    ncol = len(cols) if task == "regression" else 1
    fig, axes = plt.subplots(1, ncol, figsize=(6.2 * ncol + 0.6, 4.8), squeeze=False)
    if task == "regression":
        plot_regression(np, plt, m, y, cols, (fig, axes[0]))
    elif task == "detect":
        plot_detect(np, plt, m, y, cols, (fig, axes[0]))
    else:
        plot_count(np, plt, [(lattice_name(m), y)], axes[0][0])
    fig.suptitle("dataset %s: %s labels on %s, %d samples at %d point(s)" % (
        os.path.basename(os.path.normpath(d)) or d, task, lattice_name(m), len(y), len(m["points"])), fontsize=11)
    fig.tight_layout()
    save_atomic(fig, outdir, stem + "_labels.png", written)
    plt.close(fig)
    table(np, d, m, y, cols, outdir, stem + "_table.md", written)


def experiment_datasets(r, path):
    """The "datasets" of an experiment's results.json r (at path): [(entry, directory)], the directory
    resolved against results.json's own (each "dir" is relative to it and stays inside it)."""
    ds = r.get("datasets", [])
    if not isinstance(ds, list):
        raise BadInput('%s: "datasets" is not a list' % path)
    out = []
    for e in ds:
        rel = e.get("dir") if isinstance(e, dict) else None
        if not isinstance(rel, str) or not isinstance(e.get("role"), str) or not rel or os.path.isabs(rel) or \
                ".." in rel.split("/"):
            raise BadInput('%s: a "datasets" entry lacks role or a relative dir inside the output' % path)
        out.append((e, os.path.join(os.path.dirname(path) or ".", rel)))
    return out


def dataset_section(plt, sets, outdir, written, notes):
    """An experiment's datasets (experiment_datasets' list): each one's label figure and table drawn
    into outdir (draw, stem report_dataset_<NAME>); the markdown lines of the section that links
    them; a dataset that is gone or damaged gives a note and a row saying so."""
    if not sets:
        return []
    import numpy as np
    md = ["", "## Datasets", "", "directories relative to results.json's; settings: `latbench generate` arguments", "",
          "| role | lattice | samples | directory | labels | settings |", "|---|---|---:|---|---|---|"]
    missing, damaged = [], []
    for e, d in sets:
        name = os.path.basename(os.path.normpath(e["dir"]))
        stem = "report_dataset_" + name
        cells = [e["role"], str(e.get("lattice", "?")), "—", "`%s`" % e["dir"], "", "`%s`" % e.get("settings", "?")]
        if not os.path.isdir(d):
            missing.append(e["dir"])
            cells[4] = "missing"
        else:
            try:
                m, y, cols = load(np, d)
            except BadInput as why:
                damaged.append("%s (%s)" % (e["dir"], why))
                cells[4] = "damaged"
            else:
                draw(np, plt, d, m, y, cols, outdir, stem, written)
                cells[2] = str(len(y))
                cells[4] = "[figure](%s_labels.png), [table](%s_table.md)" % (stem, stem)
        md.append("| " + " | ".join(cells) + " |")
    if missing:
        notes.append("dataset%s missing (removed?): %s; %s label figure%s not drawn" % (
            "s" if len(missing) > 1 else "", ", ".join(missing), "their" if len(missing) > 1 else "its",
            "s" if len(missing) > 1 else ""))
    for why in damaged:
        notes.append("dataset %s: its label figure not drawn" % why)
    return md


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    d, outdir, rest = argv[1], None, argv[2:]
    while rest:
        if rest[0] == "--out" and len(rest) > 1:
            outdir, rest = rest[1], rest[2:]
        else:
            raise BadInput("unknown argument %r" % rest[0])
    outdir = outdir or d
    try:
        import numpy as np
    except ImportError as e:
        die("%s needs numpy (%s): apt-get install python3-numpy" % (sys.executable, e), 3)
    m, y, cols = load(np, d)  # bad input is named before matplotlib's import (the slow part)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        die("%s needs matplotlib (%s): apt-get install python3-matplotlib" % (sys.executable, e), 3)
    written = []
    draw(np, plt, d, m, y, cols, outdir, "report_dataset", written)
    for w in written:
        print("wrote " + w)
    return 0


if __name__ == "__main__":
    run_main(main)

#!/usr/bin/python3
"""Plots of a `latbench experiment` results.json (run by `latbench report RESULTS.json [--out DIR]`).

    /usr/bin/python3 tools/report/plot_experiment.py RESULTS.json --out DIR [--jobs N]

--jobs N (N >= 2): the figures drawn by two processes (the same files; `latbench experiment` of
several ranks passes its rank count: the other ranks' cores are idle by then).

Writes into DIR, each file atomically (a temporary ".NAME.tmp-PID-XXXXXX" in DIR, then a rename):
  report_loss_vs_lattice.png  test loss against lattice size (sites, log-log), one line per
                              architecture: median over trials, min-max band, one marker per trial;
                              nets that do not run on a size (FL) have no point there (legend says so);
                              for detection a second panel holds the accuracy
  report_loss_vs_mu.png       when results.json holds per-(eta, mu) losses (trials[].test[LATTICE].per_point:
                              [{"eta", "lambda", "mu", "n", "loss", "accuracy" (detection)}, ...], as
                              `latbench experiment` writes them for every task; the older per_mu forms
                              {"0.95": loss, ...} / [{"mu": 0.95, "loss": ...}] are read too), else skipped
                              with a note: one panel per test lattice, test loss (log) against mu, one colour
                              per architecture, one line style/marker per eta when the test set has several,
                              median over trials with a min-max band (bars when several eta); the training set
                              is marked on the training lattice's panel (regression: the mu range 0.90..1.05
                              shaded; detect/count: the (eta, mu) points (4.25, 1) and (4.01, 1.5), dotted lines
                              and stars; docs/design.md §3, not recorded in results.json; a --train-mu study
                              ("study": "train_mu") shades the range its archs record instead, and marks the
                              onset mu_c ~ 0.94 (regression) on every panel, dotted); nets skipped on a lattice
                              say so in the legend; a second row holds the accuracy when the data have it
  report_loss_vs_label.png    count only, when results.json holds per-K losses (test[LATTICE].per_label:
                              [{"label": K, "n", "loss"}, ...]), else skipped with a note: one panel per test
                              lattice, test loss (MSE, log) against the number of open worms K, one line per
                              architecture (median over trials, min-max band), dashed lines at the trained
                              K = 0 and 5
  report_table.png            the seed-style table: mean/median of validation loss, test loss on the
  report_table.md             training size and test loss over all sizes, per architecture (the .md
                              also holds the median test loss per lattice size, with per-(eta, mu) data the
                              median test loss (and accuracy, detection) per (eta, mu) on the largest test
                              lattice, and with per-K data the median test loss per K, one table per lattice;
                              a --train-mu study's: its training mu range against the test range, and where
                              the training range lies against the onset)
A study's results.json ("study", tools/experiment/studies.c) gets its own figure and table instead
(tools/report/plot_study.py):
  report_study_sizes.png      train_sizes: test loss against training-set size, one line per architecture
                              (median over trials, min-max band), on the training lattice and over all sizes
  report_study_augment.png    augment: test loss per architecture with (hatched) and without translation
                              augmentation, on the training lattice and over all sizes
  report_study_convergence.png  convergence: validation loss against epochs and against wall time
                              (timing.json beside results.json), one line per net, the target dashed
  report_table.md             the study's table: median, min and max over trials per row
Exit status: 0 done, 2 bad input (one line on stderr), 3 anything else (missing matplotlib, a write
error...; one line on stderr).
"""
import math
import os
import sys

from lbatomic import WriteError
from plot_dataset import dataset_section, experiment_datasets
from plot_common import read_json, run_main, BadInput, Forked, die, family, fmt, header, loss_name, median, num, save_atomic, sites, write_text_atomic
from plot_points import (TRAIN_LABELS, gather, label_entries, onset_mu, per_lattice, point_entries, points_of,
                         train_mu_range, train_points, train_test_lines, recorded_train_mu)

def load(path):
    r = read_json(path)
    why = None
    if not isinstance(r, dict):
        why = "not a JSON object"
    elif not isinstance(r.get("task"), str):
        why = 'no "task"'
    elif not isinstance(r.get("train_lattice"), str):
        why = 'no "train_lattice"'
    elif not isinstance(r.get("test_lattices"), list) or not r["test_lattices"] or \
            not all(isinstance(x, str) for x in r["test_lattices"]):
        why = 'no "test_lattices" list'
    elif not isinstance(r.get("archs"), list) or not r["archs"]:
        why = 'no "archs" list'
    else:
        for a in r["archs"]:
            if not isinstance(a, dict) or not isinstance(a.get("arch"), str) or \
                    not isinstance(a.get("trials"), list) or not isinstance(a.get("summary"), dict) or \
                    not all(isinstance(t, dict) and isinstance(t.get("test", {}), dict) for t in a["trials"]):
                why = 'an "archs" entry lacks arch/trials/summary'
                break
    if why:
        raise BadInput("%s: not a latbench experiment results.json (%s)" % (path, why))
    for lat in r["test_lattices"]:
        sites(lat)
    return r


def plot_vs_lattice(plt, r, outdir, written):
    import matplotlib.ticker
    task = r["task"]
    lats = sorted(r["test_lattices"], key=sites)
    xs = {lat: sites(lat) for lat in lats}
    has_acc = any("accuracy" in (e or {}) for a in r["archs"] for t in a["trials"]
                  for e in (t.get("test") or {}).values() if isinstance(e, dict))
    ncol = 2 if has_acc else 1
    fig, axes = plt.subplots(1, ncol, figsize=(8.5 * ncol + 3.6, 6.2), squeeze=False)
    markers = {"EQ": "o", "ST": "s", "FL": "^", "?": "D"}
    cmap = plt.get_cmap("tab10")
    panels = [("loss", "test loss (%s, mean over the test set)" % loss_name(task), True)]
    if has_acc:
        panels.append(("accuracy", "test accuracy (threshold 0.5)", False))
    for col, (key, ylabel, logy) in enumerate(panels):
        ax = axes[0][col]
        allpos = True
        for i, a in enumerate(r["archs"]):
            vals, skipped = per_lattice(a, lats, key)
            pts = [(xs[l], median(vals[l]), min(vals[l]), max(vals[l])) for l in lats if vals[l]]
            label = "%s (%s, %s params)" % (a["arch"], family(a["arch"]), a.get("params", "?"))
            if skipped:
                label += "\n  not run on %s (fixed input size)" % ", ".join(skipped)
            c, m = cmap(i % 10), markers[family(a["arch"])]
            dodge = 1.035 ** (i - (len(r["archs"]) - 1) / 2)  # side by side around the size, on the log axis
            if pts:
                x, med, lo, hi = zip(*pts)
                x = [v * dodge for v in x]
                ax.plot(x, med, marker=m, color=c, lw=1.8, ms=7, label=label)
                # the min-max range at each size as a bar (bands between sizes merged into one another)
                ax.vlines(x, lo, hi, color=c, alpha=0.6, lw=1.4)
                for l in lats:
                    ax.scatter([xs[l] * dodge] * len(vals[l]), vals[l], color=c, marker=m, s=16, alpha=0.5, lw=0)
                    allpos = allpos and all(v > 0 for v in vals[l])
            else:
                ax.plot([], [], marker=m, color=c, label=label + " (no data)")
        ax.set_xscale("log")
        if logy and allpos:
            ax.set_yscale("log")
        lo_x, hi_x = min(xs.values()), max(xs.values())
        ax.set_xlim(lo_x / 1.35, hi_x * 1.35)
        ax.set_xticks([xs[l] for l in lats])
        ax.set_xticklabels(["%s\n(%d)" % (l, xs[l]) for l in lats])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())  # sizes only, no decade ticks
        ax.set_xlabel("test lattice N_t x N_x  (sites, log scale)")
        ax.set_ylabel(ylabel + ("  [log scale]" if logy and allpos else ""))
        tr = r["train_lattice"]
        if tr in xs:
            ax.axvline(xs[tr], color="0.5", ls="--", lw=1)
            ax.text(xs[tr], 0.98, " trained on %s" % tr, transform=ax.get_xaxis_transform(), va="top", ha="left",
                    fontsize=9, color="0.35")
        ax.grid(True, which="major", alpha=0.3)
    # right of the last panel, never over the data
    h, lab = axes[0][0].get_legend_handles_labels()
    axes[0][ncol - 1].legend(h, lab, fontsize=8.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
                             title="line: median over trials\nbar: min-max; small marks: trials", title_fontsize=8)
    fig.suptitle("%s experiment%s: test %s vs lattice size (trained on %s; tested on %s)\n%s" %
                 (task, " (quick)" if r.get("quick") else "", "loss" + (" and accuracy" if has_acc else ""),
                  r["train_lattice"], ", ".join(lats), header(r)), fontsize=11)
    fig.tight_layout()
    save_atomic(fig, outdir, "report_loss_vs_lattice.png", written)
    plt.close(fig)


def arch_label(a, skipped, short=False):
    label = "%s (%s%s)" % (a["arch"], family(a["arch"]), "" if short else ", %s params" % a.get("params", "?"))
    if skipped:
        label += "\n  not run on %s (fixed input size)" % ", ".join(skipped)
    return label


def eta_text(eta):
    return "\u03b7 = %g" % eta if eta is not None else "\u03b7 not given"


def log_y(axes_row, headroom=0.0):
    """A log y axis shared by a row of panels, with 10^n tick labels (minor ones too when the row spans
    less than about a decade, where a log axis has few or no major ticks), and headroom (a fraction of the
    height) free of data at the top for annotations."""
    import matplotlib.ticker
    ax = axes_row[0]
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    if headroom:
        hi = hi * (hi / lo) ** (headroom / (1 - headroom))
        ax.set_ylim(lo, hi)
    # one tick format on every log axis (10^n, as matplotlib's default), the minor ones alike
    ax.yaxis.set_major_formatter(matplotlib.ticker.LogFormatterSciNotation())
    narrow = hi / lo < 12
    ax.yaxis.set_minor_formatter(matplotlib.ticker.LogFormatterSciNotation(labelOnlyBase=False) if narrow
                                 else matplotlib.ticker.NullFormatter())
    for a in axes_row:
        a.tick_params(axis="y", which="both", labelleft=True, labelsize=8.5)
        a.grid(True, which="minor" if narrow else "major", axis="y", alpha=0.3)


def legend_ncol(arch_handles):
    return 1 if len(arch_handles) <= 2 else 2 if len(arch_handles) <= 4 else 3


def legend_height(arch_handles, style_handles):
    """Inches the legends under the panels take."""
    lines = sum(1 + h.get_label().count("\n") for h in arch_handles)
    rows = max(math.ceil(lines / legend_ncol(arch_handles)), len(style_handles)) + 1
    return rows * 0.18 + 0.2


def bottom_legends(fig, arch_handles, style_handles, style_title, spread="band"):
    """The architecture legend (colours) bottom left, the style legend (eta, training marks) bottom right."""
    fig.legend(handles=arch_handles, loc="lower left", bbox_to_anchor=(0.01, 0.0), ncol=legend_ncol(arch_handles),
               fontsize=8.5, title="colour: architecture; line: median over trials; %s: min-max over trials" % spread,
               title_fontsize=8.5, frameon=False)
    if style_handles:
        fig.legend(handles=style_handles, loc="lower right", bbox_to_anchor=(0.99, 0.0), fontsize=8.5,
                   title=style_title or None, title_fontsize=8.5, frameon=False)


def plot_vs_mu(plt, r, outdir, written, notes):
    import matplotlib.patches
    task = r["task"]
    lats = sorted(r["test_lattices"], key=sites)
    found = any(point_entries(e) for a in r["archs"] for t in a["trials"] for e in (t.get("test") or {}).values())
    if not found:
        notes.append("loss-vs-mu plot skipped: results.json holds one loss per lattice size, "
                     "no per-(eta, mu) losses (test[LATTICE].per_point)")
        return
    data = [gather(a, lats, lambda e: points_of(e, "loss")) for a in r["archs"]]
    accs = [gather(a, lats, lambda e: points_of(e, "accuracy"))[0] for a in r["archs"]]
    has_acc = any(accs[i][lat] for i in range(len(r["archs"])) for lat in lats)
    keys = sorted({k for d, _ in data for lat in lats for k in d[lat]} |
                  {k for d in accs for lat in lats for k in d[lat]}, key=lambda k: (k[0] is None, k[0] or 0, k[1]))
    etas = sorted({k[0] for k in keys}, key=lambda x: (x is None, x or 0))
    mus = sorted({k[1] for k in keys})
    several_eta = len(etas) > 1
    spacing = min((b - a for a, b in zip(mus, mus[1:])), default=0.1)
    na = len(r["archs"])
    cmap = plt.get_cmap("tab10")

    def dodge(i, e=0):
        """Side by side around each mu: architecture i, over at most 0.4 of the mu spacing (one eta per row)."""
        width = spacing * min(0.4, 0.06 * (na - 1))
        return width * (i / (na - 1) - 0.5) if na > 1 else 0.0

    # One row of panels per eta: a panel then holds one line per architecture (not one per architecture and
    # eta), each with its min-max band, and line styles need not stand for eta.
    eta_rows = etas if several_eta else [etas[0]]
    rows = [("loss", data, "test loss (%s) [log scale]" % loss_name(task), eta) for eta in eta_rows]
    if has_acc:
        rows += [("accuracy", [(d, None) for d in accs], "test accuracy (threshold 0.5)", eta) for eta in eta_rows]
    n = len(lats)
    arch_handles = [plt.Line2D([], [], color=cmap(i % 10), lw=2.5, label=arch_label(a, data[i][1]))
                    for i, a in enumerate(r["archs"])]
    style_handles = []
    tr = r["train_lattice"]
    mu_range, tpoints, onset = train_mu_range(r), train_points(r), onset_mu(r)
    if tr in lats and mu_range:
        style_handles.append(matplotlib.patches.Patch(color="0.5", alpha=0.2, label="training \u03bc range %g..%g (%s panel)"
                                                      % (mu_range[0], mu_range[1], tr)))
    if onset is not None:
        style_handles.append(plt.Line2D([], [], color="tab:red", ls=":", lw=1.4,
                                        label="onset \u03bc_c \u2248 %g (60x4, docs/design.md \u00a73)" % onset))
    if tr in lats and tpoints:
        style_handles.append(plt.Line2D([], [], color="k", marker="*", ms=11, ls="none", mfc="none",
                                        label="trained at (\u03b7, \u03bc) = %s\n  (on %s; thin grey lines)" %
                              (", ".join("(%g, %g)" % p for p in tpoints), tr)))
    legend_in = legend_height(arch_handles, style_handles)
    panel_h = 4.4 if len(rows) <= 2 else 3.4
    fig, axes = plt.subplots(len(rows), n, figsize=(max(4.6 * n, 11), panel_h * len(rows) + legend_in + 0.9),
                             squeeze=False, sharey="row")
    for row, (what, dd, ylabel, row_eta) in enumerate(rows):
        for j, lat in enumerate(lats):
            ax = axes[row][j]
            any_data = False
            for i, a in enumerate(r["archs"]):
                d = dd[i][0][lat]
                c = cmap(i % 10)
                ks = sorted(k for k in d if k[0] == row_eta)
                if not ks:
                    continue
                any_data = True
                x = [k[1] + dodge(i) for k in ks]
                med, lo, hi = [median(d[k]) for k in ks], [min(d[k]) for k in ks], [max(d[k]) for k in ks]
                ax.plot(x, med, color=c, ls="-", marker="o", ms=4.5, lw=1.5)
                # min-max over trials as bars: bands of nine nets would merge into one grey area
                ax.errorbar(x, med, yerr=[[v - l for v, l in zip(med, lo)], [h - v for v, h in zip(med, hi)]],
                            fmt="none", ecolor=c, elinewidth=1, capsize=2.5, alpha=0.6)
            if lat == tr and mu_range:
                ax.axvspan(mu_range[0], mu_range[1], color="0.5", alpha=0.2, lw=0)
                if row == 0:
                    ax.text(0.5 * (mu_range[0] + mu_range[1]), 0.98, "training \u03bc range", ha="center", va="top",
                            fontsize=8, color="0.3", transform=ax.get_xaxis_transform())
            if onset is not None:
                ax.axvline(onset, color="tab:red", ls=":", lw=1.4, zorder=1)
            if lat == tr and tpoints:
                for eta, mu in tpoints:
                    if row_eta is not None and round(eta, 6) != row_eta:
                        continue
                    ax.axvline(mu, color="0.7", ls="-", lw=0.8, zorder=0)
                    # a star on each net's curve at the training point, if that point was tested
                    for i in range(na):
                        v = dd[i][0][lat].get((round(eta, 6), round(mu, 6)))
                        if v:
                            ax.plot([mu + dodge(i)], [median(v)], marker="*", ms=13, mfc="none", mec="k", mew=0.9, ls="none")
            if not any_data:
                ax.text(0.5, 0.5, "no net has %s\nper (\u03b7, \u03bc) on %s" % (what, lat), ha="center", va="center",
                        transform=ax.transAxes, fontsize=9, color="0.4", bbox=dict(fc="white", ec="0.8"))
            ax.set_xlim(mus[0] - spacing * 0.5, mus[-1] + spacing * 0.5)
            if len(mus) <= 6:
                ax.set_xticks(mus)
            ax.set_xlabel("chemical potential \u03bc")
            if row == 0:
                ax.set_title("test lattice %s%s" % (lat, " (training size)" if lat == tr else ""), fontsize=10)
            if several_eta and j == n - 1:
                ax.text(1.02, 0.5, eta_text(row_eta), rotation=-90, va="center", ha="left", fontsize=10,
                        transform=ax.transAxes)
            ax.grid(True, which="major", alpha=0.3)
            if j == 0:
                ax.set_ylabel(ylabel)
            else:
                ax.tick_params(labelleft=True)
        vals = [v for i in range(na) for lat in lats for vs in dd[i][0][lat].values() for v in vs]
        if what == "loss" and vals and min(vals) > 0:
            log_y(axes[row], 0.12 if (tr in lats and mu_range) else 0.0)
        elif what == "loss":
            axes[row][0].set_ylabel(ylabel.replace(" [log scale]", ""))
    if several_eta:
        what_vs = "per (\u03b7, \u03bc)"
    else:
        what_vs = "vs \u03bc" + (" at \u03b7 = %g" % etas[0] if etas[0] is not None else "")
    if recorded_train_mu(r):
        what_vs += ", trained on \u03bc %g..%g only" % recorded_train_mu(r)
    bottom_legends(fig, arch_handles, style_handles, "", "bar")
    fig.suptitle("%s experiment%s: test %s %s, per test lattice (trained on %s)\n%s" %
                 (task, " (quick)" if r.get("quick") else "", "loss and accuracy" if has_acc else "loss", what_vs,
                  tr, header(r)), fontsize=11)
    h = fig.get_figheight()
    fig.tight_layout(rect=(0, legend_in / h, 1, 1))
    save_atomic(fig, outdir, "report_loss_vs_mu.png", written)
    plt.close(fig)


def plot_vs_label(plt, r, outdir, written, notes):
    if r["task"] != "count":
        return
    lats = sorted(r["test_lattices"], key=sites)
    data = [gather(a, lats, label_entries) for a in r["archs"]]
    if not any(d[lat] for d, _ in data for lat in lats):
        notes.append("loss-vs-K plot skipped: results.json holds no per-K losses (test[LATTICE].per_label)")
        return
    labels = sorted({k for d, _ in data for lat in lats for k in d[lat]})
    trained = TRAIN_LABELS.get("count", [])
    cmap = plt.get_cmap("tab10")
    na, n, tr = len(r["archs"]), len(lats), r["train_lattice"]
    arch_handles = [plt.Line2D([], [], color=cmap(i % 10), lw=2.5, marker="o", ms=4, label=arch_label(a, data[i][1]))
                    for i, a in enumerate(r["archs"])]
    style_handles = [plt.Line2D([], [], color="0.4", ls="--", lw=1.2,
                                label="trained on K = %s" % ", ".join("%d" % k for k in trained))] if trained else []
    legend_in = legend_height(arch_handles, style_handles)
    fig, axes = plt.subplots(1, n, figsize=(max(4.6 * n, 11), 4.6 + legend_in + 0.9), squeeze=False, sharey="row")
    for j, lat in enumerate(lats):
        ax = axes[0][j]
        any_data = False
        for i in range(na):
            d = data[i][0][lat]
            if not d:
                continue
            any_data = True
            c = cmap(i % 10)
            off = min(0.5, 0.08 * (na - 1)) * ((i / (na - 1)) - 0.5) if na > 1 else 0.0  # side by side around K
            ks = sorted(d)
            x, med = [k + off for k in ks], [median(d[k]) for k in ks]
            ax.plot(x, med, color=c, marker="o", ms=3.5, lw=1.5)
            # min-max over trials as bars: bands of nine nets merged into one another
            ax.errorbar(x, med, yerr=[[m - min(d[k]) for m, k in zip(med, ks)], [max(d[k]) - m for m, k in zip(med, ks)]],
                        fmt="none", ecolor=c, elinewidth=0.9, capsize=1.5, alpha=0.6)
        for k in trained:
            ax.axvline(k, ymax=0.87, color="0.4", ls="--", lw=1.2)  # below the annotation
        if trained:
            ax.text(0.5 * (min(trained) + max(trained)), 0.98, "trained on K = %s (dashed lines)" %
                    ", ".join("%d" % k for k in trained), fontsize=8, color="0.3", va="top", ha="center",
                    transform=ax.get_xaxis_transform())
        if not any_data:
            ax.text(0.5, 0.5, "no net has per-K losses on %s" % lat, ha="center", va="center", transform=ax.transAxes,
                    fontsize=9, color="0.4", bbox=dict(fc="white", ec="0.8"))
        ax.set_xlim(min(labels + trained) - 0.6, max(labels + trained) + 0.6)
        ax.set_xticks(sorted(set(int(k) for k in labels + trained)))
        ax.set_xlabel("K (number of inserted open worms)")
        ax.set_title("test lattice %s%s" % (lat, " (training size)" if lat == tr else ""), fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        if j == 0:
            ax.set_ylabel("test loss (MSE of the predicted K) [log scale]")
        else:
            ax.tick_params(labelleft=True)
    vals = [v for d, _ in data for lat in lats for vs in d[lat].values() for v in vs]
    if min(vals) > 0:
        log_y(axes[0], 0.12 if trained else 0.0)
    else:
        axes[0][0].set_ylabel("test loss (MSE of the predicted K)")
    bottom_legends(fig, arch_handles, style_handles, "", spread="bar")
    fig.suptitle("count experiment%s: test loss per number of open worms K, per test lattice (trained on %s)\n%s" %
                 (" (quick)" if r.get("quick") else "", tr, header(r)), fontsize=11)
    fig.tight_layout(rect=(0, legend_in / fig.get_figheight(), 1, 1))
    save_atomic(fig, outdir, "report_loss_vs_label.png", written)
    plt.close(fig)


def cell(d, key, skipped, lat):
    return ("%.4g" % median(d[key])) if d.get(key) else ("not run" if lat in skipped else "—")


def point_tables(r, lats):
    """The markdown sections of the median test loss (and accuracy) per (eta, mu) on the largest test lattice
    (the largest with such data, when no net has them on the largest)."""
    out = []
    for what in ("loss", "accuracy"):
        data = [gather(a, lats, lambda e: points_of(e, what)) for a in r["archs"]]
        with_data = [lat for lat in lats if any(d[lat] for d, _ in data)]
        if not with_data:
            continue
        big = with_data[-1]
        keys = sorted({k for d, _ in data for k in d[big]}, key=lambda k: (k[0] is None, k[0] or 0, k[1]))
        etas = {k[0] for k in keys}
        one_eta = len(etas) == 1
        heads = [("\u03bc %g" % k[1]) if one_eta else ("\u03b7 %g, \u03bc %g" % k) for k in keys]
        out += ["", "## Median test %s per (eta, mu) on the largest test lattice (%s)" %
                (what if what == "accuracy" else "loss", big if big == lats[-1] else
                 "%s; no net has them on %s" % (big, ", ".join(lats[lats.index(big) + 1:]))), ""]
        if one_eta and None not in etas:
            out += ["All points at \u03b7 = %g." % keys[0][0], ""]
        out += [
                "| arch | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(keys)]
        for a, (d, skipped) in zip(r["archs"], data):
            out.append("| %s | " % a["arch"] + " | ".join(cell(d[big], k, skipped, big) for k in keys) + " |")
        if what == "loss":
            tp, mr = train_points(r), train_mu_range(r)
            if recorded_train_mu(r):
                out += train_test_lines(r, sorted({k[1] for k in keys}))
            elif tp:
                out += ["", "Trained on %s at (\u03b7, \u03bc) = %s." % (r["train_lattice"], ", ".join(
                    "(%g, %g)" % p for p in tp))]
            elif mr:
                out += ["", "Trained on %s at \u03bc %.2f..%.2f." % (r["train_lattice"], mr[0], mr[1])]
    return out


def label_tables(r, lats):
    """The markdown sections of the median test loss per K (counting), one table per test lattice."""
    data = [gather(a, lats, label_entries) for a in r["archs"]]
    ks = sorted({k for d, _ in data for lat in lats for k in d[lat]})
    if not ks:
        return []
    trained = TRAIN_LABELS.get(r["task"], [])
    out = ["", "## Median test loss per K (number of open worms) per lattice size", ""]
    if trained:
        out += ["Trained on K = %s only (marked *)." % ", ".join("%d" % k for k in trained), ""]
    for lat in lats:
        out += ["### %s%s" % (lat, " (training size)" if lat == r["train_lattice"] else ""), "",
                "| arch | " + " | ".join("K=%g%s" % (k, "*" if k in trained else "") for k in ks) + " |",
                "|---|" + "---:|" * len(ks)]
        for a, (d, skipped) in zip(r["archs"], data):
            out.append("| %s | " % a["arch"] + " | ".join(cell(d[lat], k, skipped, lat) for k in ks) + " |")
        out.append("")
    return out[:-1]


TABLE_COLS = [("val_mean", "val loss\nmean"), ("val_median", "val loss\nmedian"),
              ("test_train_size_mean", "test loss (train size)\nmean"),
              ("test_train_size_median", "test loss (train size)\nmedian"),
              ("test_all_sizes_mean", "test loss (all sizes)\nmean"),
              ("test_all_sizes_median", "test loss (all sizes)\nmedian")]


def table(plt, r, outdir, written, extra_md=()):
    task, lats = r["task"], sorted(r["test_lattices"], key=sites)
    rows = []
    for a in r["archs"]:
        s = a["summary"]
        rows.append([a["arch"], str(a.get("params", "?")), str(len(a["trials"]))] + [fmt(s.get(k)) for k, _ in TABLE_COLS])
    heads = ["arch", "params", "trials"] + [h for _, h in TABLE_COLS]
    title = "%s experiment%s: %s loss, trained on %s, tested on %s" % (
        task, " (quick)" if r.get("quick") else "", loss_name(task), r["train_lattice"], ", ".join(lats))
    foot = ("test loss (all sizes): per trial the mean over the %d test sizes, then mean/median over trials; "
            "— : not defined (the net does not run on every size)" % len(lats))

    md = ["# %s" % title, "", header(r), "",
          "| " + " | ".join(h.replace("\n", " ") for h in heads) + " |",
          "|" + "|".join("---" if i == 0 else "---:" for i in range(len(heads))) + "|"]
    md += ["| " + " | ".join(row) + " |" for row in rows]
    md += ["", foot, "", "## Median test loss over trials per lattice size", "",
           "| arch | " + " | ".join(lats) + " |", "|---|" + "---:|" * len(lats)]
    for a in r["archs"]:
        vals, skipped = per_lattice(a, lats)
        md.append("| %s | " % a["arch"] + " | ".join(
            ("%.4g" % median(vals[l])) if vals[l] else ("not run" if l in skipped else "—") for l in lats) + " |")
    md += point_tables(r, lats) + label_tables(r, lats) + list(extra_md)
    write_text_atomic("\n".join(md) + "\n", outdir, "report_table.md", written)

    h = 1.6 + 0.42 * len(rows)
    fig, ax = plt.subplots(figsize=(14, h))
    ax.axis("off")
    widths = [0.11, 0.06, 0.05] + [0.13] * len(TABLE_COLS)
    tb = ax.table(cellText=rows, colLabels=heads, loc="center", cellLoc="center", colWidths=widths)
    tb.auto_set_font_size(False)
    tb.set_fontsize(9)
    tb.scale(1, 1.5)
    for (i, j), cell in tb.get_celld().items():
        if i == 0:
            cell.set_height(cell.get_height() * 1.7)
            cell.set_facecolor("#dde6f0")
            cell.set_text_props(weight="bold")
        elif i % 2 == 0:
            cell.set_facecolor("#f5f5f5")
    ax.set_title(title + "\n" + header(r), fontsize=10.5)
    fig.text(0.5, 0.02, foot, ha="center", fontsize=8, color="0.3")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save_atomic(fig, outdir, "report_table.png", written)
    plt.close(fig)




def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    path, outdir, jobs = argv[1], None, 1
    rest = argv[2:]
    while rest:
        if rest[0] == "--out" and len(rest) > 1:
            outdir, rest = rest[1], rest[2:]
        elif rest[0] == "--jobs" and len(rest) > 1 and rest[1].isdigit() and int(rest[1]) >= 1:
            jobs, rest = int(rest[1]), rest[2:]
        else:
            raise BadInput("unknown argument %r" % rest[0])
    if outdir is None:
        outdir = os.path.dirname(path) or "."
    r = load(path)
    r["_path"] = path  # a study's timing.json lies beside its results.json
    sets = experiment_datasets(r, path)  # checked before anything is drawn
    try:
        os.makedirs(outdir, exist_ok=True)
    except OSError as e:
        raise WriteError("cannot create %s: %s" % (outdir, e.strerror))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        die("%s needs matplotlib (%s): apt-get install python3-matplotlib" % (sys.executable, e), 3)
    written, notes = [], []
    from plot_study import STUDY_PLOTS, study_table  # the studies' figures (tools/report/plot_study.py)
    study = r.get("study") in STUDY_PLOTS
    # --jobs 2 or more: the loss-vs-mu figure (the longest: a panel per test lattice, a band per point) in
    # a second process while this one draws the datasets', the lattice and the label figures (about as
    # long); the lists come out as one process makes them
    mu, label = ([], []), ([], [])  # each figure's written and notes
    child = Forked(lambda w, n: plot_vs_mu(plt, r, outdir, w, n)) if jobs > 1 and not study else None
    try:
        # the datasets it trained and tested on: their label figures, linked from the table's markdown
        data_md = dataset_section(plt, sets, outdir, written, notes)
        if not study:
            plot_vs_lattice(plt, r, outdir, written)
            if not child:
                plot_vs_mu(plt, r, outdir, *mu)
            plot_vs_label(plt, r, outdir, *label)
    finally:
        if child:
            mu = child.join()
    if study:
        STUDY_PLOTS[r["study"]](plt, r, outdir, written)
        study_table(r, outdir, written, data_md)
    else:
        written += mu[0] + label[0]
        notes += mu[1] + label[1]
        table(plt, r, outdir, written, data_md)
        from plot_scaling import scaling  # the rank-scaling model (tools/report/plot_scaling.py)
        scaling(plt, r, outdir, written, notes)
    for n in notes:
        print("note: " + n)
    for w in written:
        print("wrote " + w)
    return 0


if __name__ == "__main__":
    run_main(main)

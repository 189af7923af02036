#!/usr/bin/python3
"""Plots of a `latbench experiment` results.json (run by `latbench report RESULTS.json [--out DIR]`).

    /usr/bin/python3 harness/report/plot_experiment.py RESULTS.json --out DIR

Writes into DIR, each file atomically (a temporary ".NAME.tmp-XXXX" in DIR, then a rename):
  report_loss_vs_lattice.png  test loss against lattice size (sites, log-log), one line per
                              architecture: median over trials, min-max band, one marker per trial;
                              nets that do not run on a size (FL) have no point there (legend says so);
                              for detection a second panel holds the accuracy
  report_loss_vs_mu.png       regression only, and only when results.json holds per-mu losses
                              (trials[].test[LATTICE].per_mu: {"0.95": loss, ...} or
                              [{"mu": 0.95, "loss": ...}, ...]); `latbench experiment` does not write
                              them today, so this plot is skipped with a note
  report_table.png            the seed-style table: mean/median of validation loss, test loss on the
  report_table.md             training size and test loss over all sizes, per architecture (the .md
                              also holds the median test loss per lattice size)
Exit status: 0 done, 2 bad input (one line on stderr), 1 anything else (missing matplotlib...).
"""
import json
import math
import os
import sys
import tempfile

PROG = "latbench report"


class BadInput(Exception):
    pass


def die(msg, code):
    sys.stderr.write("%s: %s\n" % (PROG, " ".join(str(msg).split())))
    sys.exit(code)


def sites(lat):
    try:
        nt, nx = lat.lower().split("x")
        return int(nt) * int(nx)
    except (ValueError, AttributeError):
        raise BadInput("bad lattice name %r" % (lat,))


def num(v):
    """A finite float or None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def load(path):
    try:
        with open(path, "rb") as f:
            r = json.loads(f.read().decode("utf-8"))
    except OSError as e:
        raise BadInput("%s: %s" % (path, e.strerror))
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput("%s: not JSON (%s)" % (path, e))
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


def family(arch):
    a = arch.lower()
    for key, name in (("-eq", "EQ"), ("-st", "ST"), ("-fl", "FL")):
        if key in a:
            return name
    return "?"


def loss_name(task):
    return {"detect": "BCE", "regression": "MSE", "count": "MSE"}.get(task, "loss")


def save_atomic(fig, outdir, name, written):
    path = os.path.join(outdir, name)
    fd, tmp = tempfile.mkstemp(prefix="." + name + ".tmp-", dir=outdir)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png", dpi=120)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    written.append(path)


def write_text_atomic(text, outdir, name, written):
    path = os.path.join(outdir, name)
    fd, tmp = tempfile.mkstemp(prefix="." + name + ".tmp-", dir=outdir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    written.append(path)


def header(r):
    s = r.get("settings") or {}
    bits = []
    if r.get("train_count") is not None:
        bits.append("%s training samples" % r["train_count"])
    if s.get("trials") is not None:
        bits.append("%s trials" % s["trials"])
    if s.get("epochs") is not None:
        bits.append("<= %s epochs" % s["epochs"])
    return ", ".join(bits)


def per_lattice(a, lats, key="loss"):
    """{lattice: [values over trials]} and the lattices on which every trial was skipped."""
    vals, skipped = {}, []
    for lat in lats:
        v, nskip = [], 0
        for t in a["trials"]:
            e = (t.get("test") or {}).get(lat)
            if not isinstance(e, dict):
                continue
            if "skipped" in e:
                nskip += 1
            x = num(e.get(key))
            if x is not None:
                v.append(x)
        vals[lat] = v
        if nskip and not v:
            skipped.append(lat)
    return vals, skipped


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def plot_vs_lattice(plt, r, outdir, written):
    import matplotlib.ticker
    task = r["task"]
    lats = sorted(r["test_lattices"], key=sites)
    xs = {lat: sites(lat) for lat in lats}
    has_acc = any("accuracy" in (e or {}) for a in r["archs"] for t in a["trials"]
                  for e in (t.get("test") or {}).values() if isinstance(e, dict))
    ncol = 2 if has_acc else 1
    fig, axes = plt.subplots(1, ncol, figsize=(8.5 * ncol, 6.2), squeeze=False)
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
                if len(x) > 1:
                    ax.fill_between(x, lo, hi, color=c, alpha=0.15, lw=0)
                ax.vlines(x, lo, hi, color=c, alpha=0.5, lw=1.2)  # the min-max range at each size
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
        if col == 0:
            ax.legend(fontsize=8.5, loc="best", title="line: median over trials; band/bar: min-max; small marks: trials",
                      title_fontsize=8)
    fig.suptitle("%s experiment%s: test %s vs lattice size (trained on %s; tested on %s)\n%s" %
                 (task, " (quick)" if r.get("quick") else "", "loss" + (" and accuracy" if has_acc else ""),
                  r["train_lattice"], ", ".join(lats), header(r)), fontsize=11)
    fig.tight_layout()
    save_atomic(fig, outdir, "report_loss_vs_lattice.png", written)
    plt.close(fig)


def per_mu_points(e):
    pm = e.get("per_mu") if isinstance(e, dict) else None
    out = []
    if isinstance(pm, dict):
        for k, v in pm.items():
            try:
                mu = float(k)
            except ValueError:
                continue
            v = num(v if not isinstance(v, dict) else v.get("loss"))
            if v is not None:
                out.append((mu, v))
    elif isinstance(pm, list):
        for p in pm:
            if isinstance(p, dict) and num(p.get("mu")) is not None and num(p.get("loss")) is not None:
                out.append((num(p["mu"]), num(p["loss"])))
    return out


def plot_vs_mu(plt, r, outdir, written, notes):
    if r["task"] != "regression":
        return
    lats = sorted(r["test_lattices"], key=sites)
    found = any(per_mu_points(e) for a in r["archs"] for t in a["trials"] for e in (t.get("test") or {}).values())
    if not found:
        notes.append("loss-vs-mu plot skipped: results.json holds one loss per lattice size, no per-mu losses")
        return
    n = len(lats)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 5.6), squeeze=False, sharey=True)
    cmap = plt.get_cmap("tab10")
    handles = []
    for i, a in enumerate(r["archs"]):
        c, missing = cmap(i % 10), []
        for j, lat in enumerate(lats):
            ax = axes[0][j]
            bymu = {}
            for t in a["trials"]:
                for mu, v in per_mu_points((t.get("test") or {}).get(lat)):
                    bymu.setdefault(mu, []).append(v)
            if not bymu:
                missing.append(lat)
                continue
            mus = sorted(bymu)
            ax.plot(mus, [median(bymu[m]) for m in mus], marker="o", ms=4, color=c)
            ax.fill_between(mus, [min(bymu[m]) for m in mus], [max(bymu[m]) for m in mus], color=c, alpha=0.15, lw=0)
        label = "%s (%s)" % (a["arch"], family(a["arch"]))
        if missing:
            label += ": no loss on %s" % ", ".join(missing)
        handles.append(plt.Line2D([], [], color=c, marker="o", ms=4, label=label))
    for j, lat in enumerate(lats):
        ax = axes[0][j]
        ax.set_yscale("log")
        ax.set_xlabel("chemical potential \u03bc (lattice units)")
        ax.set_title("test lattice %s%s" % (lat, " (training size)" if lat == r["train_lattice"] else ""), fontsize=10)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("test loss (MSE) [log scale]")
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 3), fontsize=9,
               title="line: median over trials; band: min-max over trials", title_fontsize=8.5)
    fig.suptitle("regression experiment%s: test loss vs \u03bc per test lattice (trained on %s)\n%s" %
                 (" (quick)" if r.get("quick") else "", r["train_lattice"], header(r)), fontsize=11)
    fig.tight_layout(rect=(0, 0.13, 1, 1))
    save_atomic(fig, outdir, "report_loss_vs_mu.png", written)
    plt.close(fig)


def fmt(v):
    v = num(v)
    return "—" if v is None else "%.4g" % v


TABLE_COLS = [("val_mean", "val loss\nmean"), ("val_median", "val loss\nmedian"),
              ("test_train_size_mean", "test loss (train size)\nmean"),
              ("test_train_size_median", "test loss (train size)\nmedian"),
              ("test_all_sizes_mean", "test loss (all sizes)\nmean"),
              ("test_all_sizes_median", "test loss (all sizes)\nmedian")]


def table(plt, r, outdir, written):
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
    path, outdir = argv[1], None
    rest = argv[2:]
    while rest:
        if rest[0] == "--out" and len(rest) > 1:
            outdir, rest = rest[1], rest[2:]
        else:
            raise BadInput("unknown argument %r" % rest[0])
    if outdir is None:
        outdir = os.path.dirname(path) or "."
    r = load(path)
    os.makedirs(outdir, exist_ok=True)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        die("%s needs matplotlib (%s): apt-get install python3-matplotlib" % (sys.executable, e), 1)
    written, notes = [], []
    plot_vs_lattice(plt, r, outdir, written)
    plot_vs_mu(plt, r, outdir, written, notes)
    table(plt, r, outdir, written)
    for n in notes:
        print("note: " + n)
    for w in written:
        print("wrote " + w)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BadInput as e:
        die(e, 2)
    except SystemExit:
        raise
    except BaseException as e:  # one line, whatever went wrong
        die("plotting failed: %s: %s" % (type(e).__name__, e), 1)

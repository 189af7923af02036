#!/usr/bin/python3
"""Plots of a `latbench bench` result (JSON): our kernels against oneDNN per layer, a roofline,
and, when present, the pipelines against PyTorch.  Called by `latbench report RESULTS.json`.

usage: plot_bench.py RESULTS.json --out DIR

Writes into DIR (atomically: a temporary name, then rename):
  <stem>-vs-onednn.png   ours / oneDNN (fastest path with its copies) per conv and pool layer,
                         one panel per thread count; below 1 ours is faster
  <stem>-roofline.png    achieved GFLOP/s of ours and oneDNN against arithmetic intensity (FLOPs per
                         compulsory byte), under the measured FMA peak and memory bandwidth
  <stem>-pipelines.png   samples/s of ours and PyTorch per pipeline (when the run timed pipelines)
  <stem>-nodes.png       a multi-node run (mpirun, "nodes" in the JSON): ours' time per kernel with one
                         bar per node, hosts labelled (the plots above are of the top level: rank 0's node)
  <stem>-summary.md      the tables behind the plots (and a table per node)
Exit status: 0 done, 2 bad input (one line on stderr), 3 plotting or writing failed (one line).
"""
import json
import math
import os
import sys

from lbatomic import WriteError, install_signal_cleanup, write_atomic


def fail(msg, code=2):
    print("latbench report: " + " ".join(str(msg).split()), file=sys.stderr)
    sys.exit(code)


def save(fig, path):
    write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"))


def write_text(path, text):
    write_atomic(path, lambda f: f.write(text), binary=False)


# The record fields the plots read, and their types: a record holding one of another type is bad
# input (one line, exit 2), not a traceback.
NUM = (int, float)
FIELDS = {"q1_time": NUM, "q3_time": NUM, "threads_used": int, "configs_per_s": NUM, "scalar_configs_per_s": NUM,
          "name": str, "problem": str, "op": str, "pass": str, "layers": (str, list), "impl": str,
          "onednn_best_path": str, "threads": int, "real_time": NUM, "ratio_vs_onednn": NUM,
          "onednn_best_time": NUM, "pct_fma_peak": NUM, "flops": NUM, "bytes": NUM, "GFLOPS": NUM,
          "samples_per_s": NUM, "torch_samples_per_s": NUM}
POSITIVE = {"threads", "flops", "bytes", "GFLOPS", "samples_per_s", "real_time", "ratio_vs_onednn"}


def latbench_rows(recs):
    """The rows that carry latbench's fields: a benchmark's median aggregate (named by its run_name,
    without google-benchmark's "_median"); its iteration rows and other aggregates are left out."""
    out = []
    for r in recs:
        if isinstance(r, dict):
            kind, agg = r.get("run_type"), r.get("aggregate_name")
            if kind == "iteration" or (kind == "aggregate" and agg not in (None, "median")):
                continue
            if agg == "median" and isinstance(r.get("run_name"), str):
                r = dict(r, name=r["run_name"])
        out.append(r)
    return out


def check_records(path, recs):
    for i, r in enumerate(recs):
        where = "%s: benchmarks[%d]" % (path, i)
        if not isinstance(r, dict):
            fail(where + ": not a JSON object")
        if not isinstance(r.get("name"), str):
            fail(where + ': no "name" string')
        for key, typ in FIELDS.items():
            v = r.get(key)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, typ):
                fail('%s ("%s"): "%s" is %s, expected %s' % (where, r["name"], key, json.dumps(v)[:40],
                                                               "a string" if typ is str else ("a string or list" if typ == (str, list) else "a number")))
            if typ in (NUM, int) and (not math.isfinite(v) or (key in POSITIVE and v <= 0)):
                fail('%s ("%s"): "%s" is %s, expected a positive finite number' % (where, r["name"], key, v))
        if r.get("ratio_vs_onednn") and not isinstance(r.get("problem"), str):
            fail('%s ("%s"): a "ratio_vs_onednn" record needs "problem"' % (where, r["name"]))
        if r.get("ratio_vs_onednn") and not isinstance(r.get("real_time"), NUM):
            fail('%s ("%s"): a "ratio_vs_onednn" record needs "real_time"' % (where, r["name"]))
        if (r.get("ratio_vs_onednn") or r.get("GFLOPS")) and not isinstance(r.get("threads"), int):
            fail('%s ("%s"): no "threads" count' % (where, r["name"]))


def peak_of(ctx, threads):
    """Measured FMA peak (GFLOP/s) at this thread count of the ISA our conv2d dispatched to (else the
    best measured), and that ISA."""
    peaks = ctx.get("fma_peak_gflops") or {}
    isa = ((ctx.get("dispatch") or {}).get("conv2d") or "").split("_")[0]
    if isa in peaks and peaks[isa].get(str(threads)):
        return peaks[isa][str(threads)], isa
    best, isa = 0.0, None
    for name, per in peaks.items():
        v = per.get(str(threads))
        if v and v > best:
            best, isa = v, name
    return best, isa


def bandwidth_of(ctx, threads, key="stream_gbps"):
    bw = ctx.get(key) or {}
    v = bw.get(str(threads))
    if v is None and bw:
        v = max(bw.values())
    return v


def short_label(rec):
    """'task1-eq:conv2 fwd mb32 8x8' from the record's layers and problem descriptor."""
    layers = (rec.get("layers") or "").split(" ")[0]
    prob = rec.get("problem", rec["name"])
    desc = prob.split("/", 1)[1] if "/" in prob else prob
    mb = ih = iw = ""
    for part in desc.split("_"):
        if part.startswith("mb"):
            mb = part
        elif part.startswith("ih") and "iw" in part:
            ih, iw = part[2:].split("iw")
    lat = f"{ih}x{iw}" if ih else ""
    return f"{layers} {rec.get('pass', '')} {mb} {lat}".strip()


PASS_COLORS = {"fwd": "tab:blue", "bwd_data": "tab:orange", "bwd_weights": "tab:green", "bwd": "tab:purple"}
BATCH_MARKERS = ["o", "s", "^", "D", "v", "P"]
plt_rc = {"font.size": 9.5, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9}


def batch_of(rec):
    for part in rec.get("problem", "").split("/")[-1].split("_"):
        if part.startswith("mb") and part[2:].isdigit():
            return int(part[2:])
    return 0


def row_key(rec):
    """The layer a record measures, without its batch: one row of the vs-oneDNN chart."""
    desc = rec.get("problem", rec["name"]).split("/")[-1]
    rest = "_".join(p for p in desc.split("_") if not p.startswith("mb"))
    return (rec.get("op", ""), rec.get("pass", ""), (rec.get("layers") or "").split(" ")[0], rest)


def row_label(rec):
    layers = (rec.get("layers") or "?").split(" ")[0]
    lat = short_label(rec).split(" ")[-1]
    return f"{layers} {rec.get('pass', '')} {lat}"


def ratio_spread(rec):
    """ours q1..q3 over oneDNN's best time: the ratio's spread from our repetitions."""
    b = rec.get("onednn_best_time")
    q1, q3 = rec.get("q1_time"), rec.get("q3_time")
    if not b or not isinstance(q1, NUM) or not isinstance(q3, NUM):
        return None
    return q1 / b, q3 / b


def plot_vs_onednn(plt, ours, ctx, machine, out, stem, md, written):
    rows = [r for r in ours if r.get("ratio_vs_onednn")]
    if not rows:
        return
    threads = sorted({r["threads"] for r in rows})
    keys = sorted({row_key(r) for r in rows}, key=lambda k: (k[0], ["fwd", "bwd_data", "bwd_weights", "bwd"].index(k[1])
                                                            if k[1] in ("fwd", "bwd_data", "bwd_weights", "bwd") else 9, k[2], k[3]))
    index = {k: i for i, k in enumerate(keys)}
    labels = [""] * len(keys)
    for r in rows:
        labels[index[row_key(r)]] = row_label(r)
    batches = sorted({batch_of(r) for r in rows})
    bmark = {b: BATCH_MARKERS[i % len(BATCH_MARKERS)] for i, b in enumerate(batches)}
    offs = {b: (i - (len(batches) - 1) / 2) * 0.22 for i, b in enumerate(batches)}
    lo = min(min(r["ratio_vs_onednn"], (ratio_spread(r) or (9e9,))[0]) for r in rows)
    hi = max(max(r["ratio_vs_onednn"], (ratio_spread(r) or (0, 0))[1]) for r in rows)
    with plt.rc_context(plt_rc):
        fig, axes = plt.subplots(1, len(threads), figsize=(5.2 * len(threads) + 3.2, 0.19 * len(keys) + 2.4),
                                 squeeze=False, sharey=True, sharex=True)
        md.append("\n## Ours / oneDNN per layer (below 1: ours faster)\n")
        md.append("| problem | threads | ours us (q1-q3) | oneDNN us (path) | ratio | % FMA peak |\n|---|---|---|---|---|---|\n")
        fewer = 0
        for ax, t in zip(axes[0], threads):
            sel = sorted([r for r in rows if r["threads"] == t], key=lambda r: (index[row_key(r)], batch_of(r)))
            for k in range(0, len(keys), 2):
                ax.axhspan(k - 0.5, k + 0.5, color="0.94", lw=0, zorder=0)
            for r in sel:
                y = index[row_key(r)] + offs[batch_of(r)]
                c = PASS_COLORS.get(r.get("pass"), "gray")
                sp = ratio_spread(r)
                if sp:
                    ax.plot(sp, (y, y), color=c, lw=1.2, zorder=2)
                # hollow: our kernel ran on fewer threads than oneDNN (batch 1 splits no further)
                hollow = (r.get("threads_used") or t) < t
                fewer += hollow
                ax.plot(r["ratio_vs_onednn"], y, bmark[batch_of(r)], ms=4.5, zorder=3, color=c,
                        mfc="white" if hollow else c, mew=1.1)
                pct = r.get("pct_fma_peak")
                md.append(f"| {r['problem']} | {t}{' (ours: %d)' % r['threads_used'] if hollow else ''} | "
                          f"{r['real_time'] / 1e3:.2f} ({(r.get('q1_time') or 0) / 1e3:.2f}-{(r.get('q3_time') or 0) / 1e3:.2f}) | "
                          f"{r.get('onednn_best_time', 0) / 1e3:.2f} ({r.get('onednn_best_path', '-')}) | "
                          f"{r['ratio_vs_onednn']:.2f} | {'%.1f' % pct if pct else '-'} |\n")
            ax.axvline(1.0, color="black", lw=1)
            ax.set_xscale("log")
            ax.set_xlim(lo / 1.3, hi * 1.3)
            ax.set_xlabel("time ours / oneDNN (< 1: ours faster)")
            ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
            ax.grid(True, axis="x", which="both", alpha=0.3)
        ax0 = axes[0][0]
        ax0.set_yticks(range(len(keys)))
        ax0.set_yticklabels(labels, fontsize=8.5)
        ax0.set_ylim(len(keys) - 0.5, -0.5)
        handles = [plt.Line2D([], [], color=c, lw=6) for c in PASS_COLORS.values()]
        names = list(PASS_COLORS.keys())
        handles += [plt.Line2D([], [], color="0.3", marker=bmark[b], ls="none") for b in batches]
        names += [f"batch {b}" for b in batches]
        handles.append(plt.Line2D([], [], color="0.3", marker="o", mfc="white", ls="none"))
        names.append("ours on fewer threads than oneDNN")
        handles.append(plt.Line2D([], [], color="0.3", lw=1.2))
        names.append("bar: our q1-q3 over repetitions")
        # the title, then the legend under it, then the panels: none over another
        h = fig.get_figheight()
        fig.suptitle(f"latbench kernels vs oneDNN (best layout, with its reorders) — {machine}", y=1 - 0.08 / h, va="top")
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.85 / h))
        fig.legend(handles, names, loc="upper center", ncol=5, bbox_to_anchor=(0.5, 1 - 0.38 / h), frameon=False)
        p = os.path.join(out, f"{stem}-vs-onednn.png")
        save(fig, p)
        plt.close(fig)
    written.append(p)


def plot_roofline(plt, recs, ctx, machine, out, stem, md, written):
    pts = [r for r in recs if r.get("flops") and r.get("bytes") and r.get("GFLOPS") and r.get("impl") in ("ours", "onednn_any", "scalar")
           and r.get("op") == "conv2d"]
    if not pts:
        return
    threads = sorted({r["threads"] for r in pts})
    md.append("\n## Roofline inputs\n")
    with plt.rc_context(plt_rc):
        fig, axes = plt.subplots(1, len(threads), figsize=(7 * len(threads), 7.4), squeeze=False, sharey=True)
        for ax, t in zip(axes[0], threads):
            sel = [r for r in pts if r["threads"] == t]
            peak, isa = peak_of(ctx, t)
            bw = bandwidth_of(ctx, t)
            l2 = bandwidth_of(ctx, t, "l2_triad_gbps")
            ai = [r["flops"] / r["bytes"] for r in sel]
            lo, hi = min(ai) / 2, max(ai) * 2
            top = peak or max(r["GFLOPS"] for r in sel)
            floor = top / 100  # below: drawn on the axis as a marker, counted in the legend
            if peak:
                xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
                ax.plot(xs, [min(peak, x * bw) if bw else peak for x in xs], color="black", lw=1.5,
                        label=f"roof: {isa} FMA peak {peak:.0f} GFLOP/s" + (f", DRAM (STREAM) {bw:.1f} GB/s" if bw else ""))
                if l2:
                    ax.plot(xs, [min(peak, x * l2) for x in xs], color="black", lw=1, ls="--",
                            label=f"roof from L2: triad {l2:.1f} GB/s")
                md.append(f"- {t} thread(s): FMA peak {peak:.1f} GFLOP/s ({isa}), memory bandwidth {bw if bw else 'not measured'} GB/s\n")
            for impl, marker, color, name in (("ours", "o", "tab:blue", "latbench"), ("onednn_any", "s", "tab:red", "oneDNN (best layout, compute)"),
                                              ("scalar", "^", "tab:gray", "scalar reference")):
                s = [r for r in sel if r["impl"] == impl]
                if not s:
                    continue
                low = [r for r in s if r["GFLOPS"] < floor]
                ax.scatter([r["flops"] / r["bytes"] for r in s], [max(r["GFLOPS"], floor) for r in s], marker=marker, color=color,
                           alpha=0.7, s=22, label=name + (f" ({len(low)} below {floor:.2g}, drawn on the axis)" if low else ""))
            # name the latbench points farthest below their roof: where tuning has the most to win
            ours = [r for r in sel if r["impl"] == "ours"]
            if peak and ours:
                def frac(r):
                    x = r["flops"] / r["bytes"]
                    return r["GFLOPS"] / min(peak, x * (l2 or bw or 1e30))
                worst = sorted(ours, key=frac)[:5]
                for k, r in enumerate(worst):
                    ax.annotate(str(k + 1), (r["flops"] / r["bytes"], max(r["GFLOPS"], floor)), fontsize=9, fontweight="bold",
                                xytext=(-4 - 9 * (k % 2), 5 + 4 * k), textcoords="offset points", color="navy")
                # under the panel, right of the legend (below its long first line), not over the roofs and points
                ax.text(1.0, -0.18, "ours farthest below the roof:\n" + "\n".join(
                    f"{k + 1}: {short_label(r)} ({100 * frac(r):.0f}%)" for k, r in enumerate(worst)),
                    transform=ax.transAxes, va="top", ha="right", fontsize=8, color="navy")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_ylim(floor / 1.5, top * 1.8)
            ax.set_xlabel("arithmetic intensity (FLOP per compulsory byte)")
            ax.set_title(f"conv2d, {t} thread{'s' if t > 1 else ''}")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.12), frameon=False)
        axes[0][0].set_ylabel("GFLOP/s")
        fig.suptitle(f"Roofline — {machine}")
        fig.tight_layout()
        p = os.path.join(out, f"{stem}-roofline.png")
        save(fig, p)
        plt.close(fig)
    written.append(p)


def pipe_spread(r, key):
    """samples/s at the repetitions' q3 and q1 times (slower time, fewer samples/s)."""
    q1, q3, med = r.get("q1_time"), r.get("q3_time"), r.get("real_time")
    if not all(isinstance(v, NUM) and v > 0 for v in (q1, q3, med)):
        return None
    return r[key] * med / q3, r[key] * med / q1


def plot_pipelines(plt, recs, machine, out, stem, md, written):
    pipes = [r for r in recs if str(r.get("name", "")).startswith("pipeline/") and r.get("samples_per_s")]
    if not pipes:
        return
    nn = [r for r in pipes if r.get("pipeline") != "generate" and not r["name"].startswith("pipeline/generate/")]
    gen = [r for r in pipes if r not in nn]
    with plt.rc_context(plt_rc):
        fig, axes = plt.subplots(1, 2, figsize=(15, 0.42 * max(len(nn), len(gen), 4) + 2.2), squeeze=False,
                                 gridspec_kw={"width_ratios": [3, 2]})
        ax = axes[0][0]
        names = [r["name"][len("pipeline/"):] for r in nn]
        for i, r in enumerate(nn):
            sp = pipe_spread(r, "samples_per_s")
            if sp:
                ax.plot(sp, (i, i), color="tab:blue", lw=1.5)
            ax.plot(r["samples_per_s"], i, "o", color="tab:blue", ms=6)
            tq = r.get("torch_samples_per_s")
            if tq:
                ax.plot(tq, i, "s", color="tab:orange", ms=6)
                ax.annotate(f"{r['samples_per_s'] / tq:.1f}x", (max(r["samples_per_s"], tq), i), xytext=(7, -3),
                            textcoords="offset points", fontsize=8.5)
        ax.set_yticks(range(len(nn)))
        ax.set_yticklabels(names, fontsize=8.5)
        ax.set_ylim(max(len(nn), 1) - 0.5, -0.5)
        ax.set_xscale("log")
        if nn:
            ax.set_xlim(None, 4 * max(max(r["samples_per_s"], r.get("torch_samples_per_s") or 0) for r in nn))
        else:
            ax.set_axis_off()
        ax.set_xlabel("samples / s (log; label: latbench / PyTorch)")
        ax.set_title("training, inference and eval: latbench vs PyTorch")
        ax.grid(True, axis="x", which="both", alpha=0.3)
        ax.legend([plt.Line2D([], [], color="tab:blue", marker="o", ls="-"), plt.Line2D([], [], color="tab:orange", marker="s", ls="none")],
                  ["latbench (bar: q1-q3 of repetitions)", "PyTorch (same machine, same threads)"], loc="lower center",
                  bbox_to_anchor=(0.5, 1.06), ncol=2, frameon=False)
        ax = axes[0][1]
        if gen:
            gnames = [r["name"][len("pipeline/generate/"):] for r in gen]
            for i, r in enumerate(gen):
                v = r.get("configs_per_s") or r["samples_per_s"]
                scalar = "/scalar/" in r["name"]
                c = "tab:gray" if scalar else "tab:green"
                sp = pipe_spread(r, "configs_per_s" if r.get("configs_per_s") else "samples_per_s")
                if sp:
                    ax.plot(sp, (i, i), color=c, lw=1.5)
                ax.plot(v, i, "^" if scalar else "o", color=c, ms=6)
                if r.get("scalar_configs_per_s"):
                    ax.annotate(f"{v / r['scalar_configs_per_s']:.1f}x scalar", (v, i), xytext=(7, -3), textcoords="offset points", fontsize=8.5)
            ax.set_yticks(range(len(gen)))
            ax.set_yticklabels(gnames, fontsize=8.5)
            ax.set_ylim(len(gen) - 0.5, -0.5)
            ax.set_xlabel("configurations / s (worm sampler, decorrelated)")
            ax.set_title("generation: SIMD worm vs scalar reference")
            ax.grid(True, axis="x", alpha=0.3)
            ax.set_xlim(0, 1.4 * max(r.get("configs_per_s") or r["samples_per_s"] for r in gen))
        else:
            ax.set_axis_off()
        fig.suptitle(f"Pipelines — {machine}")
        fig.tight_layout()
        p = os.path.join(out, f"{stem}-pipelines.png")
        save(fig, p)
        plt.close(fig)
    written.append(p)
    md.append("\n## Pipelines\n| pipeline | latbench /s | PyTorch /s | ratio | % FMA peak |\n|---|---|---|---|---|\n")
    for r in pipes:
        tq = r.get("torch_samples_per_s")
        pct = r.get("pct_fma_peak")
        md.append(f"| {r['name']} | {r['samples_per_s']:.0f} | {'%.0f' % tq if tq else '-'} | "
                  f"{'%.2f' % (r['samples_per_s'] / tq) if tq else '-'} | {'%.1f' % pct if pct else '-'} |\n")


NODE_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def node_rows(path, i, node):
    """A node's host label and its "ours" rows (every timed row when it has none)."""
    where = "%s: nodes[%d]" % (path, i)
    if not isinstance(node, dict) or not isinstance(node.get("benchmarks"), list):
        fail(where + ': not an object with a "benchmarks" list')
    recs = latbench_rows(node["benchmarks"])
    check_records(where, recs)
    rows = [r for r in recs if isinstance(r.get("real_time"), NUM)]
    ours = [r for r in rows if r.get("impl") == "ours"]
    host = node.get("host") if isinstance(node.get("host"), str) else "?"
    return "%s (rank %s)" % (host, node.get("rank", i)), ours or rows


def node_key(r):
    return "%s t%s" % (r.get("problem", r["name"]), r.get("threads", "?"))


def plot_nodes(plt, path, nodes, out, stem, md, written):
    """One bar per node for each kernel (ours' median time), hosts in the legend; a table per node."""
    per = [node_rows(path, i, n) for i, n in enumerate(nodes)]
    keys = sorted({node_key(r) for _, rows in per for r in rows})
    if not keys:
        return
    index = {k: i for i, k in enumerate(keys)}
    n = len(per)
    width = 0.8 / n
    with plt.rc_context(plt_rc):
        fig, ax = plt.subplots(figsize=(9, 0.32 * len(keys) * max(1, n / 2) + 1.8))
        for j, (label, rows) in enumerate(per):
            ys = [index[node_key(r)] - 0.4 + width * (j + 0.5) for r in rows]
            # markers, not bars: on a log axis a bar's length would mean nothing
            ax.plot([r["real_time"] / 1e3 for r in rows], ys, NODE_MARKERS[j % len(NODE_MARKERS)], ms=6, ls="none", label=label)
            md.append(f"\n## Node {label}\n\n| kernel | threads | ours us | oneDNN us | ours / oneDNN |\n|---|---|---|---|---|\n")
            for r in sorted(rows, key=node_key):
                b = r.get("onednn_best_time")
                md.append(f"| {r.get('problem', r['name'])} | {r.get('threads', '-')} | {r['real_time'] / 1e3:.2f} | "
                          f"{'%.2f' % (b / 1e3) if b else '-'} | {'%.2f' % r['ratio_vs_onednn'] if r.get('ratio_vs_onednn') else '-'} |\n")
        ax.set_yticks(range(len(keys)))
        ax.set_yticklabels(keys, fontsize=7.5)
        ax.set_ylim(len(keys) - 0.5, -0.5)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: "%g" % v))
        ax.xaxis.set_minor_formatter(plt.FuncFormatter(lambda v, _: "%g" % v))
        ax.tick_params(axis="x", which="minor", labelsize=7)
        for k in range(0, len(keys), 2):
            ax.axhspan(k - 0.5, k + 0.5, color="0.94", lw=0, zorder=0)
        ax.margins(x=0.08)
        ax.set_xlabel("time per call, us (ours' median; lower is faster)")
        ax.grid(True, axis="x", which="both", alpha=0.3)
        ax.legend(title="node", fontsize=8, loc="best")
        ax.set_title(f"latbench bench on {n} nodes side by side")
        fig.tight_layout()
        p = os.path.join(out, f"{stem}-nodes.png")
        save(fig, p)
        plt.close(fig)
    written.append(p)


def main():
    args = sys.argv[1:]
    if len(args) != 3 or args[1] != "--out":
        fail("usage: plot_bench.py RESULTS.json --out DIR")
    path, out = args[0], args[2]
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        fail(f"--out {out}: cannot create the directory: {e}")
    try:
        with open(path) as f:
            res = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: cannot read JSON: {e}")
    if not isinstance(res, dict) or not isinstance(res.get("benchmarks"), list):
        fail(f"{path}: not a benchmark result (no \"benchmarks\" list)")
    nodes = res.get("nodes")   # a multi-node run (mpirun): every rank's node
    if nodes is not None and not isinstance(nodes, list):
        fail(f"{path}: \"nodes\" is not a list")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        fail(f"matplotlib is not available to {sys.executable}: {e}", 3)

    ctx = res.get("context") or {}
    if not isinstance(ctx, dict):
        fail(f"{path}: \"context\" is not a JSON object")
    recs = latbench_rows(res["benchmarks"])
    check_records(path, recs)
    stem = os.path.splitext(os.path.basename(path))[0]
    machine = f"{ctx.get('cpu_model', '?')} ({ctx.get('cpu_uarch') or '?'}), {ctx.get('date', '')[:10]}"
    ours = [r for r in recs if r.get("impl") == "ours" and r.get("op") in ("conv2d", "pool")]
    written = []
    md = [f"# {stem}\n", f"Machine: {machine}; compiler {ctx.get('compiler', '?')}; oneDNN {ctx.get('onednn_version', '?')}\n"]

    plot_vs_onednn(plt, ours, ctx, machine, out, stem, md, written)
    plot_roofline(plt, recs, ctx, machine, out, stem, md, written)
    plot_pipelines(plt, recs, machine, out, stem, md, written)
    if nodes:
        plot_nodes(plt, path, nodes, out, stem, md, written)

    if not written:
        fail(f"{path}: no conv/pool or pipeline records to plot")
    p = os.path.join(out, f"{stem}-summary.md")
    write_text(p, "".join(md))
    written.append(p)
    for p in written:
        print("wrote " + p)


if __name__ == "__main__":
    install_signal_cleanup()
    try:
        main()
    except WriteError as e:
        fail(e, 3)
    except SystemExit:
        raise
    except (KeyError, TypeError, AttributeError, ValueError, IndexError, ZeroDivisionError) as e:
        # a field of a type or value check_records does not cover: still bad input, one line
        fail("%s: malformed benchmark result (%s: %s)" % (sys.argv[1], type(e).__name__, e), 2)
    except BaseException as e:  # one line, whatever went wrong
        fail("plotting failed: %s: %s" % (type(e).__name__, e), 3)

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
  <stem>-summary.md      the tables behind the plots
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
FIELDS = {"name": str, "problem": str, "op": str, "pass": str, "layers": str, "impl": str,
          "onednn_best_path": str, "threads": int, "real_time": NUM, "ratio_vs_onednn": NUM,
          "onednn_best_time": NUM, "pct_fma_peak": NUM, "flops": NUM, "bytes": NUM, "GFLOPS": NUM,
          "samples_per_s": NUM, "torch_samples_per_s": NUM}
POSITIVE = {"threads", "flops", "bytes", "GFLOPS", "samples_per_s", "real_time", "ratio_vs_onednn"}


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
                                                               "a string" if typ is str else "a number"))
            if typ is not str and (not math.isfinite(v) or (key in POSITIVE and v <= 0)):
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


def main():
    args = sys.argv[1:]
    if len(args) != 3 or args[1] != "--out":
        fail("usage: plot_bench.py RESULTS.json --out DIR")
    path, out = args[0], args[2]
    try:
        with open(path) as f:
            res = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: cannot read JSON: {e}")
    if not isinstance(res, dict) or not isinstance(res.get("benchmarks"), list):
        fail(f"{path}: not a benchmark result (no \"benchmarks\" list)")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        fail(f"matplotlib is not available to {sys.executable}: {e}", 3)

    ctx = res.get("context") or {}
    if not isinstance(ctx, dict):
        fail(f"{path}: \"context\" is not a JSON object")
    recs = res["benchmarks"]
    check_records(path, recs)
    stem = os.path.splitext(os.path.basename(path))[0]
    machine = f"{ctx.get('cpu_model', '?')} ({ctx.get('cpu_uarch') or '?'}), {ctx.get('date', '')[:10]}"
    ours = [r for r in recs if r.get("impl") == "ours" and r.get("op") in ("conv2d", "pool")]
    written = []
    md = [f"# {stem}\n", f"Machine: {machine}; compiler {ctx.get('compiler', '?')}; oneDNN {ctx.get('onednn_version', '?')}\n"]

    # ---- ours vs oneDNN per layer ----
    rows = [r for r in ours if r.get("ratio_vs_onednn")]
    if rows:
        threads = sorted({r["threads"] for r in rows})
        fig, axes = plt.subplots(1, len(threads), figsize=(7 * len(threads), 0.24 * (len(rows) / len(threads)) + 2.2), squeeze=False)
        colors = {"fwd": "tab:blue", "bwd_data": "tab:orange", "bwd_weights": "tab:green", "bwd": "tab:purple"}
        md.append("\n## Ours / oneDNN per layer (below 1: ours faster)\n")
        md.append("| problem | threads | ours us | oneDNN us (path) | ratio | % FMA peak |\n|---|---|---|---|---|---|\n")
        for ax, t in zip(axes[0], threads):
            sel = [r for r in rows if r["threads"] == t]
            sel.sort(key=lambda r: (r.get("op"), r.get("problem")))
            y = range(len(sel))
            ax.barh(list(y), [r["ratio_vs_onednn"] for r in sel], color=[colors.get(r.get("pass"), "gray") for r in sel])
            ax.set_yticks(list(y))
            ax.set_yticklabels([short_label(r) for r in sel], fontsize=7)
            ax.axvline(1.0, color="black", lw=1)
            ax.set_xscale("log")
            ax.set_xlabel("ours / oneDNN (time; < 1: ours faster)")
            ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
            ax.invert_yaxis()
            for r in sel:
                pct = r.get("pct_fma_peak")
                md.append(f"| {r['problem']} | {t} | {r['real_time'] / 1e3:.2f} | {r.get('onednn_best_time', 0) / 1e3:.2f} "
                          f"({r.get('onednn_best_path', '-')}) | {r['ratio_vs_onednn']:.2f} | {'%.1f' % pct if pct else '-'} |\n")
        handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colors.values()]
        fig.legend(handles, list(colors.keys()), loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.02))
        fig.suptitle(f"latbench kernels vs oneDNN — {machine}")
        p = os.path.join(out, f"{stem}-vs-onednn.png")
        save(fig, p)
        plt.close(fig)
        written.append(p)

    # ---- roofline ----
    pts = [r for r in recs if r.get("flops") and r.get("bytes") and r.get("GFLOPS") and r.get("impl") in ("ours", "onednn_any", "scalar")
           and r.get("op") == "conv2d"]
    if pts:
        threads = sorted({r["threads"] for r in pts})
        fig, axes = plt.subplots(1, len(threads), figsize=(6.5 * len(threads), 5), squeeze=False)
        md.append("\n## Roofline inputs\n")
        for ax, t in zip(axes[0], threads):
            sel = [r for r in pts if r["threads"] == t]
            peak, isa = peak_of(ctx, t)
            bw = bandwidth_of(ctx, t)
            l2 = bandwidth_of(ctx, t, "l2_triad_gbps")
            ai = [r["flops"] / r["bytes"] for r in sel]
            lo, hi = min(ai) / 2, max(ai) * 2
            if peak:
                xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
                roof = [min(peak, x * bw) if bw else peak for x in xs]
                ax.plot(xs, roof, color="black", lw=1.5, label=f"roof: {isa} FMA peak {peak:.0f} GFLOP/s" + (f", DRAM (STREAM) {bw:.1f} GB/s" if bw else ""))
                if l2:
                    ax.plot(xs, [min(peak, x * l2) for x in xs], color="black", lw=1, ls="--",
                            label=f"roof with data in L2: triad {l2:.1f} GB/s (SSE2 code: a lower bound)")
                md.append(f"- {t} thread(s): FMA peak {peak:.1f} GFLOP/s ({isa}), memory bandwidth {bw if bw else 'not measured'} GB/s\n")
            for impl, marker, color in (("ours", "o", "tab:blue"), ("onednn_any", "s", "tab:red"), ("scalar", "^", "tab:gray")):
                s = [r for r in sel if r["impl"] == impl]
                if s:
                    ax.scatter([r["flops"] / r["bytes"] for r in s], [r["GFLOPS"] for r in s], marker=marker, color=color, alpha=0.75,
                               label={"ours": "latbench", "onednn_any": "oneDNN (best layout, compute)", "scalar": "scalar reference"}[impl])
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("arithmetic intensity (FLOP per compulsory byte)")
            ax.set_ylabel("GFLOP/s")
            ax.set_title(f"conv2d, {t} thread{'s' if t > 1 else ''}")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7, loc="lower right")
        fig.suptitle(f"Roofline — {machine}")
        p = os.path.join(out, f"{stem}-roofline.png")
        save(fig, p)
        plt.close(fig)
        written.append(p)

    # ---- pipelines vs PyTorch ----
    pipes = [r for r in recs if str(r.get("name", "")).startswith("pipeline/") and r.get("samples_per_s")]
    if pipes:
        fig, ax = plt.subplots(figsize=(9, 0.35 * len(pipes) + 2))
        y = list(range(len(pipes)))
        ax.barh([v - 0.2 for v in y], [r["samples_per_s"] for r in pipes], height=0.4, color="tab:blue", label="latbench")
        ax.barh([v + 0.2 for v in y], [r.get("torch_samples_per_s") or 0 for r in pipes], height=0.4, color="tab:orange", label="PyTorch")
        ax.set_yticks(y)
        ax.set_yticklabels([r["name"][len("pipeline/"):] for r in pipes], fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("samples / s")
        ax.invert_yaxis()
        ax.legend()
        ax.set_title(f"Pipelines, latbench vs PyTorch — {machine}")
        p = os.path.join(out, f"{stem}-pipelines.png")
        save(fig, p)
        plt.close(fig)
        written.append(p)
        md.append("\n## Pipelines (samples/s)\n| pipeline | latbench | PyTorch | ratio | % FMA peak |\n|---|---|---|---|---|\n")
        for r in pipes:
            tq = r.get("torch_samples_per_s")
            pct = r.get("pct_fma_peak")
            md.append(f"| {r['name']} | {r['samples_per_s']:.0f} | {'%.0f' % tq if tq else '-'} | "
                      f"{'%.2f' % (r['samples_per_s'] / tq) if tq else '-'} | {'%.1f' % pct if pct else '-'} |\n")

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

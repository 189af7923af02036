#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/<name>, small valid
inputs and interesting invalid ones.  Inputs that crash a reader not fixed yet go to
tests/fuzz/findings/<target>/ instead (not replayed by the suite; move them into the corpus with
the fix).  Run from anywhere: python3 tests/fuzz/make_corpus.py"""
import json, os, re, struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEP = b"\n--8<--\n"


def put(kind, target, name, data):
    d = os.path.join(HERE, kind, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def seed(target, name, data):
    put("corpus", target, name, data)


def finding(target, name, data):
    put("findings", target, name, data)


def npy(descr, shape, data=None, fortran="False", version=1, hdr_extra=""):
    shp = "(" + "".join(f"{s}, " if len(shape) == 1 else f"{s}, " for s in shape).rstrip(", ") + ("," if len(shape) == 1 else "") + ")"
    h = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shp}, {hdr_extra}}}"
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    if data is None:
        n = 1
        for s in shape:
            n *= max(s, 0)
        data = bytes(n * int(descr[2]))
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<H", len(h)) + h.encode() + data


def safetensors(tensors, meta=None, pad=True, raw_header=None, data=None):
    hdr, blob = {}, b""
    for name, shape, vals in tensors:
        b = struct.pack(f"<{len(vals)}f", *vals)
        hdr[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(blob), len(blob) + len(b)]}
        blob += b
    if meta is not None:
        hdr["__metadata__"] = meta
    h = raw_header if raw_header is not None else json.dumps(hdr).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + (blob if data is None else data)


def main():
    # ---- npy ----
    seed("npy", "i2_4d", npy("<i2", [2, 4, 3, 3]))
    seed("npy", "f4_2d", npy("<f4", [2, 1], struct.pack("<2f", 0.5, 1.0)))
    seed("npy", "f4_scalar", npy("<f4", [], struct.pack("<f", 1.0)))
    seed("npy", "empty_rows", npy("<i2", [0, 4, 2, 2]))
    seed("npy", "truncated", npy("<i2", [2, 4, 3, 3])[:-5])
    seed("npy", "bad_magic", b"\x93NUMPX" + npy("<i2", [1])[6:])
    seed("npy", "version2", npy("<i2", [1], version=2))
    seed("npy", "fortran", npy("<f4", [2, 2], fortran="True"))
    seed("npy", "big_endian", npy(">f4", [2]))
    seed("npy", "header_overrun", b"\x93NUMPY\x01\x00\xff\xff{'descr': '<i2'")
    seed("npy", "no_shape", b"\x93NUMPY\x01\x00\x30\x00{'descr': '<i2', 'fortran_order': False, }      \n")
    seed("npy", "nine_dims", npy("<i2", [1] * 9))
    # negative and overflowing shapes: the reader of today trusts them (see the report)
    finding("npy", "negative_dim", npy("<i2", [-1], b"\0" * 64))
    finding("npy", "overflowing_count", npy("<i2", [1 << 62, 4], b"\0" * 64))
    # ---- dataset: x.npy SEP y.npy SEP meta.json ----
    x = npy("<i2", [2, 4, 2, 2])
    y = npy("<f4", [2, 1], struct.pack("<2f", 0.0, 1.0))
    meta = json.dumps({"task": "regression", "points": [{"eta": 1, "lambda": 1, "mu": 0.9, "offset": 0, "count": 2}]})
    seed("dataset", "valid", x + SEP + y + SEP + meta.encode())
    seed("dataset", "no_meta", x + SEP + y)
    seed("dataset", "rows_mismatch", x + SEP + npy("<f4", [3, 1]) + SEP + b"{}")
    seed("dataset", "bad_points", x + SEP + y + SEP + b'{"task": "count", "points": [{"offset": 1, "count": -2}]}')
    seed("dataset", "x_only", x)
    seed("dataset", "wrong_channels", npy("<i2", [2, 3, 2, 2]) + SEP + y)
    # ---- safetensors ----
    st = [("0.weight", [2, 4, 1, 1], [0.1 * i for i in range(8)]), ("0.bias", [2], [0.0, 1.0])]
    seed("safetensors", "valid", safetensors(st, {"format": "latbench-model-1"}))
    seed("safetensors", "no_meta", safetensors(st))
    seed("safetensors", "unpadded", safetensors(st, pad=False))
    seed("safetensors", "offsets_past_end", safetensors([], raw_header=b'{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}', data=b"\0" * 8))
    seed("safetensors", "size_mismatch", safetensors([], raw_header=b'{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}', data=b"\0" * 8))
    seed("safetensors", "f16", safetensors([], raw_header=b'{"a": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}', data=b"\0" * 4))
    seed("safetensors", "negative_shape", safetensors([], raw_header=b'{"a": {"dtype": "F32", "shape": [-1, -4], "data_offsets": [0, 16]}}', data=b"\0" * 16))
    seed("safetensors", "meta_not_string", safetensors([], raw_header=b'{"__metadata__": {"spec": 3}}'))
    seed("safetensors", "huge_header_len", struct.pack("<Q", 1 << 60) + b"{}")
    seed("safetensors", "not_json", safetensors([], raw_header=b'{"a": '))
    seed("safetensors", "short", b"\x08\0\0")
    # ---- model_file: a whole latbench model ----
    spec = "conv 1x1 4 2\nlrelu\ngavgpool\nlinear 2 1\n"
    model = [("0.weight", [2, 4, 1, 1], [0.1] * 8), ("0.bias", [2], [0.0, 0.0]),
             ("3.weight", [1, 2], [0.5, -0.5]), ("3.bias", [1], [0.25])]
    good_meta = {"format": "latbench-model-1", "spec": spec, "lattice": "4x4"}
    seed("model_file", "valid", safetensors(model, good_meta))
    seed("model_file", "missing_tensor", safetensors(model[:3], good_meta))
    seed("model_file", "wrong_size", safetensors([("0.weight", [2, 4], [0.1] * 8)] + model[1:], good_meta))
    seed("model_file", "bad_spec", safetensors(model, dict(good_meta, spec="conv 1x1 4\n")))
    seed("model_file", "no_spec", safetensors(model, {"format": "latbench-model-1"}))
    seed("model_file", "odd_lattice", safetensors(model, dict(good_meta, lattice="1x99999")))
    # ---- netspec: the presets, and broken specs ----
    src = open(os.path.join(ROOT, "lib/nn/netspec.c")).read()
    block = src[src.index("presets[] = {"):src.index("#define N_PRESETS")]
    for name, body in re.findall(r'\{"([a-z0-9-]+)",\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}', block):
        text = "".join(json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', body))
        seed("netspec", "preset_" + name, text)
    seed("netspec", "comments", "# a net\nconv 3x3 4 16 /2  # strided\nlrelu\nmaxpool 2x2 2\nflatten\nlinear 16 1\nsigmoid\n")
    seed("netspec", "bad_kernel", "conv 0x2 4 8\n")
    seed("netspec", "huge_channels", "conv 1x1 4 2147483647\ngsumpool\n")
    seed("netspec", "channel_mismatch", "conv 1x1 4 8\nconv 1x1 9 8\n")
    seed("netspec", "junk", "conv 2x2 4 8 extra\nfoo\n")
    seed("netspec", "empty", "")
    # ---- compare: latbench bench and google-benchmark results ----
    lb = {"benchmarks": [
        {"name": "conv2d_fwd/x/ours/threads:1", "problem": "conv2d_fwd/x", "impl": "ours", "threads": 1, "time_unit": "ns",
         "run_type": "aggregate", "real_time": 1000, "onednn_best_path": "any", "samples": [1000, 1010, 990, 1005]},
        {"name": "conv2d_fwd/x/onednn_any/threads:1", "problem": "conv2d_fwd/x", "impl": "onednn_any", "threads": 1,
         "time_unit": "ns", "run_type": "aggregate", "real_time": 800, "samples": [800, 805, 810, 790]},
        {"name": "worm/rate", "rate": 5.0}]}
    seed("compare", "latbench", json.dumps(lb))
    gb = {"context": {}, "benchmarks": [
        {"name": "BM_x", "run_name": "BM_x", "run_type": "iteration", "real_time": 10 + i, "time_unit": "us"} for i in range(3)]
        + [{"name": "BM_x_median", "run_name": "BM_x", "run_type": "aggregate", "aggregate_name": "median", "real_time": 11, "time_unit": "us"}]}
    seed("compare", "gbench", json.dumps(gb))
    rows = []   # latbench's rows since the google-benchmark layout: iterations, then mean/median/stddev/cv
    for impl, t in (("ours", 1000), ("onednn_any", 800)):
        run = "conv2d_fwd/x/%s/threads:1" % impl
        head = {"family_index": len(rows) // 7, "per_family_instance_index": 0, "run_name": run, "repetitions": 3, "threads": 1}
        rows += [dict(head, name=run, run_type="iteration", repetition_index=i, iterations=100, real_time=t + i,
                      cpu_time=t + i, time_unit="ns") for i in range(3)]
        for agg, v in (("mean", t + 1), ("median", t + 1), ("stddev", 1), ("cv", 0.001)):
            r = dict(head, name=run + "_" + agg, run_type="aggregate", aggregate_name=agg,
                     aggregate_unit="percentage" if agg == "cv" else "time", iterations=3, real_time=v, cpu_time=v,
                     time_unit="ns")
            if agg == "median":
                r.update(problem="conv2d_fwd/x", impl=impl, samples=[t, t + 1, t + 2])
                if impl == "ours":
                    r["onednn_best_path"] = "any"
            rows.append(r)
    seed("compare", "latbench_rows", json.dumps({"benchmarks": rows}))
    seed("compare", "zero_time", '{"benchmarks": [{"name": "a", "samples": [0, 0]}]}')
    seed("compare", "negative_time", '{"benchmarks": [{"name": "a", "run_type": "iteration", "real_time": -1}]}')
    seed("compare", "unknown_unit", '{"benchmarks": [{"name": "a", "time_unit": "fortnight", "samples": [1]}]}')
    seed("compare", "no_benchmarks", '{"context": {}}')
    seed("compare", "not_json", '{"benchmarks": [')
    # ---- gate: the committed expectations and broken ones ----
    for isa in ("avx512", "avx2", "scalar"):
        p = os.path.join(ROOT, "results/gate", isa + ".json")
        if os.path.exists(p):
            seed("gate", isa, open(p).read())
    seed("gate", "empty_ratios", '{"ratios": {}}')
    seed("gate", "wrong_types", '{"ratios": {"conv2d_fwd/mb32_ic64oc48_ih8iw8_kh1kw1_sh1sw1_b1": {"vs_scalar": "x"}}}')
    seed("gate", "ratios_array", '{"ratios": [], "machine": {"uarch": 4}}')
    # ---- report: an experiment's results.json and a benchmark result ----
    seed("report", "experiment", json.dumps({"task": "regression", "train_lattice": "8x8", "test_lattices": ["8x8", "16x16"],
                                             "archs": [{"arch": "task1-eq", "trials": [], "summary": {}}]}))
    seed("report", "experiment_datasets", json.dumps({"task": "count", "train_lattice": "8x8", "test_lattices": ["8x8"],
        "archs": [{"arch": "task3-eq1", "trials": [], "summary": {}}],
        "datasets": [{"role": "train", "lattice": "8x8", "dir": "data/train-8x8-100-0123abcd", "settings": "--task count"},
                     {"role": "test", "dir": 3}]}))
    seed("report", "bench", json.dumps(lb))
    seed("report", "arch_lacks_summary", '{"task": "t", "train_lattice": "8x8", "test_lattices": ["8x8"], "archs": [{"arch": "a", "trials": []}]}')
    seed("report", "array", "[1, 2]")
    seed("report", "search", json.dumps({"task": "count", "family": "st", "trials": [
        {"number": 0, "state": "complete", "value": 5.6, "n_params": 3081, "seconds": 0.1},
        {"number": 1, "state": "pruned", "value": None, "n_params": 900, "seconds": 0.05}],
        "top": [{"rank": 1, "number": 0, "value": 5.6, "n_params": 3081, "file": "top-1.spec"}],
        "seed_winners": [{"name": "task3-st1", "n_params": 2336}], "median_seconds_per_trial": 0.1}))
    seed("report", "search_trial_lacks_state", '{"trials": [{"number": 0}], "top": [], "seed_winners": []}')
    seed("report", "dataset_meta", json.dumps({"format": "latbench-dataset-1", "task": "count", "lattice": [8, 4],
        "count": 40, "points": [{"eta": 4.25, "lambda": 1.0, "mu": 1.0, "offset": 0, "count": 40}]}))
    seed("report", "dataset_meta_bad_lattice", '{"format": "latbench-dataset-1", "task": "count", "lattice": [8, "4"]}')
    # ---- params: NUL-separated argv ----
    def argv(*a):
        return b"\0".join(x.encode() for x in a)
    seed("params", "observe", argv("--lattice", "60x4", "--mu", "0.90:1.05:0.01", "--seed", "42", "--worms-per-sweep", "auto"))
    seed("params", "equals", argv("--lattice=8x8", "--mu=1,2,3", "--worms-per-sweep=16"))
    seed("params", "ints", argv("1:10:3", "4,5,6", "-3:3"))
    seed("params", "bad", argv("--lattice", "1x2", "--mu", "nan", "--seed", "-1", "--worms-per-sweep", "99999999999"))
    seed("params", "missing_value", argv("--mu"))
    seed("params", "huge_range", argv("0:1e300:1e-300", "1:2147483647"))
    # ---- opts: NUL-separated argv through the option layer of every command ----
    seed("opts", "values", argv("--runs", "5", "--alpha=0.01", "--budget", "90s", "--batch=1,2,64", "--level", "quick", "-v", "op"))
    seed("opts", "short", argv("-vr3", "-q", "--progress=lines", "--", "--runs", "x"))
    seed("opts", "bad", argv("--runs", "0x10", "--alpha", "nan", "--budget=-1m", "--batch", "1,,2", "--level=fast", "--verbose=1"))
    seed("opts", "missing_value", argv("--budget"))
    seed("opts", "unknown", argv("--nope", "-z", "--ru", "7", "operand", "--progress", "bar"))
    # ---- profile: tuning profiles (README, "Tuning profile"); isas scalar and avx2 only ----
    def entry(op, pas, problem, isa, threads, variant):
        return {"op": op, "pass": pas, "problem": problem, "isa": isa, "threads": threads, "variant": variant,
                "params": {}, "time_s": 0.00125, "default_time_s": 0.0025, "speedup": 2.0, "spread": 0.03}
    prof = {"schema": "latbench-profile", "version": 2,
            "machine": {"slug": "amd-epyc-zen4-2c", "vendor": "AuthenticAMD", "family": 25, "model": 17, "stepping": 1,
                        "uarch": "zen4", "isa_cap": "avx512", "cores": 2,
                        "cache": {"l1d": 32768, "l2": 1048576, "l3": 33554432}},
            "build": {"commit": "f3654b3abcde", "compiler": "gcc 12.2.0", "flags": "cc -std=gnu11 -O3",
                      "kernels": "kernels/conv2d=85bb5256928c kernels/worm=36c4152cb7fd kernels=e25e830e50d1 arch=b143192eaff7"},
            "entries": [entry("worm", "fwd", "any", "avx2", 1, "scalar"),
                        entry("worm", "fwd", "nt60_nx4_mu1_chains2", "scalar", 2, "scalar"),
                        entry("conv2d", "bwd_weights", "mb8_ic16oc16_ih60iw4_kh3kw3", "avx2", 1, "avx2"),
                        entry("pool", "bwd_data", "any", "scalar", 4, "scalar")]}
    def changed(f):
        p = json.loads(json.dumps(prof))
        f(p)
        return json.dumps(p)
    seed("profile", "valid", json.dumps(prof, indent=2))
    seed("profile", "no_entries", changed(lambda p: p.update(entries=[])))
    seed("profile", "params", changed(lambda p: p["entries"][0].update(params={"tile": 4})))
    seed("profile", "duplicate", changed(lambda p: p["entries"].append(dict(p["entries"][0]))))
    seed("profile", "negative_time", changed(lambda p: p["entries"][1].update(time_s=-1e-3)))
    seed("profile", "arm64", changed(lambda p: p["machine"].update(vendor="arm64", isa_cap="neon",
                                                                    cache={"l1d": 0, "l2": 0, "l3": 0})))
    seed("profile", "version3", '{"schema":"latbench-profile","version":3}')
    seed("profile", "version1", changed(lambda p: (p.update(version=1), p["build"].pop("kernels"))))
    seed("profile", "no_kernels", changed(lambda p: p["build"].pop("kernels")))
    seed("profile", "array", '[{"op":"worm"}]')

    # ---- history: the export text of `latbench history export` (tools/track/history_list.c) ----
    run = "run\tamd-epyc-zen5-2c\tAuthenticAMD AMD EPYC family 26 model 2 zen5\t1e9b1ae98cb0-dirty\tcc -O3\tgcc 12.2.0\t2026-12-04T19:13:44+0000\tbench\t1,2\t\n"
    gate = run.replace("\tbench\t1,2\t\n", "\tgate\t1\tprofile:0123456789abcdef\n").replace("2026-12-04", "2026-12-06")
    rec = "rec\tconv2d_fwd/mb1_ic4oc64_ih8iw8_kh1kw1_sh1sw1_b1/ours/threads:1\t277.381228\t275.249407\t278.585557\t0.223843028\t0.165042326\t118.133445\t273.803826 277.381228 287.356168\n"
    worm = "rec\tworm/60x4_eta4.01_lambda1_mu0.50/avx2/threads:1\t-\t-\t-\t-\t2.5\t-\t-\n"
    head = "latbench-history 2\n"
    seed("history", "valid", head + run + rec + worm + run.replace("2026-12-04", "2026-12-05") + rec + gate + rec)
    seed("history", "version1", "latbench-history 1\n" + run.replace("\t\n", "\n") + rec)
    seed("history", "bad_profile", head + gate.replace("profile:0123", "profile:xy23") + rec)
    seed("history", "escapes", head + run.replace("cc -O3", "cc\\t-O3\\\\x\\n") + rec.replace("conv2d", "a\\\\b"))
    seed("history", "empty", head)
    seed("history", "duplicate_run", head + run + rec + run + rec)
    seed("history", "rec_first", head + rec)
    seed("history", "bad_number", head + run + rec.replace("277.381228", "1e999", 1))
    seed("history", "version3", "latbench-history 3\n")
    seed("history", "escaped_newline", head + run + rec.replace("277.381228", "27\\n7", 1))
    seed("history", "no_newline", head + run + rec.rstrip("\n"))


if __name__ == "__main__":
    main()

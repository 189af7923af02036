"""The per-(eta, mu) and per-K test entries of an experiment's results.json and the training set each
plot marks (plot_experiment.py, its tables): the task's fixed training set, or a --train-mu study's
recorded range, and the onset."""
from plot_common import num

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


# The training set of each task (docs/design.md §3, tools/cli/experiment.c); results.json does not record it.
TRAIN_MU_RANGE = {"regression": (0.90, 1.05)}
TRAIN_POINTS = {"detect": [(4.25, 1.0), (4.01, 1.5)], "count": [(4.25, 1.0), (4.01, 1.5)]}
TRAIN_LABELS = {"count": [0, 5]}


def point_entries(e):
    """[(eta or None, mu, loss or None, accuracy or None)] of one test entry: its "per_point" list, or the older
    "per_mu" forms ({"0.95": loss or {"loss": ...}} or [{"mu": 0.95, "loss": ...}]; eta unknown)."""
    if not isinstance(e, dict):
        return []
    out = []
    pp, pm = e.get("per_point"), e.get("per_mu")
    if isinstance(pp, list):
        for p in pp:
            if isinstance(p, dict) and num(p.get("mu")) is not None:
                out.append((num(p.get("eta")), num(p["mu"]), num(p.get("loss")), num(p.get("accuracy"))))
    elif isinstance(pm, dict):
        for k, v in pm.items():
            try:
                mu = num(float(k))
            except ValueError:
                continue
            if mu is not None:
                out.append((None, mu, num(v.get("loss") if isinstance(v, dict) else v),
                            num(v.get("accuracy")) if isinstance(v, dict) else None))
    elif isinstance(pm, list):
        for p in pm:
            if isinstance(p, dict) and num(p.get("mu")) is not None:
                out.append((num(p.get("eta")), num(p["mu"]), num(p.get("loss")), num(p.get("accuracy"))))
    return [(None if eta is None else round(eta, 6), round(mu, 6), l, acc) for eta, mu, l, acc in out
            if l is not None or acc is not None]


def label_entries(e):
    """[(label, loss)] of one test entry's "per_label" list (counting: label = number of open worms)."""
    pl = e.get("per_label") if isinstance(e, dict) else None
    out = []
    for p in pl if isinstance(pl, list) else []:
        if isinstance(p, dict) and num(p.get("label")) is not None and num(p.get("loss")) is not None:
            out.append((num(p["label"]), num(p["loss"])))
    return out


def gather(a, lats, entries):
    """{lattice: {key: [values over trials]}} from entries(test entry) -> [(key, value)], and the lattices on
    which every trial was skipped."""
    res, skipped = {}, []
    for lat in lats:
        d, nskip = {}, 0
        for t in a["trials"]:
            e = (t.get("test") or {}).get(lat)
            if isinstance(e, dict) and "skipped" in e:
                nskip += 1
            for k, v in entries(e):
                if v is not None:
                    d.setdefault(k, []).append(v)
        res[lat] = d
        if nskip and not d:
            skipped.append(lat)
    return res, skipped


def points_of(e, what):
    return [((eta, mu), (l if what == "loss" else acc)) for eta, mu, l, acc in point_entries(e)]


# The onset of the density (docs/design.md §3: eta 4.01, lambda 1 on 60x4, the regression task's line).
ONSET_MU = {"regression": 0.94}


def recorded_train_mu(r):
    """A --train-mu study's training range (lo, hi), as its archs record it; None otherwise."""
    if r.get("study") != "train_mu":
        return None
    for a in r["archs"]:
        v = a.get("train_mu")
        if isinstance(v, list) and len(v) == 2 and all(num(x) is not None for x in v):
            return (num(v[0]), num(v[1]))
    return None


def train_mu_range(r):
    """The shaded training mu range: a --train-mu study's, else the task's fixed one (or None)."""
    return recorded_train_mu(r) or TRAIN_MU_RANGE.get(r["task"])


def train_points(r):
    """The (eta, mu) training points to star: the task's, those inside a --train-mu study's range."""
    pts, mr = TRAIN_POINTS.get(r["task"], []), recorded_train_mu(r)
    return [p for p in pts if mr is None or mr[0] - 1e-9 <= p[1] <= mr[1] + 1e-9]


def onset_mu(r):
    """The onset mu_c marked in a --train-mu study's plot (regression only), else None."""
    return ONSET_MU.get(r["task"]) if recorded_train_mu(r) else None


def train_test_lines(r, test_mus):
    """A --train-mu study's markdown lines: the training range against the test range; [] otherwise."""
    mr = recorded_train_mu(r)
    if not mr:
        return []
    sizes = sorted({a.get("train_size") for a in r["archs"] if isinstance(a.get("train_size"), int)})
    out = ["", "| set | \u03bc range | samples |", "|---|---|---:|",
           "| training (%s) | %g .. %g | %s |" % (r["train_lattice"], mr[0], mr[1], ", ".join(map(str, sizes)) or "?"),
           "| test (%s) | %s | per point |" % (", ".join(r["test_lattices"]),
                                              "%g .. %g" % (min(test_mus), max(test_mus)) if test_mus else "—")]
    if onset_mu(r) is not None:
        out += ["", "Onset \u03bc_c \u2248 %g (\u03b7 4.01, \u03bb 1 on 60x4, docs/design.md \u00a73): training %s." % (
            onset_mu(r), "below it only" if mr[1] <= onset_mu(r) else "above it only" if mr[0] >= onset_mu(r)
            else "across it")]
    return out

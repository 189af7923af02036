"""What latbench report's plot scripts share (plot_experiment.py, plot_study.py): the program name and its
one-line errors, number and lattice readers, the family of an architecture, the loss's name, atomic PNG and
text output, the title line of a run's settings, the median."""
import gc
import json
import math
import os
import sys

from lbatomic import WriteError, install_signal_cleanup, write_atomic

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
    write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=120))
    written.append(path)


def write_text_atomic(text, outdir, name, written):
    path = os.path.join(outdir, name)
    write_atomic(path, lambda f: f.write(text), binary=False)
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


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def fmt(v):
    v = num(v)
    return "—" if v is None else "%.4g" % v


class Forked:
    """draw(written, notes) run in a child process (os.fork: it shares the imported matplotlib), beside
    whatever the caller draws meanwhile; join() waits for it and returns its written and notes lists,
    or raises its failure as the child met it (BadInput, or WriteError with its one line).  The report
    of a multi-rank run draws its figures in two processes so (tools/cli/report.c --jobs)."""

    def __init__(self, draw):
        r, w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # the objects so far out of the collector's sight: its passes would copy the pages they share
        self.pid = os.fork()
        if self.pid == 0:  # the child: its lists, or its failure, as one JSON message; never returns
            os.close(r)
            written, notes, msg = [], [], {}
            try:
                draw(written, notes)
                msg = {"written": written, "notes": notes}
            except BadInput as e:
                msg = {"bad": str(e)}
            except WriteError as e:
                msg = {"fail": str(e)}
            except BaseException as e:
                msg = {"fail": "plotting failed: %s: %s" % (type(e).__name__, e)}
            code = 0
            try:
                with os.fdopen(w, "w", encoding="utf-8") as f:
                    f.write(json.dumps(msg))
            except OSError:
                code = 3
            os._exit(code)
        os.close(w)
        self.fd = r

    def join(self):
        with os.fdopen(self.fd, "r", encoding="utf-8") as f:
            text = f.read()
        _, status = os.waitpid(self.pid, 0)
        try:
            msg = json.loads(text)
        except ValueError:
            msg = {"fail": "plotting failed: the second plotting process ended without its figures (wait status %d)" % status}
        if "bad" in msg:
            raise BadInput(msg["bad"])
        if "fail" in msg:
            raise WriteError(msg["fail"])
        return msg["written"], msg["notes"]


def run_main(main):
    """A script's entry: main(argv)'s status; bad input a line and exit 2, a failed write or anything
    else a line and exit 3 (never a traceback), temporaries removed on a signal."""
    install_signal_cleanup()
    try:
        sys.exit(main(sys.argv))
    except BadInput as e:
        die(e, 2)
    except WriteError as e:
        die(e, 3)
    except SystemExit:
        raise
    except BaseException as e:  # one line, whatever went wrong
        die("plotting failed: %s: %s" % (type(e).__name__, e), 3)


def read_json(path):
    """path's JSON value; an unreadable file or one that is not JSON: BadInput naming it."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except OSError as e:
        raise BadInput("%s: %s" % (path, e.strerror))
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput("%s: not JSON (%s)" % (path, e))

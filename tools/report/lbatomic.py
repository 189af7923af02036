"""Atomic output files for the report scripts, the scheme of lib/io/atomic.h: each file is
written under a temporary name beside it, ".NAME.tmp-PID-XXXXXX" (PID: this process, so that a later
latbench run can tell a live writer's temporary from one a kill -9 left behind), fsynced, then
renamed over NAME with os.replace.  SIGINT, SIGTERM and SIGHUP remove the temporaries still open and
then end the process with the signal.  Write failures raise WriteError with one line naming the file."""
import os
import random
import signal
import string

_live = set()  # temporaries being written (the signal handler removes them)


class WriteError(Exception):
    pass


def _on_signal(sig, frame):
    for p in list(_live):
        try:
            os.unlink(p)
        except OSError:
            pass
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)


def install_signal_cleanup():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(s) is not signal.SIG_IGN:  # ignored on purpose (nohup): stays ignored
            signal.signal(s, _on_signal)


def _open_tmp(path):
    d = os.path.dirname(path) or "."
    base = os.path.basename(path)
    chars = string.ascii_letters + string.digits
    for _ in range(100):
        suffix = "".join(random.choice(chars) for _ in range(6))
        tmp = os.path.join(d, ".%s.tmp-%d-%s" % (base, os.getpid(), suffix))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)  # the umask applies
        except FileExistsError:
            continue
        _live.add(tmp)
        return fd, tmp
    raise FileExistsError("no free temporary name beside " + path)


def write_atomic(path, fill, binary=True):
    """fill(f) writes the content into the open file f; the file appears at path whole or not at all."""
    tmp = None
    try:
        fd, tmp = _open_tmp(path)
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _live.discard(tmp)
        tmp = None
        dfd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as e:
        raise WriteError("cannot write %s: %s" % (path, e.strerror or e))
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            _live.discard(tmp)

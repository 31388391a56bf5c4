"""secure_average: a whole socket-mode session on this machine, in one call."""

import tempfile
import threading
import time
from dataclasses import dataclass, field

from . import _arrays
from ._tools import ToolError
from .client import Client
from .dp import account
from .session import Session


@dataclass
class Report:
    """What a secure_average call learned besides the average."""
    contributors: int = 0          # clients in the sum (|U3|), from secagg-quantize decode -v
    total_weight: int = 0          # the sum of their (capped) weights
    step: float = 0.0              # the quantization step 2 * clip / (2^bits - 1)
    seconds: float = 0.0           # wall time of the whole session, encode to decode
    dropped: list = field(default_factory=list)   # indices of the updates that dropped out
    server_log: str = ""           # what secagg-collect serve logged (dropouts, refusals)
    epsilon: float = 0.0           # DP sessions: epsilon of this one round at the session's delta
    noise_stddev: float = 0.0      # DP sessions: the stddev of the noise in each value of the average


def secure_average(updates, weights, *, clip=None, bits=16, max_weight=None, threshold=None, dropouts=None,
                   round_timeout=60.0, workdir=None, dtype="f64", report=False, dp=None):
    """The weighted average of the updates, computed by secure aggregation.

    Runs ``secagg-collect setup`` and ``serve`` on 127.0.0.1 (a free port, --port-file) and
    one client per update as subprocesses (``secagg-quantize encode``, ``secagg-keygen``,
    ``-share``, ``-mask``, ``-unmask`` with --connect), then ``secagg-quantize decode --like``.
    The server process only ever holds masked inputs and the sum.

    updates: one entry per party, each an array, a list of arrays or a dict of named arrays;
    all of the same structure, names and shapes (any shapes, real dtypes).
    weights: one positive integer per party (e.g. its number of examples).
    clip, bits, max_weight (default: the largest weight): the quantization spec, as
    ``secagg-collect setup --clip --bits --max-weight``; each value of the result is within
    one step 2*clip/(2^bits - 1) of the weighted average of the updates clipped to
    [-clip, clip].
    threshold: t (default: more than half of the parties).
    dropouts: {index: round} to make party index leave before that round (1, 2 or 4), as a
    test of dropout recovery; a round missing a party closes at round_timeout seconds.
    workdir: where the session's files go (default: a temporary directory, removed).
    dtype: "f64" (default) or "f32" for the result's arrays.
    report: if true, return (average, Report).
    dp: a secagg.Ddg for distributed differential privacy (docs/privacy.md): each party adds
    its share of discrete Gaussian noise to its update clipped to L2 norm dp.l2_clip, and the
    result is the unweighted average of the clipped updates plus noise. weights must then all
    be 1 (or None), and clip, bits and max_weight are not given.

    Returns the average in the structure of the updates (float64 arrays unless dtype="f32").
    Raises ValueError for updates that do not match, ToolError (with the tool's exit code and
    message) when a tool fails.
    """
    n = len(updates)
    if dp is not None:
        if weights is None:
            weights = [1] * n
        if any(w != 1 for w in weights):
            raise ValueError("a DP session's weights are all 1: a weight scales a party's sensitivity "
                             "(docs/privacy.md)")
        if clip is not None or max_weight is not None:
            raise ValueError("a DP session clips to dp.l2_clip and has no max_weight")
    elif clip is None:
        raise ValueError("clip is required (the quantization range [-clip, clip])")
    if len(weights) != n:
        raise ValueError(f"{n} updates but {len(weights)} weights")
    kind, names, shapes = _arrays.check_updates(updates)
    dropouts = dict(dropouts or {})
    if threshold is None:
        threshold = n // 2 + 1
    if max_weight is None and dp is None:
        max_weight = max(int(w) for w in weights) if all(_is_int(w) for w in weights) else 1
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="secagg-avg.") as tmp:
            return _run(updates, weights, kind, names, shapes, clip, bits, max_weight, threshold, dropouts,
                        round_timeout, tmp, dtype, report, dp)
    return _run(updates, weights, kind, names, shapes, clip, bits, max_weight, threshold, dropouts,
                round_timeout, workdir, dtype, report, dp)


def _is_int(w):
    try:
        return int(w) == w
    except (TypeError, ValueError, OverflowError):
        return False


def _run(updates, weights, kind, names, shapes, clip, bits, max_weight, threshold, dropouts, round_timeout,
         workdir, dtype, want_report, dp):
    from pathlib import Path
    t0 = time.monotonic()
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    n = len(updates)
    if dp is None:
        session = Session.setup(work / "S", clients=n, threshold=threshold, length=_arrays.length(shapes),
                                clip=clip, bits=bits, max_weight=max_weight)
    else:
        session = Session.setup(work / "S", clients=n, threshold=threshold, length=_arrays.length(shapes), dp=dp)
    procs, lock = [], threading.Lock()

    def register(p):
        with lock:
            procs.append(p)

    clients = [Client(i + 1, session.params, work / f"c{i + 1}", timeout=round_timeout * 5 + 60, register=register)
               for i in range(n)]
    # Encode every update first: a bad update fails here, before any server runs.
    for c, u, w in zip(clients, updates, weights):
        c.encode(u, w)
    address = session.serve(round_timeout=round_timeout)
    errors = [None] * n

    def party(i):
        c = clients[i]
        try:
            stop = dropouts.get(i)
            for rnd, step in ((0, c.keygen), (1, c.share), (2, c.mask), (4, c.unmask)):
                if stop is not None and rnd >= stop:
                    return
                step(address)
        except BaseException as e:  # reported below, after the others are stopped
            errors[i] = e
            session.stop()  # the others' steps then fail fast instead of waiting for deadlines

    threads = [threading.Thread(target=party, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        session.stop()
        with lock:
            for p in procs:
                if p.poll() is None:
                    p.kill()
        # The client that failed first, not the ones that lost their server afterwards.
        raise first
    try:
        average, contributors, total = session.result(like=updates[0], dtype=dtype)
    finally:
        session.stop()
    if not want_report:
        return average
    r = Report(contributors=contributors, total_weight=total, seconds=time.monotonic() - t0,
               dropped=sorted(dropouts), server_log=session.log())
    if dp is None:
        r.step = 2 * float(clip) / (2 ** int(bits) - 1)
    else:
        acct = account(session.params, 1)
        r.epsilon = acct["epsilon"]
        m, k = contributors, acct["contributors"]
        r.noise_stddev = dp.noise_multiplier * dp.l2_clip * (m / k) ** 0.5 / m
    return average, r

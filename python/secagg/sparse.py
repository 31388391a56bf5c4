"""secure_sparse_average: one round of sparse secure aggregation (SSGA, docs/sparse.md) through
the tools, both sessions in file mode; and the bytes of a dense round, measured the same way."""

import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _tools


@dataclass
class SparseReport:
    """What a secure_sparse_average call learned besides the average. Byte counts are per party
    (list index = update index): the sizes of the message files it sent (key advert, shares,
    masked input, unmasking answer) and received (roster, its inbox, the survivors; in a sparse
    round also the selection), over both sessions."""
    selected: int = 0                                   # |M|
    r_max: float = 0.0                                  # the values session's clip
    indices: np.ndarray = None                          # M, ascending
    step: float = 0.0                                   # 2 R_max / (2^bits - 1)
    summed: list = field(default_factory=list)          # parties whose values are in the average
    sent: list = field(default_factory=list)            # bytes sent, both sessions
    received: list = field(default_factory=list)        # bytes received, both sessions
    union_sent: list = field(default_factory=list)      # of which in the union session
    masked: list = field(default_factory=list)          # of which masked inputs (the payload)
    values_sent: list = field(default_factory=list)     # of which in the values session


def secure_sparse_average(updates, weights, *, k, residual_dir, union="private", bits=16, max_weight=None,
                          threshold=None, dropouts=None, workdir=None):
    """One SSGA round: the weighted average of the parties' residuals on the union M of their
    top entries, by two secure-aggregation sessions; entries off M stay in the residuals.

    updates: one real array per party, all of one shape (N entries, flattened in C order).
    weights: one positive integer per party. k: K, the entries sent in all (each party proposes
    its top floor(K/n); K >= n). residual_dir: where party i's residual lives across rounds,
    residual_dir/party{i}.npy (i = the update's index; a missing file starts at zeros, of the
    update's dtype: float32 updates keep float32 residuals). union: "private" (the server learns
    per-index counts only) or "plain" (the paper's clear-text union). bits: the values' bits.
    max_weight: default the largest weight. threshold: t, default more than half the parties.
    dropouts: {"union": [i, ...], "values": [j, ...]}, parties that never send their masked
    input in that session; one that drops out of the values session keeps its residual on M.
    workdir: keep the sessions' files there instead of a temporary directory.

    Returns (average, SparseReport): the average in the updates' shape (float64), zero off M;
    on M within one step 2 R_max / (2^bits - 1) of the weighted average of the summed parties'
    residuals clipped to R_max. Raises ValueError for bad arguments, ToolError when a tool
    fails (e.g. K < n: secagg-collect exit 64).
    """
    n = len(updates)
    if len(weights) != n:
        raise ValueError(f"{n} updates but {len(weights)} weights")
    if n == 0:
        raise ValueError("no updates")
    arrays = [np.asarray(u) for u in updates]
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape or a.dtype.kind not in "fiu":
            raise ValueError(f"update {i}: shape {a.shape} and dtype {a.dtype}; update 0 has shape {shape}, "
                             "all must be real arrays of one shape")
    if union not in ("private", "plain"):
        raise ValueError(f"union {union!r}: it must be 'private' or 'plain'")
    dropouts = dict(dropouts or {})
    if set(dropouts) - {"union", "values"}:
        raise ValueError(f"dropouts keys {sorted(set(dropouts))}: only 'union' and 'values'")
    drop_u, drop_v = set(dropouts.get("union", ())), set(dropouts.get("values", ()))
    if not drop_u | drop_v <= set(range(n)):
        raise ValueError(f"dropouts {sorted(drop_u | drop_v)}: parties are 0 .. {n - 1}")
    threshold = n // 2 + 1 if threshold is None else threshold
    max_weight = max(int(w) for w in weights) if max_weight is None else max_weight
    residual_dir = Path(residual_dir)
    residual_dir.mkdir(parents=True, exist_ok=True)
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="secagg-sparse.") as tmp:
            return _round(arrays, weights, k, residual_dir, union, bits, max_weight, threshold, drop_u, drop_v,
                          Path(tmp))
    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    return _round(arrays, weights, k, residual_dir, union, bits, max_weight, threshold, drop_u, drop_v, work)


def _round(arrays, weights, k, residual_dir, union, bits, max_weight, threshold, drop_u, drop_v, work):
    n, shape = len(arrays), arrays[0].shape
    run = _tools.run
    U, V = work / "U", work / "V"
    run("secagg-collect", "setup", "--session", U, "--union", union, "--model-length", arrays[0].size,
        "--k", k, "--clients", n, "--threshold", threshold)
    residuals = [residual_dir / f"party{i}.npy" for i in range(n)]
    for i, a in enumerate(arrays):
        u = work / f"update{i}.npy"
        np.save(u, a.reshape(-1) if a.dtype in (np.float32, np.float64) else a.reshape(-1).astype(np.float64))
        run("secagg-quantize", "topk", "--params", U / "params.msg", "--residual", residuals[i], "--input", u,
            "--id", i + 1, "-o", work / f"union{i}.vec")
    u_sent, u_recv, u_masked = _file_session(U, [work / f"union{i}.vec" for i in range(n)], drop_u)
    sel = work / "sel.msg"
    run("secagg-collect", "select", "--session", U, "-o", sel)
    run("secagg-collect", "setup", "--session", V, "--select", sel, "--clients", n, "--threshold", threshold,
        "--bits", bits, "--max-weight", max_weight, "--modulus-bits", "auto")
    for i in range(n):
        run("secagg-quantize", "encode", "--params", V / "params.msg", "--select", sel, "--residual", residuals[i],
            "--weight", int(weights[i]), "-o", work / f"values{i}.vec")
    v_sent, v_recv, v_masked = _file_session(V, [work / f"values{i}.vec" for i in range(n)], drop_v)
    out = work / "average.npy"
    run("secagg-quantize", "decode", "--params", V / "params.msg", "--select", sel, "--input", V / "aggregate.vec",
        "--dtype", "f64", "-o", out)
    summed = [i for i in range(n) if i not in drop_v]
    for i in summed:
        run("secagg-quantize", "settle", "--residual", residuals[i], "--select", sel, "--params", V / "params.msg",
            "--survivors", V / "survivors.msg", "--id", i + 1)
    indices, r_max = read_selection(sel)
    sel_size = sel.stat().st_size  # every party receives the selection to encode its values
    report = SparseReport(selected=len(indices), r_max=r_max, indices=indices, step=2 * r_max / (2 ** int(bits) - 1),
                          summed=summed, sent=[a + b for a, b in zip(u_sent, v_sent)],
                          received=[a + b + sel_size for a, b in zip(u_recv, v_recv)],
                          union_sent=u_sent, values_sent=v_sent, masked=[a + b for a, b in zip(u_masked, v_masked)])
    return np.load(out).reshape(shape), report


def _file_session(s, inputs, drop):
    """Every round of the file-mode session s (set up), client i + 1 masking inputs[i]; the
    parties in drop never send their masked input. Returns the bytes each party sent and
    received (the message files it wrote, and the roster, its inbox and the survivors), and
    those of its masked input."""
    n, c = len(inputs), Path(f"{s}.c")
    c.mkdir(exist_ok=True)
    sent, recv, masked_bytes = [0] * n, [0] * n, [0] * n
    size = lambda p: Path(p).stat().st_size  # noqa: E731

    def step(i, tool, *args, out):
        _tools.run(tool, "--state", c / f"c{i + 1}", *args, "-o", out)
        sent[i] += size(out)
        return out

    for i in range(n):
        out = c / f"adv{i + 1}.msg"
        _tools.run("secagg-keygen", "--params", s / "params.msg", "--id", i + 1, "--state", c / f"c{i + 1}", "-o", out)
        sent[i] += size(out)
    _tools.run("secagg-collect", "keys", "--session", s, *[c / f"adv{i + 1}.msg" for i in range(n)])
    shares = [step(i, "secagg-share", "--roster", s / "roster.msg", out=c / f"shares{i + 1}.msg") for i in range(n)]
    _tools.run("secagg-collect", "shares", "--session", s, *shares)
    live = [i for i in range(n) if i not in drop]
    masked = [step(i, "secagg-mask", "--inbox", s / f"inbox-{i + 1}.msg", "--input", inputs[i],
                   out=c / f"masked{i + 1}.msg") for i in live]
    _tools.run("secagg-collect", "masked", "--session", s, *masked)
    for i in live:
        masked_bytes[i] = size(c / f"masked{i + 1}.msg")
    answers = [step(i, "secagg-unmask", "--survivors", s / "survivors.msg", out=c / f"unmask{i + 1}.msg")
               for i in live]
    _tools.run("secagg-collect", "unmask", "--session", s, *answers, "-o", c / "aggregate.vec")
    for i in range(n):
        recv[i] = size(s / "roster.msg") + size(s / f"inbox-{i + 1}.msg") + (size(s / "survivors.msg") if i in live else 0)
    return sent, recv, masked_bytes


def read_selection(path):
    """(M, R_max) of a selection message (man/secagg-formats.5, Selection: after the 40-byte
    header, a type byte, then mode u8, model_length u64, count u64, count x u32, r_max f64)."""
    b = Path(path).read_bytes()
    count = struct.unpack_from("<Q", b, 40 + 1 + 1 + 8)[0]
    indices = np.frombuffer(b, dtype="<u4", count=count, offset=40 + 18).astype(np.int64)
    r_max = struct.unpack_from("<d", b, 40 + 18 + 4 * count)[0]
    return indices, r_max


def dense_round_bytes(n, length, *, bits=16, clip=1.0, max_weight=1, threshold=None, workdir=None):
    """The bytes each of n parties sends and receives in one dense file-mode session of length
    floats (zeros; the sizes do not depend on the values), counted as secure_sparse_average
    counts them: (sent, received, masked inputs), lists of n."""
    threshold = n // 2 + 1 if threshold is None else threshold
    with tempfile.TemporaryDirectory(prefix="secagg-dense.") as tmp:
        work = Path(workdir or tmp)
        s = work / "S"
        _tools.run("secagg-collect", "setup", "--session", s, "--clients", n, "--threshold", threshold,
                   "--length", length, "--clip", repr(float(clip)), "--bits", bits, "--max-weight", max_weight,
                   "--modulus-bits", "auto")
        np.save(work / "zeros.npy", np.zeros(length))
        inputs = []
        for i in range(n):
            inputs.append(work / f"x{i}.vec")
            _tools.run("secagg-quantize", "encode", "--params", s / "params.msg", "--weight", 1,
                       "--input", work / "zeros.npy", "-o", inputs[-1])
        return _file_session(s, inputs, set())

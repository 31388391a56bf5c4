#!/usr/bin/env bash
# t0640-python-sparse: secagg.secure_sparse_average (python/secagg/sparse.py, docs/python.md),
# two SSGA rounds of four weighted parties over one residual directory, the first with a
# private union, the second with a plain one; party 2 drops out of the first round's values
# session. Checked against numpy's SSGA bookkeeping: M is the union of the parties' top
# floor(K/n) residual entries, R_max their largest |residual| (a power of two in private
# mode), the average on M is the weighted average of the summed parties' residuals within one
# step, zero off M, and every residual file equals the reference after each round (the
# dropped party keeps its entries on M, so its second residual is its leftover plus its new
# update). The byte report counts the message files; K < n is secagg-collect's exit 64.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

require_numpy

section "two rounds against numpy's SSGA bookkeeping, a dropout in the values session"
pycheck "secure_sparse_average over two rounds" '
import numpy as np, os, secagg
N, n, K = 300, 4, 24
k = K // n
weights = [3, 1, 4, 2]
rng = np.random.default_rng(5)
def updates():
    return [(rng.uniform(-0.01, 0.01, N) + (rng.random(N) < 0.05) * rng.uniform(-1, 1, N)).astype(np.float32)
            for _ in range(n)]
def top(x):  # the k largest |x|, ties to the lower index
    return np.sort(np.lexsort((np.arange(N), -np.abs(x.astype(np.float64))))[:k])
ref = [np.zeros(N, np.float32) for _ in range(n)]
os.makedirs("res")
for rnd, mode, drop in ((1, "private", [2]), (2, "plain", [])):
    ups = updates()
    ref = [r + u for r, u in zip(ref, ups)]
    M = np.unique(np.concatenate([top(r) for r in ref]))
    mx = max(float(np.abs(r).max()) for r in ref)
    r_max = mx if mode == "plain" else 2.0 ** np.ceil(np.log2(mx))
    avg, rep = secagg.secure_sparse_average(ups, weights, k=K, residual_dir="res", union=mode,
                                            dropouts={"values": drop}, workdir=f"w{rnd}")
    assert np.array_equal(rep.indices, M) and rep.selected == len(M), (rnd, rep.indices, M)
    assert abs(rep.r_max - r_max) <= 1e-7 * r_max, (rnd, rep.r_max, r_max)
    summed = [i for i in range(n) if i not in drop]
    assert rep.summed == summed, rep.summed
    want = np.average([np.clip(ref[i][M].astype(np.float64), -r_max, r_max) for i in summed], axis=0,
                      weights=[weights[i] for i in summed])
    err = float(np.abs(avg[M] - want).max())
    assert avg.shape == (N,) and err <= rep.step, (rnd, err, rep.step)
    off = np.ones(N, bool); off[M] = False
    assert not avg[off].any(), rnd
    for i in summed:
        ref[i][M] = 0
    for i in range(n):
        got = np.load(f"res/party{i}.npy")
        assert got.dtype == np.float32 and np.array_equal(got, ref[i]), (rnd, i, np.abs(got - ref[i]).max())
    # Round 1: party 2 kept its entries on M, which the second round must add to.
    if rnd == 1:
        assert np.abs(ref[2][M]).max() > 0.1
        assert rep.values_sent[2] < rep.values_sent[0] and rep.sent[2] < rep.sent[0], rep
    sizes = lambda d, pat: sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith(pat))
    assert rep.union_sent[0] == sum(sizes(f"w{rnd}/U.c", p + "1.") for p in ("adv", "shares", "masked", "unmask"))
    assert rep.sent[1] == rep.union_sent[1] + rep.values_sent[1] > rep.masked[1] > 0, rep
'
pycheck "random sessions: n, N, K from n to N, weights, dropouts in both sessions, three rounds each" '
import numpy as np, os, secagg
rng = np.random.default_rng(11)
for case in range(5):
    n = int(rng.integers(2, 7)); N = int(rng.integers(1, 3000)); K = int(rng.integers(n, max(n, N) + 1))
    K = min(K, n * N)
    k = min(K // n, N)
    weights = [int(w) for w in rng.integers(1, 9, n)]
    ref = [np.zeros(N, np.float64) for _ in range(n)]
    res = f"res{case}"
    os.makedirs(res)
    for rnd in range(3):
        mode = ("private", "plain")[int(rng.integers(0, 2))]
        ups = [rng.normal(0, 0.1, N) * (rng.random(N) < 0.3) for _ in range(n)]
        drop_u = [int(rng.integers(0, n))] if n > 2 and rng.random() < 0.5 else []
        drop_v = [int(rng.integers(0, n))] if n > 2 and rng.random() < 0.5 else []
        ref = [r + u for r, u in zip(ref, ups)]
        def top(x):
            return np.sort(np.lexsort((np.arange(N), -np.abs(x)))[:k])
        union_in = [i for i in range(n) if i not in drop_u]
        M = np.unique(np.concatenate([top(ref[i]) for i in union_in]))
        mx = max(float(np.abs(ref[i]).max()) for i in union_in)
        if mx == 0:
            break  # nothing to send: setup --select refuses an all-zero selection
        r_max = mx if mode == "plain" else 2.0 ** np.ceil(np.log2(np.float32(mx)))
        avg, rep = secagg.secure_sparse_average(ups, weights, k=K, residual_dir=res, union=mode,
                                                dropouts={"union": drop_u, "values": drop_v},
                                                workdir=f"w{case}-{rnd}")
        where = (case, rnd, n, N, K, mode, drop_u, drop_v)
        assert np.array_equal(rep.indices, M), where
        assert abs(rep.r_max - r_max) <= 1e-6 * r_max, (where, rep.r_max, r_max)
        summed = [i for i in range(n) if i not in drop_v]
        want = np.average([np.clip(ref[i][M], -rep.r_max, rep.r_max) for i in summed], axis=0,
                          weights=[weights[i] for i in summed])
        assert float(np.abs(avg[M] - want).max()) <= rep.step * (1 + 1e-6), where
        for i in summed:
            ref[i][M] = 0
        for i in range(n):
            got = np.load(f"{res}/party{i}.npy").astype(np.float64)
            # The residual files are float64 here (the updates are): exact.
            assert np.array_equal(got, ref[i]), (where, i)
'
pycheck "dense_round_bytes counts the same message files" '
import secagg
sent, received, masked = secagg.dense_round_bytes(4, 300, bits=16, clip=1.0, max_weight=4)
assert len(set(sent)) == 1 and sent[0] > masked[0] > 300 * 2 and received[0] > 0, (sent, received, masked)
'

section "errors"
pycheck "K < n: secagg-collect exit 64 as secagg.ToolError" '
import numpy as np, secagg, tempfile
with tempfile.TemporaryDirectory() as d:
    try:
        secagg.secure_sparse_average([np.ones(10)] * 4, [1] * 4, k=3, residual_dir=d)
        raise SystemExit("no exception")
    except secagg.ToolError as e:
        assert (e.tool, e.code) == ("secagg-collect", 64), (e.tool, e.code, e.message)
'
pycheck "mismatched shapes and bad dropouts: ValueError before any tool runs" '
import numpy as np, secagg
for ups, kw in (([np.zeros(3), np.zeros(4)], {}), ([np.zeros(3)] * 2, {"dropouts": {"values": [5]}}),
                ([np.zeros(3)] * 2, {"union": "clear"})):
    try:
        secagg.secure_sparse_average(ups, [1, 1], k=2, residual_dir="r", **kw)
        raise SystemExit("no exception")
    except ValueError:
        pass
'

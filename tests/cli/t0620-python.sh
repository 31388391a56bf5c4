#!/usr/bin/env bash
# t0620-python: the Python package secagg (python/secagg, docs/python.md). secure_average on
# three float32 updates of mixed shapes (a 3x4 matrix and a vector of 5) equals numpy's
# weighted average of the clipped updates within one quantization step, in one call, as a
# list and as a dict; a party that drops out before round 2 leaves the average of the others;
# tool failures surface as secagg.ToolError with the tool's exit code and message; and the
# package installed by cmake --install imports and finds the tools next to it.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

require_numpy

section "secure_average: mixed shapes, one call, numpy's weighted average within one step"
pycheck "list of arrays" '
import numpy as np, secagg
r = np.random.default_rng(11)
ups = [[r.normal(0, 0.5, (3, 4)).astype(np.float32), r.normal(0, 0.5, 5).astype(np.float32)] for _ in range(3)]
ups[0][0][0, 0] = 3.0                       # clipped to 1.0
weights = [10, 20, 70]
avg = secagg.secure_average(ups, weights, clip=1.0, bits=16)
assert isinstance(avg, list) and len(avg) == 2
step = 2 / (2**16 - 1)
for k, shape in enumerate([(3, 4), (5,)]):
    want = np.average(np.stack([np.clip(u[k].astype(np.float64), -1, 1) for u in ups]), axis=0, weights=weights)
    assert avg[k].shape == shape and avg[k].dtype == np.float64, (avg[k].shape, avg[k].dtype)
    err = np.abs(avg[k] - want).max()
    assert err < step, (k, err, step)
'
pycheck "dict of named arrays, report, float32 result" '
import numpy as np, secagg
r = np.random.default_rng(12)
ups = [{"w": r.normal(0, 0.2, (3, 4)).astype(np.float32), "b": r.normal(0, 0.2, 5).astype(np.float32)} for _ in range(3)]
avg, rep = secagg.secure_average(ups, [1, 2, 3], clip=0.5, bits=12, dtype="f32", report=True)
assert list(avg) == ["w", "b"] and avg["w"].dtype == np.float32
assert rep.contributors == 3 and rep.total_weight == 6 and rep.dropped == [], rep
assert abs(rep.step - 1.0 / 4095) < 1e-15
for k in avg:
    want = np.average(np.stack([u[k].astype(np.float64).clip(-0.5, 0.5) for u in ups]), axis=0, weights=[1, 2, 3])
    assert np.abs(avg[k] - want).max() < rep.step + 1e-6
'
pycheck "a party that drops out before round 2 is not in the average" '
import numpy as np, secagg
r = np.random.default_rng(13)
ups = [r.normal(0, 0.3, 7) for _ in range(4)]
avg, rep = secagg.secure_average(ups, [5, 6, 7, 8], clip=1.0, dropouts={2: 2}, round_timeout=1, report=True)
assert rep.contributors == 3 and rep.total_weight == 19 and rep.dropped == [2], rep
assert "client 3: dropped" in rep.server_log, rep.server_log
want = np.average(np.stack([ups[i] for i in (0, 1, 3)]), axis=0, weights=[5, 6, 8])
assert np.abs(avg - want).max() < rep.step
'

section "errors: secagg.ToolError with the exit code and message of the tool that failed"
pycheck "NaN in an update: secagg-quantize exit 65, naming the value" '
import numpy as np, secagg
ups = [np.zeros(4), np.array([0.0, np.nan, 0.0, 0.0]), np.ones(4)]
try:
    secagg.secure_average(ups, [1, 1, 1], clip=1.0)
    raise SystemExit("no exception")
except secagg.ToolError as e:
    assert (e.tool, e.code) == ("secagg-quantize", 65), (e.tool, e.code)
    assert "value 1 is NaN" in e.message and "error:" not in e.message, e.message
'
pycheck "a weight of 0: secagg-quantize exit 64; one party: secagg-collect exit 64" '
import numpy as np, secagg
for ups, w, tool in (([np.zeros(3)] * 2, [1, 0], "secagg-quantize"), ([np.zeros(3)], [1], "secagg-collect")):
    try:
        secagg.secure_average(ups, w, clip=1.0)
        raise SystemExit("no exception")
    except secagg.ToolError as e:
        assert (e.tool, e.code) == (tool, 64), (e.tool, e.code, e.message)
'
pycheck "mismatched updates: ValueError before any tool runs" '
import numpy as np, secagg
try:
    secagg.secure_average([np.zeros(3), np.zeros(4)], [1, 1], clip=1.0)
    raise SystemExit("no exception")
except ValueError as e:
    assert "shape" in str(e)
'
pycheck "a server that cannot listen: secagg-collect exit 75 from Session.serve" '
import socket, secagg, tempfile, os
with tempfile.TemporaryDirectory() as d:
    s = secagg.Session.setup(os.path.join(d, "S"), clients=3, threshold=2, length=4, clip=1.0, bits=8, max_weight=1)
    busy = socket.socket(); busy.bind(("127.0.0.1", 0)); busy.listen()
    try:
        s.serve(listen="127.0.0.1:%d" % busy.getsockname()[1])
        raise SystemExit("no exception")
    except secagg.ToolError as e:
        assert (e.tool, e.code) == ("secagg-collect", 75), (e.tool, e.code, e.message)
'

section "installed: cmake --install puts the package beside the tools"
P=$WORK/prefix
must cmake --install "$SECAGG_BIN" --prefix "$P" >/dev/null
pkg=("$P"/lib/python3*/dist-packages/secagg/__init__.py)
check "the package is under PREFIX/lib/python3.X/dist-packages" test ${#pkg[@]} -eq 1
site=$(dirname "$(dirname "${pkg[0]}")")
out=$(cd / && env -u SECAGG_BIN PATH=/usr/bin:/bin PYTHONPATH="$site" "$PY" -c '
import numpy as np, secagg
print(secagg.find_tool("secagg-mask"))
print(secagg.secure_average([np.full(2, 0.5), np.full(2, -0.5)], [3, 1], clip=1.0, bits=16).round(4).tolist())
' 2>&1) || true
check "it finds the tools in PREFIX/bin, not on PATH ($out)" grep -qxF "$P/bin/secagg-mask" <<<"$out"
check "and averages with them" grep -qxF "[0.25, 0.25]" <<<"$out"

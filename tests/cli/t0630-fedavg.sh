#!/usr/bin/env bash
# t0630-fedavg: examples/fedavg/fedavg.py --rounds 3 (make fedavg's example, shortened): it
# exits 0 (secure and plain FedAvg agree within the quantization bound and 0.5 points of
# accuracy in every round), round 2 has the dropout with 5 of 6 contributors, results.csv
# has the documented header and one row per round with accuracies in [0, 1], and the plot is
# a PNG; a 7-round --sparse 65 run reports a sparse accuracy above 80% and its bytes. Needs
# python3-sklearn and python3-matplotlib (make test and make fedavg install them).
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

if ! "$PY" -c 'import numpy, sklearn, matplotlib' 2>/dev/null; then
  fail "$PY lacks numpy, sklearn or matplotlib: install python3-sklearn python3-matplotlib ('make test' does)"
  exit 1
fi
rc=0
"$PY" "$SECAGG_SRC/examples/fedavg/fedavg.py" --rounds 3 --outdir out >run.txt 2>run.err || rc=$?
check "fedavg.py --rounds 3 exits 0 ($(tail -2 run.err))" test "$rc" -eq 0
check "it says secure and plain agree" grep -q "agree within the quantization bound in every round" run.txt
check "round 2 shows the dropout" grep -Eq "^ +2 .*5/6 \(party 5 dropped\)" run.txt
check "the final table compares with PriDe" grep -q "^cloud (party 0) alone" run.txt
if out=$("$PY" - 2>&1 <<'PYEOF'
import csv
rows = list(csv.DictReader(open("out/results.csv")))
assert [int(r["round"]) for r in rows] == [1, 2, 3], rows
for r in rows:
    p, s = float(r["plain_accuracy"]), float(r["secure_accuracy"])
    assert 0 <= p <= 1 and 0 <= s <= 1 and abs(p - s) <= 0.005, r
    assert float(r["max_average_difference"]) < float(r["bound"]), r
assert [int(r["contributors"]) for r in rows] == [6, 5, 6], rows
assert open("out/accuracy.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
PYEOF
); then pass; else fail "results.csv or accuracy.png: $out"; fi

# The sparse run (docs/sparse.md, "Accuracy: federated averaging with sparse updates"): 7
# rounds at K = 65 of N = 650 (10x) with a private union; plain FedAvg is at 94% after 7
# rounds, the sparse run at 92% (it sends a tenth of the entries each round).
rc=0
"$PY" "$SECAGG_SRC/examples/fedavg/fedavg.py" --rounds 7 --dropout-round 0 --sparse 65 --outdir sp >sp.txt 2>sp.err || rc=$?
check "fedavg.py --sparse 65 exits 0 ($(tail -2 sp.err))" test "$rc" -eq 0
check "the final table has the sparse run" grep -q "^federated (sparse sec.) .* K = 65 of 650 (10x), private union" sp.txt
if out=$("$PY" - 2>&1 <<'PYEOF'
import csv
rows = list(csv.DictReader(open("sp/results.csv")))
assert [int(r["round"]) for r in rows] == list(range(1, 8)), rows
last = rows[-1]
assert float(last["sparse_accuracy"]) > 0.80, last
assert 6 <= int(last["sparse_selected"]) <= 65, last
# Bytes per party: the masked values of a sparse round are fewer than a dense round's.
assert 0 < int(last["sparse_bytes_masked"]) < int(last["dense_bytes_masked"]), last
assert int(last["sparse_bytes_sent"]) > int(last["sparse_bytes_masked"]), last
PYEOF
); then pass; else fail "sp/results.csv: $out"; fi

# Distributed DP (docs/privacy.md): 3 rounds at two noise multipliers. Almost no noise
# (z = 0.001) trains (the unweighted average of clipped updates: 86% after 3 rounds); z = 3 is
# private (epsilon ~2.5 over the 3 rounds) and its noise swamps 6 parties' updates. epsilon
# falls as z grows, and each DP round counts the dropout like the other runs.
rc=0
"$PY" "$SECAGG_SRC/examples/fedavg/fedavg.py" --rounds 3 --dp 0.001,3 --outdir dp >dp.txt 2>dp.err || rc=$?
check "fedavg.py --dp 0.001,3 exits 0 ($(tail -2 dp.err))" test "$rc" -eq 0
check "the DP table says what the noise is calibrated for" \
  grep -q "^distributed DP (docs/privacy.md): 6 parties, t = 4, so the noise is calibrated for 4 honest" dp.txt
if out=$("$PY" - 2>&1 <<'PYEOF'
import csv
t = {float(r["noise_multiplier"]): r for r in csv.DictReader(open("dp/dp.csv"))}
lo, hi = t[0.001], t[3.0]
assert float(lo["epsilon"]) > float(hi["epsilon"]) > 0, t
assert 1.5 < float(hi["epsilon"]) < 4, hi
assert float(lo["accuracy"]) > 0.75, lo
assert float(hi["accuracy"]) < float(lo["accuracy"]), t
rows = list(csv.DictReader(open("dp/results.csv")))
assert all(0 <= float(r["dp_accuracy_z3"]) <= 1 for r in rows), rows
assert open("dp/accuracy_dp.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
PYEOF
); then pass; else fail "dp/dp.csv or accuracy_dp.png: $out"; fi

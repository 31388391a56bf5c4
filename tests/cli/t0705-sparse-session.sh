#!/usr/bin/env bash
# t0705-sparse-session: the server side of an SSGA round (issue 12, docs/sparse.md) in file mode.
# Union sessions of both modes are set up with the sizes the union encoding gives; a whole plain
# union session runs with union vectors written here from the plain encoding's slots
# (lib/protocol/sparse_union.hpp), and `select` must decode exactly the union of the indices the
# surviving clients sent and their largest maximum; `setup --select` makes the values session
# (length |M| + 1, clip R_max, bound to the selection file's digest). The refusals: options the
# union encoding sizes, K < n, select before round 4 (66) and of a dense session (65), an
# undecodable sum (65), a selection file of another type (65), an empty selection and R_max 0 (65).
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# plain_vector N_CLIENTS PER_CLIENT ID MAX INDEX...: client ID's plain union vector as decimal
# text: its slots hold its indices + 1, then the float32 bits of its maximum + 1.
plain_vector() {
  "$PY" - "$@" <<'EOF'
import struct, sys
n, per, cid, mx = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
idx = [int(a) for a in sys.argv[5:]]
v = [0] * (n * (per + 1))
base = (cid - 1) * (per + 1)
for j, x in enumerate(idx):
    v[base + j] = x + 1
v[base + per] = struct.unpack('<I', struct.pack('<f', mx))[0] + 1
print('\n'.join(map(str, v)))
EOF
}

# run_session DIR MASKED_IDS: every round of the session in DIR (its S/params.msg made, its
# inputs x<id>.txt written) with all n clients, those of MASKED_IDS sending a masked input.
run_session() {
  local dir=$1 ids=$2 n i files=()
  n=$(secagg-inspect --json "$dir/S/params.msg" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["body"]["clients"])')
  (
    cd "$dir"
    for i in $(seq 1 "$n"); do must secagg-keygen --params S/params.msg --id "$i" --state "c$i" -o "adv$i.msg"; done
    must secagg-collect keys --session S adv*.msg
    for i in $(seq 1 "$n"); do must secagg-share --state "c$i" --roster S/roster.msg -o "shares$i.msg"; done
    must secagg-collect shares --session S shares*.msg
    for i in $ids; do
      must secagg-mask --state "c$i" --inbox "S/inbox-$i.msg" --input "x$i.txt" -o "masked$i.msg"
      files+=("masked$i.msg")
    done
    must secagg-collect masked --session S "${files[@]}"
    files=()
    for i in $ids; do
      must secagg-unmask --state "c$i" --survivors S/survivors.msg -o "unmask$i.msg"
      files+=("unmask$i.msg")
    done
    must secagg-collect unmask --session S "${files[@]}" -o sum.vec
  ) >/dev/null 2>&1 || fail "the session in $dir did not run"
}

# body FILE FIELD: one field of a message's body, as JSON.
body() { secagg-inspect --json "$1" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["body"][sys.argv[1]]))' "$2"; }

section "setup --union plain: the plain encoding sizes the session"
expect_exit 0 secagg-collect setup --session UP/S --union plain --model-length 50 --k 13 --clients 4 --threshold 3
check "plain union params: sparse, N, floor(K / n), n (floor(K / n) + 1) slots, R = 2^32" "$PY" -c '
import json, subprocess, sys
b = json.loads(subprocess.check_output(["secagg-inspect", "--json", "UP/S/params.msg"]))["body"]
assert b["sparse"] == "union-plain" and b["model_length"] == 50 and b["per_client"] == 3, b
assert b["length"] == 4 * 4 and b["modulus"] == 2**32 and b["union_cells"] == 0 and b["quant_bits"] == 0, b
'

section "setup --union private"
expect_exit 0 secagg-collect setup --session UQ/S --union private --model-length 1000 --k 30 --clients 3 --threshold 2
expect_exit 0 secagg-collect setup --session UQ2/S --union private --model-length 1000 --k 30 --clients 3 \
  --threshold 2 --union-cells-factor 3
check "private union params: sparse, N, floor(K / n), cells a multiple of 3, R a power of two" "$PY" -c '
import json, subprocess
b = json.loads(subprocess.check_output(["secagg-inspect", "--json", "UQ/S/params.msg"]))["body"]
b2 = json.loads(subprocess.check_output(["secagg-inspect", "--json", "UQ2/S/params.msg"]))["body"]
assert b["sparse"] == "union-private" and b["model_length"] == 1000 and b["per_client"] == 10, b
m = b["union_cells"]
assert m >= 24 and m % 3 == 0 and b["length"] > m, b
assert b["modulus"] & (b["modulus"] - 1) == 0, b
# Twice the factor, about twice the cells; the histogram and totals stay as they were.
assert b2["union_cells"] > m and b2["length"] - b2["union_cells"] == b["length"] - m, (b, b2)
'
expect_exit 66 secagg-collect select --session UQ/S -o sel.msg
expect_err "UQ/S/aggregate.vec: missing" "round 4"
assert_absent sel.msg

section "setup --union refusals"
for opt in "--modulus-bits 32" "--modulus 1000" "--length 10" "--bits 8"; do
  # shellcheck disable=SC2086
  expect_exit 64 secagg-collect setup --session X/S --union private --model-length 100 --k 10 --clients 3 \
    --threshold 2 $opt
  expect_err "${opt%% *} cannot be given with --union"
done
expect_exit 64 secagg-collect setup --session X/S --union private --model-length 100 --k 2 --clients 3 --threshold 2
expect_err "--k 2 is below --clients 3"
expect_exit 64 secagg-collect setup --session X/S --union secret --model-length 100 --k 10 --clients 3 --threshold 2
expect_exit 64 secagg-collect setup --session X/S --union private --k 10 --clients 3 --threshold 2
expect_exit 64 secagg-collect setup --session X/S --union plain --model-length 100 --k 10 --clients 3 --threshold 2 \
  --union-cells-factor 3
expect_exit 64 secagg-collect setup --session X/S --model-length 100 --k 10 --clients 3 --threshold 2 --length 4 \
  --modulus-bits 8
expect_exit 64 secagg-collect setup --session X/S --clients 3 --threshold 2 --modulus-bits 8
expect_err "--length is required"
assert_absent X/S/params.msg

section "a whole plain union session; client 4 drops before round 2"
plain_vector 4 3 1 0.75 3 17 40 >UP/x1.txt
plain_vector 4 3 2 2.5 17 >UP/x2.txt
plain_vector 4 3 3 0.125 0 3 49 >UP/x3.txt
plain_vector 4 3 4 9.0 5 6 7 >UP/x4.txt  # dropped: neither its indices nor its maximum count
run_session UP "1 2 3"
expect_exit 0 secagg-collect select --session UP/S -o sel.msg
expect_err "secagg-collect: select: 5 of N = 50 indices selected from 3 clients; R_max = 2.5"
check "select: M is the union of the survivors' indices, R_max their largest maximum" \
  test "$(body sel.msg indices) $(body sel.msg r_max) $(body sel.msg model_length)" = "[0, 3, 17, 40, 49] 2.5 50"
check "the selection carries the union session's id" \
  test "$(secagg-inspect --json sel.msg | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["session"])')" = \
  "$(secagg-inspect --json UP/S/params.msg | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["session"])')"
expect_exit 0 secagg-inspect sel.msg >sel.txt
check "inspect shows mode, model length, selected and R_max" \
  grep -q '^sel.msg: selection round=- .* mode=union-plain model_length=50 selected=5 r_max=2.5$' sel.txt
check "inspect --json shows the mode" test "$(body sel.msg mode)" = '"union-plain"'
# A rerun writes the same selection (the union is a function of the aggregate).
cp sel.msg sel.first
expect_exit 0 secagg-collect select --session UP/S -o sel.msg
check "select again: the same bytes" cmp -s sel.msg sel.first

section "setup --select: the values session"
expect_exit 0 secagg-collect setup --session V/S --select sel.msg --clients 3 --threshold 2 --bits 8 --max-weight 4 \
  --modulus-bits auto
check "values params: length |M| + 1, clip R_max, N, the selection file's BLAKE2b-256" "$PY" -c '
import hashlib, json, subprocess
b = json.loads(subprocess.check_output(["secagg-inspect", "--json", "V/S/params.msg"]))["body"]
want = hashlib.blake2b(open("sel.msg", "rb").read(), digest_size=32).hexdigest()
assert b["sparse"] == "values" and b["length"] == 6 and b["clip"] == 2.5 and b["model_length"] == 50, b
assert b["selection"] == want and b["quant_bits"] == 8 and b["max_weight"] == 4, b
assert b["per_client"] == 0 and b["union_cells"] == 0, b
'
expect_exit 65 secagg-collect setup --session X/S --select UP/S/params.msg --clients 3 --threshold 2 --bits 8 \
  --modulus-bits auto
expect_err "UP/S/params.msg" "expected a selection message"
expect_exit 65 secagg-collect setup --session X/S --select UP/S/aggregate.vec --clients 3 --threshold 2 --bits 8 \
  --modulus-bits auto
expect_exit 66 secagg-collect setup --session X/S --select nosuch.msg --clients 3 --threshold 2 --bits 8 \
  --modulus-bits auto
for opt in "--length 5" "--clip 1"; do
  # shellcheck disable=SC2086
  expect_exit 64 secagg-collect setup --session X/S --select sel.msg --clients 3 --threshold 2 --bits 8 \
    --modulus-bits auto $opt
  expect_err "${opt%% *} cannot be given with --select"
done
expect_exit 64 secagg-collect setup --session X/S --select sel.msg --clients 3 --threshold 2 --modulus-bits 32
expect_err "--select needs --bits"
expect_exit 64 secagg-collect setup --session X/S --select sel.msg --union plain --clients 3 --threshold 2 --bits 8
assert_absent X/S/params.msg

section "select refuses a dense session and a sum no clients' vectors give"
expect_exit 0 secagg-collect setup --session D/S --clients 3 --threshold 2 --modulus-bits 16 --length 4
expect_exit 65 secagg-collect select --session D/S -o dsel.msg
expect_err "D/S/params.msg: a dense session, not a union session"
expect_exit 66 secagg-collect select --session nosession -o dsel.msg
# Client 1's index slot holds 61 > N = 50: a sum no encoding gives.
expect_exit 0 secagg-collect setup --session BAD/S --union plain --model-length 50 --k 6 --clients 3 --threshold 2
plain_vector 3 2 1 1.0 60 >BAD/x1.txt
plain_vector 3 2 2 1.0 1 >BAD/x2.txt
plain_vector 3 2 3 1.0 2 >BAD/x3.txt
run_session BAD "1 2 3"
expect_exit 65 secagg-collect select --session BAD/S -o dsel.msg
expect_err "BAD/S/aggregate.vec" "above N = 50"
assert_absent dsel.msg

section "an empty selection and R_max 0 make no values session"
expect_exit 0 secagg-collect setup --session E/S --union plain --model-length 50 --k 6 --clients 3 --threshold 2
for i in 1 2 3; do plain_vector 3 2 "$i" 0 >"E/x$i.txt"; done
run_session E "1 2 3"
expect_exit 0 secagg-collect select --session E/S -o empty.msg
check "no index selected" test "$(body empty.msg indices)" = "[]"
expect_exit 65 secagg-collect setup --session X/S --select empty.msg --clients 3 --threshold 2 --bits 8 \
  --modulus-bits auto
expect_err "empty.msg: the selection is empty"
expect_exit 0 secagg-collect setup --session Z/S --union plain --model-length 50 --k 6 --clients 3 --threshold 2
plain_vector 3 2 1 0 4 9 >Z/x1.txt
plain_vector 3 2 2 0 >Z/x2.txt
plain_vector 3 2 3 0 9 >Z/x3.txt
run_session Z "1 2 3"
expect_exit 0 secagg-collect select --session Z/S -o zero.msg
check "R_max 0 on M = {4, 9}" test "$(body zero.msg indices) $(body zero.msg r_max)" = "[4, 9] 0.0"
expect_exit 65 secagg-collect setup --session X/S --select zero.msg --clients 3 --threshold 2 --bits 8 \
  --modulus-bits auto
expect_err "zero.msg: R_max is 0"
assert_absent X/S/params.msg

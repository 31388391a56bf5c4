#!/usr/bin/env bash
# t0730-sparse-round: one whole sparse round (SSGA, docs/sparse.md) through the real tools, in
# both union modes: topk on every client, the union session's rounds, select, the values
# session's setup and rounds over the selection, decode into a dense model, settle. A client
# drops out of each session. Checked against numpy: the selection is the union of the top
# entries of the union session's survivors and their largest |residual| (rounded up to a power
# of two in private mode), the decoded average on M is the average of the values session's
# survivors' residuals within one quantization step, entries off M are zero, and every
# residual file is the reference: R_k[M] = 0 for the clients whose values were summed, the
# rest untouched.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
for tool in secagg-quantize; do
  [[ -x $SECAGG_BIN/$tool ]] || { echo "$TEST_NAME: $SECAGG_BIN/$tool is missing (build first)" >&2; exit 1; }
done

N=2000 n=6 K=120 t=4

# run_session S INPUT DROP2: every round of session S with clients 1..n, client i's input in
# INPUT$i.vec; client DROP2 never sends its masked input. Client files go in S.c/.
run_session() {
  local s=$1 in=$2 drop=$3 i files
  mkdir -p "$s.c"
  for ((i = 1; i <= n; i++)); do
    must secagg-keygen --params "$s/params.msg" --id "$i" --state "$s.c/c$i" -o "$s.c/adv$i.msg"
  done
  must secagg-collect keys --session "$s" "$s.c"/adv*.msg
  for ((i = 1; i <= n; i++)); do
    must secagg-share --state "$s.c/c$i" --roster "$s/roster.msg" -o "$s.c/shares$i.msg"
  done
  must secagg-collect shares --session "$s" "$s.c"/shares*.msg
  files=()
  for ((i = 1; i <= n; i++)); do
    ((i == drop)) && continue
    must secagg-mask --state "$s.c/c$i" --inbox "$s/inbox-$i.msg" --input "$in$i.vec" -o "$s.c/masked$i.msg"
    files+=("$s.c/masked$i.msg")
  done
  must secagg-collect masked --session "$s" "${files[@]}"
  files=()
  for ((i = 1; i <= n; i++)); do
    ((i == drop)) && continue
    must secagg-unmask --state "$s.c/c$i" --survivors "$s/survivors.msg" -o "$s.c/unmask$i.msg"
    files+=("$s.c/unmask$i.msg")
  done
  must secagg-collect unmask --session "$s" "${files[@]}" -o "$s.c/aggregate.vec"
}

for mode in private plain; do
  section "a sparse round with a $mode union"
  D=$WORK/$mode
  mkdir -p "$D"
  cd "$D"
  # The updates: a few large entries on a small background, float32.
  "$PY" - "$N" "$n" <<'PYEOF'
import sys, numpy as np
N, n = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(7)
for i in range(1, n + 1):
    u = (rng.uniform(-0.01, 0.01, N) + (rng.random(N) < 0.02) * rng.uniform(-1, 1, N)).astype(np.float32)
    np.save(f"u{i}.npy", u)
PYEOF
  must secagg-collect setup --session U --union "$mode" --model-length "$N" --k "$K" --clients "$n" --threshold "$t"
  for ((i = 1; i <= n; i++)); do
    must secagg-quantize topk --params U/params.msg --residual "r$i.npy" --input "u$i.npy" --id "$i" -o "idx$i.vec"
  done
  run_session U idx 6  # client 6 drops out of the union session
  expect_exit 0 secagg-collect select --session U -o sel.msg
  must secagg-collect setup --session V --select sel.msg --clients "$n" --threshold "$t" --bits 16 --modulus-bits auto
  for ((i = 1; i <= n; i++)); do
    must secagg-quantize encode --params V/params.msg --select sel.msg --residual "r$i.npy" --weight 1 -o "x$i.vec"
  done
  run_session V x 5  # client 5 drops out of the values session
  must secagg-quantize decode --params V/params.msg --select sel.msg --input V/aggregate.vec -o avg.npy
  for i in 1 2 3 4 6; do must secagg-quantize settle --residual "r$i.npy" --select sel.msg; done
  secagg-inspect sel.msg >sel.txt
  check "$mode: inspect shows the selection" grep -q "selection .*mode=union-$mode model_length=$N" sel.txt
  "$PY" - "$N" "$n" "$K" "$mode" <<'PYEOF' >check.txt 2>&1 || true
import struct, sys, numpy as np
N, n, K, mode = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
k = K // n
u = {i: np.load(f"u{i}.npy") for i in range(1, n + 1)}
def top(x):  # the k largest |x|, ties to the lower index
    order = np.lexsort((np.arange(N), -np.abs(x.astype(np.float64))))
    return np.sort(order[:k])
union_in = [1, 2, 3, 4, 5]  # client 6 dropped out of the union session
M = np.unique(np.concatenate([top(u[i]) for i in union_in]))
mx = max(float(np.max(np.abs(u[i]))) for i in union_in)
r_max = mx if mode == "plain" else 2.0 ** int(np.ceil(np.log2(mx)))
# The selection message: header 40 bytes, then the body (marker, mode, N, count, indices, r_max).
b = open("sel.msg", "rb").read()
body = b[40:]
cnt = struct.unpack_from("<Q", body, 1 + 1 + 8)[0]
sel = np.frombuffer(body, dtype="<u4", count=cnt, offset=1 + 1 + 8 + 8)
sel_rmax = struct.unpack_from("<d", body, 1 + 1 + 8 + 8 + 4 * cnt)[0]
ok = True
def expect(cond, what):
    global ok
    print(("ok   " if cond else "FAIL ") + what)
    ok = ok and cond
expect(np.array_equal(sel, M), f"the selection is the true union ({len(sel)} of {len(M)} indices)")
expect(abs(sel_rmax - r_max) <= 1e-7 * r_max, f"R_max {sel_rmax} is {r_max}")
values_in = [1, 2, 3, 4, 6]  # client 5 dropped out of the values session
avg = np.load("avg.npy")
want = np.mean([np.clip(u[i][M].astype(np.float64), -r_max, r_max) for i in values_in], axis=0)
step = 2 * r_max / (2 ** 16 - 1)
expect(avg.shape == (N,), f"the average is dense ({avg.shape})")
expect(float(np.max(np.abs(avg[M] - want))) <= step, f"the average on M is within one step ({np.max(np.abs(avg[M] - want)):.3g} <= {step:.3g})")
off = np.ones(N, bool); off[M] = False
expect(not np.any(avg[off]), "the average is zero off M")
for i in range(1, n + 1):
    r = np.load(f"r{i}.npy")
    ref = u[i].copy()
    if i in values_in: ref[M] = 0
    expect(r.dtype == np.float32 and np.array_equal(r, ref), f"client {i}'s residual is the reference")
sys.exit(0 if ok else 1)
PYEOF
  while read -r line; do
    if [[ $line == ok* ]]; then pass; else fail "$mode: $line"; fi
  done <check.txt
  check "$mode: every numpy check ran" test "$(grep -c "^ok\\|^FAIL" check.txt)" = $((5 + n))
  check "$mode: residual files are private" test "$(file_mode r1.npy)" = 600
  cd "$WORK"
done

section "the private union's aggregate does not say who chose what; the plain one does"
# The same session id twice (the insecure deterministic test mode), the same updates, but
# handed to the clients in another order: the private union's aggregate, all the server keeps
# unmasked, is the same bytes; the plain union's differs (its slots name the clients).
for mode in private plain; do
  for order in "1 2 3 4 5 6" "3 6 1 5 2 4"; do
    D=$WORK/who-$mode-${order// /}
    mkdir -p "$D"
    cd "$D"
    k=1
    for j in $order; do cp "$WORK/private/u$j.npy" "u$k.npy"; k=$((k + 1)); done
    SECAGG_INSECURE_DETERMINISTIC_SEED=t0730 must secagg-collect setup --session U --union "$mode" \
      --model-length "$N" --k "$K" --clients "$n" --threshold "$t"
    for ((i = 1; i <= n; i++)); do
      must secagg-quantize topk --params U/params.msg --residual "r$i.npy" --input "u$i.npy" --id "$i" -o "idx$i.vec"
    done
    run_session U idx 0
    cd "$WORK"
  done
  if [[ $mode == private ]]; then
    check "private: the same aggregate whoever chose what" \
      cmp -s "$WORK/who-private-123456/U/aggregate.vec" "$WORK/who-private-361524/U/aggregate.vec"
  else
    check "plain: the aggregate shows who chose what" \
      bash -c "! cmp -s '$WORK/who-plain-123456/U/aggregate.vec' '$WORK/who-plain-361524/U/aggregate.vec'"
  fi
done
# What the server learns in private mode: the counts per index and the maxima's histogram.
secagg-collect select --session "$WORK/who-private-123456/U" -o "$WORK/who.msg" 2>"$WORK/who.err"
check "select's line gives totals, no client" grep -Eq '^secagg-collect: select: [0-9]+ of N = 2000 indices selected from 6 clients; R_max = 1$' "$WORK/who.err"

section "select refuses what it cannot decode"
expect_exit 66 secagg-collect select --session "$WORK/nosuch" -o "$WORK/x.msg"
assert_absent "$WORK/x.msg"

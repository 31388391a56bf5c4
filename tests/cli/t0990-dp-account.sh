#!/usr/bin/env bash
# t0990-dp-account: the distributed-DP accountant (issue 17, item 4) against an independent
# Python reference, tests/cli/dp_reference.py, written from the papers (DDG: Kairouz, Liu and
# Steinke 2021, Theorem 1 and Proposition 14; Zhu and Wang 2019, Theorem 5; Canonne, Kamath and
# Steinke 2020, Proposition 12) with numpy and scipy rather than from lib/protocol/dp_accounting.cpp.
#   - secagg-quantize account's epsilon and order equal the reference's (relative 1e-6 beyond the
#     6 digits it prints) at settings that vary N, t (and t - C), bits, length, clip, z, rounds,
#     sampling and delta, with each of Proposition 14's three bounds the least somewhere; and
#     setup's calibration (contributors, padded length, ring, scale) is the reference's;
#   - setup --target-epsilon picks a z whose epsilon is in [0.99, 1] x the target, and z / 1.0011
#     would miss it;
#   - with a 2^50 ring the rounding and tau vanish and epsilon is the continuous Gaussian's;
#   - the refusals: bad --target-epsilon, --l2-clip and --bits (naming the smallest valid one) at
#     setup; a session without DP, --sampling 0 and --rounds 0 at account.
# Needs numpy and scipy for /usr/bin/python3 (Debian: python3-numpy, python3-scipy).
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

REF=$SECAGG_SRC/tests/cli/dp_reference.py

section "prerequisites: numpy and scipy"
if ! "$PY" -c 'import numpy, scipy.special' 2>/dev/null; then
  fail "$PY cannot import numpy and scipy: install the Debian packages python3-numpy and python3-scipy"
  exit 1
fi
pass

# refcheck DESCRIPTION ARGS...: dp_reference.py ARGS must exit 0; its summary goes to the log.
refcheck() {
  local desc=$1 out
  shift
  if out=$("$PY" "$REF" "$@" 2>&1); then
    pass
    echo "   $desc: $out"
  else
    fail "$desc: $out"
  fi
}

# account_case NAME ROUNDS SAMPLING DELTA|- BITS: account S=NAME over ROUNDS at SAMPLING (DELTA:
# --delta given to account; -: the session's), checked against the reference.
account_case() {
  local name=$1 rounds=$2 q=$3 delta=$4 bits=$5 dargs=() line
  [[ $delta != - ]] && dargs=(--delta "$delta")
  expect_exit 0 secagg-quantize account --params "$name/params.msg" --rounds "$rounds" --sampling "$q" \
    "${dargs[@]}" >"$name.acct"
  line=$(cat "$name.acct")
  refcheck "$name R=$rounds q=$q delta=$delta" account "$name.json" "$line" --rounds "$rounds" --sampling "$q" \
    "${dargs[@]}" --bits "$bits"
}

# ddg_setup NAME CLIENTS T BITS LENGTH CLIP Z [SETUP ARGS...]: a DP session with --noise-multiplier
# Z, and NAME.json, its secagg-inspect --json.
ddg_setup() {
  local name=$1 n=$2 t=$3 bits=$4 len=$5 clip=$6 z=$7
  shift 7
  must secagg-collect setup --session "$name" --clients "$n" --threshold "$t" --dp ddg --length "$len" \
    --bits "$bits" --l2-clip "$clip" --noise-multiplier "$z" "$@"
  must secagg-inspect --json "$name/params.msg" >"$name.json"
}

# json_field FILE FIELD: a field of the body of secagg-inspect --json output.
json_field() {
  "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["body"][sys.argv[2]])' "$1" "$2"
}

section "account = the reference: N, t, bits, length, clip, z, rounds, sampling, delta"
# The issue's example: 100 clients, t = 51 (the noise is for the 51 survivors it can end with).
ddg_setup s1 100 51 20 1000 1 1
account_case s1 10 1 - 20
account_case s1 10 0.1 1e-6 20
account_case s1 1000 0.5 1e-8 20
# Sampling so close to 1 that Theorem 5's bound exceeds the unsampled RDP at most orders (the cap).
account_case s1 10 0.99 - 20
# Few clients, a one-element input (d = 1), a small clip and little noise; delta from setup.
ddg_setup s2 10 6 12 1 0.1 0.3 --delta 1e-8
account_case s2 1 1 - 12
check "setup's --delta is the session's" test "$(json_field s2.json delta)" = "1e-08"
# Many clients, a 2^40 ring, a long input (padded to 2^17), a large clip, much noise.
ddg_setup s3 10000 5001 40 100000 10 10
account_case s3 1000 0.01 1e-5 40
account_case s3 10 0.01 - 40
account_case s3 1 1 - 40
# Few bits: tau is well above 0 and Proposition 14's second bound is the least.
ddg_setup s4 1000 501 11 1000 0.5 3.2328
account_case s4 1000 0.01 1e-8 11
account_case s4 1 1 - 11
# Few bits, d = 1, much noise: tau ~ 0.03 and the first bound is the least.
ddg_setup s10 100 51 9 1 1 8.8611
account_case s10 1 1 - 9
account_case s10 100 0.1 1e-8 9
# t = N, few bits, little noise: the third bound is the least.
ddg_setup s5 100 100 10 1000 2 0.3
account_case s5 1 1 - 10
# Lengths that are not powers of two: 777 -> 1024, 65537 -> 131072, 3 -> 4.
ddg_setup s6 50 26 14 777 2 0.7
account_case s6 100 0.5 1e-8 14
ddg_setup s7 2000 1500 24 65537 3 5
account_case s7 300 0.5 - 24
ddg_setup s8 10 10 32 3 1 1.5 --delta 1e-8
account_case s8 1 0.01 - 32
for sl in "s6 1025" "s7 131073" "s8 5"; do
  read -r s len <<<"$sl"
  check "$s: length is the input length padded to a power of two, + 1" test "$(json_field "$s.json" length)" = "$len"
done
# An active session: the noise is for t - C = 14 - 3 = 11 honest contributors.
must secagg-keygen identity -o ca.key
ddg_setup s9 20 14 16 300 1 2 --threat-model active --ca ca.pub --corrupt 3
check "active: contributors = t - C" test "$(json_field s9.json contributors)" = 11
account_case s9 50 0.5 1e-5 16

# A large delta: the conversion goes below 0 at several orders; epsilon is 0, and the order
# reported must be the one with the least (unclamped) epsilon, not the last below 0.
ddg_setup s11 3 2 24 65537 1 2
account_case s11 10 1e-4 0.1 24
check "a negative epsilon is reported as 0" grep -q "^epsilon=0 " s11.acct

section "setup --target-epsilon: the smallest z (to 0.1%) within the budget"
# target_case NAME CLIENTS T BITS LENGTH CLIP TARGET ROUNDS SAMPLING DELTA
target_case() {
  local name=$1 n=$2 t=$3 bits=$4 len=$5 clip=$6 target=$7 rounds=$8 q=$9 delta=${10} sargs=()
  [[ $q != 1 ]] && sargs=(--sampling "$q")
  must secagg-collect setup --session "$name" --clients "$n" --threshold "$t" --dp ddg --length "$len" \
    --bits "$bits" --l2-clip "$clip" --target-epsilon "$target" --rounds "$rounds" --delta "$delta" "${sargs[@]}"
  must secagg-inspect --json "$name/params.msg" >"$name.json"
  expect_exit 0 secagg-quantize account --params "$name/params.msg" --rounds "$rounds" --sampling "$q" >"$name.acct"
  refcheck "$name target $target" target "$name.json" "$(cat "$name.acct")" --target "$target" --rounds "$rounds" \
    --sampling "$q" --delta "$delta" --bits "$bits"
}
target_case t1 100 51 20 1000 1 3 10 1 1e-5
target_case t2 1000 700 18 5000 0.5 1 100 0.1 1e-6
target_case t3 10000 6000 24 100 2 8 1000 0.01 1e-8

section "the limit: a 2^50 ring makes DDG the continuous Gaussian mechanism"
ddg_setup g1 100 51 50 1000 10 1
for rq in "10 1" "1000 0.01" "1 1"; do
  read -r rounds q <<<"$rq"
  expect_exit 0 secagg-quantize account --params g1/params.msg --rounds "$rounds" --sampling "$q" >g1.acct
  refcheck "g1 R=$rounds q=$q" gaussian g1.json "$(cat g1.acct)" --rounds "$rounds" --sampling "$q" --tolerance 0.01
done
ddg_setup g2 1000 600 50 4096 0.1 3 --delta 1e-8
expect_exit 0 secagg-quantize account --params g2/params.msg --rounds 100 --sampling 0.5 >g2.acct
refcheck "g2 R=100 q=0.5" gaussian g2.json "$(cat g2.acct)" --rounds 100 --sampling 0.5 --tolerance 0.01

section "refusals"
dp=(--dp ddg --length 100 --l2-clip 1)
for eps in 0 -1 nan; do
  expect_exit 64 secagg-collect setup --session bad --clients 100 --threshold 51 "${dp[@]}" --bits 20 \
    --target-epsilon "$eps"
  expect_err "--target-epsilon"
  assert_absent bad/params.msg
done
expect_exit 64 secagg-collect setup --session bad --clients 100 --threshold 51 --dp ddg --length 100 --bits 20 \
  --l2-clip 0 --noise-multiplier 1
expect_err "--l2-clip"
assert_absent bad/params.msg
# The ring must hold 4 stddevs of N clients' sum: the smallest bits b has 2^(2b) > 16 N.
for n in 100 1000 10000; do
  b=1
  while (((1 << (2 * b)) <= 16 * n)); do b=$((b + 1)); done
  expect_exit 64 secagg-collect setup --session bad --clients "$n" --threshold $((n / 2 + 1)) "${dp[@]}" \
    --bits $((b - 1)) --noise-multiplier 1
  expect_err "--bits $((b - 1))" "smallest valid --bits is $b"
  assert_absent bad/params.msg
  must secagg-collect setup --session "min$n" --clients "$n" --threshold $((n / 2 + 1)) "${dp[@]}" --bits "$b" \
    --noise-multiplier 1
done
must secagg-collect setup --session plain --clients 10 --threshold 6 --length 10 --modulus-bits 16
expect_exit 65 secagg-quantize account --params plain/params.msg --rounds 1
expect_err "plain/params.msg" "not a DP session"
expect_exit 64 secagg-quantize account --params s1/params.msg --rounds 1 --sampling 0
expect_err "--sampling"
expect_exit 64 secagg-quantize account --params s1/params.msg --rounds 0
expect_err "--rounds"

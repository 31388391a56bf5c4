#!/usr/bin/env bash
# t0720-sim-sparse: secagg-sim --sparse runs one SSGA round (docs/sparse.md) in one process: a
# union session, the selection decoded from its aggregate, and a values session. In both union
# modes, with and without dropouts, the selection equals the true union and maximum and the
# decoded average is within the quantization bound (the tool checks both and exits 70 if not);
# the output has a block per session (also at N = 10^6), the sparse line and the bytes line; --compare-dense adds
# the dense session; bad sparse options are usage errors.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ! -x $SECAGG_BIN/secagg-sim ]]; then
  echo "$TEST_NAME: $SECAGG_BIN/secagg-sim is missing (build first)" >&2
  exit 1
fi

# field FILE NAME: the value of NAME=... on the sparse line.
field() { sed -n 's/^sparse: .* '"$2"'=\([^ ]*\).*/\1/p' "$1"; }

section "both union modes, with and without dropouts, give the true selection and average"
for mode in private plain; do
  for drop in "" "--dropout 0.2 --dropout-round 2"; do
    # shellcheck disable=SC2086
    expect_exit 0 secagg-sim --clients 12 --length 5000 --sparse 600 --union "$mode" --bits 12 --seed 7 --quiet \
      $drop --threads 2 >/dev/null
    secagg-sim --clients 12 --length 5000 --sparse 600 --union "$mode" --bits 12 --seed 7 --quiet $drop --threads 2 \
      >"$WORK/out" 2>/dev/null
    check "$mode ${drop:-no dropout}: a block per session" \
      test "$(grep -c '^union session:$\|^values session:$' "$WORK/out")" = 2
    check "$mode: union=$mode on the sparse line" grep -q "^sparse: .* union=$mode " "$WORK/out"
    selected=$(field "$WORK/out" selected)
    check "$mode: a non-empty selection of at most K ($selected)" test "$selected" -ge 1 -a "$selected" -le 600
    check "$mode: the values session has |M| + 1 elements" \
      grep -q "^n=12 .* length=$((selected + 1)) .*result=OK" "$WORK/out"
    check "$mode: the bytes line" grep -q '^bytes per client (median, sent + received): union session [0-9]*, values session [0-9]*, sparse round [0-9]*$' "$WORK/out"
  done
done
# Private rounds R_max up to a power of two; plain gives it exactly.
secagg-sim --clients 12 --length 5000 --sparse 600 --seed 7 --quiet --threads 2 >"$WORK/priv" 2>/dev/null
check "private R_max is a power of two" test "$(field "$WORK/priv" R_max)" = 1
secagg-sim --clients 12 --length 5000 --sparse 600 --union plain --seed 7 --quiet --threads 2 >"$WORK/plain" 2>/dev/null
check "plain R_max is below 1" grep -q '^sparse: .* R_max=0\.9' "$WORK/plain"

section "a model of a million entries, with dropouts"
expect_exit 0 secagg-sim --clients 10 --length 1000000 --sparse 1000 --dropout 0.2 --dropout-round 2 --seed 3 \
  --quiet --threads 2 >"$WORK/big"
check "N = 10^6: the union and the average are checked" grep -q '^sparse: N=1000000 K=1000 n=10 union=private ' "$WORK/big"

section "--compare-dense runs the dense session and compares the bytes"
# A plain union: a private union's table fails to peel with a small probability (its hashes are
# keyed by the random session id), which is the union tests' subject, not this one's.
expect_exit 0 secagg-sim --clients 8 --length 20000 --sparse 80 --union plain --compare-dense --quiet --threads 2 >/dev/null
secagg-sim --clients 8 --length 20000 --sparse 80 --union plain --compare-dense --quiet --threads 2 >"$WORK/dense" 2>/dev/null
check "a dense block of N + 1 elements" grep -q '^n=8 .* length=20001 .*result=OK' "$WORK/dense"
check "the dense bytes against the sparse round" grep -q '; dense session [0-9]* = [0-9.]*x the sparse round$' "$WORK/dense"

section "bad sparse options are usage errors"
expect_exit 64 secagg-sim --clients 10 --length 100 --sparse 5
expect_err "--sparse K = 5 is below n = 10"
expect_exit 64 secagg-sim --clients 10 --length 100 --sparse 50 --union secret
expect_err "--union 'secret' is neither private nor plain"
expect_exit 64 secagg-sim --clients 10 --length 100 --sparse 50 --csv "$WORK/x.csv"
expect_exit 64 secagg-sim --clients 10 --length 100 --union plain

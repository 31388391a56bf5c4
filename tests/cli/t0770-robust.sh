#!/usr/bin/env bash
# t0770-robust: no single client sinks a session (docs/protocol.md, "Bundles that do not open"
# and "Bad shares"), with the real tools: a bad round-4 share is left out and named and the sum
# stays exact, in both modes (against the dealer's commitment in an active session, against the
# other answers otherwise); a round-1 bundle that does not open is worked around by its holder;
# and serve --resume finishes a session whose saved round-4 answers include a bad one.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

R16=65536
# The body of an unmask-shares message: the marker byte, an 8-byte count, then 48 bytes per
# self-mask share (owner, x, five le64 words): byte 17 is in the first share's first word.
FIRST_SHARE_WORD=17

make_identities 5

# session DIR MODE: a session of 5 clients (t = 3) in DIR through round 2, every client in,
# and round 3 in an active one; DIR/pre<i> is client i's state before round 4 (its signing key).
session() { session_through_round1 "$1" "$2" 12; }
mask_all() {
  local d=$1 i
  for i in 1 2 3 4 5; do
    must secagg-mask --state "$d/c$i" --inbox "$d/S/inbox-$i.msg" --input "$d/x$i.txt" -o "$d/m$i.msg"
  done
  must secagg-collect masked --session "$d/S" "$d"/m?.msg
}
sign_all() {
  local d=$1 i
  for i in 1 2 3 4 5; do must secagg-unmask sign --state "$d/c$i" --survivors "$d/S/survivors.msg" -o "$d/g$i.msg"; done
  must secagg-collect consistency --session "$d/S" "$d"/g?.msg
}
answer_all() {
  local d=$1 mode=$2 i c=()
  [[ $mode == active ]] && c=(--consistency "$d/S/consistency.msg")
  for i in 1 2 3 4 5; do
    cp "$d/c$i" "$d/pre$i"
    must secagg-unmask --state "$d/c$i" --survivors "$d/S/survivors.msg" "${c[@]}" -o "$d/u$i.msg"
  done
}

for mode in honest-but-curious active; do
  section "$mode: a bad share in round 4 is left out and named; the sum is exact"
  D=bad-$mode
  session "$D" "$mode"
  mask_all "$D"
  [[ $mode == active ]] && sign_all "$D"
  answer_all "$D" "$mode"
  # Client 2 changes its share of client 1's self-mask seed and signs the message as its own.
  must forge flip "$D/u2.msg" "$FIRST_SHARE_WORD" "$D/u2-bad.msg" --sign "$D/pre2"
  expect_exit 0 secagg-collect unmask --session "$D/S" --text -o "$D/sum.txt" "$D/u1.msg" "$D/u2-bad.msg" \
    "$D/u3.msg" "$D/u4.msg" "$D/u5.msg"
  if [[ $mode == active ]]; then
    expect_err "secagg-collect: warning: round 4: client 2's share of client 1's self-mask seed does not match what" \
      "client 1 committed to in round 1: left out"
  else
    expect_err "secagg-collect: warning: round 4: client 2's share of client 1's self-mask seed does not agree with" \
      "the other responders' shares: left out"
  fi
  check_sum "$D/sum.txt" "$D"/x1.txt "$D"/x2.txt "$D"/x3.txt "$D"/x4.txt "$D"/x5.txt "$R16"

  section "$mode: a round-1 bundle that does not open: its holder goes on, and the sum is exact"
  D=bundle-$mode
  session "$D" "$mode"
  # The last byte of client 1's inbox is in the last bundle's ciphertext (in an active session,
  # the commitments come after the bundles: flip a byte of the last commitment instead, which the
  # holder checks its shares against).
  must forge flip "$D/S/inbox-1.msg" -1 "$D/inbox-1-bad.msg"
  mv "$D/inbox-1-bad.msg" "$D/S/inbox-1.msg"
  expect_exit 0 secagg-mask --state "$D/c1" --inbox "$D/S/inbox-1.msg" --input "$D/x1.txt" -o "$D/m1.msg"
  expect_err "secagg-mask: warning: $D/S/inbox-1.msg: the round 1 shares of client 5 do not open for client 1"
  for i in 2 3 4 5; do
    expect_exit 0 secagg-mask --state "$D/c$i" --inbox "$D/S/inbox-$i.msg" --input "$D/x$i.txt" -o "$D/m$i.msg"
  done
  must secagg-collect masked --session "$D/S" "$D"/m?.msg
  [[ $mode == active ]] && sign_all "$D"
  answer_all "$D" "$mode"
  check "client 1's answer reports client 5 missing" grep -q 'missing=5$' <(secagg-inspect "$D/u1.msg")
  expect_exit 0 secagg-collect unmask --session "$D/S" --text -o "$D/sum.txt" "$D"/u?.msg
  expect_err "secagg-collect: warning: round 4: client 1 holds no share of client 5"
  check_sum "$D/sum.txt" "$D"/x1.txt "$D"/x2.txt "$D"/x3.txt "$D"/x4.txt "$D"/x5.txt "$R16"
done

section "below t good shares the session aborts, naming the owner, and writes no aggregate"
D=bad-active
rm -f "$D/S/aggregate.vec"
for i in 1 3 4; do must forge flip "$D/u$i.msg" "$FIRST_SHARE_WORD" "$D/u$i-bad.msg" --sign "$D/pre$i"; done
must cp -r "$D/S" "$D/S2"
rm -f "$D/S2/unmask-"*.msg
expect_exit 1 secagg-collect unmask --session "$D/S2" --text -o "$D/sum2.txt" "$D/u1-bad.msg" "$D/u2-bad.msg" \
  "$D/u3-bad.msg" "$D/u4-bad.msg" "$D/u5.msg"
expect_err "only 1 good share(s) of client 1's self mask came back, fewer than the threshold 3" "4 sent a bad share"
assert_absent "$D/sum2.txt" "$D/S2/aggregate.vec"

section "serve --resume with a bad answer saved before the restart finishes the session"
D=resume
session "$D" honest-but-curious
mask_all "$D"
answer_all "$D" honest-but-curious
must forge flip "$D/u2.msg" "$FIRST_SHARE_WORD" "$D/S/unmask-2.msg" --sign "$D/pre2"
for i in 1 3 4 5; do cp "$D/u$i.msg" "$D/S/unmask-$i.msg"; done
(
  cd "$D"
  timeout 60 secagg-collect serve --session S --listen 127.0.0.1:0 --resume --round-timeout 2 --text >serve.out \
    2>serve.log
  echo $? >serve.rc
)
check "serve --resume exits 0" test "$(cat "$D/serve.rc")" = 0
check "serve names the bad share" grep -q "client 2's share of client 1's self-mask seed does not agree" "$D/serve.log"
check_sum "$D/serve.out" "$D"/x1.txt "$D"/x2.txt "$D"/x3.txt "$D"/x4.txt "$D"/x5.txt "$R16"

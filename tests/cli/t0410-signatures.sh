#!/usr/bin/env bash
# t0410-signatures: a client's messages after round 0 are bound to the signing key it
# advertised in round 0, so no one can speak for another client id. Client 3 takes client
# 2's id in round 1, 2 and 4 (its own message relabelled, with its old signature or re-signed
# with its own key): the server refuses it with exit 65 and one line naming the file, the
# round, client 2 and the signature, writes nothing, and leaves the session as it was; the
# session then completes with the exact sum. A message without its signature is refused too.
# In round 0 the key is taken on first use: an impostor's advert for client 2 is accepted, and
# the victim, client 2, refuses the roster that lacks its keys. In socket mode the forged frame
# is refused with one log line and the session still yields the exact sum.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

OUT=A/out.msg

# refused FORGED cmd...: exit 65, one line naming FORGED, client 2 and the bad signature; no
# output, the session directory unchanged.
refused() {
  local forged=$1
  shift
  snapshot A/S
  expect_exit 65 "$@"
  expect_err "$forged: " "message from client 2: bad signature: not signed by client 2's round-0 key"
  assert_absent "$OUT"
  assert_unchanged A/S
}

# forge_as2 IN NAME: client 3's message IN claiming to be client 2's, as A/bad/NAME-kept.msg (its
# old signature) and A/bad/NAME-own.msg (re-signed with client 3's own key, from KEYS).
forge_as2() {
  forge retag "$1" "A/bad/$2-kept.msg" --sender 2 --keep-signature
  forge retag "$1" "A/bad/$2-own.msg" --sender 2 --sign "$3"
}

walk_setup A share -l 50 --drop2 5
mkdir -p A/bad

section "round 1: client 3 sends shares as client 2"
forge_as2 A/shares3.msg shares3-as2 A/c3
for f in A/bad/shares3-as2-{kept,own}.msg; do
  refused "$f" secagg-collect shares --session A/S A/shares1.msg "$f" A/shares4.msg A/shares5.msg
  expect_err "round 1 (share-keys)"
done
# Next to client 2's own message, in either order, the forgery is refused for its signature.
refused A/bad/shares3-as2-kept.msg \
  secagg-collect shares --session A/S A/shares1.msg A/bad/shares3-as2-kept.msg A/shares2.msg A/shares4.msg
refused A/bad/shares3-as2-kept.msg \
  secagg-collect shares --session A/S A/shares1.msg A/shares2.msg A/bad/shares3-as2-kept.msg A/shares4.msg
assert_absent A/S/u2.msg A/S/inbox-1.msg

section "a client message without its signature"
size=$(stat -c %s A/shares2.msg)
head -c $((size - 64)) A/shares2.msg >A/bad/shares2-unsigned.msg
snapshot A/S
expect_exit 65 secagg-collect shares --session A/S A/shares1.msg A/bad/shares2-unsigned.msg A/shares3.msg
expect_err "A/bad/shares2-unsigned.msg: missing signature: this share-keys message ends after its checksum"
assert_unchanged A/S
walk_to A shares

section "round 2: client 3 sends a masked input as client 2"
walk_to A mask
forge_as2 A/masked3.msg masked3-as2 A/c3
for f in A/bad/masked3-as2-{kept,own}.msg; do
  refused "$f" secagg-collect masked --session A/S A/masked1.msg "$f" A/masked3.msg A/masked4.msg
  expect_err "round 2 (masked-input)"
done
assert_absent A/S/survivors.msg A/S/masked-1.msg A/S/masked-sum.vec
walk_to A masked

section "round 4: client 3 sends unmasking shares as client 2"
# Client 3's state drops its signing key with its answer: keep a copy to re-sign with.
cp -p A/c3 A/c3-keys
walk_to A unmask
forge_as2 A/unmask3.msg unmask3-as2 A/c3-keys
for f in A/bad/unmask3-as2-{kept,own}.msg; do
  refused "$f" secagg-collect unmask --session A/S --text -o "$OUT" A/unmask1.msg "$f" A/unmask3.msg A/unmask4.msg
  expect_err "round 4 (unmask-shares)"
done
assert_absent A/S/aggregate.vec A/S/unmask-1.msg
check "an answered state has no signing key left to forge with" \
  bash -c '! forge retag A/unmask3.msg A/bad/x.msg --sender 2 --sign A/c3 2>A/forge.err && grep -q "holds no signing key" A/forge.err' 

section "after all that, the session completes with the exact sum"
walk_to A sum
check_sum A/sum.txt $(walk_xfiles A U4) "$(walk_modulus A)"

section "round 0: an impostor's advert for client 2 is taken on first use; client 2 detects it"
must secagg-collect setup --session B/S --clients 4 --threshold 3 --modulus-bits 16 --length 5
for i in 1 2 3 4; do must secagg-keygen --params B/S/params.msg --id "$i" --state "B/c$i" -o "B/adv$i.msg"; done
must secagg-keygen --params B/S/params.msg --id 2 --state B/impostor -o B/impostor.msg
expect_exit 0 secagg-collect keys --session B/S B/adv1.msg B/impostor.msg B/adv3.msg B/adv4.msg
snapshot B/c2
expect_exit 65 secagg-share --state B/c2 --roster B/S/roster.msg -o B/shares2.msg
expect_err "B/S/roster.msg: roster does not list client 2 with the keys it advertised"
assert_absent B/shares2.msg
assert_unchanged B/c2
# The impostor now holds client 2's place (transport security is what keeps it out, see
# docs/security.md); the real client 2 cannot send in its name either.
expect_exit 0 secagg-share --state B/c1 --roster B/S/roster.msg -o B/shares1.msg
expect_exit 0 secagg-share --state B/impostor --roster B/S/roster.msg -o B/shares-impostor.msg
forge retag B/shares-impostor.msg B/shares2-real.msg --sign B/c2
expect_exit 65 secagg-collect shares --session B/S B/shares1.msg B/shares2-real.msg
expect_err "B/shares2-real.msg: " "client 2: bad signature"

section "socket mode: a frame claiming another client's id is refused; the session goes on"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"
RAW="$SECAGG_SRC/tests/cli/rawclient.py"
R16=65536
mkdir N && cd N
must secagg-collect setup --session S --clients 4 --threshold 3 --modulus-bits 16 --length 40
for i in 1 2 3 4; do gen_input "$i" 40 "$R16" >"x$i.txt"; done
serve_start --round-timeout 20 -v
net_step keygen 1 2 3 4
net_step share 1 2 3 4
# Client 3 masks its input, then first sends it as client 2's (before client 2 does).
must secagg-mask --state c3 --inbox inbox3.msg --input x3.txt --threads 1 -o masked3.msg
forge retag masked3.msg forged.msg --sender 2 --keep-signature
timeout 30 "$PY" "$RAW" "$PORT" send forged.msg >forged.out
wait_log 'round 2: refused: client 2 at '
log_has '^secagg-collect: round 2: refused: client 2 at 127\.0\.0\.1:[0-9]+: round 2 \(masked-input\) message from client 2: bad signature: not signed by client 2.s round-0 key$'
check "the refusal is one log line" test "$(grep -c signature serve.log)" = 1
check "the forged frame got no answer, only a refused notice" grep -q ' notice refused$' forged.out
timeout 30 "$PY" "$RAW" "$PORT" send masked3.msg --recv survivors3.msg >/dev/null &
BG[mask3]=$!
net_step mask 1 2 4
wait "${BG[mask3]}"; unset "BG[mask3]"
check "client 3 got the survivor set" cmp -s survivors3.msg S/survivors.msg
check "S/masked-2.msg is client 2's own message" bash -c '[[ $(secagg-inspect S/masked-2.msg) == *" sender=2 "* ]] && ! cmp -s S/masked-2.msg forged.msg'
net_step unmask 1 2 3 4
serve_wait 0
check_sum <(secagg-inspect --text S/aggregate.vec) x1.txt x2.txt x3.txt x4.txt "$R16"
cd ..

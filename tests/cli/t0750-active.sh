#!/usr/bin/env bash
# t0750-active: active sessions with the real tools (docs/security.md, "Active mode"): setup's
# threat model and its threshold rule, certified round-0 adverts, round 3 (secagg-unmask sign,
# secagg-collect consistency) and the consistency gate of round 4, in file mode and over TCP;
# then every new kind of bad input: a one-line error, the documented exit status, no output.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

R32=4294967296

section "identities: a CA (not the server) certifies clients 1-6"
make_identities 6
must secagg-keygen identity -o other-ca.key
must secagg-keygen certify --ca other-ca.key --id 1 --pub id1.pub -o foreign1.cert

section "setup: the threat model, its CA and t > (n + C) / 2"
expect_exit 0 secagg-collect setup --session S --clients 5 --modulus-bits 32 --length 40 --threat-model active \
  --ca ca.pub
check "params say active, C = floor((5 - 1) / 3) = 1 and t = 4" \
  grep -q 'threshold=4 .* threat_model=active corrupt=1' <(secagg-inspect S/params.msg)
expect_exit 64 secagg-collect setup --session B1 --clients 5 --threshold 3 --modulus-bits 32 --length 4 \
  --threat-model active --ca ca.pub
expect_err "threshold 3 is not above (n + C) / 2 = (5 + 1) / 2" "use t >= 4"
expect_exit 0 secagg-collect setup --session B2 --clients 5 --threshold 3 --corrupt 0 --modulus-bits 32 --length 4 \
  --threat-model active --ca ca.pub
expect_exit 64 secagg-collect setup --session B3 --clients 5 --threshold 4 --modulus-bits 32 --length 4 \
  --threat-model active
expect_err "--threat-model active needs --ca"
expect_exit 64 secagg-collect setup --session B4 --clients 5 --threshold 3 --modulus-bits 32 --length 4 --ca ca.pub
expect_err "--ca and --corrupt belong to an active session"
expect_exit 64 secagg-collect setup --session B5 --clients 9 --threshold 4 --neighbours 6 --modulus-bits 32 \
  --length 4 --threat-model active --ca ca.pub
expect_err "threshold 4 is not above (k + 1 + c) / 2 = (6 + 1 + 2) / 2" "use t >= 5"
expect_exit 64 secagg-collect setup --session B6 --clients 5 --threshold 4 --modulus-bits 32 --length 4 \
  --threat-model paranoid --ca ca.pub
expect_err "--threat-model 'paranoid' is neither honest-but-curious nor active"
expect_exit 65 secagg-collect setup --session B7 --clients 5 --threshold 4 --modulus-bits 32 --length 4 \
  --threat-model active --ca id1.cert
expect_err "id1.cert" "certificate"
assert_absent B1 B3 B4 B5 B6 B7

section "round 0: each advert signed by a certified identity"
for i in 1 2 3 4 5; do gen_input "$i" 40 "$R32" >"x$i.txt"; done
expect_exit 64 secagg-keygen --params S/params.msg --id 1 --state c1 -o adv1.msg
expect_err "an active session" "--identity ID.key --cert ID.cert"
expect_exit 64 secagg-keygen --params S/params.msg --id 1 --state c1 --identity id1.key -o adv1.msg
expect_err "--identity and --cert go together"
expect_exit 64 secagg-keygen --params S/params.msg --id 1 --state c1 --identity id1.key --cert id2.cert -o adv1.msg
expect_err "id2.cert: certifies client 2, not 1"
expect_exit 64 secagg-keygen --params S/params.msg --id 1 --state c1 --identity id1.key --cert foreign1.cert \
  -o adv1.msg
expect_err "foreign1.cert: issued by another CA"
expect_exit 64 secagg-keygen --params S/params.msg --id 1 --state c1 --identity id2.key --cert id1.cert -o adv1.msg
expect_err "id1.cert: certifies another identity than the one given"
cp id1.key loose.key
chmod 644 loose.key
expect_exit 77 secagg-keygen --params S/params.msg --id 1 --state c1 --identity loose.key --cert id1.cert -o adv1.msg
expect_err "loose.key: identity file is readable by group or others"
expect_exit 65 secagg-keygen --params S/params.msg --id 1 --state c1 --identity id1.pub --cert id1.cert -o adv1.msg
assert_absent c1 adv1.msg
must secagg-collect setup --session H --clients 5 --threshold 3 --modulus-bits 32 --length 4
expect_exit 64 secagg-keygen --params H/params.msg --id 1 --state h1 --identity id1.key --cert id1.cert -o h.msg
expect_err "an honest-but-curious session takes no --identity or --cert"
assert_absent h1 h.msg
for i in 1 2 3 4 5; do
  expect_exit 0 secagg-keygen --params S/params.msg --id "$i" --state "c$i" --identity "id$i.key" --cert "id$i.cert" \
    -o "adv$i.msg"
done
check "a rerun sends the same advert" cmp -s adv1.msg \
  <(secagg-keygen --params S/params.msg --id 1 --state c1 --identity id1.key --cert id1.cert)
expect_exit 0 secagg-collect keys --session S adv1.msg adv2.msg adv3.msg adv4.msg adv5.msg
check "the roster is certified" grep -q 'u1=5 certified=yes' <(secagg-inspect S/roster.msg)
check "inspect shows each entry's certificate" grep -q '"identity_pk"' <(secagg-inspect --json S/roster.msg)
check "the state keeps its attestation" grep -q '"attestation"' <(secagg-inspect --json c1)

section "round 1: every client checks every roster entry"
# Client 2's mask key (s_pk), changed in the roster: the identity's signature over it fails.
# Body: the marker byte, an 8-byte count, then 100 bytes per entry (id, c_pk, s_pk, sig_pk).
must forge flip S/roster.msg $((1 + 8 + 100 + 4 + 32 + 5)) bad-roster.msg
snapshot c1
expect_exit 65 secagg-share --state c1 --roster bad-roster.msg -o sh1.msg
expect_err "roster entry of client 2: bad identity signature over client 2's round-0 keys"
assert_unchanged c1
assert_absent sh1.msg
for i in 1 2 3 4 5; do expect_exit 0 secagg-share --state "c$i" --roster S/roster.msg -o "sh$i.msg"; done
expect_exit 0 secagg-collect shares --session S sh1.msg sh2.msg sh3.msg sh4.msg sh5.msg
for i in 1 2 3 4 5; do
  expect_exit 0 secagg-mask --state "c$i" --inbox "S/inbox-$i.msg" --input "x$i.txt" -o "m$i.msg"
done
expect_exit 0 secagg-collect masked --session S m1.msg m2.msg m3.msg m4.msg m5.msg

section "round 3: clients sign U3; the server needs t signatures"
snapshot c1
expect_exit 1 secagg-unmask --state c1 --survivors S/survivors.msg -o u1.msg
expect_err "client 1 is in an active session: it reveals shares only against the consistency message"
assert_unchanged c1
assert_absent u1.msg
expect_exit 66 secagg-collect unmask --session S m1.msg
expect_err "consistency.msg: missing (it is written by secagg-collect consistency)"
for i in 1 2 3; do expect_exit 0 secagg-unmask sign --state "c$i" --survivors S/survivors.msg -o "sig$i.msg"; done
check "a rerun signs the same bytes" cmp -s sig1.msg <(secagg-unmask sign --state c1 --survivors S/survivors.msg)
must forge survivors S/params.msg 1,2,3,4 other-u3.msg
expect_exit 1 secagg-unmask sign --state c1 --survivors other-u3.msg -o x.msg
expect_err "client 1 has already signed a different survivor set in this session"
assert_absent x.msg
must cp -r S S3
expect_exit 1 secagg-collect consistency --session S3 sig1.msg sig2.msg sig3.msg
expect_err "only 3 of 5 clients answered, fewer than the threshold 4 (U4 too small)"
assert_absent S3/consistency.msg
# Client 5 sent its masked input (it is in U3) but does not sign: U4 = 1-4.
expect_exit 0 secagg-unmask sign --state c4 --survivors S/survivors.msg -o sig4.msg
expect_exit 65 secagg-collect consistency --session S sig1.msg sig2.msg sig3.msg m4.msg
expect_exit 0 secagg-collect consistency --session S sig1.msg sig2.msg sig3.msg sig4.msg
check "consistency.msg holds U3 = 1-5 and the signatures of U4 = 1-4" \
  grep -q 'u3=1,2,3,4,5 u4=1,2,3,4' <(secagg-inspect S/consistency.msg)
expect_exit 73 secagg-collect consistency --session S sig1.msg sig2.msg sig3.msg sig4.msg

section "round 4: shares only against t signatures over the U3 the client signed"
expect_exit 1 secagg-unmask --state c5 --survivors S/survivors.msg --consistency S/consistency.msg -o u5.msg
expect_err "client 5 has not signed the survivor set yet (round 3): run secagg-unmask sign first"
assert_absent u5.msg
# The same consistency message with its last signature changed: refused, nothing revealed.
must forge flip S/consistency.msg -1 bad-consistency.msg
snapshot c1
expect_exit 1 secagg-unmask --state c1 --survivors S/survivors.msg --consistency bad-consistency.msg -o u1.msg
expect_err "consistency signature of client 4 does not verify over the survivor set U3 client 1 signed"
assert_unchanged c1
assert_absent u1.msg
# Replayed into another session.
must forge retag S/consistency.msg replayed.msg --session-from B2/params.msg
expect_exit 65 secagg-unmask --state c1 --survivors S/survivors.msg --consistency replayed.msg -o u1.msg
expect_err "replayed.msg" "belongs to session"
expect_exit 1 secagg-unmask --state c1 --survivors other-u3.msg --consistency S/consistency.msg -o u1.msg
expect_err "survivor set U3 is not the one client 1 signed in round 3"
assert_absent u1.msg
for i in 1 2 3 4; do
  expect_exit 0 secagg-unmask --state "c$i" --survivors S/survivors.msg --consistency S/consistency.msg -o "u$i.msg"
done
expect_exit 0 secagg-collect unmask --session S --text -o sum.txt u1.msg u2.msg u3.msg u4.msg
check_sum sum.txt x1.txt x2.txt x3.txt x4.txt x5.txt "$R32"

section "round 3 belongs to active sessions"
must cd H
for i in 1 2 3; do
  must secagg-keygen --params params.msg --id "$i" --state "h$i" -o "a$i.msg"
done
must secagg-collect keys --session . a1.msg a2.msg a3.msg
for i in 1 2 3; do must secagg-share --state "h$i" --roster roster.msg -o "s$i.msg"; done
must secagg-collect shares --session . s1.msg s2.msg s3.msg
for i in 1 2 3; do
  printf '1\n2\n3\n4\n' >in.txt
  must secagg-mask --state "h$i" --inbox "inbox-$i.msg" --input in.txt -o "m$i.msg"
done
must secagg-collect masked --session . m1.msg m2.msg m3.msg
expect_exit 64 secagg-unmask sign --state h1 --survivors survivors.msg -o g1.msg
expect_err "round 3 (consistency check) belongs to active sessions"
expect_exit 64 secagg-collect consistency --session . m1.msg
expect_err "an honest-but-curious session has no round 3"
expect_exit 64 secagg-unmask --state h1 --survivors survivors.msg --consistency ../S/consistency.msg -o g1.msg
expect_err "--consistency belongs to active sessions"
assert_absent g1.msg consistency.msg
must cd ..

section "socket mode: serve runs round 3 itself"
rm -rf S c1 c2 c3 c4 c5
expect_exit 0 secagg-collect setup --session S --clients 5 --modulus-bits 32 --length 40 --threat-model active \
  --ca ca.pub
serve_start --round-timeout 3 --text
net_step akeygen 1 2 3 4 5
net_step share 1 2 3 4 5
net_step mask 1 2 3 4 5
net_step sign 1 2 3 4
net_step aunmask 1 2 3 4
serve_wait 0
check_sum serve.out x1.txt x2.txt x3.txt x4.txt x5.txt "$R32"
for i in 1 2 3 4; do
  check "client $i's consistency message is S/consistency.msg" cmp -s "consistency$i.msg" S/consistency.msg
  check "client $i got the aggregate" cmp -s "aggregate$i.vec" S/aggregate.vec
done
log_has "round 3: client 5: dropped"

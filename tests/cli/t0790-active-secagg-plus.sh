#!/usr/bin/env bash
# t0790-active-secagg-plus: active sessions over a neighbour graph (docs/security.md, "Active mode
# with SecAgg+"): setup's rule per closed neighbourhood and --neighbours auto, whole sessions
# with a client dropping before each of rounds 1 to 4 in file mode and over TCP, the audit of
# one, and the abort of round 3 when a neighbourhood has fewer than t signers.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

R32=4294967296
N=16

section "setup: t > (k + 1 + c) / 2 per closed neighbourhood"
make_identities "$N"
# k = 10, C = 1: each client's 11 share holders hold at most one corrupted client, t >= 7.
expect_exit 0 secagg-collect setup --session S --clients "$N" --neighbours 10 --corrupt 1 --modulus-bits 32 \
  --length 30 --threat-model active --ca ca.pub
check "the threshold defaults to the smallest that fits: 7" \
  grep -q "threshold=7 neighbours=10 .* threat_model=active corrupt=1" <(secagg-inspect S/params.msg)
expect_exit 64 secagg-collect setup --session B1 --clients "$N" --neighbours 10 --corrupt 1 --threshold 6 \
  --modulus-bits 32 --length 30 --threat-model active --ca ca.pub
expect_err "threshold 6 is not above (k + 1 + c) / 2 = (10 + 1 + 1) / 2" "use t >= 7"
expect_exit 64 secagg-collect setup --session B2 --clients "$N" --neighbours 10 --corruption-rate 0.1 \
  --modulus-bits 32 --length 30 --threat-model active --ca ca.pub
expect_err "an active session counts its corrupted clients: give --corrupt C"
# 10,000 clients, 500 of them corrupted, 5% dropping out: a graph of under 200 neighbours.
expect_exit 0 secagg-collect setup --session A --clients 10000 --neighbours auto --corrupt 500 --modulus-bits 32 \
  --length 4 --threat-model active --ca ca.pub
check "auto sizes the graph for the corrupted clients" \
  "$PY" -c 'import re,sys; m = re.search(r"threshold=(\d+) neighbours=(\d+)", sys.stdin.read()); t, k = map(int, m.groups()); sys.exit(not (k < 200 and (k + 1) // 2 < t <= k + 1))' \
  < <(secagg-inspect A/params.msg)
assert_absent B1 B2

section "file mode: one client drops before each of rounds 1, 2, 3 and 4"
for ((i = 1; i <= N; i++)); do gen_input "$i" 30 "$R32" >"x$i.txt"; done
for ((i = 1; i <= N; i++)); do
  must secagg-keygen --params S/params.msg --id "$i" --state "c$i" --identity "id$i.key" --cert "id$i.cert" \
    -o "adv$i.msg"
done
must secagg-collect keys --session S adv*.msg
# 16 never shares, 15 never masks, 14 never signs, 13 never answers round 4.
for ((i = 1; i <= 15; i++)); do must secagg-share --state "c$i" --roster "S/roster-$i.msg" -o "sh$i.msg"; done
must secagg-collect shares --session S sh{1..15}.msg
for ((i = 1; i <= 14; i++)); do
  must secagg-mask --state "c$i" --inbox "S/inbox-$i.msg" --input "x$i.txt" -o "m$i.msg"
done
must secagg-collect masked --session S m{1..14}.msg
# Each client reads its own part of U3 and of the consistency message (its window of the ring).
for ((i = 1; i <= 13; i++)); do
  must secagg-unmask sign --state "c$i" --survivors "S/survivors-$i.msg" -o "sig$i.msg"
done
expect_exit 0 secagg-collect consistency --session S sig{1..13}.msg
# (16 clients with k = 10: an active client's window, out to 20 clients on either side, is all of U1.)
check "consistency-1.msg is addressed to client 1 and holds U3 and its signers" \
  "$PY" -c 'import json, sys; m = json.load(sys.stdin); b = m["body"]; sys.exit(not (m["recipient"] == 1 and len(b["u3"]) == 14 and [s["id"] for s in b["signatures"]] == list(range(1, 14))))' \
  < <(secagg-inspect --json S/consistency-1.msg)
expect_exit 65 secagg-unmask --state c1 --survivors S/survivors-1.msg --consistency S/consistency-2.msg -o u1.msg
expect_err "S/consistency-2.msg" "addressed to client 2, not client 1"
for ((i = 1; i <= 12; i++)); do
  expect_exit 0 secagg-unmask --state "c$i" --survivors "S/survivors-$i.msg" --consistency "S/consistency-$i.msg" \
    -o "u$i.msg"
done
# The whole messages are the same messages to a client: the same answer.
expect_exit 0 secagg-unmask --state c1 --survivors S/survivors.msg --consistency S/consistency.msg -o again1.out
check "the whole consistency.msg gets the same answer as consistency-1.msg" cmp -s u1.msg again1.out
expect_exit 0 secagg-collect unmask --session S --text -o sum.txt u{1..12}.msg
check_sum sum.txt x{1..14}.txt "$R32"
expect_exit 0 secagg-collect audit --session S
check "the audit replays round 3 over the graph" grep -q '^ok .*round 3' <(secagg-collect audit --session S)

section "round 3 aborts when a neighbourhood has fewer than t signers"
# 7 of 16 do not sign. Each is in 11 of the 16 closed neighbourhoods, 77 memberships among 16
# neighbourhoods: one holds at least 5 of them and so at most 6 signers, below t = 7; the 9
# signers alone would pass a count over all of U3.
rm -rf S c{1..16}
must secagg-collect setup --session S --clients "$N" --neighbours 10 --corrupt 1 --modulus-bits 32 --length 30 \
  --threat-model active --ca ca.pub
for ((i = 1; i <= N; i++)); do
  must secagg-keygen --params S/params.msg --id "$i" --state "c$i" --identity "id$i.key" --cert "id$i.cert" \
    -o "adv$i.msg"
done
must secagg-collect keys --session S adv*.msg
for ((i = 1; i <= N; i++)); do must secagg-share --state "c$i" --roster "S/roster-$i.msg" -o "sh$i.msg"; done
must secagg-collect shares --session S sh{1..16}.msg
for ((i = 1; i <= N; i++)); do
  must secagg-mask --state "c$i" --inbox "S/inbox-$i.msg" --input "x$i.txt" -o "m$i.msg"
done
must secagg-collect masked --session S m{1..16}.msg
for ((i = 1; i <= 9; i++)); do must secagg-unmask sign --state "c$i" --survivors S/survivors.msg -o "sig$i.msg"; done
expect_exit 1 secagg-collect consistency --session S sig{1..9}.msg
expect_err "round 3 (consistency-signature): only" "neighbourhood signed, fewer than the threshold 7" \
  "session aborted"
assert_absent S/consistency.msg

section "socket mode: the same dropouts over TCP"
rm -rf S c{1..16}
must secagg-collect setup --session S --clients "$N" --neighbours 10 --corrupt 1 --modulus-bits 32 --length 30 \
  --threat-model active --ca ca.pub
serve_start --round-timeout 3 --text
net_step akeygen $(seq 1 16)
net_step share $(seq 1 15)
net_step mask $(seq 1 14)
net_step sign $(seq 1 13)
net_step aunmask $(seq 1 12)
serve_wait 0
check_sum serve.out x{1..14}.txt "$R32"
log_has "round 3: client 14: dropped"
expect_exit 0 secagg-collect audit --session S

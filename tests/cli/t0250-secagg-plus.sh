#!/usr/bin/env bash
# SecAgg+ through the real tools: 12 clients with 4 neighbours each, threshold 3.
source "$(dirname "$0")/lib.sh"

section "setup refuses neighbour counts and thresholds that cannot work"
expect_exit 64 secagg-collect setup --session Z --clients 12 --threshold 3 --neighbours 1 --modulus-bits 32 --length 8
expect_exit 64 secagg-collect setup --session Z --clients 12 --threshold 3 --neighbours 12 --modulus-bits 32 --length 8
expect_exit 64 secagg-collect setup --session Z --clients 12 --threshold 6 --neighbours 4 --modulus-bits 32 --length 8
expect_exit 64 secagg-collect setup --session Z --clients 12 --threshold 2 --neighbours 4 --modulus-bits 32 --length 8
assert_absent Z

section "a session with dropouts after rounds 1 and 2 yields the sum of U3"
n=12
must secagg-collect setup --session S --clients $n --threshold 3 --neighbours 4 --modulus-bits 32 --length 200
for i in $(seq 1 $n); do
  gen_input "$i" 200 4294967296 > x$i.txt
  must secagg-keygen --params S/params.msg --id $i --state c$i -o adv$i.msg
done
must secagg-collect keys --session S adv*.msg
for i in $(seq 1 $n); do must secagg-share --state c$i --roster S/roster-$i.msg -o shares$i.msg; done
# Each client's round-1 message holds shares for itself and its 4 neighbours only.
check "share count is k + 1" test "$(secagg-inspect shares1.msg | sed -n 's/.*shares=\([0-9]*\).*/\1/p')" = 5
rm shares12.msg  # client 12 drops after round 0
must secagg-collect shares --session S shares*.msg
for i in $(seq 1 10); do
  must secagg-mask --state c$i --inbox S/inbox-$i.msg --input x$i.txt -o masked$i.msg
done  # client 11 drops after round 1
must secagg-collect masked --session S masked*.msg
# Each client of U3 reads only its part of U3, S/survivors-I.msg; another client's part is refused.
check "survivors-1.msg lists U3 within client 1's neighbourhood only" \
  "$PY" -c 'import json, sys; ids = json.load(sys.stdin)["body"]["ids"]; sys.exit(not (1 in ids and len(ids) <= 5))' \
  < <(secagg-inspect --json S/survivors-1.msg)
expect_exit 65 secagg-unmask --state c1 --survivors S/survivors-2.msg -o unmask1.msg
expect_err "S/survivors-2.msg" "addressed to client 2, not client 1"
assert_absent unmask1.msg
for i in $(seq 1 10); do must secagg-unmask --state c$i --survivors S/survivors-$i.msg -o unmask$i.msg; done
# The whole survivor set is the same message to client 1, cut down to its part: run again with it,
# the step gives the same answer.
must secagg-unmask --state c1 --survivors S/survivors.msg -o again1.out
check "the whole survivors.msg gets the same answer as survivors-1.msg" cmp -s unmask1.msg again1.out
must secagg-collect unmask --session S unmask*.msg --text -o sum.txt
check_sum sum.txt $(for i in $(seq 1 10); do echo x$i.txt; done) 4294967296

section "each client gets only its window of the committed roster"
# Client 1's message lists its 4 neighbours and itself (no client dropped before round 0 ended).
check "roster-1.msg holds 5 slots, all in U1" grep -q ' u1=12 slots=5 in_u1=5$' <(secagg-inspect S/roster-1.msg)
expect_exit 65 secagg-share --state c1 --roster S/roster.msg -o whole.msg
expect_err "S/roster.msg: is the server's whole roster" "client 1 takes its own neighbourhood message (S/roster-1.msg)"
assert_absent whole.msg

section "a tampered window is refused (exit 65) and the state is left as it was"
# A fresh session: its clients have not shared yet.
must secagg-collect setup --session T --clients 12 --threshold 3 --neighbours 4 --modulus-bits 32 --length 8
for i in $(seq 1 12); do must secagg-keygen --params T/params.msg --id $i --state t$i -o tadv$i.msg; done
# Client 5 never advertises: some windows then hold an absent slot, with its proof of absence.
must secagg-collect keys --session T tadv{1..4}.msg tadv{6..12}.msg
cp t1 t1.before
# Body: the byte-order byte (1), u1 (4 bytes), the slot count (8), then each slot: id (4), flags (1), in U1 the three keys
# (96), the proof's digest count (8) and the digests (32 each). Flip the first key of the first
# slot in U1.
off=$("$PY" -c '
import json, sys
off = 13
for s in json.load(sys.stdin)["body"]["slots"]:
    if "c_pk" in s:
        print(off + 5)
        break
    off += 5 + 8 + 32 * len(s["path"])
' < <(secagg-inspect --json T/roster-1.msg))
forge flip T/roster-1.msg "$off" key.msg
expect_exit 65 secagg-share --state t1 --roster key.msg -o out.msg
expect_err "key.msg" "lead to different roster commitments" "refusing the roster"
# The last byte of the body is the last byte of the last slot's proof.
forge flip T/roster-1.msg -1 proof.msg
expect_exit 65 secagg-share --state t1 --roster proof.msg -o out.msg
expect_err "proof.msg" "lead to different roster commitments"
# Another client's window, addressed to client 1: its slots all prove, but they are not the window
# the committed ring gives client 1.
forge retag T/roster-2.msg other.msg --recipient 1
expect_exit 65 secagg-share --state t1 --roster other.msg -o out.msg
expect_err_re "other.msg: .*(does not follow from the commitment|does not list client 1 in U1)"
check "the state is unchanged by the refusals" cmp -s t1 t1.before
assert_absent out.msg
must secagg-share --state t1 --roster T/roster-1.msg -o tsh1.msg
check "the untampered window is accepted" test -s tsh1.msg
for i in $(seq 2 4) $(seq 6 12); do must secagg-share --state t$i --roster T/roster-$i.msg -o tsh$i.msg; done
must secagg-collect shares --session T tsh*.msg

section "setup sizes the graph for stated dropout and corruption rates (Bell et al.)"
must secagg-collect setup --session F --clients 500 --neighbours 50 --threshold 26 --dropout-rate 0.05 --corruption-rate 0.05 --modulus-bits 32 --length 8
expect_exit 64 secagg-collect setup --session G --clients 500 --neighbours 20 --threshold 11 --dropout-rate 0.05 --corruption-rate 0.05 --modulus-bits 32 --length 8
expect_err "no threshold works"
expect_exit 64 secagg-collect setup --session G --clients 500 --neighbours 50 --threshold 15 --dropout-rate 0.05 --corruption-rate 0.05 --modulus-bits 32 --length 8
expect_err "too low"
assert_absent G
must secagg-collect setup --session H --clients 500 --neighbours auto --modulus-bits 32 --length 8
check "auto picks 28 neighbours and threshold 16 for 500 clients at 5%/5%" \
  grep -q "threshold=16 neighbours=28" <(secagg-inspect H/params.msg)

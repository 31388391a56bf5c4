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
for i in $(seq 1 $n); do must secagg-share --state c$i --roster S/roster.msg -o shares$i.msg; done
# Each client's round-1 message holds shares for itself and its 4 neighbours only.
check "share count is k + 1" test "$(secagg-inspect shares1.msg | sed -n 's/.*shares=\([0-9]*\).*/\1/p')" = 5
rm shares12.msg  # client 12 drops after round 0
must secagg-collect shares --session S shares*.msg
for i in $(seq 1 10); do
  must secagg-mask --state c$i --inbox S/inbox-$i.msg --input x$i.txt -o masked$i.msg
done  # client 11 drops after round 1
must secagg-collect masked --session S masked*.msg
for i in $(seq 1 10); do must secagg-unmask --state c$i --survivors S/survivors.msg -o unmask$i.msg; done
must secagg-collect unmask --session S unmask*.msg --text -o sum.txt
check_sum sum.txt $(for i in $(seq 1 10); do echo x$i.txt; done) 4294967296

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

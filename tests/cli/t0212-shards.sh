#!/usr/bin/env bash
# t0212-shards: sharded sessions (docs/shards.md). Shards set up with --shard-of TOP share TOP's
# ring, length and quantization spec; 'combine' adds their aggregates into exactly the sum of
# every shard's U3 inputs, and refuses shards of another top session, a shard given twice, an
# unfinished shard and shards that together have more clients than TOP was sized for. In a
# hierarchical top session (--shard-clients) the shard servers are its clients and mask their
# shard's aggregate (secagg-mask --shard): the top session's aggregate is the same exact total.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# shard_walk DIR TOP N T SEED [WALK OPTIONS...]: a shard of TOP walked to its sum.
shard_walk() {
  local dir=$1 top=$2 n=$3 t=$4 seed=$5
  shift 5
  walk_setup "$dir" sum -n "$n" -t "$t" -l 40 --seed "$seed" "$@" -- --shard-of "$WORK/$top"
}
sid_of() { secagg-inspect --json "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["session"])'; }

section "combine: three shards of a federation of 12, with dropouts"
must secagg-collect setup --session top --clients 12 --threshold 7 --length 40 --modulus-bits 32
shard_walk a top 5 3 1 --drop2 5
shard_walk b top 4 3 2 --drop0 1
shard_walk c top 3 2 3
check "a shard's params name its top session" \
  grep -q " shard_of=$(sid_of top/params.msg)\$" <(secagg-inspect a/S/params.msg)
check "a shard has its own session id" test "$(sid_of a/S/params.msg)" != "$(sid_of top/params.msg)"
secagg-collect status --session a/S >status.txt
check "status names the top session" grep -q "a shard of session $(sid_of top/params.msg)" status.txt
check "status: next is combine" grep -q "secagg-collect combine --session TOP a/S" status.txt
# The refusals first: they must leave TOP without an aggregate.
must secagg-collect setup --session other --clients 12 --threshold 7 --length 40 --modulus-bits 32
shard_walk o other 3 2 4
rm -f out.vec
expect_exit 65 secagg-collect combine --session top a/S o/S -o out.vec
expect_err "o/S/params.msg" "shard"
assert_absent out.vec
expect_exit 64 secagg-collect combine --session top a/S b/S a/S -o out.vec
expect_err "a/S"
assert_absent out.vec
shard_walk u top 3 2 5
rm u/S/aggregate.vec
expect_exit 66 secagg-collect combine --session top a/S u/S -o out.vec
expect_err "u/S/aggregate.vec"
assert_absent out.vec
# Three full shards plus u: 15 clients, more than the 12 TOP's modulus was sized for.
walk_to u sum
expect_exit 65 secagg-collect combine --session top a/S b/S c/S u/S -o out.vec
expect_err "15" "12"
assert_absent out.vec
expect_exit 64 secagg-collect combine --session top -o out.vec
# A shard's aggregate.vec cut short is bad data, not a crash.
cp -r c cut && head -c 50 c/S/aggregate.vec >cut/S/aggregate.vec
expect_exit 65 secagg-collect combine --session top a/S cut/S -o out.vec
expect_err "cut/S/aggregate.vec"
assert_absent out.vec

expect_exit 0 secagg-collect combine --session top a/S b/S c/S --text -o total.txt
expect_err "combine: 3 shards of 12 clients in all, 10 of them in the sum (U3)"
# shellcheck disable=SC2046
check_sum total.txt $(walk_xfiles a U3) $(walk_xfiles b U3) $(walk_xfiles c U3) "$(walk_modulus a)"
check "top/aggregate.vec holds the same sum" cmp <(secagg-inspect --text top/aggregate.vec) total.txt
check "top/aggregate.vec is a vector of the top session" \
  test "$(sid_of top/aggregate.vec)" = "$(sid_of top/params.msg)"
# Like a round, a combine is recorded once.
snapshot top
expect_exit 73 secagg-collect combine --session top c/S a/S b/S -o again.vec
expect_err "top/aggregate.vec" "already exists"
assert_absent again.vec
assert_unchanged top

section "setup --shard-of takes the ring from TOP, and refuses what would change it"
for opt in "--length 40" "--modulus-bits 32" "--bits 8" "--prg chacha20" "--shard-clients 4"; do
  # shellcheck disable=SC2086
  expect_exit 64 secagg-collect setup --session bad --shard-of top --clients 3 --threshold 2 $opt
  expect_err "${opt%% *}" "--shard-of"
  assert_absent bad/params.msg
done
expect_exit 64 secagg-collect setup --session bad --shard-of top --clients 13 --threshold 7
expect_err "13" "12"
expect_exit 65 secagg-collect setup --session bad --shard-of a/S --clients 3 --threshold 2
expect_err "a/S/params.msg" "one level"
expect_exit 66 secagg-collect setup --session bad --shard-of nowhere --clients 3 --threshold 2
assert_absent bad/params.msg

section "quantized shards: combine, then decode with the top session's params"
must secagg-collect setup --session qtop --clients 6 --threshold 4 --length 3 --bits 16 --clip 1 \
  --max-weight 10 --modulus-bits auto
for s in qa qb; do
  must secagg-collect setup --session $s/S --shard-of qtop --clients 3 --threshold 2
  for i in 1 2 3; do
    must secagg-keygen --params $s/S/params.msg --id $i --state $s/c$i -o $s/adv$i.msg
  done
  must secagg-collect keys --session $s/S $s/adv{1,2,3}.msg
  for i in 1 2 3; do
    must secagg-share --state $s/c$i --roster $s/S/roster.msg -o $s/shares$i.msg
  done
  must secagg-collect shares --session $s/S $s/shares{1,2,3}.msg
done
# Client i of shard qa holds the update (0.1 i, -0.1 i, 0.5) with weight i; qb's clients i + 3.
for i in 1 2 3; do
  printf '%s\n' "0.$i" "-0.$i" 0.5 >qa/u$i.txt
  printf '%s\n' "0.$((i + 3))" "-0.$((i + 3))" 0.5 >qb/u$i.txt
  must secagg-quantize encode --params qa/S/params.msg --weight $i --round nearest --input qa/u$i.txt -o qa/x$i.vec
  must secagg-quantize encode --params qb/S/params.msg --weight $((i + 3)) --round nearest --input qb/u$i.txt -o qb/x$i.vec
done
for s in qa qb; do
  for i in 1 2 3; do
    must secagg-mask --state $s/c$i --inbox $s/S/inbox-$i.msg --input $s/x$i.vec -o $s/masked$i.msg
  done
  must secagg-collect masked --session $s/S $s/masked{1,2,3}.msg
  for i in 1 2 3; do
    must secagg-unmask --state $s/c$i --survivors $s/S/survivors.msg -o $s/unmask$i.msg
  done
  must secagg-collect unmask --session $s/S $s/unmask{1,2,3}.msg -o $s/sum.vec
done
expect_exit 0 secagg-collect combine --session qtop qa/S qb/S -o qsum.vec
expect_err "total weight 21"
expect_exit 0 secagg-quantize decode --params qtop/params.msg --input qsum.vec --text -o qavg.txt
# The weighted mean of 0.1 i over weights i = 1..6 is 0.1 * 91 / 21.
pycheck "decode gives the weighted average of all six clients" '
import sys
v = [float(t) for t in open(sys.argv[1]).read().split()]
want = [0.1 * 91 / 21, -0.1 * 91 / 21, 0.5]
assert len(v) == 3 and all(abs(a - b) < 1e-3 for a, b in zip(v, want)), (v, want)
' qavg.txt
expect_exit 65 secagg-quantize decode --params qa/S/params.msg --input qsum.vec -o wrong.txt
assert_absent wrong.txt

section "hierarchical: the shard servers are the clients of the top session"
must secagg-collect setup --session h --clients 3 --threshold 2 --shard-clients 4 --length 40 --modulus-bits 32
check "the top session records its shard size" grep -q " shard_clients=4\$" <(secagg-inspect h/params.msg)
shard_walk ha h 4 3 6 --drop2 2
shard_walk hb h 4 3 7
shard_walk hc h 3 2 8
expect_exit 64 secagg-collect setup --session hbad --shard-of h --clients 5 --threshold 3
expect_err "5" "4"
for i in 1 2 3; do
  must secagg-keygen --params h/params.msg --id $i --state h$i -o hadv$i.msg
done
must secagg-collect keys --session h hadv{1,2,3}.msg
for i in 1 2 3; do must secagg-share --state h$i --roster h/roster.msg -o hshares$i.msg; done
must secagg-collect shares --session h hshares{1,2,3}.msg
# Refusals first: they leave the client's state as it was.
snapshot h1
expect_exit 65 secagg-mask --state h1 --inbox h/inbox-1.msg --shard a/S -o hm.msg
expect_err "a/S"
expect_exit 66 secagg-mask --state h1 --inbox h/inbox-1.msg --shard u-missing -o hm.msg
expect_exit 64 secagg-mask --state h1 --inbox h/inbox-1.msg --shard ha/S --input ha/x1.txt -o hm.msg
assert_absent hm.msg
assert_unchanged h1
shards=(ha hb hc)
for i in 1 2 3; do
  expect_exit 0 secagg-mask --state h$i --inbox h/inbox-$i.msg --shard "${shards[$((i - 1))]}/S" -o hmasked$i.msg
done
must secagg-collect masked --session h hmasked{1,2,3}.msg
for i in 1 2 3; do must secagg-unmask --state h$i --survivors h/survivors.msg -o hunmask$i.msg; done
expect_exit 0 secagg-collect unmask --session h hunmask{1,2,3}.msg --text -o htotal.txt
# shellcheck disable=SC2046
check_sum htotal.txt $(walk_xfiles ha U3) $(walk_xfiles hb U3) $(walk_xfiles hc U3) "$(walk_modulus ha)"

section "secagg-sim --session runs a shard's clients and server"
must secagg-collect setup --session simtop --clients 8 --threshold 5 --length 40 --modulus-bits 32
shard_sim() {
  must secagg-collect setup --session "$1" --shard-of simtop --clients 4 --threshold 3
  expect_exit 0 secagg-sim --session "$1" --seed "$2" --quiet
}
shard_sim s1 11
shard_sim s2 12
check "the simulated shard has its aggregate" test -s s1/aggregate.vec
expect_exit 0 secagg-collect combine --session simtop s1 s2 --text -o simtotal.txt
pycheck "combine of simulated shards is the sum of their aggregates mod R" '
import subprocess, sys
a, b = ([int(t) for t in subprocess.check_output(["secagg-inspect", "--text", f]).split()] for f in sys.argv[1:3])
got = [int(t) for t in open(sys.argv[3]).read().split()]
assert got == [(x + y) % 2**32 for x, y in zip(a, b)], "not the sum"
' s1/aggregate.vec s2/aggregate.vec simtotal.txt
snapshot s1
expect_exit 73 secagg-sim --session s1 --seed 3 --quiet
expect_err "s1/roster.msg" "already exists"
assert_unchanged s1
expect_exit 64 secagg-sim --session simtop --clients 4 --quiet

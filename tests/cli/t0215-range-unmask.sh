#!/usr/bin/env bash
# t0215-range-unmask: round 4 split into ranges (docs/protocol.md, "Range unmasking").
# `secagg-collect unmask --range A:B` unmasks elements [A, B) into an unmask-part message and
# leaves the session directory as it was; `secagg-collect join` assembles the parts with the
# round-4 messages into S/aggregate.vec, byte for byte what `unmask` writes, and refuses gaps,
# overlaps, parts of another session or of other round-4 messages, and damaged parts.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# split_join DIR RANGES...: unmask each range of DIR's session from its unmask*.msg into
# DIR/part-A.vec (S unchanged by each), keep a copy of S as DIR/N and run the whole unmask
# there, then join in S: the aggregates agree byte for byte and are the sum of the inputs of U3.
split_join() {
  local d=$1 r
  shift
  snapshot "$d/S"
  for r in "$@"; do
    expect_exit 0 secagg-collect unmask --session "$d/S" --range "$r" "$d"/unmask*.msg -o "$d/part-${r%%:*}.vec"
  done
  assert_unchanged "$d/S"
  cp -a "$d/S" "$d/N"
  must secagg-collect unmask --session "$d/N" "$d"/unmask*.msg -o "$d/normal.vec"
  expect_exit 0 secagg-collect join --session "$d/S" "$d"/part-*.vec "$d"/unmask*.msg -o "$d/joined.vec"
  check "$d: S/aggregate.vec is byte for byte unmask's" cmp "$d/S/aggregate.vec" "$d/N/aggregate.vec"
  check "$d: join's output is byte for byte unmask's" cmp "$d/joined.vec" "$d/normal.vec"
  check "$d: join leaves the files unmask leaves" diff <(cd "$d/S" && sha256sum -- *) <(cd "$d/N" && sha256sum -- *)
  secagg-inspect --text "$d/S/aggregate.vec" >"$d/sum.txt"
  # shellcheck disable=SC2046
  check_sum "$d/sum.txt" $(walk_xfiles "$d" U3) "$(walk_modulus "$d")"
  check "$d: join --text writes unmask --text's decimal text" cmp <(secagg-inspect --text "$d/normal.vec") "$d/sum.txt"
  check "$d: status shows the session finished" grep -q 'the session is done' <(secagg-collect status --session "$d/S")
  check "$d: audit passes" secagg-collect audit --session "$d/S"
}

section "full SecAgg with dropouts in rounds 2 and 4: three uneven ranges"
walk_setup A unmask -n 7 -t 4 -l 101 --drop2 5 --drop4 2
cp -a A/S A/S0  # round 4 not done, for the refusals below
split_join A 0:17 17:90 90:101
check "the part says what it holds" \
  grep -q 'unmask-part .* length=101 range=17:90 elements=73 inputs=[0-9a-f]* responders=1,3,4,6,7$' \
  <(secagg-inspect A/part-17.vec)
check "the part's JSON names its fields" grep -q '"offset": 17' <(secagg-inspect --json A/part-17.vec)

section "one range of one element, and the whole vector as one range"
walk_setup B unmask -n 5 -t 3 -l 40 --drop2 1
split_join B 0:1 1:39 39:40
walk_setup C unmask -n 5 -t 3 -l 40 --drop4 3
split_join C 0:40

section "SecAgg+ (12 clients, 4 neighbours) with a dropout in round 2"
walk_setup P unmask -n 12 -t 3 -l 64 --drop2 7 -- --neighbours 4
split_join P 0:5 5:60 60:64

section "a quantized session (the weight is element 0)"
walk_setup Q keygen -n 5 -t 3 -l 30 -- --bits 8 --clip 1 --max-weight 10 --modulus-bits auto
for i in 1 2 3 4 5; do
  "$PY" -c "import random; g = random.Random($i); print(*[g.uniform(-1.5, 1.5) for _ in range(30)])" >"Q/f$i.txt"
  must secagg-quantize encode --params Q/S/params.msg --weight "$i" --input "Q/f$i.txt" --text -o "Q/x$i.txt"
done
walk_to Q unmask
split_join Q 0:1 1:7 7:31

section "an active session (client 5 drops in round 2, client 4 signs U3 and then drops)"
make_identities 5
session_through_round1 V active 50
for i in 1 2 3 4; do
  must secagg-mask --state "V/c$i" --inbox "V/S/inbox-$i.msg" --input "V/x$i.txt" -o "V/m$i.msg"
done
must secagg-collect masked --session V/S V/m[1-4].msg
for i in 1 2 3 4; do must secagg-unmask sign --state "V/c$i" --survivors V/S/survivors.msg -o "V/g$i.msg"; done
must secagg-collect consistency --session V/S V/g?.msg
for i in 1 2 3; do
  must secagg-unmask --state "V/c$i" --survivors V/S/survivors.msg --consistency V/S/consistency.msg -o "V/unmask$i.msg"
done
# split_join's sum check reads the walk's description of U3 and R.
printf 'W_U3="1 2 3 4"\nW_N=5\n' >V/walk.conf
split_join V 0:20 20:21 21:50

section "join refuses"
S=A/S0
parts=(A/part-0.vec A/part-17.vec A/part-90.vec)
snapshot "$S"
expect_exit 65 secagg-collect join --session "$S" A/part-0.vec A/part-90.vec A/unmask*.msg -o out.vec
expect_err "elements 17:90 are missing"
must secagg-collect unmask --session "$S" --range 10:30 A/unmask*.msg -o A/over.vec
expect_exit 65 secagg-collect join --session "$S" "${parts[@]}" A/over.vec A/unmask*.msg -o out.vec
expect_err "A/over.vec" "A/part-0.vec" "overlaps"
# A part of session B (another id; the same length would not matter).
expect_exit 65 secagg-collect join --session "$S" "${parts[@]}" B/part-0.vec A/unmask*.msg -o out.vec
expect_err "B/part-0.vec" "not of this session"
head -c -7 A/part-17.vec >A/short.vec
expect_exit 65 secagg-collect join --session "$S" A/part-0.vec A/short.vec A/part-90.vec A/unmask*.msg -o out.vec
expect_err "A/short.vec" "truncated"
cp A/part-17.vec A/flipped.vec
forge flip A/flipped.vec 60 A/flipped.vec
expect_exit 65 secagg-collect join --session "$S" A/part-0.vec A/flipped.vec A/part-90.vec A/unmask*.msg -o out.vec
expect_err "A/flipped.vec"
# The middle range from four of the five round-4 messages: other inputs (the aggregate would be
# the same here, but join cannot tell that without unmasking again).
must secagg-collect unmask --session "$S" --range 17:90 A/unmask1.msg A/unmask3.msg A/unmask4.msg A/unmask6.msg \
  -o A/fewer.vec
expect_exit 65 secagg-collect join --session "$S" A/part-0.vec A/fewer.vec A/part-90.vec A/unmask*.msg -o out.vec
expect_err "A/fewer.vec" "other round-4 messages"
# The round-4 messages given to join must be those the parts were made from.
expect_exit 65 secagg-collect join --session "$S" "${parts[@]}" A/unmask1.msg A/unmask3.msg A/unmask4.msg \
  A/unmask6.msg -o out.vec
expect_err "other round-4 messages"
expect_exit 64 secagg-collect join --session "$S" "${parts[@]}" -o out.vec
expect_err "round-4 messages"
expect_exit 64 secagg-collect join --session "$S" A/unmask*.msg -o out.vec
expect_err "parts"
assert_absent out.vec
assert_unchanged "$S"
# After a join, round 4 is done: no second join, no more ranges.
expect_exit 73 secagg-collect join --session A/S "${parts[@]}" A/unmask*.msg -o out.vec
expect_exit 73 secagg-collect unmask --session A/S --range 0:5 A/unmask*.msg -o out.vec
expect_err "already exists"

section "unmask --range refuses bad ranges (usage), and --text"
for bad in 5 :5 5: a:7 0:x 7:7 9:3 -1:4 0:102 18446744073709551616:1; do
  expect_exit 64 secagg-collect unmask --session "$S" --range "$bad" A/unmask*.msg -o out.vec
done
expect_exit 64 secagg-collect unmask --session "$S" --range 0:102 A/unmask*.msg -o out.vec
expect_err "end B = 102" "length 101"
expect_exit 64 secagg-collect unmask --session "$S" --range 9:3 A/unmask*.msg -o out.vec
expect_err "start A = 9"
expect_exit 64 secagg-collect unmask --session "$S" --range 0:10 --text A/unmask*.msg -o out.vec
expect_err "--text"
# The round-4 messages are checked as unmask checks them: too few is an abort.
expect_exit 1 secagg-collect unmask --session "$S" --range 0:10 A/unmask1.msg A/unmask3.msg -o out.vec
expect_err "threshold"
assert_absent out.vec
assert_unchanged "$S"

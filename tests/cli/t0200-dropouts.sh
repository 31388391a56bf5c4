#!/usr/bin/env bash
# t0200-dropouts: clients that never send their round 0, 1, 2 or 4 message. While every
# survivor set keeps at least t clients, the session yields the exact sum of the inputs
# of U3; when a round has fewer than t answers, the server aborts (exit 1) naming the
# round and the counts, and writes nothing for the next round.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# dropout_session DIR N T DROPS...: a whole walk, then the exact-sum check over U3.
dropout_session() {
  local dir=$1 n=$2 t=$3
  shift 3
  walk_setup "$dir" sum -n "$n" -t "$t" -l 300 --seed "$n$t${#dir}" "$@"
  # shellcheck disable=SC2046
  check_sum "$dir/sum.txt" $(walk_xfiles "$dir" U3) "$(walk_modulus "$dir")"
}
ids_of() { secagg-inspect --json "$1" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["body"]["ids"])'; }

section "one client drops after each round (n=5, t=3)"
dropout_session r0 5 3 --drop0 5
check "r0: roster has U1 = 4 clients" grep -q ' u1=4$' <(secagg-inspect r0/S/roster.msg)
assert_absent r0/S/inbox-5.msg
dropout_session r0mid 5 3 --drop0 2
check "r0mid: U2 = 1 3 4 5" test "$(ids_of r0mid/S/u2.msg)" = "1 3 4 5"

dropout_session r1 5 3 --drop1 5
check "r1: U2 = 1..4" test "$(ids_of r1/S/u2.msg)" = "1 2 3 4"
check "r1: roster still has 5 clients" grep -q ' u1=5$' <(secagg-inspect r1/S/roster.msg)
assert_absent r1/S/inbox-5.msg
check "r1: each inbox carries 4 shares" grep -q ' shares=4$' <(secagg-inspect r1/S/inbox-1.msg)
dropout_session r1first 5 3 --drop1 1

dropout_session r2 5 3 --drop2 5
check "r2: U3 = 1..4" test "$(ids_of r2/S/survivors.msg)" = "1 2 3 4"
dropout_session r2two 5 3 --drop2 1,4
check "r2two: U3 = 2 3 5" test "$(ids_of r2two/S/survivors.msg)" = "2 3 5"
check "r2two: unmask answers carry 3 self-mask and 2 mask-key shares" \
  grep -q ' self_mask_shares=3 mask_key_shares=2$' <(secagg-inspect r2two/S/unmask-2.msg)

# A client that sent its masked input but not its unmasking answer is still in U3: its input counts.
dropout_session r4 5 3 --drop4 5
check "r4: U3 = 1..5" test "$(ids_of r4/S/survivors.msg)" = "1 2 3 4 5"
assert_absent r4/S/unmask-5.msg
dropout_session r4two 5 3 --drop4 1,2

section "a dropout at every round in one session"
dropout_session all6 6 4 --drop0 6 --drop2 5
dropout_session all6b 6 4 --drop1 2 --drop4 4
# All four rounds lose a client; n <= 6 needs the low threshold flag for that.
dropout_session all4 6 2 --drop0 1 --drop1 6 --drop2 3 --drop4 5 -- --modulus-bits 32 --insecure-low-threshold
check "all4: U3 = 2 4 5" test "$(ids_of all4/S/survivors.msg)" = "2 4 5"
dropout_session none 3 2

section "too many dropouts at each server round: abort, nothing written"
# Round 0: 2 of 5 advertise keys, t = 3.
walk_setup k0 keygen -l 50
snapshot k0/S
expect_exit 1 secagg-collect keys --session k0/S k0/adv1.msg k0/adv3.msg
expect_err "round 0" "2 of 5" "threshold 3"
assert_absent k0/S/roster.msg
assert_unchanged k0/S
expect_exit 1 secagg-collect keys --session k0/S
expect_err "round 0" "0 of 5"
assert_absent k0/S/roster.msg
# After the abort the round can still be collected with enough clients.
expect_exit 0 secagg-collect keys --session k0/S k0/adv1.msg k0/adv3.msg k0/adv4.msg
check "k0: roster has the 3 clients that answered" grep -q ' u1=3$' <(secagg-inspect k0/S/roster.msg)

# Round 1: U1 = 5, only 2 send shares.
walk_setup k1 share -l 50
snapshot k1/S
expect_exit 1 secagg-collect shares --session k1/S k1/shares2.msg k1/shares5.msg
expect_err "round 1" "2 of 5" "threshold 3"
assert_absent k1/S/u2.msg k1/S/inbox-1.msg k1/S/inbox-2.msg k1/S/inbox-5.msg
assert_unchanged k1/S
# U1 = 4 (client 5 dropped in round 0), 2 send shares: the count is out of U1.
walk_setup k1b share -l 50 --drop0 5
snapshot k1b/S
expect_exit 1 secagg-collect shares --session k1b/S k1b/shares1.msg k1b/shares2.msg
expect_err "round 1" "2 of 4"
assert_absent k1b/S/u2.msg k1b/S/inbox-1.msg
assert_unchanged k1b/S

# Round 2: U2 = 4, only 2 masked inputs.
walk_setup k2 mask -l 50 --drop1 5
snapshot k2/S
expect_exit 1 secagg-collect masked --session k2/S k2/masked1.msg k2/masked4.msg
expect_err "round 2" "2 of 4" "threshold 3"
assert_absent k2/S/survivors.msg k2/S/masked-1.msg k2/S/masked-4.msg
assert_unchanged k2/S
# After the abort the round can still be collected with enough clients.
expect_exit 0 secagg-collect masked --session k2/S k2/masked1.msg k2/masked2.msg k2/masked4.msg
check "k2: U3 = 1 2 4" test "$(ids_of k2/S/survivors.msg)" = "1 2 4"

# Round 4: U3 = 4, only 2 unmasking answers.
walk_setup k4 unmask -l 50 --drop2 5
snapshot k4/S
expect_exit 1 secagg-collect unmask --session k4/S k4/unmask2.msg k4/unmask3.msg --text -o k4/sum.txt
expect_err "round 4" "2 of 4" "threshold 3"
assert_absent k4/sum.txt k4/S/aggregate.vec k4/S/unmask-2.msg k4/S/unmask-3.msg
assert_unchanged k4/S
expect_exit 1 secagg-collect unmask --session k4/S --text -o k4/sum.txt
expect_err "round 4" "0 of 4"
assert_absent k4/sum.txt k4/S/aggregate.vec
# With t answers the same session completes.
expect_exit 0 secagg-collect unmask --session k4/S k4/unmask1.msg k4/unmask2.msg k4/unmask3.msg --text -o k4/sum.txt
# shellcheck disable=SC2046
check_sum k4/sum.txt $(walk_xfiles k4 U3) 4294967296

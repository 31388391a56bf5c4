#!/usr/bin/env bash
# t0315-concurrent-collect: two runs of one file-mode round on one session at the same time
# (issue 10, item 2). Exactly one succeeds; the other exits 73 with the words of a round
# collected already, and the transcript is the winner's alone: the next round runs on it and
# gives the plaintext sum of the winner's U3. The two runs are given different message sets, so
# that a loser's file mixed into the winner's transcript would show. A bounded stress (the runs
# race for real); the deterministic case, a marker made between the check and the write, is in
# tests/unit/test_session_dir.cpp.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

TRIALS=${SECAGG_RACE_TRIALS:-8}

walk_setup A keygen -n 5 -t 3 -l 200
R=$(walk_modulus A)

# race DIR ROUND WORDS A_FILES -- B_FILES: runs 'secagg-collect ROUND' twice at once on DIR/S;
# sets WINNER to a or b.
race() {
  local dir=$1 round=$2 words=$3
  shift 3
  local a=() b=()
  while [[ $1 != -- ]]; do a+=("$1"); shift; done
  shift
  b=("$@")
  local rc_a=0 rc_b=0
  (cd "$dir" && exec secagg-collect "$round" --session S "${a[@]}") 2>"$dir/a.err" & local pa=$!
  (cd "$dir" && exec secagg-collect "$round" --session S "${b[@]}") 2>"$dir/b.err" & local pb=$!
  wait "$pa" || rc_a=$?
  wait "$pb" || rc_b=$?
  WINNER=""
  if ((rc_a == 0 && rc_b == 73)); then WINNER=a; elif ((rc_a == 73 && rc_b == 0)); then WINNER=b; fi
  check "$round: one run succeeds, the other exits 73 (got $rc_a and $rc_b)" test -n "$WINNER"
  [[ -n $WINNER ]] || return 0
  local loser=a
  [[ $WINNER == a ]] && loser=b
  check "$round: the loser says the round was collected already" \
    grep -qx "secagg-collect: error: S/$words: already exists: round [0-9] of this session was collected already (each round is collected once)" "$dir/$loser.err"
  check "$round: the loser wrote one line" test "$(wc -l <"$dir/$loser.err")" = 1
}

section "round 0: two 'keys' at once"
for ((i = 1; i <= TRIALS; i++)); do
  rm -rf K && cp -a A K
  race K keys roster.msg adv1.msg adv2.msg adv3.msg adv4.msg adv5.msg -- adv1.msg adv2.msg adv3.msg adv4.msg
  [[ -n $WINNER ]] || continue
  want=5
  [[ $WINNER == b ]] && want=4
  check "keys: the roster is the winner's U1 ($want clients)" grep -Eq " u1=$want( |\$)" <(secagg-inspect K/S/roster.msg)
done

section "round 2: two 'masked' at once, then the aggregate of the winner's U3"
walk_to A mask
for ((i = 1; i <= TRIALS; i++)); do
  rm -rf M && cp -a A M
  race M masked survivors.msg masked1.msg masked2.msg masked3.msg masked4.msg masked5.msg -- \
    masked1.msg masked2.msg masked3.msg masked4.msg
  [[ -n $WINNER ]] || continue
  u3="1 2 3 4 5"
  [[ $WINNER == b ]] && u3="1 2 3 4"
  files=() xs=()
  for c in $u3; do
    must secagg-unmask --state "M/c$c" --survivors M/S/survivors.msg -o "M/unmask$c.msg"
    files+=("M/unmask$c.msg")
    xs+=("M/x$c.txt")
  done
  expect_exit 0 secagg-collect unmask --session M/S "${files[@]}" --text -o M/sum.txt
  check_sum M/sum.txt "${xs[@]}" "$R"
done


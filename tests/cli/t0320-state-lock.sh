#!/usr/bin/env bash
# t0320-state-lock: a client step refuses a state file that another step holds (issue 9,
# item 2). While the state is locked (here by a helper holding flock(2) on it, as a running
# step does), keygen, share, mask and unmask each exit 75 with one line saying so, write
# nothing and leave the state byte for byte; once the lock is gone the step works. Then a
# bounded stress run: two concurrent unmask runs with different survivor sets, and two
# concurrent mask runs with different inputs, on one state: at most one of each pair succeeds.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

HOLDER=""
# hold FILE: lock FILE (flock, exclusive) in a background helper until release.
hold() {
  rm -f held.ready
  timeout 60 "$PY" -c '
import fcntl, sys, time
f = open(sys.argv[1], "rb")
fcntl.flock(f, fcntl.LOCK_EX)
open("held.ready", "w").close()
time.sleep(60)' "$1" &
  HOLDER=$!
  local k
  for ((k = 0; k < 200; k++)); do [[ -e held.ready ]] && return 0; sleep 0.05; done
  fail "the lock helper did not start"
  exit 1
}
release() {
  kill "$HOLDER" 2>/dev/null || true
  wait "$HOLDER" 2>/dev/null || true
  HOLDER=""
}
trap '[[ -z $HOLDER ]] || release; _finish' EXIT

LOCKED="another secagg step is using this client state (locked); try again when it has finished"

# locked STATE cmd...: with STATE held, cmd exits 75 naming STATE, writes no A/out.msg and
# leaves STATE unchanged.
locked() {
  local state=$1
  shift
  snapshot "$state"
  hold "$state"
  expect_exit 75 "$@"
  expect_err "$state: $LOCKED"
  assert_absent A/out.msg
  release
  assert_unchanged "$state"
}

walk_setup A keygen -n 5 -t 3 -l 200
P=A/S/params.msg

section "keygen, share, mask, unmask refuse a locked state"
locked A/c1 secagg-keygen --params "$P" --id 1 --state A/c1 -o A/out.msg
walk_to A keys
locked A/c1 secagg-share --state A/c1 --roster A/S/roster.msg -o A/out.msg
# In socket mode too: refused before connecting (nothing listens on that port).
locked A/c1 secagg-share --state A/c1 --roster A/S/roster.msg --connect 127.0.0.1:9 --recv A/out.msg
walk_to A shares
locked A/c1 secagg-mask --state A/c1 --inbox A/S/inbox-1.msg --input A/x1.txt -o A/out.msg
walk_to A masked
locked A/c1 secagg-unmask --state A/c1 --survivors A/S/survivors.msg -o A/out.msg
# Once the lock is gone the steps go on.
walk_to A sum
check_sum A/sum.txt $(walk_xfiles A U4) "$(walk_modulus A)"

section "stress: two concurrent runs with different inputs never both succeed"
walk_setup B masked -n 5 -t 3 -l 20000
forge survivors B/S/params.msg "1,2,3,4" B/u3-other.msg
two_unmask_ok=0
for ((k = 1; k <= 20; k++)); do
  cp -p B/c1 "B/u$k"
  rc1=0 rc2=0
  secagg-unmask --state "B/u$k" --survivors B/S/survivors.msg -o "B/u$k-a.msg" 2>/dev/null & p1=$!
  secagg-unmask --state "B/u$k" --survivors B/u3-other.msg -o "B/u$k-b.msg" 2>/dev/null & p2=$!
  wait $p1 || rc1=$?
  wait $p2 || rc2=$?
  if ((rc1 == 0 && rc2 == 0)); then two_unmask_ok=$((two_unmask_ok + 1)); fi
  check "try $k: each unmask exits 0, 1 (different survivor set) or 75 (locked): $rc1 $rc2" \
    bash -c "[[ ' 0 1 75 ' == *' $rc1 '* && ' 0 1 75 ' == *' $rc2 '* ]]"
done
check "never two unmasking answers from one state ($two_unmask_ok of 20 tries)" test "$two_unmask_ok" = 0
walk_setup C shares -n 5 -t 3 -l 20000
two_mask_ok=0
for ((k = 1; k <= 20; k++)); do
  cp -p C/c1 "C/m$k"
  rc1=0 rc2=0
  secagg-mask --state "C/m$k" --inbox C/S/inbox-1.msg --input C/x1.txt -o "C/m$k-a.msg" --threads 1 2>/dev/null & p1=$!
  secagg-mask --state "C/m$k" --inbox C/S/inbox-1.msg --input C/x2.txt -o "C/m$k-b.msg" --threads 1 2>/dev/null & p2=$!
  wait $p1 || rc1=$?
  wait $p2 || rc2=$?
  if ((rc1 == 0 && rc2 == 0)); then two_mask_ok=$((two_mask_ok + 1)); fi
done
check "never two masked inputs from one state ($two_mask_ok of 20 tries)" test "$two_mask_ok" = 0

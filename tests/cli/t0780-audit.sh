#!/usr/bin/env bash
# t0780-audit: secagg-collect audit checks a session directory offline (docs/security.md,
# "Auditing a session"): a whole active session and an honest-but-curious one pass, one line per
# check (or JSON); then one byte of each kind of stored file changed, two clients' messages
# swapped, a server file re-sealed with other content, and a consistency signature dropped are
# each reported (exit 65, naming the file), and a session that ended early is checked up to there.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

make_identities 5

# run_session DIR MODE [UPTO]: 5 clients, t = 3, client 5 drops before round 2 and client 4
# before round 4 (in an active session client 4 signs U3 and then does not answer); stops
# before round UPTO if given.
run_session() {
  local d=$1 mode=$2 upto=${3:-9} i c=()
  session_through_round1 "$d" "$mode" 20
  ((upto > 2)) || return 0
  for i in 1 2 3 4; do
    must secagg-mask --state "$d/c$i" --inbox "$d/S/inbox-$i.msg" --input "$d/x$i.txt" -o "$d/m$i.msg"
  done
  must secagg-collect masked --session "$d/S" "$d"/m[1-4].msg
  if [[ $mode == active ]]; then
    for i in 1 2 3 4; do must secagg-unmask sign --state "$d/c$i" --survivors "$d/S/survivors.msg" -o "$d/g$i.msg"; done
    must secagg-collect consistency --session "$d/S" "$d"/g?.msg
    c=(--consistency "$d/S/consistency.msg")
  fi
  for i in 1 2 3; do
    must secagg-unmask --state "$d/c$i" --survivors "$d/S/survivors.msg" "${c[@]}" -o "$d/u$i.msg"
  done
  must secagg-collect unmask --session "$d/S" --text -o "$d/sum.txt" "$d"/u?.msg
}

section "a whole active session passes, one line per check"
run_session A active
expect_exit 0 secagg-collect audit --session A/S
secagg-collect audit --session A/S >audit.txt
check "six lines, all ok" test "$(grep -c "^ok " audit.txt)" = 6
check "round 0 checks the certificates" grep -q '^ok    round 0: 5 adverts from 1,2,3,4,5, .*certified by the session' audit.txt
check "round 3 is there" grep -q '^ok    round 3: 4 signatures over U3 from 1,2,3,4' audit.txt
check "round 4: three answers" grep -q '^ok    round 4: 3 unmasking answers from 1,2,3' audit.txt
check "--json is one document that says ok" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True and len(d["checks"]) == 6 and all(c["ok"] for c in d["checks"])
' <(secagg-collect audit --session A/S --json)
check "the session directory keeps every accepted client message" test "$(cd A/S && ls advert-*.msg share-keys-*.msg \
  masked-*.msg signature-*.msg unmask-*.msg | wc -l)" = $((5 + 5 + 4 + 4 + 3))

section "an honest-but-curious session passes; one that ended after round 1 is checked up to there"
run_session H honest-but-curious
expect_exit 0 secagg-collect audit --session H/S
check "five lines, no round 3" test "$(secagg-collect audit --session H/S | grep -c "^ok ")" = 5
run_session E honest-but-curious 2
expect_exit 0 secagg-collect audit --session E/S
check "round 2 not done" grep -q '^ok    round 2: not done: .*survivors.msg is absent' <(secagg-collect audit --session E/S)

section "tampering: each is reported, naming the file"
# tamper NAME FILE CMD...: a copy of A/S where CMD changed FILE (relative to the copy); the audit
# must fail (65) and name FILE.
tamper() {
  local name=$1 file=$2
  shift 2
  rm -rf "T-$name"
  cp -r A/S "T-$name"
  (cd "T-$name" && "$@")
  expect_exit 65 secagg-collect audit --session "T-$name"
  expect_err "secagg-collect: error: audit: " "T-$name/$file"
}
for f in params.msg advert-2.msg roster.msg share-keys-3.msg inbox-1.msg u2.msg masked-2.msg masked-sum.vec \
  survivors.msg signature-4.msg consistency.msg unmask-1.msg aggregate.vec; do
  # One byte of the body changed, not re-sealed: the checksum no longer holds.
  tamper "byte-$f" "$f" xorbyte "$f" 45 1 "$f"
done
swap() { mv "$1" tmp.x && mv "$2" "$1" && mv tmp.x "$2"; }
tamper swap-masked masked-1.msg swap masked-1.msg masked-2.msg
expect_err "holds client 2's message, not client 1's"
tamper swap-unmask unmask-2.msg swap unmask-2.msg unmask-3.msg
# Server files re-sealed with a changed body: valid files, but not what the clients' messages make.
for f in roster.msg inbox-2.msg u2.msg survivors.msg consistency.msg aggregate.vec; do
  tamper "resealed-$f" "$f" forge flip "$f" -1 "$f"
  expect_err "is not what the round's"
done
# A signature dropped from the transcript: the replay's consistency message has three, the stored
# one four; and a stored consistency message whose last signature was changed.
tamper drop-signature consistency.msg rm signature-4.msg
tamper change-signature consistency.msg forge flip consistency.msg -30 consistency.msg

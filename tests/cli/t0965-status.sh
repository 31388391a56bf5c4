#!/usr/bin/env bash
# t0965-status: secagg-collect status (issue 14, item 1) after every step of a session in file
# mode, as text and as JSON: an honest-but-curious session with a dropout in rounds 2 and 4 and a
# round that aborts, an active session (round 3, U5), and SecAgg+ sessions, where the margin is
# the tightest neighbourhood's and a negative one is a session that cannot finish. Then status
# while serve runs a session over TCP, and after that session aborted; a missing directory, one
# without params.msg and corrupted files. Status never writes into the directory.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

R16=65536

# status DIR: the text status of session DIR into status.txt, which must succeed, print nothing on
# stderr and leave the directory as it was; JSON into status.json likewise.
status() {
  snapshot "$1"
  expect_exit 0 secagg-collect status --session "$1" >status.txt
  check "status writes nothing on stderr" test -z "$LAST_STDERR"
  expect_exit 0 secagg-collect status --session "$1" --json >status.json
  assert_unchanged "$1"
}
# line TEXT...: status.txt has each TEXT as a whole line.
line() {
  local l
  for l; do
    if grep -Fxq -- "$l" status.txt; then
      pass
    else
      fail "status has no line '$l'"
      sed 's/^/    status: /' status.txt >&2
    fi
  done
}
# js DESCRIPTION PYTHON: the expression holds for d, the parsed status.json.
js() {
  pycheck "$1" "import json; d = json.load(open('status.json')); r = {x['round']: x for x in d['rounds']}
assert $2, d"
}

section "no session: a missing directory, a file, a directory without params.msg (66)"
expect_exit 66 secagg-collect status --session nowhere
expect_err "secagg-collect: error: nowhere: no such session directory (secagg-collect setup --session nowhere makes one)"
touch plain
expect_exit 66 secagg-collect status --session plain
expect_err "plain: not a directory"
mkdir empty
expect_exit 66 secagg-collect status --session empty
expect_err "empty/params.msg: missing (it is written by secagg-collect setup)"
expect_exit 64 secagg-collect status
expect_err "--session is required"

section "honest-but-curious: status after every step; 5 drops in round 2, 4 in round 4"
must secagg-collect setup --session S --clients 5 --threshold 3 --modulus-bits 16 --length 4
status S
line "parameters  5 clients, threshold 3, honest-but-curious" \
  "            full SecAgg: each client shares with the 4 others" \
  "            vectors of 4 elements mod 2^16 (aes128ctr masks)" \
  "round 0     pending  advertise-keys messages from clients 1-5" \
  "round 1     pending" "round 2     pending" "round 4     pending" \
  "margin      2 more dropouts are safe (5 clients, t = 3)" \
  "can compute nothing about the inputs" \
  "next        secagg-collect keys --session S FILE..." \
  "            FILE: the advertise-keys messages of clients 1-5 (secagg-keygen)"
check "no round 3 in an honest-but-curious session" test "$(grep -c '^round ' status.txt)" = 4
check "the session id" grep -q "^session     S (id $(secagg-inspect --json S/params.msg |
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)["session"])'))$" status.txt
js "JSON: round 0 pending, expecting 1..5, nothing saved" \
  "d['pending'] == 0 and r[0]['state'] == 'pending' and r[0]['expected'] == [1, 2, 3, 4, 5] and r[0]['saved'] == []
assert [x['round'] for x in d['rounds']] == [0, 1, 2, 4] and r[1]['expected'] is None and d['sets'] == {}
assert d['margin'] == {'set': None, 'size': 5, 'threshold': 3, 'left': 2, 'safe': 2, 'neighbourhood': None}
assert d['can_compute'] == 'nothing' and d['aggregate'] is None and d['next'].startswith('secagg-collect keys ')
assert d['parameters']['clients'] == 5 and d['parameters']['threat_model'] == 'honest-but-curious'"

for i in 1 2 3 4 5; do
  must secagg-keygen --params S/params.msg --id "$i" --state "c$i" -o "adv$i.msg"
  gen_input "$i" 4 "$R16" >"x$i.txt"
done
must secagg-collect keys --session S adv*.msg
status S
line "round 0     done     U1 = 1-5 (5 clients)" \
  "round 1     pending  share-keys messages from U1 = 1-5" \
  "margin      2 more dropouts are safe (U1 has 5 clients, t = 3)" \
  "next        secagg-collect shares --session S FILE..." \
  "            FILE: the share-keys messages of U1 (secagg-share)"
js "JSON: U1, round 1 pending" \
  "d['pending'] == 1 and d['sets'] == {'U1': [1, 2, 3, 4, 5]} and r[0]['dropped'] == [] and r[1]['expected'] == [1, 2, 3, 4, 5]"

for i in 1 2 3 4 5; do must secagg-share --state "c$i" --roster S/roster.msg -o "sh$i.msg"; done
must secagg-collect shares --session S sh*.msg
status S
line "round 1     done     U2 = 1-5 (5 clients)" \
  "round 2     pending  masked-input messages from U2 = 1-5" \
  "next        secagg-collect masked --session S FILE..."

for i in 1 2 3 4; do must secagg-mask --state "c$i" --inbox "S/inbox-$i.msg" --input "x$i.txt" -o "m$i.msg"; done
must secagg-collect masked --session S m1.msg m2.msg m3.msg m4.msg
status S
line "round 2     done     U3 = 1-4 (4 clients); dropped: 5" \
  "round 4     pending  unmask-shares messages from U3 = 1-4" \
  "margin      1 more dropout is safe (U3 has 4 clients, t = 3)" \
  "can compute nothing about the inputs (it holds only their masked sum)" \
  "next        secagg-collect unmask --session S --text FILE..." \
  "            FILE: the unmask-shares messages of U3 (secagg-unmask)"
js "JSON: U3 and who dropped in round 2" \
  "d['pending'] == 4 and d['sets']['U3'] == [1, 2, 3, 4] and r[2]['dropped'] == [5] and r[4]['expected'] == [1, 2, 3, 4]
assert d['margin']['set'] == 'U3' and d['margin']['left'] == 1 and d['can_compute'] == 'nothing'"

section "a round that aborts leaves nothing: status shows it pending, and says so after the rerun"
for i in 1 2 3; do must secagg-unmask --state "c$i" --survivors S/survivors.msg -o "u$i.msg"; done
expect_exit 1 secagg-collect unmask --session S u1.msg u2.msg
cp status.txt before-abort.txt
status S
check "the aborted round reads as before it" cmp -s before-abort.txt status.txt
expect_exit 0 secagg-collect unmask --session S --text -o sum.txt u1.msg u2.msg u3.msg
check_sum sum.txt x1.txt x2.txt x3.txt x4.txt "$R16"
status S
line "round 4     done     U4 = 1-3 (3 clients); dropped: 4" \
  "margin      none needed: the session is done" \
  "can compute the sum of the inputs of U3 (4 clients): S/aggregate.vec" \
  "next        secagg-inspect --text S/aggregate.vec" \
  "            prints the sum; the session is done"
js "JSON: done, U4, the sum" \
  "d['pending'] is None and d['margin'] is None and d['sets']['U4'] == [1, 2, 3] and r[4]['dropped'] == [4]
assert d['can_compute'] == 'sum' and d['aggregate'] == 'S/aggregate.vec'
assert list(d['sets']) == ['U1', 'U2', 'U3', 'U4']"
# What status tells next runs as it is printed.
next=$("$PY" -c 'import json; print(json.load(open("status.json"))["next"])')
check "the next command prints the sum" cmp -s sum.txt <(bash -c "$next")

section "corrupted files: 65, naming the file; status reads what is there, nothing more"
cp -r S bad
xorbyte bad/survivors.msg 45 1 bad/survivors.msg
expect_exit 65 secagg-collect status --session bad
expect_err "bad/survivors.msg"
rm -r bad && cp -r S bad
forge survivors S/params.msg "1,2,7" bad/survivors.msg
expect_exit 65 secagg-collect status --session bad
expect_err "bad/survivors.msg: U3 is not a sorted part of U2"
rm -r bad && cp -r S bad
xorbyte bad/params.msg 45 1 bad/params.msg
expect_exit 65 secagg-collect status --session bad
expect_err "bad/params.msg"

section "active: round 3 forms U4 (the signers), round 4 U5; 6 drops in round 2, 5 does not sign"
make_identities 6
must secagg-collect setup --session A --clients 6 --modulus-bits 16 --length 4 --threat-model active --ca ca.pub
status A
line "parameters  6 clients, threshold 4, active, up to C = 1 corrupted" \
  "round 3     pending" "margin      2 more dropouts are safe (6 clients, t = 4)"
js "JSON: an active session has round 3" \
  "[x['round'] for x in d['rounds']] == [0, 1, 2, 3, 4] and d['parameters']['threat_model'] == 'active'
assert [x['set'] for x in d['rounds']] == ['U1', 'U2', 'U3', 'U4', 'U5']"
for i in 1 2 3 4 5 6; do
  must secagg-keygen --params A/params.msg --id "$i" --state "a$i" --identity "id$i.key" --cert "id$i.cert" \
    -o "aadv$i.msg"
done
must secagg-collect keys --session A aadv*.msg
for i in 1 2 3 4 5 6; do must secagg-share --state "a$i" --roster A/roster.msg -o "ash$i.msg"; done
must secagg-collect shares --session A ash*.msg
for i in 1 2 3 4 5; do must secagg-mask --state "a$i" --inbox "A/inbox-$i.msg" --input "x$i.txt" -o "am$i.msg"; done
must secagg-collect masked --session A am*.msg
status A
line "round 2     done     U3 = 1-5 (5 clients); dropped: 6" \
  "round 3     pending  consistency-signature messages from U3 = 1-5" \
  "round 4     pending" \
  "margin      1 more dropout is safe (U3 has 5 clients, t = 4)" \
  "next        secagg-collect consistency --session A FILE..." \
  "            FILE: the consistency-signature messages of U3 (secagg-unmask sign)"
for i in 1 2 3 4; do must secagg-unmask sign --state "a$i" --survivors A/survivors.msg -o "asig$i.msg"; done
must secagg-collect consistency --session A asig*.msg
status A
line "round 3     done     U4 = 1-4 (4 clients); dropped: 5" \
  "round 4     pending  unmask-shares messages from U4 = 1-4" \
  "margin      no more dropouts are safe (U4 has 4 clients, t = 4)" \
  "            FILE: the unmask-shares messages of U4 (secagg-unmask)"
js "JSON: U4 the signers, round 4 expects them" \
  "d['sets']['U4'] == [1, 2, 3, 4] and r[3]['dropped'] == [5] and r[4]['expected'] == [1, 2, 3, 4] and d['margin']['left'] == 0"
for i in 1 2 3 4; do
  must secagg-unmask --state "a$i" --survivors A/survivors.msg --consistency A/consistency.msg -o "au$i.msg"
done
must secagg-collect unmask --session A --text -o asum.txt au*.msg
check_sum asum.txt x1.txt x2.txt x3.txt x4.txt x5.txt "$R16"
status A
line "round 4     done     U5 = 1-4 (4 clients)" \
  "can compute the sum of the inputs of U3 (5 clients): A/aggregate.vec"
js "JSON: U5" "d['sets']['U5'] == [1, 2, 3, 4] and d['can_compute'] == 'sum'"

section "SecAgg+: the margin is the tightest neighbourhood's"
# n = 10, k = 4, t = 3: each closed neighbourhood holds 5 clients.
must secagg-collect setup --session P --clients 10 --neighbours 4 --threshold 3 --modulus-bits 16 --length 4
status P
line "            SecAgg+: each client shares with 4 neighbours" \
  "margin      7 more dropouts are safe (10 clients, t = 3)" \
  "            SecAgg+: also t in each neighbourhood, known once U1 is"
for i in $(seq 10); do
  must secagg-keygen --params P/params.msg --id "$i" --state "p$i" -o "padv$i.msg"
  gen_input "$i" 4 "$R16" >"px$i.txt"
done
must secagg-collect keys --session P padv*.msg
status P
line "margin      2 more dropouts are safe: client 1's neighbourhood holds 5 of U1" \
  "            (SecAgg+: t = 3 in each neighbourhood; U1 has 10 in all)"
js "JSON: every neighbourhood holds 5 of U1" \
  "d['margin']['neighbourhood'] == {'client': 1, 'size': 5, 'left': 2} and d['margin']['safe'] == 2 and d['margin']['left'] == 7"
for i in $(seq 10); do must secagg-share --state "p$i" --roster "P/roster-$i.msg" -o "psh$i.msg"; done
must secagg-collect shares --session P psh*.msg
for i in $(seq 9); do must secagg-mask --state "p$i" --inbox "P/inbox-$i.msg" --input "px$i.txt" -o "pm$i.msg"; done
# A copy of the session and of three clients, for the session that cannot finish, below.
cp -r P P3
for i in 1 2 3; do cp "p$i" "q$i"; done
must secagg-collect masked --session P pm[1-9].msg
status P
# 10 dropped: the neighbourhoods holding it keep 4 of U3, the others 5.
line "margin      1 more dropout is safe: client $("$PY" -c 'import json; print(json.load(open("status.json"))["margin"]["neighbourhood"]["client"])')'s neighbourhood holds 4 of U3"
js "JSON: the tightest neighbourhood lost client 10" \
  "d['margin']['neighbourhood']['size'] == 4 and d['margin']['safe'] == 1 and d['margin']['left'] == 6"
for i in $(seq 9); do must secagg-unmask --state "p$i" --survivors P/survivors.msg -o "pu$i.msg"; done
expect_exit 0 secagg-collect unmask --session P --text -o psum.txt pu*.msg
check_sum psum.txt px{1..9}.txt "$R16"

section "SecAgg+: a U3 that leaves a neighbourhood below t is a session that cannot finish"
# U3 = {1, 2, 3} is t clients: every one of the 10 neighbourhoods would have to hold all three, and
# no client neighbours all nine others.
must secagg-collect masked --session P3 pm1.msg pm2.msg pm3.msg
status P3
check "the margin says so" grep -Eq '^margin      none: the session cannot finish: client [0-9]+.s neighbourhood holds [0-2] of U3$' status.txt
js "JSON: a negative margin" "d['margin']['safe'] < 0 and d['margin']['left'] == 0"
# And round 4 does abort: some survivor refuses, or the server cannot rebuild a secret.
files=()
for i in 1 2 3; do
  secagg-unmask --state "q$i" --survivors P3/survivors.msg -o "p3u$i.msg" 2>/dev/null && files+=("p3u$i.msg")
done
expect_exit 1 secagg-collect unmask --session P3 --text -o p3sum.txt "${files[@]}"

section "status while serve runs a session, and after it aborted in round 2"
mkdir net && cd net
must secagg-collect setup --session S --clients 5 --threshold 3 --modulus-bits 16 --length 4
for i in 1 2 3 4 5; do gen_input "$i" 4 "$R16" >"x$i.txt"; done
serve_start --round-timeout 5 -v
net_step keygen 1 2 3 4 5
net_step share 1 2 3 4 5
wait_log 'round 2: open'
net_client mask1 mask 1
net_client mask2 mask 2
wait_log 'round 2: client 1 at .*: accepted'
wait_log 'round 2: client 2 at .*: accepted'
status S
line "round 1     done     U2 = 1-5 (5 clients)" \
  "round 2     pending  masked-input messages from U2 = 1-5; saved: 1-2" \
  "            serve saved 2 of them in S; serve --resume goes on from there"
js "JSON: the saved answers" "d['pending'] == 2 and r[2]['saved'] == [1, 2]"
check "serve was running all along" kill -0 "$SERVE_PID"
serve_wait 1
log_has 'round 2 .*only 2 of 5 clients answered, fewer than the threshold 3'
net_wait mask1 1
net_wait mask2 1
status S
line "round 2     pending  masked-input messages from U2 = 1-5; saved: 1-2" \
  "margin      2 more dropouts are safe (U2 has 5 clients, t = 3)"
cd ..

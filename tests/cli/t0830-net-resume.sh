#!/usr/bin/env bash
# t0830-net-resume: a server SIGKILLed between rounds, and in the middle of rounds 2 and 4,
# restarted with 'serve --resume' on the same port: it continues from its session
# directory, counts the messages saved before the crash, never runs a round twice, and no
# client answers an unmasking request twice; the aggregate is the exact sum.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

RAW="$SECAGG_SRC/tests/cli/rawclient.py"
R16=65536
must secagg-collect setup --session S --clients 5 --threshold 3 --modulus-bits 16 --length 30
for i in 1 2 3 4 5; do gen_input "$i" 30 "$R16" >"x$i.txt"; done

section "rounds 0 and 1, then the server is killed before any masked input arrives"
serve_start --round-timeout 4 -v
SERVE_LISTEN=127.0.0.1:$PORT
net_step keygen 1 2 3 4 5
net_step share 1 2 3 4 5
wait_log 'round 2: open'
serve_kill
check "round 1's files are there" test -f S/u2.msg -a -f S/inbox-5.msg
expect_exit 73 secagg-collect serve --session S --listen 127.0.0.1:0
expect_err "use 'serve --resume'"

section "round 2: clients wait for the restarted server; killed again after three inputs"
for i in 1 2 3; do net_client "mask$i" mask "$i" --connect-timeout 20 -o "masked$i.msg"; done
sleep 0.5
serve_start --round-timeout 4 -v --resume
wait_log '^secagg-collect: round 2: open: expecting 5 clients within 4 s$'
for i in 1 2 3; do wait_log "round 2: client $i at .*: accepted"; done
serve_kill
for i in 1 2 3; do net_wait "mask$i" 75; done
check "a client whose server died says it went away and how to resend" \
  grep -q 'without an answer: it went away .*running this same command again sends the same message again' mask1.err
for i in 1 2 3; do check "S/masked-$i.msg was saved on arrival" cmp -s "S/masked-$i.msg" "masked$i.msg"; done
serve_start --round-timeout 3 -v --resume
wait_log 'round 2: open: expecting 5 clients within 3 s \(3 already answered before the restart\)$'
net_client mask4 mask 4
# Client 1 fetches its answer by sending its saved message again.
timeout 30 "$PY" "$RAW" "$PORT" send masked1.msg --recv survivors1.msg >/dev/null
net_wait mask4 0
log_has '^secagg-collect: round 2: client 5: dropped: no message before the deadline$'
check "client 1 got the survivor set by sending its message again" cmp -s survivors1.msg S/survivors.msg
ids_of() { secagg-inspect --json "$1" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["body"]["ids"])'; }
check "U3 is 1..4" test "$(ids_of S/survivors.msg)" = "1 2 3 4"
cp S/survivors.msg survivors2.msg
cp S/survivors.msg survivors3.msg

section "between rounds 2 and 4, and in round 4 after two answers"
wait_log 'round 4: open'
serve_kill
for i in 1 2; do net_client "unmask$i" unmask "$i" --connect-timeout 20; done
sleep 0.3
serve_start --round-timeout 4 -v --resume
for i in 1 2; do wait_log "round 4: client $i at .*: accepted"; done
serve_kill
for i in 1 2; do net_wait "unmask$i" 75; done
serve_start --round-timeout 4 -v --resume --text
wait_log 'round 4: open: expecting 4 clients within 4 s \(2 already answered before the restart\)$'
net_step unmask 3 4
serve_wait 0
check_sum serve.out x1.txt x2.txt x3.txt x4.txt "$R16"
for i in 1 2 3 4; do check "c$i answered once (stage 4)" grep -q ' stage=4 ' <(secagg-inspect "c$i"); done
# Nobody is asked twice: a second, different unmasking request to client 1 would be refused by
# its own state (the same one only repeats the answer).
forge survivors S/params.msg "1,2,3" other-u3.msg
expect_exit 1 secagg-unmask --state c1 --survivors other-u3.msg -o again.msg
expect_err "already answered an unmasking request"

#!/usr/bin/env bash
# t0800-net-walk: the walk of t0100 over TCP on 127.0.0.1 (secagg-collect serve, and
# --connect/--recv on every client step): the aggregate is the exact plaintext sum, the
# session directory holds the same files as in file mode (and replays with the file-mode
# tools), each client's answers are the server's files; then the client's usage and
# connection errors, an aborted session, and serve's refusal to restart a started session.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

R32=4294967296

section "the walk over TCP: n=5, t=3, R=2^32, length 1000; client 5 drops before round 2"
expect_exit 0 secagg-collect setup --session S --clients 5 --threshold 3 --modulus-bits 32 --length 1000
for i in 1 2 3 4 5; do gen_input "$i" 1000 "$R32" >"x$i.txt"; done
serve_start --round-timeout 3 --text
net_step keygen 1 2 3 4 5
net_step share 1 2 3 4 5
net_step mask 1 2 3 4
net_step unmask 1 2 3 4
serve_wait 0
check_sum serve.out x1.txt x2.txt x3.txt x4.txt "$R32"
check "serve logs nothing but client 5's dropout" test "$(cat serve.log)" = \
  "secagg-collect: round 2: client 5: dropped: no message before the deadline"
for i in 1 2 3 4 5; do
  check "client $i's roster is S/roster.msg" cmp -s "roster$i.msg" S/roster.msg
  check "client $i's inbox is S/inbox-$i.msg" cmp -s "inbox$i.msg" "S/inbox-$i.msg"
done
for i in 1 2 3 4; do
  check "client $i's survivor set is S/survivors.msg" cmp -s "survivors$i.msg" S/survivors.msg
  check "client $i got the aggregate, S/aggregate.vec" cmp -s "aggregate$i.vec" S/aggregate.vec
  check "c$i is at stage 4" grep -q ' stage=4 ' <(secagg-inspect "c$i")
done
check "c5 stayed at stage 1" grep -q ' stage=1 ' <(secagg-inspect c5)
check "c1 is mode 0600" test "$(file_mode c1)" = 600
secagg-inspect --text S/aggregate.vec >agg.txt
check "S/aggregate.vec equals the output" cmp -s agg.txt serve.out

section "the session directory holds what file mode writes"
walk_setup F sum --drop2 5
check "same file names as a file-mode session with the same dropout" \
  test "$(cd S && find . -type f | sort | tr '\n' ' ')" = "$(cd F/S && find . -type f | sort | tr '\n' ' ')"
ids_of() { secagg-inspect --json "$1" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["body"]["ids"])'; }
check "u2.msg holds U2 = 1..5" test "$(ids_of S/u2.msg)" = "1 2 3 4 5"
check "survivors.msg holds U3 = 1..4" test "$(ids_of S/survivors.msg)" = "1 2 3 4"
# Replay rounds 2 and 4 from the transcript with the file-mode tools.
mkdir R
cp S/params.msg S/roster.msg S/u2.msg S/inbox-*.msg R/
expect_exit 0 secagg-collect masked --session R S/masked-1.msg S/masked-2.msg S/masked-3.msg S/masked-4.msg
check "replayed round 2: same masked sum" cmp -s R/masked-sum.vec S/masked-sum.vec
check "replayed round 2: same survivors" cmp -s R/survivors.msg S/survivors.msg
expect_exit 0 secagg-collect unmask --session R S/unmask-1.msg S/unmask-2.msg S/unmask-3.msg S/unmask-4.msg --text \
  -o replay.txt
check "replayed round 4: the same aggregate" cmp -s replay.txt serve.out
for i in 1 2 3 4; do check "R/unmask-$i.msg equals S/unmask-$i.msg" cmp -s "R/unmask-$i.msg" "S/unmask-$i.msg"; done

section "client flags and connection errors"
must secagg-collect setup --session E/S --clients 3 --threshold 2 --modulus-bits 8 --length 4
expect_exit 64 secagg-keygen --params E/S/params.msg --id 1 --state e1 --connect 127.0.0.1:1
expect_err "--connect needs --recv"
expect_exit 64 secagg-keygen --params E/S/params.msg --id 1 --state e1 --recv r.msg
expect_err "--recv needs --connect"
expect_exit 64 secagg-keygen --params E/S/params.msg --id 1 --state e1 --connect nowhere --recv r.msg
expect_err "--connect 'nowhere'" "HOST:PORT"
expect_exit 64 secagg-keygen --params E/S/params.msg --id 1 --state e1 --connect 127.0.0.1:70000 --recv r.msg
# A port nobody listens on: the server cannot be reached (75), and nothing is left behind.
free_port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_exit 75 secagg-keygen --params E/S/params.msg --id 1 --state e1 --connect "127.0.0.1:$free_port" \
  --recv r.msg --connect-timeout 0
expect_err "cannot connect to 127.0.0.1:$free_port"
assert_absent e1 r.msg
expect_exit 75 secagg-keygen --params E/S/params.msg --id 1 --state e1 --connect "127.0.0.1:$free_port" \
  --recv r.msg --connect-timeout 0.5
assert_absent e1
# A server that accepts but never answers: the client's own deadline (75).
"$PY" - >mute.port <<'PYEOF' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True); sys.stdout.close()
c, _ = s.accept(); time.sleep(15)
PYEOF
BG[mute]=$!
for _ in $(seq 100); do [[ -s mute.port ]] && break; sleep 0.05; done
expect_exit 75 secagg-keygen --params E/S/params.msg --id 1 --state e1 --connect "127.0.0.1:$(cat mute.port)" \
  --recv r.msg --timeout 1
expect_err "no answer from the server within 1 s"
kill "${BG[mute]}" 2>/dev/null || true
unset "BG[mute]"

section "-o still writes the outgoing message in socket mode"
cd E
serve_start --round-timeout 2
net_client keygen1 keygen 1
net_client keygen2 keygen 2
net_client keygen3 keygen 3 -o adv3.msg
for i in 1 2 3; do net_wait "keygen$i" 0; done
check "-o wrote the advertise-keys message" grep -q '^adv3.msg: advertise-keys round=0 ' <(secagg-inspect adv3.msg)
check "no message on stdout without -o" test ! -s keygen1.out

section "too few clients: the session aborts (exit 1) and every waiting client is told so by an aborted notice"
net_client share1 share 1
serve_wait 1
check "serve says why on one error line" \
  grep -q '^secagg-collect: error: round 1 (share-keys): only 1 of 3 clients answered, fewer than the threshold' serve.log
check "serve names the clients that dropped" grep -q 'round 1: client 2: dropped: no message before the deadline' serve.log
net_wait share1 1
check "the client says the session aborted, and why" \
  grep -q 'the session aborted: round 1 (share-keys): only 1 of 3 clients answered, fewer than the threshold' share1.err
check "the client's error is one line" test "$(wc -l <share1.err)" = 1
check "nothing of round 1 was written" test ! -e S/u2.msg -a ! -e S/inbox-1.msg

section "serve refuses a started session without --resume, and a finished one"
expect_exit 73 secagg-collect serve --session S --listen 127.0.0.1:0
expect_err "S/roster.msg: already exists" "--resume"
cd ..
expect_exit 73 secagg-collect serve --session S --listen 127.0.0.1:0 --resume
expect_err "S/aggregate.vec: already exists"
expect_exit 64 secagg-collect serve --session S --listen 127.0.0.1
expect_err "--listen '127.0.0.1': no port"
expect_exit 66 secagg-collect serve --session nosuch --listen 127.0.0.1:0

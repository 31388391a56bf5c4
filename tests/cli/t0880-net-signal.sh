#!/usr/bin/env bash
# t0880-net-signal: serve stopped by SIGINT in round 2 and by SIGTERM in round 4 (issue 9,
# item 12): one log line names the round and how to continue, the waiting clients get a
# `stopped` notice (exit 75, saying to rerun the same command), serve exits 130 / 143, and
# 'serve --resume' finishes the session with the exact aggregate once the clients run the same
# commands again, which send the very same messages.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

R16=65536

# serve_signal SIG: send SIG to the server process itself (the child of its timeout wrapper).
serve_signal() { kill "-$1" "$(pgrep -P "$SERVE_PID")"; }

section "SIGINT in round 2 with two clients waiting (n=3, t=2)"
must secagg-collect setup --session S --clients 3 --threshold 2 --modulus-bits 16 --length 10
for i in 1 2 3; do gen_input "$i" 10 "$R16" >"x$i.txt"; done
serve_start --round-timeout 30 -v
net_step keygen 1 2 3
net_step share 1 2 3
for i in 1 2; do net_client "mask$i" mask "$i" -o "masked$i.msg"; done
for i in 1 2; do wait_log "round 2: client $i at .*: accepted"; done
serve_signal INT
serve_wait 130
log_has "^secagg-collect: round 2: stopped by SIGINT \\(2 of the round's messages are saved\\); 'secagg-collect serve --resume --session S' continues this session$"
for i in 1 2; do net_wait "mask$i" 75; done
check "the client says the server stopped, and what to do" grep -q \
  "^secagg-mask: error: 127.0.0.1:$PORT: the server stopped in round 2 (stopped by SIGINT); rerun this same command once it runs again (serve --resume)$" \
  mask1.err
check "the client's error is one line" test "$(wc -l <mask1.err)" = 1
check "round 2 is not closed" test ! -e S/survivors.msg

section "serve --resume; the clients send the same messages again; SIGTERM in round 4"
SERVE_LISTEN="127.0.0.1:$PORT" serve_start --round-timeout 30 -v --resume
# What the clients were told: rerun the same command. It sends the very same message again.
for i in 1 2; do net_client "remask$i" mask "$i" -o "remasked$i.msg"; done
for i in 1 2; do wait_log "round 2: client $i at .*: reconnected and sent its message again"; done
net_step mask 3
for i in 1 2; do
  net_wait "remask$i" 0
  check "client $i sent the same masked input again" cmp -s "masked$i.msg" "remasked$i.msg"
  check "client $i got the survivor set by running the same command again" cmp -s "survivors$i.msg" S/survivors.msg
done
net_client unmask1 unmask 1 -o unmask1.msg
wait_log 'round 4: client 1 at .*: accepted'
serve_signal TERM
serve_wait 143
log_has "^secagg-collect: round 4: stopped by SIGTERM \\(1 of the round's messages are saved\\); 'secagg-collect serve --resume --session S' continues this session$"
net_wait unmask1 75
check "the client says the server stopped in round 4" grep -q 'the server stopped in round 4 (stopped by SIGTERM)' unmask1.err

SERVE_LISTEN="127.0.0.1:$PORT" serve_start --round-timeout 30 -v --resume --text
net_client reunmask1 unmask 1 -o reunmask1.msg
wait_log 'round 4: client 1 at .*: reconnected and sent its message again'
net_step unmask 2 3
net_wait reunmask1 0
check "client 1 sent the same answer again" cmp -s unmask1.msg reunmask1.msg
serve_wait 0
check_sum serve.out x1.txt x2.txt x3.txt "$R16"
check "client 1 got the aggregate by sending its answer again" cmp -s aggregate1.vec S/aggregate.vec

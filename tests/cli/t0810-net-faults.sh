#!/usr/bin/env bash
# t0810-net-faults: socket mode under faults, on 127.0.0.1. Each fault makes one client a
# dropout (or gets its connection refused) with one log line naming it and the reason,
# and the session still yields the exact sum of the survivors' inputs:
#   - a client SIGKILLed while it waits, in each of rounds 0, 1, 2 and 4;
#   - a connection that sends nothing, or a part of a header, and stalls (slowloris);
#   - garbage bytes; a header announcing a frame larger than the session allows;
#   - a valid message of another session; a second copy of a client's message while the
#     client is connected; a message of an earlier round;
#   - a client that disconnects (mid-frame, or while waiting) and reconnects in the round.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

RAW="$SECAGG_SRC/tests/cli/rawclient.py"
raw() { timeout 30 "$PY" "$RAW" "$PORT" "$@"; }
R16=65536

# seconds_below OUT LIMIT: the first field of a rawclient output is below LIMIT.
seconds_below() { awk -v lim="$2" '{ exit !($1 < lim) }' <<<"$1"; }

section "SIGKILL while waiting, one client in each round (n=7, t=4)"
mkdir K && cd K
must secagg-collect setup --session S --clients 7 --threshold 4 --modulus-bits 16 --length 50
for i in 1 2 3 4 5 6 7; do gen_input "$i" 50 "$R16" >"x$i.txt"; done
serve_start --round-timeout 2 -v
# Round 0: client 7 sends its keys and is killed while it waits; its keys stay in U1.
net_client keygen7 keygen 7
wait_log 'round 0: client 7 at .*: accepted'
kill_client keygen7
net_step keygen 1 2 3 4 5 6
wait_log 'round 0: client 7 at .*: disconnected while waiting'
# Round 1: client 7 is gone (dropout); client 6 is killed after sending its shares.
net_client share6 share 6
wait_log 'round 1: client 6 at .*: accepted'
kill_client share6
net_step share 1 2 3 4 5
# Round 2: client 6 never masks; client 5 is killed after sending its masked input.
net_client mask5 mask 5
wait_log 'round 2: client 5 at .*: accepted'
kill_client mask5
net_step mask 1 2 3 4
# Round 4: client 5 never answers; client 4 is killed after answering.
net_client unmask4 unmask 4
wait_log 'round 4: client 4 at .*: accepted'
kill_client unmask4
net_step unmask 1 2 3
serve_wait 0
check_sum <(secagg-inspect --text S/aggregate.vec) x1.txt x2.txt x3.txt x4.txt x5.txt "$R16"
log_has '^secagg-collect: round 1: client 7: dropped: no message before the deadline$'
log_has '^secagg-collect: round 2: client 6: dropped: no message before the deadline$'
log_has '^secagg-collect: round 4: client 5: dropped: no message before the deadline$'
for r in 1:6 2:5 4:4; do
  log_has "^secagg-collect: round ${r%:*}: client ${r#*:} at 127\\.0\\.0\\.1:[0-9]+: disconnected while waiting for the end of the round"
done
ids_of() { secagg-inspect --json "$1" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["body"]["ids"])'; }
check "U2 is 1..6" test "$(ids_of S/u2.msg)" = "1 2 3 4 5 6"
check "U3 is 1..5" test "$(ids_of S/survivors.msg)" = "1 2 3 4 5"
cd ..

section "stalled, garbage, oversized and replayed frames; disconnect and reconnect (n=5, t=3)"
walk_setup O keys -n 5 -t 3 -l 20 -- --modulus-bits 16   # another session, for replays
mkdir B && cd B
must secagg-collect setup --session S --clients 5 --threshold 3 --modulus-bits 16 --length 20
for i in 1 2 3 4 5; do gen_input "$i" 20 "$R16" >"x$i.txt"; done
serve_start --round-timeout 6 --frame-timeout 1 -v
raw idle >idle.out &
BG[idle]=$!
raw header 3 10 >stall.out &    # announces a 10-byte body, then never sends it
BG[stall]=$!
garbage=$(raw bytes 200)
check "garbage is refused at once" seconds_below "$garbage" 0.8
log_has '^secagg-collect: round 0: refused: peer 127\.0\.0\.1:[0-9]+: not a secagg frame \(no SAGG magic\)$'
big=$(raw header 3 1000000000)
check "an oversized frame is refused at once, before its body" seconds_below "$big" 0.8
log_has '^secagg-collect: round 0: refused: client 3 at 127\.0\.0\.1:[0-9]+: frame announces a body of 1000000000 bytes, more than this session allows here \([0-9]+ bytes\)$'
other=$(raw send ../O/adv1.msg)
check "a message of another session is refused at once" seconds_below "$other" 0.8
log_has '^secagg-collect: round 0: refused: client 1 at 127\.0\.0\.1:[0-9]+: round 0 \(advertise-keys\) message from client 1 belongs to session [0-9a-f]+, not this session'
wait "${BG[idle]}"; unset "BG[idle]"
wait "${BG[stall]}"; unset "BG[stall]"
check "a connection that sends nothing is closed after --frame-timeout" seconds_below "$(cat idle.out)" 2.5
check "a stalled frame is closed after --frame-timeout" seconds_below "$(cat stall.out)" 2.5
log_has '^secagg-collect: round 0: refused: peer 127\.0\.0\.1:[0-9]+: no complete message within 1 s of connecting'
log_has '^secagg-collect: round 0: refused: client 3 at 127\.0\.0\.1:[0-9]+: no complete message within 1 s of connecting'
net_client keygen1 keygen 1 -o adv1.msg
for i in 2 3 4 5; do net_client "keygen$i" keygen "$i"; done
for i in 1 2 3 4 5; do net_wait "keygen$i" 0; done
check "round 0 closed with all five" grep -q 'round 0: closed: 5 of 5 clients answered' serve.log

# Round 1. Client 2 sends its shares, hangs up while it waits, connects again with the same
# message and gets its inbox. A copy of that message on a third connection, while the second
# is open, is refused; so is client 1's round-0 message sent again.
must secagg-share --state c2 --roster roster2.msg --threads 1 -o shares2.msg
raw send shares2.msg --linger 0.3
wait_log 'round 1: client 2 at .*: disconnected while waiting'
raw send shares2.msg --recv inbox2.msg >reconnect.out &
BG[reconnect]=$!
wait_log 'round 1: client 2 at .*: reconnected and sent its message again'
dup=$(raw send shares2.msg)
check "a second copy while client 2 is connected is refused at once" seconds_below "$dup" 0.8
log_has '^secagg-collect: round 1: refused: client 2 at 127\.0\.0\.1:[0-9]+: duplicate: this round 1 message of client 2 already arrived on a connection that is still open'
old=$(raw send adv1.msg)
check "a round-0 message in round 1 is refused at once" seconds_below "$old" 0.8
log_has '^secagg-collect: round 1: refused: client 1 at 127\.0\.0\.1:[0-9]+: is a round 0 \(advertise-keys\) message from client 1, expected a round 1 \(share-keys\) message$'
net_step share 1 3 4 5
wait "${BG[reconnect]}"; unset "BG[reconnect]"
check "the reconnected client 2 got its inbox" cmp -s inbox2.msg S/inbox-2.msg

# Round 2. Client 3 sends half its masked input and hangs up, then sends it whole.
must secagg-mask --state c3 --inbox inbox3.msg --input x3.txt --threads 1 -o masked3.msg
raw send masked3.msg --half --linger 0.2
wait_log 'round 2: client 3 at .*: disconnected after [0-9]+ of [0-9]+ bytes of a message'
raw send masked3.msg --recv survivors3.msg >/dev/null &
BG[mask3]=$!
net_step mask 1 2 4 5
wait "${BG[mask3]}"; unset "BG[mask3]"
check "client 3, reconnected mid-round, got the survivor set" cmp -s survivors3.msg S/survivors.msg
check "client 3 is in U3" cmp -s S/masked-3.msg masked3.msg
net_step unmask 1 2 3 4 5
serve_wait 0
check_sum <(secagg-inspect --text S/aggregate.vec) x1.txt x2.txt x3.txt x4.txt x5.txt "$R16"
check "the real clients never saw a refusal" test -z "$(cat ./*.err)"
cd ..

section "a round-0 advert repeating another client's keys is refused, not fatal (n=4, t=3)"
mkdir C && cd C
must secagg-collect setup --session S --clients 4 --threshold 3 --modulus-bits 16 --length 20
for i in 1 2 3 4; do gen_input "$i" 20 "$R16" >"x$i.txt"; done
serve_start --round-timeout 6 -v
net_client keygen1 keygen 1 -o adv1.msg
wait_log 'round 0: client 1 at .*: accepted'
# Client 4's advert, but carrying client 1's two X25519 keys (its own signing key, validly signed).
must secagg-keygen --params S/params.msg --id 4 --state c4x -o adv4x.msg
must forge copykeys adv1.msg adv4x.msg bad4.msg --sign c4x
bad=$(raw send bad4.msg)
check "the copied keys are refused at once" seconds_below "$bad" 0.8
log_has '^secagg-collect: round 0: refused: client 4 at 127\.0\.0\.1:[0-9]+: round 0 \(advertise-keys\) from client 4 repeats a public key that client 1 advertised$'
for i in 2 3 4; do net_client "keygen$i" keygen "$i"; done
for i in 1 2 3 4; do net_wait "keygen$i" 0; done
check "round 0 closed with all four" grep -q 'round 0: closed: 4 of 4 clients answered' serve.log
net_step share 1 2 3 4
net_step mask 1 2 3 4
net_step unmask 1 2 3 4
serve_wait 0
check_sum <(secagg-inspect --text S/aggregate.vec) x1.txt x2.txt x3.txt x4.txt "$R16"
cd ..

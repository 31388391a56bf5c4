#!/usr/bin/env bash
# t0870-net-notices: serve says why before it closes a client's connection without an answer
# (issue 9, items 1, 4 and 12; docs/network.md, "Notices"), and the client acts on it:
#   retry    it waits, connects again and sends the same bytes, within --timeout (exit 0);
#   refused  exit 65 with the server's reason;
#   aborted  exit 1 with the server's reason.
# (stopped: t0880; a close with no notice, exit 75: t0830.)
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

RAW="$SECAGG_SRC/tests/cli/rawclient.py"

section "retry: every connection slot is taken; the client is told to retry and gets in (n=2, t=2)"
must secagg-collect setup --session S --clients 2 --threshold 2 --modulus-bits 16 --length 4
printf '1\n2\n3\n4\n' >x1.txt
printf '5\n6\n7\n8\n' >x2.txt
serve_start --round-timeout 8 --frame-timeout 2 --max-connections 2 -v
# Two stalled frames claiming client 2 take both slots (identified: neither is dropped for a newcomer).
for k in 1 2; do
  timeout 30 "$PY" "$RAW" "$PORT" header 2 100 >"stall$k.out" &
  BG[stall$k]=$!
done
for ((k = 0; k < 100; k++)); do
  (($(grep -c 'round 0: client 2 at .*: sends a' serve.log || true) == 2)) && break
  sleep 0.05
done
log_count 'round 0: client 2 at .*: sends a 236-byte message$' 2
net_client keygen1 keygen 1
wait_log 'round 0: refused: peer .*: already 2 connections open \(--max-connections\); told to retry in 1 s$'
wait_log 'round 0: client 1 at .*: accepted' 10
net_client keygen2 keygen 2
net_wait keygen1 0
net_wait keygen2 0
for k in 1 2; do
  wait "${BG[stall$k]}"
  unset "BG[stall$k]"
  check "stalled frame $k was told to retry" grep -q ' notice retry$' "stall$k.out"
done

section "refused: a different second message from the same client (exit 65, with the reason)"
cp c1 c1.before
net_client share1 share 1
wait_log 'round 1: client 1 at .*: accepted'
expect_exit 65 secagg-share --state c1.before --roster roster1.msg --threads 1 --connect "127.0.0.1:$PORT" \
  --recv other.msg
expect_err "127.0.0.1:$PORT: the server refused this message: " \
  "client 1 already sent a different round 1 (share-keys) message"
log_has 'round 1: refused: client 1 at .*: client 1 already sent a different round 1 \(share-keys\) message$'
net_client share2 share 2
net_wait share1 0
net_wait share2 0

section "aborted: too few clients at the round's deadline (exit 1, with the reason)"
net_client mask1 mask 1
serve_wait 1
net_wait mask1 1
check "the client says the session aborted, and why" \
  grep -q "127.0.0.1:$PORT: the session aborted: round 2 (masked-input): only 1 of 2 clients answered" mask1.err
check "the client's error is one line" test "$(wc -l <mask1.err)" = 1

#!/usr/bin/env bash
# t0862-net-claims: headers are unauthenticated, but claiming a client's id cannot evict that
# client's frame while it arrives (docs/network.md, "Connection budgets"). Client 1 uploads its
# 4 MiB masked input through a proxy throttled to 2 MB/s while an attacker sends two header-only
# frames claiming client 1 every 100 ms: client 1's frame keeps the pace its --frame-timeout
# needs, so each new claim turns away a stalled one (or itself), never the upload. (Before, a
# third claim turned the oldest frame away, the honest one: it was told to retry, over and over,
# until its --timeout: exit 75.)
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

RAW="$SECAGG_SRC/tests/cli/rawclient.py"
fails() { ! "$@"; }
L=1048576
R32=4294967296

section "two claims of client 1 every 100 ms during its throttled upload (n=3, t=2, 2^20 elements)"
must secagg-collect setup --session S --clients 3 --threshold 2 --modulus-bits 32 --length "$L"
for i in 1 2 3; do gen_input "$i" "$L" "$R32" >"x$i.txt"; done
serve_start --round-timeout 60 --frame-timeout 10 -v
net_step keygen 1 2 3
net_step share 1 2 3
wait_log 'round 2: open'
timeout 100 "$PY" "$RAW" "$PORT" proxy proxy.port --rate 2000000 --max-seconds 90 >proxy.out &
BG[proxy]=$!
for ((k = 0; k < 200; k++)); do [[ -s proxy.port ]] && break; sleep 0.05; done
check "the proxy listens" test -s proxy.port
timeout 100 "$PY" "$RAW" "$PORT" claims 1 $((4 * L)) --type 6 --round 2 --every 0.1 --count 2 --until stop.claims \
  --max-seconds 80 >claims.out &
BG[claims]=$!
wait_log 'round 2: refused: client 1 at .*; told to retry in 1 s$'
# Client 1 through the proxy (about 2 s for its frame), clients 2 and 3 directly.
timeout 60 "$SECAGG_BIN/secagg-mask" --state c1 --inbox inbox1.msg --input x1.txt --recv survivors1.msg --threads 1 \
  --connect "127.0.0.1:$(cat proxy.port)" --timeout 40 >mask1.out 2>mask1.err &
BG[mask1]=$!
net_step mask 2 3
net_wait mask1 0
touch stop.claims
net_wait claims 0
log_has 'round 2: client 1 at .*: accepted'
log_has 'round 2: closed: 3 of 3 clients answered'
# The attacker was busy all along: its claims were turned away, never client 1's upload.
check "the attacker sent at least 20 claims" awk '$1 == "sent" && $2 >= 20 { ok = 1 } END { exit !ok }' claims.out
check "client 1 connected once: its upload was never turned away" grep -qx 'connected 1' proxy.out
check "and only once" fails grep -q 'connected 2' proxy.out
net_step unmask 1 2 3
serve_wait 0
check_sum <(secagg-inspect --text S/aggregate.vec) x1.txt x2.txt x3.txt "$R32"

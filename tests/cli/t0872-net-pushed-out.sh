#!/usr/bin/env bash
# t0872-net-pushed-out: connections pushed out by newer ones do not cost honest clients their
# round (docs/network.md, "Connection budgets" and "Notices"):
#   - a TLS client still in its handshake cannot be told to retry; the server closes it, and the
#     client tries again on its own within --connect-timeout (before: exit 1, "the server closed
#     the connection during the handshake");
#   - when too many turned-away connections are closing, those that never sent a header are
#     closed first: idle churn does not close the connections of clients that identified
#     themselves before they have read their retry notice (before: the oldest went first).
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

RAW="$SECAGG_SRC/tests/cli/rawclient.py"
R16=65536

section "a TLS client pushed out during its handshake connects again (n=2, t=2, --max-unidentified 2)"
mkdir T && cd T
tls_certs
must secagg-collect setup --session S --clients 2 --threshold 2 --modulus-bits 16 --length 4
for i in 1 2; do gen_input "$i" 4 "$R16" >"x$i.txt"; done
serve_start --round-timeout 30 --frame-timeout 5 --max-unidentified 2 -v --tls-cert server.pem --tls-key server.key
NET_CLIENT_ARGS=(--tls-ca ca.pem)
# Client 1 goes through a proxy that holds its first ClientHello back for 3 s; meanwhile two
# idle connections push that connection out of the unidentified budget.
timeout 60 "$PY" "$RAW" "$PORT" proxy proxy.port --hold-first 3 --max-seconds 50 >proxy.out &
BG[proxy]=$!
for ((k = 0; k < 200; k++)); do [[ -s proxy.port ]] && break; sleep 0.05; done
timeout 60 "$SECAGG_BIN/secagg-keygen" --params S/params.msg --id 1 --state c1 --recv roster1.msg \
  --connect "127.0.0.1:$(cat proxy.port)" --tls-ca ca.pem --timeout 30 >keygen1.out 2>keygen1.err &
BG[keygen1]=$!
for ((k = 0; k < 200; k++)); do grep -qs '^connected 1' proxy.out && break; sleep 0.05; done
check "client 1's first connection reached the server" grep -qx 'connected 1' proxy.out
for k in 1 2; do
  timeout 30 "$PY" "$RAW" "$PORT" idle >"idle$k.out" &
  BG[idle$k]=$!
done
wait_log 'round 0: refused: peer .*: turned away to make room for a newer connection: 2 connections have not sent a header yet \(--max-unidentified\)$'
net_client keygen2 keygen 2
net_wait keygen1 0
net_wait keygen2 0
check "client 1 connected again" grep -qx 'connected 2' proxy.out
net_step share 1 2
net_step mask 1 2
net_step unmask 1 2
serve_wait 0
check_sum <(secagg-inspect --text S/aggregate.vec) x1.txt x2.txt "$R16"
NET_CLIENT_ARGS=()
cd ..

section "idle churn closes idle connections first, not those told to retry (n=3, --max-unidentified 4)"
mkdir C && cd C
must secagg-collect setup --session S --clients 3 --threshold 2 --modulus-bits 16 --length 4
serve_start --round-timeout 30 --frame-timeout 10 --max-unidentified 4 -v
# Six header-only frames claim client 1: four are turned away with a retry notice and stay
# closing (the server drains them until their client closes, or --frame-timeout).
timeout 30 "$PY" "$RAW" "$PORT" headers 6 1 236 --hold 4 --probe >claims.out &
BG[claims]=$!
for ((k = 0; k < 200; k++)); do
  (($(grep -c 'round 0: refused: client 1 at' serve.log || true) >= 4)) && break
  sleep 0.05
done
log_count 'round 0: refused: client 1 at .*; told to retry in 1 s$' 4
# 20 idle connections, each opened again when closed, push each other out meanwhile.
timeout 30 "$PY" "$RAW" "$PORT" idleflood 20 --until stop.flood --max-seconds 20 >flood.out &
BG[flood]=$!
wait_log 'round 0: refused: peer .*--max-unidentified'
net_wait claims 0
touch stop.flood
net_wait flood 0
check "the flood reconnected" awk '$1 == "reconnects" && $2 > 0 { ok = 1 } END { exit !ok }' flood.out
# Each turned-away claim got its notice and was then still drained, not closed under it.
check "four retry notices, none of them closed by the server ($(tail -1 claims.out))" \
  grep -Eq '^closed 4 retry 4 aborted 0 refused 0 stopped 0 reset 0$' claims.out
serve_kill
cd ..

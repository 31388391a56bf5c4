#!/usr/bin/env bash
# t0840-net-load: make bench's socket-mode load test (bench/net_load) end to end at a small
# size, so that it cannot rot. 60 clients, all threads of one process, each with its own
# connection to a real `secagg-collect serve` on 127.0.0.1; 3 of them never send their masked
# input. net_load exits 0 only if the aggregate the server prints is the plaintext sum of the
# 57 survivors' inputs, every survivor received it, and the server's log names exactly the 3
# dropouts. Then the server's descriptor budget: with an open-file limit of 80 it refuses the
# connections beyond it (one line each, no busy loop) and the survivors' session still completes,
# and net_load reports the refused clients as a failure.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

LOAD=$SECAGG_BIN/net_load
must test -x "$LOAD"

section "60 clients over loopback, 3 dropouts"
expect_exit 0 timeout 60 "$LOAD" --tools "$SECAGG_BIN" --clients 60 --length 100 --dropout 0.05 --round-timeout 5 \
  --cpu 2 --server-threads 1 --quiet --csv load.csv --dir run1 >out1.txt
check "one summary line, result OK" grep -Eq '^net_load n=60 k=50 t=26 length=100 bits=24 dropouts=3 result=OK ' out1.txt
# All 57 survivors wait on their connections while round 2 runs into its deadline: the server
# holds them all at once (plus its own descriptors).
fds=$(sed -n 's/.* server_peak_fds=\([0-9]*\) .*/\1/p' out1.txt)
check "the server held every survivor's connection at once (peak $fds descriptors)" test "${fds:-0}" -ge 57
check "CSV: a header and one row" test "$(wc -l <load.csv)" -eq 2
check "CSV row says OK" grep -q '^60,50,26,100,24,3,2,1,5,OK,' load.csv
check "the session directory is complete" test -s run1/S/aggregate.vec
check "the server logged the 3 dropouts and nothing else" test "$(grep -c 'round 2: client [0-9]*: dropped' run1/serve.log)" -eq 3

section "the server's descriptors run out: 60 clients, open-file limit 80"
rc=0
timeout 60 "$LOAD" --tools "$SECAGG_BIN" --clients 60 --length 100 --round-timeout 2 --cpu 2 --server-threads 1 \
  --quiet --server-fd-limit 80 --dir run2 >out2.txt 2>err2.txt || rc=$?
# A client turned away is told to retry (a notice) and comes back while its round is open, so
# whether every client made it depends on how fast the others finished: either all did (exit 0)
# or net_load names the ones that did not (exit 1). Neither hangs nor crashes.
if ((rc == 1)); then
  check "it says which clients failed" grep -q 'net_load: FAIL: [0-9]* clients failed' err2.txt
else
  check "net_load succeeds or names the clients that failed (exit $rc)" test "$rc" -eq 0
fi
check "the server warned about its limit" grep -q 'warning: at most 48 connections can be open at once' run2/serve.log
check "the server refused the connections beyond its budget" grep -q 'refused: .*: already 48 connections open' run2/serve.log
check "no accept busy loop" bash -c "! grep -q 'accepting a connection failed' run2/serve.log"
check "the session of the clients it could take still completed" test -s run2/S/aggregate.vec

section "an explicit --max-connections above the descriptor budget is reported"
rc=0
prlimit --nofile=100:100 "$SECAGG_BIN/secagg-collect" serve --session run1/S --listen 127.0.0.1:0 \
  --max-connections 500 >/dev/null 2>err3.txt || rc=$?
check "serve refuses the finished session (exit $rc)" test "$rc" -eq 73
check "after warning about the budget" grep -q '^secagg-collect: warning: --max-connections 500 is above the 68 connections the open-file limit (ulimit -n 100, hard limit 100) leaves room for$' err3.txt

section "out of descriptors with an explicit --max-connections: accept pauses instead of spinning"
# 100 clients against a server with 50 descriptors that was told to take 500 connections: accept
# fails with EMFILE. Retrying at once would spin (millions of log lines a second); the server
# waits 100 ms between attempts, so a 2 s round logs at most ~20 such lines.
rc=0
timeout 60 "$LOAD" --tools "$SECAGG_BIN" --clients 100 --length 100 --round-timeout 2 --cpu 2 --server-threads 1 \
  --quiet --server-fd-limit 50 --server-max-connections 500 --dir run4 >out4.txt 2>err4.txt || rc=$?
check "net_load fails (exit $rc)" test "$rc" -eq 1
n=$(grep -c 'accepting a connection failed: Too many open files' run4/serve.log || true)
check "the server ran out of descriptors ($n accept failures logged)" test "$n" -ge 1
check "and paced its retries: at most one per 100 ms ($n lines)" test "$n" -le 40

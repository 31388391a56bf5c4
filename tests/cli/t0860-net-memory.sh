#!/usr/bin/env bash
# t0860-net-memory: what serve holds for unfinished frames grows with the bytes received and
# has a budget (issue 9, item 1). 66 connections send only the header of a full round-2 frame
# (a 2^22-element masked input of 32-bit words, 16 MiB) to a session of 3 clients: the server
# used to allocate every announced body at once (about 1.1 GB); now it holds a few kilobytes
# per connection, at most two frames claim one id, and the honest clients still finish with
# the exact aggregate.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

RAW="$SECAGG_SRC/tests/cli/rawclient.py"
L=$((1 << 22))
R32=4294967296

# kib FIELD: the server process's VmRSS or VmHWM, in KiB (its own, not its timeout wrapper's).
kib() {
  local child
  child=$(pgrep -P "$SERVE_PID")
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$child/status"
}

CLAIM_REFUSED='round 2: refused: client [123] at .*: (turned away: its frame fell behind the pace|already 2 unfinished frames claim client [123]).*; told to retry in 1 s$'

section "66 header-only round-2 connections (n=3, t=2, 2^22 elements)"
must secagg-collect setup --session S --clients 3 --threshold 2 --modulus-bits 32 --length "$L"
for i in 1 2 3; do gen_input "$i" "$L" "$R32" >"x$i.txt"; done
serve_start --round-timeout 50 --frame-timeout 6 -v
net_step keygen 1 2 3
net_step share 1 2 3
wait_log 'round 2: open'
base=$(kib VmRSS)
# The largest body round 2 allows: the packed vector and the slack of net::max_client_body.
body=$((L * 4 + 64 + 4096))
timeout 40 "$PY" "$RAW" "$PORT" headers 66 1,2,3 "$body" --type 6 --round 2 --hold 30 >flood.out &
BG[flood]=$!
for ((k = 0; k < 200; k++)); do grep -qs '^sent 66' flood.out && break; sleep 0.05; done
check "the 66 headers went out" grep -q '^sent 66' flood.out
# Every header is read at once: 60 are turned away (two pending frames per claimed id: each new
# claim turns away a stalled one, or is turned away if none has started yet), three
# get their share of --max-pending-bytes (64 MiB: three 16 MiB frames), the others wait for it.
# (Before the fix, every header made the server allocate its body: stop waiting once it has.)
for ((k = 0; k < 200; k++)); do
  (($(grep -Ec "$CLAIM_REFUSED" serve.log || true) >= 60)) && break
  (($(kib VmRSS) > 204800)) && break
  sleep 0.05
done
rss=$(kib VmRSS)
hwm=$(kib VmHWM)
echo "serve: VmRSS ${base} KiB before, ${rss} KiB with the 66 headers in (peak ${hwm} KiB)"
check "serve holds no announced body ($rss KiB resident, at most 200 MB)" test "$rss" -lt 204800
check "serve never held them either (peak $hwm KiB, at most 200 MB)" test "$hwm" -lt 204800
log_count "$CLAIM_REFUSED" 60
log_has 'round 2: client [123] at .*: waits for memory for its 16781512-byte frame \(50344536 bytes of unfinished frames are reserved, --max-pending-bytes 67108864\)$'
# The honest clients turn stalled claims of their ids away and wait for memory behind the
# stalled frames, which the frame deadline ends.
net_step mask 1 2 3
net_wait flood 0
check "the stalled connections got retry notices" grep -Eq '^closed 66 retry 6[0-9] ' flood.out
net_step unmask 1 2 3
serve_wait 0
check_sum <(secagg-inspect --text S/aggregate.vec) x1.txt x2.txt x3.txt "$R32"

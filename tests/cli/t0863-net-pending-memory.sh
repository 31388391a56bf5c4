#!/usr/bin/env bash
# t0863-net-pending-memory: --max-pending-bytes bounds what serve holds for unfinished frames
# (docs/network.md, "Connection budgets"). 60 times, a connection sends all but the last byte of
# a 4 MiB round-2 frame, then two header-only frames claim the same id, and every connection
# stays open and silent. A frame turned away (by a claim, or at its --frame-timeout) frees its
# buffer at once, and a buffer is allocated once at its reservation: the server's peak memory
# stays within its memory before the flood plus the budget plus a small margin. (Before, a
# turned-away frame's buffer stayed allocated while its read was outstanding, and buffers grew
# by doubling: the peak went far past the budget.)
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

RAW="$SECAGG_SRC/tests/cli/rawclient.py"
L=1048576
R32=4294967296
BUDGET=$((24 << 20))   # about five 4 MiB frames
MARGIN_KIB=8192        # per-connection structures, the notices, the allocator's slack

# kib FIELD: the server process's VmRSS or VmHWM, in KiB (its own, not its timeout wrapper's).
kib() {
  local child
  child=$(pgrep -P "$SERVE_PID")
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$child/status"
}

section "60 evictions of almost complete 4 MiB frames (n=3, t=2, 2^20 elements, --max-pending-bytes 24 MiB)"
must secagg-collect setup --session S --clients 3 --threshold 2 --modulus-bits 32 --length "$L"
for i in 1 2 3; do gen_input "$i" "$L" "$R32" >"x$i.txt"; done
serve_start --round-timeout 60 --frame-timeout 2 --max-pending-bytes "$BUDGET" -v
net_step keygen 1 2 3
net_step share 1 2 3
wait_log 'round 2: open'
base=$(kib VmRSS)
timeout 100 "$PY" "$RAW" "$PORT" hog 60 1 $((4 * L)) --type 6 --round 2 --until stop.hog --max-seconds 30 \
  >hog.out &
BG[hog]=$!
for ((k = 0; k < 800; k++)); do grep -qs '^rounds' hog.out && break; sleep 0.05; done
check "the 60 rounds are done" grep -qx 'rounds 60' hog.out
# The last frames are turned away at their --frame-timeout: wait for that, then read the peak.
sleep 3
hwm=$(kib VmHWM)
limit=$((base + BUDGET / 1024 + MARGIN_KIB))
echo "serve: VmRSS ${base} KiB before, peak ${hwm} KiB after (limit ${limit} KiB)"
check "serve's peak ($hwm KiB) is within its memory before + --max-pending-bytes + 8 MiB ($limit KiB)" \
  test "$hwm" -le "$limit"
log_has 'round 2: refused: client 1 at .*: turned away: its frame fell behind the pace it needs .*; told to retry in 1 s$'
log_has 'round 2: refused: client 1 at .*: no complete message within 2 s of connecting \(--frame-timeout\); told to retry in 1 s$'
touch stop.hog
net_wait hog 0
net_step mask 1 2 3
net_step unmask 1 2 3
serve_wait 0
check_sum <(secagg-inspect --text S/aggregate.vec) x1.txt x2.txt x3.txt "$R32"

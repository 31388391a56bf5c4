#!/usr/bin/env bash
# t0820-net-50: a session of 50 clients, each step of each client a separate process,
# all of a round's clients at once, over TCP on 127.0.0.1; three clients drop out before
# round 2 and two more before round 4. The aggregate is the exact sum of U3's inputs.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/net.sh
source "$SECAGG_SRC/tests/cli/net.sh"

N=50
R=4294967296
must secagg-collect setup --session S --clients "$N" --threshold 26 --modulus-bits 32 --length 16
mapfile -t all < <(seq 1 "$N")
mapfile -t u3 < <(seq 1 47)   # 48, 49, 50 never mask
mapfile -t u4 < <(seq 1 45)   # 46, 47 never answer round 4
for i in "${all[@]}"; do gen_input "$i" 16 "$R" >"x$i.txt"; done
serve_start --round-timeout 5 --threads 1 -v
section "round 0: 50 keygen processes"
net_step keygen "${all[@]}"
section "round 1: 50 share processes"
net_step share "${all[@]}"
section "round 2: 47 mask processes"
net_step mask "${u3[@]}"
section "round 4: 45 unmask processes"
net_step unmask "${u4[@]}"
serve_wait 0
xs=()
for i in "${u3[@]}"; do xs+=("x$i.txt"); done
check_sum <(secagg-inspect --text S/aggregate.vec) "${xs[@]}" "$R"
log_has '^secagg-collect: round 0: closed: 50 of 50 clients answered$'
log_has '^secagg-collect: round 1: closed: 50 of 50 clients answered$'
log_has '^secagg-collect: round 2: closed at the deadline: 47 of 50 clients answered$'
log_has '^secagg-collect: round 4: closed at the deadline: 45 of 47 clients answered$'
for i in 48 49 50; do log_has "^secagg-collect: round 2: client $i: dropped: no message before the deadline$"; done
for i in "${u4[@]}"; do check "client $i got the aggregate" cmp -s "aggregate$i.vec" S/aggregate.vec; done
check "no refusals" bash -c "! grep -q refused serve.log"

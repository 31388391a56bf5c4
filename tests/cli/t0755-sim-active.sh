#!/usr/bin/env bash
# t0755-sim-active: secagg-sim --threat-model active runs an active session (certified identities,
# round 3 in which the clients sign U3) in one process. With a client dropping before every round
# (0 to 4) the aggregate matches the plaintext sum of U3 (the tool exits 70 if it does not); the
# sets are U1 to U5, the threshold defaults to floor((n + C)/2) + 1 with C = floor((n - 1)/3);
# round 3 has its row in the table and the CSV, between rounds 2 and 4; fewer than t signers
# abort round 3 and fewer than t responders round 4 (exit 1); SecAgg+ runs active too; round 3
# dropouts stay refused in honest-but-curious runs, and --corrupt, a bad --threat-model, a low
# threshold (per neighbourhood with SecAgg+) and --sparse are usage errors with active.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# shellcheck source=tests/cli/sim.sh
source "$SECAGG_SRC/tests/cli/sim.sh"

section "a client drops before each round 0 to 4 (n=20, C=6 by default, t=14): the exact sum"
expect_exit 0 secagg-sim --clients 20 --length 2000 --threat-model active --drop 0:1 --drop 1:2 --drop 2:3 \
  --drop 3:4 --drop 4:5 --csv every.csv >every.out
# Client 4 sent its masked input and left before signing: it is in U3 (its input in the sum), not U4.
has_all every.out n=20 t=14 k=19 threat=active C=6 U1=19 U2=18 U3=17 U4=16 U5=15 result=OK
check "every: rows 0 1 2 3 4 total" test "$(rows every.out)" = "0 1 2 3 4 total"
check "every: clients per round 19 18 17 16 15" \
  test "$(for r in 0 1 2 3 4; do row_clients every.out $r; done | xargs)" = "19 18 17 16 15"
check "every.csv: a row per round, round 3 between 2 and 4" test "$(csv_col every.csv round)" = "0 1 2 3 4"
check "every.csv: clients" test "$(csv_col every.csv clients)" = "19 18 17 16 15"
check "every.csv: result ok" test "$(csv_col every.csv result)" = "ok ok ok ok ok"
check "every.csv: the active columns" test "$(head -n 1 every.csv | cut -d, -f36-)" = "threat_model,corrupt"
check "every.csv: threat_model" test "$(csv_col every.csv threat_model)" = "active active active active active"
check "every.csv: corrupt" test "$(csv_col every.csv corrupt)" = "6 6 6 6 6"
# Round 3: every signer sends one signature message and receives the consistency message with the
# 16 signatures of U4; the server checks them. Round 4's server removes 17 self masks and, for
# client 3 (gone before round 2), one mask per client of U3: 17 agreements.
check "every.csv: round 3 sent, received and CPU" "$PY" - every.csv <<'EOF'
import csv, sys
r = {row["round"]: row for row in csv.DictReader(open(sys.argv[1]))}
three = r["3"]
ok = 64 < int(three["sent_median_bytes"]) == int(three["sent_max_bytes"]) < 1000
ok &= int(three["received_median_bytes"]) > 16 * 64
ok &= float(three["client_cpu_median_ms"]) > 0 and float(three["server_cpu_ms"]) > 0
ok &= int(three["client_keystream_bytes"]) == 0 and int(three["server_keystream_bytes"]) == 0
ok &= int(r["4"]["unmask_agreements"]) == 17
ok &= int(r["4"]["server_keystream_bytes"]) == (17 + 17) * 2000 * 4
sys.exit(not ok)
EOF

section "SecAgg+: a client drops before each round (n=40, k=16, C=2, t=10 by default): the exact sum"
# c = 2 corrupted clients at most among 16 neighbours (there are only 2): t > (16 + 1 + 2) / 2.
expect_exit 0 secagg-sim --clients 40 --length 300 --threat-model active --neighbours 16 --corrupt 2 --drop 0:1 \
  --drop 1:2 --drop 2:3 --drop 3:4 --drop 4:5 >plus.out
has_all plus.out n=40 t=10 k=16 threat=active C=2 U1=39 U2=38 U3=37 U4=36 U5=35 result=OK
expect_exit 0 secagg-sim --clients 40 --length 300 --threat-model active --neighbours 16 --corrupt 2 \
  --dropout 0.05 --dropout-round 3 --quiet >plus3.out
has_all plus3.out U3=40 U4=38 U5=38 result=OK
# 300 clients, k = 20: an active client's window (out to 40 clients on either side) is a part of
# the ring, so every round-3 and round-4 check runs on the client's own parts of U3 and of the
# consistency message.
expect_exit 0 secagg-sim --clients 300 --length 100 --threat-model active --neighbours 20 --corrupt 5 \
  --drop 1:7 --dropout 0.05 --dropout-round 3 --quiet >plus300.out
has_all plus300.out n=300 t=14 k=20 U2=299 U3=299 U4=284 result=OK

# The same schedule by random dropouts: 2 of 20 at round 3.
expect_exit 0 secagg-sim --clients 20 --length 500 --threat-model active --dropout 0.1 --dropout-round 3 --quiet >r3.out
has_all r3.out U3=20 U4=18 U5=18 result=OK
check "--quiet: one line" test "$(wc -l <r3.out)" = 1
# --corrupt sets C and the threshold with it; a given threshold is kept.
expect_exit 0 secagg-sim --clients 20 --length 500 --threat-model active --corrupt 0 --drop 3:1-9 --quiet >c0.out
has_all c0.out t=11 C=0 U4=11 U5=11 result=OK
expect_exit 0 secagg-sim --clients 10 --length 500 --threat-model active --threshold 9 --quiet >t9.out
has_all t9.out t=9 C=3 U5=10 result=OK

section "too few signers abort round 3, too few responders round 4 (n=10, t=7)"
expect_exit 1 secagg-sim --clients 10 --length 1000 --threat-model active --drop 3:1-4 --csv a3.csv >a3.out
expect_err "round 3" "6 of 10" "threshold 7" "U4 too small"
has_all a3.out U3=10 U4=- U5=- result=ABORTED at round 3
check "a3: rows 0 1 2 3 total" test "$(rows a3.out)" = "0 1 2 3 total"
check "a3.csv: rows up to round 3" test "$(csv_col a3.csv round)" = "0 1 2 3"
check "a3.csv: result aborted" test "$(csv_col a3.csv result)" = "aborted aborted aborted aborted"
expect_exit 1 secagg-sim --clients 10 --length 1000 --threat-model active --drop 4:1-4 --quiet >a4.out
expect_err "round 4" "6 of 10" "threshold 7" "U5 too small"
has_all a4.out U4=10 U5=- result=ABORTED at round 4
# One fewer and both complete.
expect_exit 0 secagg-sim --clients 10 --length 1000 --threat-model active --drop 3:1-3 --quiet >ok3.out
has_all ok3.out U4=7 U5=7 result=OK

section "an honest-but-curious run is as it was: no round 3, no active fields"
expect_exit 0 secagg-sim --clients 10 --length 1000 --drop 4:1 --csv h.csv >h.out
check "h: rows 0 1 2 4 total" test "$(rows h.out)" = "0 1 2 4 total"
check "h: no threat= and no U5= on the summary" test -z "$(summary h.out | grep -E 'threat=|C=|U5=' || true)"
has_all h.out t=6 U4=9 result=OK
check "h.csv: 35 columns" test "$(awk -F, '{ print NF }' h.csv | sort -u)" = 35
check "h.csv: rounds 0 1 2 4" test "$(csv_col h.csv round)" = "0 1 2 4"

section "usage errors"
expect_exit 64 secagg-sim --clients 10 --length 10 --drop 3:1
expect_err "dropout round 3 is not one of 0, 1, 2, 4"
expect_exit 64 secagg-sim --clients 10 --length 10 --threat-model honest-but-curious --dropout 0.1 --dropout-round 3
expect_err "dropout round 3 is not one of 0, 1, 2, 4"
expect_exit 64 secagg-sim --clients 10 --length 10 --corrupt 2
expect_err "--corrupt belongs to an active session"
expect_exit 64 secagg-sim --clients 10 --length 10 --threat-model malicious
expect_err "'malicious' is neither honest-but-curious nor active"
expect_exit 64 secagg-sim --clients 10 --length 10 --threat-model active --drop 5:1
expect_err "dropout round 5 is not one of 0, 1, 2, 3, 4"
expect_exit 64 secagg-sim --clients 10 --length 10 --threat-model active --threshold 6
expect_err "threshold 6 is not above (n + C) / 2 = (10 + 3) / 2"
expect_exit 64 secagg-sim --clients 10 --length 10 --threat-model active --corrupt 10
expect_exit 64 secagg-sim --clients 10 --length 10 --threat-model active --neighbours 6 --threshold 4
expect_err "threshold 4 is not above (k + 1 + c) / 2 = (6 + 1 + 3) / 2"
expect_exit 64 secagg-sim --clients 10 --length 10 --threat-model active --neighbours 5 --threshold 4
expect_err "neighbours is 5; a SecAgg+ session needs an even number"
expect_exit 64 secagg-sim --clients 10 --length 1000 --threat-model active --sparse 100
expect_err "--sparse" "--threat-model active"

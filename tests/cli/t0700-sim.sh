#!/usr/bin/env bash
# t0700-sim: secagg-sim runs whole sessions in one process. With no dropouts and with
# dropouts at each round (random and explicit) the aggregate matches the plaintext sum
# (exit 0, result=OK) and the survivor sets have the sizes the schedule implies; a schedule
# that leaves fewer than t clients aborts at the right round (exit 1, the server's message
# naming it); the CSV has the documented header and one row per round; the keystream each
# stage must expand (client round 2, server round 4) follows from the survivor sets and the
# graph, and the ratios to the measured keystream speed are there; --quiet prints only the
# summary; bad schedules and options are usage errors.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# shellcheck source=tests/cli/sim.sh
source "$SECAGG_SRC/tests/cli/sim.sh"

CSV_HEADER='n,t,k,length,modulus,prg,threads,seed,round,clients,refused,client_cpu_median_ms,client_cpu_max_ms,server_cpu_ms,server_wall_ms,round_wall_ms,sent_median_bytes,sent_max_bytes,received_median_bytes,received_max_bytes,raw_input_bytes,expansion,result,keystream_gbps,client_keystream_bytes,client_limit_ms,client_limit_ratio,server_keystream_bytes,server_limit_ms,recover_cpu_ms,recover_wall_ms,unmask_cpu_ms,unmask_wall_ms,unmask_agreements,unmask_limit_ratio'

section "no dropouts"
expect_exit 0 secagg-sim --clients 10 --length 1000 >none.out
check "table header" grep -q '^round clients  *cpu med ms  *cpu max ms  *server cpu ms  *server wall ms  *sent B  *recv B  *expansion$' none.out
check "rows 0 1 2 4 total" test "$(rows none.out)" = "0 1 2 4 total"
has_all none.out n=10 t=6 k=9 length=1000 R=2^32 prg=aes128ctr seed=1 U1=10 U2=10 U3=10 U4=10 result=OK
check "summary starts with n=" grep -q '^n=10 t=6 ' <(summary none.out)
check "12 lines: header, 5 rows, the client-state line, 4 limit lines, summary" test "$(wc -l <none.out)" = 12
check "client state line" \
  grep -Eq '^client state: [0-9]+ B after round 0, [0-9]+ B after round 1, [0-9]+ B after round 2, [0-9]+ B after round 4 \(median\)$' none.out
check "limit line" grep -q '^limit: aes128ctr keystream at [0-9]*\.[0-9][0-9] GB/s on one core (4-byte mask words)$' none.out
# 10 clients, no dropouts: each masks with its self mask and 9 pairwise masks of 1000 4-byte words.
check "round 2 client keystream" grep -q '^  round 2 client: 0\.0 MB of keystream, limit [0-9.]* ms; CPU [0-9.]* ms median = [0-9.]*x$' none.out
check "round 4 remove_masks" grep -q '^  round 4 server: 0\.0 MB of keystream, limit [0-9.]* ms; remove_masks [0-9.]* ms wall = [0-9.]*x ([0-9.]* ms CPU, 0 X25519)$' none.out
check "round 4 Shamir reconstruction" grep -q "^  round 4 server: Shamir reconstruction [0-9.]* ms wall ([0-9.]* ms CPU) = [0-9.]*% of the server's [0-9.]* ms wall$" none.out

expect_exit 0 secagg-sim --clients 12 --threshold 12 --length 300 --modulus 1000003 --prg chacha20 --threads 1 >all.out
has_all all.out n=12 t=12 R=1000003 prg=chacha20 threads=1 U4=12 result=OK

section "10% of the clients drop at each round (n=20, t=11)"
declare -A WANT=([0]="U1=18 U2=18 U3=18 U4=18" [1]="U1=20 U2=18 U3=18 U4=18" [2]="U1=20 U2=20 U3=18 U4=18"
                 [4]="U1=20 U2=20 U3=20 U4=18")
for r in 0 1 2 4; do
  expect_exit 0 secagg-sim --clients 20 --length 1000 --dropout 0.1 --dropout-round "$r" --seed "$r" >"d$r.out"
  # shellcheck disable=SC2086
  has_all "d$r.out" t=11 ${WANT[$r]} result=OK
  check "d$r: round $r row has 18 clients" test "$(row_clients "d$r.out" "$r")" = 18
done
# The default round is 2; a non-power-of-two modulus and ChaCha20 too.
expect_exit 0 secagg-sim --clients 20 --length 1000 --dropout 0.1 --modulus 4294967291 --prg chacha20 >d2b.out
has_all d2b.out U2=20 U3=18 U4=18 R=4294967291 result=OK
# SecAgg+ (k = 8 neighbours): dropouts within every neighbourhood still unmask.
expect_exit 0 secagg-sim --clients 30 --neighbours 8 --length 1000 --dropout 0.1 >plus.out
has_all plus.out k=8 t=5 U3=27 result=OK

section "explicit drops"
expect_exit 0 secagg-sim --clients 14 --threshold 8 --length 1000 --drop 0:1 --drop 1:2,3 --drop 2:4-5 --drop 4:6 >x.out
has_all x.out U1=13 U2=11 U3=9 U4=8 result=OK
check "x: clients per round 13 11 9 8" test "$(for r in 0 1 2 4; do row_clients x.out $r; done | xargs)" = "13 11 9 8"
check "x: total is over the 8 clients of round 4" test "$(row_clients x.out total)" = 8
# Explicit and random drops add up: 1 listed plus 2 drawn among the others.
expect_exit 0 secagg-sim --clients 20 --length 500 --drop 2:7 --dropout 0.1 >mix.out
has_all mix.out U2=20 U3=17 result=OK

section "a schedule that leaves fewer than t clients aborts at that round (n=10, t=6)"
expect_exit 1 secagg-sim --clients 10 --length 1000 --drop 0:1-5 >a0.out
expect_err "round 0" "5 of 10" "threshold 6"
has_all a0.out U1=- result=ABORTED at round 0
expect_exit 1 secagg-sim --clients 10 --length 1000 --drop 1:1-5 >a1.out
expect_err "round 1" "5 of 10" "threshold 6"
has_all a1.out U1=10 U2=- result=ABORTED at round 1
check "a1: rows 0 1 total" test "$(rows a1.out)" = "0 1 total"
# U3 < t: the masked round aborts; the tool does not report success without a full unmasking.
expect_exit 1 secagg-sim --clients 10 --length 1000 --dropout 0.5 --dropout-round 2 >a2.out
expect_err "round 2" "5 of 10" "threshold 6"
has_all a2.out U2=10 U3=- result=ABORTED at round 2
expect_exit 1 secagg-sim --clients 10 --length 1000 --drop 2:1 --drop 4:2-5 >a4.out
expect_err "round 4" "5 of 9" "threshold 6"
has_all a4.out U3=9 U4=- result=ABORTED at round 4
# One client fewer to drop and the same schedules complete.
expect_exit 0 secagg-sim --clients 10 --length 1000 --drop 1:1-4 --quiet >ok1.out
has_all ok1.out U2=6 result=OK

section "CSV"
expect_exit 0 secagg-sim --clients 10 --length 1000 --csv s.csv >s.out
check "s.csv: documented header" test "$(head -n 1 s.csv)" = "$CSV_HEADER"
check "s.csv: one row per round" test "$(csv_col s.csv round)" = "0 1 2 4"
check "s.csv: every row has 35 fields" test "$(awk -F, '{ print NF }' s.csv | sort -u)" = 35
check "s.csv: clients" test "$(csv_col s.csv clients)" = "10 10 10 10"
check "s.csv: result ok" test "$(csv_col s.csv result)" = "ok ok ok ok"
check "s.csv: raw input is 1000 x 32 bits" test "$(csv_col s.csv raw_input_bytes)" = "4000 4000 4000 4000"
# A masked input is the packed vector plus the envelope and its fields: a little over 4000 bytes.
masked=$(csv_col s.csv sent_median_bytes | cut -d' ' -f3)
check "s.csv: round 2 sends 4000 < bytes < 4200 ($masked)" test "$masked" -gt 4000 -a "$masked" -lt 4200
check "s.csv: round 4 receives nothing" test "$(csv_col s.csv received_max_bytes | cut -d' ' -f4)" = 0
check "s.csv: round 2 expansion" test "$(csv_col s.csv expansion | cut -d' ' -f3)" = "$("$PY" -c "print(f'{$masked/4000:.6f}')")"
check "s.out: the table still goes to stdout" test "$(rows s.out)" = "0 1 2 4 total"
# The keystream: measured once, the same on every row; round 2 clients expand (1 + 9) x 1000 x 4
# bytes, the round 4 server 10 self masks x 1000 x 4 and no pairwise mask.
gbps=$(csv_col s.csv keystream_gbps | cut -d' ' -f1)
check "s.csv: keystream speed measured ($gbps GB/s)" "$PY" -c "import sys; sys.exit(not float('$gbps') > 0.05)"
check "s.csv: one keystream speed" test "$(csv_col s.csv keystream_gbps)" = "$gbps $gbps $gbps $gbps"
check "s.csv: client keystream" test "$(csv_col s.csv client_keystream_bytes)" = "0 0 40000 0"
check "s.csv: server keystream" test "$(csv_col s.csv server_keystream_bytes)" = "0 0 0 40000"
check "s.csv: no agreements without dropouts" test "$(csv_col s.csv unmask_agreements)" = "0 0 0 0"
# The limits are the bytes at the measured speed; the ratios and stage times are there, and only
# there, for the stages that expand keystream.
check "s.csv: limits and ratios" "$PY" - s.csv <<'EOF'
import csv, sys
ok = True
for r in csv.DictReader(open(sys.argv[1])):
    g = float(r["keystream_gbps"])
    for kind, lim in (("client_keystream_bytes", "client_limit_ms"), ("server_keystream_bytes", "server_limit_ms")):
        want = int(r[kind]) / (g * 1e6)
        ok &= abs(float(r[lim]) - want) <= 0.0005 + want * 0.01
    four = r["round"] == "4"
    ok &= (float(r["client_limit_ratio"]) > 0) == (r["round"] == "2")
    ok &= (float(r["unmask_limit_ratio"]) > 0) == four and (float(r["unmask_cpu_ms"]) > 0) == four
    ok &= float(r["recover_cpu_ms"]) >= 0 and (float(r["recover_wall_ms"]) == 0 or four)
sys.exit(not ok)
EOF
# Dropouts before round 2 (n=20, 2 of them): each client of U2 still masks with 19 others; the
# server removes 18 self masks and, for each dropped client, one mask per survivor: 36 agreements.
expect_exit 0 secagg-sim --clients 20 --length 1000 --dropout 0.1 --csv k2.csv >/dev/null
check "k2.csv: client keystream (1 + 19) x 1000 x 4" test "$(csv_col k2.csv client_keystream_bytes | cut -d' ' -f3)" = 80000
check "k2.csv: 36 agreements" test "$(csv_col k2.csv unmask_agreements | cut -d' ' -f4)" = 36
check "k2.csv: server keystream (18 + 36) x 1000 x 4" test "$(csv_col k2.csv server_keystream_bytes | cut -d' ' -f4)" = 216000
# Dropouts at round 1: U2 has 18 clients, and each masks with the 17 others only.
expect_exit 0 secagg-sim --clients 20 --length 1000 --dropout 0.1 --dropout-round 1 --csv k1.csv >/dev/null
check "k1.csv: client keystream (1 + 17) x 1000 x 4" test "$(csv_col k1.csv client_keystream_bytes | cut -d' ' -f3)" = 72000
check "k1.csv: no agreements" test "$(csv_col k1.csv unmask_agreements | cut -d' ' -f4)" = 0
# A modulus that is not a power of two, above 2^24, takes 16-byte words.
expect_exit 0 secagg-sim --clients 10 --length 1000 --modulus 4294967291 --csv k16.csv >/dev/null
check "k16.csv: 16-byte words" test "$(csv_col k16.csv client_keystream_bytes | cut -d' ' -f3)" = 160000
# SecAgg+ (k = 8): a client masks with its 8 neighbours; each of the 3 dropped clients has 6 to 8
# surviving neighbours.
expect_exit 0 secagg-sim --clients 30 --neighbours 8 --length 1000 --dropout 0.1 --csv kp.csv >/dev/null
check "kp.csv: client keystream (1 + 8) x 1000 x 4" test "$(csv_col kp.csv client_keystream_bytes | cut -d' ' -f3)" = 36000
agree=$(csv_col kp.csv unmask_agreements | cut -d' ' -f4)
check "kp.csv: 18 to 24 agreements ($agree)" test "$agree" -ge 18 -a "$agree" -le 24
check "kp.csv: server keystream (27 + agreements) x 4000" test "$(csv_col kp.csv server_keystream_bytes | cut -d' ' -f4)" = $(((27 + agree) * 4000))
# To stdout: nothing but the CSV.
expect_exit 0 secagg-sim --clients 10 --length 1000 --csv - >c.out
check "--csv -: header first" test "$(head -n 1 c.out)" = "$CSV_HEADER"
check "--csv -: header and 4 rows only" test "$(wc -l <c.out)" = 5
# An aborted run still writes the rounds that ran.
expect_exit 1 secagg-sim --clients 10 --length 1000 --drop 1:1-5 --csv a.csv >/dev/null
check "a.csv: rows of rounds 0 and 1" test "$(csv_col a.csv round)" = "0 1"
check "a.csv: result aborted" test "$(csv_col a.csv result)" = "aborted aborted"
check "a.csv: no keystream before round 2" test "$(csv_col a.csv client_keystream_bytes)" = "0 0"
expect_exit 73 secagg-sim --clients 10 --length 100 --csv no/such/dir/x.csv >/dev/null
assert_absent no/such/dir/x.csv

section "--quiet"
expect_exit 0 secagg-sim --clients 10 --length 1000 --quiet >q.out
check "--quiet: one line" test "$(wc -l <q.out)" = 1
has_all q.out n=10 U4=10 result=OK
expect_exit 1 secagg-sim --clients 10 --length 1000 --quiet --drop 2:1-5 >q1.out
check "--quiet abort: one line" test "$(wc -l <q1.out)" = 1

section "progress bar: on a terminal only, once the run takes more than a second"
# expect_exit 0 requires an empty stderr: no bar into a file.
expect_exit 0 secagg-sim --clients 60 --length 1000000 >long.out
has_all long.out U4=60 result=OK
check "long: took more than a second" "$PY" -c "import sys; sys.exit(not float('$(summary long.out)'.split('wall=')[1].split('s')[0]) > 1)"
if command -v script >/dev/null 2>&1; then
  # Under a pseudo-terminal (util-linux script): the bar is drawn, then erased before the table.
  expect_exit 0 script -qec "secagg-sim --clients 60 --length 1000000" /dev/null >tty.out
  check "tty: a bar was drawn" grep -q 'secagg-sim: \[#*-*\] *[0-9]*%  round' tty.out
  check "tty: the bar is erased before the table" grep -q $'\r\033\[Kround clients' tty.out
  check "tty: the result" grep -q 'result=OK' tty.out
  expect_exit 0 script -qec "secagg-sim --clients 60 --length 1000000 --quiet" /dev/null >ttyq.out
  check "tty --quiet: no bar" test -z "$(grep 'secagg-sim: \[' ttyq.out || true)"
else
  echo "$TEST_NAME: script(1) not found: the terminal case is not checked"
fi

section "usage errors"
expect_exit 64 secagg-sim --clients 10 --length 10 --drop 3:1
expect_err "round 3"
expect_exit 64 secagg-sim --clients 10 --length 10 --drop 1:11
expect_err "client 11" "[1, 10]"
expect_exit 64 secagg-sim --clients 10 --length 10 --drop 1:2 --drop 2:2
expect_err "client 2" "round 1 and at round 2"
expect_exit 64 secagg-sim --clients 10 --length 10 --drop 1
expect_exit 64 secagg-sim --clients 10 --length 10 --drop 1:
expect_exit 64 secagg-sim --clients 10 --length 10 --drop 1:5-3
expect_exit 64 secagg-sim --clients 10 --length 10 --drop 1:x
expect_exit 64 secagg-sim --clients 10 --length 10 --dropout 1.5
expect_exit 64 secagg-sim --clients 10 --length 10 --dropout 0.1 --dropout-round 3
expect_exit 64 secagg-sim --clients 10 --length 10 --dropout-round 2
expect_exit 64 secagg-sim --clients 10 --length 10 --modulus-bits 16 --modulus 7
expect_exit 64 secagg-sim --clients 10 --length 10 --threshold 5
expect_err "threshold 5"
expect_exit 64 secagg-sim --clients 10 --length 10 --prg rc4
expect_exit 64 secagg-sim --clients 10
expect_exit 64 secagg-sim --clients 1 --length 10
expect_exit 64 secagg-sim --clients 10 --length 10 --threads 0

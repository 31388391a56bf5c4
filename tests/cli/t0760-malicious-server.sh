#!/usr/bin/env bash
# t0760-malicious-server: a lying server (the test-only `evil`, tests/evil.cpp) against the real
# client tools, in both threat models (docs/security.md, "A lying server beats t > n/2" and
# "Active mode"). Where the server is honest the test runs secagg-collect; evil writes only the
# lies. Each attack asserts its real outcome: what every client does, and what the server can
# reconstruct from whatever the clients revealed.
#   1. per-client survivor sets around a trimmed inbox (the docs' attack): the victim's exact input
#      in honest-but-curious mode; refusals at round 4 and nothing revealed in active mode
#   2. one client alive to some, dropped to others
#   3. a substituted key, a Sybil certified by the server's own CA, another id's certificate
#   4. a consistency message replayed from another session, or over a different U3
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

if [[ ! -x $SECAGG_BIN/evil ]]; then
  fail "$SECAGG_BIN/evil is missing (build first)"
  exit 1
fi

R32=4294967296
L=5  # elements per input: small, the attacks do not depend on it

section "identities: a CA (not the server) certifies clients 1-10"
must secagg-keygen identity -o ca.key
for i in $(seq 1 10); do
  must secagg-keygen identity -o "id$i.key"
  must secagg-keygen certify --ca ca.key --id "$i" --pub "id$i.pub" -o "id$i.cert"
done

# session D N T MODE [CORRUPT]: in a new directory D (the current directory afterwards), the
# session S (R = 2^32, length L; MODE hbc or active, whose CA is ca.pub), clients c1..cN after
# round 0 (certified in active mode) and their inputs x1..xN. Round 0 is left to the caller.
session() {
  local d=$1 n=$2 t=$3 mode=$4 corrupt=${5:-0} i threat=() proof=()
  cd "$WORK"
  mkdir "$d"
  cd "$d"
  [[ $mode == active ]] && threat=(--threat-model active --ca "$WORK/ca.pub" --corrupt "$corrupt")
  must secagg-collect setup --session S --clients "$n" --threshold "$t" --modulus-bits 32 --length "$L" "${threat[@]}"
  for i in $(seq 1 "$n"); do
    [[ $mode == active ]] && proof=(--identity "$WORK/id$i.key" --cert "$WORK/id$i.cert")
    must secagg-keygen --params S/params.msg --id "$i" --state "c$i" "${proof[@]}" -o "adv$i.msg"
    gen_input $((n * 100 + i)) "$L" "$R32" >"x$i.txt"
  done
}

# honest_to_masked N [TRIM]: honest rounds 0 and 1 for clients 1..N through secagg-collect; with
# TRIM (V:IDS), evil trims V's inbox to the bundles of V and IDS; then every client masks its
# input with the inbox it was given and secagg-collect takes round 2.
honest_to_masked() {
  local n=$1 trim=${2:-} i inbox
  must secagg-collect keys --session S adv*.msg
  for i in $(seq 1 "$n"); do must secagg-share --state "c$i" --roster S/roster.msg -o "sh$i.msg"; done
  must secagg-collect shares --session S sh*.msg
  [[ -z $trim ]] || must evil inboxes S --trim "$trim" sh*.msg
  for i in $(seq 1 "$n"); do
    inbox=S/inbox-$i.msg
    [[ -e S/evil/inbox-$i.msg ]] && inbox=S/evil/inbox-$i.msg
    must secagg-mask --state "c$i" --inbox "$inbox" --input "x$i.txt" -o "m$i.msg"
  done
  must secagg-collect masked --session S m*.msg
}

# show_u3 C IDS: evil shows client C the survivor set IDS (S/evil/survivors-C.msg).
show_u3() { must evil survivors S --for "$1" --ids "$2"; }

# The docs' plans (docs/security.md; tests/unit/test_lying_server.cpp): victim 1, W the t - 1
# peers left in its inbox, and the survivor set each client is shown.
# shellcheck disable=SC2034  # read through a nameref in lying_u3
declare -A PLAN5=([1]="1,2,3" [2]="1,2,4" [3]="1,3,4" [4]="1,4,5" [5]="1,4,5")
# shellcheck disable=SC2034
declare -A PLAN10=([1]="1,2,3,4,5,6" [2]="1,2,7,8,9,10" [3]="1,3,7,8,9,10" [4]="1,4,7,8,9,10" [5]="1,5,7,8,9,10"
  [6]="1,6,7,8,9,10" [7]="1,6,7,8,9,10" [8]="1,5,7,8,9,10" [9]="1,2,3,4,7,8,9,10" [10]="1,2,3,4,5,6,7,8,9,10")

# lying_u3 N T MODE [CORRUPT]: attack 1 up to the survivor sets: the victim's inbox trimmed to
# {1} u W, every client shown its own U3 of the plan.
lying_u3() {
  local n=$1 t=$2 i w
  local -n plan=PLAN$n
  session "$3-$n-$t" "$n" "$t" "$3" "${4:-0}"
  w=$(seq -s , 2 "$t")
  honest_to_masked "$n" "1:$w"
  # The victim took the trimmed inbox: its own state says it masked with U2 = {1} u W.
  check "client 1's U2 is 1,$w" test "$(secagg-inspect --json c1 |
    "$PY" -c 'import json, sys; print(",".join(map(str, json.load(sys.stdin)["body"]["u2"])))')" = "1,$w"
  for i in $(seq 1 "$n"); do show_u3 "$i" "${plan[$i]}"; done
}

for nt in "5 3" "10 6"; do
  read -r n t <<<"$nt"
  section "attack 1, honest-but-curious, n = $n, t = $t: per-client survivor sets recover client 1's input"
  lying_u3 "$n" "$t" hbc
  for i in $(seq 1 "$n"); do
    expect_exit 0 secagg-unmask --state "c$i" --survivors "S/evil/survivors-$i.msg" -o "u$i.msg"
  done
  expect_exit 0 evil recover S --victim 1 -o recovered.txt u*.msg
  check "evil recovers exactly client 1's input" cmp -s recovered.txt x1.txt
  check "client 1's masked input is not its input" test "$(secagg-inspect --text S/masked-1.msg)" != "$(cat x1.txt)"
  # No one answer reveals both shares of a client; the answers together do, for W.
  expect_exit 1 evil revealed S -o revealed.txt u*.msg
  expect_err "the answers together reveal shares of both b_u and s_sk_u for u = "
  for w in $(seq 2 "$t"); do
    check "$t shares of s_sk_$w" grep -Eq "^client $w: [0-9]+ shares of b_$w, $t shares of s_sk_$w$" revealed.txt
  done
  check "at least $t shares of b_1" grep -Eq "^client 1: ([$t-9]|[0-9]{2}) shares of b_1, 0 shares of s_sk_1$" revealed.txt
done

for nt in "5 3 0" "10 6 1"; do
  read -r n t corrupt <<<"$nt"
  section "attack 1, active (C = $corrupt), n = $n, t = $t: every client refuses at round 4, nothing is revealed"
  lying_u3 "$n" "$t" active "$corrupt"
  # Round 3: each client signs the set it was shown (its checks pass, as in the hbc run).
  for i in $(seq 1 "$n"); do
    expect_exit 0 secagg-unmask sign --state "c$i" --survivors "S/evil/survivors-$i.msg" -o "sig$i.msg"
  done
  # Round 4: each client gets the best consistency message the server can make for its own set.
  for i in $(seq 1 "$n"); do
    must evil consistency S --for "$i" -o "cons$i.msg" sig*.msg >"cons$i.txt"
    snapshot "c$i"
    expect_exit 1 secagg-unmask --state "c$i" --survivors "S/evil/survivors-$i.msg" --consistency "cons$i.msg" \
      -o "u$i.msg"
    expect_err "signatures over U3, fewer than the threshold $t: refusing to unmask"
    assert_absent "u$i.msg"
    assert_unchanged "c$i"
  done
  largest=$(sed -n 's/.*: \([0-9]*\) signatures over it.*/\1/p' cons*.txt | sort -n | tail -n 1)
  check "the largest group that signed one set has 2 clients, fewer than t (got '$largest')" test "$largest" = 2
  # Padding with the signatures over other sets does not help: they do not verify.
  must evil consistency S --for 4 --include-all -o all4.msg sig*.msg
  expect_exit 1 secagg-unmask --state c4 --survivors S/evil/survivors-4.msg --consistency all4.msg -o u4.msg
  expect_err "does not verify over the survivor set U3 client 4 signed"
  assert_absent u4.msg
  answers=(u*.msg)
  check "no client sent a round-4 answer" test "${#answers[@]}" = 0
  expect_exit 0 evil revealed S "${answers[@]}"
  expect_exit 1 evil recover S --victim 1 "${answers[@]}"
  expect_err "cannot reconstruct client 1's input from 0 round-4 answers: 0 of $t shares of b_1 revealed" \
    "no client's input can be reconstructed from them"
done

# A survivor set that says client 5 survived to clients 1, 2 and 5 (U3 = 1-5) and dropped to 3
# and 4 (U3 = 1-4): the simple attack, shares of b_5 from one group and of s_sk_5 from the other.
for mode in hbc active; do
  section "attack 2, $mode, n = 5, t = 3: client 5 alive to 1, 2, 5 and dropped to 3, 4"
  session "split-$mode" 5 3 "$mode" 0
  honest_to_masked 5
  for i in 1 2 5; do show_u3 "$i" 1,2,3,4,5; done
  for i in 3 4; do show_u3 "$i" 1,2,3,4; done
  if [[ $mode == hbc ]]; then
    # Nothing lets a client see the others' survivor sets: every one answers its own.
    for i in 1 2 3 4 5; do
      expect_exit 0 secagg-unmask --state "c$i" --survivors "S/evil/survivors-$i.msg" -o "u$i.msg"
    done
    expect_exit 1 evil revealed S -o revealed.txt u*.msg
    expect_err "for u = 5: the clients were shown different survivor sets"
    check "3 shares of b_5 and 2 of s_sk_5" grep -qx "client 5: 3 shares of b_5, 2 shares of s_sk_5" revealed.txt
    # t > n/2: the two groups cannot both reach t, so neither b_5 with s_sk_5 nor anything else.
    expect_exit 1 evil recover S --victim 5 u*.msg
    expect_err "b_5 rebuilt" "neither s_sk_5 (2 of 3 shares)" "no client's input can be reconstructed from them"
  else
    for i in 1 2 3 4 5; do
      expect_exit 0 secagg-unmask sign --state "c$i" --survivors "S/evil/survivors-$i.msg" -o "sig$i.msg"
    done
    check "3 signatures over U3 = 1-5" \
      grep -q ": 3 signatures over it (1,2,5)" <(evil consistency S --for 1 -o consA.msg sig*.msg)
    check "2 signatures over U3 = 1-4" \
      grep -q ": 2 signatures over it (3,4)" <(evil consistency S --for 3 -o consB.msg sig*.msg)
    for i in 3 4; do
      snapshot "c$i"
      expect_exit 1 secagg-unmask --state "c$i" --survivors "S/evil/survivors-$i.msg" --consistency consB.msg \
        -o "u$i.msg"
      expect_err "holds 2 signatures over U3, fewer than the threshold 3: refusing to unmask"
      # The majority's consistency message is over another set than the one client i signed.
      expect_exit 1 secagg-unmask --state "c$i" --survivors "S/evil/survivors-$i.msg" --consistency consA.msg \
        -o "u$i.msg"
      expect_err "consistency message is over another survivor set than the U3 client $i signed"
      expect_exit 1 secagg-unmask --state "c$i" --survivors S/evil/survivors-1.msg --consistency consA.msg \
        -o "u$i.msg"
      expect_err "survivor set U3 is not the one client $i signed in round 3"
      assert_absent "u$i.msg"
      assert_unchanged "c$i"
    done
    # The majority is consistent: its answers reveal b of U3 = 1-5 and no mask key.
    for i in 1 2 5; do
      expect_exit 0 secagg-unmask --state "c$i" --survivors "S/evil/survivors-$i.msg" --consistency consA.msg \
        -o "u$i.msg"
    done
    expect_exit 0 evil revealed S -o revealed.txt u*.msg
    check "3 shares of b_5 and none of s_sk_5" grep -qx "client 5: 3 shares of b_5, 0 shares of s_sk_5" revealed.txt
    expect_exit 1 evil recover S --victim 5 u*.msg
    expect_err "neither s_sk_5 (0 of 3 shares)" "no client's input can be reconstructed from them"
  fi
done

section "attack 3, active: a substituted key, a Sybil, another id's certificate; every client refuses the roster"
# Clients 1-4 send adverts; client 5 never does, so the server fills its place with a Sybil.
session roster-active 5 4 active 1
must secagg-collect keys --session S adv1.msg adv2.msg adv3.msg adv4.msg
must evil roster S --substitute 2 -o substituted.msg
must evil roster S --sybil 5 -o sybil.msg
must evil roster S --cert-of 3:1 -o certof.msg
# roster_refused ROSTER MSG_OF_CLIENT_i...: every client of 1-4 refuses ROSTER (65), each with its
# message, and keeps its state; it writes no shares.
roster_refused() {
  local roster=$1 i
  shift
  for i in 1 2 3 4; do
    snapshot "c$i"
    expect_exit 65 secagg-share --state "c$i" --roster "$roster" -o "sh$i.msg"
    expect_err "$1"
    shift
    assert_absent "sh$i.msg"
    assert_unchanged "c$i"
  done
}
bad_binding="roster entry of client 2: bad identity signature over client 2's round-0 keys"
roster_refused substituted.msg "$bad_binding" "roster does not list client 2 with the keys it advertised" \
  "$bad_binding" "$bad_binding"
sybil="roster entry of client 5: certificate: issued by another CA"
roster_refused sybil.msg "$sybil" "$sybil" "$sybil" "$sybil"
certof="roster entry of client 3: certificate: certifies client 1, not 3"
roster_refused certof.msg "$certof" "$certof" "$certof" "$certof"
# The refusals were the lies': the honest roster is taken.
for i in 1 2 3 4; do expect_exit 0 secagg-share --state "c$i" --roster S/roster.msg -o "sh$i.msg"; done

section "attack 3, honest-but-curious: only client 2 sees its key substituted; a Sybil is taken"
session roster-hbc 5 3 hbc
must secagg-collect keys --session S adv1.msg adv2.msg adv3.msg adv4.msg
must evil roster S --substitute 2 -o substituted.msg
expect_exit 65 secagg-share --state c2 --roster substituted.msg -o sh2.msg
expect_err "roster does not list client 2 with the keys it advertised"
assert_absent sh2.msg
# The others cannot check anyone's keys but their own: they encrypt their shares for client 2
# under the server's key.
for i in 1 3 4; do expect_exit 0 secagg-share --state "c$i" --roster substituted.msg -o "sh$i.msg"; done
expect_exit 2 evil roster S --cert-of 3:1 -o certof.msg
expect_err "an honest-but-curious session's roster carries no certificates"
assert_absent certof.msg
session sybil-hbc 5 3 hbc
must secagg-collect keys --session S adv1.msg adv2.msg adv3.msg adv4.msg
must evil roster S --sybil 5 -o sybil.msg
check "the lying roster lists 5 clients" grep -q "u1=5" <(secagg-inspect sybil.msg)
for i in 1 2 3 4; do expect_exit 0 secagg-share --state "c$i" --roster sybil.msg -o "sh$i.msg"; done
check "client 1 sent a share to the Sybil client 5" grep -q "shares=5" <(secagg-inspect sh1.msg)

section "attack 4, active: a consistency message from another session, or over another U3"
# Two sessions run honestly up to round 3, each with U3 = 1-5 signed by all.
for d in other replay; do
  session "$d" 5 4 active 1
  honest_to_masked 5
  for i in 1 2 3 4 5; do must secagg-unmask sign --state "c$i" --survivors S/survivors.msg -o "sig$i.msg"; done
  must secagg-collect consistency --session S sig*.msg
done
must evil consistency S --from-session ../other/S -o replayed.msg
must evil consistency S --from-session ../other/S --retag -o retagged.msg
must evil consistency S --u3 1,2,3,4 -o narrower.msg sig*.msg
must evil consistency S --u3 1,2,3,4 --include-all -o narrower-all.msg sig*.msg
snapshot c1
expect_exit 65 secagg-unmask --state c1 --survivors S/survivors.msg --consistency replayed.msg -o u1.msg
expect_err "replayed.msg" "belongs to session"
expect_exit 1 secagg-unmask --state c1 --survivors S/survivors.msg --consistency retagged.msg -o u1.msg
expect_err "consistency signature of client 1 does not verify over the survivor set U3 client 1 signed"
for f in narrower.msg narrower-all.msg; do
  expect_exit 1 secagg-unmask --state c1 --survivors S/survivors.msg --consistency "$f" -o u1.msg
  expect_err "consistency message is over another survivor set than the U3 client 1 signed in round 3"
done
assert_absent u1.msg
assert_unchanged c1
# The refusals were the lies': the session's own consistency message is answered, and sums.
for i in 1 2 3 4 5; do
  expect_exit 0 secagg-unmask --state "c$i" --survivors S/survivors.msg --consistency S/consistency.msg -o "u$i.msg"
done
expect_exit 0 evil revealed S u*.msg
expect_exit 0 secagg-collect unmask --session S --text -o sum.txt u*.msg
check_sum sum.txt x1.txt x2.txt x3.txt x4.txt x5.txt "$R32"
cd "$WORK"

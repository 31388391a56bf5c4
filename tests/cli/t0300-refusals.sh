#!/usr/bin/env bash
# t0300-refusals: a client refuses an unmasking request whose survivor set U3 is smaller
# than t, not a subset of U2, or lacks the client itself, and answers at most one request
# per session (exit 1, state file unchanged, no output; the same request again gets the
# same answer); an answer never reveals both
# shares of one client. Setup refuses insecure or malformed parameters (exit 64), and
# every tool's command line is checked (unknown flag 64, --help 0).
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# n=5, t=3; client 5 drops in round 1 and client 4 in round 2: U2 = 1..4, U3 = 1 2 3.
walk_setup A masked -l 200 --drop1 5 --drop2 4
P=A/S/params.msg

section "survivor sets a client must refuse"
snapshot A/c1 A/c2 A/c4
refuse_u3() {  # refuse_u3 CLIENT IDS NEEDLE...
  local c=$1 ids=$2
  shift 2
  forge survivors "$P" "$ids" "A/u3-$c-${ids//,/_}.msg"
  expect_exit 1 secagg-unmask --state "A/c$c" --survivors "A/u3-$c-${ids//,/_}.msg" -o A/out.msg
  expect_err "A/u3-$c-${ids//,/_}.msg" "$@"
  assert_absent A/out.msg
  assert_unchanged "A/c$c"
}
# Smaller than t = 3.
refuse_u3 1 "1,2" "2 clients" "threshold 3"
refuse_u3 1 "1" "threshold 3"
refuse_u3 2 "" "threshold 3"
# Not a subset of U2 = 1..4 (5 dropped in round 1; 6 is no client at all).
refuse_u3 1 "1,2,5" "subset"
refuse_u3 1 "1,2,3,5" "subset"
refuse_u3 2 "1,2,3,4,5" "subset"
refuse_u3 1 "1,2,3,6" "subset"
# Lacking the client itself: refused, and the state drops its input digest (round 2 is over
# without it; t0310 checks that), so on copies: c1 and c2 go on below.
for c in 1 2; do
  ids="2,3,4"
  [[ $c == 1 ]] || ids="1,3,4"
  cp -p "A/c$c" "A/cx$c"
  forge survivors "$P" "$ids" "A/u3-x$c.msg"
  expect_exit 1 secagg-unmask --state "A/cx$c" --survivors "A/u3-x$c.msg" -o A/out.msg
  expect_err "A/u3-x$c.msg" "client $c"
  assert_absent A/out.msg
done
# A client that never sent its masked input (4 dropped in round 2) answers no request.
refuse_u3 4 "1,2,3,4" "client 4"
# Not sorted and unique: malformed rather than refused.
forge survivors "$P" "2,1,3" A/u3-unsorted.msg
expect_exit 65 secagg-unmask --state A/c1 --survivors A/u3-unsorted.msg -o A/out.msg
expect_err A/u3-unsorted.msg
assert_absent A/out.msg
assert_unchanged A/c1
forge survivors "$P" "1,1,2,3" A/u3-dup.msg
expect_exit 65 secagg-unmask --state A/c1 --survivors A/u3-dup.msg -o A/out.msg
expect_err A/u3-dup.msg
assert_absent A/out.msg
assert_unchanged A/c1

section "one unmasking answer per session"
expect_exit 0 secagg-unmask --state A/c1 --survivors A/S/survivors.msg -o A/unmask1.msg
check "c1 records that it answered (stage 4)" grep -q ' stage=4 ' <(secagg-inspect A/c1)
check "c1 is still mode 0600" test "$(file_mode A/c1)" = 600
snapshot A/c1
# The same request again gets the same answer, byte for byte (a lost answer can be resent).
expect_exit 0 secagg-unmask --state A/c1 --survivors A/S/survivors.msg -o A/again.msg
check "the same survivor set gets the same answer" cmp -s A/unmask1.msg A/again.msg
assert_unchanged A/c1
rm -f A/again.msg
# The dangerous second request: another U3, which would reveal the other kind of share.
forge survivors "$P" "1,2,4" A/u3-other.msg
expect_exit 1 secagg-unmask --state A/c1 --survivors A/u3-other.msg -o A/again.msg
expect_err A/u3-other.msg "client 1" "already answered" "different survivor set"
assert_absent A/again.msg
assert_unchanged A/c1
# Same on stdout: nothing is printed.
expect_exit 1 secagg-unmask --state A/c1 --survivors A/u3-other.msg >A/stdout.msg
check "a refused request prints nothing on stdout" test ! -s A/stdout.msg
assert_unchanged A/c1

section "each round once: no second, different share-keys or masked input"
# A second masked input under the same masks would give the server x - x'.
snapshot A/c2
expect_exit 1 secagg-mask --state A/c2 --inbox A/S/inbox-2.msg --input A/x1.txt -o A/again.msg
expect_err "client 2" "already" "different input vector"
assert_absent A/again.msg
assert_unchanged A/c2
expect_exit 1 secagg-share --state A/c2 --roster A/S/roster.msg -o A/again.msg
expect_err "client 2" "already sent its masked input (round 2)"
assert_absent A/again.msg
assert_unchanged A/c2
# Client 4 shared but never masked: the same roster gets the same shares, another is refused.
snapshot A/c4
expect_exit 0 secagg-share --state A/c4 --roster A/S/roster.msg -o A/again.msg
check "the same roster gets the same share-keys message" cmp -s A/shares4.msg A/again.msg
assert_unchanged A/c4
rm -f A/again.msg
forge retag A/S/roster.msg A/roster-other.msg --recipient 3
expect_exit 1 secagg-share --state A/c4 --roster A/roster-other.msg -o A/again.msg
expect_err "client 4" "different roster"
assert_absent A/again.msg
assert_unchanged A/c4
# Client 5 never shared: it cannot mask without its round 1 secrets.
snapshot A/c5
forge retag A/S/inbox-1.msg A/inbox-for5.msg --recipient 5
expect_exit 1 secagg-mask --state A/c5 --inbox A/inbox-for5.msg --input A/x5.txt -o A/again.msg
expect_err "client 5"
assert_absent A/again.msg
assert_unchanged A/c5

section "never both shares of one client"
for i in 2 3; do must secagg-unmask --state "A/c$i" --survivors A/S/survivors.msg -o "A/unmask$i.msg"; done
for i in 1 2 3; do
  expect_exit 0 secagg-inspect --json --show-secrets "A/unmask$i.msg" >A/u.json
  check "unmask$i: self_mask owners = U3 = 1 2 3, mask_key owners = U2 \\ U3 = 4, disjoint" "$PY" -c '
import json
b = json.load(open("A/u.json"))["body"]
sm = [s["owner"] for s in b["self_mask"]]
mk = [s["owner"] for s in b["mask_key"]]
assert not set(sm) & set(mk), (sm, mk)
assert sm == [1, 2, 3] and mk == [4], (sm, mk)
assert all(s["share"]["x"] == '"$i"' for s in b["self_mask"] + b["mask_key"])'
done
expect_exit 0 secagg-collect unmask --session A/S A/unmask1.msg A/unmask2.msg A/unmask3.msg --text -o A/sum.txt
check_sum A/sum.txt A/x1.txt A/x2.txt A/x3.txt 4294967296

section "setup refuses insecure and malformed parameters"
setup_refused() {  # setup_refused CODE NEEDLE ARGS...
  local code=$1 needle=$2
  shift 2
  expect_exit "$code" secagg-collect setup --session Z "$@"
  [[ -z $needle ]] || expect_err "$needle"
  assert_absent Z
}
setup_refused 64 "threshold 2" --clients 5 --threshold 2 --modulus-bits 32 --length 10
setup_refused 64 "threshold 2" --clients 4 --threshold 2 --modulus-bits 32 --length 10
setup_refused 64 "threshold 1" --clients 2 --threshold 1 --modulus-bits 32 --length 10
setup_refused 64 "" --clients 6 --threshold 3 --modulus-bits 32 --length 10
expect_exit 0 secagg-collect setup --session L1 --clients 4 --threshold 2 --modulus-bits 32 --length 10 \
  --insecure-low-threshold
check "low threshold accepted with --insecure-low-threshold" grep -q ' threshold=2 ' <(secagg-inspect L1/params.msg)
expect_exit 0 secagg-collect setup --session L2 --clients 5 --threshold 3 --modulus-bits 32 --length 10
expect_exit 0 secagg-collect setup --session L3 --clients 4 --threshold 3 --modulus-bits 32 --length 10
# A low-threshold session still runs to the exact sum.
walk_setup L4 sum -n 4 -t 2 -l 50 --drop2 3,4 -- --modulus-bits 20 --insecure-low-threshold
check_sum L4/sum.txt L4/x1.txt L4/x2.txt 1048576
setup_refused 64 "" --clients 5 --threshold 6 --modulus-bits 32 --length 10
setup_refused 64 "" --clients 5 --threshold 0 --modulus-bits 32 --length 10
setup_refused 64 "" --clients 1 --threshold 1 --modulus-bits 32 --length 10
setup_refused 64 "" --clients 5 --threshold 3 --modulus-bits 32 --length 0
# Bad moduli.
setup_refused 64 "" --clients 5 --threshold 3 --modulus 1 --length 10
setup_refused 64 "" --clients 5 --threshold 3 --modulus 4611686018427387905 --length 10
setup_refused 64 "" --clients 5 --threshold 3 --modulus 18446744073709551615 --length 10
setup_refused 64 "" --clients 5 --threshold 3 --modulus 18446744073709551616 --length 10
setup_refused 64 "" --clients 5 --threshold 3 --modulus abc --length 10
setup_refused 64 "" --clients 5 --threshold 3 --modulus -5 --length 10
setup_refused 64 "" --clients 5 --threshold 3 --modulus-bits 63 --length 10
setup_refused 64 "" --clients 5 --threshold 3 --modulus-bits -1 --length 10
# Both, or neither, of --modulus and --modulus-bits.
setup_refused 64 "--modulus" --clients 5 --threshold 3 --modulus 1000003 --modulus-bits 32 --length 10
setup_refused 64 "--modulus" --clients 5 --threshold 3 --length 10
setup_refused 64 "--prg" --clients 5 --threshold 3 --modulus-bits 32 --length 10 --prg rc4
# Missing required options.
setup_refused 64 "--length" --clients 5 --threshold 3 --modulus-bits 32
setup_refused 64 "--threshold" --clients 5 --modulus-bits 32 --length 10
# The boundaries are accepted.
expect_exit 0 secagg-collect setup --session B1 --clients 2 --threshold 2 --modulus 2 --length 1
expect_exit 0 secagg-collect setup --session B2 --clients 3 --threshold 2 --modulus 4611686018427387904 --length 1
expect_exit 0 secagg-collect setup --session B3 --clients 3 --threshold 2 --modulus-bits 62 --length 1
expect_exit 0 secagg-collect setup --session B4 --clients 3 --threshold 2 --modulus-bits 1 --length 1
# A session is set up once.
snapshot B1
expect_exit 73 secagg-collect setup --session B1 --clients 2 --threshold 2 --modulus 2 --length 1
expect_err B1/params.msg
assert_unchanged B1

section "command lines: unknown flags, --help"
expect_exit 64 secagg-collect setup --session Z --clients 5 --threshold 3 --modulus-bits 32 --length 10 --bogus
assert_absent Z
expect_exit 64 secagg-collect bogus
expect_exit 64 secagg-collect
expect_exit 64 secagg-collect keys A/adv1.msg
expect_exit 64 secagg-keygen --params A/S/params.msg --id 1 --state Z1 --bogus
assert_absent Z1
expect_exit 64 secagg-keygen --params A/S/params.msg --state Z1
assert_absent Z1
expect_exit 64 secagg-keygen --params A/S/params.msg --id 0 --state Z1
assert_absent Z1
expect_exit 64 secagg-keygen --params A/S/params.msg --id 6 --state Z1
expect_err "6"
assert_absent Z1
expect_exit 64 secagg-keygen --params A/S/params.msg --id x --state Z1
assert_absent Z1
snapshot A/c2
expect_exit 64 secagg-share --state A/c2 --roster A/S/roster.msg --bogus
expect_exit 64 secagg-mask --state A/c2 --inbox A/S/inbox-2.msg --input A/x2.txt --bogus -o A/out.msg
assert_absent A/out.msg
expect_exit 64 secagg-mask --state A/c2 --inbox A/S/inbox-2.msg --threads 0 -o A/out.msg </dev/null
expect_exit 64 secagg-unmask --state A/c2 --survivors A/S/survivors.msg --bogus -o A/out.msg
expect_exit 64 secagg-unmask --state A/c2 -o A/out.msg
assert_absent A/out.msg
assert_unchanged A/c2
expect_exit 64 secagg-inspect --bogus A/adv1.msg
expect_exit 64 secagg-inspect
for tool in secagg-collect secagg-keygen secagg-share secagg-mask secagg-unmask secagg-inspect; do
  expect_exit 0 "$tool" --help >help.txt
  check "$tool --help prints usage and the exit codes" grep -q 'Exit status: 0 success' help.txt
done
for sub in setup keys shares masked unmask; do
  expect_exit 0 secagg-collect "$sub" --help >help.txt
  check "secagg-collect $sub --help prints its options" grep -q -- '--session' help.txt
done

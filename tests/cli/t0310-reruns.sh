#!/usr/bin/env bash
# t0310-reruns: every client step can be run again safely (issue 9, item 3). Run again with
# the same inputs, keygen, share, mask and unmask write the same message, byte for byte, and
# leave the state as it is, also after their output failed; with another roster, inbox, input
# or survivor set they refuse (exit 1, naming what differs), write nothing and leave the state
# unchanged. In socket mode the state is committed before the message leaves, so a client
# whose message was lost resends the same one. A binary message is never written to a
# terminal (exit 64, before any state change). A step run before its turn names the step to
# run first.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# n=6, t=4: client 6 drops in round 1, client 5 in round 2. U2 = 1..5, U3 = 1..4.
walk_setup A keygen -n 6 -t 4 -l 300 --drop1 6 --drop2 5
P=A/S/params.msg

# on_tty CMD...: run CMD with stdout and stderr on a pseudo-terminal; prints its exit code.
on_tty() {
  local cmd
  printf -v cmd '%q ' "$@"
  script -qec "$cmd; exit \$?" /dev/null >tty.out 2>&1 </dev/null && echo 0 || echo $?
}

section "keygen: the same params and id re-emit the same advert"
snapshot A/c1
expect_exit 0 secagg-keygen --params "$P" --id 1 --state A/c1 -o A/adv1-again.msg
check "keygen again: the same advert, byte for byte" cmp -s A/adv1.msg A/adv1-again.msg
assert_unchanged A/c1
# Another id or another session is still refused: that state is not this client's.
expect_exit 73 secagg-keygen --params "$P" --id 2 --state A/c1 -o A/out.msg
expect_err "A/c1: already exists" "client 1"
assert_absent A/out.msg
must secagg-collect setup --session B --clients 6 --threshold 4 --modulus-bits 32 --length 300
expect_exit 73 secagg-keygen --params B/params.msg --id 1 --state A/c1 -o A/out.msg
expect_err "A/c1: already exists" "another session"
assert_absent A/out.msg
assert_unchanged A/c1

section "keygen whose output failed: the rerun sends the advert"
expect_exit 73 secagg-keygen --params "$P" --id 2 --state A/k2 -o A/nodir/adv.msg
expect_err A/nodir/adv.msg
check "the state was kept for the rerun" test -s A/k2
snapshot A/k2
expect_exit 0 secagg-keygen --params "$P" --id 2 --state A/k2 -o A/k2-adv.msg
expect_exit 0 secagg-keygen --params "$P" --id 2 --state A/k2 -o A/k2-adv-again.msg
check "the advert is the one recorded in the state" cmp -s A/k2-adv.msg A/k2-adv-again.msg
check "it is a valid advert of client 2" grep -q 'advertise-keys round=0 .* sender=2 ' <(secagg-inspect A/k2-adv.msg)
assert_unchanged A/k2

section "a binary message is not written to a terminal"
rc=$(on_tty secagg-keygen --params "$P" --id 3 --state A/k3)
check "keygen to a terminal: exit 64 (got $rc)" test "$rc" = 64
check "keygen to a terminal says why" grep -q 'secagg-keygen: error: refusing to write a binary message to a terminal: give -o FILE or redirect' tty.out
check "keygen to a terminal wrote no binary" bash -c '! grep -q SAGG tty.out'
assert_absent A/k3
rc=$(on_tty secagg-keygen --params "$P" --id 3 --state A/k3 -o A/k3-adv.msg)
check "with -o on a terminal keygen works (got $rc)" test "$rc" = 0
walk_to A keys
snapshot A/c1
rc=$(on_tty secagg-share --state A/c1 --roster A/S/roster.msg)
check "share to a terminal: exit 64 (got $rc)" test "$rc" = 64
check "share to a terminal says why" grep -q 'refusing to write a binary message to a terminal' tty.out
assert_unchanged A/c1

section "share: the same roster re-emits, another is refused"
walk_to A share
snapshot A/c1
expect_exit 0 secagg-share --state A/c1 --roster A/S/roster.msg -o A/shares1-again.msg
check "share again: the same message, byte for byte" cmp -s A/shares1.msg A/shares1-again.msg
assert_unchanged A/c1
expect_exit 0 secagg-share --state A/c1 --roster A/S/roster.msg >A/shares1-stdout.msg
check "share again on stdout (redirected): the same message" cmp -s A/shares1.msg A/shares1-stdout.msg
forge retag A/S/roster.msg A/roster-other.msg --recipient 4
expect_exit 1 secagg-share --state A/c1 --roster A/roster-other.msg -o A/out.msg
expect_err A/roster-other.msg "client 1 already sent its shares for a different roster"
assert_absent A/out.msg
assert_unchanged A/c1
# Output that fails: the state is kept, and the rerun writes the message.
cp -p A/c2 A/c2-copy
snapshot A/c2
expect_exit 73 secagg-share --state A/c2-copy --roster A/S/roster.msg -o A/nodir/shares.msg
expect_exit 0 secagg-share --state A/c2-copy --roster A/S/roster.msg -o A/shares2-copy.msg
expect_exit 0 secagg-share --state A/c2-copy --roster A/S/roster.msg -o A/shares2-copy-again.msg
check "a share rerun after a failed output repeats itself" cmp -s A/shares2-copy.msg A/shares2-copy-again.msg
assert_unchanged A/c2

section "a step before its turn names the step to run first"
walk_to A shares
# Client 6 never shared: it cannot mask.
snapshot A/c6
forge retag A/S/inbox-1.msg A/inbox-for6.msg --recipient 6
expect_exit 1 secagg-mask --state A/c6 --inbox A/inbox-for6.msg --input A/x6.txt -o A/out.msg
expect_err "client 6 has not sent its shares yet (round 1): run secagg-share first"
assert_absent A/out.msg
assert_unchanged A/c6

section "mask: the same inbox and input re-emit, another is refused"
walk_to A mask
snapshot A/c1
expect_exit 0 secagg-mask --state A/c1 --inbox A/S/inbox-1.msg --input A/x1.txt -o A/masked1-again.msg
check "mask again: the same message, byte for byte" cmp -s A/masked1.msg A/masked1-again.msg
expect_exit 0 secagg-mask --state A/c1 --inbox A/S/inbox-1.msg -o A/masked1-stdin.msg <A/x1.txt
check "mask again, input on stdin: the same message" cmp -s A/masked1.msg A/masked1-stdin.msg
assert_unchanged A/c1
expect_exit 1 secagg-mask --state A/c1 --inbox A/S/inbox-1.msg --input A/x2.txt -o A/out.msg
expect_err "client 1 already sent a masked input for a different input vector in this session: refusing" \
  "reveal their difference"
assert_absent A/out.msg
assert_unchanged A/c1
forge survivors "$P" "1,2,3" A/not-an-inbox.msg
expect_exit 65 secagg-mask --state A/c1 --inbox A/not-an-inbox.msg --input A/x1.txt -o A/out.msg
assert_absent A/out.msg
assert_unchanged A/c1
# Output that fails: the state is kept, and the rerun writes the message it recorded.
cp -p A/c5 A/c5-copy
expect_exit 73 secagg-mask --state A/c5-copy --inbox A/S/inbox-5.msg --input A/x5.txt -o A/nodir/masked.msg
expect_exit 0 secagg-mask --state A/c5-copy --inbox A/S/inbox-5.msg --input A/x5.txt -o A/masked5-copy.msg
expect_exit 0 secagg-mask --state A/c5-copy --inbox A/S/inbox-5.msg --input A/x5.txt -o A/masked5-again.msg
check "a mask rerun after a failed output repeats itself" cmp -s A/masked5-copy.msg A/masked5-again.msg
expect_exit 1 secagg-mask --state A/c5-copy --inbox A/S/inbox-5.msg --input A/x4.txt -o A/out.msg
expect_err "client 5 already sent a masked input for a different input vector"
assert_absent A/out.msg

section "unmask: the same survivor set re-emits, another is refused"
walk_to A masked
# Client 5 never masked (a dropout of round 2): it is told what it has not done.
snapshot A/c5
expect_exit 1 secagg-unmask --state A/c5 --survivors A/S/survivors.msg -o A/out.msg
expect_err "client 5 has not sent its masked input yet (round 2): run secagg-mask first"
assert_absent A/out.msg
assert_unchanged A/c5
# A client that masked but that round 2 ended without (A/c5-copy masked above; the server's U3
# leaves 5 out): the refusal erases the input digest, with which the state could test guesses
# of the input, since no rerun of round 2 can be needed any more; a mask rerun is then refused.
check "a masked state holds the input digest" grep -Eq '"input": "[0-9a-f]{64}"' \
  <(secagg-inspect --json --show-secrets A/c5-copy)
expect_exit 1 secagg-unmask --state A/c5-copy --survivors A/S/survivors.msg -o A/out.msg
expect_err "survivor set U3 does not include client 5 although it sent its masked input: refusing to unmask"
assert_absent A/out.msg
check "the refusal erased the input digest" grep -q '"input": "0\{64\}"' <(secagg-inspect --json --show-secrets A/c5-copy)
check "the state is still 0600" test "$(file_mode A/c5-copy)" = 600
snapshot A/c5-copy
expect_exit 1 secagg-mask --state A/c5-copy --inbox A/S/inbox-5.msg --input A/x5.txt -o A/out.msg
expect_err "client 5 has learned that round 2 ended without its masked input" "cannot be sent again"
assert_absent A/out.msg
expect_exit 1 secagg-unmask --state A/c5-copy --survivors A/S/survivors.msg -o A/out.msg
assert_unchanged A/c5-copy
walk_to A unmask
snapshot A/c1
expect_exit 0 secagg-unmask --state A/c1 --survivors A/S/survivors.msg -o A/unmask1-again.msg
check "unmask again: the same answer, byte for byte" cmp -s A/unmask1.msg A/unmask1-again.msg
assert_unchanged A/c1
forge survivors "$P" "1,2,3" A/u3-other.msg
expect_exit 1 secagg-unmask --state A/c1 --survivors A/u3-other.msg -o A/out.msg
expect_err A/u3-other.msg "client 1 has already answered an unmasking request in this session for a different survivor set"
assert_absent A/out.msg
assert_unchanged A/c1
# Earlier steps after later ones: refused, naming what already happened.
expect_exit 1 secagg-mask --state A/c1 --inbox A/S/inbox-1.msg --input A/x1.txt -o A/out.msg
expect_err "client 1 has already answered the unmasking request (round 4)"
assert_absent A/out.msg
expect_exit 1 secagg-keygen --params "$P" --id 1 --state A/c1 -o A/out.msg
expect_err "client 1 has already answered the unmasking request (round 4)"
assert_absent A/out.msg
assert_unchanged A/c1
walk_to A sum
check_sum A/sum.txt $(walk_xfiles A U4) "$(walk_modulus A)"

section "socket mode: a message lost after the state was committed is resent, the same"
# A server that takes the message and hangs up without an answer (as a busy or failing server
# may): it records every message it receives.
cat >sink.py <<'PYEOF'
import socket, struct, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".port", "w").write(str(s.getsockname()[1]))
k = 0
while True:
    c, _ = s.accept()
    c.settimeout(10)
    data = b""
    def need(n):
        global data
        while len(data) < n:
            b = c.recv(65536)
            if not b: return False
            data += b
        return True
    if need(40):
        body = struct.unpack("<Q", data[32:40])[0]
        trailer = 96 if data[6] in (2, 4, 6, 8) else 32
        if need(40 + body + trailer):
            k += 1
            open(f"{sys.argv[1]}.{k}", "wb").write(data[:40 + body + trailer])
    c.close()
PYEOF
mkdir N
walk_setup N shares -n 4 -t 3 -l 200
timeout 60 "$PY" sink.py N/sink &
SINK=$!
trap 'kill $SINK 2>/dev/null || true; _finish' EXIT
for ((k = 0; k < 100; k++)); do [[ -s N/sink.port ]] && break; sleep 0.05; done
SPORT=$(cat N/sink.port)
net_mask() { timeout 30 secagg-mask --state N/c1 --inbox N/S/inbox-1.msg --input N/x1.txt --recv N/surv.msg \
  --connect "127.0.0.1:$SPORT" --connect-timeout 0 --timeout 2 "$@"; }
rc=0
net_mask 2>N/first.err || rc=$?
check "the first run failed (the server hung up): exit $rc" test "$rc" -ne 0
check "the server received the masked input" test -s N/sink.1
check "the state records it (stage 2)" grep -q ' stage=2 ' <(secagg-inspect N/c1)
rc=0
net_mask 2>N/second.err || rc=$?
check "the second run sent again (exit $rc, not 'already')" bash -c '! grep -q already N/second.err'
n=(N/sink.*[0-9])
check "the server received it twice or more (${#n[@]})" test "${#n[@]}" -ge 2
check "the resent masked input is the same, byte for byte" cmp -s N/sink.1 "${n[-1]}"
expect_exit 0 secagg-mask --state N/c1 --inbox N/S/inbox-1.msg --input N/x1.txt -o N/masked1.msg
check "file mode re-emits the message that was sent" cmp -s N/sink.1 N/masked1.msg
kill $SINK 2>/dev/null || true

#!/usr/bin/env bash
# t0400-bad-input: every consuming step meets every bad input the envelope can carry:
# truncated, corrupted (checksum), wrong version (1, the unsigned format), trailing bytes,
# garbage, empty, a corrupted signature, another session, another round, wrong sender or
# recipient, duplicates, tampered ciphertexts and shares, bad input vectors. (A client
# speaking for another id is t0410's subject; here, a client message forged to test a check
# behind the signature check is re-signed with the key of the client it claims to be from.) Each is exit 65 with one error line naming the file, no
# output file (-o), and the state and session files unchanged. A missing input is 66, an
# output that cannot be created 73.
#
# One session A (n=5, t=3; client 5 drops in round 1, client 4 in round 2: U2 = 1..4,
# U3 = 1 2 3) is walked step by step; before each step, the step is fed the bad inputs.
# Since nothing bad may change anything, A then completes with the exact sum. Session W,
# of the same shape, supplies messages from another session.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

walk_setup W sum -l 100 --seed 7 --drop1 5 --drop2 4
walk_setup A keygen -l 100 --drop1 5 --drop2 4
mkdir -p A/bad
OUT=A/out.msg
GUARD=()

# guard PATH...: the files and directories that every following bad case must leave unchanged.
guard() {
  GUARD=("$@")
  snapshot "$@"
}
# bad CODE [NEEDLE...] -- cmd...: cmd exits CODE with one error line holding every NEEDLE,
# $OUT is not created, and everything guarded is unchanged.
bad() {
  local code=$1 needles=()
  shift
  while [[ $1 != -- ]]; do
    needles+=("$1")
    shift
  done
  shift
  expect_exit "$code" "$@"
  ((${#needles[@]} == 0)) || expect_err "${needles[@]}"
  assert_absent "$OUT"
  ((${#GUARD[@]} == 0)) || assert_unchanged "${GUARD[@]}"
}

# make_bad GOOD NAME: damaged copies of message GOOD as A/bad/NAME-<kind>.msg.
BAD_KINDS=(trunc short corrupt header checksum version magic bodylen trailing garbage empty)
declare -A KIND_NEEDLE=(
  [trunc]=truncated [short]=truncated [corrupt]=checksum [header]=checksum [checksum]=checksum
  [version]="format version 1 is not supported" [magic]="not a secagg message" [bodylen]="" [trailing]="unexpected bytes"
  [garbage]="not a secagg message" [empty]="not a secagg message")
# A signed message (a client's) also gets NAME-signature.msg, its signature's last byte flipped.
make_bad() {
  local good=$1 p=A/bad/$2 size end
  size=$(stat -c %s "$good")
  end=$((40 + $(body_len "$good") + 32))  # the end of the checksum; a signature follows, if any
  head -c $((size - 1)) "$good" >"$p-trunc.msg"
  head -c 20 "$good" >"$p-short.msg"
  xorbyte "$good" 42 1 "$p-corrupt.msg"       # a body byte
  xorbyte "$good" 24 2 "$p-header.msg"        # the sender id, not re-sealed
  xorbyte "$good" $((end - 1)) 128 "$p-checksum.msg"
  rm -f "$p-signature.msg"
  ((size == end)) || xorbyte "$good" $((size - 1)) 128 "$p-signature.msg"
  forge setbyte "$good" 4 1 "$p-version.msg"  # format version 1, from before signatures
  forge setbyte "$good" 0 88 "$p-magic.msg"   # "XAGG"
  forge setbyte "$good" 39 255 "$p-bodylen.msg"
  { cat "$good"; printf 'x'; } >"$p-trailing.msg"
  printf 'this is not a secagg message\n1 2 3\n' >"$p-garbage.msg"
  : >"$p-empty.msg"
}
# each_bad GOOD NAME cmd... : runs cmd once per damaged copy of GOOD, the copy in place of
# the argument "@"; each must be refused with 65, naming the copy (a bad signature: naming the
# copy and the signature).
each_bad() {
  local good=$1 name=$2 kind f a args
  shift 2
  make_bad "$good" "$name"
  for kind in "${BAD_KINDS[@]}" signature; do
    f=A/bad/$name-$kind.msg
    [[ -e $f ]] || continue
    args=()
    for a; do if [[ $a == @ ]]; then args+=("$f"); else args+=("$a"); fi; done
    if [[ $kind == signature ]]; then
      bad 65 "$f" "bad signature" -- "${args[@]}"
    elif [[ -n ${KIND_NEEDLE[$kind]} ]]; then
      bad 65 "$f" "${KIND_NEEDLE[$kind]}" -- "${args[@]}"
    else
      bad 65 "$f" -- "${args[@]}"
    fi
  done
}
# body_offset_of_share MSG K FIELD: body offset, in an inbox or share-keys message, of share
# K's (0-based) peer id ("peer") or the last byte of its ciphertext ("ct_end"). The body is
# cereal portable binary: 1 endianness byte, le64 count, then count records.
share_offset() {
  local n len rec
  n=$(secagg-inspect "$1" | sed -n 's/.* shares=\([0-9]*\)$/\1/p')
  len=$(body_len "$1")
  rec=$(((len - 9) / n))
  case $3 in
    peer) echo $((9 + $2 * rec)) ;;
    nonce) echo $((9 + $2 * rec + 4)) ;;
    ct_end) echo $((9 + ($2 + 1) * rec - 1)) ;;
  esac
}

# ---------------------------------------------------------------------------
section "secagg-keygen --params"
guard A/S
each_bad A/S/params.msg params secagg-keygen --params @ --id 1 --state A/cz -o "$OUT"
assert_absent A/cz
bad 65 W/S/roster.msg "roster" -- secagg-keygen --params W/S/roster.msg --id 1 --state A/cz -o "$OUT"
bad 65 A/adv1.msg -- secagg-keygen --params A/adv1.msg --id 1 --state A/cz -o "$OUT"
forge flip A/S/params.msg 1 A/bad/params-body.msg   # clients: 5 -> 4 + 2^56 ...
bad 65 A/bad/params-body.msg -- secagg-keygen --params A/bad/params-body.msg --id 1 --state A/cz -o "$OUT"
bad 66 A/nonexistent.msg -- secagg-keygen --params A/nonexistent.msg --id 1 --state A/cz -o "$OUT"
bad 66 A/S -- secagg-keygen --params A/S --id 1 --state A/cz -o "$OUT"
assert_absent A/cz
# An existing state of another client is never overwritten (the same client's is re-advertised:
# t0310-reruns).
guard A/S A/c1
bad 73 A/c1 -- secagg-keygen --params A/S/params.msg --id 2 --state A/c1 -o "$OUT"
# Output that cannot be created.
bad 73 A/nodir/adv.msg -- secagg-keygen --params A/S/params.msg --id 1 --state A/cz73 -o A/nodir/adv.msg
rm -f A/cz73

# ---------------------------------------------------------------------------
section "secagg-collect keys"
guard A/S
KEYS=(secagg-collect keys --session A/S A/adv1.msg A/adv2.msg)
each_bad A/adv3.msg adv3 "${KEYS[@]}" @ A/adv4.msg A/adv5.msg
assert_absent A/S/roster.msg
bad 65 W/adv3.msg session -- "${KEYS[@]}" W/adv3.msg A/adv4.msg
bad 65 W/shares3.msg "round 1" -- "${KEYS[@]}" W/shares3.msg
bad 65 A/S/params.msg -- "${KEYS[@]}" A/S/params.msg
bad 65 A/c3 "client-state" -- "${KEYS[@]}" A/c3
forge retag A/adv3.msg A/bad/adv3-sender7.msg --sender 7 --sign A/c3
bad 65 A/bad/adv3-sender7.msg "client 7" -- "${KEYS[@]}" A/bad/adv3-sender7.msg
forge retag A/adv3.msg A/bad/adv3-sender0.msg --sender 0 --sign A/c3
bad 65 A/bad/adv3-sender0.msg -- "${KEYS[@]}" A/bad/adv3-sender0.msg
forge retag A/adv3.msg A/bad/adv3-to2.msg --recipient 2 --sign A/c3
bad 65 A/bad/adv3-to2.msg -- "${KEYS[@]}" A/bad/adv3-to2.msg
forge retag A/adv3.msg A/bad/adv3-session.msg --session-from W/adv3.msg --sign A/c3
bad 65 A/bad/adv3-session.msg session -- "${KEYS[@]}" A/bad/adv3-session.msg
bad 65 duplicate "client 1" -- "${KEYS[@]}" A/adv1.msg A/adv3.msg
cp A/adv2.msg A/bad/adv2-copy.msg
bad 65 duplicate A/bad/adv2-copy.msg -- "${KEYS[@]}" A/adv3.msg A/bad/adv2-copy.msg
forge retag A/adv3.msg A/bad/adv3-as2.msg --sender 2 --sign A/c3
bad 65 duplicate "client 2" -- "${KEYS[@]}" A/bad/adv3-as2.msg
bad 66 A/adv9.msg -- "${KEYS[@]}" A/adv3.msg A/adv9.msg
bad 66 A/nosession/params.msg -- secagg-collect keys --session A/nosession A/adv1.msg A/adv2.msg A/adv3.msg
assert_absent A/S/roster.msg
walk_to A keys

# ---------------------------------------------------------------------------
section "secagg-share --roster, --state"
guard A/S A/c1 W/c1
SHARE=(secagg-share --state A/c1 -o "$OUT" --roster)
each_bad A/S/roster.msg roster "${SHARE[@]}" @
bad 65 W/S/roster.msg session -- "${SHARE[@]}" W/S/roster.msg
bad 65 A/adv1.msg "round 0 (advertise-keys)" -- "${SHARE[@]}" A/adv1.msg
bad 65 W/S/inbox-1.msg -- "${SHARE[@]}" W/S/inbox-1.msg
bad 65 A/S/params.msg -- "${SHARE[@]}" A/S/params.msg
forge retag A/S/roster.msg A/bad/roster-from2.msg --sender 2
bad 65 A/bad/roster-from2.msg "client 2" -- "${SHARE[@]}" A/bad/roster-from2.msg
forge retag A/S/roster.msg A/bad/roster-session.msg --session-from W/S/roster.msg
bad 65 A/bad/roster-session.msg session -- "${SHARE[@]}" A/bad/roster-session.msg
forge flip A/S/roster.msg 0 A/bad/roster-body0.msg
bad 65 A/bad/roster-body0.msg -- "${SHARE[@]}" A/bad/roster-body0.msg
forge flip A/S/roster.msg 1 A/bad/roster-count.msg   # 5 entries -> 4: trailing bytes
bad 65 A/bad/roster-count.msg -- "${SHARE[@]}" A/bad/roster-count.msg
forge flip A/S/roster.msg 9 A/bad/roster-id.msg      # first entry: id 1 -> 0
bad 65 A/bad/roster-id.msg -- "${SHARE[@]}" A/bad/roster-id.msg
bad 66 A/S/roster-missing.msg -- "${SHARE[@]}" A/S/roster-missing.msg
# The state file: another session's, a message, damaged, missing.
bad 65 A/S/roster.msg session -- secagg-share --state W/c1 --roster A/S/roster.msg -o "$OUT"
bad 65 A/adv1.msg "not a client state" -- secagg-share --state A/adv1.msg --roster A/S/roster.msg -o "$OUT"
cp A/c1 A/bad/c1-copy && chmod 600 A/bad/c1-copy
xorbyte A/bad/c1-copy 60 1 A/bad/c1-corrupt
bad 65 A/bad/c1-corrupt checksum -- secagg-share --state A/bad/c1-corrupt --roster A/S/roster.msg -o "$OUT"
head -c 100 A/c1 >A/bad/c1-trunc
bad 65 A/bad/c1-trunc truncated -- secagg-share --state A/bad/c1-trunc --roster A/S/roster.msg -o "$OUT"
bad 66 A/c9 -- secagg-share --state A/c9 --roster A/S/roster.msg -o "$OUT"
# Output that cannot be created (on a copy: the state moves on before the output is written).
bad 73 A/nodir/shares.msg -- secagg-share --state A/bad/c1-copy --roster A/S/roster.msg -o A/nodir/shares.msg
walk_to A share

# ---------------------------------------------------------------------------
section "secagg-collect shares"
guard A/S
SHARES=(secagg-collect shares --session A/S A/shares1.msg A/shares2.msg A/shares3.msg)
each_bad A/shares4.msg shares4 "${SHARES[@]}" @
assert_absent A/S/u2.msg A/S/inbox-1.msg A/S/inbox-4.msg
bad 65 W/shares4.msg session -- "${SHARES[@]}" W/shares4.msg
bad 65 A/adv4.msg "round 0" -- "${SHARES[@]}" A/adv4.msg
bad 65 A/S/roster.msg -- "${SHARES[@]}" A/S/roster.msg
forge retag A/shares4.msg A/bad/shares4-from9.msg --sender 9 --sign A/c4
bad 65 A/bad/shares4-from9.msg "client 9" -- "${SHARES[@]}" A/bad/shares4-from9.msg
forge retag A/shares4.msg A/bad/shares4-to3.msg --recipient 3 --sign A/c4
bad 65 A/bad/shares4-to3.msg -- "${SHARES[@]}" A/bad/shares4-to3.msg
bad 65 duplicate "client 3" -- "${SHARES[@]}" A/shares3.msg
forge retag A/shares4.msg A/bad/shares4-as1.msg --sender 1 --sign A/c1
bad 65 duplicate "client 1" -- "${SHARES[@]}" A/bad/shares4-as1.msg
forge flip A/shares4.msg 0 A/bad/shares4-body0.msg --sign A/c4
bad 65 A/bad/shares4-body0.msg -- "${SHARES[@]}" A/bad/shares4-body0.msg
forge flip A/shares4.msg "$(share_offset A/shares4.msg 0 peer)" A/bad/shares4-peer.msg --sign A/c4  # for 1 -> 0
bad 65 A/bad/shares4-peer.msg "client 4" -- "${SHARES[@]}" A/bad/shares4-peer.msg
bad 66 A/shares9.msg -- "${SHARES[@]}" A/shares4.msg A/shares9.msg
assert_absent A/S/u2.msg A/S/inbox-1.msg
walk_to A shares
assert_absent A/S/inbox-5.msg

# ---------------------------------------------------------------------------
section "secagg-mask --inbox"
guard A/S A/c1 A/c3 W/c1
MASK=(secagg-mask --state A/c1 --input A/x1.txt -o "$OUT" --inbox)
each_bad A/S/inbox-1.msg inbox1 "${MASK[@]}" @
bad 65 W/S/inbox-1.msg session -- "${MASK[@]}" W/S/inbox-1.msg
bad 65 A/S/roster.msg "round 0 (roster)" -- "${MASK[@]}" A/S/roster.msg
bad 65 A/shares1.msg -- "${MASK[@]}" A/shares1.msg
bad 65 A/S/u2.msg -- "${MASK[@]}" A/S/u2.msg
# Another client's inbox.
bad 65 A/S/inbox-2.msg "client 3" -- secagg-mask --state A/c3 --inbox A/S/inbox-2.msg --input A/x3.txt -o "$OUT"
bad 65 A/S/inbox-2.msg "client 1" -- "${MASK[@]}" A/S/inbox-2.msg
forge retag A/S/inbox-1.msg A/bad/inbox1-from2.msg --sender 2
bad 65 A/bad/inbox1-from2.msg "client 2" -- "${MASK[@]}" A/bad/inbox1-from2.msg
forge retag A/S/inbox-1.msg A/bad/inbox1-session.msg --session-from W/S/inbox-1.msg
bad 65 A/bad/inbox1-session.msg session -- "${MASK[@]}" A/bad/inbox1-session.msg
# Client 2's inbox readdressed to client 1: the shares are not client 1's to decrypt.
forge retag A/S/inbox-2.msg A/bad/inbox2-to1.msg --recipient 1
bad 65 A/bad/inbox2-to1.msg "client 1" -- "${MASK[@]}" A/bad/inbox2-to1.msg
# Another client's share tampered with (its ciphertext or nonce): the AEAD refuses it, and the
# client goes on without it, masks, and names the dealer in a warning (a bundle that does not open
# must not sink the session: docs/protocol.md); the state records it, and round 4 reports it missing.
forge flip A/S/inbox-1.msg "$(share_offset A/S/inbox-1.msg 1 ct_end)" A/bad/inbox1-ct2.msg
forge flip A/S/inbox-1.msg -1 A/bad/inbox1-ct4.msg
forge flip A/S/inbox-1.msg "$(share_offset A/S/inbox-1.msg 2 nonce)" A/bad/inbox1-nonce3.msg
for k in ct2:2 ct4:4 nonce3:3; do
  cp A/c1 "A/bad/c1-${k%:*}"
  expect_exit 0 secagg-mask --state "A/bad/c1-${k%:*}" --input A/x1.txt -o "A/bad/m1-${k%:*}.msg" \
    --inbox "A/bad/inbox1-${k%:*}.msg"
  expect_err "secagg-mask: warning: A/bad/inbox1-${k%:*}.msg: the round 1 shares of client ${k#*:} do not open for client 1"
  check "the state is at stage 2" grep -q ' stage=2 ' <(secagg-inspect "A/bad/c1-${k%:*}")
done
# Its own share must open: nothing else could have made it.
forge flip A/S/inbox-1.msg "$(share_offset A/S/inbox-1.msg 0 ct_end)" A/bad/inbox1-ct1.msg
bad 65 A/bad/inbox1-ct1.msg "client 1's own round 1 share does not open" -- "${MASK[@]}" A/bad/inbox1-ct1.msg
# A sender relabelled: 2 -> 3 (the senders are no longer sorted and unique).
forge flip A/S/inbox-1.msg "$(share_offset A/S/inbox-1.msg 1 peer)" A/bad/inbox1-peer.msg
bad 65 A/bad/inbox1-peer.msg -- "${MASK[@]}" A/bad/inbox1-peer.msg
forge flip A/S/inbox-1.msg 0 A/bad/inbox1-body0.msg
bad 65 A/bad/inbox1-body0.msg -- "${MASK[@]}" A/bad/inbox1-body0.msg
forge flip A/S/inbox-1.msg 1 A/bad/inbox1-count.msg
bad 65 A/bad/inbox1-count.msg -- "${MASK[@]}" A/bad/inbox1-count.msg
bad 66 A/S/inbox-9.msg -- "${MASK[@]}" A/S/inbox-9.msg
bad 65 A/S/inbox-1.msg session -- secagg-mask --state W/c1 --inbox A/S/inbox-1.msg --input A/x1.txt -o "$OUT"
bad 66 A/c9 -- secagg-mask --state A/c9 --inbox A/S/inbox-1.msg --input A/x1.txt -o "$OUT"

section "secagg-mask --input"
R=$(walk_modulus A)
INPUT=(secagg-mask --state A/c1 --inbox A/S/inbox-1.msg -o "$OUT" --input)
head -n 99 A/x1.txt >A/bad/x-short.txt
bad 65 A/bad/x-short.txt "99" -- "${INPUT[@]}" A/bad/x-short.txt
{ cat A/x1.txt; echo 5; } >A/bad/x-long.txt
bad 65 A/bad/x-long.txt "101" -- "${INPUT[@]}" A/bad/x-long.txt
: >A/bad/x-empty.txt
bad 65 A/bad/x-empty.txt -- "${INPUT[@]}" A/bad/x-empty.txt
printf '\n \n' >A/bad/x-blank.txt
bad 65 A/bad/x-blank.txt -- "${INPUT[@]}" A/bad/x-blank.txt
xin() {  # xin NAME LINE VALUE: A/x1.txt with element LINE (1-based) replaced
  awk -v l="$2" -v v="$3" 'NR == l { print v; next } { print }' A/x1.txt >"A/bad/x-$1.txt"
}
xin eqR 50 "$R"
bad 65 A/bad/x-eqR.txt "$R" -- "${INPUT[@]}" A/bad/x-eqR.txt
xin big 1 18446744073709551616
bad 65 A/bad/x-big.txt -- "${INPUT[@]}" A/bad/x-big.txt
xin u64max 100 18446744073709551615
bad 65 A/bad/x-u64max.txt -- "${INPUT[@]}" A/bad/x-u64max.txt
for v in -1 abc 1.5 0x10 +5 1e3 '12,3' '٣'; do
  xin word 7 "$v"
  bad 65 A/bad/x-word.txt -- "${INPUT[@]}" A/bad/x-word.txt
done
printf '1 2 3\0 4\n' >A/bad/x-nul.txt
bad 65 A/bad/x-nul.txt -- "${INPUT[@]}" A/bad/x-nul.txt
printf '1 2 3\033[2J\033[31m 4\n' >A/bad/x-esc.txt
bad 65 A/bad/x-esc.txt -- "${INPUT[@]}" A/bad/x-esc.txt
printf '1 2 3\r\n4 5x\r\n' >A/bad/x-crlf.txt
bad 65 A/bad/x-crlf.txt "line 2" -- "${INPUT[@]}" A/bad/x-crlf.txt
head -c 3000 /dev/zero | tr '\0' 7 >A/bad/x-longword.txt
bad 65 A/bad/x-longword.txt -- "${INPUT[@]}" A/bad/x-longword.txt
# Through standard input the error names <stdin>.
bad 65 "<stdin>" -- "${INPUT[@]}" - <A/bad/x-short.txt
# Binary vectors: another session's aggregate, a damaged one, a message that is no vector.
bad 65 W/S/aggregate.vec session -- "${INPUT[@]}" W/S/aggregate.vec
xorbyte W/S/aggregate.vec 50 1 A/bad/agg-corrupt.vec
bad 65 A/bad/agg-corrupt.vec checksum -- "${INPUT[@]}" A/bad/agg-corrupt.vec
bad 65 A/S/roster.msg -- "${INPUT[@]}" A/S/roster.msg
bad 66 A/x9.txt -- "${INPUT[@]}" A/x9.txt
bad 66 A/S -- "${INPUT[@]}" A/S
cp A/c1 A/bad/c1-copy2 && chmod 600 A/bad/c1-copy2
bad 73 A/nodir/masked.msg -- secagg-mask --state A/bad/c1-copy2 --inbox A/S/inbox-1.msg --input A/x1.txt \
  -o A/nodir/masked.msg
walk_to A mask

# ---------------------------------------------------------------------------
section "secagg-collect masked"
guard A/S
MASKED=(secagg-collect masked --session A/S A/masked1.msg A/masked2.msg)
each_bad A/masked3.msg masked3 "${MASKED[@]}" @
assert_absent A/S/survivors.msg A/S/masked-1.msg A/S/masked-2.msg
bad 65 W/masked3.msg session -- "${MASKED[@]}" W/masked3.msg
bad 65 A/shares3.msg "round 1" -- "${MASKED[@]}" A/shares3.msg
bad 65 A/S/inbox-3.msg -- "${MASKED[@]}" A/S/inbox-3.msg
# From a client not in U2 (5 dropped in round 1), and from no client at all.
forge retag A/masked3.msg A/bad/masked-from5.msg --sender 5 --sign A/c5
bad 65 A/bad/masked-from5.msg "client 5" -- "${MASKED[@]}" A/masked3.msg A/bad/masked-from5.msg
forge retag A/masked3.msg A/bad/masked-from0.msg --sender 0 --sign A/c3
bad 65 A/bad/masked-from0.msg -- "${MASKED[@]}" A/bad/masked-from0.msg
forge retag A/masked3.msg A/bad/masked-to2.msg --recipient 2 --sign A/c3
bad 65 A/bad/masked-to2.msg -- "${MASKED[@]}" A/bad/masked-to2.msg
bad 65 duplicate "client 2" -- "${MASKED[@]}" A/masked2.msg A/masked3.msg
forge retag A/masked3.msg A/bad/masked3-as1.msg --sender 1 --sign A/c1
bad 65 duplicate "client 1" -- "${MASKED[@]}" A/bad/masked3-as1.msg
forge flip A/masked3.msg 0 A/bad/masked3-body0.msg --sign A/c3
bad 65 A/bad/masked3-body0.msg -- "${MASKED[@]}" A/bad/masked3-body0.msg
forge flip A/masked3.msg 1 A/bad/masked3-modulus.msg --sign A/c3
bad 65 A/bad/masked3-modulus.msg "client 3" -- "${MASKED[@]}" A/bad/masked3-modulus.msg
forge flip A/masked3.msg 9 A/bad/masked3-length.msg --sign A/c3
bad 65 A/bad/masked3-length.msg "client 3" -- "${MASKED[@]}" A/bad/masked3-length.msg
bad 66 A/masked9.msg -- "${MASKED[@]}" A/masked3.msg A/masked9.msg
assert_absent A/S/survivors.msg
walk_to A masked

# ---------------------------------------------------------------------------
section "secagg-unmask --survivors"
guard A/S A/c1 W/c1
UNMASK=(secagg-unmask --state A/c1 -o "$OUT" --survivors)
each_bad A/S/survivors.msg survivors "${UNMASK[@]}" @
bad 65 W/S/survivors.msg session -- "${UNMASK[@]}" W/S/survivors.msg
bad 65 A/S/roster.msg -- "${UNMASK[@]}" A/S/roster.msg
bad 65 A/S/u2.msg -- "${UNMASK[@]}" A/S/u2.msg
bad 65 A/masked1.msg -- "${UNMASK[@]}" A/masked1.msg
forge retag A/S/survivors.msg A/bad/survivors-from2.msg --sender 2
bad 65 A/bad/survivors-from2.msg "client 2" -- "${UNMASK[@]}" A/bad/survivors-from2.msg
forge retag A/S/survivors.msg A/bad/survivors-session.msg --session-from W/S/survivors.msg
bad 65 A/bad/survivors-session.msg session -- "${UNMASK[@]}" A/bad/survivors-session.msg
forge flip A/S/survivors.msg 0 A/bad/survivors-body0.msg
bad 65 A/bad/survivors-body0.msg -- "${UNMASK[@]}" A/bad/survivors-body0.msg
forge flip A/S/survivors.msg 1 A/bad/survivors-count.msg
bad 65 A/bad/survivors-count.msg -- "${UNMASK[@]}" A/bad/survivors-count.msg
bad 66 A/S/survivors-missing.msg -- "${UNMASK[@]}" A/S/survivors-missing.msg
bad 65 A/S/survivors.msg session -- secagg-unmask --state W/c1 --survivors A/S/survivors.msg -o "$OUT"
cp A/c1 A/bad/c1-copy3 && chmod 600 A/bad/c1-copy3
bad 73 A/nodir/unmask.msg -- secagg-unmask --state A/bad/c1-copy3 --survivors A/S/survivors.msg -o A/nodir/unmask.msg
# The round-4 answer is a client's last message: its state drops the signing key after it. Keep
# copies with the key, to sign forged answers below.
mkdir -p A/keys
for i in 1 2 3; do cp -p "A/c$i" "A/keys/c$i"; done
walk_to A unmask

# ---------------------------------------------------------------------------
section "secagg-collect unmask"
guard A/S
COLLECT=(secagg-collect unmask --session A/S --text -o "$OUT" A/unmask1.msg A/unmask2.msg)
each_bad A/unmask3.msg unmask3 "${COLLECT[@]}" @
assert_absent A/S/aggregate.vec A/S/unmask-1.msg
bad 65 W/unmask3.msg session -- "${COLLECT[@]}" W/unmask3.msg
bad 65 A/masked3.msg "round 2" -- "${COLLECT[@]}" A/masked3.msg
bad 65 A/S/survivors.msg -- "${COLLECT[@]}" A/S/survivors.msg
# From a client not in U3 (4 dropped in round 2).
forge retag A/unmask3.msg A/bad/unmask-from4.msg --sender 4 --sign A/c4
bad 65 A/bad/unmask-from4.msg "client 4" -- "${COLLECT[@]}" A/unmask3.msg A/bad/unmask-from4.msg
forge retag A/unmask3.msg A/bad/unmask-to1.msg --recipient 1 --sign A/keys/c3
bad 65 A/bad/unmask-to1.msg -- "${COLLECT[@]}" A/bad/unmask-to1.msg
bad 65 duplicate "client 1" -- "${COLLECT[@]}" A/unmask1.msg A/unmask3.msg
forge retag A/unmask3.msg A/bad/unmask3-as2.msg --sender 2 --sign A/keys/c2
bad 65 duplicate "client 2" -- "${COLLECT[@]}" A/bad/unmask3-as2.msg
forge flip A/unmask3.msg 0 A/bad/unmask3-body0.msg --sign A/keys/c3
bad 65 A/bad/unmask3-body0.msg -- "${COLLECT[@]}" A/bad/unmask3-body0.msg
forge flip A/unmask3.msg 1 A/bad/unmask3-count.msg --sign A/keys/c3
bad 65 A/bad/unmask3-count.msg -- "${COLLECT[@]}" A/bad/unmask3-count.msg
# The x of the first self-mask share (owner 1: count at 1..8, owner at 9..12, x at 13).
forge flip A/unmask3.msg 13 A/bad/unmask3-x.msg --sign A/keys/c3
bad 65 A/bad/unmask3-x.msg "client 3" -- "${COLLECT[@]}" A/bad/unmask3-x.msg
# A bad share of the dropped client 4's mask key: the reconstructed key does not match.
forge flip A/unmask3.msg -8 A/bad/unmask3-keyshare.msg --sign A/keys/c3
bad 65 "client 4" -- "${COLLECT[@]}" A/bad/unmask3-keyshare.msg
bad 66 A/unmask9.msg -- "${COLLECT[@]}" A/unmask3.msg A/unmask9.msg
assert_absent A/S/aggregate.vec

section "damaged or missing session files"
damaged_session() {  # damaged_session FILE KIND CODE NEEDLE...: a copy C of A/S with FILE damaged
  local file=$1 kind=$2 code=$3
  shift 3
  rm -rf C && cp -a A/S C
  case $kind in
    corrupt) xorbyte "A/S/$file" 45 1 "C/$file" ;;
    missing) rm "C/$file" ;;
    foreign) cp "W/S/$file" "C/$file" ;;
  esac
  snapshot C
  expect_exit "$code" secagg-collect unmask --session C --text -o "$OUT" A/unmask1.msg A/unmask2.msg A/unmask3.msg
  expect_err "C/$file" "$@"
  assert_absent "$OUT" C/aggregate.vec
  assert_unchanged C
}
for f in params.msg roster.msg u2.msg survivors.msg masked-sum.vec; do
  damaged_session "$f" corrupt 65 checksum
  damaged_session "$f" missing 66
done
for f in roster.msg u2.msg survivors.msg masked-sum.vec; do damaged_session "$f" foreign 65; done
rm -rf C
guard A/S
bad 66 A/nosuchsession -- secagg-collect unmask --session A/nosuchsession --text -o "$OUT" A/unmask1.msg

section "secagg-inspect names the damaged file"
for kind in "${BAD_KINDS[@]}"; do
  expect_exit 65 secagg-inspect "A/bad/unmask3-$kind.msg"
  expect_err "A/bad/unmask3-$kind.msg"
done
for f in A/bad/roster-count.msg A/bad/inbox1-count.msg A/bad/unmask3-body0.msg; do
  expect_exit 65 secagg-inspect "$f"
  expect_err "$f"
  expect_exit 65 secagg-inspect --json "$f"
  expect_err "$f"
done
bad 66 A/nothing.msg -- secagg-inspect A/nothing.msg

section "after all that, the session completes with the exact sum"
# (The server has recorded the answers and the aggregate in S by the time -o fails.)
GUARD=()
bad 73 A/nodir/sum.txt -- secagg-collect unmask --session A/S A/unmask1.msg A/unmask2.msg A/unmask3.msg --text \
  -o A/nodir/sum.txt
expect_exit 0 secagg-collect unmask --session A/S A/unmask1.msg A/unmask2.msg A/unmask3.msg --text -o A/sum.txt
check_sum A/sum.txt A/x1.txt A/x2.txt A/x3.txt "$R"

section "setup: output that cannot be created"
: >afile
GUARD=()
bad 73 afile -- secagg-collect setup --session afile/S --clients 3 --threshold 2 --modulus-bits 8 --length 4

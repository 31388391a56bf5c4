#!/usr/bin/env bash
# Make a golden transcript: one small fixed session run with the real tools in the INSECURE
# deterministic mode, every message it produces written to an output directory.
#
#   scripts/make-golden.sh TOOL_DIR OUT_DIR [SET]
#
# TOOL_DIR holds the secagg-* executables (the build directory). OUT_DIR is created if
# missing and must not already hold a transcript. SET names the session (default: base):
#
#   base               n = 4, t = 3, R = 2^16, length 8, AES-128-CTR; client 4 sends its shares
#                      (round 1) and then drops, so U2 = {1..4}, U3 = U4 = {1, 2, 3} and the
#                      server recovers client 4's mask key. Its output is testdata/golden/.
#   chacha20-r1000003  n = 7, t = 4, R = 1000003 (not a power of two: 20-bit elements, so a
#                      length of 13 packs into 32.5 bytes), ChaCha20; client 7 drops in round 1
#                      (no shares), client 6 in round 2 (no masked input) and client 5 in
#                      round 4 (no answer): U2 = {1..6}, U3 = {1..5}, U4 = {1..4}.
#   secaggplus-k6-b37  SecAgg+: n = 10, --neighbours 6, t = 4, R = 2^37 (37-bit elements, a
#                      length of 11 packs into 50.875 bytes), AES-128-CTR; client 10 drops in
#                      round 1, client 9 in round 2 and client 8 in round 4. Each client reads
#                      its own window of the committed roster, roster-<i>.msg (kept).
#   active-n7          an active session (docs/security.md, "Active mode"): n = 7, --corrupt 0, t = 4,
#                      R = 2^24, length 9; a CA and seven certified identities (ca.pub and
#                      cert<i>.msg are kept; the identity keys stay in the scratch directory);
#                      client 7 drops in round 2, client 6 signs nothing in round 3 and client 5
#                      does not answer in round 4: U3 = {1..6}, U4 = {1..5}, answers {1..4}. It
#                      keeps the round-3 signatures (sig<i>.msg) and consistency.msg.
#
# The other sets are in testdata/golden/SET/. tests/cli/t0500-golden.sh regenerates every set
# and compares byte for byte, aggregate included, so a change to the wire format, the
# randomness or the protocol shows up there. After such an intended change, regenerate with
#   rm -r testdata/golden && scripts/make-golden.sh build testdata/golden &&
#   for s in chacha20-r1000003 secaggplus-k6-b37 active-n7; do scripts/make-golden.sh build testdata/golden/$s $s; done
#
# The client state files (c1..cN) hold secret keys: they stay in a scratch directory that is
# removed at exit. The one exception pins the ClientState layout (secagg-formats(5)): the
# chacha20-r1000003 set keeps client 1's state after each of its steps, as
# state1-round{0,1,2,4}.state, secrets and all (the deterministic mode makes them public
# anyway). SECAGG_GOLDEN_THREADS, if set, is passed to every --threads option (the transcript
# must not depend on it).
set -euo pipefail

if [ $# -ne 2 ] && [ $# -ne 3 ]; then
  echo "usage: $0 TOOL_DIR OUT_DIR [SET]" >&2
  exit 64
fi
bin=$1
out=$2
set_name=${3:-base}
for t in collect keygen share mask unmask; do
  [ -x "$bin/secagg-$t" ] || { echo "$0: error: $bin/secagg-$t is not an executable" >&2; exit 66; }
done
if [ -e "$out/params.msg" ]; then
  echo "$0: error: $out already holds a transcript; remove it first" >&2
  exit 73
fi

# The session of each set: clients, threshold, setup options, and who drops in rounds 1, 2, 4.
case $set_name in
  base)
    seed=golden-v1 n=4 t=3 len=8 setup_args=(--modulus-bits 16 --prg aes128ctr)
    drop1="" drop2="4" drop4="" ;;
  chacha20-r1000003)
    seed="golden-v1 $set_name" n=7 t=4 len=13 setup_args=(--modulus 1000003 --prg chacha20)
    drop1="7" drop2="6" drop4="5" ;;
  secaggplus-k6-b37)
    seed="golden-v1 $set_name" n=10 t=4 len=11 setup_args=(--modulus-bits 37 --prg aes128ctr --neighbours 6)
    drop1="10" drop2="9" drop4="8" ;;
  active-n7)
    seed="golden-v1 $set_name" n=7 t=4 len=9 setup_args=(--modulus-bits 24 --prg aes128ctr --threat-model active --corrupt 0)
    drop1="" drop2="7" drop3="6" drop4="5" ;;
  *)
    echo "$0: error: unknown set '$set_name' (base, chacha20-r1000003, secaggplus-k6-b37, active-n7)" >&2
    exit 64 ;;
esac

export SECAGG_INSECURE_DETERMINISTIC_SEED=$seed
export LC_ALL=C
threads=()
[ -n "${SECAGG_GOLDEN_THREADS:-}" ] && threads=(--threads "$SECAGG_GOLDEN_THREADS")

work=$(mktemp -d "${TMPDIR:-/tmp}/secagg-golden.XXXXXX")
trap 'rm -rf "$work"' EXIT
S=$work/session
mkdir -p "$out"

quiet() { "$@" 2> "$work/last.err" || { cat "$work/last.err" >&2; return 1; }; }
active=""
[ "$set_name" = active-n7 ] && active=1
drop3=${drop3:-}

# An active session's CA and client identities, made in the scratch directory under relative
# names (the deterministic mode seeds each from its command line); only the public files are kept.
id_args() { :; }
if [ -n "$active" ]; then
  keygen=$(cd "$bin" && pwd)/secagg-keygen
  (
    cd "$work"
    quiet "$keygen" identity -o ca.key
    for i in $(seq 1 "$n"); do
      quiet "$keygen" identity -o "id$i.key"
      quiet "$keygen" certify --ca ca.key --id "$i" --pub "id$i.pub" -o "cert$i.msg"
    done
  )
  cp "$work/ca.pub" "$out/ca.pub"
  for i in $(seq 1 "$n"); do cp "$work/cert$i.msg" "$out/cert$i.msg"; done
  setup_args+=(--ca "$work/ca.pub")
  id_args() { echo "--identity $work/id$1.key --cert $work/cert$1.msg"; }
fi

# The sets U1 (everyone) and U2, U3, U4 (in an active session, the signers of round 3), and the
# round-4 answers, as lists of ids.
minus() { local a b keep r=""; for a in $1; do keep=1; for b in $2; do [ "$a" = "$b" ] && keep=0; done; [ $keep = 1 ] && r="$r $a"; done; echo $r; }
u1=$(seq -s ' ' 1 "$n")
u2=$(minus "$u1" "$drop1")
u3=$(minus "$u2" "$drop2")
u4=$(minus "$u3" "$drop3")
answers=$(minus "$u4" "$drop4")
files() { local pre=$1 suf=$2 i r=(); shift 2; for i in $*; do r+=("$out/$pre$i$suf"); done; printf '%s\n' "${r[@]}"; }

# The tools must say that the mode is on; a build that ignored the variable would make a
# transcript that is random.
"$bin/secagg-collect" setup --session "$S" --clients "$n" --threshold "$t" --length "$len" "${setup_args[@]}" \
  2> "$work/setup.err"
if ! grep -q 'INSECURE' "$work/setup.err"; then
  echo "$0: error: secagg-collect setup did not warn about the deterministic mode:" >&2
  cat "$work/setup.err" >&2
  exit 70
fi
modulus=$("$bin/secagg-inspect" "$S/params.msg" 2>/dev/null | sed -n 's/.* modulus=\([0-9]*\) .*/\1/p')

# Fixed inputs, one per client, in [0, R); a dropped client's is never used.
if [ "$set_name" = base ]; then
  inputs=(
    ""
    "0 1 2 3 65535 40000 12345 7"
    "65535 65535 65535 65535 1 2 3 4"
    "1000 2000 3000 4000 5000 6000 7000 8000"
    "11 22 33 44 55 66 77 88"
  )
  for i in 1 2 3 4; do
    read -ra elements <<<"${inputs[$i]}"
    printf '%s\n' "${elements[@]}" > "$out/input$i.txt"
  done
else
  # Element j of client i: R - 1 for j = 0 (so the sum wraps), else (i * 7919 + j * 104729) mod R.
  for i in $u1; do
    for ((j = 0; j < len; j++)); do
      if [ $j = 0 ]; then echo $((modulus - 1)); else echo $(((i * 7919 + j * 104729) % modulus)); fi
    done > "$out/input$i.txt"
  done
fi

# keep_state ROUND: the chacha20-r1000003 set keeps client 1's state as it is after ROUND.
keep_state() {
  if [ "$set_name" = chacha20-r1000003 ]; then cp "$work/c1" "$out/state1-round$1.state"; fi
}

# Round 0: every client advertises its keys.
for i in $u1; do
  # shellcheck disable=SC2046
  quiet "$bin/secagg-keygen" --params "$S/params.msg" --id "$i" --state "$work/c$i" $(id_args "$i") -o "$out/adv$i.msg"
done
mapfile -t f < <(files adv .msg $u1)
keep_state 0
quiet "$bin/secagg-collect" keys --session "$S" "${f[@]}"

# Round 1: the clients of U2 share their keys (in SecAgg+ each from its own window of the roster).
for i in $u2; do
  roster=$S/roster.msg
  if [ -f "$S/roster-$i.msg" ]; then roster=$S/roster-$i.msg; fi
  quiet "$bin/secagg-share" --state "$work/c$i" --roster "$roster" -o "$out/shares$i.msg"
done
mapfile -t f < <(files shares .msg $u2)
keep_state 1
quiet "$bin/secagg-collect" shares --session "$S" "${f[@]}"

# Round 2: the clients of U3 mask their inputs.
for i in $u3; do
  quiet "$bin/secagg-mask" --state "$work/c$i" --inbox "$S/inbox-$i.msg" --input "$out/input$i.txt" \
    "${threads[@]}" -o "$out/masked$i.msg"
done
mapfile -t f < <(files masked .msg $u3)
keep_state 2
quiet "$bin/secagg-collect" masked --session "$S" "${f[@]}"

# Round 3 (active sessions): the clients of U4 sign U3.
consistency=()
if [ -n "$active" ]; then
  for i in $u4; do
    quiet "$bin/secagg-unmask" sign --state "$work/c$i" --survivors "$S/survivors.msg" -o "$out/sig$i.msg"
  done
  mapfile -t f < <(files sig .msg $u4)
  quiet "$bin/secagg-collect" consistency --session "$S" "${f[@]}"
  consistency=(--consistency "$S/consistency.msg")
fi

# Round 4: the clients that answer.
for i in $answers; do
  quiet "$bin/secagg-unmask" --state "$work/c$i" --survivors "$S/survivors.msg" "${consistency[@]}" \
    -o "$out/unmask$i.msg"
done
mapfile -t f < <(files unmask .msg $answers)
keep_state 4
quiet "$bin/secagg-collect" unmask --session "$S" --text "${threads[@]}" -o "$out/sum.txt" "${f[@]}"

# The server's files. Its copies of the masked inputs and answers must be the messages as sent.
for f in params.msg roster.msg u2.msg survivors.msg aggregate.vec; do
  cp "$S/$f" "$out/$f"
done
[ -n "$active" ] && cp "$S/consistency.msg" "$out/consistency.msg"
for i in $u2; do cp "$S/inbox-$i.msg" "$out/inbox-$i.msg"; done
for i in $u1; do if [ -f "$S/roster-$i.msg" ]; then cp "$S/roster-$i.msg" "$out/roster-$i.msg"; fi; done
for i in $u3; do
  cmp -s "$S/masked-$i.msg" "$out/masked$i.msg" || { echo "$0: error: S/masked-$i.msg differs from the message sent" >&2; exit 70; }
done
for i in $answers; do
  cmp -s "$S/unmask-$i.msg" "$out/unmask$i.msg" || { echo "$0: error: S/unmask-$i.msg differs from the message sent" >&2; exit 70; }
done

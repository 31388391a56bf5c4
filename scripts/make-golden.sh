#!/usr/bin/env bash
# Make the golden transcript: one small fixed session run with the real tools in the
# INSECURE deterministic mode, every message it produces written to an output directory.
#
#   scripts/make-golden.sh TOOL_DIR OUT_DIR
#
# TOOL_DIR holds the secagg-* executables (the build directory). OUT_DIR is created if
# missing and must not already hold a transcript. The session: n = 4, t = 3, R = 2^16,
# length 8, AES-128-CTR; client 4 sends its shares (round 1) and then drops, so U2 = {1..4},
# U3 = U4 = {1, 2, 3} and the server recovers client 4's mask key.
#
# testdata/golden/ is this script's output; tests/cli/t0500-golden.sh regenerates it and
# compares byte for byte, so a change to the wire format, the randomness or the protocol
# shows up there. After such an intended change, regenerate with
#   rm -r testdata/golden && scripts/make-golden.sh build testdata/golden
#
# The client state files (c1..c4) hold secret keys: they stay in a scratch directory that is
# removed at exit, and are never written to OUT_DIR. SECAGG_GOLDEN_THREADS, if set, is passed
# to every --threads option (the transcript must not depend on it).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 TOOL_DIR OUT_DIR" >&2
  exit 64
fi
bin=$1
out=$2
for t in collect keygen share mask unmask; do
  [ -x "$bin/secagg-$t" ] || { echo "$0: error: $bin/secagg-$t is not an executable" >&2; exit 66; }
done
if [ -e "$out/params.msg" ]; then
  echo "$0: error: $out already holds a transcript; remove it first" >&2
  exit 73
fi

export SECAGG_INSECURE_DETERMINISTIC_SEED=golden-v1
export LC_ALL=C
threads=()
[ -n "${SECAGG_GOLDEN_THREADS:-}" ] && threads=(--threads "$SECAGG_GOLDEN_THREADS")

work=$(mktemp -d "${TMPDIR:-/tmp}/secagg-golden.XXXXXX")
trap 'rm -rf "$work"' EXIT
S=$work/session
mkdir -p "$out"

# Fixed inputs, one per client, in [0, 2^16); client 4's is never used (it drops before round 2).
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

# The tools must say that the mode is on; a build that ignored the variable would make a
# transcript that is random.
"$bin/secagg-collect" setup --session "$S" --clients 4 --threshold 3 --modulus-bits 16 --length 8 \
  --prg aes128ctr 2> "$work/setup.err"
if ! grep -q 'INSECURE' "$work/setup.err"; then
  echo "$0: error: secagg-collect setup did not warn about the deterministic mode:" >&2
  cat "$work/setup.err" >&2
  exit 70
fi

quiet() { "$@" 2> "$work/last.err" || { cat "$work/last.err" >&2; return 1; }; }

# Round 0: every client advertises its keys.
for i in 1 2 3 4; do
  quiet "$bin/secagg-keygen" --params "$S/params.msg" --id "$i" --state "$work/c$i" -o "$out/adv$i.msg"
done
quiet "$bin/secagg-collect" keys --session "$S" "$out"/adv{1,2,3,4}.msg

# Round 1: every client shares its keys.
for i in 1 2 3 4; do
  quiet "$bin/secagg-share" --state "$work/c$i" --roster "$S/roster.msg" -o "$out/shares$i.msg"
done
quiet "$bin/secagg-collect" shares --session "$S" "$out"/shares{1,2,3,4}.msg

# Round 2: client 4 has dropped.
for i in 1 2 3; do
  quiet "$bin/secagg-mask" --state "$work/c$i" --inbox "$S/inbox-$i.msg" --input "$out/input$i.txt" \
    "${threads[@]}" -o "$out/masked$i.msg"
done
quiet "$bin/secagg-collect" masked --session "$S" "$out"/masked{1,2,3}.msg

# Round 4.
for i in 1 2 3; do
  quiet "$bin/secagg-unmask" --state "$work/c$i" --survivors "$S/survivors.msg" -o "$out/unmask$i.msg"
done
quiet "$bin/secagg-collect" unmask --session "$S" --text "${threads[@]}" -o "$out/sum.txt" "$out"/unmask{1,2,3}.msg

# The server's files. Its copies of the masked inputs and answers must be the messages as sent.
for f in params.msg roster.msg inbox-1.msg inbox-2.msg inbox-3.msg inbox-4.msg u2.msg survivors.msg aggregate.vec; do
  cp "$S/$f" "$out/$f"
done
for i in 1 2 3; do
  cmp -s "$S/masked-$i.msg" "$out/masked$i.msg" || { echo "$0: error: S/masked-$i.msg differs from the message sent" >&2; exit 70; }
  cmp -s "$S/unmask-$i.msg" "$out/unmask$i.msg" || { echo "$0: error: S/unmask-$i.msg differs from the message sent" >&2; exit 70; }
done

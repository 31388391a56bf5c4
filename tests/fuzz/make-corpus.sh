#!/usr/bin/env bash
# make-corpus.sh BUILD_DIR [FUZZ_SERVER]
#
# (Re)generates the fuzz seed corpus tests/fuzz/corpus/<target>/ from real sessions run
# with the real tools in BUILD_DIR (secagg-collect, -keygen, -share, -mask, -unmask), in
# deterministic mode (SECAGG_INSECURE_DETERMINISTIC_SEED=secagg-fuzz), so the corpus is the
# same on every machine and every run:
#   session A: 4 clients, t = 3, full SecAgg, R = 2^32, length 16; client 4 drops after round 1
#   session B: 6 clients, t = 2, neighbours 2, R = 1000003, length 16, chacha20; client 6
#              drops after round 1; SecAgg+, so each client shares from its own S/roster-<i>.msg
# fuzz_server rebuilds both sessions in-process with the same seed and parameters; if a
# fuzz_server binary is found (FUZZ_SERVER, or BUILD_DIR/tests/fuzz/fuzz_server), this
# script checks that its sessions are byte-identical to the tools' (otherwise its seeds
# would not match its session and it would fuzz far less deep).
#
# Usage: tests/fuzz/make-corpus.sh build-dev   (after building the tools)
# .npy seeds need /usr/bin/python3 with numpy; without it they are skipped (with a note).
# Old seeds are replaced, except the fuzzing findings' reproducers (regress-*, see
# docs/fuzzing.md), which are kept as they are; the corpus is about 200 KB.
set -euo pipefail

BIN=$(cd "${1:?usage: make-corpus.sh BUILD_DIR [FUZZ_SERVER]}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/corpus
FUZZ_SERVER=${2:-$BIN/tests/fuzz/fuzz_server}
for t in secagg-collect secagg-keygen secagg-share secagg-mask secagg-unmask; do
  [[ -x $BIN/$t ]] || { echo "make-corpus.sh: $BIN/$t is missing (build first)" >&2; exit 1; }
done
export PATH="$BIN:$PATH"
export LC_ALL=C
export SECAGG_INSECURE_DETERMINISTIC_SEED=secagg-fuzz

# SECAGG_CORPUS_WORK=DIR keeps the sessions (DIR/A, DIR/B: session directories S, client
# states c<i>.<step>, messages) for replaying reproducers against the tools.
if [[ -n ${SECAGG_CORPUS_WORK:-} ]]; then
  WORK=$SECAGG_CORPUS_WORK
  rm -rf "$WORK"
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/secagg-corpus.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
fi
cd "$WORK"
quiet() { "$@" 2> >(grep -v 'randomness is deterministic and INSECURE' >&2); }

# walk NAME N T DROPPED SETUP_ARGS...: a whole session in directory NAME; client DROPPED
# sends its shares and then vanishes. Client states are copied after every step
# (NAME/c<i>.keygen, .share, .mask, .unmask).
walk() {
  local s=$1 n=$2 t=$3 drop=$4
  shift 4
  mkdir -p "$s"
  quiet secagg-collect setup --session "$s/S" --clients "$n" --threshold "$t" --length 16 "$@"
  local i
  for ((i = 1; i <= n; i++)); do
    quiet secagg-keygen --params "$s/S/params.msg" --id "$i" --state "$s/c$i" -o "$s/adv$i.msg"
    cp "$s/c$i" "$s/c$i.keygen"
  done
  quiet secagg-collect keys --session "$s/S" "$s"/adv*.msg
  for ((i = 1; i <= n; i++)); do
    # SecAgg+: the client's own neighbourhood message; full SecAgg: the roster.
    local roster=$s/S/roster.msg
    [[ -e $s/S/roster-$i.msg ]] && roster=$s/S/roster-$i.msg
    quiet secagg-share --threads 1 --state "$s/c$i" --roster "$roster" -o "$s/shares$i.msg"
    cp "$s/c$i" "$s/c$i.share"
  done
  quiet secagg-collect shares --session "$s/S" "$s"/shares*.msg
  local masked=() unmask=()
  for ((i = 1; i <= n; i++)); do
    ((i == drop)) && continue
    # 16 deterministic elements below both sessions' moduli.
    for ((k = 0; k < 16; k++)); do echo $(((k * 7919 + i * 104729) % 1000003)); done >"$s/x$i.txt"
    quiet secagg-mask --threads 1 --state "$s/c$i" --inbox "$s/S/inbox-$i.msg" --input "$s/x$i.txt" -o "$s/masked$i.msg"
    cp "$s/c$i" "$s/c$i.mask"
    masked+=("$s/masked$i.msg")
  done
  quiet secagg-collect masked --session "$s/S" "${masked[@]}"
  for ((i = 1; i <= n; i++)); do
    ((i == drop)) && continue
    quiet secagg-unmask --state "$s/c$i" --survivors "$s/S/survivors.msg" -o "$s/unmask$i.msg"
    cp "$s/c$i" "$s/c$i.unmask"
    unmask+=("$s/unmask$i.msg")
  done
  quiet secagg-collect unmask --session "$s/S" "${unmask[@]}" --text -o "$s/sum.txt"
}

walk A 4 3 4 --modulus-bits 32
walk B 6 2 6 --modulus 1000003 --neighbours 2 --prg chacha20

# Does fuzz_server's in-process session equal the tools' one?
if [[ -x $FUZZ_SERVER ]]; then
  : >empty
  SECAGG_FUZZ_DUMP_SESSION=$WORK/dump "$FUZZ_SERVER" --runs 0 empty 2>/dev/null >/dev/null
  for s in A B; do
    for f in params.msg roster.msg survivors.msg; do
      cmp -s "$s/S/$f" "dump/$s/$f" || { echo "make-corpus.sh: $s/$f differs from fuzz_server's session" >&2; exit 1; }
    done
    for f in dump/$s/inbox-*.msg dump/$s/roster-*.msg; do
      [[ -e $f ]] || continue
      cmp -s "$s/S/$(basename "$f")" "$f" || { echo "make-corpus.sh: $s/$(basename "$f") differs from fuzz_server's session" >&2; exit 1; }
    done
    for f in dump/$s/c*.keygen dump/$s/c*.share; do
      cmp -s "$s/$(basename "$f")" "$f" || { echo "make-corpus.sh: $s/$(basename "$f") differs from fuzz_server's session" >&2; exit 1; }
    done
  done
  echo "make-corpus.sh: fuzz_server's sessions match the tools' byte for byte"
else
  echo "make-corpus.sh: note: no fuzz_server at $FUZZ_SERVER; its session was not compared" >&2
fi

mkdir -p kept
for f in "$OUT"/*/regress-*; do
  [[ -e $f ]] || continue
  mkdir -p "kept/$(basename "$(dirname "$f")")"
  cp "$f" "kept/$(basename "$(dirname "$f")")/"
done
rm -rf "$OUT"
mkdir -p "$OUT"/{envelope,vector,floats,server}
cp -r kept/. "$OUT"/

# seed OUT PREFIX FILE: OUT = the bytes PREFIX (printf escapes) followed by FILE.
seed() { { printf "$2"; cat "$3"; } >"$1"; }
hex() { printf '\\x%02x' "$1"; }

# --- envelope: one file per message type, both sessions --------------------------------
E=$OUT/envelope
for s in A B; do
  cp "$s/S/params.msg" "$E/$s-params.msg"
  cp "$s/adv1.msg" "$E/$s-advertise-keys.msg"
  cp "$s/S/roster.msg" "$E/$s-roster.msg"
  cp "$s/shares1.msg" "$E/$s-share-keys.msg"
  cp "$s/S/inbox-1.msg" "$E/$s-inbox.msg"
  cp "$s/S/u2.msg" "$E/$s-server-round1.msg"
  cp "$s/masked1.msg" "$E/$s-masked-input.msg"
  cp "$s/S/survivors.msg" "$E/$s-survivors.msg"
  cp "$s/unmask1.msg" "$E/$s-unmask-shares.msg"
  cp "$s/S/aggregate.vec" "$E/$s-vector.vec"
  cp "$s/c1.unmask" "$E/$s-client-state.msg"
done
cp B/S/roster-1.msg "$E/B-neighbourhood.msg"
cp A/c1.keygen "$E/A-client-state-keygen.msg"
cp A/S/masked-sum.vec "$E/A-masked-sum.vec"

# --- vector: [modulus index][length index][session flag] + file (fuzz_vector.cpp) -------
# modulus index 0 = 2^32 (session A), 7 = 1000003 (session B); length index 1 = 16, 0 = any.
V=$OUT/vector
seed "$V/A-aggregate-16" '\x00\x01\x00' A/S/aggregate.vec
seed "$V/A-masked-sum-any" '\x00\x00\x00' A/S/masked-sum.vec
seed "$V/A-masked-input-16" '\x00\x01\x00' A/masked1.msg
seed "$V/A-sum-text-16" '\x00\x01\x00' A/sum.txt
seed "$V/A-input-text-any" '\x00\x00\x00' A/x1.txt
seed "$V/B-aggregate-16" '\x07\x01\x00' B/S/aggregate.vec
seed "$V/B-sum-text-any" '\x07\x00\x00' B/sum.txt
printf '\x00\x00\x00' >"$V/empty-text"
printf '\x01\x00\x00 0 1\t1\r\n0\v\f1\n' >"$V/mod2-whitespace"
printf '\x0e\x00\x004611686018427387903\n0\n' >"$V/mod2p62-edges"

# --- floats: [format] + file; 0 detect (.npy or text), 1 raw float32, 2 raw float64 ------
F=$OUT/floats
printf '\x00%s' $'0.5\n-1.25\n3e-5\n+2\n-0\n1e300\n' >"$F/text"
printf '\x00%s' $'nan inf -inf 4.9e-324 1.7976931348623157e308\n' >"$F/text-special"
printf '\x00' >"$F/empty"
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=$(command -v python3 || true); fi
if [[ -n $PY ]]; then
  "$PY" - "$F" <<'EOF'
import struct, sys
out = sys.argv[1]
vals = [0.5, -1.25, 3e-5, 1e30, -0.0, 65504.0]
open(f"{out}/raw-f32", "wb").write(b"\x01" + struct.pack("<6f", *vals))
open(f"{out}/raw-f64", "wb").write(b"\x02" + struct.pack("<6d", *vals))
EOF
  if "$PY" -c 'import numpy' 2>/dev/null; then
    "$PY" - "$F" <<'EOF'
import io, sys
import numpy as np
out = sys.argv[1]
def save(name, a, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, a)
    else:
        np.lib.format.write_array(b, a, version=version)
    open(f"{out}/{name}.npy", "wb").write(b"\x00" + b.getvalue())
v = np.array([0.5, -1.25, 3e-5, 1e30, -0.0, 65504.0])
save("f64", v)
save("f32", v.astype("<f4"))
save("f64-big-endian", v.astype(">f8"))
save("f32-big-endian", v.astype(">f4"))
save("f64-2d", v.reshape(2, 3))
save("f32-3d", v.astype("<f4").reshape(1, 2, 3))
save("f64-fortran-column", np.asfortranarray(v.reshape(6, 1)))
save("f64-scalar", np.float64(2.5))
save("f64-empty", np.zeros((0,)))
save("f64-empty-2d", np.zeros((3, 0)))
save("f64-v2", v, version=(2, 0))
save("f32-v3", v.astype("<f4"), version=(3, 0))
EOF
  else
    echo "make-corpus.sh: note: numpy is not available: no .npy seeds" >&2
  fi
else
  echo "make-corpus.sh: note: no python3: no raw float or .npy seeds" >&2
fi

# --- server: [operation][flags] + message (fuzz_server.cpp) ----------------------------
# flags: bits 2-4 the slot (client id - 1, or the index in U2 / U3, the same here), bit 6
# session B.
S=$OUT/server
for s in A B; do
  if [[ $s == A ]]; then n=4 u3=3 sess=0; else n=6 u3=5 sess=64; fi
  for ((i = 1; i <= n; i++)); do
    f=$(hex $((((i - 1) << 2) | sess)))
    seed "$S/$s-keys-$i" "\\x00$f" "$s/adv$i.msg"
    seed "$S/$s-shares-$i" "\\x01$f" "$s/shares$i.msg"
    seed "$S/$s-client-mask-$i" "\\x05$f" "$s/S/inbox-$i.msg"
  done
  for ((i = 1; i <= u3; i++)); do
    f=$(hex $((((i - 1) << 2) | sess)))
    seed "$S/$s-masked-$i" "\\x02$f" "$s/masked$i.msg"
    seed "$S/$s-unmask-$i" "\\x03$f" "$s/unmask$i.msg"
  done
  for i in 1 2; do
    f=$(hex $((((i - 1) << 2) | sess)))
    roster=$s/S/roster.msg
    [[ -e $s/S/roster-$i.msg ]] && roster=$s/S/roster-$i.msg
    seed "$S/$s-client-share-$i" "\\x04$f" "$roster"
    seed "$S/$s-client-unmask-$i" "\\x06$f" "$s/S/survivors.msg"
    seed "$S/$s-state-share-$i" "\\x07$f" "$s/c$i.keygen"
    seed "$S/$s-state-mask-$i" "\\x08$f" "$s/c$i.share"
    seed "$S/$s-state-unmask-$i" "\\x09$f" "$s/c$i.mask"
  done
done

total=$(du -cb "$OUT" | tail -1 | cut -f1)
count=$(find "$OUT" -type f | wc -l)
echo "make-corpus.sh: wrote $count seeds, $total bytes, to $OUT"

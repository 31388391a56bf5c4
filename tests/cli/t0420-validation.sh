#!/usr/bin/env bash
# t0420-validation: what every reader checks before it trusts a file (issue 9, items 5-8, 15).
#
# - Forged params.msg files, one bad field each, are refused by every server step (keys,
#   shares, masked, unmask, serve) and every reader of parameters (keygen, quantize, inspect):
#   exit 65, one line naming the file, nothing written.
# - A client refuses a session with an insecure threshold unless it agrees itself
#   (secagg-keygen --insecure-low-threshold, which warns), and inspect shows the flag.
# - Files are read header first: a symlink to /dev/zero, a 1 TB sparse file, 100 MB of junk and
#   a FIFO are refused at once (exit 65), in little memory; input vectors are bounded too. Run
#   under a memory cap so that a reader that reads everything fails fast instead of swapping.
# - NaN and infinite rates, and --max-weight 0, are usage errors naming the flag.
# - inspect prints the ids of U2 and U3 (the first 20, then "...(+N)"), the quantization spec,
#   and the PRG by name in JSON.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

# Every command of this test runs under a 4 GB address-space cap: a reader that reads a whole
# endless or huge file fails fast (and the test with it) instead of exhausting the machine.
ulimit -v 4000000
# serve, bounded in time (main listened forever on some forged parameters); the tool's name stays
# secagg-collect for expect_exit's error-line check.
mkdir -p bin
printf '#!/bin/sh\nexec timeout 20 "%s/secagg-collect" "$@"\n' "$SECAGG_BIN" >bin/secagg-collect
chmod +x bin/secagg-collect

# forge_params GOOD OUT FIELD=VALUE...: GOOD's params body with fields changed, re-sealed
# (man/secagg-formats.5: the params body and the envelope's BLAKE2b-256 checksum).
forge_params() {
  "$PY" - "$@" <<'EOF'
import hashlib, struct, sys
good, out, *changes = sys.argv[1:]
b = open(good, 'rb').read()
head, body = bytearray(b[:40]), b[40:40 + int.from_bytes(b[32:40], 'little')]
names = ['clients', 'threshold', 'neighbours', 'modulus', 'length', 'prg', 'insecure', 'bits', 'clip', 'max_weight']
fmt = '<IIIQQBBBdQ'
assert body[0] == 1 and len(body) == 1 + struct.calcsize(fmt)
v = dict(zip(names, struct.unpack(fmt, body[1:])))
for c in changes:
    k, x = c.split('=')
    v[k] = float(x) if k == 'clip' else int(x)
body = b'\x01' + struct.pack(fmt, *(v[k] for k in names))
head[32:40] = len(body).to_bytes(8, 'little')
m = bytes(head) + body
open(out, 'wb').write(m + hashlib.blake2b(m, digest_size=32).digest())
EOF
}

section "forged params.msg: every server step refuses it"
walk_setup A sum -n 5 -t 3 -l 20 --drop2 5
BAD_PARAMS=(
  "threshold=0" "threshold=1" "insecure=2" "clients=4294967295" "clients=1" "length=1099511627776" "length=0"
  "neighbours=0" "neighbours=1" "prg=7" "modulus=1" "bits=40 clip=1 max_weight=1" "bits=8 clip=nan max_weight=1"
  "bits=8 clip=1 max_weight=0" "bits=0 clip=1 max_weight=0"
)
i=0
for fields in "${BAD_PARAMS[@]:0:${T0420_PARAMS:-99}}"; do
  i=$((i + 1))
  # shellcheck disable=SC2086
  forge_params A/S/params.msg "p$i.msg" $fields
  # Each step in a copy of A's session as it was before that step.
  for step in keys shares masked unmask; do
    d=$step$i
    rm -rf "$d" && mkdir "$d" && cp -a A/S "$d/S"
    case $step in
      keys) rm -f "$d"/S/{roster,inbox-*,u2,masked-*,survivors,unmask-*,aggregate}* ; files=(A/adv*.msg) ;;
      shares) rm -f "$d"/S/{inbox-*,u2,masked-*,survivors,unmask-*,aggregate}* ; files=(A/shares*.msg) ;;
      masked) rm -f "$d"/S/{masked-*,survivors,unmask-*,aggregate}* ; files=(A/masked*.msg) ;;
      unmask) rm -f "$d"/S/{unmask-*,aggregate}* ; files=(A/unmask*.msg) ;;
    esac
    cp "p$i.msg" "$d/S/params.msg"
    snapshot "$d/S"
    expect_exit 65 secagg-collect "$step" --session "$d/S" "${files[@]}"
    expect_err "$d/S/params.msg: invalid session parameters: "
    assert_unchanged "$d/S"
  done
  d=serve$i
  rm -rf "$d" && mkdir "$d" && cp -a A/S "$d/S"
  rm -f "$d"/S/{roster,inbox-*,u2,masked-*,survivors,unmask-*,aggregate}*
  cp "p$i.msg" "$d/S/params.msg"
  snapshot "$d/S"
  expect_exit 65 bin/secagg-collect serve --session "$d/S" --listen 127.0.0.1:0 -o "$d/sum.vec"
  expect_err "$d/S/params.msg: invalid session parameters: "
  assert_unchanged "$d/S"
  assert_absent "$d/sum.vec"
  # The client and the other readers of parameters.
  expect_exit 65 secagg-keygen --params "p$i.msg" --id 1 --state "c$i" -o "adv$i.msg"
  expect_err "p$i.msg: invalid session parameters: "
  assert_absent "c$i" "adv$i.msg"
  expect_exit 65 secagg-inspect "p$i.msg"
  expect_err "p$i.msg: invalid session parameters: "
  if command -v secagg-quantize >/dev/null; then
    expect_exit 65 secagg-quantize decode --params "p$i.msg" --input A/S/aggregate.vec -o "avg$i.npy"
    expect_err "p$i.msg: invalid session parameters: "
    assert_absent "avg$i.npy"
  fi
done
# Setup's own output still passes every check (A ran to its sum above), and so does a quantized one.
expect_exit 0 secagg-collect setup --session Q --clients 3 --threshold 2 --clip 1.0 --bits 16 --max-weight 100 \
  --modulus-bits auto --length 4
expect_exit 0 secagg-inspect Q/params.msg >/dev/null

section "a client agrees to a low threshold itself"
expect_exit 0 secagg-collect setup --session L --clients 4 --threshold 2 --modulus-bits 32 --length 4 \
  --insecure-low-threshold
check "inspect shows insecure_low_threshold=yes" grep -q ' insecure_low_threshold=yes$' <(secagg-inspect L/params.msg)
check "JSON has insecure_threshold 1" grep -q '"insecure_threshold": 1' <(secagg-inspect --json L/params.msg)
check "a normal session does not say it" bash -c '! secagg-inspect A/S/params.msg | grep -q insecure'
expect_exit 1 secagg-keygen --params L/params.msg --id 1 --state l1 -o ladv1.msg
expect_err "L/params.msg: threshold 2 is not above half" "--insecure-low-threshold"
assert_absent l1 ladv1.msg
LAST_RC=0
secagg-keygen --params L/params.msg --id 1 --state l1 -o ladv1.msg --insecure-low-threshold 2>warn.txt || LAST_RC=$?
check "with the flag: exit 0" test "$LAST_RC" = 0
check "with the flag: one warning line" test "$(wc -l <warn.txt)" = 1
check "the warning says so" grep -q '^secagg-keygen: warning: L/params.msg: threshold 2 is not above half' warn.txt
check "with the flag: the state is made" test -s l1

section "files are read header first, and bounded"
G=A/S/roster.msg
ln -s /dev/zero zero.msg
truncate -s 1T sparse.msg
head -c 100000000 /dev/urandom >junk.msg
mkfifo fifo.msg
# A sealed header announcing more than a roster can hold, in a file of that size.
forge_big() {
  "$PY" - "$1" "$2" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read()[:40])
b[32:40] = (1 << 35).to_bytes(8, 'little')
open(sys.argv[2], 'wb').write(b)
EOF
  truncate -s $((40 + (1 << 35) + 32)) "$2"
}
forge_big "$G" hugebody.msg
mkdir K && cp -a A/S K/S && rm -f K/S/{roster,inbox-*,u2,masked-*,survivors,unmask-*,aggregate}*
snapshot K
rss_ok() {  # rss_ok cmd...: exit 65 within 10 s, peak RSS under 64 MB
  local rc=0 kb
  /usr/bin/time -f '%M' -o rss.txt timeout 10 "$@" 2>"$WORK/.stderr" || rc=$?
  kb=$(tail -n 1 rss.txt | grep -Eo '^[0-9]+$' || echo 999999999)
  if ((rc == 65 && kb < 65536)); then pass; else fail "$* -> exit $rc, peak RSS $kb KB (want 65, < 64 MB)"; fi
  LAST_STDERR=$(cat "$WORK/.stderr")
}
for f in zero.msg sparse.msg junk.msg fifo.msg hugebody.msg; do
  want="not a secagg message"
  case $f in zero.msg | fifo.msg) want="not a regular file" ;; hugebody.msg) want="body length" ;; esac
  rss_ok secagg-inspect "$f"
  expect_err "$f: $want"
  # A roster header where params or adverts are expected is refused by its type first.
  other=$want
  [[ $f != hugebody.msg ]] || other="is a round 0 (roster) message from the server, expected a"
  rss_ok secagg-keygen --params "$f" --id 1 --state k1 -o k1.msg
  expect_err "$f: $other"
  assert_absent k1 k1.msg
  rss_ok secagg-collect keys --session K/S "$f"
  expect_err "$f: $other"
  assert_unchanged K
  rss_ok secagg-share --state A/c1 --roster "$f" -o s1.msg
  expect_err "$f: $want"
  assert_absent s1.msg
done
# stdin stays allowed, but its read is bounded by the header too.
rss_ok secagg-inspect - </dev/zero
expect_err "<stdin>: not a secagg message"
expect_exit 0 secagg-inspect - <"$G" >/dev/null
# Input vectors: bounded by what the session's length allows.
walk_setup B shares -n 3 -t 2 -l 10
snapshot B
rss_ok secagg-mask --state B/c1 --inbox B/S/inbox-1.msg --input zero.msg -o m1.msg
expect_err "zero.msg: " "bytes this input may have"
rss_ok secagg-mask --state B/c1 --inbox B/S/inbox-1.msg --input sparse.msg -o m1.msg
expect_err "sparse.msg: " "bytes this input may have"
assert_absent m1.msg
assert_unchanged B

section "NaN, infinite rates and --max-weight 0 are refused"
for bad in "--corruption-rate nan --dropout-rate 0.05" "--corruption-rate 0.05 --dropout-rate nan" \
  "--corruption-rate inf --dropout-rate 0.05" "--corruption-rate 0.05 --dropout-rate -inf"; do
  # shellcheck disable=SC2086
  expect_exit 64 secagg-collect setup --session Z --clients 100 --neighbours auto --modulus-bits 32 --length 4 $bad
  expect_err "$(sed -E 's/.*(--[a-z]+-rate) (nan|-?inf).*/\1/' <<<"$bad")" "is not a number in [0, 1)"
  assert_absent Z
  rm -rf Z
done
expect_exit 64 secagg-collect setup --session Z --clients 3 --threshold 2 --clip 1 --bits 8 --max-weight 0 \
  --modulus-bits 32 --length 4
expect_err "--max-weight"
assert_absent Z
if command -v secagg-sim >/dev/null; then
  expect_exit 64 secagg-sim --clients 10 --length 10 --dropout nan --quiet
  expect_exit 64 secagg-sim --clients 10 --length 10 --dropout inf --quiet
fi

section "inspect: id lists, quantization spec, PRG by name"
check "survivors list U3" grep -q ' u3=1,2,3,4$' <(secagg-inspect A/S/survivors.msg)
check "u2.msg lists U2" grep -q ' u2=1,2,3,4,5$' <(secagg-inspect A/S/u2.msg)
expect_exit 0 secagg-collect setup --session N --clients 30 --threshold 16 --modulus-bits 32 --length 4
forge survivors N/params.msg "$(seq -s, 1 25)" long.msg
check "a long list: the first 20, then the count of the rest" \
  grep -q ' u3=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,\.\.\.(+5)$' <(secagg-inspect long.msg)
check "quantized params show bits, clip and max weight" \
  grep -q ' bits=16 clip=1 max_weight=100$' <(secagg-inspect Q/params.msg)
check "JSON names the PRG" grep -q '"prg": "aes128ctr"' <(secagg-inspect --json A/S/params.msg)
check "JSON names the PRG in a state file" grep -q '"prg": "aes128ctr"' <(secagg-inspect --json A/c1)

section "a header announcing a 3 GiB body of a type the reader does not expect, or too large for the session"
# Review of issue 9, item 7: the client steps and the server steps read every message bounded
# by its header's type alone, for which a vector or masked input may be ~8.3 GB: a sparse file
# with a valid header announcing 3 GiB (and exactly that size) cost 3 GiB, exit 70 "out of
# memory" under a 1.5 GB cap. With the session's params and the expected type, the header alone
# refuses it (65); secagg-inspect, which has no params, caps a body at --max-body (256M).
walk_setup V shares -n 3 -t 2 -l 10
must secagg-mask --state V/c1 --inbox V/S/inbox-1.msg --input V/x1.txt -o V/masked1.msg
# big3 SRC TYPE OUT: SRC's header with type TYPE and a 3 GiB body, in a sparse file of exactly
# the size that header announces (header, body, checksum and, for a signed type, signature).
big3() {
  "$PY" - "$1" "$2" "$3" <<'PYEOF'
import os, sys
b = bytearray(open(sys.argv[1], 'rb').read()[:40])
t = int(sys.argv[2])
b[6] = t
b[32:40] = (3 << 30).to_bytes(8, 'little')
with open(sys.argv[3], 'wb') as f:
    f.write(b)
    f.truncate(40 + (3 << 30) + 32 + (64 if t in (2, 4, 6, 8) else 0))
PYEOF
}
big3 V/masked1.msg 9 big.msg
big3 V/masked1.msg 6 bigmasked.msg
snapshot V
# From here on, a 1.5 GB cap: a reader that allocates what the header announces fails (70).
ulimit -v 1500000
expect_exit 65 secagg-mask --state V/c2 --inbox big.msg --input V/x2.txt -o V/m2.msg
expect_err "big.msg: is a vector message from client 1, expected a round 1 (inbox) message"
expect_exit 65 secagg-mask --state V/c2 --inbox bigmasked.msg --input V/x2.txt -o V/m2.msg
expect_err "bigmasked.msg: is a round 2 (masked-input) message from client 1, expected a round 1 (inbox) message"
expect_exit 65 secagg-share --state V/c2 --roster big.msg -o V/s2.msg
expect_err "big.msg: is a vector message from client 1, expected a round 0 (roster) message"
expect_exit 65 secagg-unmask --state V/c1 --survivors bigmasked.msg -o V/u1.msg
expect_err "bigmasked.msg: is a round 2 (masked-input) message from client 1, expected a round 2 (survivors) message"
expect_exit 65 secagg-keygen --params big.msg --id 1 --state V/k1 -o V/k1.msg
expect_err "big.msg: is a vector message from client 1, expected a params message"
# The server steps: the right type, but far more than a masked input of this session can be.
expect_exit 65 secagg-collect masked --session V/S bigmasked.msg
expect_err "bigmasked.msg: body length 3221225472 is more than a masked-input message can have here"
expect_exit 65 secagg-collect keys --session K/S bigmasked.msg
expect_err "bigmasked.msg: is a round 2 (masked-input) message from client 1, expected a round 0 (advertise-keys) message"
assert_absent V/m2.msg V/s2.msg V/u1.msg V/k1 V/k1.msg V/S/survivors.msg
assert_unchanged V K
# inspect: refused from the header, naming the cap and the flag that raises it.
expect_exit 65 secagg-inspect big.msg
expect_err "big.msg: body length 3221225472 is more than a vector message can have here (268435456 bytes)" \
  "secagg-inspect reads at most 268435456 bytes of body (--max-body)"
expect_exit 65 secagg-inspect --max-body 16 V/masked1.msg
expect_err "V/masked1.msg: body length" "(--max-body)"
expect_exit 0 secagg-inspect --max-body 1K V/masked1.msg

#!/usr/bin/env bash
# t0500-golden: the golden transcripts. scripts/make-golden.sh runs fixed sessions with the
# real tools in the insecure deterministic mode: the base set (n=4, t=3, R=2^16, length 8,
# client 4 drops after round 1) in testdata/golden/, and in testdata/golden/SET/ the sets that
# pin what the base does not: ChaCha20, a modulus that is not a power of two, unaligned
# packing (20- and 37-bit elements), SecAgg+ (--neighbours 6 of 10), and dropouts in rounds 1,
# 2 and 4, and an active session (certified identities, round 3). Every file a set writes, the aggregate included, must equal, byte for byte, the
# stored one. A difference means the wire format, the randomness or the protocol
# changed: if that was intended, regenerate the transcript (see scripts/make-golden.sh) and
# say so in the commit. The run is repeated with another thread count and a longer
# temporary path, which must not change a byte either.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

GOLDEN=$SECAGG_SRC/testdata/golden
MAKE=$SECAGG_SRC/scripts/make-golden.sh
SETS=(chacha20-r1000003 secaggplus-k6-b37 active-n7)

# compare_to_golden DIR [GOLDEN_DIR]: DIR holds exactly the files of GOLDEN_DIR (default
# testdata/golden, the base set; its subdirectories are the other sets), each identical.
compare_to_golden() {
  local dir=$1 f
  local GOLDEN=${2:-$GOLDEN}
  local -a want got
  mapfile -t want < <(cd "$GOLDEN" && find . -maxdepth 1 -type f -printf '%f\n' | sort)
  mapfile -t got < <(cd "$dir" && ls -A)
  if [[ "${want[*]}" != "${got[*]}" ]]; then
    fail "GOLDEN MISMATCH: $dir does not hold the same files as testdata/golden:" \
      "only in testdata/golden: [$(comm -23 <(printf '%s\n' "${want[@]}") <(printf '%s\n' "${got[@]}") | xargs)]," \
      "only in the new transcript: [$(comm -13 <(printf '%s\n' "${want[@]}") <(printf '%s\n' "${got[@]}") | xargs)]"
  else
    pass
  fi
  for f in "${want[@]}"; do
    [[ -e $dir/$f ]] || continue
    if cmp -s "$GOLDEN/$f" "$dir/$f"; then
      pass
    else
      local where
      where=$(cmp "$GOLDEN/$f" "$dir/$f" 2>&1 || true)
      fail "GOLDEN MISMATCH: $f differs from testdata/golden/$f (${where##*: }):" \
        "the wire format, the randomness or the protocol changed"
    fi
  done
}

section "testdata/golden is complete and holds no secrets"
expected_files=(adv1.msg adv2.msg adv3.msg adv4.msg aggregate.vec inbox-1.msg inbox-2.msg inbox-3.msg inbox-4.msg
  input1.txt input2.txt input3.txt input4.txt masked1.msg masked2.msg masked3.msg params.msg roster.msg shares1.msg
  shares2.msg shares3.msg shares4.msg sum.txt survivors.msg u2.msg unmask1.msg unmask2.msg unmask3.msg)
for f in "${expected_files[@]}"; do check "testdata/golden/$f exists" test -f "$GOLDEN/$f"; done
mapfile -t golden_files < <(cd "$GOLDEN" && find . -maxdepth 1 -type f -printf '%f\n' | sort)
check "testdata/golden holds only the transcript's files" \
  test "${golden_files[*]}" = "$(printf '%s\n' "${expected_files[@]}" | sort | xargs)"
mapfile -t golden_dirs < <(cd "$GOLDEN" && find . -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
check "testdata/golden's subdirectories are exactly the sets ${SETS[*]}" \
  test "${golden_dirs[*]}" = "$(printf '%s\n' "${SETS[@]}" | sort | xargs)"
not_a_state() { [[ $(secagg-inspect "$1") != *client-state* ]]; }
for f in "$GOLDEN"/*.msg "$GOLDEN"/*.vec "$GOLDEN"/*/*.msg "$GOLDEN"/*/*.vec; do
  check "${f#"$GOLDEN"/} is a valid message and not a client state" not_a_state "$f"
done

section "the chacha20-r1000003 set pins client 1's state after each of its steps"
for r in 0 1 2 4; do
  f=$GOLDEN/chacha20-r1000003/state1-round$r.state
  check "state1-round$r.state is client 1's state" grep -q 'client-state .*sender=1 ' <(secagg-inspect "$f")
done
check "the state after round 0 is at stage 0" grep -q '"stage": 0' <(secagg-inspect --json "$GOLDEN/chacha20-r1000003/state1-round0.state")
check "the state after round 4 is at stage 4" grep -q '"stage": 4' <(secagg-inspect --json "$GOLDEN/chacha20-r1000003/state1-round4.state")

section "regenerate and compare byte for byte"
must "$MAKE" "$SECAGG_BIN" run1
compare_to_golden run1

section "again with 1 thread and a longer temporary path: still the same bytes"
mkdir -p "$WORK/a/much/longer/temporary/path"
must env SECAGG_GOLDEN_THREADS=1 TMPDIR="$WORK/a/much/longer/temporary/path" "$MAKE" "$SECAGG_BIN" run2
compare_to_golden run2
check "no scratch directory left behind" test -z "$(ls -A "$WORK/a/much/longer/temporary/path")"

section "the deterministic mode is announced"
det_stderr=$(SECAGG_INSECURE_DETERMINISTIC_SEED=golden-v1 secagg-inspect "$GOLDEN/params.msg" 2>&1 >/dev/null)
check "the tools warn on stderr in the deterministic mode" grep -q 'INSECURE' <<<"$det_stderr"

section "the golden sum is the plaintext sum of clients 1-3"
check_sum "$GOLDEN/sum.txt" "$GOLDEN/input1.txt" "$GOLDEN/input2.txt" "$GOLDEN/input3.txt" 65536
check_sum run1/sum.txt run1/input1.txt run1/input2.txt run1/input3.txt 65536
check "the sum is 8 elements" test "$(wc -l <"$GOLDEN/sum.txt")" -eq 8
check "aggregate.vec holds the same sum" cmp -s <(secagg-inspect --text "$GOLDEN/aggregate.vec") "$GOLDEN/sum.txt"
check "U2 = 1 2 3 4 (client 4 sent its shares)" \
  test "$(secagg-inspect --json "$GOLDEN/u2.msg" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["body"]["ids"])')" = "1 2 3 4"
check "U3 = 1 2 3 (client 4 dropped before round 2)" \
  test "$(secagg-inspect --json "$GOLDEN/survivors.msg" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["body"]["ids"])')" = "1 2 3"
for i in 1 2 3; do
  check "unmask$i.msg reveals 3 self-mask shares and client 4's mask-key share" \
    grep -q 'self_mask_shares=3 mask_key_shares=1$' <(secagg-inspect "$GOLDEN/unmask$i.msg")
done

section "the other sets: regenerate and compare byte for byte, aggregate included"
set_check() {  # set_check SET WANT-PARAMS-REGEX U2 U3 U4
  local set=$1 re=$2 u2=$3 u3=$4 u4=$5 g=$GOLDEN/$1 r
  must "$MAKE" "$SECAGG_BIN" "set-$set" "$set"
  compare_to_golden "set-$set" "$g"
  check "$set: params are $re" grep -Eq "$re" <(secagg-inspect "$g/params.msg")
  ids() { secagg-inspect --json "$1" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin)["body"]["ids"])'; }
  check "$set: U2 = $u2" test "$(ids "$g/u2.msg")" = "$u2"
  check "$set: U3 = $u3" test "$(ids "$g/survivors.msg")" = "$u3"
  check "$set: U4 = $u4 (the answers)" test "$(cd "$g" && ls unmask*.msg | sed 's/[^0-9]//g' | sort -n | xargs)" = "$u4"
  r=$(secagg-inspect "$g/params.msg" | sed -n 's/.* modulus=\([0-9]*\) .*/\1/p')
  local xs=() i
  for i in $u3; do xs+=("$g/input$i.txt"); done
  check_sum "$g/sum.txt" "${xs[@]}" "$r"
  check "$set: aggregate.vec holds the same sum" cmp -s <(secagg-inspect --text "$g/aggregate.vec") "$g/sum.txt"
}
set_check chacha20-r1000003 ' modulus=1000003 length=13 prg=chacha20$' "1 2 3 4 5 6" "1 2 3 4 5" "1 2 3 4"
set_check secaggplus-k6-b37 ' clients=10 threshold=4 neighbours=6 modulus=137438953472 length=11 prg=aes128ctr$' \
  "1 2 3 4 5 6 7 8 9" "1 2 3 4 5 6 7 8" "1 2 3 4 5 6 7"
# A masked input is 161 + ceil(L * b / 8) bytes (docs/protocol.md): 13 x 20 bits and 11 x 37 bits
# both end in the middle of a byte.
check "unaligned packing: 13 elements of 20 bits take 33 bytes" \
  test "$(stat -c %s "$GOLDEN/chacha20-r1000003/masked1.msg")" = $((161 + 33))
check "unaligned packing: 11 elements of 37 bits take 51 bytes" \
  test "$(stat -c %s "$GOLDEN/secaggplus-k6-b37/masked1.msg")" = $((161 + 51))
set_check active-n7 ' clients=7 threshold=4 neighbours=6 modulus=16777216 length=9 prg=aes128ctr threat_model=active corrupt=0$' \
  "1 2 3 4 5 6 7" "1 2 3 4 5 6" "1 2 3 4"
check "active-n7: consistency.msg holds U3 = 1-6 and the signatures of U4 = 1-5" \
  grep -q 'u3=1,2,3,4,5,6 u4=1,2,3,4,5$' <(secagg-inspect "$GOLDEN/active-n7/consistency.msg")
check "active-n7: the roster is certified" grep -q 'u1=7 certified=yes$' <(secagg-inspect "$GOLDEN/active-n7/roster.msg")
check "active-n7: the share-keys messages carry commitments" \
  grep -q 'shares=7 committed=yes$' <(secagg-inspect "$GOLDEN/active-n7/shares1.msg")
check "SecAgg+: client 1 reads only its window of the roster: itself and its 6 neighbours" \
  grep -q ' u1=10 slots=7 in_u1=7$' <(secagg-inspect "$GOLDEN/secaggplus-k6-b37/roster-1.msg")
check "SecAgg+: client 1 answers for its neighbourhood only (7 of 9 in U2: 6 in U3, and client 9)" \
  grep -q 'self_mask_shares=6 mask_key_shares=1$' <(secagg-inspect "$GOLDEN/secaggplus-k6-b37/unmask1.msg")

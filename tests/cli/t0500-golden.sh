#!/usr/bin/env bash
# t0500-golden: the golden transcript. scripts/make-golden.sh runs one fixed session
# (n=4, t=3, R=2^16, length 8, client 4 drops after round 1) with the real tools in the
# insecure deterministic mode; every file it writes must equal, byte for byte, the one in
# testdata/golden/. A difference means the wire format, the randomness or the protocol
# changed: if that was intended, regenerate the transcript (see scripts/make-golden.sh) and
# say so in the commit. The run is repeated with another thread count and a longer
# temporary path, which must not change a byte either.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

GOLDEN=$SECAGG_SRC/testdata/golden
MAKE=$SECAGG_SRC/scripts/make-golden.sh

# compare_to_golden DIR: DIR holds exactly the files of testdata/golden, each identical.
compare_to_golden() {
  local dir=$1 f
  local -a want got
  mapfile -t want < <(cd "$GOLDEN" && ls -A)
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
mapfile -t golden_files < <(cd "$GOLDEN" && ls -A)
check "testdata/golden holds only the transcript's files" \
  test "${golden_files[*]}" = "$(printf '%s\n' "${expected_files[@]}" | sort | xargs)"
not_a_state() { [[ $(secagg-inspect "$1") != *client-state* ]]; }
for f in "$GOLDEN"/*.msg "$GOLDEN"/*.vec; do
  check "$(basename "$f") is a valid message and not a client state" not_a_state "$f"
done

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

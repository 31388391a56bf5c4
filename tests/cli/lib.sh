# Shared helpers for the CLI transcript tests (tests/cli/tNNNN-*.sh).
#
# Sourced first by every test script. Run by ctest with SECAGG_BIN (the build
# directory: the tools and the test-only `forge`) and SECAGG_SRC (the source
# tree) in the environment; both default to this checkout's build/ and root.
# Each script runs in its own temporary directory, removed on exit (set
# SECAGG_KEEP_WORK=1 to keep it; SECAGG_TEST_VERBOSE=1 logs every command's exit code
# and stderr), prints "N passed, M failed", and exits
# non-zero if any check failed or the script stopped early.

set -Eeuo pipefail
shopt -s nullglob

SECAGG_SRC=${SECAGG_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SECAGG_BIN=${SECAGG_BIN:-$SECAGG_SRC/build}
SECAGG_BIN=$(cd "$SECAGG_BIN" && pwd)
export PATH="$SECAGG_BIN:$PATH"
export LC_ALL=C
unset SECAGG_INSECURE_DETERMINISTIC_SEED || true

# A plain interpreter: version-manager shims cost a quarter second per call.
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=python3; fi

TEST_NAME=$(basename "$0" .sh)
for _tool in secagg-collect secagg-keygen secagg-share secagg-mask secagg-unmask secagg-inspect forge; do
  if [[ ! -x $SECAGG_BIN/$_tool ]]; then
    echo "$TEST_NAME: $SECAGG_BIN/$_tool is missing (build first)" >&2
    exit 1
  fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/secagg-$TEST_NAME.XXXXXX")
cd "$WORK"

PASSED=0
FAILED=0
LAST_STDERR=""
LAST_RC=0

_on_err() {
  local cmd=${BASH_COMMAND//$'\n'/ }
  ((${#cmd} > 160)) && cmd="${cmd:0:160}..."
  echo "$TEST_NAME: FATAL: line ${BASH_LINENO[0]}: '$cmd' failed (exit $1)" >&2
  if [[ -s $WORK/.stderr ]]; then cat -v "$WORK/.stderr" | sed 's/^/    stderr: /' >&2; fi
}
trap '_on_err $?' ERR

_finish() {
  local rc=$?
  trap - ERR
  if ((rc != 0)); then
    echo "$TEST_NAME: stopped early (exit $rc); the checks after that point did not run" >&2
    FAILED=$((FAILED + 1))
  fi
  echo "$TEST_NAME: $PASSED passed, $FAILED failed"
  cd /
  if [[ -n ${SECAGG_KEEP_WORK:-} ]]; then
    echo "$TEST_NAME: work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  if ((FAILED > 0)); then exit 1; fi
  exit 0
}
trap _finish EXIT

# --- reporting --------------------------------------------------------------

pass() { PASSED=$((PASSED + 1)); }
fail() {
  FAILED=$((FAILED + 1))
  # The line in the test script itself, however deep the helper that failed.
  local depth=$((${#FUNCNAME[@]} - 2))
  echo "FAIL [$TEST_NAME.sh line ${BASH_LINENO[$depth]:-?}]: $*" >&2
}
# A heading in the log, to find a failure's context.
section() { echo "== $*"; }

# check DESCRIPTION cmd...: passes when cmd exits 0.
check() {
  local desc=$1
  shift
  if "$@"; then pass; else fail "$desc"; fi
}

# require_numpy: stop the test (failing) if $PY has no numpy.
require_numpy() {
  if ! "$PY" -c 'import numpy' 2>/dev/null; then
    fail "$PY has no numpy: install the Debian package python3-numpy ('make deps' does)"
    exit 1
  fi
}
# pycheck DESCRIPTION SCRIPT [ARG...]: a check in Python ($PY, with the source tree's package
# importable): passes if SCRIPT, run with ARGs, exits 0; fails with its output otherwise.
pycheck() {
  local desc=$1 script=$2 out
  shift 2
  if out=$(PYTHONPATH=$SECAGG_SRC/python "$PY" - "$@" 2>&1 <<<"$script"); then pass; else fail "$desc: $out"; fi
}

# --- running commands -------------------------------------------------------

# expect_exit CODE cmd...
# Runs cmd (stdout untouched, stderr captured into LAST_STDERR). Fails the check if the
# exit code is not CODE or is above 128 (a crash). For CODE != 0, stderr must be exactly
# one line "<tool>: error: <message>" (followed by nothing but "<tool>: hint: ..." lines,
# the one optional addition the error style allows) with no control characters in it; for
# CODE 0, stderr must be empty but for the "secagg-collect: round N: ..." line of a file-mode
# server round and "<tool>: warning: ..." lines (a test that expects none checks LAST_STDERR).
expect_exit() {
  local want=$1
  shift
  local tool
  tool=$(basename "$1")
  local desc="$*"
  ((${#desc} > 200)) && desc="${desc:0:200}..."
  LAST_RC=0
  "$@" 2>"$WORK/.stderr" || LAST_RC=$?
  LAST_STDERR=$(cat "$WORK/.stderr")
  local problem=""
  if ((LAST_RC > 128)); then
    problem="crashed (exit $LAST_RC, signal $((LAST_RC - 128)))"
  elif ((LAST_RC != want)); then
    problem="exit $LAST_RC, expected $want"
  elif ((want == 0)); then
    # The one line a file-mode server round prints on success: who is in and who dropped (select:
    # how many indices it selected).
    if grep -Evq "^secagg-collect: (round [0-4]: [0-9]+ of [0-9]+ clients in |select: [0-9]+ of N = |combine: [0-9]+ shards of |setup: dp ddg: )|^secagg-[a-z]+: warning: " "$WORK/.stderr"; then
      problem="succeeded but wrote to stderr"
    fi
  else
    local first rest
    first=$(head -n 1 "$WORK/.stderr")
    rest=$(tail -n +2 "$WORK/.stderr" | grep -v "^$tool: hint: " || true)
    if [[ $first != "$tool: error: "?* ]]; then
      problem="stderr does not start with one '$tool: error: ...' line"
    elif [[ -n $rest ]]; then
      problem="stderr has more than one error line"
    elif (($(LC_ALL=C tr -d '\n\t\040-\176\200-\377' <"$WORK/.stderr" | wc -c) > 0)); then
      # A NUL, ESC or CR copied from untrusted input breaks the one-line format (and can drive a terminal).
      problem="control characters in the error message"
    fi
  fi
  if [[ -n ${SECAGG_TEST_VERBOSE:-} ]]; then
    echo "  \$ $desc  => $LAST_RC"
    [[ -z $LAST_STDERR ]] || cat -v "$WORK/.stderr" | sed 's/^/    /'
  fi
  if [[ -n $problem ]]; then
    fail "$desc: $problem"
    [[ -n $LAST_STDERR ]] && cat -v "$WORK/.stderr" | sed 's/^/    stderr: /' >&2
  else
    pass
  fi
  return 0
}

# expect_err STRING...: the last expect_exit's stderr contains every STRING (fixed strings).
expect_err() {
  local s missing=()
  for s; do [[ $LAST_STDERR == *"$s"* ]] || missing+=("$s"); done
  if ((${#missing[@]})); then
    fail "stderr lacks: ${missing[*]@Q}"
    cat -v <<<"$LAST_STDERR" | sed "s/^/    stderr: /" >&2
  else
    pass
  fi
}

# expect_err_re ERE: the last stderr matches the extended regular expression.
expect_err_re() {
  if grep -Eq -- "$1" <<<"$LAST_STDERR"; then
    pass
  else
    fail "stderr does not match /$1/"
    cat -v <<<"$LAST_STDERR" | sed "s/^/    stderr: /" >&2
  fi
}

# must cmd...: a setup step that has to work; stops the script (as a failure) if it does not.
must() {
  if ! "$@" 2>"$WORK/.stderr"; then
    fail "setup step failed: $*"
    cat -v "$WORK/.stderr" | sed 's/^/    stderr: /' >&2
    exit 1
  fi
}

# --- files ------------------------------------------------------------------

# assert_absent FILE...: neither the file nor an atomic-write temporary of it exists.
assert_absent() {
  local f tmp
  for f; do
    tmp=("$(dirname "$f")"/."$(basename "$f")".tmp-*)
    if [[ -e $f || -L $f ]]; then
      fail "$f exists, but must not"
    elif ((${#tmp[@]})); then
      fail "a temporary of $f was left behind: ${tmp[*]}"
    else
      pass
    fi
  done
}

# A digest of a file, or of a whole directory tree (names and contents, hidden files
# included), or "absent".
_digest() {
  if [[ -d $1 ]]; then
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0r sha256sum; find . | sort) | sha256sum
  elif [[ -e $1 ]]; then
    sha256sum <"$1"
  else
    echo absent
  fi
}
declare -A _SNAP=()
# snapshot FILE|DIR...: remember the current contents, for assert_unchanged.
snapshot() {
  local f
  for f; do _SNAP[$f]=$(_digest "$f"); done
}
# assert_unchanged FILE|DIR...: same sha256 as at the last snapshot.
assert_unchanged() {
  local f
  for f; do
    if [[ -z ${_SNAP[$f]+x} ]]; then
      fail "assert_unchanged $f: no snapshot taken"
    elif [[ $(_digest "$f") != "${_SNAP[$f]}" ]]; then
      fail "$f changed"
    else
      pass
    fi
  done
}

# file_mode FILE: octal permission bits, e.g. 600.
file_mode() { stat -c %a "$1"; }

# body_len MSG: the body length from an envelope header (le64 at offset 32).
body_len() {
  "$PY" - "$1" <<'EOF'
import sys
b = open(sys.argv[1], 'rb').read()
print(int.from_bytes(b[32:40], 'little'))
EOF
}

# xorbyte IN OFFSET MASK OUT: raw edit of one byte (no re-sealing), via forge setbyte.
xorbyte() {
  local v
  v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  forge setbyte "$1" "$2" $((v ^ $3)) "$4"
}

# make_identities N: an active session's CA (ca.key, ca.pub) and clients 1..N's identities
# (idI.key, idI.pub) and certificates (idI.cert), in the current directory.
make_identities() {
  local i
  must secagg-keygen identity -o ca.key
  for ((i = 1; i <= $1; i++)); do
    must secagg-keygen identity -o "id$i.key"
    must secagg-keygen certify --ca ca.key --id "$i" --pub "id$i.pub" -o "id$i.cert"
  done
}

# session_through_round1 DIR MODE LENGTH: a session of clients 1-5 (t = 3, R = 2^16, vectors of
# LENGTH) in DIR/S through round 1, every client in: inputs DIR/xI.txt, states DIR/cI, and the
# messages of rounds 0 and 1. MODE "active" makes it an active session (C = 0) with the
# identities of make_identities 5 in the current directory; anything else honest-but-curious.
# roster_of DIR ID: the round-0 message client ID reads from session directory DIR: its own
# window S/roster-ID.msg in a SecAgg+ session, the whole S/roster.msg otherwise.
roster_of() {
  if [[ -f $1/roster-$2.msg ]]; then echo "$1/roster-$2.msg"; else echo "$1/roster.msg"; fi
}

session_through_round1() {
  local d=$1 mode=$2 length=$3 i setup=() ids=()
  mkdir -p "$d"
  [[ $mode == active ]] && setup=(--threat-model active --ca ca.pub --corrupt 0)
  must secagg-collect setup --session "$d/S" --clients 5 --threshold 3 --modulus-bits 16 --length "$length" \
    "${setup[@]}"
  for i in 1 2 3 4 5; do
    [[ $mode == active ]] && ids=(--identity "id$i.key" --cert "id$i.cert")
    gen_input "$i" "$length" 65536 >"$d/x$i.txt"
    must secagg-keygen --params "$d/S/params.msg" --id "$i" --state "$d/c$i" "${ids[@]}" -o "$d/adv$i.msg"
  done
  must secagg-collect keys --session "$d/S" "$d"/adv?.msg
  for i in 1 2 3 4 5; do must secagg-share --state "$d/c$i" --roster "$d/S/roster.msg" -o "$d/sh$i.msg"; done
  must secagg-collect shares --session "$d/S" "$d"/sh?.msg
}

# --- inputs and sums --------------------------------------------------------

# gen_input SEED LENGTH MODULUS: LENGTH deterministic decimals in [0, MODULUS), one per
# line; element 0 is MODULUS-1 and element 1 is 0, so sums wrap around.
gen_input() {
  "$PY" - "$@" <<'EOF'
import random, sys
seed, n, r = (int(a) for a in sys.argv[1:4])
g = random.Random(seed * 7919 + n)
v = [g.randrange(r) for _ in range(n)]
if n > 0: v[0] = r - 1
if n > 1: v[1] = 0
sys.stdout.write(''.join(f'{x}\n' for x in v))
EOF
}

# check_sum SUMFILE XFILE... MODULUS: SUMFILE is exactly the element-wise sum of the
# XFILEs mod MODULUS, as decimal text, one element per line (exact integer arithmetic).
check_sum() {
  local out
  if out=$("$PY" - "$@" 2>&1 <<'EOF'
import sys
sumf, xs, r = sys.argv[1], sys.argv[2:-1], int(sys.argv[-1])
vecs = [[int(t) for t in open(f).read().split()] for f in xs]
n = len(vecs[0])
assert all(len(v) == n for v in vecs), "input files differ in length"
want = ''.join(f'{sum(v[i] for v in vecs) % r}\n' for i in range(n))
got = open(sumf).read()
if got != want:
    g, w = got.split(), want.split()
    bad = [i for i in range(min(len(g), n)) if g[i] != w[i]]
    if bad:
        sys.exit(f"{sumf}: element {bad[0]} is {g[bad[0]]}, expected {w[bad[0]]} ({len(bad)} wrong)")
    if len(g) != n:
        sys.exit(f"{sumf}: {len(g)} elements, expected {n}")
    sys.exit(f"{sumf}: right values, but not one decimal per line")
EOF
  ); then
    pass
  else
    fail "check_sum $*: $out"
  fi
}

# --- a session walk ---------------------------------------------------------
#
# walk_setup DIR UPTO [-n N] [-t T] [-l LEN] [--seed S] [--drop0 IDS] [--drop1 IDS]
#            [--drop2 IDS] [--drop4 IDS] [-- EXTRA SETUP ARGS]
# Builds, in DIR, a session S with clients c1..cN up to stage UPTO:
#   setup   S/params.msg                       (default --modulus-bits 32; none with --shard-of)
#   keygen  c$i, adv$i.msg and x$i.txt for every client
#   keys    S/roster.msg from the adv of U1 = all but drop0
#   share   shares$i.msg for U1 but drop1
#   shares  S/inbox-*.msg, S/u2.msg (U2)
#   mask    masked$i.msg for U2 but drop2
#   masked  S/survivors.msg (U3)
#   unmask  unmask$i.msg for U3 but drop4 (U4)
#   sum     sum.txt (collect unmask --text)
# IDS are space- or comma-separated. walk_to DIR UPTO continues a walk; walk_ids DIR SET
# prints U1, U2, U3 or U4; walk_modulus DIR prints R. Every step must succeed.
WALK_STAGES=(setup keygen keys share shares mask masked unmask sum)

_stage_index() {
  local i
  for i in "${!WALK_STAGES[@]}"; do
    [[ ${WALK_STAGES[$i]} == "$1" ]] && { echo "$i"; return 0; }
  done
  echo "unknown walk stage '$1'" >&2
  return 1
}

_minus() {  # _minus "A" "B": ids of A not in B
  local a b keep out=()
  for a in $1; do
    keep=1
    for b in $2; do [[ $a == "$b" ]] && keep=0; done
    ((keep)) && out+=("$a")
  done
  echo "${out[*]}"
}

walk_setup() {
  local dir=$1 upto=$2
  shift 2
  local n=5 t=3 len=1000 seed=0 d0="" d1="" d2="" d4="" extra=()
  while (($#)); do
    case $1 in
      -n) n=$2; shift 2 ;;
      -t) t=$2; shift 2 ;;
      -l) len=$2; shift 2 ;;
      --seed) seed=$2; shift 2 ;;
      --drop0) d0=${2//,/ }; shift 2 ;;
      --drop1) d1=${2//,/ }; shift 2 ;;
      --drop2) d2=${2//,/ }; shift 2 ;;
      --drop4) d4=${2//,/ }; shift 2 ;;
      --) shift; extra=("$@"); break ;;
      *) echo "walk_setup: unknown option $1" >&2; return 1 ;;
    esac
  done
  # A shard (--shard-of TOP) takes its modulus and length from TOP: -l must match TOP's.
  if [[ " ${extra[*]} " != *" --modulus"* && " ${extra[*]} " != *" --shard-of "* ]]; then extra+=(--modulus-bits 32); fi
  mkdir -p "$dir"
  local all u1 u2 u3 u4
  all=$(seq -s ' ' 1 "$n")
  u1=$(_minus "$all" "$d0")
  u2=$(_minus "$u1" "$d1")
  u3=$(_minus "$u2" "$d2")
  u4=$(_minus "$u3" "$d4")
  {
    printf 'W_N=%q\nW_T=%q\nW_LEN=%q\nW_SEED=%q\n' "$n" "$t" "$len" "$seed"
    printf 'W_ALL=%q\nW_U1=%q\nW_U2=%q\nW_U3=%q\nW_U4=%q\n' "$all" "$u1" "$u2" "$u3" "$u4"
    printf 'W_EXTRA=(%s)\n' "${extra[*]@Q}"
    printf 'W_DONE=-1\n'
  } >"$dir/walk.conf"
  walk_to "$dir" "$upto"
}

walk_ids() {
  (
    # shellcheck source=/dev/null
    source "$1/walk.conf"
    case $2 in
      ALL) echo "$W_ALL" ;; U1) echo "$W_U1" ;; U2) echo "$W_U2" ;; U3) echo "$W_U3" ;; U4) echo "$W_U4" ;;
      *) echo "walk_ids: unknown set $2" >&2; exit 1 ;;
    esac
  )
}

walk_modulus() {
  secagg-inspect "$1/S/params.msg" | sed -n 's/.* modulus=\([0-9]*\) .*/\1/p'
}

# walk_xfiles DIR SET: the input files of a set, as paths.
walk_xfiles() {
  local i
  for i in $(walk_ids "$1" "$2"); do printf '%s ' "$1/x$i.txt"; done
}

walk_to() {
  local dir=$1 upto
  upto=$(_stage_index "$2")
  (
    cd "$dir"
    # shellcheck source=/dev/null
    source walk.conf
    local k i files
    for ((k = W_DONE + 1; k <= upto; k++)); do
      case ${WALK_STAGES[$k]} in
        setup)
          local len_arg=(--length "$W_LEN")
          [[ " ${W_EXTRA[*]} " == *" --shard-of "* ]] && len_arg=()
          must secagg-collect setup --session S --clients "$W_N" --threshold "$W_T" "${len_arg[@]}" "${W_EXTRA[@]}" ;;
        keygen)
          local r agree=()
          r=$(walk_modulus .)
          # A client must agree to a low threshold itself (secagg-keygen(1)).
          [[ " ${W_EXTRA[*]} " == *" --insecure-low-threshold "* ]] && agree=(--insecure-low-threshold)
          for i in $W_ALL; do
            must secagg-keygen --params S/params.msg --id "$i" --state "c$i" -o "adv$i.msg" "${agree[@]}"
            gen_input $((W_SEED * 100 + i)) "$W_LEN" "$r" >"x$i.txt"
          done ;;
        keys)
          files=()
          for i in $W_U1; do files+=("adv$i.msg"); done
          must secagg-collect keys --session S "${files[@]}" ;;
        share)
          for i in $W_U2; do must secagg-share --state "c$i" --roster "$(roster_of S "$i")" -o "shares$i.msg"; done ;;
        shares)
          files=()
          for i in $W_U2; do files+=("shares$i.msg"); done
          must secagg-collect shares --session S "${files[@]}" ;;
        mask)
          for i in $W_U3; do
            must secagg-mask --state "c$i" --inbox "S/inbox-$i.msg" --input "x$i.txt" -o "masked$i.msg"
          done ;;
        masked)
          files=()
          for i in $W_U3; do files+=("masked$i.msg"); done
          must secagg-collect masked --session S "${files[@]}" ;;
        unmask)
          for i in $W_U4; do must secagg-unmask --state "c$i" --survivors S/survivors.msg -o "unmask$i.msg"; done ;;
        sum)
          files=()
          for i in $W_U4; do files+=("unmask$i.msg"); done
          must secagg-collect unmask --session S "${files[@]}" --text -o sum.txt ;;
      esac
    done
    if ((upto > W_DONE)); then sed -i "s/^W_DONE=.*/W_DONE=$upto/" walk.conf; fi
  )
}

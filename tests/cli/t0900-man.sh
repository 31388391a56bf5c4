#!/usr/bin/env bash
# t0900-man: lint the man pages against groff and against the tools' --help.
#
# Run by ctest with SECAGG_SRC (source tree) and SECAGG_BIN (build directory);
# both default to this checkout. Checks:
#   1. every man/*.[15] formats with `groff -man -ww -z` (default device and
#      -Tutf8, the one man(1) uses on a terminal) with nothing on stderr:
#      groff exits 0 on warnings, so the exit status alone proves nothing;
#   2. every page has a .TH line matching its file name and the sections a
#      page of its kind needs;
#   3. every tools/secagg-*.cpp has man/secagg-*.1, and every secagg-*.1 has a tool;
#   4. every long option printed by `secagg-X --help` (and, for a tool with
#      subcommands, by `secagg-X SUB --help`) appears in the page's OPTIONS
#      section, every option the OPTIONS section describes exists, every
#      exit status a --help footer lists is explained under EXIT STATUS, the
#      EXIT STATUS entries are exactly the codes the footers list, and a tool's
#      footer lists exactly its subcommands' codes (at least them, for a tool
#      that is a command without one too: "Usage: secagg-keygen [OPTIONS] [SUBCOMMAND]").
# It does not source lib.sh: linting the pages needs neither a session nor
# the test-only forge, and should not fail when those are missing.
# Prints "t0900-man: N passed, M failed" and exits non-zero if anything failed.

set -uo pipefail
export LC_ALL=C
unset SECAGG_INSECURE_DETERMINISTIC_SEED  # its warning would look like groff output
NAME=t0900-man
SECAGG_SRC=${SECAGG_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SECAGG_BIN=${SECAGG_BIN:-$SECAGG_SRC/build}
MAN=$SECAGG_SRC/man

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); }
fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL: $*" >&2
}
finish() {
  echo "$NAME: $PASSED passed, $FAILED failed"
  if ((FAILED > 0)); then exit 1; fi
  exit 0
}

if ! command -v groff >/dev/null 2>&1; then
  fail "groff not found: install the Debian package groff-base ('make deps' does)"
  finish
fi

shopt -s nullglob
pages=("$MAN"/*.1 "$MAN"/*.5)
if ((${#pages[@]} == 0)); then
  fail "no man pages in $MAN"
  finish
fi

# section PAGE TITLE: the source lines of section TITLE (after its .SH line, up to
# the next .SH), without comment lines.
section() {
  awk -v want="$2" '
    /^\.SH/ { line = $0; sub(/^\.SH[ \t]+/, "", line); gsub(/"/, "", line); on = (line == want); next }
    /^\.\\"/ || /^'\''\\"/ { next }
    on { print }' "$1"
}

# plain: roff source on stdin to the text a reader sees, enough to match option names:
# drop font and no-op escapes, turn \- into -, and the \e escape into a backslash.
plain() {
  sed -E -e 's/\\f(\[[^]]*\]|\([A-Za-z0-9]{2}|[A-Za-z0-9])//g' \
         -e 's/\\[%&c:]//g' -e 's/\\-/-/g' -e 's/\\e/\\/g'
}

# has_option TEXT OPT: OPT occurs in TEXT as a whole option name (not as the prefix of a longer one).
has_option() {
  grep -Eq -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" <<<"$1"
}

echo "== groff -man -ww -z"
for page in "${pages[@]}"; do
  for dev in "" utf8; do
    err=$(groff -man -ww -z ${dev:+-T$dev} "$page" 2>&1 >/dev/null)
    rc=$?
    if ((rc != 0)) || [[ -n $err ]]; then
      fail "$(basename "$page")${dev:+ (-T$dev)}: groff exit $rc, stderr:"
      sed 's/^/    /' <<<"$err" >&2
    else
      pass
    fi
  done
done

echo "== page structure"
for page in "${pages[@]}"; do
  base=$(basename "$page")
  name=${base%.*} sect=${base##*.}
  want_th="${name^^} $sect"
  th=$(grep -m1 -E '^\.TH ' "$page" | awk '{print $2, $3}')
  if [[ $th == "$want_th" ]]; then pass; else fail "$base: .TH says '$th', expected '$want_th'"; fi
  if [[ $sect == 1 ]]; then
    required=("NAME" "SYNOPSIS" "DESCRIPTION" "OPTIONS" "EXIT STATUS" "ENVIRONMENT" "EXAMPLES" "SEE ALSO")
  else
    required=("NAME" "DESCRIPTION" "SEE ALSO")
  fi
  for s in "${required[@]}"; do
    if grep -Eq "^\.SH \"?$s\"?\$" "$page"; then pass; else fail "$base: no $s section"; fi
  done
  # man-db's whatis and apropos read "name \- description" from NAME.
  if section "$page" NAME | grep -Eq "^$name \\\\- "; then pass; else fail "$base: NAME is not '$name \\- ...'"; fi
done

echo "== a page for every tool, a tool for every page"
tools=()
for src in "$SECAGG_SRC"/tools/secagg-*.cpp; do
  tool=$(basename "$src" .cpp)
  tools+=("$tool")
  if [[ -f $MAN/$tool.1 ]]; then pass; else fail "tools/$tool.cpp has no man/$tool.1"; fi
done
for page in "$MAN"/secagg-*.1; do
  tool=$(basename "$page" .1)
  if [[ -f $SECAGG_SRC/tools/$tool.cpp ]]; then pass; else fail "man/$tool.1 documents a tool that does not exist"; fi
done

echo "== options and exit statuses against --help"
# long_options: the long options of the "Options:" lines of a CLI11 help text on stdin.
# Option lines start with two spaces and a dash; wrapped descriptions are indented further.
long_options() {
  sed -n -E 's/^  (-[^ ]+).*/\1/p' | tr ',' '\n' | grep -E '^--[A-Za-z0-9]' | sort -u
}
# footer_codes: the exit statuses of the footer of a --help text on stdin, one per line:
#   Exit status: 0 success: ...
#     64   usage: ...
#          (a continuation line)
footer_codes() {
  awk '/^Exit status: [0-9]+ / { on = 1; print $3; next } on && /^  [0-9]+ / { print $1 }' | sort -n -u
}
# subcommands: the names listed under "Subcommands:".
subcommands() {
  awk '/^Subcommands:/ { on = 1; next } on && /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }'
}

for tool in "${tools[@]}"; do
  page=$MAN/$tool.1
  [[ -f $page ]] || continue  # already reported
  exe=$SECAGG_BIN/$tool
  if [[ ! -x $exe ]]; then
    fail "$exe is missing (build first)"
    continue
  fi
  if ! help=$("$exe" --help 2>&1); then
    fail "$tool --help exits non-zero"
    continue
  fi
  helps=("$help")
  for sub in $(subcommands <<<"$help"); do
    if sub_help=$("$exe" "$sub" --help 2>&1); then
      helps+=("$sub_help")
    else
      fail "$tool $sub --help exits non-zero"
    fi
  done

  opts_text=$(section "$page" OPTIONS | plain)
  declare -A known=()
  for h in "${helps[@]}"; do
    for opt in $(long_options <<<"$h"); do
      known[$opt]=1
    done
  done
  for opt in "${!known[@]}"; do
    if has_option "$opts_text" "$opt"; then pass; else fail "$tool.1: OPTIONS does not describe $opt (from --help)"; fi
  done
  # The reverse: the tag line of every .TP entry under OPTIONS names only real options.
  tags=$(section "$page" OPTIONS | awk 'prev ~ /^\.TP/ { print } { prev = $0 }' | plain)
  for opt in $(grep -oE -- '--[A-Za-z0-9][A-Za-z0-9-]*' <<<"$tags" | sort -u); do
    if [[ -n ${known[$opt]:-} ]]; then pass; else fail "$tool.1: OPTIONS describes $opt, which --help does not list"; fi
  done
  unset known

  # Exit statuses: every (sub)command's --help footer lists the codes it returns, the page's
  # EXIT STATUS has an entry (.TP / .B N) for exactly the codes the footers list, and a tool's
  # own footer lists exactly its subcommands' codes.
  exit_text=$(section "$page" "EXIT STATUS" | plain)
  page_codes=$(section "$page" "EXIT STATUS" | awk 'prev ~ /^\.TP/ && /^\.B [0-9]+$/ { print $2 } { prev = $0 }' |
    sort -n -u | tr '\n' ' ')
  all_codes="" sub_codes=""
  for i in "${!helps[@]}"; do
    codes=$(footer_codes <<<"${helps[$i]}" | tr '\n' ' ')
    if [[ -z $codes ]]; then
      fail "$tool --help${i:+ (subcommand $i)} has no 'Exit status:' footer to check the page against"
      continue
    fi
    all_codes+="$codes"
    ((i > 0)) && sub_codes+="$codes"
    for code in $codes; do
      if grep -Eq "(^|[^0-9])$code([^0-9]|\$)" <<<"$exit_text"; then pass; else fail "$tool.1: EXIT STATUS does not explain $code"; fi
    done
  done
  all_codes=$(tr ' ' '\n' <<<"$all_codes" | grep . | sort -n -u | tr '\n' ' ')
  if [[ $all_codes == "$page_codes" ]]; then
    pass
  else
    fail "$tool: the --help footers list exit statuses '$all_codes', the page's EXIT STATUS has entries for '$page_codes'"
  fi
  if ((${#helps[@]} > 1)); then
    top=$(footer_codes <<<"${helps[0]}" | tr '\n' ' ')
    sub_codes=$(tr ' ' '\n' <<<"$sub_codes" | grep . | sort -n -u | tr '\n' ' ')
    missing=$(comm -13 <(tr ' ' '\n' <<<"$top" | grep . | sort) <(tr ' ' '\n' <<<"$sub_codes" | grep . | sort))
    if [[ $top == "$sub_codes" ]]; then
      pass
    elif grep -q '^Usage: .*\[SUBCOMMAND\]' <<<"${helps[0]}" && [[ -z $missing ]]; then
      pass
    else
      fail "$tool --help lists exit statuses '$top', its subcommands '$sub_codes'"
    fi
  fi
done

finish

#!/usr/bin/env bash
# t0975-diagram: the protocol's sequence diagram (docs/img/protocol.svg, in README.md and
# docs/protocol.md) is what its source, docs/img/protocol.txt, gives: regenerated with
# scripts/protocol-diagram.py into a scratch directory, it must equal the committed SVG byte for
# byte, and be well-formed XML. After editing the source, run scripts/protocol-diagram.py and
# commit both files.
#
# Run by ctest with SECAGG_SRC (source tree). It needs python3 only, not the tools: like
# t0900-man it does not source lib.sh.
# Prints "t0975-diagram: N passed, M failed" and exits non-zero if anything failed.

set -uo pipefail
export LC_ALL=C
NAME=t0975-diagram
SECAGG_SRC=${SECAGG_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=python3; fi

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); }
fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL: $*" >&2
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/secagg-$NAME.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SRC=$SECAGG_SRC/docs/img/protocol.txt
SVG=$SECAGG_SRC/docs/img/protocol.svg

if "$PY" "$SECAGG_SRC/scripts/protocol-diagram.py" "$SRC" "$WORK/protocol.svg" 2>"$WORK/err"; then
  pass
else
  fail "scripts/protocol-diagram.py failed: $(cat "$WORK/err")"
fi

if [[ ! -f $SVG ]]; then
  fail "docs/img/protocol.svg is missing: run scripts/protocol-diagram.py and commit it"
elif cmp -s "$WORK/protocol.svg" "$SVG"; then
  pass
else
  fail "docs/img/protocol.svg is not what docs/img/protocol.txt gives: run scripts/protocol-diagram.py and commit it"
  diff "$SVG" "$WORK/protocol.svg" | head -20 >&2
fi

# Well-formed, an SVG root, and no text that escaped its escaping (a raw "<id>" would not parse).
for f in "$SVG" "$WORK/protocol.svg"; do
  [[ -f $f ]] || continue
  if "$PY" - "$f" 2>"$WORK/err" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
if root.tag != "{http://www.w3.org/2000/svg}svg":
    sys.exit(f"root element is {root.tag}, not svg")
texts = "".join(root.itertext())
for want in ("secagg-keygen", "secagg-collect unmask", "S/consistency.msg", "active sessions only"):
    if want not in texts:
        sys.exit(f"no text '{want}'")
PYEOF
  then
    pass
  else
    fail "$f: not a well-formed SVG diagram: $(cat "$WORK/err")"
  fi
done

# A source error names the line.
printf 'lane a | A | a\nround R | r\nstep b | cmd\n' >"$WORK/bad.txt"
if "$PY" "$SECAGG_SRC/scripts/protocol-diagram.py" "$WORK/bad.txt" "$WORK/bad.svg" 2>"$WORK/err"; then
  fail "a step on an undeclared lane was accepted"
elif grep -q "bad.txt:3: unknown lane 'b'" "$WORK/err" && [[ ! -e $WORK/bad.svg ]]; then
  pass
else
  fail "a step on an undeclared lane: unexpected error: $(cat "$WORK/err")"
fi

echo "$NAME: $PASSED passed, $FAILED failed"
((FAILED == 0))

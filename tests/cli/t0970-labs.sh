#!/usr/bin/env bash
# t0970-labs: every teaching lab (labs/*/, issue 14) runs from its Makefile and passes its own
# `make check`; `make clean` then leaves the lab as it came. Each lab runs in a scratch copy of
# labs/ and Makefile.inc (so a lab a student is working through in the source tree is left
# alone), with this build's tools. `make labs-check` runs this test alone; `make test` runs it
# with the others.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"
require_numpy
if ! "$PY" -c 'import matplotlib' 2>/dev/null; then
  fail "$PY has no matplotlib: install the Debian package python3-matplotlib ('make labs-check' does)"
  exit 1
fi
# The labs' own make, not one inherited from a `make test` that started ctest.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS || true

cp -r "$SECAGG_SRC/labs" "$SECAGG_SRC/Makefile.inc" .
# The scratch copy's Makefile.inc would take its own directory for the source tree: name both.
vars=(SECAGG_ROOT="$SECAGG_SRC" BUILD_DIR="$SECAGG_BIN" BIN="$SECAGG_BIN" PYTHON="$PY")

labs=()
for d in labs/[0-9]*/; do labs+=("${d%/}"); done
check "there are five to seven labs (${#labs[@]})" test "${#labs[@]}" -ge 5 -a "${#labs[@]}" -le 7
for lab in "${labs[@]}"; do check "labs/README.md links to $lab" grep -qF "](${lab#labs/}/README.md)" labs/README.md; done
for lab in "${labs[@]}"; do
  section "$lab"
  for f in README.md ANSWERS.md Makefile; do check "$lab has $f" test -f "$lab/$f"; done
  check "$lab/Makefile includes Makefile.inc (directly or through ../session.mk)" \
    grep -Eq '^include .*(Makefile\.inc|session\.mk)' "$lab/Makefile"
  before=$(cd "$lab" && find . | sort)
  start=$SECONDS
  if make -C "$lab" "${vars[@]}" >"$WORK/$(basename "$lab").log" 2>&1; then pass; else
    fail "$lab: make failed"; tail -n 20 "$WORK/$(basename "$lab").log" >&2; continue
  fi
  if checked=$(make -C "$lab" "${vars[@]}" check 2>&1); then pass; else fail "$lab: make check failed"; echo "$checked" >&2; fi
  grep -E '^(ok|FAIL)' <<<"$checked" | sed "s|^|  $lab: |" || true
  if grep -q '^FAIL' <<<"$checked"; then fail "$lab: make check printed a FAIL line"; else pass; fi
  echo "  $lab: $((SECONDS - start)) s"
  must make -C "$lab" "${vars[@]}" clean >/dev/null
  check "$lab: make clean leaves only what came with the lab" test "$(cd "$lab" && find . | sort)" = "$before"
done

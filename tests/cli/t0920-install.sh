#!/usr/bin/env bash
# t0920-install: issue 9 item 14. `cmake --install --strip` (what `make install` runs) installs
# every tool stripped, the man pages, and README.md and docs/ under share/doc/secagg, and not
# the test-only forge and evil; `make demo` builds exactly the tools scripts/demo.sh runs; demo.sh keeps
# its directory and says where it is.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

section "cmake --install --strip"
P=$WORK/prefix
must cmake --install "$SECAGG_BIN" --prefix "$P" --strip >/dev/null
for src in "$SECAGG_SRC"/tools/secagg-*.cpp; do
  tool=$(basename "$src" .cpp)
  exe=$P/bin/$tool
  if [[ ! -x $exe ]]; then
    fail "$tool is not installed in bin/"
    continue
  fi
  pass
  if readelf -S "$exe" | grep -q '\.debug_'; then fail "$tool is installed with debug sections"; else pass; fi
  if readelf -S "$exe" | grep -q '\.symtab'; then fail "$tool is installed with a symbol table"; else pass; fi
  # Stripping must leave a working tool.
  expect_exit 0 "$exe" --version >version.txt
  check "installed $tool runs" grep -q "^$tool " version.txt
done
# The test-only harnesses (forge, and evil, the lying server) stay in the build tree.
assert_absent "$P/bin/forge" "$P/bin/evil"
check "bin/ holds the secagg-* tools and nothing else" test -z "$(find "$P/bin" -type f ! -name 'secagg-*')"
for page in "$SECAGG_SRC"/man/*.1; do check "man1/$(basename "$page")" cmp -s "$page" "$P/share/man/man1/$(basename "$page")"; done
for page in "$SECAGG_SRC"/man/*.5; do check "man5/$(basename "$page")" cmp -s "$page" "$P/share/man/man5/$(basename "$page")"; done
D=$P/share/doc/secagg
check "README.md is installed" cmp -s "$SECAGG_SRC/README.md" "$D/README.md"
for doc in $(cd "$SECAGG_SRC" && find docs -type f | sort); do
  check "$doc is installed" cmp -s "$SECAGG_SRC/$doc" "$D/$doc"
done
# The README's links to docs/*.md resolve in the installed copy.
for link in $(grep -oE '\]\(docs/[^)#]+' "$SECAGG_SRC/README.md" | sed 's/^](//' | sort -u); do
  check "README link $link resolves when installed" test -f "$D/$link"
done
size=$(du -sk "$P/bin" | cut -f1)
check "the installed tools take under 40 MB (${size} kB)" test "$size" -lt 40960

section "make demo builds exactly what scripts/demo.sh runs"
ran=$(grep -oE '\bsecagg-[a-z]+' "$SECAGG_SRC/scripts/demo.sh" | grep -v '^secagg-demo$' | sort -u | tr '\n' ' ')
built=$(make -s -f "$SECAGG_SRC/Makefile.inc" -f - print-demo-tools <<<'print-demo-tools: ; @echo $(DEMO_TOOLS)' |
  tr ' ' '\n' | { grep . || true; } | sort -u | tr '\n' ' ')
check "DEMO_TOOLS ($built) is the tools demo.sh runs ($ran)" test "$ran" = "$built"
check "make demo builds --target \$(DEMO_TOOLS), not everything" \
  grep -Eq -- '--target \$\(DEMO_TOOLS\)' "$SECAGG_SRC/Makefile"
demo_rule=$(sed -n '/^demo:/,/^$/p' "$SECAGG_SRC/Makefile")
check "make demo does not depend on 'build' (all targets)" eval '! grep -Eq "^demo:.*\bbuild\b" <<<"$demo_rule"'

section "scripts/demo.sh keeps its directory and says where"
TMPDIR=$WORK SECAGG_BIN=$SECAGG_BIN bash "$SECAGG_SRC/scripts/demo.sh" >demo.out 2>demo.err || fail "demo.sh failed: $(tail -3 demo.err)"
kept=$(sed -n 's/^Everything is kept in \(.*\) for inspection.*/\1/p' demo.out)
check "demo.sh names its directory" test -n "$kept"
check "the named directory holds the session" test -f "$kept/S/aggregate.vec"
check "and the client states" test -f "$kept/c1"

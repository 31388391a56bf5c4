#!/usr/bin/env bash
# t0950-doc-examples: every shell example of README.md and of the man pages runs as written.
# tests/cli/doc_examples.py extracts them (README ```console and ```sh blocks, man page
# .EX/.EE and .nf/.fi blocks that start with "$ ") and runs each document's examples in one
# shell, in order, with the built tools on PATH; console transcripts must print what they show
# (session ids and lines the document marks as varying are compared by shape), ```sh blocks
# must exit 0. Its docstring has the exact rules, the fixtures a man page's examples assume,
# and the few examples that cannot run, each with its reason. A failure names the document
# and line, and prints the actual output to paste into the document.
# shellcheck source=tests/cli/lib.sh
source "$(dirname "$0")/lib.sh"

export PY
docs=(README.md)
for f in "$SECAGG_SRC"/man/secagg-*.[15]; do docs+=("man/$(basename "$f")"); done

section "the helper itself: a transcript that does not match fails, naming the line"
mkdir -p self/man
cat >self/README.md <<'MD'
## One

```console
$ echo one
two
```
MD
if "$PY" "$SECAGG_SRC/tests/cli/doc_examples.py" self "$WORK/self-run" README.md >self.out 2>&1; then
  fail "a wrong transcript passed"
else
  check "the failure names README.md:4" grep -q '^FAIL README.md:4: output differs: \$ echo one' self.out
fi

for doc in "${docs[@]}"; do
  section "$doc"
  check "$doc: every example runs as written" \
    "$PY" "$SECAGG_SRC/tests/cli/doc_examples.py" "$SECAGG_SRC" "$WORK/run" "$doc"
done

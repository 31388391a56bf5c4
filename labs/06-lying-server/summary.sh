#!/bin/sh
# summary.sh ATTACK...: lab 06's outcome per attack: the survivor sets shown, what the round-4
# answers revealed, and what the server rebuilt of client 1's input.
for a in "$@"; do
  echo "== $a"
  for f in "$a"/S/evil/survivors-*.msg; do
    c=${f##*survivors-}; c=${c%.msg}
    echo "client $c was shown U3 = $(secagg-inspect "$f" | sed 's/.* u3=//')"
  done
  for f in "$a"/answer*.txt; do
    [ -e "$f" ] || continue
    c=${f##*answer}; c=${c%.txt}
    echo "client $c: $(grep -v '^exit status' "$f" | sed 's/^secagg-unmask: error: //' | cut -c1-110) ($(tail -n 1 "$f"))"
  done
  grep -v '^exit status' "$a/revealed.txt" | sed 's/^/revealed: /'
  echo "client 1's input:   $(tr '\n' ' ' < "$a/x1.txt")"
  echo "the server rebuilt: $(tr '\n' ' ' < "$a/recovered.txt")"
done
